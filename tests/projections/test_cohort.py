"""Kaplan-Meier time to confirmed remission, checked against values computed by hand."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from projections.math.cohort import kaplan_meier

Z95 = 1.959963984540054


def _loglog_band(s: float, var_log_s: float) -> tuple[float, float]:
    se = math.sqrt(var_log_s) / abs(math.log(s))
    return s ** math.exp(Z95 * se), s ** math.exp(-Z95 * se)


def test_a_small_cohort_computed_by_hand() -> None:
    # days: 7 remitted, 14 remitted, 14 censored (tie: censored counts at risk), 21 remitted,
    # 28 censored, 35 remitted
    km = kaplan_meier([14, 7, 28, 14, 21, 35], [True, True, False, False, True, True])
    assert km.times.tolist() == [7, 14, 21, 28, 35]
    assert km.n_at_risk.tolist() == [6, 5, 3, 2, 1]
    assert km.events.tolist() == [1, 1, 1, 0, 1]
    assert km.censored.tolist() == [0, 1, 0, 1, 0]
    # S = 5/6; 5/6 * 4/5 = 2/3; 2/3 * 2/3 = 4/9; 4/9; 0
    np.testing.assert_allclose(km.survival, [5 / 6, 2 / 3, 4 / 9, 4 / 9, 0.0])
    # Greenwood: 1/(6*5) = 1/30; + 1/(5*4) = 1/12; + 1/(3*2) = 1/4
    for i, (s, var) in enumerate([(5 / 6, 1 / 30), (2 / 3, 1 / 12), (4 / 9, 1 / 4), (4 / 9, 1 / 4)]):
        lower, upper = _loglog_band(s, var)
        assert km.lower[i] == pytest.approx(lower)
        assert km.upper[i] == pytest.approx(upper)
    assert (km.lower[-1], km.upper[-1]) == (0.0, 0.0)  # S = 0: the band collapses
    assert km.lower[0] == pytest.approx(0.2731, abs=1e-4)  # 5/6 ** exp(1.96 * 0.18257 / 0.18232)
    np.testing.assert_allclose(km.cumulative_incidence, [1 / 6, 1 / 3, 5 / 9, 5 / 9, 1.0])
    np.testing.assert_allclose(km.incidence_lower, 1 - km.upper)
    np.testing.assert_allclose(km.incidence_upper, 1 - km.lower)
    assert km.median == 21
    assert km.survival_at(0) == 1.0
    assert km.survival_at(13.9) == pytest.approx(5 / 6)
    assert km.survival_at(14) == pytest.approx(2 / 3)
    assert km.n == 6 and km.n_events == 4


def test_the_textbook_6mp_remission_data() -> None:
    # Freireich et al. 1963, 6-MP arm (weeks in remission; + = censored), as in Kleinbaum &
    # Klein and the R survival documentation (conf.type = "log-log").
    times = [6, 6, 6, 7, 10, 13, 16, 22, 23, 6, 9, 10, 11, 17, 19, 20, 25, 32, 32, 34, 35]
    events = [True] * 9 + [False] * 12
    km = kaplan_meier(times, events)
    at = {t: i for i, t in enumerate(km.times.tolist())}
    expected = {  # time: (S, lower, upper)
        6: (0.857, 0.620, 0.952),
        7: (0.807, 0.563, 0.923),
        10: (0.753, 0.503, 0.889),
        13: (0.690, 0.432, 0.849),
        16: (0.627, 0.368, 0.805),
        22: (0.538, 0.268, 0.747),
        23: (0.448, 0.188, 0.680),
    }
    for t, (s, lower, upper) in expected.items():
        i = at[t]
        assert round(float(km.survival[i]), 3) == s
        assert round(float(km.lower[i]), 3) == lower
        assert round(float(km.upper[i]), 3) == upper
    assert km.n_at_risk[at[6]] == 21 and km.n_at_risk[at[23]] == 6
    assert km.median == 23


def test_all_censored() -> None:
    km = kaplan_meier([10, 20, 20, 30], [False, False, False, False])
    assert km.survival.tolist() == [1.0, 1.0, 1.0]
    assert km.lower.tolist() == [1.0, 1.0, 1.0] and km.upper.tolist() == [1.0, 1.0, 1.0]
    assert km.cumulative_incidence.tolist() == [0.0, 0.0, 0.0]
    assert km.median is None and km.n_events == 0


def test_empty_input() -> None:
    km = kaplan_meier([], [])
    assert km.n == 0 and km.times.size == 0
    assert km.survival_at(100) == 1.0
    d = km.as_dict()
    assert d["times_days"] == [] and d["n"] == 0
    json.dumps(d)


def test_as_dict_is_json_ready_with_weeks_beside_days() -> None:
    d = kaplan_meier([7, 14, 21], [True, False, True]).as_dict()
    text = json.dumps(d)
    assert json.loads(text)["weeks"] == [1.0, 2.0, 3.0]
    assert set(d) >= {"times_days", "survival", "lower", "upper", "cumulative_incidence", "n_at_risk", "events"}


@pytest.mark.parametrize(
    ("durations", "events"),
    [([1, 2], [True]), ([-1], [True]), ([math.nan], [False]), ([math.inf], [True])],
)
def test_bad_input_is_refused(durations: list[float], events: list[bool]) -> None:
    with pytest.raises(ValueError):
        kaplan_meier(durations, events)


def test_band_contains_the_estimate_and_stays_in_0_1() -> None:
    rng = np.random.default_rng(3)
    durations = rng.integers(1, 120, 400)
    events = rng.random(400) < 0.6
    km = kaplan_meier(durations, events)
    assert np.all(np.diff(km.survival) <= 0)
    assert np.all((km.lower <= km.survival + 1e-12) & (km.survival <= km.upper + 1e-12))
    assert np.all((km.lower >= 0) & (km.upper <= 1))
