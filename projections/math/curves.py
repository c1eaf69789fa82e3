"""Expected-recovery reference curves and the per-patient comparison (CLINICAL.md §4).

Pure: the standard library, numpy, scipy.special and ``scoring`` (whose thresholds it reads);
no Django. The published reference sets live as versioned JSON in ``projections/data/``;
``projections/README.md`` explains the figures, the assumptions and how the parameters were
fitted.

The model
---------
Every patient ``i`` has a latent asymptote ``H_i ~ Normal(mu, sigma)`` and approaches it
exponentially with a time constant ``tau`` (weeks) shared by the population; improvement is
the Box-Cox transform ``h`` of shape ``lambda >= 0`` (``params.shape``) mapped back::

    g(w)      = 1 - exp(-w / tau)                       (0 at week 0, -> 1)
    h(I)      = (1 - (1 - I)**lambda) / lambda          (lambda -> 0: -ln(1 - I))
    I_i(w)    = h^-1(H_i * g(w)),  capped at 1          improvement = (baseline - score) / baseline

``lambda = 0`` makes ``H`` the log symptom ratio (``score / baseline = exp(-H g)``), a long
tail of worsening and no patient at exactly 1; ``lambda = 1`` is the linear model
``I = A (1 - exp(-w / tau))`` with ``A ~ Normal``, where ``H >= 1/lambda`` means a score of 0.
Each patient's trajectory is monotone, and since ``I`` increases with ``H`` the population
quantiles are::

    q_p(w)    = h^-1((mu + z_p * sigma) * g(w))          z_p = Phi^-1(p); every q_p(0) = 0

and the proportion at or above an improvement ``c <= 1`` at week ``w > 0`` is::

    P(I(w) >= c) = 1 - Phi((h(c) / g(w) - mu) / sigma)

* Response (CLINICAL §2): ``c = 0.5``. Worsening: ``P(I < 0) = Phi(-mu / sigma)``.
* Remission range (score <= remission_max) from a baseline B: ``c = 1 - remission_max / B``.
  A published set uses a typical baseline per scale (``TYPICAL_BASELINES``, an assumption);
  a curve can be built for a patient's own baseline.
* Sustained remission (ACNP, 3 weeks in range): trajectories are monotone, so a patient in
  range at week ``w`` stays in range, and remission is confirmed ``sustain_weeks`` after
  entering the range. The expected cumulative proportion in sustained remission by week ``w``
  is therefore ``P(I(w - sustain_weeks) >= c)``: 0 until ``sustain_weeks``, non-decreasing,
  and below 1.

The percentile of a patient's improvement ``x < 1`` at week ``w`` is ``F(x) = Phi((h(x)/g(w)
- mu) / sigma)`` (``F = 1`` at ``x >= 1``), reported as ``floor(100 F + 1e-9)``: an
improvement exactly on the 75th-percentile curve is 75 (the epsilon absorbs floating-point
error only). Signals, from that integer, each band including its lower bound (§4):
``ahead`` >= 75, ``on_track`` 25-74, ``at_risk`` 10-24, ``off_track`` < 10.
"""

from __future__ import annotations

import copy
import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import ndtr, ndtri

import scoring

DATA_DIR = Path(__file__).resolve().parent.parent / "data"

MODALITIES: tuple[str, ...] = ("iv_ketamine", "im_ketamine", "esketamine", "oral_ketamine", "other")
SCALES: tuple[str, ...] = tuple(scoring.SCALES)

# The clinical thresholds come from scoring/ (the one place they live): response = improvement
# >= 50 %, remission confirmed after 21 days in range, each scale's default remission level.
RESPONSE_IMPROVEMENT = float(scoring.RESPONSE)
DEFAULT_SUSTAIN_WEEKS = scoring.SUSTAIN_DAYS / 7


def default_remission_max(scale: str) -> int:
    """The scale's default remission level (score <= level), from scoring."""
    return scoring.get_scale(scale).remission_max


# Typical baseline of a treatment-resistant population starting ketamine or esketamine, per
# scale: a documented ASSUMPTION (README "Assumptions"), used to turn "score <= remission_max"
# into an improvement threshold when no baseline is given. MADRS 34 sits at the top of the
# moderate band (the TRANSFORM-1/2 esketamine arms averaged about 37); the others are placed
# at a comparable severity on their own scales.
TYPICAL_BASELINES: Mapping[str, float] = MappingProxyType({"bdi2": 32, "madrs": 34, "hamd17": 24, "phq9": 19})

PERCENTILES: tuple[tuple[str, float], ...] = (
    ("p10", 0.10),
    ("p25", 0.25),
    ("p50", 0.50),
    ("p75", 0.75),
    ("p90", 0.90),
)
_Z = np.array([ndtri(p) for _, p in PERCENTILES])

# Lowest percentile (inclusive) of each signal's band, CLINICAL.md §4. The one place these live.
SIGNAL_THRESHOLDS: Mapping[str, int] = MappingProxyType({"ahead": 75, "on_track": 25, "at_risk": 10, "off_track": 0})
INSUFFICIENT_DATA = "insufficient_data"
# Codes of ``signals_of``: the index in this tuple.
SIGNALS: tuple[str, ...] = ("ahead", "on_track", "at_risk", "off_track", INSUFFICIENT_DATA)
# No comparison before one day of treatment: at week 0 every expected improvement is 0.
MIN_COMPARISON_WEEK = 1 / 7

PERCENTILE_EPS = 1e-9
# What a cited figure may count: the proportion in remission range, responding (>= 50 %), or
# worse than baseline (improvement < 0).
FIGURE_METRICS = ("remission", "response", "worsened")


@dataclass(frozen=True)
class ModelParams:
    """``H ~ Normal(mu, sigma)``; ``tau`` in weeks; ``shape`` the Box-Cox lambda (>= 0)."""

    mu: float
    sigma: float
    tau: float
    shape: float = 0.0

    def __post_init__(self) -> None:
        if not (self.sigma > 0 and self.tau > 0 and self.shape >= 0 and math.isfinite(self.mu)):
            raise ValueError(f"invalid model parameters {self}")

    def as_dict(self) -> dict[str, float]:
        return {"mu": self.mu, "sigma": self.sigma, "tau": self.tau, "shape": self.shape}


def _g(params: ModelParams, weeks: NDArray[np.float64]) -> NDArray[np.float64]:
    return np.where(weeks > 0, -np.expm1(-np.maximum(weeks, 0.0) / params.tau), 0.0)


def _h(params: ModelParams, x: NDArray[np.float64]) -> NDArray[np.float64]:
    """Improvement -> latent scale; ``x >= 1`` maps to the cap (``1/lambda``, or inf)."""
    lam = params.shape
    below = x < 1
    log_rest = np.log1p(-np.where(below, x, 0.0))  # ln(1 - x)
    if lam == 0:
        return np.where(below, -log_rest, np.inf)
    return np.where(below, -np.expm1(lam * log_rest) / lam, 1.0 / lam)


def _h_inverse(params: ModelParams, y: NDArray[np.float64]) -> NDArray[np.float64]:
    """Latent scale -> improvement, capped at 1."""
    lam = params.shape
    if lam == 0:
        return np.asarray(-np.expm1(-y), dtype=float)
    inside = lam * y < 1
    return np.where(inside, -np.expm1(np.log1p(-np.where(inside, lam * y, 0.0)) / lam), 1.0)


def proportion_at_least(params: ModelParams, weeks: ArrayLike, improvement: float) -> NDArray[np.float64]:
    """``P(I(w) >= improvement)`` (at week <= 0 every improvement is 0)."""
    w = np.asarray(weeks, dtype=float)
    if improvement > 1:
        return np.zeros(w.shape)
    g = _g(params, w)
    t = _h(params, np.asarray(float(improvement)))
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        z = (t / g - params.mu) / params.sigma
    p = 1.0 - ndtr(z)
    return np.asarray(np.where(g > 0, p, 1.0 if improvement <= 0 else 0.0), dtype=float)


def improvement_quantiles(params: ModelParams, weeks: ArrayLike) -> NDArray[np.float64]:
    """Model quantiles p10..p90 of improvement: shape ``weeks.shape + (5,)``."""
    g = _g(params, np.asarray(weeks, dtype=float))
    r = params.mu + _Z * params.sigma
    return np.asarray(_h_inverse(params, np.multiply.outer(g, r)) + 0.0, dtype=float)  # no -0.0


def improvement_cdf(params: ModelParams, weeks: NDArray[np.float64], x: NDArray[np.float64]) -> NDArray[np.float64]:
    """``P(I(w) <= x)``; NaN where week < MIN_COMPARISON_WEEK or x is NaN."""
    g = _g(params, weeks)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        z = (_h(params, x) / g - params.mu) / params.sigma
    cdf = np.where(x >= 1, 1.0, ndtr(z))
    valid = (weeks >= MIN_COMPARISON_WEEK) & ~np.isnan(x) & ~np.isnan(weeks)
    return np.asarray(np.where(valid, cdf, np.nan), dtype=float)


def _to_percentile(cdf: NDArray[np.float64]) -> NDArray[np.float64]:
    return np.clip(np.floor(100.0 * cdf + PERCENTILE_EPS), 0, 100)


@dataclass(frozen=True)
class Curve:
    """The expected trajectory of one treatment and scale under one reference set."""

    reference: str
    reference_title: str
    modality: str
    scale: str
    with_therapy: bool
    params: ModelParams
    borrowed: bool
    remission_max: float
    baseline: float
    basis: str = ""
    severity: str | None = None
    sustain_weeks: float = DEFAULT_SUSTAIN_WEEKS
    fitted_to: tuple[str, ...] = field(default=())

    @property
    def remission_improvement(self) -> float:
        """The improvement at which the score enters the remission range from ``baseline``."""
        return 1.0 - self.remission_max / self.baseline

    def improvement_percentiles(self, week: float) -> dict[str, float]:
        q = improvement_quantiles(self.params, week)
        return {name: float(v) for (name, _), v in zip(PERCENTILES, q, strict=True)}

    def percentile_of(self, week: float, improvement: float) -> int:
        """Population percentile (0-100) of ``improvement`` at ``week``."""
        if not week >= MIN_COMPARISON_WEEK:
            raise ValueError(f"no percentile before week {MIN_COMPARISON_WEEK:.3f}")
        if math.isnan(improvement):
            raise ValueError("improvement is NaN")
        cdf = improvement_cdf(self.params, np.asarray(float(week)), np.asarray(float(improvement)))
        return int(_to_percentile(cdf))

    def response_proportion(self, week: float) -> float:
        return float(proportion_at_least(self.params, week, RESPONSE_IMPROVEMENT))

    def remission_proportion(self, week: float) -> float:
        """Point proportion in the remission range at ``week`` (not yet sustained)."""
        return float(proportion_at_least(self.params, week, self.remission_improvement))

    def remission_cumulative(self, week: float) -> float:
        """Expected cumulative proportion in confirmed (sustained) remission by ``week``."""
        return self.remission_proportion(week - self.sustain_weeks)

    def table(self, max_week: int = 52) -> list[dict[str, float]]:
        weeks = np.arange(0, max_week + 1, dtype=float)
        q = improvement_quantiles(self.params, weeks)
        rem = proportion_at_least(self.params, weeks - self.sustain_weeks, self.remission_improvement)
        rows: list[dict[str, float]] = []
        for i, w in enumerate(weeks):
            row: dict[str, float] = {"week": int(w)}
            row.update({name: float(q[i, j]) for j, (name, _) in enumerate(PERCENTILES)})
            row["remission_cumulative"] = float(rem[i])
            rows.append(row)
        return rows


# ---------------------------------------------------------------------------- figures


def _midpoint(value: Any) -> float:
    if isinstance(value, (list, tuple)):
        lo, hi = (float(v) for v in value)
        return (lo + hi) / 2
    return float(value)


def session_week(modality: str, sessions: float) -> float:
    """Week at which ``sessions`` treatment sessions are complete (README "Timing").

    Ketamine (IV, IM, oral, other): thrice weekly, so session n ends week n/3 (6 infusions =
    week 2, 12 = week 4). Esketamine on its label schedule: twice weekly in weeks 1-4 (dose n
    = week n/2 up to dose 8), then weekly (dose n = week n - 4: 12 doses = week 8, 16 doses = week 12).
    """
    if sessions < 0:
        raise ValueError("sessions must be >= 0")
    if modality == "esketamine":
        return sessions / 2 if sessions <= 8 else sessions - 4
    return sessions / 3


@dataclass(frozen=True)
class Figure:
    """One cited figure of a reference set, with the week it is fitted at."""

    id: str
    label: str
    modality: str
    with_therapy: bool
    scale: str | None
    metric: str
    week: float
    value: float
    remission_max: float | None
    baseline: float | None
    cohort: str | None
    source: str
    data: Mapping[str, Any]

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Figure:
        modality = d["modality"]
        metric = d["metric"]
        if metric not in FIGURE_METRICS:
            raise ValueError(f"figure {d.get('id')}: unknown metric {metric!r}")
        timing = [k for k in ("week", "weeks", "days", "sessions") if k in d]
        if len(timing) != 1:
            raise ValueError(f"figure {d.get('id')}: give exactly one of week, weeks, days, sessions")
        kind = timing[0]
        if kind in ("week", "weeks"):
            week = _midpoint(d[kind])
        elif kind == "days":
            week = _midpoint(d["days"]) / 7
        else:
            week = session_week(modality, _midpoint(d["sessions"]))
        # a range (low-high) is fitted to its midpoint
        value = float(d["value"]) if "value" in d else (float(d["low"]) + float(d["high"])) / 2
        scale = d.get("scale")
        remission_max = d.get("remission_max")
        baseline = d.get("baseline")
        if metric == "remission":
            if scale is None:
                raise ValueError(f"figure {d.get('id')}: a remission figure needs a scale")
            if remission_max is None:
                remission_max = default_remission_max(scale)
            if baseline is None:
                baseline = TYPICAL_BASELINES[scale]
        return cls(
            id=d["id"],
            label=d.get("label", d["id"]),
            modality=modality,
            with_therapy=bool(d.get("with_therapy", False)),
            scale=scale,
            metric=metric,
            week=week,
            value=value,
            remission_max=None if remission_max is None else float(remission_max),
            baseline=None if baseline is None else float(baseline),
            cohort=d.get("cohort"),
            source=d["source"],
            data=MappingProxyType(dict(d)),
        )

    @property
    def threshold(self) -> float:
        """The improvement this figure counts at or above (below, for ``worsened``)."""
        if self.metric == "response":
            return RESPONSE_IMPROVEMENT
        if self.metric == "worsened":
            return 0.0
        assert self.remission_max is not None and self.baseline is not None
        return 1.0 - self.remission_max / self.baseline

    def predict(self, params: ModelParams) -> float:
        """The model's value for this figure."""
        at_least = float(proportion_at_least(params, self.week, self.threshold))
        return 1.0 - at_least if self.metric == "worsened" else at_least


def entry_params(entry: Mapping[str, Any], *, cohort: str | None = None, with_therapy: bool = False) -> ModelParams:
    """The parameters of an entry, with a cohort's or the with-psychotherapy ``mu``."""
    mu = entry["mu"]
    if cohort is not None:
        mu = entry["cohort_mu"][cohort]
    elif with_therapy and "mu_with_therapy" in entry:
        mu = entry["mu_with_therapy"]
    return ModelParams(float(mu), float(entry["sigma"]), float(entry["tau"]), float(entry.get("shape", 0.0)))


def predicted_value(entry: Mapping[str, Any], figure: Figure) -> float:
    """What a parameter entry predicts for one of its figures."""
    return figure.predict(entry_params(entry, cohort=figure.cohort, with_therapy=figure.with_therapy))


# ---------------------------------------------------------------------------- sets


@dataclass(frozen=True, eq=False)
class ReferenceSet:
    """A versioned set of cited figures and the fitted parameters of every modality.

    ``parameters`` maps a key to an entry ``{"mu", "sigma", "tau", ...}`` or ``{"same_as":
    key}``. Published sets key by modality; clinic-fitted sets (``projections.math.fitting``) by
    ``modality/scale/severity``, ``modality/scale``, ``modality`` and ``*`` (all pooled). A
    curve is looked up in that order.
    """

    key: str
    version: int
    title: str
    description: str
    figures: tuple[Figure, ...]
    parameters: Mapping[str, Mapping[str, Any]]
    typical_baselines: Mapping[str, float]
    data: Mapping[str, Any]

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ReferenceSet:
        data = copy.deepcopy(dict(d))
        for required in ("key", "version", "title", "parameters"):
            if required not in data:
                raise ValueError(f"reference set lacks {required!r}")
        figures = tuple(Figure.from_dict(f) for f in data.get("figures", []))
        ids = [f.id for f in figures]
        if len(set(ids)) != len(ids):
            raise ValueError(f"reference set {data['key']}: duplicate figure ids")
        baselines = dict(TYPICAL_BASELINES)
        baselines.update({k: float(v) for k, v in data.get("typical_baselines", {}).items()})
        ref = cls(
            key=str(data["key"]),
            version=int(data["version"]),
            title=str(data["title"]),
            description=str(data.get("description", "")),
            figures=figures,
            parameters=MappingProxyType({k: MappingProxyType(dict(v)) for k, v in data["parameters"].items()}),
            typical_baselines=MappingProxyType(baselines),
            data=MappingProxyType(data),
        )
        for modality in MODALITIES:  # every set answers every modality x scale
            for scale in SCALES:
                ref.curve(modality, scale)
        return ref

    def to_dict(self) -> dict[str, Any]:
        return copy.deepcopy(dict(self.data))

    def _entry(self, key: str) -> tuple[Mapping[str, Any], str] | None:
        seen = []
        while key in self.parameters:
            entry = self.parameters[key]
            if "same_as" not in entry:
                return entry, key
            seen.append(key)
            key = entry["same_as"]
            if key in seen:
                raise ValueError(f"reference set {self.key}: same_as cycle at {key!r}")
        return None

    def figures_for(self, modality: str) -> tuple[Figure, ...]:
        return tuple(f for f in self.figures if f.modality == modality)

    def curve(
        self,
        modality: str,
        scale: str,
        with_therapy: bool = False,
        *,
        severity: str | None = None,
        remission_max: float | None = None,
        baseline: float | None = None,
        sustain_weeks: float = DEFAULT_SUSTAIN_WEEKS,
    ) -> Curve:
        """The curve for a course; ``severity`` only matters for clinic-fitted sets."""
        if modality not in MODALITIES:
            raise KeyError(f"unknown modality {modality!r}")
        if scale not in SCALES:
            raise KeyError(f"unknown scale {scale!r}")
        candidates = [f"{modality}/{scale}", modality, "*"]
        if severity is not None:
            candidates.insert(0, f"{modality}/{scale}/{severity}")
        hits = ((i, self._entry(key)) for i, key in enumerate(candidates))
        position, found = next(((i, hit) for i, hit in hits if hit is not None), (-1, None))
        if found is None:
            raise KeyError(f"reference set {self.key} has no parameters for {modality}")
        entry, used = found
        notes: list[str] = []
        borrowed = False
        if used != candidates[position]:
            borrowed = True
            notes.append(f"{modality} uses the {used} curve (no figure of its own)")
        if "mu" not in entry or "sigma" not in entry or "tau" not in entry:
            raise ValueError(f"reference set {self.key}: entry {used!r} has no fitted parameters")
        if entry.get("source") == "clinic":
            fitted_to: tuple[str, ...] = ()
            if position > 0:
                borrowed = True
                notes.append(f"pooled curve {used!r} (too few courses in {candidates[0]!r})")
            baseline_default = float(entry.get("typical_baseline", self.typical_baselines[scale]))
        else:
            figs = self.figures_for(used)
            fitted_to = tuple(f.id for f in figs)
            if not figs:
                borrowed = True
                notes.append(f"no figure in this set: parameters taken from {_describe_fixed(entry)}")
            elif scale not in {f.scale for f in figs}:
                borrowed = True
                fitted_scales = sorted({f.scale for f in figs if f.scale})
                notes.append(f"fitted to {', '.join(fitted_scales)} figures; {scale} shares that improvement model")
            if with_therapy and "mu_with_therapy" not in entry:
                borrowed = True
                notes.append("no figure with psychotherapy: the same curve as without")
            baseline_default = self.typical_baselines[scale]
        level = float(remission_max if remission_max is not None else default_remission_max(scale))
        base = float(baseline if baseline is not None else baseline_default)
        if not base > level:
            raise ValueError("a baseline already in the remission range has no remission curve")
        return Curve(
            reference=self.key,
            reference_title=self.title,
            modality=modality,
            scale=scale,
            with_therapy=with_therapy,
            params=entry_params(entry, with_therapy=with_therapy),
            borrowed=borrowed,
            basis="; ".join(notes) if notes else "fitted to this set's figures",
            severity=severity,
            remission_max=level,
            baseline=base,
            sustain_weeks=sustain_weeks,
            fitted_to=fitted_to,
        )

    def predicted(self, figure: Figure) -> float:
        """The fitted model's value for one of this set's figures."""
        found = self._entry(figure.modality)
        if found is None:
            raise KeyError(figure.modality)
        return predicted_value(found[0], figure)


def _describe_fixed(entry: Mapping[str, Any]) -> str:
    fixed = entry.get("fixed", {})
    sources = sorted(set(fixed.values()))
    return ", ".join(sources) if sources else "elsewhere"


@lru_cache(maxsize=8)
def _load(directory: str) -> tuple[ReferenceSet, ...]:
    sets = []
    for path in sorted(Path(directory).glob("*.json")):
        with path.open(encoding="utf-8") as fh:
            sets.append(ReferenceSet.from_dict(json.load(fh)))
    keys = [s.key for s in sets]
    if len(set(keys)) != len(keys):
        raise ValueError(f"duplicate reference set keys in {directory}")
    return tuple(sets)


def load_reference_sets(directory: str | Path | None = None) -> dict[str, ReferenceSet]:
    """The published reference sets by key (parsed once per directory, then cached)."""
    return {s.key: s for s in _load(str(Path(directory or DATA_DIR).resolve()))}


# ---------------------------------------------------------------------------- comparison


def signal_for(percentile: int | None) -> str:
    """The §4 signal of a whole-number percentile; ``None`` is ``insufficient_data``."""
    if percentile is None:
        return INSUFFICIENT_DATA
    for signal, lowest in SIGNAL_THRESHOLDS.items():
        if percentile >= lowest:
            return signal
    return "off_track"


@dataclass(frozen=True)
class Comparison:
    reference: str
    week: int | None
    percentile: int | None
    signal: str
    expected_improvement: dict[str, float] | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "reference": self.reference,
            "week": self.week,
            "percentile": self.percentile,
            "signal": self.signal,
            "expected_improvement": None if self.expected_improvement is None else dict(self.expected_improvement),
        }


def compare_to_reference(curve: Curve, *, week: float | None, improvement: float | None) -> Comparison:
    """Percentile and signal of the latest improvement at ``week`` (pass days / 7)."""
    if week is None or math.isnan(week):
        return Comparison(curve.reference, None, None, INSUFFICIENT_DATA, None)
    expected = curve.improvement_percentiles(max(week, 0.0))
    whole_week = max(math.floor(week), 0)
    if improvement is None or math.isnan(improvement) or week < MIN_COMPARISON_WEEK:
        return Comparison(curve.reference, whole_week, None, INSUFFICIENT_DATA, expected)
    percentile = curve.percentile_of(week, improvement)
    return Comparison(curve.reference, whole_week, percentile, signal_for(percentile), expected)


def week_of_treatment(course_start: date, on: date) -> int:
    """Whole weeks of treatment on ``on`` (0 in the first week and before the start)."""
    return max((on - course_start).days // 7, 0)


def weeks_since_start(course_start: date, on: date) -> float:
    """Exact weeks (days / 7) since the start: the ``week`` to compare at."""
    return max((on - course_start).days, 0) / 7


def percentiles_of(curve: Curve, weeks: ArrayLike, improvements: ArrayLike) -> NDArray[np.float64]:
    """Vectorised ``percentile_of``: whole-number percentiles, NaN where no comparison is made."""
    w = np.asarray(weeks, dtype=float)
    x = np.asarray(improvements, dtype=float)
    return _to_percentile(improvement_cdf(curve.params, w, x))


def signals_of(percentiles: ArrayLike) -> NDArray[np.int8]:
    """Vectorised ``signal_for``: codes indexing ``SIGNALS`` (NaN -> insufficient_data)."""
    p = np.asarray(percentiles, dtype=float)
    codes = np.full(p.shape, SIGNALS.index(INSUFFICIENT_DATA), dtype=np.int8)
    assigned = np.isnan(p)
    for signal, lowest in SIGNAL_THRESHOLDS.items():
        hit = ~assigned & (p >= lowest)
        codes[hit] = SIGNALS.index(signal)
        assigned |= hit
    return codes


def signal_names(codes: Iterable[int]) -> list[str]:
    return [SIGNALS[int(c)] for c in codes]
