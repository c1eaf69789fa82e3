"""The improvement-distribution model of the expected-recovery curves (CLINICAL.md §4).

Pure: the standard library, numpy and scipy.special; no Django, no data files.

Every patient ``i`` has a latent level ``H_i ~ Normal(mu, sigma)`` that treatment reveals
along a time course ``g(w)`` shared by the population (``w`` in weeks since the course
start). ``g`` has two phases: a fraction ``early`` of the effect arrives within hours of the
first dose (time constant ``EARLY_TAU_WEEKS``, six hours), the rest approaches its plateau
with the time constant ``tau``. Improvement is the Box-Cox transform ``h`` of shape
``lambda >= 0`` (``params.shape``) mapped back::

    g(w)      = early (1 - exp(-v / EARLY_TAU_WEEKS)) + (1 - early) (1 - exp(-v / tau)),  v = min(w, horizon)
    h(I)      = (1 - (1 - I)**lambda) / lambda          (lambda -> 0: -ln(1 - I))
    I_i(w)    = h^-1(H_i * g(w)),  capped at 1          improvement = (baseline - score) / baseline

``g`` rises from 0 to 1 and never falls, and ``I`` increases with ``H``, so each patient's
trajectory is monotone and the population quantiles are::

    q_p(w)    = h^-1((mu + z_p * sigma) * g(w))          z_p = Phi^-1(p); every q_p(0) = 0

and the proportion at or above an improvement ``c <= 1`` at week ``w > 0`` is::

    P(I(w) >= c) = 1 - Phi((h(c) / g(w) - mu) / sigma)

A published set holds its curve after its last cited figure (``horizon``, weeks): no figure
says what comes after, and the curve does not extrapolate an improvement nobody reported.
``early = 0`` and no horizon is the single-exponential model the clinic fits use. ``lambda = 0`` makes ``H``
the log symptom ratio; ``lambda = 1`` is the linear model ``I = H g(w)``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import ndtr, ndtri

# The fast phase: most of ketamine's and esketamine's first-dose effect is there within hours
# (a 24-hour assessment sees 98 % of it). Fixed, not fitted: no cited figure falls inside day 1.
EARLY_TAU_WEEKS = 0.25 / 7

PERCENTILES: tuple[tuple[str, float], ...] = (
    ("p10", 0.10),
    ("p25", 0.25),
    ("p50", 0.50),
    ("p75", 0.75),
    ("p90", 0.90),
)
_Z = np.array([ndtri(p) for _, p in PERCENTILES])

# No percentile before one day of treatment: at week 0 every expected improvement is 0.
MIN_COMPARISON_WEEK = 1 / 7
# Added before flooring 100 * F(x): absorbs floating-point error only, so that an improvement
# exactly on the 75th-percentile curve is the 75th percentile.
PERCENTILE_EPS = 1e-9


@dataclass(frozen=True)
class ModelParams:
    """``H ~ Normal(mu, sigma)``; ``tau`` in weeks; ``shape`` the Box-Cox lambda (>= 0);
    ``early`` the share of the effect that arrives within hours (0-1); ``horizon`` the week
    after which the curve is held."""

    mu: float
    sigma: float
    tau: float
    shape: float = 0.0
    early: float = 0.0
    horizon: float = math.inf

    def __post_init__(self) -> None:
        if not (
            self.sigma > 0
            and self.tau > 0
            and self.shape >= 0
            and 0 <= self.early <= 1
            and self.horizon > 0
            and math.isfinite(self.mu)
        ):
            raise ValueError(f"invalid model parameters {self}")

    def as_dict(self) -> dict[str, float]:
        return {
            "mu": self.mu,
            "sigma": self.sigma,
            "tau": self.tau,
            "shape": self.shape,
            "early": self.early,
            "horizon": self.horizon,
        }


def time_course(params: ModelParams, weeks: ArrayLike) -> NDArray[np.float64]:
    """``g(w)``: 0 at and before week 0, rising towards 1, held after ``horizon``."""
    w = np.minimum(np.maximum(np.asarray(weeks, dtype=float), 0.0), params.horizon)
    slow = -np.expm1(-w / params.tau)
    if params.early:
        slow = params.early * -np.expm1(-w / EARLY_TAU_WEEKS) + (1 - params.early) * slow
    return np.asarray(np.where(w > 0, slow, 0.0), dtype=float)


def to_latent(params: ModelParams, x: NDArray[np.float64]) -> NDArray[np.float64]:
    """Improvement -> latent scale ``h``; ``x >= 1`` maps to the cap (``1/lambda``, or inf)."""
    lam = params.shape
    below = x < 1
    log_rest = np.log1p(-np.where(below, x, 0.0))  # ln(1 - x)
    if lam == 0:
        return np.where(below, -log_rest, np.inf)
    return np.where(below, -np.expm1(lam * log_rest) / lam, 1.0 / lam)


def from_latent(params: ModelParams, y: NDArray[np.float64]) -> NDArray[np.float64]:
    """Latent scale -> improvement ``h^-1``, capped at 1."""
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
    g = time_course(params, w)
    t = to_latent(params, np.asarray(float(improvement)))
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        z = (t / g - params.mu) / params.sigma
    p = 1.0 - ndtr(z)
    return np.asarray(np.where(g > 0, p, 1.0 if improvement <= 0 else 0.0), dtype=float)


def improvement_quantiles(params: ModelParams, weeks: ArrayLike) -> NDArray[np.float64]:
    """Model quantiles p10..p90 of improvement: shape ``weeks.shape + (5,)``."""
    g = time_course(params, weeks)
    r = params.mu + _Z * params.sigma
    return np.asarray(from_latent(params, np.multiply.outer(g, r)) + 0.0, dtype=float)  # no -0.0


def improvement_cdf(params: ModelParams, weeks: ArrayLike, x: ArrayLike) -> NDArray[np.float64]:
    """``P(I(w) <= x)``; NaN where week < MIN_COMPARISON_WEEK or x is NaN."""
    w = np.asarray(weeks, dtype=float)
    x = np.asarray(x, dtype=float)
    g = time_course(params, w)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        z = (to_latent(params, x) / g - params.mu) / params.sigma
    cdf = np.where(x >= 1, 1.0, ndtr(z))
    valid = (w >= MIN_COMPARISON_WEEK) & ~np.isnan(x) & ~np.isnan(w)
    return np.asarray(np.where(valid, cdf, np.nan), dtype=float)


def to_percentile(cdf: ArrayLike) -> NDArray[np.float64]:
    """Whole-number percentiles ``floor(100 F + PERCENTILE_EPS)`` in 0-100 (NaN stays NaN)."""
    return np.clip(np.floor(100.0 * np.asarray(cdf, dtype=float) + PERCENTILE_EPS), 0, 100)


_GRID_Z = np.linspace(-8.0, 8.0, 4001)
_GRID_W = np.exp(-0.5 * _GRID_Z**2)
_GRID_W /= _GRID_W.sum()


def improvement_mean_sd(params: ModelParams, week: float) -> tuple[float, float]:
    """Mean and standard deviation of improvement at ``week`` (numerical integration over H)."""
    g = float(time_course(params, week))
    values = from_latent(params, (params.mu + params.sigma * _GRID_Z) * g)
    mean = float(np.dot(_GRID_W, values))
    return mean, float(math.sqrt(max(float(np.dot(_GRID_W, (values - mean) ** 2)), 0.0)))
