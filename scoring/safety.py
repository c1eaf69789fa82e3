"""Suicide-item flags (CLINICAL §3): never hidden by a good total."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from scoring.errors import ScoringError
from scoring.scales import SafetyLevels, Scale, as_integer, get_scale
from scoring.validation import validate_items

FlagLevel = Literal["review", "urgent"]


@dataclass(frozen=True)
class SafetyFlag:
    """A suicide-item answer above 0 that a clinician must acknowledge."""

    item: int
    value: int
    level: FlagLevel

    def as_dict(self) -> dict[str, object]:
        return {"item": self.item, "value": self.value, "level": self.level}


def _levels(scale: Scale, levels: SafetyLevels | Mapping[str, object] | None) -> SafetyLevels:
    """The scale's levels, or a clinic's override of them, checked."""
    if levels is None:
        return scale.safety_levels
    if isinstance(levels, SafetyLevels):
        review, urgent = levels.review, levels.urgent
    elif isinstance(levels, Mapping):
        unknown = sorted(set(levels) - {"review", "urgent"})
        if unknown:
            raise ScoringError(f"levels.{unknown[0]}", "unknown level (expected review, urgent)")
        review = as_integer(levels.get("review", scale.safety_levels.review), "levels.review")
        urgent = as_integer(levels.get("urgent", scale.safety_levels.urgent), "levels.urgent")
    else:
        raise ScoringError("levels", "expected an object with review and urgent")
    maximum = scale.item_max[scale.suicide_item - 1]
    if not 1 <= review <= maximum:
        raise ScoringError("levels.review", f"{review} is out of range 1-{maximum}")
    if not review <= urgent <= maximum:
        raise ScoringError("levels.urgent", f"{urgent} is out of range {review}-{maximum}")
    return SafetyLevels(review=review, urgent=urgent, source="clinic setting")


def safety_flags(
    scale_key: str,
    items: object,
    levels: SafetyLevels | Mapping[str, object] | None = None,
) -> list[SafetyFlag]:
    """The flag raised by the suicide item, if its value is above 0.

    ``urgent`` at or above the urgent level, otherwise ``review``: any value
    above 0 raises a flag, whatever the levels say, so an override can move
    the urgent boundary but never silence an answer.
    """
    scale = get_scale(scale_key)
    checked = _levels(scale, levels)
    return _flags_at(scale, checked, validate_items(scale_key, items))


def flags_of_scores(scale: Scale, scores: Sequence[int]) -> list[SafetyFlag]:
    """``safety_flags`` at the scale's own levels for item scores ``read_entry`` has already read
    (checked, as ints), without reading them again."""
    return _flags_at(scale, scale.safety_levels, scores)


def _flags_at(scale: Scale, levels: SafetyLevels, scores: Sequence[int]) -> list[SafetyFlag]:
    value = scores[scale.suicide_item - 1]
    if value <= 0:
        return []
    level: FlagLevel = "urgent" if value >= levels.urgent else "review"
    return [SafetyFlag(item=scale.suicide_item, value=value, level=level)]
