"""Reference curves: the published figures, the curves' shape, the per-patient comparison."""

from __future__ import annotations

import math
from datetime import date, timedelta

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from projections.math.model import MIN_COMPARISON_WEEK
from projections.math.reference_sets import (
    MODALITIES,
    SCALES,
    Curve,
    Figure,
    ReferenceSet,
    load_reference_sets,
    session_week,
)
from projections.math.signals import (
    SIGNAL_THRESHOLDS,
    SIGNALS,
    compare_to_reference,
    percentiles_of,
    signal_for,
    signals_of,
    week_of_treatment,
    weeks_since_start,
)

SETS = load_reference_sets()
FIGURES = [(ref.key, figure) for ref in SETS.values() for figure in ref.figures]


def _curves() -> list[Curve]:
    return [
        ref.curve(modality, scale, with_therapy)
        for ref in SETS.values()
        for modality in MODALITIES
        for scale in SCALES
        for with_therapy in (False, True)
    ]


ALL_CURVES = _curves()


# ---------------------------------------------------------------- the cited figures


def test_the_three_published_sets_are_there() -> None:
    assert set(SETS) == {"seed_projection", "trials", "real_world"}
    for ref in SETS.values():
        assert ref.version >= 1 and ref.title
        assert ref.figures, ref.key
        for figure in ref.figures:
            assert len(figure.source) > 40, f"{figure.id} lacks a full citation"
            assert figure.data["definition"]


def test_the_seed_projection_keeps_the_articles_figures() -> None:
    seed = {f.id: f for f in SETS["seed_projection"].figures}
    assert seed["seed-iv-ketamine-full-course"].value == 0.68
    assert seed["seed-iv-ketamine-full-course-psychotherapy"].value == 0.72
    assert seed["seed-iv-ketamine-full-course-psychotherapy"].with_therapy
    one_or_two = seed["seed-iv-ketamine-1-2-infusions"]
    assert (one_or_two.data["low"], one_or_two.data["high"]) == (0.27, 0.43)
    assert one_or_two.value == pytest.approx(0.35)  # a range is fitted to its midpoint
    assert one_or_two.week == pytest.approx(0.5)  # 1.5 infusions, thrice weekly
    esketamine = seed["seed-esketamine-8-24-doses"]
    assert esketamine.value == pytest.approx(0.45)
    assert esketamine.week == pytest.approx(12)  # 16 doses on the label schedule


def test_the_trial_and_real_world_sets_cite_their_studies() -> None:
    trials = " ".join(f.source for f in SETS["trials"].figures)
    for study in ("TRANSFORM-2", "TRANSFORM studies", "Phillips", "KetECT"):
        assert study in trials
    assert all("ORKA-1" in f.source for f in SETS["real_world"].figures)


@pytest.mark.parametrize(("set_key", "figure"), FIGURES, ids=[f"{k}:{f.id}" for k, f in FIGURES])
def test_the_fitted_curve_reproduces_the_cited_figure_within_2_points(set_key: str, figure: Figure) -> None:
    ref = SETS[set_key]
    fitted = ref.predicted(figure)
    assert figure.tolerance == (2.0 if figure.metric in ("mean_change", "sd_change") else 0.02)
    assert abs(fitted - figure.value) <= figure.tolerance, (
        f"{figure.label}: cited {figure.value:.3f}, model {fitted:.3f}"
    )
    if figure.cohort is None and figure.metric in ("response", "remission"):
        # the curve a course is compared with is the one that reproduces the figure
        assert figure.scale is not None
        curve = ref.curve(
            figure.modality,
            figure.scale,
            figure.with_therapy,
            remission_max=figure.remission_max,
            baseline=figure.baseline,
        )
        if figure.metric == "response":
            served = curve.response_proportion(figure.week)
        else:
            served = curve.remission_proportion(figure.week)
        assert served == pytest.approx(fitted, abs=1e-12)


def test_sessions_and_days_map_to_weeks_as_documented() -> None:
    assert session_week("iv_ketamine", 6) == pytest.approx(2)
    assert session_week("iv_ketamine", 12) == pytest.approx(4)
    assert session_week("esketamine", 8) == pytest.approx(4)
    assert session_week("esketamine", 12) == pytest.approx(8)
    assert session_week("esketamine", 16) == pytest.approx(12)
    # the trials' "day 2" is 24 hours after the first dose: one day of treatment
    day2 = next(f for f in SETS["trials"].figures if f.id == "transform-pooled-response-24h")
    assert day2.week == pytest.approx(1 / 7)
    # ORKA-1: 14-31 days after the end of a 7-28-day induction = days 21-59, midpoint 40
    assert all(f.week == pytest.approx(40 / 7) for f in SETS["real_world"].figures)


# ---------------------------------------------------------------- every curve's shape


def test_every_set_gives_a_curve_for_every_modality_and_scale() -> None:
    assert len(ALL_CURVES) == len(SETS) * len(MODALITIES) * len(SCALES) * 2


@pytest.mark.parametrize(
    "curve", ALL_CURVES[:: len(SCALES)], ids=lambda c: f"{c.reference}:{c.modality}:{c.with_therapy}"
)
def test_percentiles_are_ordered_zero_at_week_0_and_never_above_1(curve: Curve) -> None:
    rows = curve.table()
    assert [r["week"] for r in rows] == list(range(53))
    assert all(rows[0][p] == 0 for p in ("p10", "p25", "p50", "p75", "p90"))
    for row in rows:
        values = [row["p10"], row["p25"], row["p50"], row["p75"], row["p90"]]
        assert values == sorted(values)
        assert values[-1] <= 1


@pytest.mark.parametrize("curve", ALL_CURVES, ids=lambda c: f"{c.reference}:{c.modality}:{c.scale}:{c.with_therapy}")
def test_cumulative_sustained_remission_starts_at_0_and_never_falls(curve: Curve) -> None:
    weeks = np.linspace(0, 52, 209)
    values = np.array([curve.remission_cumulative(w) for w in weeks])
    assert values[0] == 0
    assert np.all((values >= 0) & (values <= 1))
    assert np.all(np.diff(values) >= -1e-12)
    assert curve.remission_cumulative(curve.sustain_weeks) == 0  # 3 weeks in range first


def test_sustained_remission_is_the_remission_range_three_weeks_earlier() -> None:
    curve = SETS["trials"].curve("iv_ketamine", "madrs")
    assert curve.remission_cumulative(7) == pytest.approx(curve.remission_proportion(4))
    longer = SETS["trials"].curve("iv_ketamine", "madrs", sustain_weeks=4)
    assert longer.remission_cumulative(8) == pytest.approx(curve.remission_proportion(4))


def test_a_patients_own_baseline_and_the_clinics_remission_level_set_the_remission_curve() -> None:
    ref = SETS["trials"]
    curve = ref.curve("iv_ketamine", "bdi2", baseline=48, remission_max=13)
    assert curve.remission_improvement == pytest.approx(1 - 13 / 48)
    stricter = ref.curve("iv_ketamine", "madrs", remission_max=12)
    default = ref.curve("iv_ketamine", "madrs")
    assert stricter.remission_cumulative(20) > default.remission_cumulative(20)
    with pytest.raises(ValueError):
        ref.curve("iv_ketamine", "phq9", baseline=4)


def test_borrowed_curves_say_so() -> None:
    trials, seed, real = SETS["trials"], SETS["seed_projection"], SETS["real_world"]
    assert not trials.curve("esketamine", "madrs").borrowed
    assert trials.curve("esketamine", "bdi2").borrowed  # scale without a figure
    im = trials.curve("im_ketamine", "madrs")
    assert im.borrowed and "iv_ketamine" in im.basis
    assert im.params == trials.curve("iv_ketamine", "madrs").params
    assert trials.curve("iv_ketamine", "madrs", with_therapy=True).borrowed  # no psychotherapy figure
    assert not seed.curve("iv_ketamine", "madrs", with_therapy=True).borrowed
    assert seed.curve("iv_ketamine", "madrs", True).params.mu > seed.curve("iv_ketamine", "madrs").params.mu
    rw_esketamine = real.curve("esketamine", "madrs")
    assert rw_esketamine.borrowed and "trials:esketamine" in rw_esketamine.basis
    assert not real.curve("iv_ketamine", "phq9").borrowed
    assert real.curve("iv_ketamine", "madrs").borrowed


def test_published_sets_ignore_severity() -> None:
    ref = SETS["trials"]
    assert ref.curve("iv_ketamine", "madrs", severity="severe").params == ref.curve("iv_ketamine", "madrs").params


def test_the_reference_sets_differ_as_their_sources_do() -> None:
    week = 12
    seed = SETS["seed_projection"].curve("iv_ketamine", "madrs").remission_proportion(week)
    trials = SETS["trials"].curve("iv_ketamine", "madrs").remission_proportion(week)
    real = SETS["real_world"].curve("iv_ketamine", "madrs").remission_proportion(week)
    assert seed > trials > real


def test_a_reference_set_round_trips_through_a_dict() -> None:
    ref = SETS["real_world"]
    again = ReferenceSet.from_dict(ref.to_dict())
    assert again.key == ref.key and again.version == ref.version
    for modality in MODALITIES:
        assert again.curve(modality, "phq9").table() == ref.curve(modality, "phq9").table()


def test_a_set_that_misses_a_modality_is_refused() -> None:
    data = SETS["trials"].to_dict()
    del data["parameters"]["other"]
    with pytest.raises(KeyError):
        ReferenceSet.from_dict(data)


def test_unknown_modality_or_scale_is_refused() -> None:
    with pytest.raises(KeyError):
        SETS["trials"].curve("psilocybin", "madrs")
    with pytest.raises(KeyError):
        SETS["trials"].curve("iv_ketamine", "qids")


# ---------------------------------------------------------------- percentiles and signals


def test_signal_thresholds_are_those_of_clinical_section_4() -> None:
    assert dict(SIGNAL_THRESHOLDS) == {"ahead": 75, "on_track": 25, "at_risk": 10, "off_track": 0}
    assert SIGNALS == ("ahead", "on_track", "at_risk", "off_track", "insufficient_data", "too_early")


@pytest.mark.parametrize(
    ("percentile", "signal"),
    [
        (100, "ahead"),
        (75, "ahead"),
        (74, "on_track"),
        (25, "on_track"),
        (24, "at_risk"),
        (10, "at_risk"),
        (9, "off_track"),
        (0, "off_track"),
        (None, "insufficient_data"),
    ],
)
def test_each_band_includes_its_lower_bound(percentile: int | None, signal: str) -> None:
    assert signal_for(percentile) == signal


@pytest.mark.parametrize("set_key", sorted(SETS))
def test_an_improvement_on_a_percentile_curve_gets_that_percentile(set_key: str) -> None:
    curve = SETS[set_key].curve("iv_ketamine", "madrs")
    for week in (MIN_COMPARISON_WEEK, 0.5, 1, 2, 3, 4, 6, 9, 26, 52):
        expected = curve.improvement_percentiles(week)
        for name, value in expected.items():
            if value >= 1:
                continue  # capped: a score of 0
            assert curve.percentile_of(week, value) == int(name[1:]), (week, name)


def test_signals_at_the_exact_boundaries() -> None:
    curve = SETS["trials"].curve("iv_ketamine", "madrs")
    q = curve.improvement_percentiles(4)

    low = (21, -0.5)  # the assessment before, below the 10th percentile

    def at(improvement: float) -> tuple[int | None, str]:
        c = compare_to_reference(curve, day=28, improvement=improvement, previous=low)
        return c.percentile, c.signal

    assert at(q["p75"]) == (75, "ahead")
    assert at(q["p75"] - 1e-6) == (74, "on_track")
    assert at(q["p25"]) == (25, "on_track")
    assert at(q["p25"] - 1e-6) == (24, "at_risk")
    assert at(q["p10"]) == (10, "at_risk")
    assert at(q["p10"] - 1e-6) == (9, "off_track")


def test_a_score_of_0_is_the_100th_percentile_and_worsening_is_off_track() -> None:
    curve = SETS["trials"].curve("iv_ketamine", "madrs")
    assert curve.percentile_of(4, 1.0) == 100
    assert compare_to_reference(curve, day=28, improvement=-0.5, previous=(21, -0.4)).signal == "off_track"
    assert compare_to_reference(curve, day=28, improvement=-0.5).signal == "at_risk"  # one alone


def test_comparison_as_the_api_shows_it() -> None:
    curve = SETS["trials"].curve("iv_ketamine", "madrs")
    comparison = compare_to_reference(curve, day=66, improvement=0.9)
    d = comparison.as_dict()
    assert set(d) == {
        "reference",
        "reference_kind",
        "reference_label",
        "week",
        "percentile",
        "signal",
        "expected_improvement",
    }
    assert d["reference"] == "trials"
    assert d["reference_kind"] == "published_prior"
    assert d["reference_label"].startswith("Published prior (TRANSFORM-2")
    assert d["week"] == 9 and isinstance(d["week"], int)
    assert isinstance(d["percentile"], int) and 0 <= d["percentile"] <= 100
    assert d["signal"] == "ahead"
    assert list(d["expected_improvement"]) == ["p10", "p25", "p50", "p75", "p90"]


@pytest.mark.parametrize(
    ("day", "improvement"),
    [(None, 0.5), (28, None), (0, 0.0), (28, math.nan)],
)
def test_insufficient_data(day: int | None, improvement: float | None) -> None:
    curve = SETS["trials"].curve("esketamine", "madrs")
    comparison = compare_to_reference(curve, day=day, improvement=improvement)
    assert comparison.signal == "insufficient_data"
    assert comparison.percentile is None
    if day is None:
        assert comparison.as_dict()["expected_improvement"] is None
    else:
        assert set(comparison.as_dict()["expected_improvement"]) == {"p10", "p25", "p50", "p75", "p90"}


def test_week_of_treatment() -> None:
    start = date(2026, 1, 5)
    assert week_of_treatment(start, start) == 0
    assert week_of_treatment(start, start + timedelta(days=6)) == 0
    assert week_of_treatment(start, start + timedelta(days=7)) == 1
    assert week_of_treatment(start, start + timedelta(days=64)) == 9
    assert week_of_treatment(start, start - timedelta(days=3)) == 0
    assert weeks_since_start(start, start + timedelta(days=10)) == pytest.approx(10 / 7)


# ---------------------------------------------------------------- vectorised == scalar


def _scalar_percentile(curve: Curve, week: float, improvement: float) -> float:
    if not week >= MIN_COMPARISON_WEEK or math.isnan(improvement):
        return math.nan
    return float(curve.percentile_of(week, improvement))


@pytest.mark.parametrize("set_key", sorted(SETS))
def test_vectorised_percentiles_and_signals_match_the_scalar_ones(set_key: str) -> None:
    rng = np.random.default_rng(20260105)
    curve = SETS[set_key].curve("iv_ketamine", "phq9")
    weeks = np.concatenate([rng.uniform(0, 60, 3000), [0.0, MIN_COMPARISON_WEEK, 4, 4, 4, np.nan]])
    improvements = np.concatenate([rng.uniform(-2, 1.2, 3000), [0.3, 0.3, 1.0, -5.0, np.nan, 0.5]])
    q = curve.improvement_percentiles(4)
    weeks = np.concatenate([weeks, [4.0] * 5])
    improvements = np.concatenate([improvements, [q["p10"], q["p25"], q["p50"], q["p75"], q["p90"]]])
    vector = percentiles_of(curve, weeks, improvements)
    scalar = np.array(
        [
            math.nan if math.isnan(w) else _scalar_percentile(curve, w, x)
            for w, x in zip(weeks, improvements, strict=True)
        ]
    )
    np.testing.assert_array_equal(vector, scalar)
    codes = signals_of(vector)
    names = [SIGNALS[c] for c in codes]
    assert names == [signal_for(None if math.isnan(p) else int(p)) for p in scalar]
    low = (7, -5.0)  # a previous assessment below the 10th percentile: the band is the signal
    for day in range(14, 60, 3):
        for x in improvements[:20]:
            band = signal_for(None if math.isnan(x) else curve.percentile_of(day / 7, x))
            assert compare_to_reference(curve, day=day, improvement=x, previous=low).signal == band


@settings(max_examples=300, deadline=None)
@given(
    week=st.floats(min_value=0, max_value=60, allow_nan=False),
    improvement=st.floats(min_value=-3, max_value=1.5, allow_nan=False),
    index=st.integers(min_value=0, max_value=len(ALL_CURVES) - 1),
)
def test_vectorised_matches_scalar_for_any_input(week: float, improvement: float, index: int) -> None:
    curve = ALL_CURVES[index]
    vector = percentiles_of(curve, np.array([week]), np.array([improvement]))[0]
    scalar = _scalar_percentile(curve, week, improvement)
    assert (math.isnan(vector) and math.isnan(scalar)) or vector == scalar
    if not math.isnan(scalar):
        assert 0 <= scalar <= 100
