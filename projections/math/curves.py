"""Transition shim: the names ``projections.math.curves`` held before it was split.

The curves now live in ``model`` (the improvement-distribution model), ``reference_sets``
(the cited figures, the JSON sets and the curve a course is compared with), ``signals`` (the
comparison and the signal rules) and ``calibration`` (the checks of CLINICAL §4). Import from
those; this module stays only while ``projections.nightly`` still imports ``_cdf`` and
``_PERCENTILE_EPS`` from here, and goes once it does not.
"""

from __future__ import annotations

from projections.math.model import (
    MIN_COMPARISON_WEEK,
    PERCENTILE_EPS,
    PERCENTILES,
    ModelParams,
    from_latent,
    improvement_cdf,
    improvement_quantiles,
    proportion_at_least,
    to_latent,
    to_percentile,
)
from projections.math.reference_sets import (
    DATA_DIR,
    DEFAULT_SUSTAIN_WEEKS,
    FIGURE_METRICS,
    MODALITIES,
    RESPONSE_IMPROVEMENT,
    SCALES,
    TYPICAL_BASELINES,
    Curve,
    Figure,
    ReferenceSet,
    default_remission_max,
    entry_params,
    load_reference_sets,
    predicted_value,
    session_week,
)
from projections.math.signals import (
    INSUFFICIENT_DATA,
    SIGNAL_THRESHOLDS,
    SIGNALS,
    TOO_EARLY,
    Comparison,
    compare_to_reference,
    percentiles_of,
    signal_for,
    signal_names,
    signals_of,
    week_of_treatment,
    weeks_since_start,
)

_cdf = improvement_cdf
_PERCENTILE_EPS = PERCENTILE_EPS
_h = to_latent
_h_inverse = from_latent
_to_percentile = to_percentile

__all__ = [
    "DATA_DIR",
    "DEFAULT_SUSTAIN_WEEKS",
    "FIGURE_METRICS",
    "INSUFFICIENT_DATA",
    "MIN_COMPARISON_WEEK",
    "MODALITIES",
    "PERCENTILES",
    "PERCENTILE_EPS",
    "RESPONSE_IMPROVEMENT",
    "SCALES",
    "SIGNALS",
    "SIGNAL_THRESHOLDS",
    "TOO_EARLY",
    "TYPICAL_BASELINES",
    "_PERCENTILE_EPS",
    "Comparison",
    "Curve",
    "Figure",
    "ModelParams",
    "ReferenceSet",
    "_cdf",
    "_h",
    "_h_inverse",
    "_to_percentile",
    "compare_to_reference",
    "default_remission_max",
    "entry_params",
    "improvement_cdf",
    "improvement_quantiles",
    "load_reference_sets",
    "percentiles_of",
    "predicted_value",
    "proportion_at_least",
    "session_week",
    "signal_for",
    "signal_names",
    "signals_of",
    "to_percentile",
    "week_of_treatment",
    "weeks_since_start",
]
