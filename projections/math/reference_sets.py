"""The reference sets: cited figures with their citations, fitted parameters, and the curve a
course is compared with (CLINICAL.md §4).

Pure: the standard library, numpy and ``scoring`` (whose thresholds it reads); no Django. The
published sets live as versioned JSON in ``projections/data/``; ``projections/README.md``
explains the figures, the assumptions and how the parameters were fitted. A set is either a
``published_prior`` (fitted to published figures) or ``clinic`` (fitted to a clinic's own
courses, ``projections.math.fitting``); ``label`` is what every view shows beside the curve.
"""

from __future__ import annotations

import copy
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np

import scoring
from projections.math.model import (
    MIN_COMPARISON_WEEK,
    PERCENTILES,
    ModelParams,
    improvement_cdf,
    improvement_mean_sd,
    improvement_quantiles,
    proportion_at_least,
    to_percentile,
)
from scoring.treatments import MODALITIES as TREATMENTS

DATA_DIR = Path(__file__).resolve().parent.parent / "data"

MODALITIES: tuple[str, ...] = tuple(TREATMENTS)
SCALES: tuple[str, ...] = tuple(scoring.SCALES)

# The clinical thresholds come from scoring/ (the one place they live): response = improvement
# >= 50 %, remission confirmed after 21 days in range, each scale's default remission level.
RESPONSE_IMPROVEMENT = float(scoring.RESPONSE)
DEFAULT_SUSTAIN_WEEKS = scoring.SUSTAIN_DAYS / 7

# What a set is: fitted to published figures, or to a clinic's own courses.
PUBLISHED_PRIOR = "published_prior"
CLINIC = "clinic"
SET_KINDS = (PUBLISHED_PRIOR, CLINIC)


def default_remission_max(scale: str) -> int:
    """The scale's default remission level (score <= level), from scoring."""
    return scoring.get_scale(scale).remission_max


# Typical baseline of a treatment-resistant population starting ketamine or esketamine, per
# scale: a documented ASSUMPTION (README "Assumptions"), used to turn "score <= remission_max"
# into an improvement threshold when no baseline is given. MADRS 34 sits at the top of the
# moderate band (the TRANSFORM-1/2 esketamine arms averaged about 37); the others are placed
# at a comparable severity on their own scales.
TYPICAL_BASELINES: Mapping[str, float] = MappingProxyType({"bdi2": 32, "madrs": 34, "hamd17": 24, "phq9": 19})

# What a cited figure may count: the proportion in remission range, responding (>= 50 %), or
# worse than baseline (improvement < 0); or the mean change from baseline and its standard
# deviation, in points of the scale (from the figure's baseline).
PROPORTION_METRICS = ("remission", "response", "worsened")
POINT_METRICS = ("mean_change", "sd_change")
FIGURE_METRICS = PROPORTION_METRICS + POINT_METRICS
# Check 1 of CLINICAL §4: a proportion within 2 percentage points, a change within 2 points.
FIGURE_TOLERANCE: Mapping[str, float] = MappingProxyType(
    {**dict.fromkeys(PROPORTION_METRICS, 0.02), **dict.fromkeys(POINT_METRICS, 2.0)}
)


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
    reference_kind: str = PUBLISHED_PRIOR
    reference_label: str = ""

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
        cdf = improvement_cdf(self.params, float(week), float(improvement))
        return int(to_percentile(cdf))

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
        if metric in POINT_METRICS and baseline is None:
            raise ValueError(f"figure {d.get('id')}: a change in points needs the baseline it is from")
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
        if self.metric in ("worsened", "mean_change", "sd_change"):
            return 0.0
        assert self.remission_max is not None and self.baseline is not None
        return 1.0 - self.remission_max / self.baseline

    @property
    def tolerance(self) -> float:
        """How far the fitted model may be from this figure (check 1 of CLINICAL §4)."""
        return FIGURE_TOLERANCE[self.metric]

    def predict(self, params: ModelParams) -> float:
        """The model's value for this figure (a proportion, or points of change)."""
        if self.metric in POINT_METRICS:
            assert self.baseline is not None
            mean, sd = improvement_mean_sd(params, self.week)
            return (mean if self.metric == "mean_change" else sd) * self.baseline
        at_least = float(proportion_at_least(params, self.week, self.threshold))
        return 1.0 - at_least if self.metric == "worsened" else at_least


def entry_params(entry: Mapping[str, Any], *, cohort: str | None = None, with_therapy: bool = False) -> ModelParams:
    """The parameters of an entry, with a cohort's or the with-psychotherapy ``mu``."""
    mu = entry["mu"]
    if cohort is not None:
        mu = entry["cohort_mu"][cohort]
    elif with_therapy and "mu_with_therapy" in entry:
        mu = entry["mu_with_therapy"]
    return ModelParams(
        float(mu),
        float(entry["sigma"]),
        float(entry["tau"]),
        float(entry.get("shape", 0.0)),
        float(entry.get("early", 0.0)),
        float(entry.get("horizon") or math.inf),
    )


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
    kind: str
    label: str
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
        kind = str(data.get("kind", PUBLISHED_PRIOR))
        if kind not in SET_KINDS:
            raise ValueError(f"reference set {data['key']}: unknown kind {kind!r}")
        if kind == PUBLISHED_PRIOR and not data.get("label"):
            raise ValueError(f"reference set {data['key']}: a published prior needs a label")
        baselines = dict(TYPICAL_BASELINES)
        baselines.update({k: float(v) for k, v in data.get("typical_baselines", {}).items()})
        ref = cls(
            key=str(data["key"]),
            version=int(data["version"]),
            title=str(data["title"]),
            kind=kind,
            label=str(data.get("label") or data["title"]),
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
            if baseline is not None:
                raise ValueError("a baseline already in the remission range has no remission curve")
            # A remission level at or above the population's typical baseline (a clinic's own level,
            # or a set fitted on milder patients): the remission curve starts just above the level.
            base = level + 1.0
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
            reference_kind=self.kind,
            reference_label=self.label,
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
