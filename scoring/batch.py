"""The §2 rules for many trajectories at once, vectorised with numpy.

Inputs are flat arrays in the CSR style: trajectory ``k`` is
``days[offsets[k]:offsets[k + 1]]`` and ``totals[...]`` alike.  Days are whole
days since 1970-01-01 (``day_number``).  Entries inside a trajectory may come
unsorted: they are put in the order of §2 as in the scalar path (day, pre_dose
before post_dose, untimed before timed, time of day, input order).  The rules
run over the pre_dose (and unknown-timing) entries only: post_dose entries are
set aside after the sort and get no response, state or warning.

The state machine runs one *position in trajectory* at a time, across every
trajectory at once: trajectories are ranked longest first, so that at
position ``j`` the ones still running are a prefix of the rank order and each
step works on contiguous slices.  There is no Python loop per trajectory or
per assessment.

Indices in the result are indices into the input arrays (-1 for none).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

import numpy as np
import numpy.typing as npt

from scoring.errors import ScoringError
from scoring.outcomes import (
    EVENT_TYPES,
    RESPONSES,
    STATES,
    TIMINGS,
    Classification,
    Entry,
    EventType,
    Options,
    ResponseName,
    Rules,
    Trace,
    _as_options,
    assemble_classification,
    entry_order,
)
from scoring.scales import PARTIAL, RESPONSE, Scale, get_scale

IntArray = npt.NDArray[np.int64]
_Array = TypeVar("_Array", bound=npt.NDArray[np.generic])
SmallArray = npt.NDArray[np.int8]
BoolArray = npt.NDArray[np.bool_]
FloatArray = npt.NDArray[np.float64]

EPOCH = dt.date(1970, 1, 1)
_EPOCH_ORDINAL = EPOCH.toordinal()
#: Day numbers of the first and last representable dates.
MIN_DAY = dt.date.min.toordinal() - _EPOCH_ORDINAL
MAX_DAY = dt.date.max.toordinal() - _EPOCH_ORDINAL
#: ``course_start`` value meaning "this trajectory has no course start".
NO_DAY = int(np.iinfo(np.int64).min)
#: Code of an undefined response (baseline 0) or of an entry before the baseline.
NO_CODE = -1

NOT_REMITTED, REMISSION_PENDING, REMISSION, RECOVERED = range(len(STATES))
NONE, PARTIAL_CODE, RESPONSE_CODE = range(len(RESPONSES))
#: Code of a post_dose entry in the ``timing`` array (``outcomes.TIMINGS``).
POST_DOSE_CODE = TIMINGS.index("post_dose")
#: ``time_of_day`` value of an entry without a recorded time.
NO_TIME = -1
MINUTES_PER_DAY = 24 * 60
REMISSION_EVENT, RELAPSE_EVENT, RECOVERY_EVENT, RECURRENCE_EVENT = (
    EVENT_TYPES.index(kind) for kind in ("remission", "relapse", "recovery", "recurrence")
)


def day_number(value: dt.date) -> int:
    """Days since 1970-01-01."""
    return value.toordinal() - _EPOCH_ORDINAL


def date_of_day(number: int) -> dt.date:
    """The date ``number`` days after 1970-01-01."""
    return dt.date.fromordinal(int(number) + _EPOCH_ORDINAL)


@dataclass(frozen=True)
class BatchResult:
    """Per-trajectory and per-entry results; every index is into the input arrays.

    - ``baseline``, ``latest``, ``first_response``, ``pending_since``: entry
      index per trajectory (-1 for none).
    - ``latest_improvement``: float, NaN where undefined; ``latest_response``
      and ``entry_response``: codes of ``outcomes.RESPONSES`` (-1 undefined,
      or before the baseline); ``state`` and ``entry_state``: codes of
      ``outcomes.STATES`` (``entry_state`` -1 before the baseline);
      ``entry_warning``: a single relapse-level score after remission.
    - events, sparse and in order per trajectory: ``event_trajectory``,
      ``event_type`` (codes of ``outcomes.EVENT_TYPES``), ``event_onset``,
      ``event_confirmed`` (for a recovery both are the recovery entry).
    - ``timing`` (codes of ``outcomes.TIMINGS``) and ``time_of_day`` (minutes
      after midnight, -1 for none) per entry, as given; ``baseline`` and
      ``latest`` are pre_dose entries (-1 when a trajectory has none);
      ``baseline_in_remission_range`` and ``assessable`` (a pre_dose entry
      after the baseline) per trajectory.  post_dose entries have response
      and state -1 and no warning.
    """

    scale: str
    rules: Rules
    offsets: IntArray
    days: IntArray
    totals: IntArray
    course_start: IntArray
    remission_max: IntArray
    relapse_min: IntArray
    baseline: IntArray
    latest: IntArray
    latest_improvement: FloatArray
    latest_response: SmallArray
    first_response: IntArray
    state: SmallArray
    pending_since: IntArray
    entry_response: SmallArray
    entry_state: SmallArray
    entry_warning: BoolArray
    event_trajectory: IntArray
    event_type: SmallArray
    event_onset: IntArray
    event_confirmed: IntArray
    timing: SmallArray
    time_of_day: IntArray
    baseline_in_remission_range: BoolArray
    assessable: BoolArray

    @property
    def n_trajectories(self) -> int:
        return len(self.offsets) - 1

    def classification(self, k: int, keys: Sequence[object] | None = None) -> Classification:
        """Trajectory ``k`` as the same Classification the scalar path gives.

        Entry keys are the input indices, or ``keys[index]`` when given.
        """
        return _classification(self, k, keys)


# --------------------------------------------------------------------------- input checks


def _int_array(value: object, name: str) -> IntArray:
    array = np.asarray(value)
    if array.ndim != 1 or not (array.size == 0 or np.issubdtype(array.dtype, np.integer)):
        raise ScoringError(name, "expected a one-dimensional integer array")
    return array.astype(np.int64, copy=False)


def _check_offsets(offsets: IntArray, n: int) -> None:
    if offsets.size == 0 or offsets[0] != 0 or offsets[-1] != n:
        raise ScoringError("offsets", f"must start at 0 and end at the number of entries ({n})")
    if np.any(np.diff(offsets) < 0):
        raise ScoringError("offsets", "must be non-decreasing")


def _check_range(values: IntArray, low: int, high: int, name: str) -> None:
    bad = np.flatnonzero((values < low) | (values > high))
    if bad.size:
        first = int(bad[0])
        raise ScoringError(f"{name}[{first}]", f"{values[first]} is out of range {low}-{high}")


def _per_trajectory(value: object, default: int, n: int, name: str) -> IntArray:
    if value is None:
        return np.full(n, default, dtype=np.int64)
    array = np.asarray(value)
    if array.ndim == 0:
        array = np.full(n, int(array), dtype=np.int64)
    array = _int_array(array, name)
    if array.size != n:
        raise ScoringError(name, f"expected one value per trajectory ({n})")
    return array


def _levels(
    scale: Scale, rules: Rules, remission_max: object, relapse_min: object, n: int
) -> tuple[IntArray, IntArray]:
    remission = _per_trajectory(remission_max, rules.remission_max, n, "remission_max")
    relapse = _per_trajectory(relapse_min, rules.relapse_min, n, "relapse_min")
    _check_range(remission, 0, scale.total_max, "remission_max")
    _check_range(relapse, 0, scale.total_max, "relapse_min")
    bad = np.flatnonzero(relapse <= remission)
    if bad.size:
        raise ScoringError(f"relapse_min[{int(bad[0])}]", "must be above remission_max")
    return remission, relapse


# --------------------------------------------------------------------------- the batch path


@dataclass
class _Layout:
    """The pre_dose entries in the order of §2, by trajectory, and their positions.

    post_dose entries are left out: positions count pre_dose entries only.
    """

    order: IntArray  # sorted index -> input index
    trajectory: IntArray  # per sorted entry
    position: IntArray  # per sorted entry: position inside its trajectory
    days: IntArray  # sorted
    totals: IntArray  # sorted
    starts: IntArray  # per trajectory: first sorted index
    lengths: IntArray
    n_input: int  # entries in the input, post_dose ones included


def _layout(
    offsets: IntArray, days: IntArray, totals: IntArray, within_day: IntArray | None, post: BoolArray | None
) -> _Layout:
    """``within_day`` orders entries of one day (timing, then time); ``post`` marks the
    entries the rules leave out.  Either is None when every entry is untimed pre_dose."""
    n = days.size
    lengths = np.diff(offsets)
    trajectory = np.repeat(np.arange(lengths.size, dtype=np.int64), lengths)
    same = trajectory[1:] == trajectory[:-1]
    later = days[1:] < days[:-1]
    if within_day is not None:
        later |= (days[1:] == days[:-1]) & (within_day[1:] < within_day[:-1])
    unsorted = bool(np.any(same & later))
    order = _sort_order(trajectory, days, within_day) if unsorted else np.arange(n, dtype=np.int64)
    if post is not None and post.any():
        order = order[~post[order]]
        trajectory = trajectory[order]
        lengths = np.bincount(trajectory, minlength=lengths.size).astype(np.int64)
        starts = np.concatenate([np.zeros(1, dtype=np.int64), np.cumsum(lengths)[:-1]])
    else:
        starts = offsets[:-1]  # the sort keeps every entry inside its trajectory's block
    position = np.arange(order.size, dtype=np.int64) - np.repeat(starts, lengths)
    return _Layout(order, trajectory, position, days[order], totals[order], starts, lengths, n)


def _sort_order(trajectory: IntArray, days: IntArray, within_day: IntArray | None) -> IntArray:
    """Stable order by trajectory, day and ``within_day``: one int64 key when it fits."""
    span = int(days.max() - days.min()) + 1
    width = 1 if within_day is None else int(within_day.max()) + 1
    if (int(trajectory[-1]) + 1) * span * width < 2**62:
        key = trajectory * span + (days - days.min())
        if within_day is not None:
            key = key * width + within_day
        return np.argsort(key, kind="stable")
    keys = (days,) if within_day is None else (within_day, days)
    return np.lexsort((*keys, trajectory))


def _baseline_positions(lay: _Layout, course_start: IntArray, window: int, marked: IntArray) -> IntArray:
    """Position of each trajectory's baseline among its pre_dose entries (-1 for none)."""
    nonempty = lay.lengths > 0
    on_or_before = lay.days <= course_start[lay.trajectory]
    count = np.bincount(lay.trajectory[on_or_before], minlength=lay.lengths.size)
    last = count - 1
    found = np.flatnonzero((course_start != NO_DAY) & (count > 0))
    in_window = found[lay.days[lay.starts[found] + last[found]] >= course_start[found] - window]
    base = np.where(nonempty, 0, -1)
    base[in_window] = last[in_window]
    has_mark = np.flatnonzero(marked >= 0)
    if has_mark.size:
        inverse = np.full(lay.n_input, -1, dtype=np.int64)
        inverse[lay.order] = np.arange(lay.order.size, dtype=np.int64)
        base[has_mark] = inverse[marked[has_mark]] - lay.starts[has_mark]
    return base


def _input_index(lay: _Layout, trajectory: IntArray, position: IntArray) -> IntArray:
    """Input index of each (trajectory, position) pair; position -1 gives -1."""
    index = np.full(position.shape, -1, dtype=np.int64)
    valid = position >= 0
    index[valid] = lay.order[lay.starts[trajectory[valid]] + position[valid]]
    return index


def _check_marked(marked: IntArray, offsets: IntArray, post: BoolArray | None) -> None:
    has_mark = marked >= 0
    outside = has_mark & ((marked < offsets[:-1]) | (marked >= offsets[1:]))
    bad = np.flatnonzero(outside)
    if bad.size:
        first = int(bad[0])
        raise ScoringError(f"baseline[{first}]", f"entry {marked[first]} is not in trajectory {first}")
    if post is not None:
        marks = np.flatnonzero(has_mark)
        bad = marks[post[marked[marks]]]
        if bad.size:
            first = int(bad[0])
            raise ScoringError(f"baseline[{first}]", f"entry {marked[first]} is post_dose: it cannot be the baseline")


def _timing_codes(value: object, n: int) -> SmallArray | None:
    if value is None:
        return None
    array = np.asarray(value)
    if array.dtype == np.bool_:
        array = array.astype(np.int64)
    codes = _int_array(array, "timing")
    if codes.size != n:
        raise ScoringError("timing", f"expected {n} timings, one per entry")
    _check_range(codes, 0, len(TIMINGS) - 1, "timing")
    return codes.astype(np.int8)


def _times(value: object, n: int) -> IntArray | None:
    if value is None:
        return None
    times = _int_array(value, "time_of_day")
    if times.size != n:
        raise ScoringError("time_of_day", f"expected {n} times, one per entry")
    _check_range(times, NO_TIME, MINUTES_PER_DAY - 1, "time_of_day")
    return times


def _responses(lay: _Layout, base: IntArray) -> tuple[SmallArray, IntArray]:
    """Response code of each sorted entry, and each trajectory's baseline total.

    The comparisons are the exact ones of the scalar path in integers:
    ``(b - s) / b >= p / q``  is  ``(b - s) * q >= p * b`` for ``b > 0``.
    """
    baseline_total = np.zeros(lay.lengths.size, dtype=np.int64)
    nonempty = np.flatnonzero(base >= 0)
    baseline_total[nonempty] = lay.totals[lay.starts[nonempty] + base[nonempty]]
    b = baseline_total[lay.trajectory]
    gain = b - lay.totals
    code = np.full(lay.totals.size, NONE, dtype=np.int8)
    code[gain * PARTIAL.denominator > PARTIAL.numerator * b] = PARTIAL_CODE
    code[gain * RESPONSE.denominator >= RESPONSE.numerator * b] = RESPONSE_CODE
    code[(b == 0) | (lay.position <= base[lay.trajectory])] = NO_CODE  # the baseline has none
    return code, baseline_total


def _first_response(lay: _Layout, response: SmallArray) -> IntArray:
    """Input index of each trajectory's first ``response``, else -1."""
    hits = np.flatnonzero(response == RESPONSE_CODE)  # sorted, so grouped by trajectory
    first = np.full(lay.lengths.size, -1, dtype=np.int64)
    if hits.size:
        owner = lay.trajectory[hits]
        leading = np.ones(hits.size, dtype=bool)
        leading[1:] = owner[1:] != owner[:-1]
        first[owner[leading]] = lay.order[hits[leading]]
    return first


@dataclass
class _Grid:
    """Days and totals as (position, trajectory) grids, trajectories ranked
    longest first: at position ``j`` the rows ``[:active[j]]`` are running."""

    days: IntArray
    totals: IntArray
    active: IntArray
    base: IntArray  # per ranked trajectory: baseline position
    remission_max: IntArray  # per ranked trajectory
    relapse_min: IntArray  # per ranked trajectory
    rank_order: IntArray  # rank -> trajectory
    rank: IntArray  # trajectory -> rank

    @classmethod
    def of(cls, lay: _Layout, base: IntArray, remission: IntArray, relapse: IntArray) -> _Grid:
        n_traj = lay.lengths.size
        rank_order = np.argsort(-lay.lengths, kind="stable")
        rank = np.empty_like(rank_order)
        rank[rank_order] = np.arange(n_traj, dtype=np.int64)
        longest = int(lay.lengths.max()) if n_traj else 0
        active = np.searchsorted(-lay.lengths[rank_order], -np.arange(longest), side="left")
        days = np.zeros((longest, n_traj), dtype=np.int64)
        totals = np.zeros((longest, n_traj), dtype=np.int64)
        cell = (lay.position, rank[lay.trajectory])
        days[cell] = lay.days
        totals[cell] = lay.totals
        return cls(
            days, totals, active, base[rank_order], remission[rank_order], relapse[rank_order],
            rank_order, rank,
        )  # fmt: skip


@dataclass
class _Machine:
    """State of every ranked trajectory and what the rules recorded."""

    phase: SmallArray
    run_start: IntArray  # position where the current remission run started
    run_day: IntArray  # its day
    clock_day: IntArray  # day the recovery clock (re)started
    clock_stopped: BoolArray  # a long gap stopped the clock until the next in-range score
    watch: IntArray  # position of an open relapse watch's onset, or -1
    watch_day: IntArray  # its day
    states: SmallArray  # (position, rank): state after each entry, -1 before the baseline
    warnings: BoolArray  # (position, rank): a relapse-level score no relapse confirmed
    events: list[tuple[IntArray, IntArray, IntArray, IntArray]]  # rank, type, onset, confirmed

    @classmethod
    def empty(cls, n_traj: int, longest: int) -> _Machine:
        return cls(
            phase=np.zeros(n_traj, dtype=np.int8),
            run_start=np.zeros(n_traj, dtype=np.int64),
            run_day=np.zeros(n_traj, dtype=np.int64),
            clock_day=np.zeros(n_traj, dtype=np.int64),
            clock_stopped=np.zeros(n_traj, dtype=bool),
            watch=np.full(n_traj, -1, dtype=np.int64),
            watch_day=np.zeros(n_traj, dtype=np.int64),
            states=np.full((longest, n_traj), NO_CODE, dtype=np.int8),
            warnings=np.zeros((longest, n_traj), dtype=bool),
            events=[],
        )

    def record(self, kind: npt.ArrayLike, rows: BoolArray, onset: IntArray | np.int64, j: int) -> None:
        where = np.flatnonzero(rows)
        if where.size:
            kinds = np.broadcast_to(np.asarray(kind, dtype=np.int64), rows.shape)[where]
            onsets = np.broadcast_to(onset, rows.shape)[where]
            self.events.append((where, kinds, onsets, np.full(where.size, j, dtype=np.int64)))


def _run_machine(rules: Rules, grid: _Grid) -> _Machine:
    """The §2 state machine, one position at a time across all trajectories."""
    longest, n_traj = grid.days.shape
    machine = _Machine.empty(n_traj, longest)
    for j in range(longest):
        _step(machine, rules, grid, j)
    still_open = np.flatnonzero(machine.watch >= 0)  # a trailing watch is a warning so far
    machine.warnings[machine.watch[still_open], still_open] = True
    return machine


def _step(m: _Machine, rules: Rules, grid: _Grid, j: int) -> None:
    """Feed position ``j`` of every running trajectory to the machine.

    Mirrors ``outcomes._Course.step`` case by case.
    """
    a = int(grid.active[j])
    day, total, phase = grid.days[j, :a], grid.totals[j, :a], m.phase[:a]
    base = grid.base[:a]
    seen = base <= j
    in_range = total <= grid.remission_max[:a]
    high_score = total >= grid.relapse_min[:a]
    pending = phase == REMISSION_PENDING
    watching = phase >= REMISSION
    gap = day - grid.days[j - 1, :a] if j else np.zeros(a, dtype=np.int64)
    long_gap = gap > rules.recovery_max_gap_days
    # The baseline cannot start a run; a gap over max_gap_days restarts one.
    start = ((base < j) & (phase == NOT_REMITTED) & in_range) | (pending & in_range & (gap > rules.max_gap_days))

    # After remission: a high score opens a watch; one relapse_min_days_apart later with
    # none below in between confirms a relapse (or recurrence); a lower score closes it.
    watch = m.watch[:a]
    is_open = watch >= 0
    opens = watching & high_score & ~is_open
    relapse = watching & high_score & is_open & (day - m.watch_day[:a] >= rules.relapse_min_days_apart)
    closes = watching & ~high_score & is_open
    m.record(np.where(phase == REMISSION, RELAPSE_EVENT, RECURRENCE_EVENT), relapse, watch, j)
    closed = np.flatnonzero(closes)
    m.warnings[watch[closed], closed] = True
    m.watch[:a] = np.where(opens, j, np.where(relapse | closes, -1, watch))
    m.watch_day[:a] = np.where(opens, day, m.watch_day[:a])

    # The recovery clock: a long gap stops it, the next in-range score restarts it.
    remitted = (phase == REMISSION) & ~relapse
    stopped = m.clock_stopped[:a] | (remitted & long_gap)
    restart = (remitted & in_range & stopped) | start | (pending & in_range & long_gap)
    clock_day = np.where(restart, day, m.clock_day[:a])
    stopped &= ~restart
    recover = remitted & in_range & ~stopped & (day - clock_day >= rules.recovery_days)
    m.record(RECOVERY_EVENT, recover, np.int64(j), j)

    new_phase = phase.copy()
    new_phase[start] = REMISSION_PENDING
    new_phase[pending & ~in_range] = NOT_REMITTED
    new_phase[relapse] = NOT_REMITTED
    new_phase[recover] = RECOVERED
    m.run_start[:a] = np.where(start, j, m.run_start[:a])
    m.run_day[:a] = run_day = np.where(start, day, m.run_day[:a])

    # A run of in-range scores lasting sustain_days confirms remission from its start.
    confirm = (new_phase == REMISSION_PENDING) & (day - run_day >= rules.sustain_days)
    m.record(REMISSION_EVENT, confirm, m.run_start[:a], j)
    new_phase[confirm] = REMISSION
    recover_now = confirm & ~stopped & (day - clock_day >= rules.recovery_days)
    m.record(RECOVERY_EVENT, recover_now, np.int64(j), j)
    new_phase[recover_now] = RECOVERED

    m.clock_day[:a] = clock_day
    m.clock_stopped[:a] = stopped
    m.phase[:a] = new_phase
    m.states[j, :a] = np.where(seen, new_phase, NO_CODE)


@dataclass(frozen=True)
class _Latest:
    index: IntArray
    improvement: FloatArray
    response: SmallArray


def _latest(lay: _Layout, response: SmallArray, baseline_total: IntArray) -> _Latest:
    """Each trajectory's last entry, its improvement (NaN if undefined) and response."""
    n_traj = lay.lengths.size
    last = lay.lengths - 1  # -1 for an empty trajectory
    latest_response = np.full(n_traj, NO_CODE, dtype=np.int8)
    improvement = np.full(n_traj, np.nan)
    nonempty = np.flatnonzero(last >= 0)
    latest_response[nonempty] = response[lay.starts[nonempty] + last[nonempty]]
    defined = nonempty[baseline_total[nonempty] > 0]
    b = baseline_total[defined]
    # Both integers are exact in float64, so this is the correctly rounded
    # quotient, equal to float(Fraction(b - s, b)).
    improvement[defined] = (b - lay.totals[lay.starts[defined] + last[defined]]) / b
    everyone = np.arange(n_traj, dtype=np.int64)
    return _Latest(_input_index(lay, everyone, last), improvement, latest_response)


def _in_input_order(lay: _Layout, values: _Array, fill: object) -> _Array:
    """Per sorted entry ``values`` rearranged to the input order; ``fill`` for post_dose entries."""
    result: _Array = np.empty_like(values, shape=lay.n_input)
    if lay.order.size < lay.n_input:
        result.fill(fill)
    result[lay.order] = values
    return result


def _events(lay: _Layout, machine: _Machine, rank_order: IntArray) -> tuple[IntArray, SmallArray, IntArray, IntArray]:
    """Trajectory, type, onset and confirmed entry of each event, in order per trajectory."""
    if not machine.events:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty.astype(np.int8), empty, empty
    ranks, kinds, onsets, confirmed = (np.concatenate(part) for part in zip(*machine.events, strict=True))
    trajectory = rank_order[ranks]
    order = np.argsort(trajectory, kind="stable")  # recorded in time order already
    trajectory = trajectory[order]
    return (
        trajectory,
        kinds[order].astype(np.int8),
        _input_index(lay, trajectory, onsets[order]),
        _input_index(lay, trajectory, confirmed[order]),
    )


def classify_batch(
    scale_key: str,
    offsets: npt.ArrayLike,
    days: npt.ArrayLike,
    totals: npt.ArrayLike,
    *,
    course_start: npt.ArrayLike | None = None,
    baseline: npt.ArrayLike | None = None,
    options: Options | Mapping[str, object] | None = None,
    remission_max: npt.ArrayLike | None = None,
    relapse_min: npt.ArrayLike | None = None,
    timing: npt.ArrayLike | None = None,
    time_of_day: npt.ArrayLike | None = None,
) -> BatchResult:
    """Classify many trajectories of one scale at once (same rules as the scalar path).

    ``course_start`` (day numbers, ``NO_DAY`` for none) and ``baseline`` (a
    clinician-marked entry index, -1 for none; never a post_dose entry) are
    per trajectory; ``remission_max``/``relapse_min`` per trajectory override
    the options.  Per entry, ``timing`` holds codes of ``outcomes.TIMINGS``
    (0 unknown, 1 post_dose, 2 pre_dose; a boolean post_dose array will do)
    and ``time_of_day`` minutes after midnight (-1 for none); without them
    every entry is an untimed pre_dose one, as in version 1.
    """
    scale = get_scale(scale_key)
    rules = _as_options(options).resolve(scale)
    day_array, total_array = _int_array(days, "days"), _int_array(totals, "totals")
    n = day_array.size
    if total_array.size != n:
        raise ScoringError("totals", f"expected {n} totals, one per day")
    offset_array = _int_array(offsets, "offsets")
    _check_offsets(offset_array, n)
    _check_range(total_array, 0, scale.total_max, "totals")
    _check_range(day_array, MIN_DAY, MAX_DAY, "days")
    n_traj = offset_array.size - 1
    start_days = _per_trajectory(course_start, NO_DAY, n_traj, "course_start")
    marked = _per_trajectory(baseline, -1, n_traj, "baseline")
    timing_codes, times = _timing_codes(timing, n), _times(time_of_day, n)
    post = None if timing_codes is None else timing_codes == POST_DOSE_CODE
    _check_marked(marked, offset_array, post)
    remission, relapse = _levels(scale, rules, remission_max, relapse_min, n_traj)

    within_day = None
    if post is not None or times is not None:
        within_day = np.zeros(n, dtype=np.int64) if times is None else times + 1
        if post is not None:
            within_day += post * (MINUTES_PER_DAY + 1)
    lay = _layout(offset_array, day_array, total_array, within_day, post)
    base = _baseline_positions(lay, start_days, rules.baseline_window_days, marked)
    response, baseline_total = _responses(lay, base)
    grid = _Grid.of(lay, base, remission, relapse)
    machine = _run_machine(rules, grid)
    latest = _latest(lay, response, baseline_total)
    state = machine.phase[grid.rank]
    pending = np.where(state == REMISSION_PENDING, machine.run_start[grid.rank], -1)
    cell = (lay.position, grid.rank[lay.trajectory])
    everyone = np.arange(n_traj, dtype=np.int64)
    event_trajectory, event_type, event_onset, event_confirmed = _events(lay, machine, grid.rank_order)
    has_baseline = base >= 0
    return BatchResult(
        scale=scale.key,
        rules=rules,
        offsets=offset_array,
        days=day_array,
        totals=total_array,
        course_start=start_days,
        remission_max=remission,
        relapse_min=relapse,
        baseline=_input_index(lay, everyone, base),
        latest=latest.index,
        latest_improvement=latest.improvement,
        latest_response=latest.response,
        first_response=_first_response(lay, response),
        state=state,
        pending_since=_input_index(lay, everyone, pending),
        entry_response=_in_input_order(lay, response, NO_CODE),
        entry_state=_in_input_order(lay, machine.states[cell], NO_CODE),
        entry_warning=_in_input_order(lay, machine.warnings[cell], False),
        event_trajectory=event_trajectory,
        event_type=event_type,
        event_onset=event_onset,
        event_confirmed=event_confirmed,
        timing=np.zeros(n, dtype=np.int8) if timing_codes is None else timing_codes,
        time_of_day=np.full(n, NO_TIME, dtype=np.int64) if times is None else times,
        baseline_in_remission_range=has_baseline & (baseline_total <= remission),
        assessable=has_baseline & (lay.lengths - base > 1),
    )


# --------------------------------------------------------------------------- back to one Classification


def _classification(result: BatchResult, k: int, keys: Sequence[object] | None) -> Classification:
    scale = get_scale(result.scale)
    rules = dataclasses.replace(
        result.rules,
        remission_max=int(result.remission_max[k]),
        relapse_min=int(result.relapse_min[k]),
    )
    low, high = int(result.offsets[k]), int(result.offsets[k + 1])
    entries = {i: _entry(result, keys, i) for i in range(low, high)}
    inputs = sorted(entries, key=lambda i: entry_order(i, entries[i]))
    ordered = [(i - low, entries[i]) for i in inputs]
    marked = int(result.baseline[k])
    base = inputs.index(marked) if marked >= 0 else len(inputs)
    seen = [i for i in inputs[base:] if not entries[i].post_dose]
    where = {entry: position for position, entry in enumerate(seen)}
    events = np.flatnonzero(result.event_trajectory == k)
    trace = Trace(
        responses=[_response(result.entry_response[i]) for i in seen],
        states=[STATES[int(result.entry_state[i])] for i in seen],
        events=[_event(result, int(e), where) for e in events],
        warnings=[where[i] for i in seen if result.entry_warning[i]],
        pending_since=_position(where, result.pending_since[k]),
        first_response=_position(where, result.first_response[k]),
    )
    start = int(result.course_start[k])
    course_start = None if start == NO_DAY else date_of_day(start)
    return assemble_classification(scale, rules, ordered, base, trace, course_start)


def _key(keys: Sequence[object] | None, index: int) -> object:
    return index if keys is None else keys[index]


def _entry(result: BatchResult, keys: Sequence[object] | None, i: int) -> Entry:
    minutes = int(result.time_of_day[i])
    return Entry(
        date_of_day(int(result.days[i])),
        int(result.totals[i]),
        _key(keys, i),
        TIMINGS[int(result.timing[i])],
        None if minutes == NO_TIME else dt.time(minutes // 60, minutes % 60),
    )


def _response(code: np.integer) -> ResponseName | None:
    return None if code < 0 else RESPONSES[int(code)]


def _position(where: dict[int, int], index: np.integer) -> int | None:
    return None if index < 0 else where[int(index)]


def _event(result: BatchResult, e: int, where: dict[int, int]) -> tuple[EventType, int, int]:
    kind = EVENT_TYPES[int(result.event_type[e])]
    return kind, where[int(result.event_onset[e])], where[int(result.event_confirmed[e])]
