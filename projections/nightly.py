"""The nightly recomputation: every active course, in chunks of patients, through scoring's
numpy batch path with bulk reads and writes (a fixed number of queries per chunk, none per patient).

A chunk is one transaction: a worker killed mid-chunk leaves the previous snapshots in place and
the chunk's message unacknowledged (``acks_late``), so another worker redoes it. Running a chunk
twice stores the same snapshots.

"Active course" is each patient's latest course (or, for a patient without one, all their entries).
Earlier courses keep the snapshots written when their entries last changed.

A snapshot stored here equals the one ``projections.outcomes`` stores for the patient, field for
field (``tests/projections/test_nightly.py``); only the way there is built for volume:

- a chunk's entries are read as plain rows, batch by batch into numpy arrays, and ordered and
  split into trajectories there;
- ``scoring.classify_batch`` classifies each scale and rule set at once, and
  ``classification_json`` writes each outcome straight from the result's arrays (the JSON of
  ``BatchResult.classification(k).as_dict()``, without building a Classification per trajectory);
- the projection block (``compare.projection_block``) looks each curve up once per distinct input
  and computes the percentiles of every course sharing a curve model at once;
- the outcome JSON is assembled from fragments computed once per distinct value; the
  fingerprint (``outcomes.fingerprint``) hashes the same bytes, taken from the arrays;
- on PostgreSQL, snapshots and notices are written with ``COPY``, and ``recompute_all`` runs the
  chunks as a pipeline on three connections (read chunk i + 1, compute chunk i, write chunk i - 1,
  each write its own transaction), so the database's work and this process's overlap;
- the cyclic garbage collector is paused while a chunk is read and computed (nothing there makes
  reference cycles; the pause saves walking every live object again and again).
"""

from __future__ import annotations

import datetime as dt
import gc
import hashlib
import json
import math
import os
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, replace
from functools import lru_cache, partial
from itertools import repeat
from operator import attrgetter
from typing import Any

import numpy as np
import numpy.typing as npt
from django.db import connection, transaction
from django.db.models import Q
from django.db.models.expressions import RawSQL
from django.utils import timezone
from tqdm import tqdm

import scoring
from projections.compare import expected_curve, reference_set_for
from projections.math.curves import (
    INSUFFICIENT_DATA,
    MIN_COMPARISON_WEEK,
    PERCENTILE_EPS,
    ModelParams,
    improvement_cdf,
    signal_for,
)
from projections.models import OutcomeSnapshot
from projections.notices import WORRYING_SIGNALS, signal_notice
from projections.outcomes import (
    ENTRY_RECORD,
    clinic_fingerprint_key,
    course_fingerprint_key,
    fingerprint_head,
    scoring_options,
)
from scoring.batch import EPOCH, NO_DAY, BatchResult
from scoring.outcomes import EVENT_TYPES, RESPONSES, STATES
from tracker.records.models import Assessment, Clinic, Notice, Patient, TreatmentCourse

COLUMNS = ("patient_id", "scale", "id", "administered_on", "total", "seq", "is_baseline")
SCALE_KEYS: tuple[str, ...] = tuple(scoring.SCALES)
_SCALE_CODE = {key: code for code, key in enumerate(SCALE_KEYS)}
_EPOCH_ORDINAL = EPOCH.toordinal()
_NO_COURSE = np.iinfo(np.int64).min // 2  # "no course start" as an ordinal: every entry is after it
FETCH_BATCH = 10_000  # entry rows turned into arrays at a time
_COPY_BLOCK = 500  # rows per COPY write

IntArray = npt.NDArray[np.int64]


def patient_chunks(*, clinic_id: Any = None, chunk_size: int = 2000) -> Iterator[list[str]]:
    """Patient ids in chunks, read in id order page by page (memory bounded by the chunk)."""
    qs = Patient.objects.order_by("id")
    if clinic_id:
        qs = qs.filter(clinic_id=clinic_id)
    last = None
    while True:
        page = qs.filter(id__gt=last) if last is not None else qs
        ids = list(page.values_list("id", flat=True)[:chunk_size])
        if not ids:
            return
        yield [str(pk) for pk in ids]
        last = ids[-1]


class _GcPause:
    """Pauses of the cyclic garbage collector, nestable and shared between threads (reference
    counting still frees everything; nothing in a chunk's work makes reference cycles)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._depth = 0
        self._was_enabled = False

    @contextmanager
    def __call__(self) -> Iterator[None]:
        with self._lock:
            if self._depth == 0:
                self._was_enabled = gc.isenabled()
                gc.disable()
            self._depth += 1
        try:
            yield
        finally:
            with self._lock:
                self._depth -= 1
                if self._depth == 0 and self._was_enabled:
                    gc.enable()


_gc_paused = _GcPause()


# ---------------------------------------------------------------------------- the outcome as JSON

# Compact JSON, as UTF-8 text: the same document as json.dumps gives, and stored equal (jsonb).
_dumps = partial(json.dumps, separators=(",", ":"), ensure_ascii=False)


@lru_cache(maxsize=1 << 16)
def _iso_of_day(day: int) -> str:
    """A day number (days since 1970-01-01) as the JSON string of its ISO date."""
    return '"' + dt.date.fromordinal(day + _EPOCH_ORDINAL).isoformat() + '"'


@lru_cache(maxsize=4096)
def _reliable_change_json(scale: str, before: int, after: int) -> str:
    return _dumps(scoring.reliable_change(scale, before, after).as_dict())


@lru_cache(maxsize=256)
def _rules_json(rules: scoring.Rules) -> str:
    return _dumps(rules.as_dict())


_STATE_JSON = tuple(_dumps(s) for s in STATES)
_RESPONSE_JSON = tuple(_dumps(r) for r in RESPONSES)
_EVENT_JSON = tuple(_dumps(e) for e in EVENT_TYPES)
_RECOVERY = EVENT_TYPES.index("recovery")


def latest_codes(result: BatchResult) -> tuple[npt.NDArray[np.int8], npt.NDArray[np.int8]]:
    """Per trajectory: the response code of the latest entry (-1 for none) and the state after it
    (``not_remitted`` without entries), as ``Classification.response`` and ``.state``."""
    response = np.full(result.n_trajectories, -1, dtype=np.int8)
    state = np.full(result.n_trajectories, STATES.index("not_remitted"), dtype=np.int8)
    nonempty = np.flatnonzero(result.latest >= 0)
    response[nonempty] = result.entry_response[result.latest[nonempty]]
    state[nonempty] = result.entry_state[result.latest[nonempty]]
    return response, state


def classification_json(result: BatchResult) -> list[str]:
    """Each trajectory's outcome as JSON text: the document of ``result.classification(k).as_dict()``
    (``json.loads`` gives an equal dict), written from the result's arrays."""
    scale = scoring.get_scale(result.scale)
    n = result.n_trajectories
    days = result.days.tolist()
    totals = result.totals.tolist()
    base = result.baseline.tolist()
    latest = result.latest.tolist()
    first = result.first_response.tolist()
    pending = result.pending_since.tolist()
    improvement = result.latest_improvement.tolist()
    starts = result.course_start.tolist()
    response, state = (codes.tolist() for codes in latest_codes(result))
    everyone = np.arange(n)
    event_lo = np.searchsorted(result.event_trajectory, everyone, side="left").tolist()
    event_hi = np.searchsorted(result.event_trajectory, everyone, side="right").tolist()
    event_type = result.event_type.tolist()
    event_onset = result.event_onset.tolist()
    event_confirmed = result.event_confirmed.tolist()
    warned = np.flatnonzero(result.entry_warning)
    warn_lo = np.searchsorted(warned, result.offsets[:-1], side="left").tolist()
    warn_hi = np.searchsorted(warned, result.offsets[1:], side="left").tolist()
    remission_max, relapse_min = result.remission_max.tolist(), result.relapse_min.tolist()
    head = '{"scale":' + _dumps(scale.key) + ","
    version = ',"scale_version":' + _dumps(scale.version)
    out: list[str] = []
    for k in range(n):
        b, last = base[k], latest[k]
        if last < 0:
            baseline_json = latest_json = change_json = "null"
        else:
            x = improvement[k]
            baseline_json = f'{{"date":{_iso_of_day(days[b])},"total":{totals[b]}}}'
            latest_json = (
                f'{{"date":{_iso_of_day(days[last])},"total":{totals[last]},'
                f'"improvement":{"null" if math.isnan(x) else repr(x)},'
                f'"response":{"null" if response[k] < 0 else _RESPONSE_JSON[response[k]]}}}'
            )
            change_json = _reliable_change_json(scale.key, totals[b], totals[last])
        events = []
        for e in range(event_lo[k], event_hi[k]):
            kind = event_type[e]
            if kind == _RECOVERY:
                events.append(f'{{"type":{_EVENT_JSON[kind]},"date":{_iso_of_day(days[event_confirmed[e]])}}}')
            else:
                events.append(
                    f'{{"type":{_EVENT_JSON[kind]},"onset":{_iso_of_day(days[event_onset[e]])},'
                    f'"confirmed":{_iso_of_day(days[event_confirmed[e]])}}}'
                )
        warnings = []
        if warn_hi[k] > warn_lo[k]:
            # In trajectory order (day, then input order); only entries from the baseline on have them.
            for i in sorted(warned[warn_lo[k] : warn_hi[k]].tolist(), key=lambda i: (days[i], i)):
                warnings.append(f'{{"type":"relapse_level_score","date":{_iso_of_day(days[i])},"total":{totals[i]}}}')
        rules = result.rules
        if rules.remission_max != remission_max[k] or rules.relapse_min != relapse_min[k]:
            rules = replace(rules, remission_max=remission_max[k], relapse_min=relapse_min[k])
        out.append(
            f'{head}"baseline":{baseline_json},"latest":{latest_json},'
            f'"first_response_date":{"null" if first[k] < 0 else _iso_of_day(days[first[k]])},'
            f'"state":{_STATE_JSON[state[k]]},"events":[{",".join(events)}],'
            f'"remission_pending_since":{"null" if pending[k] < 0 else _iso_of_day(days[pending[k]])},'
            f'"warnings":[{",".join(warnings)}],"reliable_change":{change_json}{version},'
            f'"course_start":{"null" if starts[k] == NO_DAY else _iso_of_day(starts[k])},'
            f'"rules":{_rules_json(rules)}}}'
        )
    return out


# ---------------------------------------------------------------------------- one chunk, read


@dataclass
class _Course:
    """The fields of a course the outcome needs (read as values, not model instances)."""

    pk: Any
    start_date: dt.date
    modality: str
    with_therapy: bool
    reference_set: str
    fingerprint_key: str = ""
    text_id: str = ""

    def __post_init__(self) -> None:
        self.fingerprint_key = course_fingerprint_key(self)
        self.text_id = str(self.pk)


@dataclass
class _Chunk:
    """A chunk's entries as arrays ordered by patient, scale, date and entry order, split into
    trajectories (one patient and scale over the active course)."""

    patients: list[Any]  # patient id per patient index
    clinics: list[Clinic]  # clinic per patient index
    courses: list[_Course | None]  # active course per patient index
    clinic_index: IntArray  # per patient: index into distinct_clinics
    distinct_clinics: list[Clinic]
    patient_text: list[str]  # per patient: its id as text
    day: IntArray  # per entry: proleptic ordinal
    total: IntArray
    is_baseline: npt.NDArray[np.bool_]
    records: bytes  # per entry: its fingerprint record (outcomes.ENTRY_RECORD)
    offsets: IntArray  # trajectory k is entries offsets[k]:offsets[k + 1]
    patient: IntArray  # per trajectory: patient index
    scale: IntArray  # per trajectory: index into SCALE_KEYS


def _any_of(ids: Sequence[Any]) -> Any:
    """The right-hand side of an ``__in`` filter on a uuid column: on PostgreSQL one parameter
    (an array), not thousands (cheaper to build, quote and parse)."""
    if connection.vendor == "postgresql":
        return RawSQL("SELECT unnest(string_to_array(%s, ',')::uuid[])", (",".join(str(pk) for pk in ids),))
    return list(ids)


def _fetch(entries: Any) -> Iterator[Sequence[tuple[Any, ...]]]:
    """The rows of a values_list query in batches; on PostgreSQL straight from the cursor (psycopg
    already returns the columns as Python values: no ORM work per row)."""
    if connection.vendor != "postgresql":
        rows = list(entries)
        for lo in range(0, len(rows), FETCH_BATCH):
            yield rows[lo : lo + FETCH_BATCH]
        return
    sql, params = entries.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(FETCH_BATCH):
            yield rows


_uuid_int = attrgetter("int")


def _read_chunk(patient_ids: Sequence[str]) -> _Chunk:
    with _gc_paused():
        return _read_chunk_arrays(patient_ids)


def _read_chunk_arrays(patient_ids: Sequence[str]) -> _Chunk:
    ids = _any_of(patient_ids)
    patient_clinic = dict(Patient.objects.filter(pk__in=ids).values_list("id", "clinic_id"))
    clinics = {c.pk: c for c in Clinic.objects.filter(pk__in=set(patient_clinic.values()))}
    patients = list(patient_clinic)
    position = {pk.int: k for k, pk in enumerate(patients)}
    courses: list[_Course | None] = [None] * len(patients)
    for patient_id, pk, start_date, modality, with_therapy, reference_set in (
        TreatmentCourse.objects.filter(patient_id__in=ids)
        .order_by("patient_id", "start_date", "created_at")
        .values_list("patient_id", "id", "start_date", "modality", "with_therapy", "reference_set")
    ):  # the latest one wins
        courses[position[patient_id.int]] = _Course(pk, start_date, modality, with_therapy, reference_set)

    entries = Assessment.objects.filter(patient_id__in=ids, is_superseded=False).order_by().values_list(*COLUMNS)
    if len(patients) > 1:  # chunks are id ranges: lets PostgreSQL walk one index range
        entries = entries.filter(patient_id__gte=min(patients), patient_id__lte=max(patients))
    parts: list[tuple[IntArray, ...]] = []
    id_bytes: list[bytes] = []
    for rows in _fetch(entries):  # batch by batch: no row object outlives its batch
        n = len(rows)
        patient_col, scale_col, id_col, date_col, total_col, seq_col, baseline_col = zip(*rows, strict=True)
        parts.append(
            (
                np.fromiter(map(position.__getitem__, map(_uuid_int, patient_col)), dtype=np.int64, count=n),
                np.fromiter(map(_SCALE_CODE.__getitem__, scale_col), dtype=np.int64, count=n),
                np.fromiter(map(dt.date.toordinal, date_col), dtype=np.int64, count=n),
                np.fromiter(total_col, dtype=np.int64, count=n),
                np.fromiter(seq_col, dtype=np.int64, count=n),
                np.fromiter(baseline_col, dtype=np.int64, count=n),
            )
        )
        id_bytes.append(b"".join(map(int.to_bytes, map(_uuid_int, id_col), repeat(16))))  # == UUID.bytes
    patient, scale, day, total, seq, flag = (
        np.concatenate([part[c] for part in parts]) if parts else np.zeros(0, dtype=np.int64) for c in range(6)
    )

    # An entry belongs to the active course from baseline_window_days before its start.
    window = scoring.Options().baseline_window_days
    start = np.array([c.start_date.toordinal() if c else _NO_COURSE for c in courses], dtype=np.int64)
    kept = np.flatnonzero(day >= start[patient] - window)
    order = kept[np.lexsort((seq[kept], day[kept], scale[kept], patient[kept]))]
    patient, scale, day, total, seq, is_baseline = (
        a[order] for a in (patient, scale, day, total, seq, flag.astype(bool))
    )

    records = np.empty(order.size, dtype=ENTRY_RECORD)
    records["id"] = np.frombuffer(b"".join(id_bytes), dtype="V16")[order]
    records["day"] = day
    records["total"] = total
    records["seq"] = seq
    records["baseline"] = is_baseline

    new = np.ones(order.size, dtype=bool)
    new[1:] = (patient[1:] != patient[:-1]) | (scale[1:] != scale[:-1])
    starts = np.flatnonzero(new)
    distinct = list(clinics.values())
    index_of = {c.pk: i for i, c in enumerate(distinct)}
    return _Chunk(
        patients=patients,
        clinics=[clinics[patient_clinic[pk]] for pk in patients],
        courses=courses,
        clinic_index=np.array([index_of[patient_clinic[pk]] for pk in patients], dtype=np.int64),
        distinct_clinics=distinct,
        patient_text=[str(pk) for pk in patients],
        day=day,
        total=total,
        is_baseline=is_baseline,
        records=records.tobytes(),
        offsets=np.append(starts, order.size).astype(np.int64),
        patient=patient[starts],
        scale=scale[starts],
    )


# ---------------------------------------------------------------------------- one chunk, compute


@dataclass(slots=True)
class _Outcome:
    """One snapshot to store: its columns, ``data`` as JSON text."""

    patient: int  # patient index in the chunk
    scale: str
    data: str
    fingerprint: str
    state: str
    signal: str
    percentile: int | None
    week: int | None
    latest_total: int
    latest_date: str
    improvement: float | None
    response: str | None


_SIGNAL_OF_PERCENTILE = tuple(signal_for(p) for p in range(101))


class _Projector:
    """The projection block of every course in a chunk (``compare.projection_block``): reference
    sets and curves looked up once per distinct input, the expected percentiles once per curve
    model and day, and the percentiles of the latest improvements per curve model at once."""

    def __init__(self, chunk: _Chunk) -> None:
        self._chunk = chunk
        self._references: dict[tuple[str, int], Any] = {}
        self._expected: dict[tuple[ModelParams, int], str] = {}
        # Per patient: the course's fields a curve depends on, as a small code (-1 without a course).
        keys: dict[tuple[str, int, str, bool], int] = {}
        codes = []
        self._course_of_code: list[tuple[_Course, int]] = []
        for p, course in enumerate(chunk.courses):
            if course is None:
                codes.append(-1)
                continue
            clinic = int(chunk.clinic_index[p])
            key = (course.reference_set, clinic, course.modality, course.with_therapy)
            if key not in keys:
                keys[key] = len(keys)
                self._course_of_code.append((course, clinic))
            codes.append(keys[key])
        self.course_code = np.array(codes, dtype=np.int64)

    def _reference(self, course: _Course, clinic: int) -> Any:
        where = (course.reference_set, clinic)
        if where not in self._references:
            self._references[where] = reference_set_for(
                TreatmentCourse(reference_set=course.reference_set), self._chunk.distinct_clinics[clinic]
            )
        return self._references[where]

    def blocks(
        self,
        scale: str,
        rules: scoring.Rules,
        patients: IntArray,
        baseline: IntArray,
        days: IntArray,
        compared: npt.NDArray[np.bool_],
        improvement: npt.NDArray[np.float64],
    ) -> tuple[list[str | None], list[str | None], list[int | None], list[int | None]]:
        """Per trajectory (of one scale and rule set): the block's JSON (None without a course), its
        signal, whole week and percentile. ``days`` from the course start
        to the latest entry, ``compared``: a comparison is made (follow-up, improvement, a day in)."""
        n = patients.size
        code = self.course_code[patients]
        has_course = code >= 0
        severity_table = np.array(
            [_SEVERITIES[scale].index(_severity(scale, t)) for t in range(scoring.get_scale(scale).total_max + 1)]
        )
        severity = severity_table[baseline]
        above = np.where(baseline > rules.remission_max, baseline, -1)
        key = (code * 16 + severity) * 1024 + (above + 1)
        unique, inverse = np.unique(np.where(has_course, key, -1), return_inverse=True)
        curves: list[Any] = []
        for u in unique.tolist():
            if u < 0:
                curves.append(None)
                continue
            course, clinic = self._course_of_code[u // (16 * 1024)]
            level = u % 1024 - 1
            severity_name = _SEVERITIES[scale][(u // 1024) % 16]
            curves.append(expected_curve(
                self._reference(course, clinic), course, scale, rules,
                severity=severity_name, baseline=level if level >= 0 else None,
            ))  # fmt: skip
        weeks = np.maximum(days, 0) / 7
        # Percentiles at once for every trajectory compared against the same curve model.
        models: dict[ModelParams, int] = {}
        model_curve: list[Any] = []
        model_of_curve = []
        for curve in curves:
            if curve is None:
                model_of_curve.append(-1)
                continue
            if curve.params not in models:
                models[curve.params] = len(models)
                model_curve.append(curve)
            model_of_curve.append(models[curve.params])
        model = np.array(model_of_curve, dtype=np.int64)[inverse]
        percentile = np.full(n, -1, dtype=np.int64)
        for q, curve in enumerate(model_curve):
            members = np.flatnonzero((model == q) & compared)
            if members.size:
                percentile[members] = _percentiles(curve, weeks[members], improvement[members])
        texts: list[str | None] = [None] * n
        signals: list[str | None] = [None] * n
        whole_weeks: list[int | None] = [None] * n
        percentiles: list[int | None] = [None] * n
        day_list, week_list, pct_list, inv_list = days.tolist(), weeks.tolist(), percentile.tolist(), inverse.tolist()
        reference_json = [None if c is None else _dumps(c.reference) for c in curves]
        for j in range(n):
            curve = curves[inv_list[j]]
            if curve is None:
                continue
            d = day_list[j]
            expected = self._expected.get((curve.params, d))
            if expected is None:
                expected = self._expected[(curve.params, d)] = _dumps(
                    curve.improvement_percentiles(max(week_list[j], 0.0))
                )
            pct = pct_list[j] if pct_list[j] >= 0 else None
            signal = INSUFFICIENT_DATA if pct is None else _SIGNAL_OF_PERCENTILE[pct]
            whole = max(math.floor(week_list[j]), 0)
            texts[j] = (
                f'{{"reference":{reference_json[inv_list[j]]},"week":{whole},"percentile":{"null" if pct is None else pct},'
                f'"signal":"{signal}","expected_improvement":{expected}}}'
            )
            signals[j], whole_weeks[j], percentiles[j] = signal, whole, pct
        return texts, signals, whole_weeks, percentiles


_SEVERITIES = {key: tuple(band.label for band in scale.bands) for key, scale in scoring.SCALES.items()}


@lru_cache(maxsize=1024)
def _severity(scale: str, total: int) -> str:
    return scoring.get_scale(scale).severity(total)


def _percentiles(curve: Any, weeks: npt.NDArray[np.float64], improvements: npt.NDArray[np.float64]) -> list[int]:
    """``curve.percentile_of(week, improvement)`` for each pair, at once. Where floating point could
    tip the whole number (within 1e-7 of it), the scalar method decides."""
    cdf = improvement_cdf(curve.params, weeks, improvements)
    raw = 100.0 * cdf + PERCENTILE_EPS
    whole = np.clip(np.floor(raw), 0, 100).astype(np.int64)
    # (A cdf of exactly 0 or 1 is exact either way.)
    for i in np.flatnonzero((np.abs(raw - np.rint(raw)) < 1e-7) & (cdf > 0) & (cdf < 1)).tolist():
        whole[i] = curve.percentile_of(float(weeks[i]), float(improvements[i]))
    return whole.tolist()


def _outcomes(chunk: _Chunk) -> Iterator[_Outcome]:
    """Every trajectory's snapshot, one batch per scale and rule set (scoring's batch path; clinics
    may override thresholds), yielded as they are built so they can be written meanwhile."""
    n_scales = len(SCALE_KEYS)
    pair = chunk.clinic_index[chunk.patient] * n_scales + chunk.scale
    groups: dict[tuple[int, str], list[int]] = defaultdict(list)  # (scale, rule set) -> (clinic, scale) pairs
    options: dict[int, scoring.Options] = {}
    for code in np.unique(pair).tolist():
        clinic, s = divmod(code, n_scales)
        options[code] = scoring_options(chunk.distinct_clinics[clinic], SCALE_KEYS[s])
        groups[(s, repr(options[code]))].append(code)
    projector = _Projector(chunk)
    records = memoryview(chunk.records)
    width = ENTRY_RECORD.itemsize
    chunk_offsets = chunk.offsets.tolist()
    course_keys = [c.fingerprint_key if c else "null" for c in chunk.courses]
    course_ids = ["null" if c is None else f'"{c.text_id}"' for c in chunk.courses]
    start_day = np.array(
        [c.start_date.toordinal() - _EPOCH_ORDINAL if c else NO_DAY for c in chunk.courses], dtype=np.int64
    )
    for (s, _), codes in groups.items():
        scale = SCALE_KEYS[s]
        trajectories = np.flatnonzero(np.isin(pair, codes))
        lo, hi = chunk.offsets[trajectories], chunk.offsets[trajectories + 1]
        lengths = hi - lo
        offsets = np.concatenate([[0], np.cumsum(lengths)])
        entries = np.repeat(lo - offsets[:-1], lengths) + np.arange(offsets[-1])
        patients = chunk.patient[trajectories]
        starts = start_day[patients]
        marked = np.full(trajectories.size, -1, dtype=np.int64)
        flagged = np.flatnonzero(chunk.is_baseline[entries])
        if flagged.size:  # a clinician's baseline: the first marked entry in date order
            owner = np.searchsorted(offsets, flagged, side="right") - 1
            owners, first = np.unique(owner, return_index=True)
            marked[owners] = flagged[first]
        result = scoring.classify_batch(
            scale,
            offsets,
            chunk.day[entries] - _EPOCH_ORDINAL,
            chunk.total[entries],
            course_start=starts,
            baseline=marked,
            options=options[codes[0]],
        )
        texts = classification_json(result)
        base, latest = result.baseline, result.latest  # every trajectory has entries
        latest_day = result.days[latest]
        improvement = result.latest_improvement
        treated = np.where(starts == NO_DAY, 0, latest_day - starts)  # days from the course start
        compared = (latest != base) & ~np.isnan(improvement) & (np.maximum(treated, 0) / 7 >= MIN_COMPARISON_WEEK)
        blocks, signals, weeks, percentiles = projector.blocks(
            scale, result.rules, patients, result.totals[base], treated, compared, improvement
        )
        response_codes, state_codes = (codes.tolist() for codes in latest_codes(result))
        latest_totals = result.totals[latest].tolist()
        latest_days = latest_day.tolist()
        improvements = improvement.tolist()
        clinic_keys = {
            c: clinic_fingerprint_key(chunk.distinct_clinics[c], scale)
            for c in np.unique(chunk.clinic_index[patients]).tolist()
        }
        clinic_of = chunk.clinic_index[patients].tolist()
        for j, (k, p) in enumerate(zip(trajectories.tolist(), patients.tolist(), strict=True)):
            digest = hashlib.sha256(fingerprint_head(course_keys[p], clinic_keys[clinic_of[j]]))
            digest.update(records[chunk_offsets[k] * width : chunk_offsets[k + 1] * width])
            x = improvements[j]
            block = blocks[j]
            yield _Outcome(
                p,
                scale,
                f'{texts[j][:-1]},"projection":{"null" if block is None else block},"course_id":{course_ids[p]}}}',
                digest.hexdigest(),
                STATES[state_codes[j]],
                signals[j] or INSUFFICIENT_DATA,
                percentiles[j],
                weeks[j],
                latest_totals[j],
                _iso_of_day(latest_days[j])[1:-1],
                None if math.isnan(x) else x,
                RESPONSES[response_codes[j]] if response_codes[j] >= 0 else None,
            )


# ---------------------------------------------------------------------------- one chunk, write


_HEX_POSITIONS = [i for i in range(36) if i not in (8, 13, 18, 23)]


def _random_uuids(n: int) -> list[str]:
    """``n`` random (version 4) UUIDs as text, made in bulk."""
    raw = np.frombuffer(os.urandom(16 * n), dtype=np.uint8).reshape(n, 16).copy()
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80
    chars = np.full((n, 36), ord("-"), dtype=np.uint8)
    hexdigits = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
    chars[:, _HEX_POSITIONS] = hexdigits[np.stack([raw >> 4, raw & 0x0F], axis=2).reshape(n, 32)]
    text = chars.tobytes().decode("ascii")
    return [text[i : i + 36] for i in range(0, 36 * n, 36)]


_SNAPSHOT_COLUMNS = (
    "id, clinic_id, patient_id, course_id, scale, state, signal, percentile, week, latest_total, latest_date,"
    " improvement, response, data, fingerprint, computed_at"
)
_NULL = "\\N"


def _copy_text(value: object) -> str:
    """A value in COPY's text format."""
    if value is None:
        return _NULL
    text = str(value)
    if "\\" in text or "\t" in text or "\n" in text or "\r" in text:
        text = text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    return text


def _copy_snapshots(chunk: _Chunk, outcomes: Iterator[_Outcome]) -> list[_Outcome]:
    """PostgreSQL: the snapshots in one COPY (text format), written in blocks: the server parses one
    while the next is computed."""
    now = timezone.now().isoformat()
    ids = iter(_random_uuids(len(chunk.patient)))
    written: list[_Outcome] = []
    clinic_text = [str(c.pk) for c in chunk.distinct_clinics]
    # Per patient, the columns that are the same for all their snapshots.
    who = [
        f"{clinic_text[c]}\t{chunk.patient_text[p]}\t{_NULL if course is None else course.text_id}"
        for p, (c, course) in enumerate(zip(chunk.clinic_index.tolist(), chunk.courses, strict=True))
    ]
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY {OutcomeSnapshot._meta.db_table} ({_SNAPSHOT_COLUMNS}) FROM STDIN") as copy,
    ):
        lines: list[str] = []
        for o in outcomes:
            written.append(o)
            lines.append(
                f"{next(ids)}\t{who[o.patient]}\t{o.scale}\t{o.state}\t{o.signal}\t{_NULL if o.percentile is None else o.percentile}\t"
                f"{_NULL if o.week is None else o.week}\t{_NULL if o.latest_total is None else o.latest_total}\t"
                f"{_NULL if o.latest_date is None else o.latest_date}\t"
                f"{_NULL if o.improvement is None else repr(o.improvement)}\t{_NULL if o.response is None else o.response}\t"
                f"{_copy_text(o.data)}\t{o.fingerprint}\t{now}\n"
            )
            if len(lines) == _COPY_BLOCK:
                copy.write("".join(lines))
                lines = []
        if lines:
            copy.write("".join(lines))
    return written


def _create_snapshots(chunk: _Chunk, outcomes: Iterator[_Outcome]) -> list[_Outcome]:
    """Other databases: bulk_create."""
    written = list(outcomes)
    snapshots = []
    for o in written:
        course = chunk.courses[o.patient]
        snapshots.append(
            OutcomeSnapshot(
                clinic=chunk.clinics[o.patient],
                patient_id=chunk.patients[o.patient],
                course_id=course.pk if course else None,
                scale=o.scale,
                data=json.loads(o.data),
                fingerprint=o.fingerprint,
                state=o.state,
                signal=o.signal,
                percentile=o.percentile,
                week=o.week,
                latest_total=o.latest_total,
                latest_date=o.latest_date,
                improvement=o.improvement,
                response=o.response,
            )
        )
    OutcomeSnapshot.objects.bulk_create(snapshots, batch_size=2000)
    return written


def _store_notices(notices: list[Notice]) -> None:
    if connection.vendor != "postgresql":
        Notice.objects.bulk_create(notices, batch_size=2000)
        return
    now = timezone.now().isoformat()
    ids = _random_uuids(len(notices))
    columns = "id, clinic_id, patient_id, kind, message, created_at"
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY {Notice._meta.db_table} ({columns}) FROM STDIN") as copy,
    ):
        copy.write(
            "".join(
                f"{pk}\t{n.clinic_id}\t{n.patient_id}\t{_copy_text(n.kind)}\t{_copy_text(n.message)}\t{now}\n"
                for pk, n in zip(ids, notices, strict=True)
            )
        )


_DELETE_STALE = (
    f"DELETE FROM {OutcomeSnapshot._meta.db_table} WHERE patient_id = ANY(string_to_array(%s, ',')::uuid[])"  # noqa: S608
    " AND (course_id = ANY(string_to_array(%s, ',')::uuid[]) OR course_id IS NULL)"
    " RETURNING patient_id, course_id, scale, signal"
)


def _delete_stale(chunk: _Chunk) -> list[tuple[Any, Any, str, str]]:
    """Delete the snapshots of the chunk's active courses and of entries without a course; return
    their ``(patient_id, course_id, scale, signal)``."""
    courses = [c.pk for c in chunk.courses if c is not None]
    if connection.vendor == "postgresql":  # one statement
        with connection.cursor() as cursor:
            cursor.execute(
                _DELETE_STALE,
                [",".join(chunk.patient_text), ",".join(c.text_id for c in chunk.courses if c is not None)],
            )
            return cursor.fetchall()
    stale = OutcomeSnapshot.objects.filter(patient_id__in=chunk.patients).filter(
        Q(course_id__in=courses) | Q(course__isnull=True)
    )
    found = list(stale.values_list("patient_id", "course_id", "scale", "signal"))
    stale.delete()
    return found


def recompute_chunk(patient_ids: Sequence[str]) -> dict[str, int]:
    """Recompute and store the active-course snapshots of these patients. Idempotent."""
    chunk = _read_chunk(patient_ids)
    return _store_chunk(chunk, _outcomes(chunk), len(patient_ids))  # written while computed


def _store_chunk(chunk: _Chunk, outcomes: Iterable[_Outcome], n_patients: int) -> dict[str, int]:
    """One transaction: the chunk's stale snapshots out, the new ones in, notices."""
    with transaction.atomic(), _gc_paused():
        # The active course's snapshots (and any from before the patient had a course) are replaced.
        previous = {(pid, cid, scale): signal for pid, cid, scale, signal in _delete_stale(chunk)}
        write = _copy_snapshots if connection.vendor == "postgresql" else _create_snapshots
        written = write(chunk, iter(outcomes))
        # A notice when the signal turns at_risk or off_track (the rule of projections.notices), in bulk.
        notices = []
        for o in written:
            if o.signal not in WORRYING_SIGNALS:
                continue
            course = chunk.courses[o.patient]
            key = (chunk.patients[o.patient], None if course is None else course.pk, o.scale)
            notice = signal_notice(
                clinic_id=chunk.clinics[o.patient].pk,
                patient_id=chunk.patients[o.patient],
                scale=o.scale,
                signal=o.signal,
                previous_signal=previous.get(key),
            )
            if notice is not None:
                notices.append(notice)
        _store_notices(notices)
    return {"patients": n_patients, "snapshots": len(written)}


# ---------------------------------------------------------------------------- every chunk


def _close_connection() -> None:
    connection.close()  # the calling thread's own


def _read_ahead(chunks: Iterator[list[str]], reader: ThreadPoolExecutor) -> Iterator[tuple[list[str], _Chunk]]:
    """Each chunk's ids and entries, the next chunk's read already under way."""
    pending: tuple[list[str], Future[_Chunk]] | None = None
    for ids in chunks:
        future = reader.submit(_read_chunk, ids)
        if pending is not None:
            yield pending[0], pending[1].result()
        pending = (ids, future)
    if pending is not None:
        yield pending[0], pending[1].result()


def _computed(chunk: _Chunk) -> list[_Outcome]:
    with _gc_paused():
        return list(_outcomes(chunk))


def recompute_all(
    *,
    clinic_id: Any = None,
    chunk_size: int = 2000,
    progress: bool = False,
    on_chunk: Callable[[dict[str, int]], None] | None = None,
) -> dict[str, int]:
    """The nightly job in this process (the ``recompute_outcomes`` command and ``seed_demo``), chunk
    by chunk with the functions of ``recompute_chunk``. On PostgreSQL, outside a transaction, as a
    pipeline on three connections: chunk i + 1 is read while chunk i is computed and chunk i - 1 is
    written (its own transaction, as always), so the server's work overlaps this process's.
    ``on_chunk`` is called with each chunk's figures once it is stored."""
    qs = Patient.objects.all()
    if clinic_id:
        qs = qs.filter(clinic_id=clinic_id)
    totals = {"patients": 0, "snapshots": 0}

    def stored(stats: dict[str, int]) -> None:
        totals["patients"] += stats["patients"]
        totals["snapshots"] += stats["snapshots"]
        bar.update(stats["patients"])
        if on_chunk is not None:
            on_chunk(stats)

    chunks = patient_chunks(clinic_id=clinic_id, chunk_size=chunk_size)
    with tqdm(total=qs.count(), unit="patient", disable=not progress) as bar:
        # A second connection would not see the rows of an open transaction: then, one at a time.
        if connection.vendor != "postgresql" or connection.in_atomic_block:
            for ids in chunks:
                stored(recompute_chunk(ids))
            return totals
        with ThreadPoolExecutor(1, "nightly-read") as reader, ThreadPoolExecutor(1, "nightly-write") as writer:
            try:
                writing: Future[dict[str, int]] | None = None
                for ids, chunk in _read_ahead(chunks, reader):
                    outcomes = _computed(chunk)
                    if writing is not None:
                        stored(writing.result())
                    writing = writer.submit(_store_chunk, chunk, outcomes, len(ids))
                if writing is not None:
                    stored(writing.result())
            finally:
                reader.submit(_close_connection).result()
                writer.submit(_close_connection).result()
    return totals
