"""Questionnaire entries: submit, amend, acknowledge safety flags.

Totals, severity and flags come from ``scoring``, never from the client.
"""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Prefetch
from django.utils import timezone

import scoring
from tracker.records.fastpath import insert_together
from tracker.records.models import Assessment, Patient, Role, SafetyFlag, User
from tracker.records.services.audit import audit_event, audit_record
from tracker.records.services.errors import Conflict, invalid
from tracker.records.services.patients import check_not_too_early, patient_local_today
from tracker.records.services.scheduling import recompute_outbox_rows, schedule_patient_recompute

logger = logging.getLogger(__name__)

CRISIS_RESOURCES = {
    "message": (
        "Thank you for answering honestly. If you are thinking about ending your life or harming yourself, "
        "please reach out now: call or text 988 (Suicide & Crisis Lifeline, US) or your local emergency number, "
        "or go to the nearest emergency department. Your care team has been notified and will review your answers."
    ),
    "phone": "988",
    "emergency": "911 / 112",
}


@dataclass(frozen=True)
class Submission:
    assessment: Assessment
    created: bool  # False when the same client_id was seen before


def _scoring_error(exc: scoring.ScoringError) -> Exception:
    field = exc.field or "items"
    return invalid(field, exc.message)


def _earliest_allowed_date(patient: Patient) -> date | None:
    """Entries may reach back to the baseline window before the first course, not further."""
    if patient.first_course_start is None:
        return None
    return patient.first_course_start - timedelta(days=scoring.Options().baseline_window_days)


def _check_date(patient: Patient, administered_on: date) -> None:
    if administered_on > patient_local_today(patient):
        raise invalid("administered_on", "The date cannot be in the future (the patient's local date).")
    check_not_too_early("administered_on", administered_on)
    earliest = _earliest_allowed_date(patient)
    if earliest is not None and administered_on < earliest:
        raise invalid(
            "administered_on",
            f"The date is before the treatment course (earliest allowed {earliest.isoformat()}, "
            "the start of the baseline window).",
        )
    if patient.date_of_birth and administered_on < patient.date_of_birth:
        raise invalid("administered_on", "The date is before the patient's date of birth.")


def _validated(scale_key: str, items: Any, directions: Any) -> tuple[scoring.Scale, list[int], dict[str, str], int]:
    try:
        scale = scoring.get_scale(scale_key)
        scores, directions_read = scoring.read_entry(scale_key, items, directions)
        values = list(scores)
        dirs = {str(k): v for k, v in directions_read.items()}
        total = sum(values)
    except scoring.ScoringError as exc:
        raise _scoring_error(exc) from None
    return scale, values, dirs, total


def _flags(assessment: Assessment) -> list[SafetyFlag]:
    return [
        SafetyFlag(
            assessment=assessment,
            patient_id=assessment.patient_id,
            scale=assessment.scale,
            item=f.item,
            value=f.value,
            level=f.level,
        )
        for f in scoring.safety_flags(assessment.scale, assessment.items)
    ]


def _store_version(
    *,
    actor: User,
    patient: Patient,
    administered_on: date,
    validated: tuple[scoring.Scale, list[int], dict[str, str], int],
    action: str,
    **extra: Any,
) -> Assessment:
    """Write one version of an entry with its flags, its audit event and (with a broker) its
    patient's outbox row, as one statement on PostgreSQL (``fastpath.insert_together``); run eagerly,
    recompute the patient's outcomes once it commits."""
    scale_def, values, dirs, total = validated
    assessment = Assessment(
        patient=patient,
        scale=scale_def.key,
        scale_version=scale_def.version,
        administered_on=administered_on,
        items=values,
        item_count=len(values),
        item_directions=dirs,
        total=total,
        severity=scale_def.severity(total),
        entered_by=actor,
        entered_by_role=actor.role,
        **extra,
    )
    flags = _flags(assessment)
    event = audit_event(
        actor=actor,
        action=action,
        object_type="assessment",
        object_id=assessment.pk,
        patient_id=patient.pk,
        clinic_id=patient.clinic_id,
    )
    insert_together([assessment, *flags, *recompute_outbox_rows(patient.pk), event])
    assessment._prefetched_objects_cache = {"flags": flags}  # type: ignore[attr-defined]
    schedule_patient_recompute(patient.pk)
    return assessment


def _stored_entry(patient: Patient, client_id: uuid.UUID) -> Assessment | None:
    """The entry stored under a client id, with its flags in the order the first answer gave them."""
    flags = Prefetch("flags", queryset=SafetyFlag.objects.order_by("item"))
    return Assessment.objects.filter(patient=patient, client_id=client_id).prefetch_related(flags).first()


def assessment_submit(
    *,
    actor: User,
    patient: Patient,
    scale: str,
    administered_on: date,
    items: Any,
    item_directions: Any = None,
    client_id: uuid.UUID,
) -> Submission:
    """Validate and store one entry; the same ``client_id`` again returns the first entry.

    The unique constraint on (patient, client_id) decides: a retry, or a request racing the first,
    fails to insert and is answered with the entry that was stored.
    """
    if scale not in scoring.SCALES:
        raise invalid("scale", f"Unknown scale; one of {', '.join(scoring.SCALES)}.")
    if actor.role == Role.PATIENT and scoring.SCALES[scale].rated_by != "patient":
        raise invalid(
            "scale",
            "Patients submit only self-report scales ("
            + ", ".join(k for k, s in scoring.SCALES.items() if s.rated_by == "patient")
            + ").",
        )
    validated = _validated(scale, items, item_directions)
    _check_date(patient, administered_on)
    try:
        # Atomic as one statement (PostgreSQL) or in insert_together's transaction (elsewhere).
        assessment = _store_version(
            actor=actor, patient=patient, administered_on=administered_on, validated=validated,
            action="assessment.create", client_id=client_id, seq=time.time_ns(),
        )  # fmt: skip
    except IntegrityError:
        # A retry, or two requests racing with the same client_id: answer with the stored entry.
        existing = _stored_entry(patient, client_id)
        if existing is None:
            raise
        # The answer discloses the stored entry (whose items may differ from the retry's).
        audit_record(
            actor=actor, action="assessment.replay", object_type="assessment", object_id=existing.pk,
            patient_id=patient.pk, clinic_id=patient.clinic_id,
        )  # fmt: skip
        return Submission(existing, created=False)
    return Submission(assessment, created=True)


@transaction.atomic
def assessment_amend(
    *, actor: User, assessment: Assessment, items: Any, reason: str, item_directions: Any = None
) -> Assessment:
    """Correct an entry: a new version supersedes the original, which is kept."""
    reason = (reason or "").strip()
    if not reason:
        raise invalid("reason", "A reason for the correction is required.")
    original = Assessment.objects.select_for_update(of=("self",)).select_related("patient").get(pk=assessment.pk)
    if original.is_superseded:
        raise Conflict("assessment", "This entry was already amended; amend its latest version.")
    validated = _validated(original.scale, items, item_directions)
    original.is_superseded = True
    original.save(update_fields=["is_superseded"])
    return _store_version(
        actor=actor, patient=original.patient, administered_on=original.administered_on,
        validated=validated, action="assessment.amend",
        supersedes=original, amend_reason=reason, is_baseline=original.is_baseline, seq=original.seq,
    )  # fmt: skip


@transaction.atomic
def flag_acknowledge(*, actor: User, flag: SafetyFlag, note: str = "") -> SafetyFlag:
    locked = SafetyFlag.objects.select_for_update().get(pk=flag.pk)
    if locked.acknowledged_at is None:
        locked.acknowledged_by = actor
        locked.acknowledged_at = timezone.now()
        locked.acknowledgement_note = note or ""
        locked.save(update_fields=["acknowledged_by", "acknowledged_at", "acknowledgement_note"])
        audit_record(
            actor=actor,
            action="flag.acknowledge",
            object_type="flag",
            object_id=locked.pk,
            patient_id=locked.patient_id,
        )
    return locked
