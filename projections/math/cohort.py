"""Kaplan-Meier time to confirmed remission for a clinic's cohort (CLINICAL.md §4).

Pure numpy (plus ``scipy.special`` for the normal quantile); written by hand rather than
taken from lifelines to keep the runtime free of one more heavy dependency (README).

For the distinct times ``t_j`` with ``n_j`` courses at risk (duration >= t_j) and ``d_j``
confirmed remissions at ``t_j``::

    S(t)        = prod_{t_j <= t} (1 - d_j / n_j)
    Var[log S]  = sum_{t_j <= t} d_j / (n_j (n_j - d_j))           (Greenwood)
    95 % band on the log(-log) scale (Kalbfleisch & Prentice):
        se      = sqrt(Var[log S]) / |log S|
        lower   = S ** exp(+1.96 se),  upper = S ** exp(-1.96 se)

Ties: at a time with both remissions and censorings the censored courses count as at risk
(events first). A course is censored at its last assessment. Where S = 1 the band is [1, 1];
where S = 0 it is [0, 0]. The cumulative incidence of confirmed remission is 1 - S, with the
band 1 - upper .. 1 - lower.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import ndtri


@dataclass(frozen=True, eq=False)
class KaplanMeier:
    """One row per distinct time (an event, a censoring or both)."""

    times: NDArray[np.float64]
    survival: NDArray[np.float64]
    lower: NDArray[np.float64]
    upper: NDArray[np.float64]
    n_at_risk: NDArray[np.int64]
    events: NDArray[np.int64]
    censored: NDArray[np.int64]
    n: int
    confidence: float = 0.95

    @property
    def cumulative_incidence(self) -> NDArray[np.float64]:
        """1 - S: the proportion with confirmed remission by each time."""
        return np.asarray(1.0 - self.survival, dtype=float)

    @property
    def incidence_lower(self) -> NDArray[np.float64]:
        return np.asarray(1.0 - self.upper, dtype=float)

    @property
    def incidence_upper(self) -> NDArray[np.float64]:
        return np.asarray(1.0 - self.lower, dtype=float)

    @property
    def n_events(self) -> int:
        return int(self.events.sum())

    def survival_at(self, time: float) -> float:
        """S(time) of the step function (1 before the first time)."""
        k = int(np.searchsorted(self.times, time, side="right"))
        return 1.0 if k == 0 else float(self.survival[k - 1])

    @property
    def median(self) -> float | None:
        """The first time at which S <= 0.5, or None if it never gets there."""
        hit = np.nonzero(self.survival <= 0.5)[0]
        return float(self.times[hit[0]]) if hit.size else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "n_events": self.n_events,
            "confidence": self.confidence,
            "median_days": self.median,
            "times_days": self.times.tolist(),
            "weeks": (self.times / 7).tolist(),
            "n_at_risk": self.n_at_risk.tolist(),
            "events": self.events.tolist(),
            "censored": self.censored.tolist(),
            "survival": self.survival.tolist(),
            "lower": self.lower.tolist(),
            "upper": self.upper.tolist(),
            "cumulative_incidence": self.cumulative_incidence.tolist(),
            "incidence_lower": self.incidence_lower.tolist(),
            "incidence_upper": self.incidence_upper.tolist(),
        }


def kaplan_meier(durations_days: ArrayLike, events: ArrayLike, *, confidence: float = 0.95) -> KaplanMeier:
    """Kaplan-Meier estimate with a Greenwood log(-log) band.

    ``durations_days``: days from course start to confirmed remission, or to the last
    assessment for a course without one. ``events``: True where remission was confirmed.
    """
    t = np.asarray(durations_days, dtype=float).ravel()
    e = np.asarray(events, dtype=bool).ravel()
    if t.shape != e.shape:
        raise ValueError("durations and events differ in length")
    if not np.all(np.isfinite(t)) or np.any(t < 0):
        raise ValueError("durations must be finite and >= 0")
    if not 0 < confidence < 1:
        raise ValueError("confidence must be in (0, 1)")
    n = int(t.size)
    if n == 0:
        empty_f = np.array([], dtype=float)
        empty_i = np.array([], dtype=np.int64)
        return KaplanMeier(empty_f, empty_f, empty_f, empty_f, empty_i, empty_i, empty_i, 0, confidence)

    times, inverse = np.unique(t, return_inverse=True)
    at_time = np.bincount(inverse, minlength=times.size).astype(np.int64)
    d = np.bincount(inverse, weights=e, minlength=times.size).astype(np.int64)
    censored = at_time - d
    n_at_risk = n - np.concatenate(([0], np.cumsum(at_time)[:-1])).astype(np.int64)

    survival = np.cumprod(1.0 - d / n_at_risk)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        term = np.where(d > 0, d / (n_at_risk * (n_at_risk - d).astype(float)), 0.0)
        var_log = np.cumsum(term)
        log_s = np.log(survival)
        se = np.sqrt(var_log) / np.abs(log_s)
        z = float(ndtri(0.5 + confidence / 2))
        lower = survival ** np.exp(z * se)
        upper = survival ** np.exp(-z * se)
    one = survival >= 1.0
    zero = survival <= 0.0
    lower = np.where(one, 1.0, np.where(zero, 0.0, lower))
    upper = np.where(one, 1.0, np.where(zero, 0.0, upper))
    return KaplanMeier(
        times=times,
        survival=np.asarray(survival, dtype=float),
        lower=np.asarray(lower, dtype=float),
        upper=np.asarray(upper, dtype=float),
        n_at_risk=n_at_risk,
        events=d,
        censored=censored,
        n=n,
        confidence=confidence,
    )
