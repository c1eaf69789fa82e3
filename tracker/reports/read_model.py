"""The one read model of "a patient's current course and its outcomes": what the outcomes API, the
dashboard's patient page, the chart, the payer PDF and the CSV export read.

Built once per request (``patient_outcomes``) from the course, the entries, the sessions and the
stored snapshots. A snapshot whose fingerprint still matches the entries is used as stored; one that
is missing or out of date is computed in memory for this answer (``projections.outcomes.outcome_data``,
the rules the workers store with) and its patient is handed to the workers
(``projections.services.outcomes_refresh_request``). Nothing here writes a snapshot or a notice:
reads never write domain state.

The bulk read of many courses (``outcomes_of_courses``, the CSV export's) has one bypass of the ORM
on PostgreSQL: instead of loading every entry into Python to hash it, the server concatenates
each course and scale's entry records (``projections.outcomes.ENTRY_RECORD``, the bytes the
fingerprint hashes) and Python hashes them behind the head it builds itself. A snapshot whose
fingerprint matches is used as stored; any other course goes the plain way (its entries loaded
and hashed in Python, computed if stale), so a mismatch from the SQL can only cost time, never
serve a stale outcome. Benchmark: ``manage.py benchmark exports``; test:
``tests/tracker/reports/test_reports_csv_stream.py`` (the export equal to the plain path on
PostgreSQL).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection

import scoring
from projections.models import OutcomeSnapshot
from projections.outcomes import (
    ENTRY_COLUMNS,
    TIMING_CODE,
    EntryRow,
    clinic_fingerprint_key,
    course_fingerprint_key,
    fingerprint,
    fingerprint_head,
    outcome_data,
    patient_rows,
    split_by_course,
)
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


def outcomes_of_courses(
    courses: Sequence[TreatmentCourse], *, with_rows: bool = True
) -> dict[Any, tuple[ScaleOutcome, ...]]:
    """For each of ``courses`` (by course id): its scales with entries, in ``scoring.SCALES`` order,
    as ``patient_outcomes`` gives them for a current course (the CSV export's bulk read).
    ``with_rows=False``: a scale's ``rows`` may be left empty (the caller reads outcomes only).

    Reads entries, courses and snapshots in bulk; stale outcomes are computed for the answer and
    their patients handed to the workers. Courses need ``patient`` and ``patient.clinic`` loaded
    (``select_related``) to avoid a query each. On PostgreSQL the courses whose snapshots all
    match their entries are answered from the snapshots without loading the entries (see the
    module's docstring) when their rows are not asked for; the others are read the plain way.
    """
    if not courses:
        return {}
    if with_rows or connection.vendor != "postgresql":
        return _outcomes_of_courses(courses)
    fresh = _fresh_outcomes(courses)
    rest = [c for c in courses if c.pk not in fresh]
    return fresh | (_outcomes_of_courses(rest) if rest else {})


# Scoring's timings by code (TIMING_CODE): None first.
_TIMINGS = sorted(TIMING_CODE, key=TIMING_CODE.__getitem__)
# Per course and scale, its entries' fingerprint records (ENTRY_RECORD: id, proleptic ordinal day,
# total, entry order, baseline mark, timing code, seconds after midnight or -1), concatenated in
# date and entry order. An entry belongs to a course from the scale's baseline window before its
# start to the start of the patient's next course (tracker.records.courses.in_course_window).
_RECORDS_SQL = """
WITH c AS MATERIALIZED (  -- each course's next start once, not once per entry
    SELECT c.id, c.patient_id, c.start_date,
        (SELECT n.start_date FROM tracker_treatmentcourse n
         WHERE n.patient_id = c.patient_id AND (n.start_date, n.created_at) > (c.start_date, c.created_at)
         ORDER BY n.start_date, n.created_at LIMIT 1) AS next_start
    FROM tracker_treatmentcourse c WHERE c.id = ANY(%(courses)s::uuid[])
), w AS (
    SELECT * FROM unnest(%(scales)s::text[], %(windows)s::int[]) AS w(scale, days)
)
SELECT c.id, a.scale, string_agg(
    uuid_send(a.id)
    || int4send((a.administered_on - date '0001-01-01' + 1)::int4)
    || int2send(a.total::int2)
    || int8send(a.seq)
    || CASE WHEN a.is_baseline THEN '\\x01'::bytea ELSE '\\x00'::bytea END
    || set_byte('\\x00'::bytea, 0, array_position(%(timings)s::text[], a.timing) - 1)
    || int4send(COALESCE(floor(extract(epoch FROM a.administered_time))::int4, -1)),
    ''::bytea ORDER BY a.administered_on, a.seq
)
FROM c
JOIN tracker_assessment a ON a.patient_id = c.patient_id AND NOT a.is_superseded
JOIN w ON w.scale = a.scale
WHERE a.administered_on >= c.start_date - w.days AND (c.next_start IS NULL OR a.administered_on < c.next_start)
GROUP BY c.id, a.scale
"""


_SNAPSHOTS_SQL = f"""
SELECT course_id, scale, fingerprint, data::text FROM {OutcomeSnapshot._meta.db_table}
WHERE course_id = ANY(%s::uuid[])
"""  # noqa: S608  (a table name)


def _fresh_outcomes(courses: Sequence[TreatmentCourse]) -> dict[Any, tuple[ScaleOutcome, ...]]:
    """The courses (of ``courses``) whose every scale with entries has a snapshot that matches them:
    their outcomes as stored. Two queries (one more per other clinic), whatever the number of entries."""
    clinics = {c.patient.clinic_id: c.patient.clinic for c in courses}
    scales = list(scoring.SCALES)
    records: dict[Any, dict[str, bytes]] = defaultdict(dict)
    with connection.cursor() as cursor:
        for clinic_id, clinic in clinics.items():
            ids = [c.pk for c in courses if c.patient.clinic_id == clinic_id]
            windows = [clinic.baseline_window_days(key) for key in scales]
            cursor.execute(_RECORDS_SQL, {"courses": ids, "scales": scales, "windows": windows, "timings": _TIMINGS})
            for course_id, scale, blob in cursor.fetchall():
                records[course_id][scale] = bytes(blob)
        stored: dict[Any, dict[str, tuple[str, str]]] = defaultdict(dict)
        cursor.execute(_SNAPSHOTS_SQL, [[c.pk for c in courses]])
        for course_id, scale, fp, data in cursor.fetchall():
            stored[course_id][scale] = (fp, data)
    # The clinic's part of the head, once per clinic and scale (JSON with sorted keys is not free).
    clinic_keys = {(pk, key): clinic_fingerprint_key(clinic, key) for pk, clinic in clinics.items() for key in scales}
    result: dict[Any, tuple[ScaleOutcome, ...]] = {}
    for course in courses:
        if course.pk not in records:
            if course.pk not in stored:  # no entries in its window and no snapshot: no scale to show
                result[course.pk] = ()
            continue
        course_key = course_fingerprint_key(course)
        outcomes = []
        for scale in scales:
            blob = records[course.pk].get(scale)
            if blob is None:
                continue
            head = fingerprint_head(course_key, clinic_keys[course.patient.clinic_id, scale])
            fp = hashlib.sha256(head + blob).hexdigest()
            snapshot = stored[course.pk].get(scale)
            if snapshot is None or snapshot[0] != fp:
                break
            data = snapshot[1]
            outcomes.append(
                ScaleOutcome(
                    scale=scale,
                    rows=(),
                    outcome=json.loads(data),
                    fingerprint=fp,
                    stale=False,
                )
            )
        else:
            result[course.pk] = tuple(outcomes)
    return result


def _outcomes_of_courses(courses: Sequence[TreatmentCourse]) -> dict[Any, tuple[ScaleOutcome, ...]]:
    """``outcomes_of_courses`` the plain way: every entry read into Python and hashed there."""
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
