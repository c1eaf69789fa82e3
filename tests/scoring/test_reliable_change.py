"""Reliable change (Jacobson & Truax 1991), CLINICAL §2."""

from __future__ import annotations

import math

import pytest

from scoring import ScoringError, get_scale, reliable_change


def s_diff(key: str) -> float:
    params = get_scale(key).reliable_change
    assert params.sd is not None and params.r is not None
    return math.sqrt(2) * params.sd * math.sqrt(1 - params.r)


def test_reliabilities_of_the_spec() -> None:
    assert get_scale("bdi2").reliable_change.r == 0.93
    assert get_scale("madrs").reliable_change.r == 0.93
    assert get_scale("hamd17").reliable_change.r == 0.79
    assert get_scale("phq9").reliable_change.points == 6


@pytest.mark.parametrize("key", ["bdi2", "madrs", "hamd17"])
def test_rc_formula(key: str) -> None:
    change = reliable_change(key, 30, 18)
    assert change.rc == pytest.approx(-12 / s_diff(key))
    assert change.threshold_points == pytest.approx(1.96 * s_diff(key))


@pytest.mark.parametrize("key", ["bdi2", "madrs", "hamd17"])
def test_reliable_just_beyond_the_threshold(key: str) -> None:
    points = 1.96 * s_diff(key)
    below, above = math.floor(points), math.floor(points) + 1
    assert not reliable_change(key, 40, 40 - below).reliable
    assert reliable_change(key, 40, 40 - below).direction == "none"
    improved = reliable_change(key, 40, 40 - above)
    assert (improved.reliable, improved.direction) == (True, "improved")
    worse = reliable_change(key, 10, 10 + above)
    assert (worse.reliable, worse.direction) == (True, "worsened")


def test_phq9_six_points() -> None:
    five = reliable_change("phq9", 20, 15)
    assert (five.rc, five.reliable, five.direction, five.threshold_points) == (None, False, "none", 6)
    assert reliable_change("phq9", 20, 14).direction == "improved"
    assert reliable_change("phq9", 10, 16).direction == "worsened"
    assert not reliable_change("phq9", 10, 15).reliable


def test_no_change() -> None:
    change = reliable_change("bdi2", 20, 20)
    assert (change.rc, change.reliable, change.direction) == (0.0, False, "none")


def test_totals_are_checked() -> None:
    with pytest.raises(ScoringError) as caught:
        reliable_change("phq9", 28, 3)
    assert caught.value.field == "x1"
