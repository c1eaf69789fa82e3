"""Throughput of the batch path against the scalar path on synthetic data."""

from __future__ import annotations

import datetime as dt
import time

import numpy as np
import numpy.typing as npt

from scoring.batch import NO_DAY, classify_batch, date_of_day
from scoring.outcomes import Entry, classify_trajectory
from scoring.scales import get_scale

IntArray = npt.NDArray[np.int64]

#: Time budget for timing the scalar path in full; beyond it, a sample is timed.
SCALAR_BUDGET_SECONDS = 60.0
#: Trajectories timed first, to estimate the scalar path's cost.
SCALAR_PROBE = 2_000
#: Days between assessments drawn by the generator (same-day repeats and long gaps included).
_STEPS = np.array([0, 3, 4, 7, 7, 7, 7, 10, 14, 14, 15, 21, 35])

BENCH_SCALE = "bdi2"
#: Share of synthetic courses that worsen again after improving.
RELAPSING_SHARE = 0.25


def synthetic_trajectories(
    n_assessments: int, n_trajectories: int, seed: int = 0
) -> tuple[IntArray, IntArray, IntArray, IntArray]:
    """``offsets, days, totals, course_start`` of random BDI-II courses.

    Lengths vary around the mean; totals drift down from a random baseline
    with noise, so every rule (response, runs, relapses, recovery) is exercised.
    """
    rng = np.random.default_rng(seed)
    scale = get_scale(BENCH_SCALE)
    mean = n_assessments // n_trajectories
    lengths = np.full(n_trajectories, mean, dtype=np.int64)
    half = n_trajectories // 2
    swing = rng.integers(-(mean // 2), mean // 2 + 1, size=half)
    lengths[:half] += swing
    lengths[half : 2 * half] -= swing
    lengths[: n_assessments - int(lengths.sum())] += 1
    rng.shuffle(lengths)
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    trajectory = np.repeat(np.arange(n_trajectories), lengths)
    position = np.arange(n_assessments) - offsets[:-1][trajectory]

    first_day = rng.integers(19_000, 21_000, size=n_trajectories)
    steps = rng.choice(_STEPS, size=n_assessments)
    steps[position == 0] = 0
    days = first_day[trajectory] + _cumsum_within(steps, offsets)
    baseline_total = rng.integers(0, scale.total_max + 1, size=n_trajectories)
    drift = rng.uniform(0.0, 0.15, size=n_trajectories)[trajectory] * position
    # A quarter of the courses worsen again from a random position on (relapses).
    worsens = rng.random(n_trajectories) < RELAPSING_SHARE
    relapse_at = np.where(worsens, rng.integers(4, mean + 2, size=n_trajectories), n_assessments)
    setback = np.where(position >= relapse_at[trajectory], scale.relapse_min + 5, 0)
    noise = rng.normal(0.0, 4.0, size=n_assessments)
    expected = baseline_total[trajectory] * np.maximum(1.0 - drift, 0.0) + setback + noise
    totals = np.clip(np.rint(expected), 0, scale.total_max).astype(np.int64)
    course_start = np.where(rng.random(n_trajectories) < 0.8, first_day, NO_DAY)
    return offsets, days.astype(np.int64), totals, course_start.astype(np.int64)


def _cumsum_within(values: IntArray, offsets: IntArray) -> IntArray:
    """Running sums of ``values`` restarting at each trajectory."""
    total = np.cumsum(values, dtype=np.int64)
    before = np.concatenate([np.zeros(1, dtype=np.int64), total])[offsets[:-1]]
    within: IntArray = total - np.repeat(before, np.diff(offsets))
    return within


def _scalar_inputs(
    offsets: IntArray, days: IntArray, totals: IntArray, course_start: IntArray, count: int
) -> list[tuple[list[Entry], dt.date | None]]:
    courses = []
    for k in range(count):
        low, high = int(offsets[k]), int(offsets[k + 1])
        entries = [Entry(date_of_day(int(days[i])), int(totals[i]), i) for i in range(low, high)]
        start = int(course_start[k])
        courses.append((entries, None if start == NO_DAY else date_of_day(start)))
    return courses


def _time_scalar(courses: list[tuple[list[Entry], dt.date | None]]) -> float:
    began = time.perf_counter()
    for entries, start in courses:
        classify_trajectory(BENCH_SCALE, entries, course_start=start)
    return time.perf_counter() - began


def benchmark(n_assessments: int = 1_000_000, n_trajectories: int = 50_000, seed: int = 0) -> dict[str, object]:
    """Time the batch path and the scalar path on the same synthetic data.

    The scalar path is timed in full unless a probe predicts it would take
    more than a minute; then it is timed on a sample and extrapolated
    (``scalar_note`` says which).
    """
    offsets, days, totals, course_start = synthetic_trajectories(n_assessments, n_trajectories, seed)
    began = time.perf_counter()
    classify_batch(BENCH_SCALE, offsets, days, totals, course_start=course_start)
    batch_seconds = time.perf_counter() - began

    probe = min(SCALAR_PROBE, n_trajectories)
    probe_seconds = _time_scalar(_scalar_inputs(offsets, days, totals, course_start, probe))
    probe_share = int(offsets[probe]) / max(n_assessments, 1)
    predicted = probe_seconds / probe_share if probe_share else 0.0
    if predicted <= SCALAR_BUDGET_SECONDS:
        courses = _scalar_inputs(offsets, days, totals, course_start, n_trajectories)
        scalar_seconds, note = _time_scalar(courses), "timed in full"
    else:
        scalar_seconds, note = predicted, f"extrapolated from {probe} trajectories"
    return {
        "assessments": n_assessments,
        "trajectories": n_trajectories,
        "batch_seconds": batch_seconds,
        "batch_per_second": n_assessments / batch_seconds,
        "scalar_seconds": scalar_seconds,
        "scalar_per_second": n_assessments / scalar_seconds,
        "ratio": scalar_seconds / batch_seconds,
        "scalar_note": note,
    }
