"""Every read, scoped to the acting user first: an object outside the scope is a 404."""

from __future__ import annotations

import uuid
from typing import Any, TypeVar

from django.db.models import Case, Model, QuerySet, Value, When
from django.http import Http404
from django.utils import timezone

from tracker.records.models import (
    Assessment,
    AuditEvent,
    ExportJob,
    FlagLevel,
    Notice,
    Patient,
    Role,
    SafetyFlag,
    TreatmentCourse,
    User,
)
from tracker.records.services.audit import audit_record

M = TypeVar("M", bound=Model)


def _get_or_404(queryset: QuerySet[M], object_id: Any, *, actor: User) -> M:
    """The object if the actor may see it; otherwise 404 (as if it did not exist), and the refusal
    is audited: who asked for which id (whether or not it exists elsewhere)."""
    try:
        pk = uuid.UUID(str(object_id))
        obj = queryset.filter(pk=pk).first()
    except ValueError:
        obj = None
    if obj is None:
        audit_record(
            actor=actor,
            action="access.refused",
            object_type=queryset.model._meta.model_name or "",
            object_id=str(object_id)[:64],
        )
        raise Http404
    return obj


def patients_visible(*, actor: User) -> QuerySet[Patient]:
    if actor.role == Role.PATIENT:
        return Patient.objects.filter(user=actor)
    if actor.is_clinic_staff and actor.clinic_id is not None:
        return Patient.objects.filter(clinic_id=actor.clinic_id)
    return Patient.objects.none()


def patient_get(*, actor: User, patient_id: Any) -> Patient:
    return _get_or_404(patients_visible(actor=actor).select_related("clinic"), patient_id, actor=actor)


def patient_of_user(*, actor: User) -> Patient:
    """The patient record of a patient's login (already joined by the token lookup)."""
    try:
        patient: Patient = actor.patient
    except Patient.DoesNotExist:
        raise Http404 from None
    return patient


def courses_visible(*, actor: User) -> QuerySet[TreatmentCourse]:
    return TreatmentCourse.objects.filter(patient__in=patients_visible(actor=actor))


def course_get(*, actor: User, course_id: Any) -> TreatmentCourse:
    return _get_or_404(courses_visible(actor=actor).select_related("patient"), course_id, actor=actor)


def assessments_visible(*, actor: User) -> QuerySet[Assessment]:
    return Assessment.objects.filter(patient__in=patients_visible(actor=actor))


def assessment_get(*, actor: User, assessment_id: Any) -> Assessment:
    return _get_or_404(assessments_visible(actor=actor).select_related("patient"), assessment_id, actor=actor)


def patient_assessments(
    *, patient: Patient, scale: str | None = None, include_superseded: bool = True
) -> QuerySet[Assessment]:
    qs = Assessment.objects.filter(patient=patient).prefetch_related("flags")
    if scale:
        qs = qs.filter(scale=scale)
    if not include_superseded:
        qs = qs.filter(is_superseded=False)
    return qs.order_by("administered_on", "seq", "created_at")


def flags_visible(*, actor: User) -> QuerySet[SafetyFlag]:
    return SafetyFlag.objects.filter(patient__in=patients_visible(actor=actor))


def flags_for_review(*, actor: User, open_only: bool = False) -> QuerySet[SafetyFlag]:
    """The flags a clinician works through, in a total order a page never breaks: open before
    acknowledged, urgent before review, newest first, then by id."""
    qs = flags_visible(actor=actor)
    if open_only:
        qs = qs.filter(acknowledged_at__isnull=True)
    return qs.annotate(
        _acknowledged=Case(When(acknowledged_at__isnull=True, then=Value(0)), default=Value(1)),
        _urgency=Case(When(level=FlagLevel.URGENT, then=Value(0)), default=Value(1)),
    ).order_by("_acknowledged", "_urgency", "-created_at", "id")


def flag_levels_of_entries(*, patient: Patient) -> dict[Any, str]:
    """The highest safety-flag level raised on each of a patient's entries (the caller has scoped
    the patient): what the progress chart marks."""
    levels: dict[Any, str] = {}
    for assessment_id, level in SafetyFlag.objects.filter(patient=patient).values_list("assessment_id", "level"):
        if levels.get(assessment_id) != FlagLevel.URGENT:
            levels[assessment_id] = str(level)
    return levels


def flag_get(*, actor: User, flag_id: Any) -> SafetyFlag:
    return _get_or_404(flags_visible(actor=actor), flag_id, actor=actor)


def current_course(*, patient: Patient) -> TreatmentCourse | None:
    return TreatmentCourse.objects.filter(patient=patient).order_by("-start_date", "-created_at").first()


def notices_visible(*, actor: User) -> QuerySet[Notice]:
    """Notices for the clinic's clinicians (patients never see them)."""
    if not actor.is_clinic_staff or actor.clinic_id is None:
        return Notice.objects.none()
    return Notice.objects.filter(clinic_id=actor.clinic_id).order_by("-created_at", "id")


def notice_get(*, actor: User, notice_id: Any) -> Notice:
    return _get_or_404(notices_visible(actor=actor), notice_id, actor=actor)


def patient_access_log(*, actor: User, patient: Patient) -> QuerySet[AuditEvent]:
    """Who read or changed the patient's data, newest first: for an admin of the patient's clinic only
    (anyone else gets nothing)."""
    if actor.role != Role.ADMIN or actor.clinic_id is None or actor.clinic_id != patient.clinic_id:
        return AuditEvent.objects.none()
    return AuditEvent.objects.filter(patient_id=patient.pk).order_by("-at", "-id")


def staff_visible(*, actor: User) -> QuerySet[User]:
    """The clinic's staff logins, for its admin only (anyone else gets nothing)."""
    if actor.role != Role.ADMIN or actor.clinic_id is None:
        return User.objects.none()
    return User.objects.filter(clinic_id=actor.clinic_id, role__in=(Role.ADMIN, Role.CLINICIAN)).order_by(
        "-is_active", "username", "id"
    )


def staff_get(*, actor: User, user_id: Any) -> User:
    return _get_or_404(staff_visible(actor=actor), user_id, actor=actor)


def export_job_get(*, actor: User, job_id: Any) -> ExportJob:
    """An export job of the actor's clinic that has not expired, for its admins (404 otherwise)."""
    if actor.role != Role.ADMIN or actor.clinic_id is None:
        queryset = ExportJob.objects.none()
    else:
        queryset = ExportJob.objects.filter(clinic_id=actor.clinic_id, expires_at__gt=timezone.now())
    return _get_or_404(queryset, job_id, actor=actor)
