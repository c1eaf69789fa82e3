"""Patients, their enrollment into the mobile app, their treatment courses and sessions."""

from __future__ import annotations

import secrets
import uuid
import zoneinfo
from dataclasses import dataclass
from datetime import date, timedelta
from datetime import time as time_of_day
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

import scoring
from tracker.records.cleaning import check_timezone, clean_text
from tracker.records.models import (
    EnrollmentCode,
    Modality,
    Patient,
    Role,
    TreatmentCourse,
    TreatmentSession,
    User,
)
from tracker.records.services.audit import audit_record
from tracker.records.services.auth import IssuedToken, token_digest, token_issue
from tracker.records.services.clinics import USERNAME_UNAVAILABLE, check_new_login
from tracker.records.services.errors import Conflict, FieldErrors, invalid

# Unambiguous characters for codes read off a screen or paper (no 0/O, 1/I/L).
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 10


# No clinical date (birth, course, session, questionnaire) is earlier: an older one is a typo, and
# date arithmetic near year 1 (baseline windows, chart axes) would overflow.
EARLIEST_DATE = date(1900, 1, 1)
# A course may be recorded ahead of its start, by up to a year.
COURSE_PLANNED_AHEAD_DAYS = 366
# A questionnaire is asked for at least once a quarter and at most daily.
SCHEDULE_INTERVAL_DAYS = (1, 91)
# Plausible monitoring-record values: a number outside is a typo (mmHg, minutes, mg, mg/kg).
SYSTOLIC_MMHG = (50, 300)
DIASTOLIC_MMHG = (20, 200)
MONITORING_MINUTES = (0, 1440)
DOSE_MG_MAX = Decimal(1000)
DOSE_MG_PER_KG_MAX = Decimal(5)


def patient_local_today(patient: Patient) -> date:
    return timezone.now().astimezone(zoneinfo.ZoneInfo(patient.timezone)).date()


def check_not_too_early(field: str, value: date) -> None:
    if value < EARLIEST_DATE:
        raise invalid(
            field,
            f"The date cannot be before {EARLIEST_DATE.isoformat()}.",
            code="date_too_early",
            params={"earliest": EARLIEST_DATE.isoformat()},
        )


@dataclass(frozen=True)
class NewPatient:
    patient: Patient
    enrollment_code: str
    enrollment_expires_at: object


def _new_enrollment_code(patient: Patient) -> tuple[str, EnrollmentCode]:
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    code = EnrollmentCode.objects.create(
        patient=patient,
        digest=token_digest(raw),
        expires_at=timezone.now() + timedelta(hours=settings.ENROLLMENT_CODE_TTL_HOURS),
    )
    return raw, code


def self_report_scales() -> list[str]:
    return [key for key, scale in scoring.SCALES.items() if scale.rated_by == "patient"]


def check_schedule(schedule: object) -> dict[str, int] | None:
    """A questionnaire schedule as stored: ``{scale: days}`` of self-report scales, or None (the default)."""
    if schedule is None:
        return None
    if not isinstance(schedule, dict):
        raise invalid(
            "schedule", 'Expected an object such as {"phq9": 14}, or null for the default schedule.', code="invalid"
        )
    allowed = self_report_scales()
    low, high = SCHEDULE_INTERVAL_DAYS
    result = {}
    for key, days in schedule.items():
        if key not in allowed:
            raise invalid(
                "schedule", f"Unknown self-report scale {key!r}; one of {', '.join(allowed)}.", code="invalid_choice"
            )
        if type(days) is not int or not low <= days <= high:
            raise invalid(
                "schedule", f"Every how many days, a whole number from {low} to {high} ({key}).", code="out_of_range"
            )
        result[key] = days
    return result


@transaction.atomic
def patient_create(
    *,
    actor: User,
    name: str,
    date_of_birth: date | None = None,
    external_id: str = "",
    timezone_name: str = "UTC",
    schedule: dict[str, int] | None = None,
) -> NewPatient:
    assert actor.clinic_id is not None, "only clinic staff create patients"
    errors = FieldErrors()  # every offending field is named in one answer
    with errors.collect():
        name = clean_text("name", name, max_length=200)
    with errors.collect():
        check_timezone(timezone_name)
    with errors.collect():
        schedule = check_schedule(schedule)
    if date_of_birth is not None and date_of_birth > timezone.now().date():
        errors.add("date_of_birth", "The date of birth cannot be in the future.", code="date_in_future")
    elif date_of_birth is not None:
        with errors.collect():
            check_not_too_early("date_of_birth", date_of_birth)
    with errors.collect():
        external_id = clean_text("external_id", external_id, max_length=100, required=False)
        if external_id and Patient.objects.filter(clinic_id=actor.clinic_id, external_id=external_id).exists():
            raise invalid(
                "external_id", "Another patient of this clinic has this external id.", code="external_id_taken"
            )
    errors.raise_if_any()
    patient = Patient.objects.create(
        clinic_id=actor.clinic_id,
        name=name,
        date_of_birth=date_of_birth,
        external_id=external_id,
        timezone=timezone_name,
        schedule=schedule,
        created_by=actor,
    )
    raw, code = _new_enrollment_code(patient)
    audit_record(
        actor=actor, action="patient.create", object_type="patient", object_id=patient.pk, patient_id=patient.pk
    )
    return NewPatient(patient=patient, enrollment_code=raw, enrollment_expires_at=code.expires_at)


@transaction.atomic
def patient_set_schedule(*, actor: User, patient: Patient, schedule: dict[str, int] | None) -> Patient:
    """Which questionnaires the app asks the patient for and how often (None: the default schedule)."""
    patient.schedule = check_schedule(schedule)
    patient.save(update_fields=["schedule"])
    audit_record(
        actor=actor, action="patient.schedule", object_type="patient", object_id=patient.pk, patient_id=patient.pk
    )
    return patient


@transaction.atomic
def patient_enrollment_code_renew(*, actor: User, patient: Patient) -> tuple[str, EnrollmentCode]:
    """A fresh code for a patient who lost theirs or let it expire; earlier unused codes stop
    working. A patient who has enrolled already is refused (409): they need a password reset code.

    The patient's row is locked first (as ``patient_enroll`` locks it before the code): two renewals
    at once leave one working code, and a renewal racing the enrolment either sees the patient
    enrolled or expires the code before it is redeemed."""
    if actor.clinic_id is None or patient.clinic_id != actor.clinic_id:  # selectors scope; the invariant itself
        raise invalid("patient", _("Unknown patient."))
    locked = Patient.objects.select_for_update().get(pk=patient.pk)
    if locked.user_id is not None:
        raise Conflict(
            "patient",
            _("This patient has already enrolled in the app: issue a password reset code if they cannot sign in."),
        )
    now = timezone.now()
    EnrollmentCode.objects.filter(patient=locked, used_at__isnull=True, expires_at__gt=now).update(expires_at=now)
    raw, code = _new_enrollment_code(locked)
    audit_record(
        actor=actor,
        action="patient.enrollment_code",
        object_type="patient",
        object_id=patient.pk,
        patient_id=patient.pk,
    )
    return raw, code


_UNSET = object()


def check_locale(value: object, field: str = "locale") -> str:
    """A language of ``settings.LANGUAGES`` by its code, or "" for the request's language."""
    codes = [code for code, _name in settings.LANGUAGES]
    if not isinstance(value, str) or (value and value not in codes):
        raise invalid(
            field, _("Unknown language; one of %(codes)s, or empty for the phone's.") % {"codes": ", ".join(codes)}
        )
    return value


@transaction.atomic
def patient_update_preferences(
    *, actor: User, patient: Patient, timezone_name: object = _UNSET, locale: object = _UNSET
) -> Patient:
    """A patient sets their own time zone (a canonical IANA name) and the language of their
    messages. Every field is checked before anything is stored; a change is audited."""
    if patient.user_id is None or patient.user_id != actor.pk:  # selectors scope; the invariant itself
        raise invalid("patient", _("Unknown patient."))
    changes: dict[str, str] = {}
    errors: dict[str, list[str]] = {}
    for field, value, check in (("timezone", timezone_name, check_timezone), ("locale", locale, check_locale)):
        if value is _UNSET:
            continue
        try:
            changes[field] = check(value, field)
        except ValidationError as exc:
            errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    changed = [field for field, value in changes.items() if getattr(patient, field) != value]
    if changed:
        for field in changed:
            setattr(patient, field, changes[field])
        patient.save(update_fields=changed)
        audit_record(
            actor=actor,
            action="patient.preferences",
            object_type="patient",
            object_id=patient.pk,
            patient_id=patient.pk,
            clinic_id=patient.clinic_id,
        )
    return patient


class EnrollmentRejected(Exception):
    pass


def patient_enroll(*, enrollment_code: str, username: str, password: str) -> tuple[Patient, IssuedToken]:
    """Redeem a single-use code: create the patient's login and return a token."""
    normalized = (enrollment_code or "").strip().upper().replace("-", "").replace(" ", "")
    with transaction.atomic():
        found = EnrollmentCode.objects.filter(digest=token_digest(normalized)).values_list("patient_id", flat=True)
        patient_id = found.first()
        refused = invalid(
            "enrollment_code", "This enrollment code is invalid, used or expired.", code="invalid_enrollment_code"
        )
        if patient_id is None:
            raise refused
        # The patient first, then the code: the order ``patient_enrollment_code_renew`` locks them in.
        patient = Patient.objects.select_for_update().get(pk=patient_id)
        code = EnrollmentCode.objects.select_for_update().get(digest=token_digest(normalized))
        if code.used_at is not None or code.expires_at <= timezone.now() or patient.user_id is not None:
            raise refused
        check_new_login(username, password)
        try:
            with transaction.atomic():
                user = User.objects.create_user(
                    username=username, password=password, clinic_id=patient.clinic_id, role=Role.PATIENT
                )
        except IntegrityError:
            raise invalid("username", USERNAME_UNAVAILABLE, code="username_unavailable") from None
        patient.user = user
        patient.save(update_fields=["user"])
        code.used_at = timezone.now()
        code.save(update_fields=["used_at"])
        issued = token_issue(user=user)
        audit_record(
            actor=user, action="patient.enroll", object_type="patient", object_id=patient.pk, patient_id=patient.pk
        )
    return patient, issued


def _treating_clinician(actor: User, staff_id: object) -> User | None:
    """The staff member of the actor's clinic with id ``staff_id`` (None clears it), else 400."""
    if staff_id is None:
        return None
    if actor.clinic_id is None:
        raise invalid("treating_clinician", "Only clinic staff choose a treating clinician.", code="not_allowed")
    try:
        found = User.objects.filter(
            pk=uuid.UUID(str(staff_id)),
            clinic_id=actor.clinic_id,
            role__in=(Role.ADMIN, Role.CLINICIAN),
            is_active=True,
        ).first()
    except ValueError:
        found = None
    if found is None:
        raise invalid("treating_clinician", "Unknown staff member of this clinic.", code="unknown_staff")
    return found


def _check_course_start(patient: Patient, start_date: date) -> None:
    check_not_too_early("start_date", start_date)
    if start_date > patient_local_today(patient) + timedelta(days=COURSE_PLANNED_AHEAD_DAYS):
        raise invalid(
            "start_date",
            f"A course can be recorded at most {COURSE_PLANNED_AHEAD_DAYS} days ahead of its start.",
            code="too_far_ahead",
            params={"days": COURSE_PLANNED_AHEAD_DAYS},
        )
    if patient.date_of_birth and start_date < patient.date_of_birth:
        raise invalid(
            "start_date", "The course cannot start before the patient's date of birth.", code="before_date_of_birth"
        )


@transaction.atomic
def course_create(
    *,
    actor: User,
    patient: Patient,
    modality: str,
    with_therapy: bool,
    start_date: date,
    reference_set: str = "",
    treating_clinician: object = None,
) -> TreatmentCourse:
    if patient.clinic_id != actor.clinic_id:  # selectors already scope; this is the invariant itself
        raise invalid("patient", "Unknown patient.", code="unknown_patient")
    errors = FieldErrors()  # every offending field is named in one answer
    if modality not in Modality.values:
        errors.add(
            "modality",
            f"Unknown modality; one of {', '.join(Modality.values)}.",
            code="invalid_choice",
            params={"choices": ", ".join(Modality.values)},
        )
    with errors.collect():
        _check_course_start(patient, start_date)
    clinician = None
    with errors.collect():
        clinician = _treating_clinician(actor, treating_clinician)
    errors.raise_if_any()
    course = TreatmentCourse.objects.create(
        patient=patient,
        clinic_id=patient.clinic_id,
        modality=modality,
        with_therapy=with_therapy,
        start_date=start_date,
        reference_set=reference_set,
        treating_clinician=clinician,
        created_by=actor,
    )
    if patient.first_course_start is None or start_date < patient.first_course_start:
        Patient.objects.filter(pk=patient.pk).filter(
            Q(first_course_start__isnull=True) | Q(first_course_start__gt=start_date)
        ).update(first_course_start=start_date)
        patient.first_course_start = start_date
    audit_record(actor=actor, action="course.create", object_type="course", object_id=course.pk, patient_id=patient.pk)
    return course


@transaction.atomic
def course_set_treating_clinician(
    *, actor: User, course: TreatmentCourse, treating_clinician: object
) -> TreatmentCourse:
    """Record who treats the course (the clinician who attests its payer report); None clears it."""
    if course.clinic_id != actor.clinic_id:  # selectors already scope; this is the invariant itself
        raise invalid("course", "Unknown course.", code="unknown_course")
    course.treating_clinician = _treating_clinician(actor, treating_clinician)
    course.save(update_fields=["treating_clinician"])
    audit_record(
        actor=actor,
        action="course.treating_clinician",
        object_type="course",
        object_id=course.pk,
        patient_id=course.patient_id,
    )
    return course


def _in_range(field: str, value: Any, bounds: tuple[Any, Any], unit: str) -> None:
    low, high = bounds
    if value is not None and not low <= value <= high:
        raise invalid(field, f"Expected {low}–{high} {unit}.", code="out_of_range")


def _check_blood_pressure(when: str, systolic: int | None, diastolic: int | None) -> None:
    _in_range(f"bp_systolic_{when}", systolic, SYSTOLIC_MMHG, "mmHg")
    _in_range(f"bp_diastolic_{when}", diastolic, DIASTOLIC_MMHG, "mmHg")
    if (systolic is None) != (diastolic is None):
        missing = "bp_diastolic" if diastolic is None else "bp_systolic"
        raise invalid(
            f"{missing}_{when}",
            "Record both the systolic and the diastolic pressure, or neither.",
            code="incomplete_pair",
        )
    if systolic is not None and diastolic is not None and diastolic >= systolic:
        raise invalid(
            f"bp_diastolic_{when}", "The diastolic pressure must be below the systolic pressure.", code="invalid"
        )


@transaction.atomic
def session_create(
    *,
    actor: User,
    course: TreatmentCourse,
    date: date,
    dose_mg: Decimal | None = None,
    notes: str = "",
    time: time_of_day | None = None,
    dose_mg_per_kg: Decimal | None = None,
    bp_systolic_before: int | None = None,
    bp_diastolic_before: int | None = None,
    bp_systolic_after: int | None = None,
    bp_diastolic_after: int | None = None,
    monitoring_minutes: int | None = None,
    adverse_events: str = "",
) -> TreatmentSession:
    """Record one session with its monitoring record (every field but the date optional)."""
    errors = FieldErrors()  # every offending field is named in one answer
    if date < course.start_date:
        errors.add("date", "A treatment session cannot be dated before its course starts.", code="before_course_start")
    elif date > patient_local_today(course.patient):
        errors.add("date", "A treatment session cannot be dated in the future.", code="date_in_future")
    if dose_mg is not None and dose_mg < 0:
        errors.add("dose_mg", "The dose cannot be negative.", code="negative")
    else:
        with errors.collect():
            _in_range("dose_mg", dose_mg, (Decimal(0), DOSE_MG_MAX), "mg")
    with errors.collect():
        _in_range("dose_mg_per_kg", dose_mg_per_kg, (Decimal(0), DOSE_MG_PER_KG_MAX), "mg/kg")
    if dose_mg_per_kg is not None and course.modality == Modality.ESKETAMINE:
        errors.add(
            "dose_mg_per_kg", "Esketamine is given as a fixed dose in mg, not per kilogram.", code="not_for_esketamine"
        )
    for when, systolic, diastolic in (
        ("before", bp_systolic_before, bp_diastolic_before),
        ("after", bp_systolic_after, bp_diastolic_after),
    ):
        with errors.collect():
            _check_blood_pressure(when, systolic, diastolic)
    with errors.collect():
        _in_range("monitoring_minutes", monitoring_minutes, MONITORING_MINUTES, "minutes")
    errors.raise_if_any()
    session = TreatmentSession.objects.create(
        course=course,
        date=date,
        time=time,
        dose_mg=dose_mg,
        dose_mg_per_kg=dose_mg_per_kg,
        bp_systolic_before=bp_systolic_before,
        bp_diastolic_before=bp_diastolic_before,
        bp_systolic_after=bp_systolic_after,
        bp_diastolic_after=bp_diastolic_after,
        monitoring_minutes=monitoring_minutes,
        notes=notes or "",
        adverse_events=adverse_events or "",
        created_by=actor,
    )
    audit_record(
        actor=actor, action="session.create", object_type="session", object_id=session.pk, patient_id=course.patient_id
    )
    return session
