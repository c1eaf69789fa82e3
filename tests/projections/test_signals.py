"""The signal rules of CLINICAL §4: too early before day 14, off track only on two assessments
below the 10th percentile, insufficient data without a baseline and a later assessment."""

from __future__ import annotations

import numpy as np
import pytest

from projections.math.reference_sets import load_reference_sets
from projections.math.signals import (
    SIGNAL_FROM_DAY,
    SIGNALS,
    WORRYING_SIGNALS,
    compare_to_reference,
    signal_names,
    signal_of_latest_two,
    trajectory_signal,
    trajectory_signals_of,
)

CURVE = load_reference_sets()["trials"].curve("iv_ketamine", "madrs")


def _below_p10(day: int) -> float:
    return CURVE.improvement_percentiles(day / 7)["p10"] - 0.05


def test_the_signals_and_the_worrying_ones() -> None:
    assert "too_early" in SIGNALS and SIGNAL_FROM_DAY == 14
    assert WORRYING_SIGNALS == ("at_risk", "off_track")


@pytest.mark.parametrize(("day", "signal"), [(1, "too_early"), (13, "too_early"), (14, "off_track"), (15, "off_track")])
def test_day_13_is_too_early_and_day_14_is_not(day: int, signal: str) -> None:
    previous = (day - 3, _below_p10(day - 3))
    percentile, got = signal_of_latest_two(CURVE, (day, _below_p10(day)), previous)
    assert got == signal
    assert percentile is not None and percentile < 10  # the percentile is given even when too early


def test_one_assessment_below_the_10th_percentile_is_at_risk_two_are_off_track() -> None:
    latest = (28, _below_p10(28))
    assert signal_of_latest_two(CURVE, latest, None)[1] == "at_risk"
    assert signal_of_latest_two(CURVE, latest, (21, CURVE.improvement_percentiles(3)["p50"]))[1] == "at_risk"
    assert signal_of_latest_two(CURVE, latest, (21, _below_p10(21)))[1] == "off_track"
    # the previous point counts even inside the first two weeks
    assert signal_of_latest_two(CURVE, latest, (10, _below_p10(10)))[1] == "off_track"


def test_the_pure_rule_on_percentiles() -> None:
    assert trajectory_signal(day=14, percentile=9, previous_percentile=9) == "off_track"
    assert trajectory_signal(day=14, percentile=9, previous_percentile=10) == "at_risk"
    assert trajectory_signal(day=14, percentile=9, previous_percentile=None) == "at_risk"
    assert trajectory_signal(day=14, percentile=10, previous_percentile=0) == "at_risk"
    assert trajectory_signal(day=14, percentile=25, previous_percentile=0) == "on_track"
    assert trajectory_signal(day=14, percentile=75, previous_percentile=0) == "ahead"
    assert trajectory_signal(day=13, percentile=0, previous_percentile=0) == "too_early"
    assert trajectory_signal(day=13, percentile=None, previous_percentile=0) == "insufficient_data"
    assert trajectory_signal(day=None, percentile=50, previous_percentile=None) == "insufficient_data"


def test_insufficient_data_without_a_later_assessment() -> None:
    assert signal_of_latest_two(CURVE, None, None) == (None, "insufficient_data")
    assert compare_to_reference(CURVE, day=20, improvement=None).signal == "insufficient_data"
    assert compare_to_reference(CURVE, day=0, improvement=0.2).signal == "insufficient_data"  # under a day


def test_vectorised_rule_matches_the_scalar_one() -> None:
    rng = np.random.default_rng(7)
    days = rng.integers(0, 60, 2000).astype(float)
    pct = rng.integers(0, 101, 2000).astype(float)
    prev = rng.integers(0, 30, 2000).astype(float)
    pct[::17] = np.nan
    prev[::5] = np.nan
    days[::31] = np.nan
    names = signal_names(trajectory_signals_of(days, pct, prev))
    for d, p, q, name in zip(days, pct, prev, names, strict=True):
        expected = trajectory_signal(
            day=None if np.isnan(d) else int(d),
            percentile=None if np.isnan(p) else int(p),
            previous_percentile=None if np.isnan(q) else int(q),
        )
        assert name == expected
