"""Patients, their enrollment into the mobile app, their treatment courses and sessions."""

from __future__ import annotations

import secrets
import uuid
import zoneinfo
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

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
from tracker.records.services.errors import FieldErrors, invalid

# Unambiguous characters for codes read off a screen or paper (no 0/O, 1/I/L).
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 10


# No clinical date (birth, course, session, questionnaire) is earlier: an older one is a typo, and
# date arithmetic near year 1 (baseline windows, chart axes) would overflow.
EARLIEST_DATE = date(1900, 1, 1)
# A course may be recorded ahead of its start, by up to a year.
COURSE_PLANNED_AHEAD_DAYS = 366


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


@transaction.atomic
def patient_create(
    *,
    actor: User,
    name: str,
    date_of_birth: date | None = None,
    external_id: str = "",
    timezone_name: str = "UTC",
) -> NewPatient:
    assert actor.clinic_id is not None, "only clinic staff create patients"
    errors = FieldErrors()  # every offending field is named in one answer
    with errors.collect():
        name = clean_text("name", name, max_length=200)
    with errors.collect():
        check_timezone(timezone_name)
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
        created_by=actor,
    )
    raw, code = _new_enrollment_code(patient)
    audit_record(
        actor=actor, action="patient.create", object_type="patient", object_id=patient.pk, patient_id=patient.pk
    )
    return NewPatient(patient=patient, enrollment_code=raw, enrollment_expires_at=code.expires_at)


@transaction.atomic
def patient_enrollment_code_renew(*, actor: User, patient: Patient) -> tuple[str, EnrollmentCode]:
    """A fresh code for a patient who lost theirs; earlier unused codes stop working."""
    EnrollmentCode.objects.filter(patient=patient, used_at__isnull=True).update(expires_at=timezone.now())
    raw, code = _new_enrollment_code(patient)
    audit_record(
        actor=actor,
        action="patient.enrollment_code",
        object_type="patient",
        object_id=patient.pk,
        patient_id=patient.pk,
    )
    return raw, code


class EnrollmentRejected(Exception):
    pass


def patient_enroll(*, enrollment_code: str, username: str, password: str) -> tuple[Patient, IssuedToken]:
    """Redeem a single-use code: create the patient's login and return a token."""
    normalized = (enrollment_code or "").strip().upper().replace("-", "").replace(" ", "")
    with transaction.atomic():
        code = (
            EnrollmentCode.objects.select_for_update()
            .select_related("patient")
            .filter(digest=token_digest(normalized))
            .first()
        )
        if code is None or code.used_at is not None or code.expires_at <= timezone.now():
            raise invalid(
                "enrollment_code", "This enrollment code is invalid, used or expired.", code="invalid_enrollment_code"
            )
        patient = Patient.objects.select_for_update().get(pk=code.patient_id)
        if patient.user_id is not None:
            raise invalid(
                "enrollment_code", "This enrollment code is invalid, used or expired.", code="invalid_enrollment_code"
            )
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


@transaction.atomic
def session_create(
    *, actor: User, course: TreatmentCourse, date: date, dose_mg: Decimal | None = None, notes: str = ""
) -> TreatmentSession:
    errors = FieldErrors()  # every offending field is named in one answer
    if date < course.start_date:
        errors.add("date", "A treatment session cannot be dated before its course starts.", code="before_course_start")
    elif date > patient_local_today(course.patient):
        errors.add("date", "A treatment session cannot be dated in the future.", code="date_in_future")
    if dose_mg is not None and dose_mg < 0:
        errors.add("dose_mg", "The dose cannot be negative.", code="negative")
    errors.raise_if_any()
    session = TreatmentSession.objects.create(
        course=course, date=date, dose_mg=dose_mg, notes=notes or "", created_by=actor
    )
    audit_record(
        actor=actor, action="session.create", object_type="session", object_id=session.pk, patient_id=course.patient_id
    )
    return session
