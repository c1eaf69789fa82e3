"""Fitting the reference-curve model (``projections.math.model``): to published figures, and to a
clinic's own completed courses.

Published sets (``fit_published_parameters``, ``refit_published``): for each modality, the
free parameters among ``mu, sigma, tau, shape, early`` (plus ``mu_with_therapy`` when a figure is with
psychotherapy, and one ``mu`` per auxiliary cohort such as the pooled TRANSFORM-1/2
population) minimise the sum of squared differences between the model's proportion and each
cited figure (``scipy.optimize.least_squares``; a change in points weighs 1/100, as its
tolerance does). The curve is held after the entry's last figure (``horizon``). Parameters a
set cannot determine are fixed to another set's fitted value (``"fixed": {"sigma":
"trials:iv_ketamine"}``); two entries of one set that borrow from each other are fitted in
turn until neither changes. A fit with more
free parameters than figures is refused. Regenerate the JSON files with
``python -m projections.math.fitting`` (writes ``projections/data/*.json``).

Clinic sets (``fit_clinic_reference``), after Finch, Lambert & Schaalje (2001), who fitted
expected-recovery curves by baseline severity from a large sample: each course's
improvements are binned by whole treatment week (the course's last value in the bin); where a
bin holds at least ``min_per_week`` courses its empirical 10/25/50/75/90th percentiles are
taken; the same model's quantile curves ``q_p(w)`` are fitted to them by least squares,
weighted by the square root of the bin size, per modality x scale x severity stratum. A
stratum with fewer than ``min_stratum`` courses falls back to the modality x scale pool, then
the modality pooled over scales, then all courses ("*").
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import least_squares

from projections.math.cohort import kaplan_meier
from projections.math.model import PERCENTILES, ModelParams, improvement_quantiles
from projections.math.reference_sets import (
    DATA_DIR,
    MODALITIES,
    POINT_METRICS,
    Figure,
    ReferenceSet,
    predicted_value,
)

_PARAMS = ("mu", "sigma", "tau", "shape", "early")
_MAX_CYCLES = 200
_MAX_SHAPE = 5.0
_DECIMALS = 6
_OBSERVED_WEEKS = (4, 8, 12, 26, 52)


class NotEnoughData(ValueError):
    """The clinic has too few completed courses (or observations) to fit its own curves."""


# ---------------------------------------------------------------------------- published


def _resolve_fixed(entry: Mapping[str, Any], others: Mapping[str, Mapping[str, Any]]) -> dict[str, float]:
    values: dict[str, float] = {}
    for name, ref in entry.get("fixed", {}).items():
        if name not in (*_PARAMS, "horizon"):
            raise ValueError(f"cannot fix {name!r}")
        set_key, _, entry_key = str(ref).partition(":")
        source = others.get(set_key)
        if source is not None:
            values[name] = float(source["parameters"][entry_key][name])
        elif name in entry:
            values[name] = float(entry[name])
        else:
            raise ValueError(f"fixed {name} refers to {ref!r}, which is not available")
    return values


def _fit_entry(entry: Mapping[str, Any], figures: Sequence[Figure], fixed: Mapping[str, float]) -> dict[str, Any]:
    fixed = dict(fixed)
    if not entry.get("fit_shape"):
        fixed.setdefault("shape", 0.0)  # the log model unless the figures can fit the shape
    if not entry.get("fit_early"):
        fixed.setdefault("early", 0.0)  # one phase unless the figures can fit the early share
    # The curve is held after its last figure (no figure says what comes after); an entry
    # without figures keeps the horizon of the entry it copies.
    horizon: float | None = (
        max(f.week for f in figures) if figures else (fixed.pop("horizon") if "horizon" in fixed else None)
    )
    free = [name for name in _PARAMS if name not in fixed]
    therapy = any(f.with_therapy and f.cohort is None for f in figures)
    cohorts = sorted({f.cohort for f in figures if f.cohort is not None})
    n_free = len(free) + int(therapy) + len(cohorts)
    out = {k: v for k, v in entry.items() if k not in (*_PARAMS, "horizon", "mu_with_therapy", "cohort_mu")}
    if not figures:
        if free:
            raise ValueError(f"no figures to fit {', '.join(free)}")
        out.update({name: round(fixed[name], _DECIMALS) for name in _PARAMS})
        if horizon is not None:
            out["horizon"] = round(horizon, _DECIMALS)
        return out
    if n_free > len(figures):
        raise ValueError(f"{n_free} free parameters but only {len(figures)} figures")

    # theta: mu as is, sigma and tau on the log scale, shape bounded to [0, _MAX_SHAPE], early to [0, 1]
    start = {"mu": 1.0, "sigma": 0.0, "tau": 0.0, "shape": 0.5, "early": 0.2}
    lower = {"mu": -np.inf, "sigma": -np.inf, "tau": -np.inf, "shape": 0.0, "early": 0.0}
    upper = {"mu": np.inf, "sigma": np.inf, "tau": np.inf, "shape": _MAX_SHAPE, "early": 1.0}
    # A change in points weighs as its tolerance does: 2 points like 2 percentage points.
    weight = np.array([0.01 if f.metric in POINT_METRICS else 1.0 for f in figures])
    n_extra = int(therapy) + len(cohorts)

    def unpack(theta: NDArray[np.float64]) -> tuple[dict[str, float], float | None, dict[str, float]]:
        values = dict(fixed)
        for i, name in enumerate(free):
            values[name] = math.exp(theta[i]) if name in ("sigma", "tau") else float(theta[i])
        i = len(free)
        mu_t = float(theta[i]) if therapy else None
        i += int(therapy)
        cohort_mu = {c: float(theta[i + k]) for k, c in enumerate(cohorts)}
        return values, mu_t, cohort_mu

    def residuals(theta: NDArray[np.float64]) -> NDArray[np.float64]:
        values, mu_t, cohort_mu = unpack(theta)
        entry_now: dict[str, Any] = {**values, "cohort_mu": cohort_mu, "horizon": horizon}
        if mu_t is not None:
            entry_now["mu_with_therapy"] = mu_t
        return weight * np.array([predicted_value(entry_now, f) - f.value for f in figures])

    result = least_squares(
        residuals,
        np.array([start[n] for n in free] + [1.0] * n_extra),
        bounds=([lower[n] for n in free] + [-np.inf] * n_extra, [upper[n] for n in free] + [np.inf] * n_extra),
        xtol=1e-14,
        ftol=1e-14,
        gtol=1e-14,
        max_nfev=10_000,
    )
    values, mu_t, cohort_mu = unpack(result.x)
    out.update({name: round(values[name], _DECIMALS) for name in _PARAMS})
    if horizon is not None:
        out["horizon"] = round(horizon, _DECIMALS)
    if mu_t is not None:
        out["mu_with_therapy"] = round(mu_t, _DECIMALS)
    if cohort_mu:
        out["cohort_mu"] = {c: round(v, _DECIMALS) for c, v in cohort_mu.items()}
    return out


def fit_published_parameters(
    data: Mapping[str, Any], *, others: Mapping[str, Mapping[str, Any]] | None = None
) -> dict[str, dict[str, Any]]:
    """Fit a published set's ``parameters`` to its ``figures``.

    ``others``: already-fitted sets (raw dicts by key) that ``fixed`` references point to;
    without them the stored fixed values are used.
    """
    figures = [Figure.from_dict(f) for f in data.get("figures", [])]
    unknown = {f.modality for f in figures} - set(data["parameters"])
    if unknown:
        raise ValueError(f"figures for modalities without a parameter entry: {sorted(unknown)}")
    fitted: dict[str, dict[str, Any]] = {}
    pending = dict(data["parameters"])

    def fit(key: str, entry: Mapping[str, Any], own: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
        sources = {**(others or {}), data["key"]: {"parameters": own}}
        figs = [f for f in figures if f.modality == key]
        try:
            return _fit_entry(entry, figs, _resolve_fixed(entry, sources))
        except ValueError as exc:
            raise ValueError(f"{data['key']}:{key}: {exc}") from None

    while pending:  # entries that borrow from this set's own entries come after them
        ready = {
            key: entry
            for key, entry in pending.items()
            if all(
                not str(ref).startswith(f"{data['key']}:") or str(ref).partition(":")[2] in fitted
                for ref in entry.get("fixed", {}).values()
            )
        }
        if not ready:
            # Entries that borrow from each other (esketamine takes IV ketamine's time constant,
            # IV ketamine esketamine's shape): fitted in turn, from the stored values, until
            # neither changes (a fixed point).
            cycle = {key: dict(entry) for key, entry in pending.items()}
            for _ in range(_MAX_CYCLES):
                before = {k: {n: v.get(n) for n in _PARAMS} for k, v in cycle.items()}
                for key in cycle:
                    cycle[key] = fit(key, pending[key], {**fitted, **cycle})
                if all(abs(float(cycle[k][n]) - float(_or_inf(before[k][n]))) < 2e-6 for k in cycle for n in _PARAMS):
                    break
            else:
                raise ValueError(f"{data['key']}: circular 'fixed' references do not settle")
            fitted.update(cycle)
            pending.clear()
            break
        for key, entry in ready.items():
            del pending[key]
            fitted[key] = dict(entry) if "same_as" in entry else fit(key, entry, fitted)
    return {key: fitted[key] for key in data["parameters"]}


def _dependencies(data: Mapping[str, Any]) -> set[str]:
    refs = set()
    for entry in data["parameters"].values():
        for ref in entry.get("fixed", {}).values():
            refs.add(str(ref).partition(":")[0])
    refs.discard(data["key"])
    return refs


def refit_published(directory: str | Path | None = None, *, write: bool = False) -> dict[str, dict[str, Any]]:
    """Refit every published set in ``directory`` (sets that others borrow from first)."""
    paths = sorted(Path(directory or DATA_DIR).glob("*.json"))
    raw = {}
    for path in paths:
        d = json.loads(path.read_text(encoding="utf-8"))
        raw[d["key"]] = (path, d)
    done: dict[str, dict[str, Any]] = {}
    while len(done) < len(raw):
        ready = [k for k, (_, d) in raw.items() if k not in done and _dependencies(d) <= set(done)]
        if not ready:
            raise ValueError("circular or missing 'fixed' references between reference sets")
        for key in ready:
            path, d = raw[key]
            new = dict(d)
            new["parameters"] = fit_published_parameters(d, others=done)
            ReferenceSet.from_dict(new)  # validates
            done[key] = new
            if write:
                path.write_text(json.dumps(new, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return done


# ---------------------------------------------------------------------------- clinic


@dataclass(frozen=True)
class ClinicCourse:
    """One completed course on one scale, as the clinic fit needs it.

    ``improvements``: (week of treatment, improvement) pairs, week = days / 7.
    ``remission_confirmed_week``: when sustained remission was confirmed, or None.
    """

    modality: str
    with_therapy: bool
    scale: str
    baseline_total: float
    severity: str
    improvements: Sequence[tuple[float, float]]
    remission_confirmed_week: float | None = None


@dataclass(frozen=True)
class EmpiricalPercentiles:
    weeks: NDArray[np.float64]  # mean actual week of each bin
    quantiles: NDArray[np.float64]  # (bins, 5): p10..p90
    counts: NDArray[np.int64]


def empirical_percentiles(courses: Iterable[ClinicCourse], *, min_per_week: int = 5) -> EmpiricalPercentiles:
    """Per whole treatment week (1-52): the empirical p10..p90 of improvement."""
    bins: dict[int, dict[int, tuple[float, float]]] = defaultdict(dict)
    for i, course in enumerate(courses):
        for week, improvement in sorted(course.improvements):
            if not (math.isfinite(week) and math.isfinite(improvement)):
                continue
            b = math.floor(week + 0.5)
            if 1 <= b <= 52:
                bins[b][i] = (week, improvement)  # the course's last value in the bin
    weeks, quantiles, counts = [], [], []
    probs = [p for _, p in PERCENTILES]
    for b in sorted(bins):
        values = list(bins[b].values())
        if len(values) < min_per_week:
            continue
        arr = np.array(values)
        weeks.append(float(arr[:, 0].mean()))
        quantiles.append(np.quantile(arr[:, 1], probs))
        counts.append(len(values))
    return EmpiricalPercentiles(
        np.array(weeks, dtype=float),
        np.array(quantiles, dtype=float).reshape(-1, len(PERCENTILES)),
        np.array(counts, dtype=np.int64),
    )


def fit_percentile_curves(emp: EmpiricalPercentiles) -> tuple[ModelParams, float]:
    """Least-squares fit of the model's quantile curves to empirical percentiles.

    Returns the parameters and the weighted root-mean-square residual (improvement units).
    """
    if emp.weeks.size == 0:
        raise NotEnoughData("no treatment week has enough observations to fit")
    weight = np.sqrt(emp.counts)[:, None]
    late_median = float(emp.quantiles[-1, 2])
    mu0 = -math.log1p(-min(max(late_median, -1.0), 0.95))

    def unpack(theta: NDArray[np.float64]) -> ModelParams:  # one phase (early = 0)
        return ModelParams(float(theta[0]), math.exp(theta[1]), math.exp(theta[2]), float(theta[3]))

    def residuals(theta: NDArray[np.float64]) -> NDArray[np.float64]:
        model = improvement_quantiles(unpack(theta), emp.weeks)
        return np.asarray((weight * (model - emp.quantiles)).ravel())

    result = least_squares(
        residuals,
        np.array([mu0, math.log(0.8), math.log(2.0), 0.5]),
        bounds=(
            [-10.0, math.log(0.01), math.log(0.05), 0.0],
            [10.0, math.log(10.0), math.log(104.0), _MAX_SHAPE],
        ),
        xtol=1e-12,
        ftol=1e-12,
        gtol=1e-12,
    )
    params = unpack(result.x)
    rms = float(np.sqrt(np.sum(result.fun**2) / (np.sum(emp.counts) * len(PERCENTILES))))
    return params, rms


def _observed_remission(courses: Sequence[ClinicCourse]) -> dict[str, float]:
    durations, events = [], []
    for c in courses:
        if c.remission_confirmed_week is not None:
            durations.append(c.remission_confirmed_week * 7)
            events.append(True)
        elif c.improvements:
            durations.append(max(w for w, _ in c.improvements) * 7)
            events.append(False)
    km = kaplan_meier(durations, events)
    if km.n == 0:
        return {}
    follow_up = float(km.times.max()) / 7
    return {str(w): round(1.0 - km.survival_at(w * 7), 4) for w in _OBSERVED_WEEKS if w <= follow_up}


def fit_clinic_reference(
    courses: Iterable[ClinicCourse],
    *,
    key: str,
    title: str,
    min_courses: int = 30,
    min_stratum: int = 10,
    min_per_week: int = 5,
    version: int = 1,
) -> ReferenceSet:
    """A clinic's own reference set, stratified by baseline severity (Finch et al. 2001).

    Raises ``NotEnoughData`` below ``min_courses`` completed courses.
    """
    all_courses = list(courses)
    if len(all_courses) < min_courses:
        raise NotEnoughData(
            f"{len(all_courses)} completed courses; at least {min_courses} are needed to fit a clinic's own curves"
        )
    unknown = {c.modality for c in all_courses} - set(MODALITIES)
    if unknown:
        raise ValueError(f"unknown modalities {sorted(unknown)}")
    groups: dict[str, list[ClinicCourse]] = defaultdict(list)
    for c in all_courses:
        for group in (f"{c.modality}/{c.scale}/{c.severity}", f"{c.modality}/{c.scale}", c.modality, "*"):
            groups[group].append(c)

    parameters: dict[str, dict[str, Any]] = {}
    for group, members in sorted(groups.items()):
        if group != "*" and len(members) < min_stratum:
            continue
        try:
            params, rms = fit_percentile_curves(empirical_percentiles(members, min_per_week=min_per_week))
        except NotEnoughData:
            if group == "*":
                raise
            continue
        entry: dict[str, Any] = {
            "source": "clinic",
            **{name: round(getattr(params, name), _DECIMALS) for name in _PARAMS},
            "n_courses": len(members),
            "rms_residual": round(rms, 4),
            "observed_remission_cumulative": _observed_remission(members),
        }
        if group.count("/") >= 1:
            entry["typical_baseline"] = float(np.median([c.baseline_total for c in members]))
        parameters[group] = entry

    by_scale: dict[str, list[float]] = defaultdict(list)
    for c in all_courses:
        by_scale[c.scale].append(c.baseline_total)
    data = {
        "key": key,
        "version": version,
        "title": title,
        "kind": "clinic",
        "label": f"Fitted to this clinic's own courses ({len(all_courses)})",
        "description": (
            f"Fitted from {len(all_courses)} completed courses of this clinic: the model's percentile curves "
            "fitted by least squares to the empirical weekly percentiles of improvement, per modality x scale x "
            f"baseline severity (Finch, Lambert & Schaalje 2001); strata under {min_stratum} courses use the pooled "
            "curve."
        ),
        "figures": [],
        "typical_baselines": {s: float(np.median(v)) for s, v in sorted(by_scale.items())},
        "fit": {"min_courses": min_courses, "min_stratum": min_stratum, "min_per_week": min_per_week},
        "parameters": parameters,
    }
    return ReferenceSet.from_dict(data)


if __name__ == "__main__":  # python -m projections.math.fitting: regenerate the published parameters
    for k, d in refit_published(write=True).items():
        print(k, json.dumps(d["parameters"], ensure_ascii=False))


def _or_inf(value: float | None) -> float:
    return math.inf if value is None else float(value)
