"""Questionnaire entries: submit, amend, acknowledge safety flags.

Totals, severity and flags come from ``scoring``, never from the client.
"""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from datetime import time as time_of_day
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Prefetch
from django.utils import timezone

import scoring
from tracker.records.courses import latest_course_of
from tracker.records.fastpath import insert_together
from tracker.records.models import (
    Assessment,
    FlagAcknowledgement,
    FlagAction,
    Patient,
    Role,
    SafetyFlag,
    Timing,
    TreatmentCourse,
    TreatmentSession,
    User,
)
from tracker.records.services.audit import audit_event, audit_record
from tracker.records.services.errors import Conflict, FieldErrors, from_scoring, invalid
from tracker.records.services.patients import check_not_too_early, patient_local_today
from tracker.records.services.scheduling import (
    patient_entries_changed,
    recompute_outbox_rows,
    schedule_patient_recompute,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Submission:
    assessment: Assessment
    created: bool  # False when the same client_id was seen before
    # On the replay of an entry that was amended since: the entry stored under the client_id (then
    # ``assessment`` is its current version). None otherwise.
    original: Assessment | None = None


def _before_the_baseline_window(patient: Patient, administered_on: date) -> date | None:
    """The earliest date allowed, when ``administered_on`` is before it: entries may reach back to the
    baseline window before the first course, not further. Within the default window the clinic is
    not read (its own window is only consulted for an earlier date: one query less per entry)."""
    first = patient.first_course_start
    if first is None or administered_on >= first - timedelta(days=scoring.BASELINE_WINDOW_DAYS):
        return None
    earliest = first - timedelta(days=max(scoring.BASELINE_WINDOW_DAYS, patient.clinic.baseline_window_days()))
    return earliest if administered_on < earliest else None


def _check_date(patient: Patient, administered_on: date) -> None:
    if administered_on > patient_local_today(patient):
        raise invalid(
            "administered_on", "The date cannot be in the future (the patient's local date).", code="date_in_future"
        )
    check_not_too_early("administered_on", administered_on)
    earliest = _before_the_baseline_window(patient, administered_on)
    if earliest is not None:
        raise invalid(
            "administered_on",
            f"The date is before the treatment course (earliest allowed {earliest.isoformat()}, "
            "the start of the baseline window).",
            code="before_baseline_window",
            params={"earliest": earliest.isoformat()},
        )
    if patient.date_of_birth and administered_on < patient.date_of_birth:
        raise invalid("administered_on", "The date is before the patient's date of birth.", code="before_date_of_birth")


def _validated(scale_key: str, items: Any, directions: Any) -> tuple[scoring.Scale, list[int], dict[str, str], int]:
    try:
        scale = scoring.get_scale(scale_key)
        scores, directions_read = scoring.read_entry(scale_key, items, directions)
        values = list(scores)
        dirs = {str(k): v for k, v in directions_read.items()}
        total = sum(values)
    except scoring.ScoringError as exc:
        raise from_scoring(exc) from None
    return scale, values, dirs, total


def _flags(assessment: Assessment, scale: scoring.Scale, scores: list[int]) -> list[SafetyFlag]:
    """The entry's safety flags, from the item scores ``_validated`` read (not read again)."""
    return [
        SafetyFlag(
            assessment=assessment,
            patient_id=assessment.patient_id,
            scale=assessment.scale,
            item=f.item,
            value=f.value,
            level=f.level,
        )
        for f in scoring.flags_of_scores(scale, scores)
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
    flags = _flags(assessment, scale_def, values)
    event = audit_event(
        actor=actor,
        action=action,
        object_type="assessment",
        object_id=assessment.pk,
        patient_id=patient.pk,
        clinic_id=patient.clinic_id,
    )
    queued = recompute_outbox_rows(patient.pk)
    insert_together([assessment, *flags, *queued, event])
    assessment._prefetched_objects_cache = {"flags": flags}  # type: ignore[attr-defined]
    if not queued:  # with a broker the outbox row does it: the broker check is not made twice
        schedule_patient_recompute(patient.pk)
    return assessment


def _with_flags() -> Prefetch:
    """An entry's flags in the order the first answer gave them."""
    return Prefetch("flags", queryset=SafetyFlag.objects.order_by("item"))


def _stored_entry(patient: Patient, client_id: uuid.UUID) -> Assessment | None:
    """The entry stored under a client id (one at most: the constraint), with its flags in the
    order the first answer gave them. Two plain queries: no ordering for the one row, and the
    flags set as ``prefetch_related("flags")`` would set them, without its machinery."""
    entry = next(iter(Assessment.objects.filter(patient=patient, client_id=client_id).order_by()), None)
    if entry is not None:
        flags = list(SafetyFlag.objects.filter(assessment=entry).order_by("item"))
        entry._prefetched_objects_cache = {"flags": flags}  # type: ignore[attr-defined]
    return entry


def _current_version(entry: Assessment) -> Assessment:
    """The latest amendment of an amended entry (one query per amendment; amendments are rare)."""
    current = entry
    while current.is_superseded:
        found = Assessment.objects.filter(supersedes=current).prefetch_related(_with_flags()).first()
        if found is None:  # marked superseded but nothing replaced it: the entry is what there is
            break
        current = found
    return current


def _check_timing(timing: str | None) -> None:
    if timing is not None and timing not in Timing.values:
        raise invalid(
            "timing",
            f"Timing must be one of {', '.join(Timing.values)}, or null when unknown.",
            code="invalid_choice",
            params={"choices": ", ".join(Timing.values)},
        )


def _default_timing(patient: Patient, scale: str, administered_on: date, timing: str | None) -> str | None:
    """A clinician-rated scale entered on a session day is taken before the dose unless said otherwise."""
    if timing is not None or scoring.SCALES[scale].rated_by == "patient":
        return timing
    on_session_day = TreatmentSession.objects.filter(course__patient=patient, date=administered_on).exists()
    return Timing.PRE_DOSE if on_session_day else None


def assessment_submit(
    *,
    actor: User,
    patient: Patient,
    scale: str,
    administered_on: date,
    items: Any,
    item_directions: Any = None,
    client_id: uuid.UUID,
    timing: str | None = None,
    administered_time: time_of_day | None = None,
) -> Submission:
    """Validate and store one entry; the same ``client_id`` again returns the first entry.

    The unique constraint on (patient, client_id) decides: a retry, or a request racing the first,
    fails to insert and is answered with the entry that was stored.
    """
    errors = FieldErrors()  # every offending field is named in one answer
    validated = None
    if scale not in scoring.SCALES:
        errors.add(
            "scale",
            f"Unknown scale; one of {', '.join(scoring.SCALES)}.",
            code="unknown_scale",
            params={"choices": ", ".join(scoring.SCALES)},
        )
    elif actor.role == Role.PATIENT and scoring.SCALES[scale].rated_by != "patient":
        self_report = ", ".join(k for k, s in scoring.SCALES.items() if s.rated_by == "patient")
        errors.add(
            "scale",
            f"Patients submit only self-report scales ({self_report}).",
            code="clinician_scale",
            params={"choices": self_report},
        )
    else:
        with errors.collect():
            validated = _validated(scale, items, item_directions)
    with errors.collect():
        _check_date(patient, administered_on)
    with errors.collect():
        _check_timing(timing)
    errors.raise_if_any()
    assert validated is not None
    timing = _default_timing(patient, scale, administered_on, timing)
    try:
        # Atomic as one statement (PostgreSQL) or in insert_together's transaction (elsewhere).
        assessment = _store_version(
            actor=actor, patient=patient, administered_on=administered_on, validated=validated,
            action="assessment.create", client_id=client_id, seq=time.time_ns(),
            timing=timing, administered_time=administered_time,
        )  # fmt: skip
    except IntegrityError:
        # A retry, or two requests racing with the same client_id: answer with the stored entry.
        existing = _stored_entry(patient, client_id)
        if existing is None:
            raise
        # Amended since: the answer is the current version, which points back at the original.
        # Only this rare case reads more; an unamended replay is answered as before.
        original = None
        if existing.is_superseded:
            original, existing = existing, _current_version(existing)
        # The answer discloses the stored entry (whose items may differ from the retry's).
        audit_record(
            actor=actor, action="assessment.replay", object_type="assessment", object_id=existing.pk,
            patient_id=patient.pk, clinic_id=patient.clinic_id,
        )  # fmt: skip
        return Submission(existing, created=False, original=original)
    return Submission(assessment, created=True)


@transaction.atomic
def assessment_amend(
    *, actor: User, assessment: Assessment, items: Any, reason: str, item_directions: Any = None
) -> Assessment:
    """Correct an entry: a new version supersedes the original, which is kept."""
    reason = (reason or "").strip()
    if not reason:
        raise invalid("reason", "A reason for the correction is required.", code="required")
    original = Assessment.objects.select_for_update(of=("self",)).select_related("patient").get(pk=assessment.pk)
    if original.is_superseded:
        raise Conflict(
            "assessment", "This entry was already amended; amend its latest version.", code="already_amended"
        )
    validated = _validated(original.scale, items, item_directions)
    original.is_superseded = True
    original.save(update_fields=["is_superseded"])
    return _store_version(
        actor=actor, patient=original.patient, administered_on=original.administered_on,
        validated=validated, action="assessment.amend",
        supersedes=original, amend_reason=reason, seq=original.seq,
        timing=original.timing, administered_time=original.administered_time, is_baseline=original.is_baseline,
        baseline_marked_by=original.baseline_marked_by, baseline_marked_at=original.baseline_marked_at,
    )  # fmt: skip


def _locked_entry(assessment: Assessment) -> Assessment:
    return Assessment.objects.select_for_update(of=("self",)).select_related("patient__clinic").get(pk=assessment.pk)


def _courses_and_window(entry: Assessment) -> tuple[list[TreatmentCourse], int]:
    courses = list(TreatmentCourse.objects.filter(patient_id=entry.patient_id).order_by("start_date", "created_at"))
    return courses, entry.patient.clinic.baseline_window_days(entry.scale)


def _course_of_entry(entry: Assessment) -> TreatmentCourse | None:
    courses, window = _courses_and_window(entry)
    return latest_course_of(courses, entry.administered_on, window)


def _set_baseline_mark(entry: Assessment, *, actor: User, marked: bool) -> None:
    """Store the mark (or its removal) with who and when, audit it, and have the outcomes recomputed."""
    entry.is_baseline = marked
    entry.baseline_marked_by = actor
    entry.baseline_marked_at = timezone.now()
    entry.save(update_fields=["is_baseline", "baseline_marked_by", "baseline_marked_at"])
    audit_record(
        actor=actor, action="assessment.baseline_mark" if marked else "assessment.baseline_unmark",
        object_type="assessment", object_id=entry.pk, patient_id=entry.patient_id, clinic_id=entry.patient.clinic_id,
    )  # fmt: skip
    patient_entries_changed(entry.patient_id)


@transaction.atomic
def assessment_mark_baseline(
    *, actor: User, assessment: Assessment, course: TreatmentCourse | None = None
) -> tuple[Assessment, TreatmentCourse | None]:
    """A clinician marks an entry as its course's baseline (CLINICAL §2); undone by ``assessment_unmark_baseline``.

    Refused: a superseded or post-dose entry, an entry outside the named course, and a second mark on the
    same course and scale (unmark the first). Returns the entry and its course.
    """
    entry = _locked_entry(assessment)
    if entry.is_superseded:
        raise invalid("baseline", "This entry was amended; mark its latest version.", code="entry_superseded")
    if entry.timing == Timing.POST_DOSE:
        raise invalid(
            "baseline",
            "A post-dose entry cannot be the baseline: mark an entry taken before a dose.",
            code="post_dose_baseline",
        )
    courses, window = _courses_and_window(entry)
    own_course = latest_course_of(courses, entry.administered_on, window)
    if course is not None and (own_course is None or own_course.pk != course.pk):
        raise invalid("course", "This entry is not part of that treatment course.", code="not_in_course")
    if not entry.is_baseline:
        others = Assessment.objects.filter(
            patient_id=entry.patient_id, scale=entry.scale, is_baseline=True, is_superseded=False
        ).exclude(pk=entry.pk)
        if any(_same_course(latest_course_of(courses, o.administered_on, window), own_course) for o in others):
            raise invalid(
                "baseline",
                "Another entry of this course and scale is marked as the baseline; unmark it first.",
                code="baseline_taken",
            )
        _set_baseline_mark(entry, actor=actor, marked=True)
    return entry, own_course


def _same_course(a: TreatmentCourse | None, b: TreatmentCourse | None) -> bool:
    return (a.pk if a else None) == (b.pk if b else None)


@transaction.atomic
def assessment_unmark_baseline(*, actor: User, assessment: Assessment) -> tuple[Assessment, TreatmentCourse | None]:
    """Undo a clinician's baseline mark: the course's baseline is chosen by the rule again."""
    entry = _locked_entry(assessment)
    if entry.is_baseline:
        _set_baseline_mark(entry, actor=actor, marked=False)
    return entry, _course_of_entry(entry)


def _check_acknowledgement(note: str, action: str) -> tuple[str, str]:
    note = (note or "").strip()
    action = action or ""
    if action not in ("", *FlagAction.values):
        raise invalid("action", f"Unknown action; one of {', '.join(FlagAction.values)}.")
    if len(note) > 2000:
        raise invalid("note", "At most 2000 characters.")
    if action == FlagAction.OTHER and not note:
        raise invalid("note", "Say what was done (the action taken is 'other').")
    return note, action


def _acknowledge_locked(actor: User, locked: SafetyFlag, note: str, action: str) -> None:
    """Close an open flag, or add a follow-up step to an acknowledged one. A repeat of the latest step
    (a retry) changes nothing; so does an empty follow-up."""
    history = list(locked.acknowledgements.all())
    if locked.acknowledged_at is None:
        locked.acknowledged_by = actor
        locked.acknowledged_at = timezone.now()
        locked.acknowledgement_note = note
        locked.save(update_fields=["acknowledged_by", "acknowledged_at", "acknowledgement_note"])
        audit_action = "flag.acknowledge"
    else:
        last = history[-1] if history else None
        if not (note or action) or (
            last is not None and (last.by_id, last.note, last.action) == (actor.pk, note, action)
        ):
            return
        audit_action = "flag.follow_up"
    FlagAcknowledgement.objects.create(flag=locked, by=actor, note=note, action=action)
    audit_record(
        actor=actor,
        action=audit_action,
        object_type="flag",
        object_id=locked.pk,
        patient_id=locked.patient_id,
    )


@transaction.atomic
def flag_acknowledge(*, actor: User, flag: SafetyFlag, note: str = "", action: str = "") -> SafetyFlag:
    """Acknowledge a safety flag with what was done (``FlagAction``) and a note; on a flag already
    acknowledged, a note or action is kept as a follow-up in its history."""
    note, action = _check_acknowledgement(note, action)
    locked = SafetyFlag.objects.select_for_update().get(pk=flag.pk)
    _acknowledge_locked(actor, locked, note, action)
    return locked


@transaction.atomic
def flags_acknowledge(*, actor: User, flags: list[SafetyFlag], note: str = "", action: str = "") -> list[SafetyFlag]:
    """Several flags of one patient at once, with one note and action: all or none."""
    note, action = _check_acknowledgement(note, action)
    if not flags:
        raise invalid("flags", "Choose at least one flag.")
    if len({f.patient_id for f in flags}) > 1:
        raise invalid("flags", "The flags must be of one patient.")
    locked = list(SafetyFlag.objects.select_for_update().filter(pk__in=[f.pk for f in flags]).order_by("created_at"))
    for flag in locked:
        _acknowledge_locked(actor, flag, note, action)
    return locked
