"""Reliable change (Jacobson & Truax 1991) between two totals of one scale."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from scoring.scales import RELIABLE_Z, ReliableChangeParams, get_scale

Direction = Literal["improved", "worsened", "none"]


@dataclass(frozen=True)
class ReliableChange:
    """``rc`` is the Jacobson-Truax index (None where the scale uses a fixed
    points threshold); ``threshold_points`` is the smallest change in points
    that counts as reliable (for RC scales, ``1.96 * S_diff``, a real number)."""

    rc: float | None
    reliable: bool
    direction: Direction
    threshold_points: float
    source: str

    def as_dict(self) -> dict[str, object]:
        return {
            "rc": self.rc,
            "reliable": self.reliable,
            "direction": self.direction,
            "threshold_points": self.threshold_points,
            "source": self.source,
        }


def standard_error_of_difference(params: ReliableChangeParams) -> float:
    """``S_diff = sqrt(2) * SD * sqrt(1 - r)``."""
    assert params.sd is not None and params.r is not None
    return math.sqrt(2.0) * params.sd * math.sqrt(1.0 - params.r)


def reliable_change(scale_key: str, x1: int, x2: int) -> ReliableChange:
    """Reliable change from total ``x1`` (earlier) to ``x2`` (later).

    Lower totals are better on every scale here, so a reliable fall is
    ``improved`` and a reliable rise ``worsened``.  Scales with an RC use
    ``|RC| > 1.96``; a fixed threshold (PHQ-9: 6 points, NHS Talking
    Therapies) is met by a change of at least that many points.
    """
    scale = get_scale(scale_key)
    before = scale.check_total(x1, "x1")
    after = scale.check_total(x2, "x2")
    params = scale.reliable_change
    change = after - before
    rc: float | None
    if params.points is not None:
        rc = None
        threshold = float(params.points)
        reliable = abs(change) >= params.points
    else:
        s_diff = standard_error_of_difference(params)
        rc = change / s_diff
        threshold = RELIABLE_Z * s_diff
        reliable = abs(rc) > RELIABLE_Z
    direction: Direction = "none"
    if reliable:
        direction = "improved" if change < 0 else "worsened"
    return ReliableChange(rc, reliable, direction, threshold, params.source)
