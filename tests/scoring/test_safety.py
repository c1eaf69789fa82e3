"""Suicide-item flags (CLINICAL §3) at every boundary."""

from __future__ import annotations

import pytest

from scoring import SCALES, SafetyFlag, ScoringError, flags_of_scores, get_scale, read_entry, safety_flags

# (scale, value, level or None) at each boundary of CLINICAL §3.
BOUNDARIES = [
    ("bdi2", 0, None), ("bdi2", 1, "review"), ("bdi2", 2, "urgent"), ("bdi2", 3, "urgent"),
    ("phq9", 0, None), ("phq9", 1, "review"), ("phq9", 2, "urgent"), ("phq9", 3, "urgent"),
    ("madrs", 0, None), ("madrs", 1, "review"), ("madrs", 3, "review"),
    ("madrs", 4, "urgent"), ("madrs", 6, "urgent"),
    ("hamd17", 0, None), ("hamd17", 1, "review"), ("hamd17", 2, "review"),
    ("hamd17", 3, "urgent"), ("hamd17", 4, "urgent"),
]  # fmt: skip


def items_with_suicide_value(key: str, value: int, others: int = 0) -> list[int]:
    scale = get_scale(key)
    items = [min(others, maximum) for maximum in scale.item_max]
    items[scale.suicide_item - 1] = value
    return items


@pytest.mark.parametrize(("key", "value", "level"), BOUNDARIES)
def test_flag_level_at_boundary(key: str, value: int, level: str | None) -> None:
    flags = safety_flags(key, items_with_suicide_value(key, value))
    item = get_scale(key).suicide_item
    assert flags == ([] if level is None else [SafetyFlag(item=item, value=value, level=level)])


@pytest.mark.parametrize("key", ["bdi2", "madrs", "hamd17", "phq9"])
def test_a_good_total_never_hides_a_flag(key: str) -> None:
    flags = safety_flags(key, items_with_suicide_value(key, 1))
    assert [flag.level for flag in flags] == ["review"]


@pytest.mark.parametrize("key", ["bdi2", "madrs", "hamd17", "phq9"])
def test_other_items_never_flag(key: str) -> None:
    assert safety_flags(key, items_with_suicide_value(key, 0, others=9)) == []


def test_suicide_items_are_the_documented_ones() -> None:
    assert {key: get_scale(key).suicide_item for key in ("bdi2", "madrs", "hamd17", "phq9")} == {
        "bdi2": 9, "madrs": 10, "hamd17": 3, "phq9": 9,
    }  # fmt: skip


def test_clinic_can_move_the_urgent_level() -> None:
    items = items_with_suicide_value("madrs", 3)
    assert safety_flags("madrs", items, {"urgent": 3})[0].level == "urgent"
    assert safety_flags("madrs", items, {"urgent": 5})[0].level == "review"


def test_an_override_cannot_silence_a_positive_answer() -> None:
    items = items_with_suicide_value("madrs", 1)
    assert safety_flags("madrs", items, {"review": 2, "urgent": 4})[0].level == "review"


@pytest.mark.parametrize(
    ("levels", "field"),
    [({"urgent": 7}, "levels.urgent"), ({"review": 0}, "levels.review"),
     ({"review": 3, "urgent": 2}, "levels.urgent"), ({"panic": 1}, "levels.panic"),
     ({"urgent": True}, "levels.urgent")],
)  # fmt: skip
def test_bad_levels(levels: dict[str, object], field: str) -> None:
    with pytest.raises(ScoringError) as caught:
        safety_flags("madrs", items_with_suicide_value("madrs", 1), levels)
    assert caught.value.field == field


def test_flags_validate_items() -> None:
    with pytest.raises(ScoringError) as caught:
        safety_flags("phq9", [0] * 8)
    assert caught.value.field == "items"


def test_bdi2_flags_with_directional_options() -> None:
    items: list[object] = list(items_with_suicide_value("bdi2", 2))
    items[15] = "3a"
    assert safety_flags("bdi2", items) == [SafetyFlag(9, 2, "urgent")]


@pytest.mark.parametrize("key", sorted(SCALES))
def test_flags_of_read_scores_are_the_flags_of_the_items(key: str) -> None:
    scale = get_scale(key)
    maximum = scale.item_max[scale.suicide_item - 1]
    for value in range(maximum + 1):
        for others in (0, 1, 3):
            items = items_with_suicide_value(key, value, others)
            scores, _ = read_entry(key, items)
            assert flags_of_scores(scale, list(scores)) == safety_flags(key, items)
