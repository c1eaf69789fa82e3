"""The one read model of "a patient's current course and its outcomes": what the outcomes API, the
dashboard's patient page, the chart, the payer PDF and the CSV export read.

Built once per request (``patient_outcomes``) from the course, the entries, the sessions and the
stored snapshots. A snapshot whose fingerprint still matches the entries is used as stored; one that
is missing or out of date is computed in memory for this answer (``projections.outcomes.outcome_data``,
the rules the workers store with) and its patient is handed to the workers
(``projections.services.outcomes_refresh_request``). Nothing here writes a snapshot or a notice:
reads never write domain state.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import scoring
from projections.models import OutcomeSnapshot
from projections.outcomes import ENTRY_COLUMNS, EntryRow, fingerprint, outcome_data, patient_rows, split_by_course
from projections.services import outcomes_refresh_request
from tracker.records.models import Assessment, Clinic, Patient, TreatmentCourse, TreatmentSession

# Patients per query when reading entries in bulk (keeps the IN list well under SQLite's limit).
BULK_CHUNK = 500


@dataclass(frozen=True)
class ScaleOutcome:
    """One scale of one course: its non-superseded entries (in date, entry order) and its outcome."""

    scale: str
    rows: tuple[EntryRow, ...]
    outcome: Mapping[str, Any]
    fingerprint: str
    #: The stored snapshot was missing or out of date: the outcome was computed for this answer.
    stale: bool


@dataclass(frozen=True)
class PatientOutcomes:
    """A patient's current course (None: entries without any course), its sessions, and the outcome
    of every scale it has entries for, in ``scoring.SCALES`` order."""

    patient: Patient
    clinic: Clinic
    course: TreatmentCourse | None
    sessions: tuple[TreatmentSession, ...]
    scales: tuple[ScaleOutcome, ...]

    @property
    def stale(self) -> bool:
        return any(s.stale for s in self.scales)

    def only(self, scale: str | None) -> PatientOutcomes:
        """The same course with one scale (all of them for None)."""
        if scale is None:
            return self
        return dataclasses.replace(self, scales=tuple(s for s in self.scales if s.scale == scale))

    def by_scale(self) -> dict[str, Mapping[str, Any]]:
        """The outcomes API's answer: each scale's outcome, keyed by scale."""
        return {s.scale: s.outcome for s in self.scales}


def _by_scale(rows: Iterable[EntryRow]) -> dict[str, list[EntryRow]]:
    grouped: dict[str, list[EntryRow]] = defaultdict(list)
    for row in rows:
        grouped[row.scale].append(row)
    return grouped


def _scale_outcome(
    course: TreatmentCourse | None,
    clinic: Clinic,
    scale: str,
    rows: Sequence[EntryRow],
    stored: OutcomeSnapshot | None,
) -> ScaleOutcome:
    fp = fingerprint(course, clinic, scale, rows)
    if stored is not None and stored.fingerprint == fp:
        return ScaleOutcome(scale=scale, rows=tuple(rows), outcome=stored.data, fingerprint=fp, stale=False)
    outcome = outcome_data(course, clinic, scale, rows)
    return ScaleOutcome(scale=scale, rows=tuple(rows), outcome=outcome, fingerprint=fp, stale=True)


def _scales(
    course: TreatmentCourse | None,
    clinic: Clinic,
    rows: Iterable[EntryRow],
    stored: Mapping[str, OutcomeSnapshot],
) -> tuple[ScaleOutcome, ...]:
    grouped = _by_scale(rows)
    return tuple(
        _scale_outcome(course, clinic, key, grouped[key], stored.get(key)) for key in scoring.SCALES if key in grouped
    )


def patient_outcomes(patient: Patient) -> PatientOutcomes:
    """The patient's current course (latest start) and its outcomes; the patient needs ``clinic``
    loaded (the selectors' ``patient_get`` does). Four queries: courses, entries, the current
    course's snapshots, its sessions."""
    clinic = patient.clinic
    courses = list(TreatmentCourse.objects.filter(patient=patient))
    current = max(courses, key=lambda c: (c.start_date, c.created_at)) if courses else None
    by_course = split_by_course(courses, patient_rows(patient), clinic.baseline_window_days)
    snapshots = OutcomeSnapshot.objects.filter(patient=patient)
    snapshots = snapshots.filter(course=current) if current is not None else snapshots.filter(course__isnull=True)
    stored = {s.scale: s for s in snapshots}
    scales = _scales(current, clinic, by_course.get(current, []), stored)
    sessions = tuple(current.sessions.order_by("date", "created_at")) if current is not None else ()
    view = PatientOutcomes(patient=patient, clinic=clinic, course=current, sessions=sessions, scales=scales)
    if view.stale:
        outcomes_refresh_request(patient_ids=[patient.pk])
    return view


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


def outcomes_of_courses(courses: Sequence[TreatmentCourse]) -> dict[Any, tuple[ScaleOutcome, ...]]:
    """For each of ``courses`` (by course id): its scales with entries, in ``scoring.SCALES`` order,
    as ``patient_outcomes`` gives them for a current course (the CSV export's bulk read).

    Reads entries, courses and snapshots in bulk; stale outcomes are computed for the answer and
    their patients handed to the workers. Courses need ``patient`` and ``patient.clinic`` loaded
    (``select_related``) to avoid a query each.
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
    stored: dict[Any, dict[str, OutcomeSnapshot]] = defaultdict(dict)
    course_ids = list(wanted)
    for start in range(0, len(course_ids), BULK_CHUNK):
        for snap in OutcomeSnapshot.objects.filter(course_id__in=course_ids[start : start + BULK_CHUNK]):
            stored[snap.course_id][snap.scale] = snap
    clinic_of = {c.patient_id: c.patient.clinic for c in courses}
    result: dict[Any, tuple[ScaleOutcome, ...]] = {}
    stale_patients: list[Any] = []
    for patient_id in patient_ids:
        # The clinic's own baseline window per scale (a window above the default widens the course).
        window = clinic_of[patient_id].baseline_window_days
        by_course = split_by_course(all_courses[patient_id], rows.get(patient_id, []), window)
        for course_key, course_rows in by_course.items():
            if course_key is None or course_key.pk not in wanted:
                continue
            course = wanted[course_key.pk]
            scales = _scales(course, course.patient.clinic, course_rows, stored[course.pk])
            result[course.pk] = scales
            if any(s.stale for s in scales):
                stale_patients.append(patient_id)
    if stale_patients:
        outcomes_refresh_request(patient_ids=stale_patients)
    return result
