"""The two calibration checks of CLINICAL.md §4, and the validation population they use.

Pure: numpy and scipy; no Django.

Check 1 (``figure_residuals``): every cited figure is reproduced by the fitted curve within 2
percentage points (a proportion) or 2 points (a mean change or its SD).

Check 2 (``validation_shares``): on a validation population drawn *from the published
figures*, not from the fitted model, the share below the fitted 10th percentile is 10 ± 4 %
and below the 25th is 25 ± 6 % at every week from 2 to 12.

The validation population (``published_distribution``) of one population of a set (a
modality, with or without psychotherapy, and a cohort such as the pooled TRANSFORM-1/2
patients) is built from that population's figures alone:

1. At each day with figures, improvement is taken as Normal(m, s): from the reported mean
   change and SD when given (divided by the figure's baseline), else solved from the
   proportions at that day (two or more of response, remission, worse than baseline:
   least squares on the normal's tail areas).
2. A day with a single proportion takes the coefficient of variation ``s / m`` from the
   nearest day of the same population that has one (the published SDs grow with the mean
   change); a population with none takes it from the trials set's population of the same
   modality (one with a reported SD first, at its day nearest in time); ``m`` is then
   solved from the proportion.
3. Between published days, ``m`` and ``s`` are interpolated linearly in log(day): the
   published time courses rise fast in the first days and slowly later, which a straight
   line in days would not follow. After the last published day they are held (no figure
   says what comes after; the plateau is an assumption).
4. Before a population's first published day, ``m`` and ``s`` follow the validation
   population of the same set and modality that starts earlier (the seed's IV ketamine for
   its with-psychotherapy figure), else the trials set's earliest of the modality (the pooled
   TRANSFORM-1/2 population for esketamine, Phillips/KetECT for IV ketamine), scaled to meet
   the population's first published day. The trials' own earliest populations start at day 1
   (esketamine) and week 1 (IV ketamine) and rise linearly from 0 before it, before week 2.
5. ``n`` patients are drawn per week (fixed seed): standard normal quantiles, the same for
   every week, so that the shares vary with the populations and not with the draw.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import least_squares
from scipy.special import ndtr, ndtri

from projections.math.model import improvement_quantiles
from projections.math.reference_sets import (
    POINT_METRICS,
    Figure,
    ReferenceSet,
    entry_params,
)

VALIDATION_WEEKS: tuple[int, ...] = tuple(range(2, 13))
# Check 2: the expected share below each percentile curve and how far it may be.
VALIDATION_BANDS: Mapping[str, tuple[float, float]] = {"p10": (0.10, 0.04), "p25": (0.25, 0.06)}
TIMING_SET = "trials"


@dataclass(frozen=True)
class Population:
    """One population of a reference set: the figures that describe it."""

    set_key: str
    modality: str
    with_therapy: bool
    cohort: str | None
    figures: tuple[Figure, ...]

    @property
    def name(self) -> str:
        parts = [self.set_key, self.modality]
        if self.with_therapy:
            parts.append("with_therapy")
        if self.cohort:
            parts.append(self.cohort)
        return ":".join(parts)


def populations(ref: ReferenceSet) -> list[Population]:
    """Every population of a set that has figures of its own."""
    groups: dict[tuple[str, bool, str | None], list[Figure]] = {}
    for f in ref.figures:
        groups.setdefault((f.modality, f.with_therapy, f.cohort), []).append(f)
    return [Population(ref.key, m, t, c, tuple(figs)) for (m, t, c), figs in sorted(groups.items(), key=str)]


def _tail(f: Figure) -> tuple[float, float]:
    """(threshold c, P(I >= c)) of a proportion figure."""
    if f.metric == "worsened":
        return 0.0, 1.0 - f.value
    return f.threshold, f.value


def _solve_normal(tails: Sequence[tuple[float, float]], cv: float | None) -> tuple[float, float]:
    """Normal(m, s) meeting the tail areas P(I >= c) = p (``cv`` = s / m given: from them alone)."""
    if cv is not None:
        m = float(np.mean([c / (1 - cv * ndtri(p)) for c, p in tails]))
        return m, cv * m

    def residuals(theta: np.ndarray) -> np.ndarray:
        m, log_s = theta
        return np.array([(1 - ndtr((c - m) / math.exp(log_s))) - p for c, p in tails])

    c0, p0 = tails[0]
    result = least_squares(residuals, np.array([c0 + 0.3 * ndtri(p0), math.log(0.3)]), xtol=1e-12, ftol=1e-12)
    return float(result.x[0]), math.exp(float(result.x[1]))


@dataclass(frozen=True)
class PublishedDistribution:
    """Normal(m(w), s(w)) of improvement by week, from the published figures."""

    days: tuple[float, ...]
    m: tuple[float, ...]
    s: tuple[float, ...]
    before: PublishedDistribution | None = None  # the time course before the first day

    def at(self, week: float) -> tuple[float, float]:
        day = week * 7
        days = np.array(self.days)
        if day >= days[-1]:
            return self.m[-1], self.s[-1]
        if day >= days[0]:
            x = np.log(days)
            return float(np.interp(math.log(day), x, self.m)), float(np.interp(math.log(day), x, self.s))
        if self.before is None:
            share = max(day, 0.0) / days[0]
        else:
            share = self.before.at(week)[0] / self.before.at(days[0] / 7)[0]
        return self.m[0] * share, self.s[0] * share


def published_distribution(pop: Population, sets: Mapping[str, ReferenceSet]) -> PublishedDistribution:
    by_day: dict[float, list[Figure]] = {}
    for f in pop.figures:
        by_day.setdefault(round(f.week * 7, 6), []).append(f)
    spread: dict[float, tuple[float, float]] = {}
    for day, figs in by_day.items():
        points = {f.metric: f for f in figs if f.metric in POINT_METRICS}
        tails = [_tail(f) for f in figs if f.metric not in POINT_METRICS]
        if len(points) == 2:
            mean, sd = points["mean_change"], points["sd_change"]
            assert mean.baseline is not None and sd.baseline is not None
            spread[day] = (mean.value / mean.baseline, sd.value / sd.baseline)
        elif len(tails) >= 2:
            spread[day] = _solve_normal(tails, None)
    for day, figs in by_day.items():
        if day in spread:
            continue
        tails = [_tail(f) for f in figs if f.metric not in POINT_METRICS]
        if spread:
            nearest = min(spread, key=lambda d: abs(math.log(d) - math.log(day)))
            cv = spread[nearest][1] / spread[nearest][0]
        else:
            cv = _borrowed_cv(pop, sets, day)
        spread[day] = _solve_normal(tails, cv)
    days = tuple(sorted(spread))
    before = _timing(pop, sets)
    return PublishedDistribution(days, tuple(spread[d][0] for d in days), tuple(spread[d][1] for d in days), before)


def _timing_population(pop: Population, sets: Mapping[str, ReferenceSet]) -> Population | None:
    """The population whose time course a population follows before its first published day:
    the earliest of its own set and modality, else the trials set's earliest of the modality."""
    own = [p for p in populations(sets[pop.set_key]) if p.modality == pop.modality and p != pop]
    earliest = min(own, key=lambda p: min(f.week for f in p.figures), default=None)
    first = min(f.week for f in pop.figures)
    if earliest is not None and min(f.week for f in earliest.figures) < first:
        return earliest
    trials = sets.get(TIMING_SET)
    if trials is None:
        return None
    modality = _figure_modality(trials, pop.modality)
    candidates = [p for p in populations(trials) if p.modality == modality and not p.with_therapy]
    return min(candidates, key=lambda p: min(f.week for f in p.figures), default=None)


def _figure_modality(ref: ReferenceSet, modality: str) -> str:
    found = ref._entry(modality)
    return found[1] if found is not None else modality


def _timing(pop: Population, sets: Mapping[str, ReferenceSet]) -> PublishedDistribution | None:
    timing = _timing_population(pop, sets)
    if timing is None or timing == pop:
        return None
    return published_distribution(timing, sets)


def _borrowed_cv(pop: Population, sets: Mapping[str, ReferenceSet], day: float) -> float:
    """``s / m`` from the trials set's population of the same modality, one with a reported SD
    first (a reported SD beats one solved from proportions), at its day nearest in time."""
    trials = sets[TIMING_SET]
    modality = _figure_modality(trials, pop.modality)
    others = [p for p in populations(trials) if p.modality == modality and p != pop]
    others.sort(key=lambda p: (not any(f.metric in POINT_METRICS for f in p.figures), p.cohort is not None))
    for other in others:
        dist = published_distribution(other, sets)
        nearest = min(range(len(dist.days)), key=lambda i: abs(math.log(dist.days[i]) - math.log(day)))
        return dist.s[nearest] / dist.m[nearest]
    raise ValueError(f"{pop.name}: no published spread to borrow")


@dataclass(frozen=True)
class WeekShares:
    week: int
    below_p10: float
    below_p25: float

    def within_bands(self) -> bool:
        (e10, t10), (e25, t25) = VALIDATION_BANDS["p10"], VALIDATION_BANDS["p25"]
        return abs(self.below_p10 - e10) <= t10 and abs(self.below_p25 - e25) <= t25


def validation_shares(
    ref: ReferenceSet, pop: Population, sets: Mapping[str, ReferenceSet], *, n: int = 20_000
) -> list[WeekShares]:
    """Check 2 for one population: the share of the published validation population below the
    fitted 10th and 25th percentiles, at every week 2-12."""
    found = ref._entry(pop.modality)
    if found is None:
        raise KeyError(pop.modality)
    params = entry_params(found[0], cohort=pop.cohort, with_therapy=pop.with_therapy)
    dist = published_distribution(pop, sets)
    z = ndtri((np.arange(n) + 0.5) / n)
    rows = []
    for week in VALIDATION_WEEKS:
        m, s = dist.at(week)
        draw = np.minimum(m + s * z, 1.0)
        q = improvement_quantiles(params, float(week))
        rows.append(WeekShares(week, float(np.mean(draw < q[0])), float(np.mean(draw < q[1]))))
    return rows


def figure_residuals(ref: ReferenceSet) -> list[tuple[Figure, float]]:
    """Check 1: (figure, fitted - cited) for every figure of the set."""
    return [(f, ref.predicted(f) - f.value) for f in ref.figures]
