"""The one read model of "a patient's current course and its outcomes": what the outcomes API, the
dashboard's patient page, the chart, the payer PDF and the CSV export read.

Built once per request (``patient_outcomes``) from the course, the entries, the sessions and the
stored snapshots. A snapshot whose fingerprint still matches the entries is used as stored; one that
is missing or out of date is computed in memory for this answer (``projections.outcomes.outcome_data``,
the rules the workers store with) and its patient is handed to the workers
(``projections.services.outcomes_refresh_request``). Nothing here writes a snapshot or a notice:
reads never write domain state.

The bulk read of many courses (``outcomes_of_courses``, ``outcomes_of_course_refs``: the CSV
export's) has one bypass of the ORM on PostgreSQL, one query per batch (``_FRESH_SQL``): the server
concatenates each course and scale's entry records (``projections.outcomes.ENTRY_RECORD``, the
bytes the fingerprint hashes), hashes them behind the head Python builds
(``fingerprint_head_parts``) and compares the digest with the stored snapshot's. A snapshot whose
fingerprint matches is used as stored: its whole outcome, or only the values the caller reads
(``leaves``, each checked to have its JSON type); any other course goes the plain way (its
entries loaded and hashed in Python, computed if stale), so a mismatch from the SQL can only cost
time, never serve a stale outcome. Benchmark: ``manage.py benchmark exports``; tests:
``tests/tracker/reports/test_reports_csv_stream.py`` (the export equal to the plain path on
PostgreSQL, the values read by the server making the same columns as the parsed outcome, the
lookups by key).
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

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
    fingerprint_head_parts,
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
    #: ``outcomes_of_courses(leaves=...)``'s values, when the fast path read them instead of ``outcome``.
    leaves: tuple[Any, ...] | None = None


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


@dataclass(frozen=True, slots=True)
class CourseRef:
    """A course as the bulk read of many needs it (``outcomes_of_course_refs``): the fields of its
    fingerprint, its patient's id and its clinic, read without building a model per course."""

    pk: Any
    patient_id: Any
    clinic: Clinic
    start_date: date
    modality: str
    with_therapy: bool
    reference_set: str


def _ref(course: TreatmentCourse) -> CourseRef:
    return CourseRef(
        pk=course.pk,
        patient_id=course.patient_id,
        clinic=course.patient.clinic,
        start_date=course.start_date,
        modality=course.modality,
        with_therapy=course.with_therapy,
        reference_set=course.reference_set,
    )


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
    courses: Sequence[TreatmentCourse], *, with_rows: bool = True, leaves: Sequence[Leaf] | None = None
) -> dict[Any, tuple[ScaleOutcome, ...]]:
    """For each of ``courses`` (by course id): its scales with entries, in ``scoring.SCALES`` order,
    as ``patient_outcomes`` gives them for a current course (the CSV export's bulk read).
    ``with_rows=False``: a scale's ``rows`` may be left empty (the caller reads outcomes only).
    ``leaves`` (with ``with_rows=False``): the values of an outcome the caller reads; a scale the
    fast path answers has them as ``leaves`` (in that order, a JSON number as ``json.loads`` reads
    it, a string as itself, an array or object as its JSON text, missing or null as None) and an
    empty ``outcome``; one answered the plain way has its whole ``outcome`` and ``leaves`` None.

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
    fresh = _fresh_outcomes([_ref(c) for c in courses], leaves)
    rest = [c for c in courses if c.pk not in fresh]
    return fresh | (_outcomes_of_courses(rest) if rest else {})


def outcomes_of_course_refs(
    refs: Sequence[CourseRef], *, leaves: Sequence[Leaf] | None = None
) -> dict[Any, tuple[ScaleOutcome, ...]]:
    """``outcomes_of_courses(courses, with_rows=False, leaves=leaves)`` of the courses ``refs`` name:
    the courses the fast path does not answer (and all of them off PostgreSQL) are loaded (one
    query per ``BULK_CHUNK``) and read the plain way."""
    if not refs:
        return {}
    fresh = _fresh_outcomes(refs, leaves) if connection.vendor == "postgresql" else {}
    rest = {r.pk: r for r in refs if r.pk not in fresh}
    if not rest:
        return fresh
    ids = list(rest)
    loaded: dict[Any, TreatmentCourse] = {}
    for start in range(0, len(ids), BULK_CHUNK):
        for course in TreatmentCourse.objects.select_related("patient").filter(pk__in=ids[start : start + BULK_CHUNK]):
            course.patient.clinic = rest[course.pk].clinic
            loaded[course.pk] = course
    return fresh | _outcomes_of_courses([loaded[pk] for pk in ids if pk in loaded])


# Scoring's timings by code (TIMING_CODE): None first.
_TIMINGS = sorted(TIMING_CODE, key=TIMING_CODE.__getitem__)
# One query per batch of courses (and clinic): per course and scale, the SHA-256 of the fingerprint's
# head (the course's part given per course, the clinic's per scale) followed by its entries'
# records (ENTRY_RECORD: id, proleptic ordinal day, total, entry order, baseline mark, timing code,
# seconds after midnight or -1) in date and entry order, beside the stored snapshot, whose outcome
# comes back only where the fingerprints are equal. An entry belongs to a course from the scale's
# baseline window before its start to the start of the patient's next course
# (tracker.records.courses.in_course_window). Courses and snapshots are looked up by key, one index
# probe per course: LATERAL ... OFFSET 0 / LIMIT keep the planner from scanning the whole table (which
# it picks when the snapshot table has no statistics yet, as after a first nightly run) and from
# estimates that large (hundreds of snapshots per course) that it compiles the query (JIT).
_FRESH_SQL = """
WITH k AS (
    SELECT * FROM unnest(%(courses)s::uuid[], %(heads)s::bytea[]) AS k(id, head)
), c AS MATERIALIZED (  -- each course's next start once, not once per entry
    SELECT c.id, c.patient_id, c.start_date, k.head,
        (SELECT n.start_date FROM tracker_treatmentcourse n
         WHERE n.patient_id = c.patient_id AND (n.start_date, n.created_at) > (c.start_date, c.created_at)
         ORDER BY n.start_date, n.created_at LIMIT 1) AS next_start
    FROM k CROSS JOIN LATERAL (SELECT * FROM tracker_treatmentcourse c WHERE c.id = k.id OFFSET 0) c
), w AS (
    SELECT * FROM unnest(%(scales)s::text[], %(windows)s::int[], %(clinic_heads)s::bytea[]) AS w(scale, days, head)
), r AS (
    SELECT c.id, a.scale, encode(sha256(c.head || w.head || string_agg(
        uuid_send(a.id)
        || int4send((a.administered_on - date '0001-01-01' + 1)::int4)
        || int2send(a.total::int2)
        || int8send(a.seq)
        || CASE WHEN a.is_baseline THEN '\\x01'::bytea ELSE '\\x00'::bytea END
        || set_byte('\\x00'::bytea, 0, array_position(%(timings)s::text[], a.timing) - 1)
        || int4send(COALESCE(floor(extract(epoch FROM a.administered_time))::int4, -1)),
        ''::bytea ORDER BY a.administered_on, a.seq
    )), 'hex') AS fp
    FROM c
    JOIN tracker_assessment a ON a.patient_id = c.patient_id AND NOT a.is_superseded
    JOIN w ON w.scale = a.scale
    WHERE a.administered_on >= c.start_date - w.days AND (c.next_start IS NULL OR a.administered_on < c.next_start)
    GROUP BY c.id, a.scale, c.head, w.head
), s AS (
    SELECT s.* FROM c CROSS JOIN LATERAL (
        SELECT s.course_id, s.scale, s.fingerprint, s.data FROM {snapshots} s
        WHERE s.course_id = c.id AND s.course_id IS NOT NULL AND s.scale = ANY(%(scales)s::text[])
        LIMIT %(n_scales)s  -- all of them: one per scale (the unique key), told to the planner
    ) s
)
SELECT COALESCE(r.id, s.course_id), COALESCE(r.scale, s.scale), r.fp IS NOT NULL,
    CASE WHEN s.fingerprint = r.fp THEN s.fingerprint END, {payload}
FROM r FULL JOIN s ON s.course_id = r.id AND s.scale = r.scale{leaves_join}
"""

#: A value an outcome holds at a path of keys, read by the server: ``text`` (a JSON string),
#: ``number`` (a JSON number) or ``json`` (an array or an object, as JSON text); each may be
#: missing or null (None).
Leaf = tuple[tuple[str, ...], Literal["text", "number", "json"]]
_LEAF_TYPES = {"text": "'string', 'null'", "number": "'number', 'null'", "json": "'array', 'object'"}


def _fresh_sql(leaves: Sequence[Leaf] | None) -> str:
    """The query: with ``leaves``, each fresh snapshot's values at those paths and whether each
    has its kind's JSON type (``leaves_select``); without, its whole outcome."""
    sql = _FRESH_SQL.replace("{snapshots}", OutcomeSnapshot._meta.db_table)
    if leaves is None:
        return sql.replace("{payload}", "CASE WHEN s.fingerprint = r.fp THEN s.data::text END").replace(
            "{leaves_join}", ""
        )
    join = f"\nLEFT JOIN LATERAL ({leaves_select(leaves)}) l ON s.fingerprint = r.fp"
    return sql.replace("{payload}", "l.*").replace("{leaves_join}", join)


def leaves_select(leaves: Sequence[Leaf]) -> str:
    """``SELECT typed, value0, value1, ...`` of the outcome ``s.data``: whether every value has its
    kind's JSON type (or is missing), then each value as text (``leaf_values`` reads them). The
    parameters ``leaf0``, ... (``leaf_params``) hold each path after its first key. The outcome
    (stored compressed) is opened once (``jsonb_to_record`` of the top-level keys), not once per
    value."""
    keys = list(dict.fromkeys(path[0] for path, _ in leaves))
    if not all(_KEY.fullmatch(key) for key in keys):
        raise ValueError(f"not a plain key: {keys}")
    at = [
        f"x.{path[0]} #> %(leaf{i})s::text[]" if len(path) > 1 else f"x.{path[0]}" for i, (path, _) in enumerate(leaves)
    ]
    values = ", ".join(
        f"{v}::text" if kind == "json" else f"{v} #>> '{{}}'" for v, (_, kind) in zip(at, leaves, strict=True)
    )
    typed = " AND ".join(
        f"COALESCE(jsonb_typeof({v}) IN ({_LEAF_TYPES[kind]}), true)" for v, (_, kind) in zip(at, leaves, strict=True)
    )
    record = ", ".join(f"{key} jsonb" for key in keys)
    return f"SELECT {typed} AS typed, {values} FROM jsonb_to_record(s.data) AS x({record})"  # noqa: S608  (plain keys; paths are parameters)


def leaf_params(leaves: Sequence[Leaf]) -> dict[str, list[str]]:
    return {f"leaf{i}": list(path[1:]) for i, (path, _) in enumerate(leaves) if len(path) > 1}


def leaf_values(leaves: Sequence[Leaf], texts: Sequence[str | None]) -> tuple[Any, ...]:
    """The values ``leaves_select`` gave as text, as ``ScaleOutcome.leaves`` holds them."""
    return tuple(_number(v) if kind == "number" else v for (_, kind), v in zip(leaves, texts, strict=True))


_KEY = re.compile(r"[a-z_]+")


def _number(text: str | None) -> int | float | None:
    """A JSON number's text as ``json.loads`` reads it: a float with a fraction or an exponent."""
    if text is None:
        return None
    return float(text) if "." in text or "e" in text or "E" in text else int(text)


def _fresh_outcomes(
    courses: Sequence[CourseRef], leaves: Sequence[Leaf] | None = None
) -> dict[Any, tuple[ScaleOutcome, ...]]:
    """The courses (of ``courses``) whose every scale with entries has a snapshot that matches them:
    their outcomes as stored (with ``leaves``: the values at those paths, where each has its kind's
    type; a course with any other is left to the plain way). One query per clinic, whatever the
    number of entries; the entries never leave the server."""
    clinics = {c.clinic.pk: c.clinic for c in courses}
    scales = list(scoring.SCALES)
    found: dict[Any, list[tuple[Any, ...]]] = defaultdict(list)
    sql = _fresh_sql(leaves)
    params_of_leaves = leaf_params(leaves or ())
    with connection.cursor() as cursor:
        for clinic_id, clinic in clinics.items():
            batch = [c for c in courses if c.clinic.pk == clinic_id]
            clinic_heads = [fingerprint_head_parts("", clinic_fingerprint_key(clinic, key))[1] for key in scales]
            params: dict[str, Any] = {
                "courses": [c.pk for c in batch],
                "heads": [fingerprint_head_parts(course_fingerprint_key(c), "")[0] for c in batch],
                "scales": scales,
                "n_scales": len(scales),
                "windows": [clinic.baseline_window_days(key) for key in scales],
                "clinic_heads": clinic_heads,
                "timings": _TIMINGS,
            } | params_of_leaves
            cursor.execute(sql, params)
            for course_id, *row in cursor.fetchall():
                found[course_id].append(row)
    order = {key: i for i, key in enumerate(scales)}
    result: dict[Any, tuple[ScaleOutcome, ...]] = {}
    for course in courses:
        rows = found.get(course.pk)
        if rows is None:  # no entries in its window and no snapshot: no scale to show
            result[course.pk] = ()
            continue
        with_entries = [row for row in rows if row[1]]
        # A scale with entries out of date or without a snapshot, or snapshots without any entry,
        # or (leaves) a value not of its kind: the plain way decides.
        if not with_entries or not all(row[2] is not None and (leaves is None or row[3]) for row in with_entries):
            continue
        with_entries.sort(key=lambda row: order[row[0]])
        if leaves is None:
            result[course.pk] = tuple(
                ScaleOutcome(scale=row[0], rows=(), outcome=json.loads(row[3]), fingerprint=row[2], stale=False)
                for row in with_entries
            )
            continue
        result[course.pk] = tuple(
            ScaleOutcome(
                scale=row[0],
                rows=(),
                outcome={},
                fingerprint=row[2],
                stale=False,
                leaves=leaf_values(leaves, row[4:]),
            )
            for row in with_entries
        )
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
