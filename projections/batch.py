"""A chunk's snapshots computed at once, for the nightly job (``projections.nightly``): equal, field
for field, to what ``projections.outcomes`` computes patient by patient, built for volume:

- ``scoring.classify_batch`` classifies each scale and rule set of the chunk at once, and
  ``classification_json`` writes each outcome straight from the result's arrays (the JSON of
  ``BatchResult.classification(k).as_dict()``, without building a Classification per trajectory);
- the projection block (``compare.projection_block``) looks each curve up once per distinct input
  and computes the percentiles of every course sharing a curve model at once
  (``percentiles_at_once``);
- the outcome JSON is assembled from fragments computed once per distinct value; the
  fingerprint (``outcomes.fingerprint``) hashes the same bytes, taken from the chunk's arrays.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import replace
from functools import lru_cache, partial
from typing import Any

import numpy as np
import numpy.typing as npt

import scoring
from projections.compare import expected_curve, reference_set_for
from projections.math.model import MIN_COMPARISON_WEEK, PERCENTILE_EPS, ModelParams, improvement_cdf
from projections.math.reference_sets import Curve
from projections.math.signals import INSUFFICIENT_DATA, trajectory_signal
from projections.outcomes import ENTRY_RECORD, clinic_fingerprint_key, fingerprint_head
from projections.storage import SCALE_KEYS, Chunk, Course, IntArray, Outcome
from scoring.batch import EPOCH, NO_DAY, BatchResult
from scoring.outcomes import EVENT_TYPES, RESPONSES, STATES
from tracker.records.models import TreatmentCourse

_EPOCH_ORDINAL = EPOCH.toordinal()


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
_BOOL_JSON = {False: "false", True: "true"}


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
    in_range = result.baseline_in_remission_range.tolist()
    assessable = result.assessable.tolist()
    time_of_day = result.time_of_day.tolist()
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
            # In scoring's order (day, untimed before timed, time of day, input order); only pre_dose
            # entries from the baseline on have them.
            for i in sorted(warned[warn_lo[k] : warn_hi[k]].tolist(), key=lambda i: (days[i], time_of_day[i], i)):
                warnings.append(f'{{"type":"relapse_level_score","date":{_iso_of_day(days[i])},"total":{totals[i]}}}')
        rules = result.rules
        if rules.remission_max != remission_max[k] or rules.relapse_min != relapse_min[k]:
            rules = replace(rules, remission_max=remission_max[k], relapse_min=relapse_min[k])
        out.append(
            f'{head}"baseline":{baseline_json},"latest":{latest_json},'
            f'"first_response_date":{"null" if first[k] < 0 else _iso_of_day(days[first[k]])},'
            f'"state":{_STATE_JSON[state[k]]},"events":[{",".join(events)}],'
            f'"baseline_in_remission_range":{_BOOL_JSON[in_range[k]]},"assessable":{_BOOL_JSON[assessable[k]]},'
            f'"remission_pending_since":{"null" if pending[k] < 0 else _iso_of_day(days[pending[k]])},'
            f'"warnings":[{",".join(warnings)}],"reliable_change":{change_json}{version},'
            f'"course_start":{"null" if starts[k] == NO_DAY else _iso_of_day(starts[k])},'
            f'"rules":{_rules_json(rules)}}}'
        )
    return out


# ---------------------------------------------------------------------------- the projection block


_NO_SEVERITY = 15  # the severity code of a course without a baseline (bands are fewer)


def load_reference_sets_of(chunk: Chunk) -> None:
    """Look up now every reference set the chunk's courses compare with (a clinic's fitted set is a
    query, then cached): the outcomes are computed while the snapshots are copied in, when the
    writing connection can run no other query."""
    for p, course in enumerate(chunk.courses):
        if course is not None and course.reference_set:
            reference_set_for(
                TreatmentCourse(reference_set=course.reference_set),
                chunk.distinct_clinics[int(chunk.clinic_index[p])],
            )
    for clinic in chunk.distinct_clinics:
        reference_set_for(None, clinic)


class _Projector:
    """The projection block of every course in a chunk (``compare.projection_block``): reference
    sets and curves looked up once per distinct input, the expected percentiles once per curve
    model and day, and the percentiles of the latest improvements per curve model at once."""

    def __init__(self, chunk: Chunk) -> None:
        self._chunk = chunk
        self._references: dict[tuple[str, int], Any] = {}
        self._expected: dict[tuple[ModelParams, int], str] = {}
        # Per patient: the course's fields a curve depends on, as a small code (-1 without a course).
        keys: dict[tuple[str, int, str, bool], int] = {}
        codes = []
        self._course_of_code: list[tuple[Course, int]] = []
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

    def _reference(self, course: Course, clinic: int) -> Any:
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
        baseline_total: IntArray,
        day: IntArray,
        latest: tuple[npt.NDArray[np.bool_], npt.NDArray[np.float64]],
        previous: tuple[npt.NDArray[np.bool_], IntArray, npt.NDArray[np.float64]],
    ) -> tuple[list[str | None], list[str | None], list[int | None], list[int | None]]:
        """Per trajectory (of one scale and rule set): the block's JSON (None without a course), its
        signal, whole week and percentile. ``baseline_total``: -1 without a baseline; ``day``: days
        of treatment at the latest entry (``day_of_treatment``), -1 without one; ``latest``: whether
        the latest entry is compared (a comparable point at least ``MIN_COMPARISON_WEEK`` in) and its
        improvement; ``previous``: the same for the comparable point before it, with its day."""
        n = patients.size
        code = self.course_code[patients]
        has_course = code >= 0
        bands = _SEVERITIES[scale]
        severity_table = np.array(
            [bands.index(_severity(scale, t)) for t in range(scoring.get_scale(scale).total_max + 1)] + [_NO_SEVERITY]
        )
        severity = severity_table[baseline_total]  # -1 (no baseline): the last, no severity
        above = np.where(baseline_total > rules.remission_max, baseline_total, -1)
        key = (code * 16 + severity) * 1024 + (above + 1)
        unique, inverse = np.unique(np.where(has_course, key, -1), return_inverse=True)
        curves: list[Any] = []
        for u in unique.tolist():
            if u < 0:
                curves.append(None)
                continue
            course, clinic = self._course_of_code[u // (16 * 1024)]
            level = u % 1024 - 1
            severity_code = (u // 1024) % 16
            curves.append(expected_curve(
                self._reference(course, clinic), course, scale, rules,
                severity=None if severity_code == _NO_SEVERITY else bands[severity_code],
                baseline=level if level >= 0 else None,
            ))  # fmt: skip
        weeks = np.maximum(day, 0) / 7
        compared, improvement = latest
        previous_compared, previous_day, previous_improvement = previous
        previous_weeks = np.maximum(previous_day, 0) / 7
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
        previous_percentile = np.full(n, -1, dtype=np.int64)
        for q, curve in enumerate(model_curve):
            members = np.flatnonzero((model == q) & compared)
            if members.size:
                percentile[members] = percentiles_at_once(curve, weeks[members], improvement[members])
            members = np.flatnonzero((model == q) & compared & previous_compared)
            if members.size:
                previous_percentile[members] = percentiles_at_once(
                    curve, previous_weeks[members], previous_improvement[members]
                )
        texts: list[str | None] = [None] * n
        signals: list[str | None] = [None] * n
        whole_weeks: list[int | None] = [None] * n
        percentiles: list[int | None] = [None] * n
        day_list, week_list, inv_list = day.tolist(), weeks.tolist(), inverse.tolist()
        pct_list, previous_list = percentile.tolist(), previous_percentile.tolist()
        labels_json = [
            None
            if c is None
            else f'"reference":{_dumps(c.reference)},"reference_kind":{_dumps(c.reference_kind)},'
            f'"reference_label":{_dumps(c.reference_label)}'
            for c in curves
        ]
        for j in range(n):
            curve = curves[inv_list[j]]
            if curve is None:
                continue
            d = day_list[j]
            if d < 0:  # no latest assessment (compare_to_reference with day None)
                texts[j] = (
                    f'{{{labels_json[inv_list[j]]},"week":null,"percentile":null,'
                    f'"signal":"{INSUFFICIENT_DATA}","expected_improvement":null}}'
                )
                signals[j] = INSUFFICIENT_DATA
                continue
            expected = self._expected.get((curve.params, d))
            if expected is None:
                expected = self._expected[(curve.params, d)] = _dumps(curve.improvement_percentiles(week_list[j]))
            pct = pct_list[j] if pct_list[j] >= 0 else None
            signal = trajectory_signal(
                day=d, percentile=pct, previous_percentile=previous_list[j] if previous_list[j] >= 0 else None
            )
            whole = d // 7
            texts[j] = (
                f'{{{labels_json[inv_list[j]]},"week":{whole},"percentile":{"null" if pct is None else pct},'
                f'"signal":"{signal}","expected_improvement":{expected}}}'
            )
            signals[j], whole_weeks[j], percentiles[j] = signal, whole, pct
        return texts, signals, whole_weeks, percentiles


_SEVERITIES = {key: tuple(band.label for band in scale.bands) for key, scale in scoring.SCALES.items()}


@lru_cache(maxsize=1024)
def _severity(scale: str, total: int) -> str:
    return scoring.get_scale(scale).severity(total)


def percentiles_at_once(
    curve: Curve, weeks: npt.NDArray[np.float64], improvements: npt.NDArray[np.float64]
) -> list[int]:
    """``curve.percentile_of(week, improvement)`` for each pair, at once. Where floating point could
    tip the whole number (within 1e-7 of it), the scalar method decides."""
    cdf = improvement_cdf(curve.params, weeks, improvements)
    raw = 100.0 * cdf + PERCENTILE_EPS
    whole = np.clip(np.floor(raw), 0, 100).astype(np.int64)
    # (A cdf of exactly 0 or 1 is exact either way.)
    for i in np.flatnonzero((np.abs(raw - np.rint(raw)) < 1e-7) & (cdf > 0) & (cdf < 1)).tolist():
        whole[i] = curve.percentile_of(float(weeks[i]), float(improvements[i]))
    return whole.tolist()


# ---------------------------------------------------------------------------- a chunk's outcomes


def trajectory_fingerprints(chunk: Chunk) -> list[str]:
    """Each trajectory's fingerprint (``outcomes.fingerprint``), from the chunk's arrays alone: what
    decides whether its stored snapshot is still current, before anything is classified."""
    records = memoryview(chunk.records)
    width = ENTRY_RECORD.itemsize
    offsets = chunk.offsets.tolist()
    course_keys = [c.fingerprint_key if c else "null" for c in chunk.courses]
    clinic_keys: dict[tuple[int, int], str] = {}
    clinic_of = chunk.clinic_index.tolist()
    fingerprints = []
    for k, (p, s) in enumerate(zip(chunk.patient.tolist(), chunk.scale.tolist(), strict=True)):
        pair = (clinic_of[p], s)
        if pair not in clinic_keys:
            clinic_keys[pair] = clinic_fingerprint_key(chunk.distinct_clinics[pair[0]], SCALE_KEYS[s])
        digest = hashlib.sha256(fingerprint_head(course_keys[p], clinic_keys[pair]))
        digest.update(records[offsets[k] * width : offsets[k + 1] * width])
        fingerprints.append(digest.hexdigest())
    return fingerprints


def changed_trajectories(chunk: Chunk, fingerprints: list[str]) -> npt.NDArray[np.bool_]:
    """Per trajectory: whether its stored snapshot (``chunk.stored``) is missing or out of date."""
    stored = chunk.stored
    return np.fromiter(
        (
            stored.get((p, s)) != fp
            for p, s, fp in zip(chunk.patient.tolist(), chunk.scale.tolist(), fingerprints, strict=True)
        ),
        dtype=bool,
        count=len(fingerprints),
    )


def chunk_outcomes(
    chunk: Chunk, fingerprints: list[str], wanted: npt.NDArray[np.bool_] | None = None
) -> Iterator[Outcome]:
    """The snapshots of the ``wanted`` trajectories (all by default), one batch per scale and rule
    set (scoring's batch path; clinics may override thresholds), yielded as they are built so they
    can be written meanwhile. ``fingerprints`` are ``trajectory_fingerprints(chunk)``."""
    if wanted is None:
        wanted = np.ones(chunk.patient.size, dtype=bool)
    n_scales = len(SCALE_KEYS)
    pair = chunk.clinic_index[chunk.patient] * n_scales + chunk.scale
    groups: dict[tuple[int, str], list[int]] = defaultdict(list)  # (scale, rule set) -> (clinic, scale) pairs
    options: dict[int, scoring.Options] = {}
    for code in np.unique(pair).tolist():
        clinic, s = divmod(code, n_scales)
        options[code] = chunk.distinct_clinics[clinic].options_for(SCALE_KEYS[s])
        groups[(s, repr(options[code]))].append(code)
    projector = _Projector(chunk)
    course_ids = ["null" if c is None else f'"{c.text_id}"' for c in chunk.courses]
    start_day = np.array(
        [c.start_date.toordinal() - _EPOCH_ORDINAL if c else NO_DAY for c in chunk.courses], dtype=np.int64
    )
    for (s, _), codes in groups.items():
        scale = SCALE_KEYS[s]
        trajectories = np.flatnonzero(np.isin(pair, codes) & wanted)
        if not trajectories.size:
            continue
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
        timing, time_of_day = chunk.timing[entries], chunk.time_of_day[entries]
        result = scoring.classify_batch(
            scale,
            offsets,
            chunk.day[entries] - _EPOCH_ORDINAL,
            chunk.total[entries],
            course_start=starts,
            baseline=marked,
            options=options[codes[0]],
            timing=timing,
            time_of_day=time_of_day,
        )
        texts = classification_json(result)
        base, latest = result.baseline, result.latest  # -1 where a trajectory has no pre_dose entry
        has_latest = latest >= 0
        latest_day = np.where(has_latest, result.days[latest], 0)
        improvement = result.latest_improvement
        has_start = starts != NO_DAY
        # Days of treatment at the latest entry (compare.projection_block), -1 without one.
        day = np.where(has_latest, np.maximum(np.where(has_start, latest_day - starts, 0), 0), -1)
        baseline_total = np.where(base >= 0, result.totals[base], -1)
        compared = has_latest & result.assessable & ~np.isnan(improvement) & (day / 7 >= MIN_COMPARISON_WEEK)
        previous = _previous_points(result, timing, time_of_day, starts)
        blocks, signals, weeks, percentiles = projector.blocks(
            scale, result.rules, patients, baseline_total, day, (compared, improvement), previous
        )
        response_codes, state_codes = (codes.tolist() for codes in latest_codes(result))
        latest_totals = result.totals[latest].tolist()
        has_latest_list = has_latest.tolist()
        latest_days = latest_day.tolist()
        improvements = improvement.tolist()
        for j, (k, p) in enumerate(zip(trajectories.tolist(), patients.tolist(), strict=True)):
            x = improvements[j]
            block = blocks[j]
            yield Outcome(
                trajectory=k,
                patient=p,
                scale=scale,
                state=STATES[state_codes[j]],
                signal=signals[j] or INSUFFICIENT_DATA,
                percentile=percentiles[j],
                week=weeks[j],
                latest_total=latest_totals[j] if has_latest_list[j] else None,
                latest_date=_iso_of_day(latest_days[j])[1:-1] if has_latest_list[j] else None,
                improvement=None if math.isnan(x) else x,
                response=RESPONSES[response_codes[j]] if response_codes[j] >= 0 else None,
                data=f'{texts[j][:-1]},"projection":{"null" if block is None else block},"course_id":{course_ids[p]}}}',
                fingerprint=fingerprints[k],
            )


def _previous_points(
    result: BatchResult, timing: IntArray, time_of_day: IntArray, starts: IntArray
) -> tuple[npt.NDArray[np.bool_], IntArray, npt.NDArray[np.float64]]:
    """Per trajectory, the comparable point before the latest one (``compare.comparable_points``
    [-2]): whether there is one, its day of treatment and its improvement. It is the pre_dose entry
    before the latest in scoring's order (day, pre_dose before post_dose, untimed before timed, time
    of day, input order) when that one comes after the baseline and the baseline is not 0."""
    n = result.days.size
    k = result.n_trajectories
    trajectory = np.repeat(np.arange(k), np.diff(result.offsets))
    post = timing == scoring.TIMINGS.index(scoring.POST_DOSE)
    order = np.lexsort((np.arange(n), time_of_day, post, result.days, trajectory))
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n)
    pre = order[~post[order]]  # pre_dose entries in order
    place = np.full(n, -1, dtype=np.int64)
    place[pre] = np.arange(pre.size)
    base, latest = result.baseline, result.latest
    found = np.zeros(k, dtype=bool)
    day = np.full(k, -1, dtype=np.int64)
    improvement = np.full(k, np.nan)
    who = np.flatnonzero((latest >= 0) & result.assessable)
    at = place[latest[who]] - 1
    who, at = who[at >= 0], at[at >= 0]
    candidate = pre[at]
    b = result.totals[base[who]]
    ok = (trajectory[candidate] == who) & (rank[candidate] > rank[base[who]]) & (b != 0)
    who, candidate, b = who[ok], candidate[ok], b[ok]
    found[who] = True
    start = starts[who]
    day[who] = np.maximum(np.where(start == NO_DAY, 0, result.days[candidate] - start), 0)
    improvement[who] = (b - result.totals[candidate]) / b
    return found & (day / 7 >= MIN_COMPARISON_WEEK), day, improvement
