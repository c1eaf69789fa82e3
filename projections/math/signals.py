"""The per-patient comparison with the expected curve and the signal rules (CLINICAL.md §4).

Pure: the standard library and numpy; no Django.

A patient's latest ``pre_dose`` improvement at day ``d`` of the course gets a whole-number
percentile of the reference population at that day (``floor(100 F + 1e-9)``, so an
improvement exactly on the 75th-percentile curve is 75) and a signal:

* ``insufficient_data``: no baseline and later assessment, or less than a day of treatment;
* ``too_early``: before day ``SIGNAL_FROM_DAY`` (14) of the course: the first two weeks carry
  the drug's acute swings and no signal is raised on them (the percentile is still given);
* otherwise by percentile, each band including its lower bound: ``ahead`` >= 75,
  ``on_track`` 25-74, ``at_risk`` 10-24, ``off_track`` < 10, where ``off_track`` needs the
  latest two comparable assessments (``pre_dose``, same scale, after the baseline) both below
  the 10th percentile: one alone is ``at_risk``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from types import MappingProxyType
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from projections.math.model import MIN_COMPARISON_WEEK, improvement_cdf, to_percentile
from projections.math.reference_sets import PUBLISHED_PRIOR, Curve

# Lowest percentile (inclusive) of each percentile band, CLINICAL.md §4. The one place these live.
SIGNAL_THRESHOLDS: Mapping[str, int] = MappingProxyType({"ahead": 75, "on_track": 25, "at_risk": 10, "off_track": 0})
INSUFFICIENT_DATA = "insufficient_data"
TOO_EARLY = "too_early"
# Every signal value; the codes of ``signals_of`` index this tuple.
SIGNALS: tuple[str, ...] = ("ahead", "on_track", "at_risk", "off_track", INSUFFICIENT_DATA, TOO_EARLY)
# The signals that raise a notice when the signal changes into them.
WORRYING_SIGNALS: tuple[str, ...] = ("at_risk", "off_track")
# No signal before this day of the course (CLINICAL §4): ``too_early``.
SIGNAL_FROM_DAY = 14


def signal_for(percentile: int | None) -> str:
    """The percentile band of a whole-number percentile; ``None`` is ``insufficient_data``.

    One assessment alone: ``off_track`` here is a band; ``trajectory_signal`` applies the rule
    that needs two assessments below the 10th percentile."""
    if percentile is None:
        return INSUFFICIENT_DATA
    for signal, lowest in SIGNAL_THRESHOLDS.items():
        if percentile >= lowest:
            return signal
    return "off_track"


def trajectory_signal(*, day: int | None, percentile: int | None, previous_percentile: int | None) -> str:
    """The §4 signal of the latest comparable assessment.

    ``day``: days from the course start to the latest assessment; ``percentile``: its
    percentile (None when no comparison could be made); ``previous_percentile``: the percentile
    of the comparable assessment before it (None when there is none after the baseline)."""
    if day is None or percentile is None:
        return INSUFFICIENT_DATA
    if day < SIGNAL_FROM_DAY:
        return TOO_EARLY
    band = signal_for(percentile)
    if band == "off_track" and not (
        previous_percentile is not None and previous_percentile < SIGNAL_THRESHOLDS["at_risk"]
    ):
        return "at_risk"
    return band


def signal_of_latest_two(
    curve: Curve, latest: tuple[int, float] | None, previous: tuple[int, float] | None = None
) -> tuple[int | None, str]:
    """Percentile and signal from the latest two comparable ``(day, improvement)`` points.

    ``latest`` None (no baseline or no later ``pre_dose`` assessment) is ``insufficient_data``.
    A point before one day of treatment has no percentile."""
    latest_pct = _percentile_at(curve, latest)
    previous_pct = _percentile_at(curve, previous)
    day = None if latest is None else latest[0]
    return latest_pct, trajectory_signal(day=day, percentile=latest_pct, previous_percentile=previous_pct)


def _percentile_at(curve: Curve, point: tuple[int, float] | None) -> int | None:
    if point is None:
        return None
    day, improvement = point
    week = max(day, 0) / 7
    if improvement is None or math.isnan(improvement) or week < MIN_COMPARISON_WEEK:
        return None
    return curve.percentile_of(week, improvement)


@dataclass(frozen=True)
class Comparison:
    reference: str
    week: int | None
    percentile: int | None
    signal: str
    expected_improvement: dict[str, float] | None
    reference_kind: str = PUBLISHED_PRIOR
    reference_label: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "reference": self.reference,
            "reference_kind": self.reference_kind,
            "reference_label": self.reference_label,
            "week": self.week,
            "percentile": self.percentile,
            "signal": self.signal,
            "expected_improvement": None if self.expected_improvement is None else dict(self.expected_improvement),
        }


def compare_to_reference(
    curve: Curve, *, day: int | None, improvement: float | None, previous: tuple[int, float] | None = None
) -> Comparison:
    """The projection block of the latest improvement at ``day`` of the course (CLINICAL §4).

    ``previous``: the comparable ``(day, improvement)`` before it, if any (the ``off_track``
    rule needs two)."""
    labels = {"reference_kind": curve.reference_kind, "reference_label": curve.reference_label}
    if day is None:
        return Comparison(curve.reference, None, None, INSUFFICIENT_DATA, None, **labels)
    week = max(day, 0) / 7
    expected = curve.improvement_percentiles(week)
    latest = None if improvement is None else (day, improvement)
    percentile, signal = signal_of_latest_two(curve, latest, previous)
    return Comparison(curve.reference, math.floor(week), percentile, signal, expected, **labels)


def week_of_treatment(course_start: date, on: date) -> int:
    """Whole weeks of treatment on ``on`` (0 in the first week and before the start)."""
    return max((on - course_start).days // 7, 0)


def day_of_treatment(course_start: date, on: date) -> int:
    """Days since the course start (0 on the start day and before it)."""
    return max((on - course_start).days, 0)


def weeks_since_start(course_start: date, on: date) -> float:
    """Exact weeks (days / 7) since the start."""
    return day_of_treatment(course_start, on) / 7


def percentiles_of(curve: Curve, weeks: ArrayLike, improvements: ArrayLike) -> NDArray[np.float64]:
    """Vectorised ``percentile_of``: whole-number percentiles, NaN where no comparison is made."""
    return to_percentile(improvement_cdf(curve.params, weeks, improvements))


def signals_of(percentiles: ArrayLike) -> NDArray[np.int8]:
    """Vectorised ``signal_for`` (the percentile band): codes indexing ``SIGNALS`` (NaN ->
    insufficient_data)."""
    p = np.asarray(percentiles, dtype=float)
    codes = np.full(p.shape, SIGNALS.index(INSUFFICIENT_DATA), dtype=np.int8)
    assigned = np.isnan(p)
    for signal, lowest in SIGNAL_THRESHOLDS.items():
        hit = ~assigned & (p >= lowest)
        codes[hit] = SIGNALS.index(signal)
        assigned |= hit
    return codes


def trajectory_signals_of(days: ArrayLike, percentiles: ArrayLike, previous_percentiles: ArrayLike) -> NDArray[np.int8]:
    """Vectorised ``trajectory_signal`` (NaN percentile: none): codes indexing ``SIGNALS``."""
    d = np.asarray(days, dtype=float)
    p = np.asarray(percentiles, dtype=float)
    prev = np.asarray(previous_percentiles, dtype=float)
    codes = signals_of(p)
    off = codes == SIGNALS.index("off_track")
    with np.errstate(invalid="ignore"):
        lone = off & ~(prev < SIGNAL_THRESHOLDS["at_risk"])
    codes[lone] = SIGNALS.index("at_risk")
    with np.errstate(invalid="ignore"):
        early = ~np.isnan(p) & ~np.isnan(d) & (d < SIGNAL_FROM_DAY)
    codes[early] = SIGNALS.index(TOO_EARLY)
    codes[np.isnan(d)] = SIGNALS.index(INSUFFICIENT_DATA)
    return codes


def signal_names(codes: Iterable[int]) -> list[str]:
    return [SIGNALS[int(c)] for c in codes]
