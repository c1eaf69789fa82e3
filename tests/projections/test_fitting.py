"""Fitting: the published parameters regenerate from their figures; a clinic's own curves
recover the model they were drawn from, stratified by baseline severity."""

from __future__ import annotations

import json

import numpy as np
import pytest

from projections.math.fitting import (
    ClinicCourse,
    NotEnoughData,
    fit_clinic_reference,
    fit_published_parameters,
    refit_published,
)
from projections.math.model import ModelParams, improvement_quantiles
from projections.math.reference_sets import MODALITIES, SCALES, ReferenceSet, load_reference_sets

PUBLISHED = load_reference_sets()


# ---------------------------------------------------------------- published sets


def test_refitting_gives_the_stored_parameters() -> None:
    refitted = refit_published()
    assert set(refitted) == set(PUBLISHED)
    for key, data in refitted.items():
        stored = PUBLISHED[key].to_dict()["parameters"]
        assert set(data["parameters"]) == set(stored)
        for entry_key, entry in data["parameters"].items():
            for name, value in entry.items():
                if isinstance(value, float):
                    assert value == pytest.approx(stored[entry_key][name], abs=1e-4), f"{key}:{entry_key}.{name}"
                elif isinstance(value, dict) and name == "cohort_mu":
                    for cohort, mu in value.items():
                        assert mu == pytest.approx(stored[entry_key][name][cohort], abs=1e-4)


def test_borrowed_parameters_equal_their_source() -> None:
    for ref in PUBLISHED.values():
        for entry_key, entry in ref.parameters.items():
            for name, source in entry.get("fixed", {}).items():
                set_key, _, source_entry = source.partition(":")
                assert entry[name] == PUBLISHED[set_key].parameters[source_entry][name], f"{ref.key}:{entry_key}.{name}"


def test_a_fit_with_more_parameters_than_figures_is_refused() -> None:
    data = PUBLISHED["real_world"].to_dict()
    data["figures"] = data["figures"][:1]
    with pytest.raises(ValueError, match="free parameters but only 1 figures"):
        fit_published_parameters(data, others={"trials": PUBLISHED["trials"].to_dict()})


# ---------------------------------------------------------------- clinic sets


def _improvement(h: np.ndarray, week: np.ndarray, tau: float, shape: float) -> np.ndarray:
    """The documented model, written out independently of projections.math.model."""
    y = h * (1 - np.exp(-week / tau))
    if shape == 0:
        return 1 - np.exp(-y)
    inside = shape * y < 1
    return np.where(inside, 1 - np.power(np.clip(1 - shape * y, 0, None), 1 / shape), 1.0)


def _courses(
    n: int,
    *,
    mu: float,
    sigma: float,
    tau: float,
    shape: float = 0.0,
    severity: str = "severe",
    modality: str = "iv_ketamine",
    scale: str = "madrs",
    seed: int = 1,
    weeks: int = 16,
) -> list[ClinicCourse]:
    rng = np.random.default_rng(seed)
    h = rng.normal(mu, sigma, n)
    days = [7 * w + rng.integers(-2, 3, n) for w in range(1, weeks + 1)]  # weekly, +/- 2 days
    baselines = rng.integers(28, 45, n)
    trajectories = [_improvement(h, d / 7, tau, shape) for d in (np.asarray(x, dtype=float) for x in days)]
    courses = []
    for i in range(n):
        improvements = [(float(days[k][i]) / 7, float(trajectories[k][i])) for k in range(weeks)]
        remitted = next((w for w, x in improvements if x >= 1 - 10 / baselines[i]), None)
        courses.append(
            ClinicCourse(
                modality=modality,
                with_therapy=bool(i % 2),
                scale=scale,
                baseline_total=float(baselines[i]),
                severity=severity,
                improvements=improvements,
                remission_confirmed_week=None if remitted is None else remitted + 3,
            )
        )
    return courses


def _max_band_gap(ref: ReferenceSet, truth: tuple[float, float, float, float], severity: str | None = None) -> float:
    curve = ref.curve("iv_ketamine", "madrs", severity=severity)
    weeks = np.arange(0, 53, dtype=float)
    return float(
        np.abs(improvement_quantiles(curve.params, weeks) - improvement_quantiles(ModelParams(*truth), weeks)).max()
    )


@pytest.mark.parametrize(
    "truth",
    [(1.1, 0.7, 2.5, 0.0), (0.65, 0.3, 1.5, 1.0)],
    ids=["log-model", "linear-model"],
)
def test_a_clinic_fit_recovers_the_model_it_was_drawn_from(truth: tuple[float, float, float, float]) -> None:
    mu, sigma, tau, shape = truth
    ref = fit_clinic_reference(
        _courses(2000, mu=mu, sigma=sigma, tau=tau, shape=shape), key="clinic:7", title="Clinic 7"
    )
    params = ref.curve("iv_ketamine", "madrs").params
    assert params.mu == pytest.approx(mu, abs=0.05)
    assert params.sigma == pytest.approx(sigma, rel=0.1)
    assert params.tau == pytest.approx(tau, rel=0.1)
    assert params.shape == pytest.approx(shape, abs=0.15)
    assert _max_band_gap(ref, truth) < 0.03


def test_clinic_curves_are_stratified_by_baseline_severity() -> None:
    courses = (
        _courses(1000, mu=0.7, sigma=0.5, tau=2.0, severity="severe", seed=2)
        + _courses(1000, mu=1.5, sigma=0.5, tau=2.0, severity="moderate", seed=3)
        + _courses(6, mu=3.0, sigma=0.5, tau=2.0, severity="mild", seed=4)
    )
    ref = fit_clinic_reference(courses, key="clinic:7", title="Clinic 7")
    severe = ref.curve("iv_ketamine", "madrs", severity="severe")
    moderate = ref.curve("iv_ketamine", "madrs", severity="moderate")
    assert not severe.borrowed and not moderate.borrowed
    assert _max_band_gap(ref, (0.7, 0.5, 2.0, 0.0), severity="severe") < 0.04
    assert _max_band_gap(ref, (1.5, 0.5, 2.0, 0.0), severity="moderate") < 0.04
    assert severe.improvement_percentiles(8)["p50"] < moderate.improvement_percentiles(8)["p50"]
    mild = ref.curve("iv_ketamine", "madrs", severity="mild")  # 6 courses: the pooled curve
    pooled = ref.curve("iv_ketamine", "madrs")
    assert mild.borrowed and "pooled" in mild.basis
    assert mild.params == pooled.params
    assert ref.parameters["iv_ketamine/madrs"]["n_courses"] == 2006


def test_fewer_than_30_completed_courses_is_not_enough() -> None:
    courses = _courses(29, mu=1.0, sigma=0.5, tau=2.0)
    with pytest.raises(NotEnoughData, match="29 completed courses; at least 30"):
        fit_clinic_reference(courses, key="clinic:1", title="Clinic 1")
    fit_clinic_reference(_courses(30, mu=1.0, sigma=0.5, tau=2.0), key="clinic:1", title="Clinic 1")
    with pytest.raises(NotEnoughData):
        fit_clinic_reference(courses, key="clinic:1", title="Clinic 1", min_courses=50)


def test_courses_without_enough_observations_per_week_are_not_enough() -> None:
    courses = [ClinicCourse("iv_ketamine", False, "madrs", 30, "severe", [(float(i % 40) + 1, 0.5)]) for i in range(40)]
    with pytest.raises(NotEnoughData, match="no treatment week"):
        fit_clinic_reference(courses, key="clinic:1", title="Clinic 1")


def test_a_clinic_set_is_stored_as_json_and_answers_every_modality_and_scale() -> None:
    courses = _courses(60, mu=1.0, sigma=0.6, tau=2.0, scale="phq9", seed=5)
    ref = fit_clinic_reference(courses, key="clinic:42", title="Our own patients", version=3)
    stored = json.loads(json.dumps(ref.to_dict()))
    again = ReferenceSet.from_dict(stored)
    assert (again.key, again.version, again.title) == ("clinic:42", 3, "Our own patients")
    for modality in MODALITIES:
        for scale in SCALES:
            assert again.curve(modality, scale).table() == ref.curve(modality, scale).table()
    assert not again.curve("iv_ketamine", "phq9").borrowed
    assert again.curve("iv_ketamine", "madrs").borrowed  # the modality pooled over scales
    esketamine = again.curve("esketamine", "phq9")
    assert esketamine.borrowed and "'*'" in esketamine.basis  # no esketamine course: all pooled
    # the clinic's own typical baseline turns PHQ-9 <= 4 into an improvement threshold
    baseline = again.parameters["iv_ketamine/phq9"]["typical_baseline"]
    assert again.curve("iv_ketamine", "phq9").baseline == baseline
    observed = again.parameters["iv_ketamine/phq9"]["observed_remission_cumulative"]
    assert set(observed) == {"4", "8", "12"}
    assert all(0 <= v <= 1 for v in observed.values())


def test_unknown_modality_is_refused() -> None:
    courses = _courses(30, mu=1.0, sigma=0.5, tau=2.0, modality="psilocybin")
    with pytest.raises(ValueError, match="unknown modalities"):
        fit_clinic_reference(courses, key="clinic:1", title="Clinic 1")
