"""The clinical rules of CLINICAL.md: scales, validation, safety flags, outcomes.

Pure Python (the standard library and numpy): never Django.
"""

import importlib
from typing import TYPE_CHECKING

from scoring.errors import ScoringError, ScoringErrors
from scoring.outcomes import (
    EVENT_TYPES,
    RESPONSES,
    STATES,
    TIMINGS,
    Classification,
    Entry,
    Event,
    Options,
    Row,
    Rules,
    ScoreWarning,
    classify_trajectory,
    improvement,
    response_category,
)
from scoring.reliable_change import ReliableChange, reliable_change
from scoring.safety import SafetyFlag, flags_of_scores, safety_flags
from scoring.scales import (
    BASELINE_WINDOW_DAYS,
    MAX_GAP_DAYS,
    PARTIAL,
    POST_DOSE,
    PRE_DOSE,
    RECOVERY_DAYS,
    RECOVERY_MAX_GAP_DAYS,
    RELAPSE_MIN_DAYS_APART,
    RESPONSE,
    SCALES,
    SEVERITIES,
    SUSTAIN_DAYS,
    Band,
    ReliableChangeParams,
    SafetyLevels,
    Scale,
    get_scale,
)
from scoring.validation import item_directions, read_entry, score_items, validate_items, validate_total

if TYPE_CHECKING:
    from scoring.batch import BatchResult, classify_batch, date_of_day, day_number

#: Names of the batch path, imported on first use: numpy stays out of the
#: start-up of the command line and of callers that never use it.
_BATCH_NAMES = frozenset({"BatchResult", "classify_batch", "date_of_day", "day_number"})
_LAZY_MODULES = frozenset({"batch", "bench"})


def __getattr__(name: str) -> object:
    if name in _LAZY_MODULES:
        return importlib.import_module(f"scoring.{name}")
    if name in _BATCH_NAMES:
        return getattr(importlib.import_module("scoring.batch"), name)
    raise AttributeError(f"module 'scoring' has no attribute {name!r}")


__all__ = [
    "BASELINE_WINDOW_DAYS",
    "EVENT_TYPES",
    "MAX_GAP_DAYS",
    "PARTIAL",
    "POST_DOSE",
    "PRE_DOSE",
    "RECOVERY_DAYS",
    "RECOVERY_MAX_GAP_DAYS",
    "RELAPSE_MIN_DAYS_APART",
    "RESPONSE",
    "RESPONSES",
    "SCALES",
    "SEVERITIES",
    "STATES",
    "SUSTAIN_DAYS",
    "TIMINGS",
    "Band",
    "BatchResult",
    "Classification",
    "Entry",
    "Event",
    "Options",
    "ReliableChange",
    "ReliableChangeParams",
    "Row",
    "Rules",
    "SafetyFlag",
    "SafetyLevels",
    "Scale",
    "ScoreWarning",
    "ScoringError",
    "ScoringErrors",
    "classify_batch",
    "classify_trajectory",
    "date_of_day",
    "day_number",
    "flags_of_scores",
    "get_scale",
    "improvement",
    "item_directions",
    "read_entry",
    "reliable_change",
    "response_category",
    "safety_flags",
    "score_items",
    "validate_items",
    "validate_total",
]
