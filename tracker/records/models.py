"""Records: clinics, people, treatment courses, assessments, safety flags, audit events.

Thresholds, item counts and totals are never typed here: the database constraints are
generated from ``scoring.SCALES``, the one source of truth.
"""

from __future__ import annotations

import uuid
from functools import reduce
from operator import or_
from typing import Any, ClassVar

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q

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
    ADMIN = "admin", "Clinic admin"
    CLINICIAN = "clinician", "Clinician"
    PATIENT = "patient", "Patient"


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


class Patient(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="patients")
    user = models.OneToOneField(User, null=True, blank=True, on_delete=models.PROTECT, related_name="patient")
    name = models.CharField(max_length=200)
    date_of_birth = models.DateField(null=True, blank=True)
    external_id = models.CharField(max_length=100, blank=True, default="")
    timezone = models.CharField(max_length=64, default="UTC")
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


class EnrollmentCode(models.Model):
    """A single-use, expiring code that lets a patient create their login. Stored hashed."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="enrollment_codes")
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)


#: The treatments a course may record, from ``scoring.treatments`` (one list for every layer).
# The functional API of TextChoices, which the type stubs do not describe.
Modality = models.TextChoices(  # type: ignore[call-overload]
    "Modality", [(key.upper(), (key, label)) for key, label in MODALITIES.items()]
)


class Timing(models.TextChoices):
    """When an entry was taken against that day's dose (CLINICAL §2); null is unknown, read as pre-dose."""

    PRE_DOSE = "pre_dose", "Before the dose"
    POST_DOSE = "post_dose", "After the dose"


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
    dose_mg = models.DecimalField(max_digits=7, decimal_places=2, null=True, blank=True)
    notes = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["date", "created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(dose_mg__isnull=True) | Q(dose_mg__gte=0), name="session_dose_nonnegative"
            )
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
    entered_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    entered_by_role = models.CharField(max_length=20, choices=Role.choices)
    client_id = models.UUIDField(null=True, blank=True)
    # Amendments: the new version points at the one it replaces; the old one is marked superseded.
    supersedes = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="superseded_by"
    )
    is_superseded = models.BooleanField(default=False)
    amend_reason = models.TextField(blank=True, default="")
    is_baseline = models.BooleanField(default=False, help_text="Marked by a clinician as the course baseline.")
    baseline_marked_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    baseline_marked_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # Monotonic entry order within a day (ties on date are ordered by entry).
    seq = models.BigIntegerField(default=0)

    class Meta:
        ordering = ["administered_on", "seq", "created_at"]
        indexes = [
            models.Index(fields=["patient", "scale", "administered_on"], name="assessment_patient_scale_date"),
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
    REVIEW = "review", "Review"
    URGENT = "urgent", "Urgent"


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
    acknowledged_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledgement_note = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["patient", "acknowledged_at"], name="flag_patient_open")]


class AuditEvent(models.Model):
    """Who read or wrote which patient data, when. Append-only; never any health values."""

    id = models.BigAutoField(primary_key=True)
    at = models.DateTimeField(auto_now_add=True, db_index=True)
    # The actor's id and username as they were: no database constraint, so that removing a login
    # never rewrites the trail (users are deactivated, not deleted; the table refuses UPDATE).
    actor = models.ForeignKey(User, null=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+")
    actor_username = models.CharField(max_length=150, blank=True, default="")
    actor_role = models.CharField(max_length=20, blank=True)
    clinic_id = models.UUIDField(null=True, db_index=True)
    action = models.CharField(max_length=60)
    object_type = models.CharField(max_length=60)
    object_id = models.CharField(max_length=64, blank=True)
    patient_id = models.UUIDField(null=True, db_index=True)
    # The server's id of the request (also the response's X-Request-ID), and the id the client sent
    # in X-Request-ID, if any and well-formed (at most 64 printable ASCII characters): kept beside it,
    # never in its place, so that a client cannot make two requests look like one.
    request_id = models.CharField(max_length=64, blank=True)
    client_request_id = models.CharField(max_length=64, blank=True, default="")

    class Meta:
        ordering = ["id"]

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
