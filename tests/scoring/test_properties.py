"""Properties of the §2 rules over random trajectories."""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import replace
from itertools import pairwise

from hypothesis import given, settings
from hypothesis import strategies as st

from scoring import Classification, Options, get_scale
from tests.scoring.strategies import Course, classify_course, courses, options_for, scale_keys

# The state machine of §2: the state after each assessment may only move along these.
ALLOWED = {
    "not_remitted": {"not_remitted", "remission_pending"},
    "remission_pending": {"remission_pending", "not_remitted", "remission"},
    "remission": {"remission", "not_remitted", "recovered"},
    "recovered": {"recovered", "not_remitted"},
}
# The event each change of state is recorded as.
EVENT_OF = {
    ("remission_pending", "remission"): "remission",
    ("remission", "not_remitted"): "relapse",
    ("remission", "recovered"): "recovery",
    ("recovered", "not_remitted"): "recurrence",
}


@st.composite
def cases(
    draw: st.DrawFn, *, distinct_dates: bool = False, keep_order_of_events: bool = False
) -> tuple[str, Options, Course]:
    key = draw(scale_keys)
    options = draw(options_for(key, keep_order_of_events=keep_order_of_events))
    course = draw(courses(key, options, max_size=20, distinct_dates=distinct_dates))
    return key, options, course


def comparable(result: Classification) -> tuple[object, ...]:
    rows = [(r.date, r.total, r.improvement, r.response, r.state, r.warning) for r in result.rows]
    return result.as_dict(), rows, result.baseline.key if result.baseline else None


@settings(max_examples=100, deadline=None)
@given(cases(distinct_dates=True), st.randoms(use_true_random=False))
def test_input_order_does_not_matter(case: tuple[str, Options, Course], rng: random.Random) -> None:
    key, options, course = case
    shuffled = list(course.entries)
    rng.shuffle(shuffled)
    again = Course(shuffled, course.course_start, course.baseline_key)
    assert comparable(classify_course(key, again, options)) == comparable(classify_course(key, course, options))


@settings(max_examples=100, deadline=None)
@given(cases(), st.data())
def test_raising_a_later_score_never_creates_a_response(case: tuple[str, Options, Course], data: st.DataObject) -> None:
    key, options, course = case
    before = classify_course(key, course, options)
    later = [row for row in before.rows if row.state is not None][1:]
    if not later:
        return
    row = data.draw(st.sampled_from(later))
    raised_total = data.draw(st.integers(row.total, get_scale(key).total_max))
    entries = [replace(e, total=raised_total) if e.key == row.key else e for e in course.entries]
    after = classify_course(key, Course(entries, course.course_start, course.baseline_key), options)
    response_after = {r.key: r.response for r in after.rows}[row.key]
    if row.response != "response":
        assert response_after != "response"
    if before.first_response_date is None:
        assert after.first_response_date is None
    elif after.first_response_date is not None:
        assert after.first_response_date >= before.first_response_date


@settings(max_examples=200, deadline=None)
@given(cases(keep_order_of_events=True))
def test_states_follow_the_state_machine(case: tuple[str, Options, Course]) -> None:
    key, options, course = case
    result = classify_course(key, course, options)
    sequence = ["not_remitted"] + [row.state for row in result.rows if row.state is not None]
    changes = list(pairwise(sequence))
    for old, new in changes:
        assert new in ALLOWED[old], (old, new)
    recorded = Counter(EVENT_OF[c] for c in changes if c in EVENT_OF)
    assert recorded == Counter(event.type for event in result.events)
    assert result.state == sequence[-1]
    assert (result.state == "remission_pending") == (result.remission_pending_since is not None)
