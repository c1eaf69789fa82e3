"""What the chart, the PDF report and the CSV export read: a course's entries, sessions and outcomes.

Outcomes come from the stored snapshots (``projections.models.OutcomeSnapshot``) when their
fingerprint still matches the entries, and are recomputed and stored through
``projections.outcomes.store_snapshot`` when it does not: the same path as the outcomes API, so a
report never disagrees with what the API shows. Nothing here re-states an outcome rule.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import scoring
from projections.models import OutcomeSnapshot
from projections.outcomes import ENTRY_COLUMNS, EntryRow, fingerprint, patient_rows, split_by_course, store_snapshot
from tracker.records.models import Assessment, Clinic, Patient, TreatmentCourse, TreatmentSession

# Patients per query when reading entries in bulk (keeps the IN list well under SQLite's limit).
BULK_CHUNK = 500


@dataclass(frozen=True)
class ScaleData:
    """One scale of one course: its non-superseded entries (in date, entry order) and outcome."""

    scale: str
    rows: list[EntryRow]
    outcome: dict[str, Any]
    fingerprint: str


@dataclass(frozen=True)
class CourseData:
    """A patient's current course (None: entries without any course), its sessions and scales."""

    patient: Patient
    clinic: Clinic
    course: TreatmentCourse | None
    sessions: list[TreatmentSession]
    scales: list[ScaleData]


def _window_days() -> int:
    return scoring.Options().baseline_window_days


def _by_scale(rows: Iterable[EntryRow]) -> dict[str, list[EntryRow]]:
    grouped: dict[str, list[EntryRow]] = defaultdict(list)
    for row in rows:
        grouped[row.scale].append(row)
    return grouped


def current_course_data(patient: Patient, *, scale: str | None = None) -> CourseData:
    """The patient's current course (latest start) with every scale it has entries for, in
    ``scoring.SCALES`` order, or only ``scale``. Mirrors ``projections.outcomes.current_outcomes``."""
    clinic = patient.clinic
    courses = list(TreatmentCourse.objects.filter(patient=patient))
    current = max(courses, key=lambda c: (c.start_date, c.created_at)) if courses else None
    by_course = split_by_course(courses, patient_rows(patient), _window_days())
    grouped = _by_scale(by_course.get(current, []))
    scales = []
    for key in scoring.SCALES:
        if key not in grouped or (scale is not None and key != scale):
            continue
        snapshot = store_snapshot(patient, clinic, current, key, grouped[key])
        scales.append(ScaleData(scale=key, rows=grouped[key], outcome=snapshot.data, fingerprint=snapshot.fingerprint))
    sessions = list(current.sessions.order_by("date", "created_at")) if current is not None else []
    return CourseData(patient=patient, clinic=clinic, course=current, sessions=sessions, scales=scales)


def _rows_of_patients(patient_ids: Sequence[Any]) -> dict[Any, list[EntryRow]]:
    rows: dict[Any, list[EntryRow]] = defaultdict(list)
    for start in range(0, len(patient_ids), BULK_CHUNK):
        chunk = patient_ids[start : start + BULK_CHUNK]
        values = (
            Assessment.objects.filter(patient_id__in=chunk, is_superseded=False)
            .order_by("patient_id", "administered_on", "seq")
            .values_list("patient_id", *ENTRY_COLUMNS)
        )
        for patient_id, *columns in values:
            rows[patient_id].append(EntryRow(*columns))
    return rows


def outcomes_of_courses(courses: Sequence[TreatmentCourse]) -> dict[Any, list[ScaleData]]:
    """For each of ``courses`` (by course id): its scales with entries, in ``scoring.SCALES`` order.

    Reads entries, courses and snapshots in bulk; a snapshot whose fingerprint no longer matches
    its entries (or that is missing) is recomputed and stored. Courses need ``patient`` and
    ``patient.clinic`` loaded (``select_related``) to avoid a query each.
    """
    if not courses:
        return {}
    patient_ids = sorted({c.patient_id for c in courses}, key=str)
    all_courses: dict[Any, list[TreatmentCourse]] = defaultdict(list)
    for start in range(0, len(patient_ids), BULK_CHUNK):
        for course in TreatmentCourse.objects.filter(patient_id__in=patient_ids[start : start + BULK_CHUNK]):
            all_courses[course.patient_id].append(course)
    rows = _rows_of_patients(patient_ids)
    wanted = {c.pk: c for c in courses}
    stored: dict[tuple[Any, str], OutcomeSnapshot] = {}
    course_ids = list(wanted)
    for start in range(0, len(course_ids), BULK_CHUNK):
        for snap in OutcomeSnapshot.objects.filter(course_id__in=course_ids[start : start + BULK_CHUNK]):
            stored[(snap.course_id, snap.scale)] = snap
    result: dict[Any, list[ScaleData]] = {}
    for patient_id in patient_ids:
        by_course = split_by_course(all_courses[patient_id], rows.get(patient_id, []), _window_days())
        for course_key, course_rows in by_course.items():
            if course_key is None or course_key.pk not in wanted:
                continue
            course = wanted[course_key.pk]
            clinic = course.patient.clinic
            grouped = _by_scale(course_rows)
            scales = []
            for key in scoring.SCALES:
                if key not in grouped:
                    continue
                fp = fingerprint(course, clinic, key, grouped[key])
                found = stored.get((course.pk, key))
                snap = (
                    found
                    if found is not None and found.fingerprint == fp
                    else store_snapshot(course.patient, clinic, course, key, grouped[key])
                )
                scales.append(ScaleData(scale=key, rows=grouped[key], outcome=snap.data, fingerprint=snap.fingerprint))
            result[course.pk] = scales
    return result
