"""Item validation and totals (CLINICAL §1).

Items are given in item order, item 1 first; an error names the item by its
0-based position in the list, ``items[4]`` being item 5.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from scoring.errors import ScoringError, raise_all
from scoring.scales import DIRECTION_LETTERS, Scale, as_integer, get_scale

#: A directional option of the BDI-II: "0", or a score 1-3 and its direction letter.
_DIRECTIONAL_OPTION = re.compile(r"(0|[1-9][0-9]*)([ab]?)")
DIRECTIONS = tuple(DIRECTION_LETTERS.values())


def _item_list(scale: Scale, items: object) -> Sequence[object]:
    if isinstance(items, (str, bytes)) or not isinstance(items, Sequence):
        raise ScoringError("items", f"expected a list of {scale.n_items} item scores", "not_a_list")
    if len(items) != scale.n_items:
        raise ScoringError(
            "items",
            f"expected {scale.n_items} items for {scale.key}, got {len(items)}",
            "wrong_item_count",
            {"expected": scale.n_items, "given": len(items), "scale": scale.key},
        )
    return items


def _directional_option(scale: Scale, position: int, value: str) -> tuple[int, str | None]:
    """Score and direction of a BDI-II option string such as ``"2a"``."""
    field = f"items[{position}]"
    maximum = scale.item_max[position]
    options = ", ".join(["0"] + [f"{score}{letter}" for score in range(1, maximum + 1) for letter in "ab"])
    match = _DIRECTIONAL_OPTION.fullmatch(value)
    if match is None or (match.group(1) == "0") == bool(match.group(2)) or int(match.group(1)) > maximum:
        raise ScoringError(
            field,
            f"{value!r} is not one of the options {options}",
            "invalid_option",
            {"item": position + 1, "options": options},
        )
    letter = match.group(2)
    return int(match.group(1)), DIRECTION_LETTERS[letter] if letter else None


def _read_item(scale: Scale, position: int, value: object) -> tuple[int, str | None]:
    """One item's score and, for a directional option string, its direction."""
    if isinstance(value, str) and position + 1 in scale.directional_items:
        return _directional_option(scale, position, value)
    field = f"items[{position}]"
    maximum = scale.item_max[position]
    bounds = {"item": position + 1, "min": 0, "max": maximum}
    try:
        score = as_integer(value, field)
    except ScoringError as error:
        raise ScoringError(field, error.message, error.code, bounds) from None
    if not 0 <= score <= maximum:
        raise ScoringError(field, f"{score} is out of range 0-{maximum}", "out_of_range", bounds)
    return score, None


def _read_items(scale: Scale, items: object) -> list[tuple[int, str | None]]:
    """Every item read; ScoringError (``ScoringErrors`` for several) naming every bad item."""
    read: list[tuple[int, str | None]] = []
    errors: list[ScoringError] = []
    for i, value in enumerate(_item_list(scale, items)):
        try:
            read.append(_read_item(scale, i, value))
        except ScoringError as error:
            errors.append(error)
    raise_all(errors)
    return read


def _explicit_directions(scale: Scale, scores: Sequence[int], directions: object) -> dict[int, str]:
    """The ``{"16": "increase"}`` mapping, checked against the scale and scores (every bad entry named)."""
    if not isinstance(directions, Mapping):
        raise ScoringError("item_directions", 'expected an object such as {"16": "increase"}', "not_an_object")
    result: dict[int, str] = {}
    errors: list[ScoringError] = []
    for raw_item, direction in directions.items():
        try:
            item, checked = _explicit_direction(scale, scores, raw_item, direction)
        except ScoringError as error:
            errors.append(error)
        else:
            result[item] = checked
    raise_all(errors)
    return result


def _explicit_direction(scale: Scale, scores: Sequence[int], raw_item: object, direction: object) -> tuple[int, str]:
    field = f"item_directions.{raw_item}"
    item = _direction_item_number(raw_item, field)
    if item not in scale.directional_items:
        allowed = ", ".join(map(str, scale.directional_items)) or "none"
        raise ScoringError(
            field,
            f"item {item} of {scale.key} has no direction (directional items: {allowed})",
            "not_directional",
            {"item": item, "allowed": allowed},
        )
    if direction not in DIRECTIONS:
        raise ScoringError(field, f"{direction!r} is not 'increase' or 'decrease'", "invalid_choice", {"item": item})
    if scores[item - 1] == 0:
        raise ScoringError(field, "a direction needs an item score above 0", "direction_without_score", {"item": item})
    return item, str(direction)


def _direction_item_number(raw_item: object, field: str) -> int:
    # ASCII digits only: str.isdigit() also accepts superscripts ("¹⁶"), which int() refuses.
    if isinstance(raw_item, str) and raw_item.isascii() and raw_item.isdigit():
        return int(raw_item)
    if isinstance(raw_item, int) and not isinstance(raw_item, bool):
        return raw_item
    raise ScoringError(field, f"{raw_item!r} is not an item number", "not_an_item_number")


def read_entry(scale_key: str, items: object, directions: object = None) -> tuple[tuple[int, ...], dict[int, str]]:
    """The item scores as ints and the directions of the directional items, read in one pass.

    Directions come from the option letters in ``items`` (``"2a"``) and/or an explicit
    ``directions`` mapping (``{"16": "increase"}``); the two must agree. Only items with a score
    above 0 have a direction; an item without one is absent. ScoringError names the bad item or
    direction; with several, it is a ``ScoringErrors`` naming each (the first is its own field and
    message). Directions are checked once the items are valid.
    """
    scale = get_scale(scale_key)
    read = _read_items(scale, items)
    scores = tuple(score for score, _ in read)
    result = {i + 1: d for i, (_, d) in enumerate(read) if d is not None}
    if directions is None:
        return scores, result
    errors: list[ScoringError] = []
    for item, direction in _explicit_directions(scale, scores, directions).items():
        if result.setdefault(item, direction) != direction:
            errors.append(
                ScoringError(
                    f"item_directions.{item}",
                    f"{direction!r} contradicts the option given in items[{item - 1}]",
                    "direction_conflict",
                    {"item": item},
                )
            )
    raise_all(errors)
    return scores, dict(sorted(result.items()))


def item_directions(scale_key: str, items: object, directions: object = None) -> dict[int, str]:
    """Directions of the directional items, ``{16: "increase", 18: "decrease"}`` (see ``read_entry``)."""
    return read_entry(scale_key, items, directions)[1]


def validate_items(scale_key: str, items: object, directions: object = None) -> tuple[int, ...]:
    """The item scores as ints, or ScoringError naming every bad item (see ``read_entry``)."""
    return read_entry(scale_key, items, directions)[0]


def validate_total(scale_key: str, total: object) -> int:
    """``total`` as an int within the scale's range, or ScoringError (field ``total``)."""
    return get_scale(scale_key).check_total(total)


def score_items(scale_key: str, items: object) -> int:
    """The total of validated items."""
    return sum(validate_items(scale_key, items))
