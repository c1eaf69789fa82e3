"""The two calibration checks of CLINICAL §4, for every published reference set, and the rapid
response the time courses must be able to show."""

from __future__ import annotations

import pytest

from projections.math.calibration import (
    VALIDATION_WEEKS,
    figure_residuals,
    populations,
    published_distribution,
    validation_shares,
)
from projections.math.reference_sets import load_reference_sets

SETS = load_reference_sets()
POPULATIONS = [(ref.key, pop) for ref in SETS.values() for pop in populations(ref)]


@pytest.mark.parametrize("set_key", sorted(SETS))
def test_check_1_every_cited_figure_within_2_points(set_key: str) -> None:
    residuals = figure_residuals(SETS[set_key])
    assert residuals
    for figure, error in residuals:
        assert abs(error) <= figure.tolerance, f"{figure.id}: fitted - cited = {error:+.4f}"


def test_every_set_has_a_validation_population() -> None:
    assert {key for key, _ in POPULATIONS} == set(SETS)


@pytest.mark.parametrize(("set_key", "population"), POPULATIONS, ids=[p.name for _, p in POPULATIONS])
def test_check_2_shares_below_the_10th_and_25th_percentiles_weeks_2_to_12(set_key: str, population) -> None:
    rows = validation_shares(SETS[set_key], population, SETS)
    assert [r.week for r in rows] == list(VALIDATION_WEEKS) == list(range(2, 13))
    for r in rows:
        assert abs(r.below_p10 - 0.10) <= 0.04, f"week {r.week}: {r.below_p10:.3f} below p10"
        assert abs(r.below_p25 - 0.25) <= 0.06, f"week {r.week}: {r.below_p25:.3f} below p25"


def test_the_validation_population_comes_from_the_published_figures() -> None:
    """Not from the fitted model: the pooled TRANSFORM-1/2 day-28 distribution is the reported
    mean change and SD over the reported baseline."""
    pooled = next(p for _, p in POPULATIONS if p.name == "trials:esketamine:transform_pooled")
    dist = published_distribution(pooled, SETS)
    assert dist.days == (1.0, 28.0)
    assert dist.at(4) == pytest.approx((19.7 / 37.45, 13.5 / 37.45))
    assert dist.at(12) == dist.at(4)  # held after the last published day


def test_a_validation_check_fails_when_the_curve_does_not_fit() -> None:
    data = SETS["trials"].to_dict()
    data["parameters"]["iv_ketamine"] = {**data["parameters"]["iv_ketamine"], "mu": 1.4}
    from projections.math.reference_sets import ReferenceSet

    shifted = ReferenceSet.from_dict(data)
    pop = next(p for p in populations(shifted) if p.modality == "iv_ketamine")
    assert not all(r.within_bands() for r in validation_shares(shifted, pop, SETS))


def test_rapid_response_at_24_hours_is_representable() -> None:
    esketamine = SETS["trials"].curve("esketamine", "madrs")
    iv = SETS["trials"].curve("iv_ketamine", "madrs")
    # the pooled TRANSFORM-1/2 population: 17.3 % responding 24 h after the first dose
    pooled = next(f for f in SETS["trials"].figures if f.id == "transform-pooled-response-24h")
    assert SETS["trials"].predicted(pooled) == pytest.approx(0.173, abs=0.02)
    assert esketamine.response_proportion(1 / 7) > 0.15
    assert iv.improvement_percentiles(1 / 7)["p50"] > 0.15
    # and the esketamine median at week 1 stays below its day-28 median (no early plateau)
    assert esketamine.improvement_percentiles(1)["p50"] < esketamine.improvement_percentiles(4)["p50"]
