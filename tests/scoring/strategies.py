"""Hypothesis strategies: random trajectories that hit every rule."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from hypothesis import strategies as st

from scoring import SCALES, Classification, Entry, Options, Scale, classify_trajectory, get_scale
from scoring.outcomes import TimingName
from tests.scoring.helpers import day

#: Day steps that land on and around every edge: same day, 4/5 days apart, 14/15-day
#: gaps, 20/21 days, 35/36-day gaps.
STEPS = [0, 0, 1, 3, 4, 5, 6, 7, 7, 7, 13, 14, 15, 20, 21, 30, 35, 36, 60]
#: Timings, unknown and pre_dose more often than post_dose.
TIMING_CHOICES: list[TimingName | None] = [None, None, "pre_dose", "pre_dose", "post_dose"]


@dataclass(frozen=True)
class Course:
    entries: list[Entry]
    course_start: dt.date | None
    baseline_key: int | None


def levels(options: Options, scale: Scale) -> tuple[int, int]:
    remission = scale.remission_max if options.remission_max is None else options.remission_max
    relapse = scale.relapse_min if options.relapse_min is None else options.relapse_min
    return remission, relapse


@st.composite
def options_for(draw: st.DrawFn, key: str, *, keep_order_of_events: bool = False) -> Options:
    """Settings, often the defaults; with ``keep_order_of_events`` a remission
    can neither be confirmed on its first score nor recover on its confirmation."""
    scale = get_scale(key)
    remission = relapse = None
    if draw(st.booleans()):
        remission = draw(st.integers(0, scale.total_max - 1))
        relapse = draw(st.integers(remission + 1, scale.total_max))
    sustain = draw(st.just(21) | st.integers(1 if keep_order_of_events else 0, 30))
    gap = draw(st.just(14) | st.integers(0, 20))
    low_recovery = sustain + gap if keep_order_of_events else 0
    near_sustain = st.sampled_from([max(sustain, low_recovery), sustain + 7 + low_recovery])
    recovery = draw(st.just(max(120, low_recovery)) | st.integers(low_recovery, 150) | near_sustain)
    window = draw(st.just(30) | st.integers(0, 40))
    apart = draw(st.just(5) | st.integers(0, 8))
    recovery_gap = draw(st.just(35) | st.integers(0, 40))
    return Options(remission, relapse, sustain, gap, recovery, window, apart, recovery_gap)


def scores(scale: Scale, options: Options) -> st.SearchStrategy[int]:
    remission, relapse = levels(options, scale)
    return st.one_of(
        st.integers(0, remission),
        st.integers(relapse, scale.total_max),
        st.integers(0, scale.total_max),
        st.sampled_from([0, remission, remission + 1, relapse - 1, relapse]),
    )


@st.composite
def courses(
    draw: st.DrawFn,
    key: str,
    options: Options,
    *,
    max_size: int = 14,
    key_offset: int = 0,
    distinct_dates: bool = False,
    with_timing: bool = True,
) -> Course:
    scale = get_scale(key)
    size = draw(st.integers(0, max_size))
    steps = draw(st.lists(st.sampled_from(STEPS), min_size=size, max_size=size))
    days = []
    now = draw(st.integers(-10, 10))
    for step in steps:
        now += max(step, 1) if distinct_dates else step
        days.append(now)
    totals = draw(st.lists(scores(scale, options), min_size=size, max_size=size))
    timings = [None] * size
    times: list[dt.time | None] = [None] * size
    if with_timing:
        timings = draw(st.lists(st.sampled_from(TIMING_CHOICES), min_size=size, max_size=size))
        times = draw(st.lists(st.none() | st.builds(dt.time, st.integers(0, 23), st.sampled_from([0, 30, 59])),
                              min_size=size, max_size=size))  # fmt: skip
    rows = draw(st.permutations(list(zip(days, totals, timings, times, strict=True))))
    entries = [Entry(day(d), t, key_offset + i, timing, time) for i, (d, t, timing, time) in enumerate(rows)]
    course_start = None
    if size and draw(st.booleans()):
        # Often exactly at, or one day past, the edge of the baseline window.
        edge = draw(st.sampled_from(days)) + options.baseline_window_days + draw(st.integers(0, 1))
        course_start = day(draw(st.integers(min(days) - 45, max(days) + 5) | st.just(edge)))
    baseline_key = None
    markable = [entry.key for entry in entries if not entry.post_dose]
    if markable and draw(st.integers(0, 4)) == 0:
        baseline_key = draw(st.sampled_from(markable))
    return Course(entries, course_start, baseline_key)


scale_keys = st.sampled_from(sorted(SCALES))


def classify_course(key: str, course: Course, options: Options) -> Classification:
    """The scalar path on a generated course (the reference the batch path and properties test against)."""
    return classify_trajectory(
        key,
        course.entries,
        course_start=course.course_start,
        baseline_key=course.baseline_key,
        options=options,
    )
