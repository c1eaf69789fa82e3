"""The outcome rules of CLINICAL §2, edge by edge, through classify_trajectory."""

from __future__ import annotations

import datetime as dt
import random
from fractions import Fraction

import pytest

from scoring import Entry, Event, Options, ScoringError, classify_trajectory, get_scale
from tests.scoring.helpers import WORKED_EXAMPLE, day, entries, weekly


def classify(key: str, *pairs: tuple[int, int], **kwargs: object):  # type: ignore[no-untyped-def]
    return classify_trajectory(key, entries(*pairs), **kwargs)  # type: ignore[arg-type]


def states(result) -> list[str | None]:  # type: ignore[no-untyped-def]
    return [row.state for row in result.rows]


def remission(onset: int, confirmed: int) -> Event:
    return Event("remission", onset=day(onset), confirmed=day(confirmed))


# A BDI-II course that reaches confirmed remission: onset day 7, confirmed day 28.
REMITTED = [(0, 40), (7, 5), (14, 5), (21, 5), (28, 5)]


# ---------------------------------------------------------------- the worked example


def test_worked_example_from_the_seed_article() -> None:
    result = classify("bdi2", *WORKED_EXAMPLE, course_start=day(0))
    expected = {  # API.md's example, which is this course
        "scale": "bdi2",
        "baseline": {"date": "2026-01-05", "total": 48},
        "latest": {"date": "2026-03-09", "total": 3, "improvement": 0.9375, "response": "response"},
        "first_response_date": "2026-02-09",
        "state": "remission",
        "events": [{"type": "remission", "onset": "2026-02-09", "confirmed": "2026-03-02"}],
    }
    out = result.as_dict()
    assert {key: out[key] for key in expected} == expected
    assert "projection" not in out
    row = {r.date: r for r in result.rows}
    assert row[day(28)].improvement == Fraction(3, 8)
    assert row[day(28)].response == "partial"
    assert row[day(35)].improvement == Fraction(3, 4)
    assert row[day(35)].response == "response"
    assert states(result) == ["not_remitted"] * 5 + ["remission_pending"] * 3 + ["remission"] * 2
    assert result.events == [remission(35, 56)]


def test_worked_example_dicts_are_json_ready() -> None:
    result = classify("bdi2", *WORKED_EXAMPLE, course_start=day(0))
    assert [r.as_dict() for r in result.rows][4] == {
        "date": "2026-02-02", "timing": None, "total": 30, "severity": "severe",
        "improvement": 0.375, "response": "partial", "in_remission_range": False,
    }  # fmt: skip


# ---------------------------------------------------------------- improvement and response


@pytest.mark.parametrize(
    ("baseline", "score", "improvement", "response"),
    [
        (30, 15, Fraction(1, 2), "response"),  # exactly 50 %
        (30, 16, Fraction(7, 15), "partial"),  # just below 50 %
        (48, 24, Fraction(1, 2), "response"),
        (20, 15, Fraction(1, 4), "none"),  # exactly 25 %
        (20, 14, Fraction(3, 10), "partial"),  # just above 25 %
        (48, 36, Fraction(1, 4), "none"),
        (48, 35, Fraction(13, 48), "partial"),
        (30, 30, Fraction(0), "none"),
        (30, 40, Fraction(-1, 3), "none"),  # worsening
        (30, 0, Fraction(1), "response"),
    ],
)
def test_improvement_is_exact(baseline: int, score: int, improvement: Fraction, response: str) -> None:
    result = classify("bdi2", (0, baseline), (7, score))
    assert result.improvement == improvement
    assert result.response == response
    assert result.as_dict()["latest"]["improvement"] == float(improvement)  # type: ignore[index]


def test_baseline_zero_leaves_improvement_undefined() -> None:
    result = classify("bdi2", (0, 0), (7, 0), (14, 9))
    assert result.improvement is None and result.response is None
    assert result.first_response_date is None
    assert [(r.improvement, r.response) for r in result.rows] == [(None, None)] * 3
    assert result.as_dict()["latest"] == {
        "date": day(14).isoformat(), "total": 9, "improvement": None, "response": None,
    }  # fmt: skip


def test_first_response_date_is_the_first_response() -> None:
    result = classify("phq9", (0, 20), (7, 11), (14, 10), (21, 14), (28, 8))
    assert [r.response for r in result.rows] == [None, "partial", "response", "partial", "response"]
    assert result.first_response_date == day(14)
    assert result.response == "response"


def test_baseline_only_course_is_not_assessable() -> None:
    result = classify("madrs", (0, 30))
    assert result.baseline == result.latest == Entry(day(0), 30, key=0)
    assert (result.improvement, result.response) == (0, None)
    assert result.assessable is False
    out = result.as_dict()
    assert out["latest"] == {"date": day(0).isoformat(), "total": 30, "improvement": 0.0, "response": None}
    assert out["assessable"] is False
    assert classify("madrs", (0, 30), (7, 30)).as_dict()["assessable"] is True


def test_baseline_row_has_no_response_category() -> None:
    result = classify("madrs", (0, 30), (7, 30))
    assert [r.response for r in result.rows] == [None, "none"]
    assert result.rows[0].improvement == 0


def test_no_entries() -> None:
    out = classify_trajectory("bdi2", []).as_dict()
    expected = {
        "baseline": None, "latest": None, "first_response_date": None,
        "state": "not_remitted", "events": [], "reliable_change": None,
    }  # fmt: skip
    assert {key: out[key] for key in expected} == expected


# ---------------------------------------------------------------- remission range and runs


@pytest.mark.parametrize(("key", "level"), [("bdi2", 13), ("madrs", 10), ("hamd17", 7), ("phq9", 4)])
def test_remission_level_and_one_above(key: str, level: int) -> None:
    high = get_scale(key).total_max
    at_level = classify(key, *weekly(high, level, level, level, level))
    assert at_level.state == "remission"
    assert at_level.events == [remission(7, 28)]
    above = classify(key, *weekly(high, level + 1, level + 1, level + 1, level + 1))
    assert above.state == "not_remitted"
    assert above.events == []
    assert [r.in_remission_range for r in above.rows] == [False] * 5


def test_20_days_is_pending_21_confirms() -> None:
    pending = classify("bdi2", (0, 40), (7, 10), (21, 10), (27, 10))
    assert pending.state == "remission_pending"
    assert pending.as_dict()["remission_pending_since"] == day(7).isoformat()
    assert pending.events == []
    confirmed = classify("bdi2", (0, 40), (7, 10), (21, 10), (28, 10))
    assert confirmed.state == "remission"
    assert confirmed.events == [remission(7, 28)]
    assert confirmed.as_dict()["remission_pending_since"] is None


def test_confirmed_at_first_entry_past_21_days() -> None:
    result = classify("bdi2", (0, 40), (7, 10), (20, 10), (31, 10), (35, 10))
    assert result.events == [remission(7, 31)]


def test_14_day_gap_keeps_the_run() -> None:
    result = classify("bdi2", (0, 40), (7, 10), (21, 10), (28, 10))
    assert result.events == [remission(7, 28)]


def test_15_day_gap_restarts_the_run_after_the_gap() -> None:
    result = classify("bdi2", (0, 40), (7, 10), (22, 10), (29, 10), (36, 10), (43, 10))
    assert states(result)[:5] == ["not_remitted", "remission_pending", *["remission_pending"] * 3]
    assert result.events == [remission(22, 43)]
    short = classify("bdi2", (0, 40), (7, 10), (22, 10), (29, 10))
    assert short.state == "remission_pending"
    assert short.remission_pending_since == day(22)


def test_gap_followed_by_out_of_range_score_ends_the_run() -> None:
    result = classify("bdi2", (0, 40), (7, 10), (22, 30), (29, 10), (43, 10), (50, 10))
    assert states(result) == [
        "not_remitted", "remission_pending", "not_remitted",
        "remission_pending", "remission_pending", "remission",
    ]  # fmt: skip
    assert result.events == [remission(29, 50)]


def test_out_of_range_score_ends_the_run() -> None:
    result = classify("bdi2", (0, 40), (7, 10), (14, 14), (21, 10), (28, 10), (35, 10), (42, 10))
    assert states(result)[2] == "not_remitted"
    assert result.events == [remission(21, 42)]


def test_out_of_range_below_relapse_level_during_remission_keeps_remission() -> None:
    result = classify("bdi2", *REMITTED, (35, 19), (42, 19))
    assert result.state == "remission"
    assert result.warnings == []


def test_sustained_remission_reaching_range_after_response() -> None:
    result = classify("hamd17", *weekly(24, 20, 12, 7, 7, 7, 6))
    assert result.first_response_date == day(14)
    assert result.events == [remission(21, 42)]


# ---------------------------------------------------------------- same day and ordering


def test_same_day_entries_keep_input_order() -> None:
    # On day 7 the out-of-range score comes second: it ends the run begun that day.
    ends = classify("bdi2", (0, 40), (7, 10), (7, 14), (14, 10), (28, 10), (35, 10))
    assert ends.events == [remission(14, 35)]
    # Given the other way round, the run starts with the second entry of day 7.
    starts = classify("bdi2", (0, 40), (7, 14), (7, 10), (14, 10), (28, 10), (35, 10))
    assert starts.events == [remission(7, 28)]


def test_same_day_entries_count_for_the_gap_and_the_run() -> None:
    result = classify("bdi2", (0, 40), (7, 10), (7, 10), (21, 10), (28, 10))
    assert result.events == [remission(7, 28)]


def test_same_day_baseline_is_the_later_entry() -> None:
    result = classify("bdi2", (0, 40), (0, 30), (7, 15), course_start=day(0))
    assert result.baseline == Entry(day(0), 30, key=1)
    assert result.response == "response"


def test_unsorted_input_is_ordered_by_date() -> None:
    ordered = classify("bdi2", *WORKED_EXAMPLE, course_start=day(0))
    shuffled = list(WORKED_EXAMPLE)
    random.Random(4).shuffle(shuffled)
    result = classify("bdi2", *shuffled, course_start=day(0))
    assert result.as_dict() == ordered.as_dict()
    assert [r.date for r in result.rows] == [day(d) for d, _ in WORKED_EXAMPLE]
    assert [r.key for r in result.rows] == [shuffled.index(p) for p in WORKED_EXAMPLE]


# ---------------------------------------------------------------- relapse, recovery, recurrence


@pytest.mark.parametrize(("key", "level"), [("bdi2", 20), ("madrs", 22), ("hamd17", 18), ("phq9", 10)])
def test_two_consecutive_scores_at_relapse_level_are_a_relapse(key: str, level: int) -> None:
    start = weekly(get_scale(key).total_max, 0, 0, 0, 0)
    relapse = classify(key, *start, (35, level), (42, level))
    assert relapse.state == "not_remitted"
    assert relapse.events == [
        remission(7, 28), Event("relapse", onset=day(35), confirmed=day(42)),
    ]  # fmt: skip
    assert relapse.warnings == []
    below = classify(key, *start, (35, level - 1), (42, level - 1))
    assert below.state == "remission"
    assert below.events == [remission(7, 28)]


def test_single_spike_is_a_warning_not_a_relapse() -> None:
    result = classify("bdi2", *REMITTED, (35, 25), (42, 5))
    assert result.state == "remission"
    assert result.events == [remission(7, 28)]
    assert [(w.date, w.total) for w in result.warnings] == [(day(35), 25)]
    assert result.as_dict()["warnings"] == [{"type": "relapse_level_score", "date": day(35).isoformat(), "total": 25}]
    assert [r.warning for r in result.rows] == [False] * 5 + [True, False]


def test_trailing_spike_is_a_warning() -> None:
    result = classify("bdi2", *REMITTED, (35, 25))
    assert result.state == "remission"
    assert [w.date for w in result.warnings] == [day(35)]


def test_spikes_apart_are_not_consecutive() -> None:
    result = classify("bdi2", *REMITTED, (35, 25), (42, 5), (49, 30))
    assert result.state == "remission"
    assert [w.date for w in result.warnings] == [day(35), day(49)]


def test_high_scores_before_remission_are_not_warnings() -> None:
    result = classify("bdi2", (0, 40), (7, 30), (14, 5))
    assert result.warnings == []


def test_new_run_after_relapse() -> None:
    result = classify("bdi2", *REMITTED, (35, 20), (42, 21), (49, 5), (56, 5), (70, 5))
    assert result.events == [
        remission(7, 28),
        Event("relapse", onset=day(35), confirmed=day(42)),
        remission(49, 70),
    ]
    assert result.state == "remission"


# REMITTED followed by monthly in-range scores (no gap over 35 days) up to day 119.
MONITORED = [*REMITTED, (56, 5), (84, 5), (112, 5)]


def test_recovery_at_120_days_after_onset() -> None:
    not_yet = classify("bdi2", *MONITORED, (126, 5))  # onset day 7 + 119
    assert not_yet.state == "remission"
    result = classify("bdi2", *MONITORED, (126, 5), (127, 5))  # onset + 120
    assert result.state == "recovered"
    assert result.events[-1] == Event("recovery", date=day(127))
    assert result.as_dict()["events"][-1] == {"type": "recovery", "date": day(127).isoformat()}


def test_recovery_needs_a_score_in_remission_range() -> None:
    # Version 1 took any score below the relapse level; §2 now asks for remission range.
    below_relapse = classify("bdi2", *MONITORED, (127, 19))
    assert below_relapse.state == "remission"
    result = classify("bdi2", *MONITORED, (127, 19), (130, 13))
    assert result.events[-1] == Event("recovery", date=day(130))


def test_recovery_waits_past_a_high_score() -> None:
    result = classify("bdi2", *MONITORED, (127, 20), (134, 5))
    assert result.events[-1] == Event("recovery", date=day(134))
    assert [w.date for w in result.warnings] == [day(127)]


def test_no_recovery_after_relapse() -> None:
    result = classify("bdi2", *REMITTED, (100, 20), (107, 20), (130, 5), (135, 5))
    assert [e.type for e in result.events] == ["remission", "relapse"]
    assert result.state == "remission_pending"


def test_recurrence_after_recovery() -> None:
    recovered = [*MONITORED, (127, 5)]
    single = classify("bdi2", *recovered, (140, 30), (147, 5))
    assert single.state == "recovered"
    assert [w.date for w in single.warnings] == [day(140)]
    result = classify("bdi2", *recovered, (140, 30), (147, 20))
    assert result.state == "not_remitted"
    assert result.events[-1] == Event("recurrence", onset=day(140), confirmed=day(147))
    assert result.as_dict()["events"][-1] == {
        "type": "recurrence", "onset": day(140).isoformat(), "confirmed": day(147).isoformat(),
    }  # fmt: skip


# ---------------------------------------------------------------- baseline


def test_baseline_window_30_days_in_31_out() -> None:
    pairs = [(0, 40), (10, 30), (50, 15)]
    inside = classify("bdi2", *pairs, course_start=day(40))
    assert inside.baseline == Entry(day(10), 30, key=1)
    assert inside.improvement == Fraction(1, 2)
    outside = classify("bdi2", *pairs, course_start=day(41))
    assert outside.baseline == Entry(day(0), 40, key=0)
    assert outside.improvement == Fraction(5, 8)


def test_baseline_on_course_start_day_beats_earlier_ones() -> None:
    result = classify("bdi2", (-20, 40), (-3, 35), (0, 30), (7, 20), course_start=day(0))
    assert result.baseline == Entry(day(0), 30, key=2)


def test_without_a_course_start_the_first_entry_is_baseline() -> None:
    result = classify("bdi2", (7, 20), (0, 40), (14, 10))
    assert result.baseline == Entry(day(0), 40, key=1)


def test_course_start_before_every_entry_uses_the_first() -> None:
    result = classify("bdi2", (5, 40), (12, 20), course_start=day(0))
    assert result.baseline == Entry(day(5), 40, key=0)


def test_entries_before_the_baseline_take_no_part() -> None:
    # A screening score of 5 long before the course does not start a run.
    result = classify("bdi2", (-40, 5), (-1, 40), (7, 5), (14, 5), (21, 5), course_start=day(0))
    assert result.baseline == Entry(day(-1), 40, key=1)
    first = result.rows[0]
    assert (first.improvement, first.response, first.state) == (None, None, None)
    assert first.severity == "minimal" and first.in_remission_range
    assert result.state == "remission_pending"
    assert result.remission_pending_since == day(7)


def test_clinician_marked_baseline() -> None:
    pairs = [(0, 20), (7, 40), (14, 20), (21, 10)]
    result = classify("bdi2", *pairs, baseline_key=1)
    assert result.baseline == Entry(day(7), 40, key=1)
    assert result.first_response_date == day(14)
    assert [r.response for r in result.rows] == [None, None, "response", "response"]


def test_marked_baseline_must_exist() -> None:
    with pytest.raises(ScoringError) as caught:
        classify("bdi2", (0, 20), baseline_key="nope")
    assert caught.value.field == "baseline_key"


# ---------------------------------------------------------------- options


def test_madrs_remission_at_12_when_the_clinic_says_so() -> None:
    pairs = weekly(34, 12, 12, 12, 12)
    assert classify("madrs", *pairs).state == "not_remitted"
    clinic = classify("madrs", *pairs, options={"remission_max": 12})
    assert clinic.state == "remission"
    assert clinic.rules.remission_max == 12
    assert clinic.as_dict()["rules"]["remission_max"] == 12  # type: ignore[index]
    assert all(r.in_remission_range for r in clinic.rows[1:])


def test_duration_options() -> None:
    pairs = [(0, 40), (7, 5), (17, 5), (35, 5), (40, 5)]
    assert classify("bdi2", *pairs).state == "remission_pending"
    options = Options(sustain_days=28, max_gap_days=18)
    assert classify("bdi2", *pairs, options=options).events == [remission(7, 35)]
    recovered = classify("bdi2", *pairs, options=Options(recovery_days=33, max_gap_days=18))
    assert [e.type for e in recovered.events] == ["remission", "recovery"]
    assert recovered.events[1] == Event("recovery", date=day(40))


def test_relapse_level_option() -> None:
    result = classify("bdi2", *REMITTED, (35, 16), (42, 16), options={"relapse_min": 16})
    assert result.events[-1].type == "relapse"


def test_baseline_window_option() -> None:
    pairs = [(0, 40), (10, 30), (50, 15)]
    result = classify("bdi2", *pairs, course_start=day(41), options={"baseline_window_days": 31})
    assert result.baseline == Entry(day(10), 30, key=1)


def test_rules_report_defaults() -> None:
    rules = classify("hamd17", (0, 20)).as_dict()["rules"]
    assert {k: rules[k] for k in ("remission_max", "relapse_min", "sustain_days",  # type: ignore[index]
                                 "max_gap_days", "recovery_days", "baseline_window_days",
                                 "response_min_improvement", "partial_above_improvement")} == {
        "remission_max": 7, "relapse_min": 18, "sustain_days": 21, "max_gap_days": 14,
        "recovery_days": 120, "baseline_window_days": 30,
        "response_min_improvement": 0.5, "partial_above_improvement": 0.25,
    }  # fmt: skip


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"remision_max": 12}, "options.remision_max"),
        ({"sustain_days": -1}, "options.sustain_days"),
        ({"sustain_days": 21.0}, "options.sustain_days"),
        ({"max_gap_days": "14"}, "options.max_gap_days"),
        ({"recovery_days": True}, "options.recovery_days"),
        ({"baseline_window_days": 10**9}, "options.baseline_window_days"),
        ({"remission_max": 61}, "options.remission_max"),
        ({"remission_max": -1}, "options.remission_max"),
        ({"relapse_min": 10}, "options.relapse_min"),
        ({"remission_max": 22}, "options.remission_max"),
        ([1, 2], "options"),
    ],
)
def test_bad_options(options: object, field: str) -> None:
    with pytest.raises(ScoringError) as caught:
        classify("madrs", (0, 30), options=options)
    assert caught.value.field == field


def test_options_from_dict_defaults() -> None:
    assert Options.from_dict({}) == Options() == Options.from_dict(None)
    assert Options.from_dict({"remission_max": None}) == Options()


# ---------------------------------------------------------------- entries and reliable change


@pytest.mark.parametrize(
    ("entry", "field"),
    [
        (Entry(day(0), 64), "entries[1].total"),
        (Entry(day(0), True), "entries[1].total"),  # type: ignore[arg-type]
        (Entry("2026-01-05", 3), "entries[1].date"),  # type: ignore[arg-type]
        ((day(0), 3), "entries[1]"),
    ],
)
def test_bad_entries(entry: object, field: str) -> None:
    with pytest.raises(ScoringError) as caught:
        classify_trajectory("bdi2", [Entry(day(0), 3), entry])  # type: ignore[list-item]
    assert caught.value.field == field


def test_reliable_change_of_latest_against_baseline() -> None:
    result = classify("phq9", (0, 20), (7, 14))
    assert result.reliable_change is not None
    assert (result.reliable_change.reliable, result.reliable_change.direction) == (True, "improved")
    assert classify("phq9", (0, 20), (7, 15)).reliable_change.reliable is False  # type: ignore[union-attr]


# ---------------------------------------------------------------- version 2: timing against the dose


def timed(d: int, total: int, key: int, timing: str | None = None, time: str | None = None) -> Entry:
    return Entry(day(d), total, key, timing, None if time is None else dt.time.fromisoformat(time))  # type: ignore[arg-type]


def test_post_dose_entry_on_the_start_day_is_not_the_baseline() -> None:
    for order in (0, 1):
        pair = [timed(0, 20, 0, "post_dose"), timed(0, 40, 1, "pre_dose")]
        result = classify_trajectory("bdi2", pair[order:] + pair[:order], course_start=day(0))
        assert result.baseline == Entry(day(0), 40, 1, "pre_dose")
    earlier = [timed(-3, 38, 0), timed(0, 20, 1, "post_dose"), timed(7, 30, 2)]
    result = classify_trajectory("bdi2", earlier, course_start=day(0))
    assert result.baseline is not None and result.baseline.key == 0


@pytest.mark.parametrize("post_first", [True, False])
def test_same_day_pre_and_post_pair_in_either_input_order(post_first: bool) -> None:
    pre, post = timed(7, 30, 1, "pre_dose"), timed(7, 12, 2, "post_dose")
    pair = [post, pre] if post_first else [pre, post]
    result = classify_trajectory("bdi2", [timed(0, 40, 0), *pair])
    assert [r.timing for r in result.rows] == [None, "pre_dose", "post_dose"]
    assert [r.as_dict()["timing"] for r in result.rows] == [None, "pre_dose", "post_dose"]
    post_row = result.rows[2]
    assert (post_row.improvement, post_row.response, post_row.state) == (None, None, None)
    assert (post_row.severity, post_row.in_remission_range) == ("minimal", True)
    assert result.latest == pre
    assert result.first_response_date is None  # the post_dose 12 is no response
    assert result.state == "not_remitted"


def test_pre_dose_entry_sorts_before_post_dose_even_when_timed_later() -> None:
    result = classify_trajectory(
        "bdi2", [timed(0, 40, 0), timed(7, 12, 1, "post_dose", "08:00"), timed(7, 30, 2, None, "10:00")]
    )
    assert [r.key for r in result.rows] == [0, 2, 1]


def test_time_of_day_orders_entries_of_one_day() -> None:
    entries_ = [timed(0, 30, 0, time="09:00"), timed(0, 40, 1, time="08:00"), timed(0, 35, 2)]
    result = classify_trajectory("bdi2", entries_, course_start=day(0))
    assert [r.key for r in result.rows] == [2, 1, 0]  # untimed first, then by time
    assert result.baseline is not None and result.baseline.key == 0  # the latest that day


def test_post_dose_entries_never_start_continue_or_end_a_run() -> None:
    post = [timed(0, 40, 0), timed(7, 5, 1, "post_dose"), timed(14, 5, 2, "post_dose"), timed(28, 5, 3, "post_dose")]
    assert classify_trajectory("bdi2", post).state == "not_remitted"
    through = [timed(0, 40, 0), timed(7, 10, 1), timed(10, 30, 2, "post_dose"), timed(14, 10, 3), timed(28, 10, 4)]
    result = classify_trajectory("bdi2", through)
    assert result.events == [remission(7, 28)]
    assert [r.state for r in result.rows][2] is None


def test_post_dose_scores_never_count_toward_relapse_or_recovery() -> None:
    base = entries(*REMITTED)
    highs = [timed(35, 30, 10, "post_dose"), timed(42, 30, 11, "post_dose")]
    result = classify_trajectory("bdi2", base + highs)
    assert result.state == "remission" and result.warnings == []
    late = [timed(127, 5, 12, "post_dose")]
    assert classify_trajectory("bdi2", base + late).state == "remission"


def test_latest_is_the_latest_pre_dose_entry() -> None:
    result = classify_trajectory("bdi2", [timed(0, 40, 0), timed(7, 20, 1), timed(8, 5, 2, "post_dose")])
    assert result.latest == Entry(day(7), 20, 1)
    assert result.response == "response"


def test_only_post_dose_after_the_baseline_is_not_assessable() -> None:
    result = classify_trajectory("bdi2", [timed(0, 40, 0), timed(7, 10, 1, "post_dose")])
    assert (result.assessable, result.response, result.latest) == (False, None, result.baseline)
    nothing = classify_trajectory("bdi2", [timed(0, 10, 0, "post_dose")])
    assert (nothing.baseline, nothing.latest, nothing.baseline_in_remission_range) == (None, None, False)
    assert [r.severity for r in nothing.rows] == ["minimal"]


def test_a_post_dose_entry_cannot_be_marked_as_baseline() -> None:
    with pytest.raises(ScoringError) as caught:
        classify_trajectory("bdi2", [timed(0, 40, 0), timed(0, 20, 1, "post_dose")], baseline_key=1)
    assert caught.value.field == "baseline_key"


@pytest.mark.parametrize(
    ("entry", "field"), [(timed(0, 3, 1, "after"), "timing"), (Entry(day(0), 3, 1, None, "09:00"), "time")]
)  # type: ignore[arg-type]
def test_bad_timing_or_time(entry: Entry, field: str) -> None:
    with pytest.raises(ScoringError) as caught:
        classify_trajectory("bdi2", [Entry(day(0), 3), entry])
    assert caught.value.field == f"entries[1].{field}"


# ---------------------------------------------------------------- version 2: baseline in remission range


def test_baseline_in_remission_range_does_not_start_a_run() -> None:
    result = classify("bdi2", (0, 10), (7, 10), (14, 10), (21, 10))
    assert result.baseline_in_remission_range is True
    assert result.as_dict()["baseline_in_remission_range"] is True
    assert result.state == "remission_pending"
    assert result.remission_pending_since == day(7)
    later = classify("bdi2", (0, 10), (7, 10), (14, 10), (21, 10), (28, 10))
    assert later.events == [remission(7, 28)]
    assert classify("bdi2", (0, 14), (7, 10)).baseline_in_remission_range is False


# ---------------------------------------------------------------- version 2: spaced relapse


def test_relapse_needs_scores_5_days_apart_4_is_not_enough() -> None:
    four = classify("bdi2", *REMITTED, (35, 20), (39, 20))
    assert four.state == "remission"
    assert [e.type for e in four.events] == ["remission"]
    assert [w.date for w in four.warnings] == [day(35)]  # an open watch, a warning so far
    five = classify("bdi2", *REMITTED, (35, 20), (40, 20))
    assert five.state == "not_remitted"
    assert five.events[-1] == Event("relapse", onset=day(35), confirmed=day(40))
    assert five.warnings == []
    both = classify("bdi2", *REMITTED, (35, 20), (39, 20), (40, 20))
    assert both.events[-1] == Event("relapse", onset=day(35), confirmed=day(40))


def test_same_day_repeat_is_not_a_relapse() -> None:
    result = classify("bdi2", *REMITTED, (35, 25), (35, 30))
    assert result.state == "remission"
    assert [w.date for w in result.warnings] == [day(35)]


def test_a_score_below_relapse_level_closes_the_watch() -> None:
    result = classify("bdi2", *REMITTED, (35, 20), (38, 19), (41, 20))
    assert result.state == "remission"
    assert [w.date for w in result.warnings] == [day(35), day(41)]


def test_relapse_days_apart_option() -> None:
    pairs = [*REMITTED, (35, 20), (37, 20)]
    assert classify("bdi2", *pairs).state == "remission"
    assert classify("bdi2", *pairs, options={"relapse_min_days_apart": 2}).state == "not_remitted"


def test_recurrence_is_spaced_too() -> None:
    recovered = [*MONITORED, (127, 5)]
    near = classify("bdi2", *recovered, (140, 30), (144, 30))
    assert near.state == "recovered"
    result = classify("bdi2", *recovered, (140, 30), (144, 30), (145, 30))
    assert result.events[-1] == Event("recurrence", onset=day(140), confirmed=day(145))
    assert result.state == "not_remitted"


# ---------------------------------------------------------------- version 2: continuous recovery


def test_recovery_gap_35_days_keeps_the_clock_36_restarts_it() -> None:
    kept = classify("bdi2", *REMITTED, (63, 5), (98, 5), (127, 5))  # gaps 35, 35, 29
    assert kept.events[-1] == Event("recovery", date=day(127))
    restarted = classify("bdi2", *REMITTED, (64, 5), (99, 5), (127, 5), (183, 5))  # gap 36 from day 28
    assert restarted.state == "remission"
    assert classify("bdi2", *REMITTED, (64, 5), (99, 5), (127, 5), (155, 5), (184, 5)).events[-1] == Event(
        "recovery", date=day(184)
    )


def test_clock_restarts_at_the_first_in_range_score_after_the_gap() -> None:
    pairs = [*REMITTED, (64, 15), (70, 5), (100, 5), (130, 5), (160, 5), (189, 5)]
    assert classify("bdi2", *pairs).state == "remission"  # 189 is 119 days after 70
    result = classify("bdi2", *pairs, (190, 5))
    assert result.events[-1] == Event("recovery", date=day(190))


def test_warnings_do_not_stop_the_clock_and_a_closing_score_can_recover() -> None:
    result = classify("bdi2", *MONITORED, (126, 25), (127, 5))
    assert [w.date for w in result.warnings] == [day(126)]
    assert result.events[-1] == Event("recovery", date=day(127))


def test_recovery_options() -> None:
    pairs = [*REMITTED, (70, 5), (112, 5), (127, 5)]  # 42-day gaps
    assert classify("bdi2", *pairs).state == "remission"
    assert classify("bdi2", *pairs, options={"recovery_max_gap_days": 42}).state == "recovered"


@pytest.mark.parametrize("name", ["relapse_min_days_apart", "recovery_max_gap_days"])
@pytest.mark.parametrize("value", [-1, 5.0, "5", True, 10**9])
def test_bad_new_options(name: str, value: object) -> None:
    with pytest.raises(ScoringError) as caught:
        classify("madrs", (0, 30), options={name: value})
    assert caught.value.field == f"options.{name}"


def test_rules_report_the_new_options() -> None:
    rules = classify("bdi2", (0, 20)).as_dict()["rules"]
    assert (rules["relapse_min_days_apart"], rules["recovery_max_gap_days"]) == (5, 35)  # type: ignore[index]
