"""Records: clinics, people, treatment courses, assessments, safety flags, audit events.

Thresholds, item counts and totals are never typed here: the database constraints are
generated from ``scoring.SCALES``, the one source of truth.
"""

from __future__ import annotations

import uuid
from datetime import time
from functools import reduce
from operator import or_
from typing import Any, ClassVar

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from scoring import SCALES, Options
from scoring.treatments import MODALITIES
from tracker.records.cleaning import username_skeleton


def _each_scale(make: object) -> Q:
    return reduce(or_, (make(key, scale) for key, scale in SCALES.items()))  # type: ignore[operator]


#: The published reference set a clinic compares its patients with until it chooses another.
DEFAULT_REFERENCE_SET = "trials"

SCALE_CHOICES = [(key, scale.name) for key, scale in SCALES.items()]


class Clinic(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=200)
    # Which published (or own fitted) reference set this clinic compares its patients with.
    reference_set = models.CharField(max_length=100, default=DEFAULT_REFERENCE_SET)
    # Per-scale overrides of scoring's defaults, e.g. {"madrs": {"remission_max": 12}}.
    scoring_options = models.JSONField(default=dict, blank=True)
    # The payer criteria its reports apply by default (null: the built-in criteria).
    payer_profile = models.ForeignKey(
        "PayerProfile", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # ISO 3166-1 alpha-2; chooses the default crisis resources (tracker/records/crisis.py). Empty: unknown.
    country = models.CharField(max_length=2, blank=True, default="")
    # The clinic's own crisis line and its texts per locale, validated by services.crisis:
    # {"clinic_line": {label, phone, sms, url} | null, "locales": {"es": {message?, emergency?, lines?}}}.
    crisis_resources = models.JSONField(default=dict, blank=True)
    # A canonical IANA name (``cleaning.check_timezone``): the date-times staff read (dashboard, PDF) are
    # shown in it; the API keeps answering in UTC with an offset.
    timezone = models.CharField(max_length=64, default="UTC")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name

    def options_for(self, scale: str) -> Options:
        """The clinic's overrides of scoring's defaults for one scale (every number is a default)."""
        return Options.from_dict((self.scoring_options or {}).get(scale, {}))

    def baseline_window_days(self, scale: str | None = None) -> int:
        """How far before a course start a baseline may lie: for one scale, or the widest of all."""
        scales = [scale] if scale else list(SCALES)
        return max(self.options_for(key).resolve(SCALES[key]).baseline_window_days for key in scales)


class PayerProfile(models.Model):
    """A clinic's own payer criteria for the response report: a name and its rules as JSON, in the
    shape of the built-in profile (validated by ``tracker.reports.payer.parse_profile`` on write)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="payer_profiles")
    key = models.CharField(max_length=60)
    name = models.CharField(max_length=200)
    rules = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey("User", null=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["name", "created_at"]
        constraints = [models.UniqueConstraint(fields=["clinic", "key"], name="payer_profile_key_unique")]

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    ADMIN = "admin", _("Clinic admin")
    CLINICIAN = "clinician", _("Clinician")
    PATIENT = "patient", _("Patient")


#: The roles of clinic staff (a staff account is created with one of these).
STAFF_ROLE_CHOICES = [(Role.CLINICIAN.value, Role.CLINICIAN.label), (Role.ADMIN.value, Role.ADMIN.label)]


class User(AbstractUser):
    """A login: clinic staff (admin or clinician) or a patient. Operators have no clinic."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    clinic = models.ForeignKey(Clinic, null=True, blank=True, on_delete=models.PROTECT, related_name="users")
    role = models.CharField(max_length=20, choices=Role.choices, blank=True)
    # The username's look-alike form (``cleaning.username_skeleton``): a new username whose skeleton
    # is taken is refused as if the username were.
    username_skeleton = models.CharField(max_length=150, db_index=True, blank=True, default="")

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.username_skeleton = username_skeleton(self.username)
        super().save(*args, **kwargs)

    @property
    def is_clinic_staff(self) -> bool:
        return self.role in (Role.ADMIN, Role.CLINICIAN) and self.clinic_id is not None

    @property
    def is_patient(self) -> bool:
        return self.role == Role.PATIENT


class AuthToken(models.Model):
    """A bearer token. Only its SHA-256 digest is stored."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="tokens")
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)


class LoginFailure(models.Model):
    """A failed login, counted per username and client address (``services.login_guard``). Kept in
    the database, so the lockout holds when the cache is down; rows older than the window are purged."""

    id = models.BigAutoField(primary_key=True)
    # SHA-256 of the lower-cased username and the client address: no password, no readable name.
    key = models.CharField(max_length=64)
    at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        indexes = [models.Index(fields=["key", "at"], name="login_failure_key_at")]


#: Self-report questionnaires the app asks for when a patient has no schedule of their own (days).
DEFAULT_SCHEDULE: dict[str, int] = {"bdi2": 7, "phq9": 7}


class Patient(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="patients")
    user = models.OneToOneField(User, null=True, blank=True, on_delete=models.PROTECT, related_name="patient")
    name = models.CharField(max_length=200)
    date_of_birth = models.DateField(null=True, blank=True)
    external_id = models.CharField(max_length=100, blank=True, default="")
    timezone = models.CharField(max_length=64, default="UTC")
    # Which self-report questionnaires the app asks for and every how many days, e.g. {"phq9": 14}
    # ({} asks for none); null: the default schedule, ``DEFAULT_SCHEDULE``.
    schedule = models.JSONField(null=True, blank=True, default=None)
    # The language of the patient's messages (a code of settings.LANGUAGES); "": the request's.
    locale = models.CharField(max_length=10, blank=True, default="")
    # The earliest start date of the patient's courses, kept by ``course_create`` (courses are never
    # edited or deleted): every entry is checked against it, and reading it with the patient saves
    # that query on each submission.
    first_course_start = models.DateField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["clinic", "external_id"], condition=~Q(external_id=""), name="patient_external_id_unique"
            ),
            # Lets child rows reference (patient, clinic) together.
            models.UniqueConstraint(fields=["id", "clinic"], name="patient_id_clinic_unique"),
        ]

    def __str__(self) -> str:
        return f"Patient {self.id}"

    @property
    def questionnaire_schedule(self) -> dict[str, int]:
        """Scale → interval in days, in the scales' order (the default when none is set)."""
        return schedule_from(self.schedule)


def schedule_from(stored: dict[str, int] | None) -> dict[str, int]:
    """A stored ``Patient.schedule`` as scale → interval in days, in the scales' order (None: the
    default), for reads that fetch the column without the patient."""
    chosen = DEFAULT_SCHEDULE if stored is None else stored
    return {key: int(chosen[key]) for key in SCALES if key in chosen}


class EnrollmentCode(models.Model):
    """A single-use, expiring code that lets a patient create their login. Stored hashed."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="enrollment_codes")
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)


class PasswordResetCode(models.Model):
    """A single-use, short-lived code, issued by clinic staff, that lets a login set a new password.
    Stored hashed, as enrollment codes and tokens are."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="password_reset_codes")
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)


#: The treatments a course may record, from ``scoring.treatments`` (one list for every layer).
# The functional API of TextChoices, which the type stubs do not describe.
Modality = models.TextChoices(  # type: ignore[call-overload]
    "Modality", [(key.upper(), (key, label)) for key, label in MODALITIES.items()]
)


class Timing(models.TextChoices):
    """When an entry was taken against that day's dose (CLINICAL §2); null is unknown, read as pre-dose."""

    PRE_DOSE = "pre_dose", _("Before the dose")
    POST_DOSE = "post_dose", _("After the dose")


class TreatmentCourse(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="courses")
    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="courses")
    modality = models.CharField(max_length=20, choices=Modality.choices)
    with_therapy = models.BooleanField(default=False)
    start_date = models.DateField()
    # Overrides the clinic's reference set for this course.
    reference_set = models.CharField(max_length=100, blank=True, default="")
    # The clinician who attests the payer's report (not whoever downloads it).
    treating_clinician = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="treated_courses"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["start_date", "created_at"]
        indexes = [models.Index(fields=["patient", "start_date"])]


class TreatmentSession(models.Model):
    """One treatment session: an infusion, a spray dose."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    course = models.ForeignKey(TreatmentCourse, on_delete=models.PROTECT, related_name="sessions")
    date = models.DateField()
    time = models.TimeField(null=True, blank=True, help_text="The patient's local time of day.")
    dose_mg = models.DecimalField(max_digits=7, decimal_places=2, null=True, blank=True)
    # Ketamine is often prescribed per kilogram; the weight-based dose is kept as given.
    dose_mg_per_kg = models.DecimalField(max_digits=5, decimal_places=3, null=True, blank=True)
    # Vital signs of the monitoring record (mmHg), before the dose and at the end of monitoring.
    bp_systolic_before = models.PositiveSmallIntegerField(null=True, blank=True)
    bp_diastolic_before = models.PositiveSmallIntegerField(null=True, blank=True)
    bp_systolic_after = models.PositiveSmallIntegerField(null=True, blank=True)
    bp_diastolic_after = models.PositiveSmallIntegerField(null=True, blank=True)
    monitoring_minutes = models.PositiveSmallIntegerField(null=True, blank=True)
    notes = models.TextField(blank=True, default="")
    adverse_events = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["date", "created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(dose_mg__isnull=True) | Q(dose_mg__gte=0), name="session_dose_nonnegative"
            ),
            models.CheckConstraint(
                condition=Q(dose_mg_per_kg__isnull=True) | Q(dose_mg_per_kg__gte=0),
                name="session_dose_per_kg_nonnegative",
            ),
        ]


class Assessment(models.Model):
    """One questionnaire entry, item by item. Never overwritten: an amendment is a new version."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # No index of its own: the two below lead with the patient (one index less to write per entry).
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="assessments", db_index=False)
    scale = models.CharField(max_length=10, choices=SCALE_CHOICES)
    scale_version = models.CharField(max_length=10)
    administered_on = models.DateField(help_text="The patient's local calendar date.")
    administered_time = models.TimeField(null=True, blank=True, help_text="The patient's local time of day.")
    timing = models.CharField(max_length=10, choices=Timing.choices, null=True, blank=True)  # noqa: DJ001  (null: unknown)
    items = models.JSONField(help_text="Item scores in item order, item 1 first.")
    item_count = models.PositiveSmallIntegerField()
    item_directions = models.JSONField(default=dict, blank=True)
    total = models.PositiveSmallIntegerField()
    severity = models.CharField(max_length=30)
    # No index on the two logins below: no query looks entries up by them, and logins are
    # deactivated, never deleted (the only use an index would have: SET_NULL on a deletion).
    entered_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+", db_index=False)
    entered_by_role = models.CharField(max_length=20, choices=Role.choices)
    client_id = models.UUIDField(null=True, blank=True)
    # Amendments: the new version points at the one it replaces; the old one is marked superseded.
    supersedes = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="superseded_by"
    )
    is_superseded = models.BooleanField(default=False)
    amend_reason = models.TextField(blank=True, default="")
    is_baseline = models.BooleanField(default=False, help_text="Marked by a clinician as the course baseline.")
    baseline_marked_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    baseline_marked_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # Monotonic entry order within a day (ties on date are ordered by entry).
    seq = models.BigIntegerField(default=0)

    class Meta:
        ordering = ["administered_on", "seq", "created_at"]
        indexes = [
            # Covering (PostgreSQL): the nightly job reads a chunk's entries from this index alone, in
            # patient order, instead of one table page per entry (the table is in date order).
            models.Index(
                fields=["patient", "scale", "administered_on"],
                include=["id", "seq", "total", "is_baseline", "timing", "administered_time", "is_superseded"],
                name="assessment_patient_covering",
            ),
        ]
        constraints = [
            models.UniqueConstraint(fields=["patient", "client_id"], name="assessment_client_id_unique"),
            models.CheckConstraint(
                condition=_each_scale(lambda k, s: Q(scale=k, item_count=s.n_items)),
                name="assessment_item_count_matches_scale",
            ),
            models.CheckConstraint(
                condition=_each_scale(lambda k, s: Q(scale=k, total__lte=s.total_max)),
                name="assessment_total_within_scale",
            ),
        ]


class FlagLevel(models.TextChoices):
    REVIEW = "review", _("Review")
    URGENT = "urgent", _("Urgent")


class SafetyFlag(models.Model):
    """A suicide-item answer above 0. Open until a clinician acknowledges it."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    assessment = models.ForeignKey(Assessment, on_delete=models.PROTECT, related_name="flags")
    patient = models.ForeignKey(
        Patient, on_delete=models.PROTECT, related_name="flags", db_index=False
    )  # see flag_patient_open
    scale = models.CharField(max_length=10, choices=SCALE_CHOICES)
    item = models.PositiveSmallIntegerField()
    value = models.PositiveSmallIntegerField()
    level = models.CharField(max_length=10, choices=FlagLevel.choices)
    created_at = models.DateTimeField(auto_now_add=True)
    # No index: no query looks flags up by who acknowledged them (logins are never deleted).
    acknowledged_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledgement_note = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["patient", "acknowledged_at"], name="flag_patient_open")]


class FlagAction(models.TextChoices):
    """What a clinician did about a safety flag."""

    CONTACTED_PATIENT = "contacted_patient", _("Contacted the patient")
    SAFETY_PLAN_REVIEWED = "safety_plan_reviewed", _("Safety plan reviewed")
    ESCALATED = "escalated", _("Escalated")
    OTHER = "other", _("Other")


class FlagAcknowledgement(models.Model):
    """One step of a flag's history: the acknowledgement that closed it, then any follow-ups."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    flag = models.ForeignKey(SafetyFlag, on_delete=models.PROTECT, related_name="acknowledgements")
    by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField(auto_now_add=True)
    note = models.TextField(blank=True, default="")
    action = models.CharField(max_length=30, choices=FlagAction.choices, blank=True, default="")

    class Meta:
        ordering = ["at", "id"]


class AuditEvent(models.Model):
    """Who read or wrote which patient data, when. Append-only; never any health values."""

    id = models.BigAutoField(primary_key=True)
    at = models.DateTimeField(auto_now_add=True)
    # The actor's id and username as they were: no database constraint, so that removing a login
    # never rewrites the trail (users are deactivated, not deleted; the table refuses UPDATE).
    # Every event is a row written on a request's path: the table has one index besides its key,
    # the one its only query (a patient's access log, newest first) reads.
    actor = models.ForeignKey(
        User, null=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+", db_index=False
    )
    actor_username = models.CharField(max_length=150, blank=True, default="")
    actor_role = models.CharField(max_length=20, blank=True)
    clinic_id = models.UUIDField(null=True)
    action = models.CharField(max_length=60)
    object_type = models.CharField(max_length=60)
    object_id = models.CharField(max_length=64, blank=True)
    patient_id = models.UUIDField(null=True)
    # The server's id of the request (also the response's X-Request-ID), and the id the client sent
    # in X-Request-ID, if any and well-formed (at most 64 printable ASCII characters): kept beside it,
    # never in its place, so that a client cannot make two requests look like one.
    request_id = models.CharField(max_length=64, blank=True)
    client_request_id = models.CharField(max_length=64, blank=True, default="")

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["patient_id", "at", "id"], name="audit_patient_at")]

    def save(self, *args: object, **kwargs: object) -> None:
        if not self._state.adding:
            raise PermissionError("Audit events are append-only.")
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    def delete(self, *args: object, **kwargs: object) -> tuple[int, dict[str, int]]:
        raise PermissionError("Audit events are append-only.")


class Notice(models.Model):
    """A message for a clinic's clinicians (e.g. a patient fell off track)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="notices")
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="notices")
    kind = models.CharField(max_length=40)
    message = models.CharField(max_length=300)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]


class PendingRecompute(models.Model):
    """A patient whose snapshots wait to be recomputed: the outbox of ``tracker.records.outbox``.

    Written in the same statement as the entry that makes it stale, so the two commit together.
    """

    patient = models.OneToOneField(Patient, primary_key=True, on_delete=models.CASCADE, related_name="+")
    queued_at = models.DateTimeField(auto_now_add=True)

    # tracker.records.fastpath.insert_together upserts it: a patient already waiting gets the later time, and
    # the upsert takes the row lock the drain relies on. No index on queued_at: the table holds
    # only the patients waiting now, and an unindexed column keeps the upsert a HOT update.
    ON_CONFLICT_UPDATE: ClassVar[list[str]] = ["queued_at"]


class ReminderChannel(models.TextChoices):
    PUSH = "push", "Push notification"
    EMAIL = "email", "Email"


def default_reminder_channels() -> list[str]:
    return [ReminderChannel.PUSH.value]


#: A patient who never set a preference is reminded at this local time, by push.
DEFAULT_REMINDER_TIME = time(18, 0)


class ReminderPreference(models.Model):
    """When and how a patient is reminded of a due questionnaire. No row: the defaults."""

    patient = models.OneToOneField(
        Patient, primary_key=True, on_delete=models.CASCADE, related_name="reminder_preference"
    )
    enabled = models.BooleanField(default=True)
    local_time = models.TimeField(default=DEFAULT_REMINDER_TIME, help_text="The patient's local time of day.")
    channels = models.JSONField(default=default_reminder_channels)
    email = models.EmailField(blank=True, default="")
    # The language of the request that saved it; a patient's own locale, where set, comes first.
    locale = models.CharField(max_length=10, blank=True, default="")
    updated_at = models.DateTimeField(auto_now=True)


class DevicePlatform(models.TextChoices):
    IOS = "ios", "iOS"
    ANDROID = "android", "Android"
    WEB = "web", "Web"


class Device(models.Model):
    """A phone or browser a patient's reminders are pushed to. A token belongs to one patient at a time:
    registering it again from another login moves it."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="devices")
    platform = models.CharField(max_length=10, choices=DevicePlatform.choices)
    push_token = models.CharField(max_length=1024, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # Set when the push provider answers that the token is no longer valid.
    invalid_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at"]


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Being sent"
    SENT = "sent", "Sent"
    RECORDED = "recorded", "Recorded in the push outbox (no provider configured)"
    NO_ADDRESS = "no_address", "No email address or device"
    FAILED = "failed", "Failed"


class ReminderDelivery(models.Model):
    """One reminder of one due questionnaire on one channel. At most one per patient, scale, channel
    and local day: the row is written before sending, so a second run (or a concurrent one) sends nothing."""

    id = models.BigAutoField(primary_key=True)
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="reminder_deliveries")
    scale = models.CharField(max_length=10, choices=SCALE_CHOICES)
    channel = models.CharField(max_length=10, choices=ReminderChannel.choices)
    local_date = models.DateField(help_text="The patient's date when it was sent.")
    sent_at = models.DateTimeField()
    status = models.CharField(max_length=12, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)

    class Meta:
        ordering = ["sent_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "scale", "channel", "local_date"], name="reminder_delivery_once_a_day"
            )
        ]
        # The run's "reminded today" look-up; the unique constraint serves the per-patient ones.
        indexes = [models.Index(fields=["local_date"], name="reminder_delivery_day")]


class PushOutboxMessage(models.Model):
    """A push that would have gone to a device had a provider been configured: kept for staff to see.
    The text is the generic reminder, never health data."""

    id = models.BigAutoField(primary_key=True)
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="+")
    device = models.ForeignKey(Device, null=True, on_delete=models.SET_NULL, related_name="+")
    title = models.CharField(max_length=200)
    body = models.CharField(max_length=500)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]


class ExportKind(models.TextChoices):
    RESPONSE_CSV = "response_csv", "Response CSV"
    FHIR_BULK = "fhir_bulk", "FHIR bulk export"


class ExportStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class ExportJob(models.Model):
    """A clinic's export run by a worker rather than inside a request (a large response CSV, a FHIR
    bulk export): who asked, with which parameters, its state, and the names of the files it wrote
    (under ``settings.EXPORT_DIR``/<id>/, removed once ``expires_at`` has passed). Ids and
    parameters only, never health data."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="export_jobs")
    requested_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    kind = models.CharField(max_length=20, choices=ExportKind.choices)
    params = models.JSONField(default=dict, blank=True)
    # The request that started it, as the FHIR Bulk Data manifest repeats it.
    request_url = models.CharField(max_length=500, blank=True, default="")
    status = models.CharField(max_length=10, choices=ExportStatus.choices, default=ExportStatus.PENDING)
    # Per file written: {"type": ..., "name": ..., "count": ...}, in order.
    files = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["expires_at"], name="export_job_expires")]
