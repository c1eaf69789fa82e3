"""The numpy batch path gives exactly what the scalar path gives."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from benchmarks.scoring import benchmark, synthetic_trajectories
from scoring import (
    EVENT_TYPES,
    RESPONSES,
    STATES,
    TIMINGS,
    Entry,
    Options,
    ScoringError,
    classify_batch,
    classify_trajectory,
    date_of_day,
    day_number,
    get_scale,
)
from scoring.batch import NO_DAY
from tests.scoring.helpers import WORKED_EXAMPLE, day, entries
from tests.scoring.strategies import Course, classify_course, courses, options_for, scale_keys


def batch_inputs(course_list: list[Course]) -> dict[str, object]:
    lengths = [len(c.entries) for c in course_list]
    return {
        "offsets": np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64),
        "days": np.array([day_number(e.date) for c in course_list for e in c.entries], dtype=np.int64),
        "totals": np.array([e.total for c in course_list for e in c.entries], dtype=np.int64),
        "course_start": np.array(
            [NO_DAY if c.course_start is None else day_number(c.course_start) for c in course_list],
            dtype=np.int64,
        ),
        "baseline": np.array([-1 if c.baseline_key is None else c.baseline_key for c in course_list], dtype=np.int64),
        "timing": np.array([TIMINGS.index(e.timing) for c in course_list for e in c.entries], dtype=np.int8),
        "time_of_day": np.array(
            [-1 if e.time is None else e.time.hour * 60 + e.time.minute for c in course_list for e in c.entries],
            dtype=np.int64,
        ),
    }


def assert_same(key: str, course_list: list[Course], options_list: list[Options], result) -> None:  # type: ignore[no-untyped-def]
    for k, (course, options) in enumerate(zip(course_list, options_list, strict=True)):
        expected = classify_course(key, course, options)
        got = result.classification(k)
        assert got == expected
        assert got.as_dict() == expected.as_dict()
        if expected.improvement is None:
            assert math.isnan(result.latest_improvement[k])
        else:
            assert result.latest_improvement[k] == float(expected.improvement)
        code = int(result.latest_response[k])
        assert (None if code < 0 else RESPONSES[code]) == expected.response
        assert STATES[int(result.state[k])] == expected.state
        assert [EVENT_TYPES[t] for t in result.event_type[result.event_trajectory == k]] == [
            e.type for e in expected.events
        ]


@st.composite
def batches(draw: st.DrawFn) -> tuple[str, Options, list[Course], list[Options], dict[str, object]]:
    key = draw(scale_keys)
    options = draw(options_for(key))
    n = draw(st.integers(1, 6))
    course_list: list[Course] = []
    for _ in range(n):
        offset = sum(len(c.entries) for c in course_list)
        course_list.append(draw(courses(key, options, key_offset=offset)))
    extra: dict[str, object] = {}
    options_list = [options] * n
    if draw(st.booleans()):  # per-trajectory levels, as for clinics with different settings
        scale = get_scale(key)
        remission = [draw(st.integers(0, scale.total_max - 1)) for _ in range(n)]
        relapse = [draw(st.integers(r + 1, scale.total_max)) for r in remission]
        extra = {"remission_max": np.array(remission), "relapse_min": np.array(relapse)}
        options_list = [
            Options(r, p, options.sustain_days, options.max_gap_days, options.recovery_days,
                    options.baseline_window_days, options.relapse_min_days_apart, options.recovery_max_gap_days)
            for r, p in zip(remission, relapse, strict=True)
        ]  # fmt: skip
    return key, options, course_list, options_list, extra


@settings(max_examples=200, deadline=None)
@given(batches())
def test_batch_equals_scalar(case: tuple[str, Options, list[Course], list[Options], dict[str, object]]) -> None:
    key, options, course_list, options_list, extra = case
    inputs = batch_inputs(course_list)
    result = classify_batch(key, options=options, **inputs, **extra)  # type: ignore[arg-type]
    assert_same(key, course_list, options_list, result)


def test_worked_example_in_a_batch_with_others() -> None:
    worked = entries(*WORKED_EXAMPLE)
    shuffled_relapse = entries((35, 20), (0, 40), (28, 5), (7, 5), (42, 20), (14, 5), (21, 5))
    course_list = [
        Course([], None, None),
        Course(worked, day(0), None),
        Course([Entry(e.date, e.total, 10 + i) for i, e in enumerate(shuffled_relapse)], None, None),
    ]
    options = Options()
    result = classify_batch("bdi2", **batch_inputs(course_list))  # type: ignore[arg-type]
    assert_same("bdi2", course_list, [options] * 3, result)
    assert result.classification(1).as_dict()["events"] == [
        {"type": "remission", "onset": "2026-02-09", "confirmed": "2026-03-02"}
    ]
    assert [EVENT_TYPES[t] for t in result.event_type] == ["remission", "remission", "relapse"]
    assert list(result.baseline) == [-1, 0, 11]
    assert result.first_response[1] == 5
    assert result.latest_improvement[1] == 0.9375


# Hand-picked edges of §2, each as (scale, (day, total) pairs, course start day, options).
EDGES: list[tuple[str, list[tuple[int, int]], int | None, Options]] = [
    ("bdi2", [(0, 40), (10, 30), (50, 15)], 40, Options()),  # baseline 30 days before start
    ("bdi2", [(0, 40), (10, 30), (50, 15)], 41, Options()),  # 31 days: first entry
    ("bdi2", [(0, 40), (7, 10), (21, 10), (27, 10)], None, Options()),  # 20 days: pending
    ("bdi2", [(0, 40), (7, 10), (21, 10), (28, 10)], None, Options()),  # 21 days, 14-day gap
    ("bdi2", [(0, 40), (7, 10), (22, 10), (29, 10)], None, Options()),  # 15-day gap
    ("bdi2", [(0, 40), (7, 10), (7, 14), (14, 10), (28, 10), (35, 10)], None, Options()),
    ("bdi2", [(0, 40), (7, 5), (14, 5), (21, 5), (28, 5)], None, Options(recovery_days=21)),
    ("bdi2", [(0, 40), (7, 5), (14, 5), (21, 5), (28, 5), (126, 5), (127, 5)], None, Options()),
    ("bdi2", [(0, 40), (7, 5), (14, 5), (21, 5), (28, 5), (35, 20), (42, 20)], None, Options()),
    ("phq9", [(0, 20), (7, 10), (14, 15), (21, 0)], 0, Options()),  # exactly 50 % and 25 %
    ("madrs", [(0, 34), (7, 12), (14, 12), (21, 12), (28, 12)], None, Options(remission_max=12)),
    ("hamd17", [(0, 0), (7, 0), (14, 3)], None, Options()),  # baseline 0
]


@pytest.mark.parametrize(("key", "pairs", "start", "options"), EDGES)
def test_batch_equals_scalar_at_the_edges(
    key: str, pairs: list[tuple[int, int]], start: int | None, options: Options
) -> None:
    course = Course(entries(*pairs), None if start is None else day(start), None)
    result = classify_batch(key, options=options, **batch_inputs([course]))  # type: ignore[arg-type]
    assert_same(key, [course], [options], result)


def test_synthetic_benchmark_data_matches_scalar() -> None:
    offsets, days, totals, course_start = synthetic_trajectories(6_000, 300, seed=3)
    result = classify_batch("bdi2", offsets, days, totals, course_start=course_start)
    assert {EVENT_TYPES[t] for t in result.event_type} >= {"remission", "relapse", "recovery"}
    for k in range(300):
        low, high = offsets[k], offsets[k + 1]
        course_entries = [Entry(date_of_day(int(days[i])), int(totals[i]), i) for i in range(low, high)]
        start = None if course_start[k] == NO_DAY else date_of_day(int(course_start[k]))
        expected = classify_trajectory("bdi2", course_entries, course_start=start)
        assert result.classification(k) == expected


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"offsets": [0, 3], "days": [1, 2], "totals": [1, 2]}, "offsets"),
        ({"offsets": [0, 2, 1], "days": [1, 2], "totals": [1, 2]}, "offsets"),
        ({"offsets": [0, 2], "days": [1, 2], "totals": [1, 64]}, "totals[1]"),
        ({"offsets": [0, 2], "days": [1, 2], "totals": [1]}, "totals"),
        ({"offsets": [0, 2], "days": [1.5, 2], "totals": [1, 2]}, "days"),
        ({"offsets": [0, 1, 2], "days": [1, 2], "totals": [1, 2], "baseline": [1, -1]}, "baseline[0]"),
        (
            {"offsets": [0, 2], "days": [1, 2], "totals": [1, 2], "remission_max": [20], "relapse_min": [20]},
            "relapse_min[0]",
        ),
        ({"offsets": [0, 2], "days": [1, 2], "totals": [1, 2], "course_start": [1, 2]}, "course_start"),
    ],
)
def test_batch_input_errors(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(ScoringError) as caught:
        classify_batch("bdi2", **kwargs)  # type: ignore[arg-type]
    assert caught.value.field == field


def test_benchmark_reports_both_paths() -> None:
    figures = benchmark(n_assessments=4_000, n_trajectories=200, seed=1)
    assert (figures["assessments"], figures["trajectories"]) == (4_000, 200)
    assert figures["scalar_note"] == "timed in full"
    for name in ("batch_seconds", "batch_per_second", "scalar_seconds", "scalar_per_second", "ratio"):
        assert figures[name] > 0  # type: ignore[operator]
    assert figures["ratio"] == pytest.approx(figures["scalar_seconds"] / figures["batch_seconds"])  # type: ignore[operator]
