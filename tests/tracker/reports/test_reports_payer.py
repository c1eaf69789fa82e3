"""The payer's rules in words (tracker.reports.payer): numbers, induction end, the end-of-induction
score and the built-in profile. Pure: no database."""

from __future__ import annotations

from datetime import date, timedelta
from fractions import Fraction

import pytest

from tracker.reports.payer import (
    Entry,
    InductionRule,
    ProfileError,
    change,
    days,
    default_document,
    end_of_induction_score,
    induction_end,
    induction_pending_text,
    ordinal,
    parse_profile,
    percent,
)

TREATMENTS = ("iv_ketamine", "im_ketamine", "esketamine", "oral_ketamine", "other")
START = date(2026, 1, 5)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Fraction(0), "0.0 %"),
        (Fraction(-1, 4000), "0.0 %"),  # -0.025 %: never "-0.0 %"
        (Fraction(-1, 2000), "-0.1 %"),  # -0.05 % rounds away from zero
        (Fraction(1, 2000), "0.1 %"),
        (Fraction(9, 16), "56.3 %"),  # 56.25 % rounds half up
        (Fraction(-9, 16), "-56.3 %"),
        (Fraction(1, 3), "33.3 %"),
        (Fraction(1, 2), "50.0 %"),
    ],
)
def test_percent_rounds_half_away_from_zero(value, text):
    assert percent(value) == text


def test_words_for_numbers():
    assert change(32, 32) == "0 points (0.0 %)"
    assert change(30, 29) == "-1 point (-3.3 %)"
    assert change(30, 31) == "+1 point (+3.3 %)"
    assert change(32, 14) == "-18 points (-56.3 %)"
    assert change(0, 3).startswith("+3 points (percent change undefined")
    assert [days(n) for n in (0, 1, 2)] == ["0 days", "1 day", "2 days"]
    assert [ordinal(n) for n in (1, 2, 3, 4, 11, 12, 13, 21, 22, 23, 62, 101, 111, 112)] == [
        "1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "23rd", "62nd", "101st", "111th", "112th",
    ]  # fmt: skip


def test_induction_end():
    esketamine = InductionRule(sessions=None, days=28, source="label")
    ketamine = InductionRule(sessions=6, days=21, source="series")
    sessions = [START + timedelta(days=d) for d in (0, 3, 7, 10, 14, 17, 21, 24)]
    before = induction_end(esketamine, START, sessions, START + timedelta(days=27))
    assert not before.complete and induction_pending_text(before) == "induction not complete (ends 2026-02-02)"
    done = induction_end(esketamine, START, sessions, START + timedelta(days=28))
    assert done.complete and done.end == START + timedelta(days=28)
    # Ketamine: the 6th session (day 17) comes before day 21.
    sixth = induction_end(ketamine, START, sessions, START + timedelta(days=17))
    assert sixth.complete and sixth.end == START + timedelta(days=17) and sixth.how == "the 6th session"
    early = induction_end(ketamine, START, sessions[:3], START + timedelta(days=8))
    assert not early.complete
    assert induction_pending_text(early) == "induction not complete (ends 2026-01-26, or at the 6th session if sooner)"
    late = induction_end(ketamine, START, sessions[:4], START + timedelta(days=30))
    assert late.end == START + timedelta(days=21) and late.how == "day 21 of the course, with 4 sessions given by then"


def test_end_of_induction_score_is_the_latest_pre_dose_one_in_the_window():
    end = START + timedelta(days=28)
    baseline = Entry(key="b", date=START - timedelta(days=2), total=33, seq=1, timing="pre_dose")
    entries = [
        baseline,
        Entry(key="day1", date=START + timedelta(days=1), total=16, seq=2, timing="post_dose"),
        Entry(key="early", date=START + timedelta(days=20), total=25, seq=3, timing="pre_dose"),
        Entry(key="pre", date=end, total=24, seq=5, timing="pre_dose"),
        Entry(key="post", date=end, total=9, seq=4, timing="post_dose"),
        Entry(key="untimed", date=end + timedelta(days=3), total=22, seq=6),
        Entry(key="post-later", date=end + timedelta(days=7), total=8, seq=7, timing="post_dose"),
        Entry(key="late", date=end + timedelta(days=8), total=10, seq=8, timing="pre_dose"),
    ]
    assert end_of_induction_score(entries, baseline, end, 7).key == "untimed"
    assert end_of_induction_score(entries[:5], baseline, end, 7).key == "pre"
    assert end_of_induction_score(entries[:3], baseline, end, 7) is None


def test_the_built_in_profile_and_its_schema():
    profile = parse_profile(default_document(), treatments=TREATMENTS)
    assert profile.baseline_max_days_before_start == 28
    assert dict(profile.severity_floors) == {"madrs": 28, "hamd17": 17, "phq9": 15}
    assert profile.induction["esketamine"] == InductionRule(None, 28, profile.induction["esketamine"].source)
    assert (profile.induction["iv_ketamine"].sessions, profile.induction["iv_ketamine"].days) == (6, 21)
    assert profile.category(Fraction(1, 4)) == "none"
    assert profile.category(Fraction(26, 100)) == "partial"
    assert profile.category(Fraction(1, 2)) == "response"
    assert profile.category(Fraction(-1, 2)) == "none"
    assert profile.category(None) is None
    document = default_document()
    document["rules"]["extra"] = 1
    with pytest.raises(ProfileError) as err:
        parse_profile(document, treatments=TREATMENTS)
    assert err.value.field == "rules.extra"
    document = default_document()
    document["key"] = "Not a key!"
    with pytest.raises(ProfileError) as err:
        parse_profile(document, treatments=TREATMENTS)
    assert err.value.field == "key"
