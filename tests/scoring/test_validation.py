"""Item validation, totals and BDI-II directions (CLINICAL §1)."""

from __future__ import annotations

import pytest

from scoring import ScoringError, item_directions, score_items, validate_items, validate_total


def zeros(n: int) -> list[object]:
    return [0] * n


def with_item(n: int, position: int, value: object) -> list[object]:
    items = zeros(n)
    items[position] = value
    return items


def error_of(call, *args) -> ScoringError:  # type: ignore[no-untyped-def]
    with pytest.raises(ScoringError) as caught:
        call(*args)
    return caught.value


@pytest.mark.parametrize(("key", "n"), [("bdi2", 21), ("madrs", 10), ("hamd17", 17), ("phq9", 9)])
def test_valid_items_give_ints_and_total(key: str, n: int) -> None:
    items = [1] * n
    assert validate_items(key, items) == (1,) * n
    assert score_items(key, items) == n


@pytest.mark.parametrize(("key", "n"), [("bdi2", 21), ("madrs", 10), ("hamd17", 17), ("phq9", 9)])
@pytest.mark.parametrize("delta", [-1, 1])
def test_wrong_item_count(key: str, n: int, delta: int) -> None:
    error = error_of(validate_items, key, zeros(n + delta))
    assert error.field == "items"
    assert f"expected {n} items" in error.message


def test_hamd21_form_is_not_hamd17() -> None:
    assert error_of(validate_items, "hamd17", zeros(21)).field == "items"


@pytest.mark.parametrize(
    ("key", "position", "maximum"),
    [("bdi2", 0, 3), ("bdi2", 20, 3), ("madrs", 9, 6), ("phq9", 8, 3)],
)
def test_item_maximum_and_one_above(key: str, position: int, maximum: int) -> None:
    n = {"bdi2": 21, "madrs": 10, "phq9": 9}[key]
    assert validate_items(key, with_item(n, position, maximum))[position] == maximum
    error = error_of(validate_items, key, with_item(n, position, maximum + 1))
    assert (error.field, error.message) == (
        f"items[{position}]",
        f"{maximum + 1} is out of range 0-{maximum}",
    )


@pytest.mark.parametrize("item", range(1, 18))
def test_hamd17_per_item_maximum(item: int) -> None:
    maximum = 4 if item in {1, 2, 3, 7, 8, 9, 10, 11, 15} else 2
    assert score_items("hamd17", with_item(17, item - 1, maximum)) == maximum
    error = error_of(validate_items, "hamd17", with_item(17, item - 1, maximum + 1))
    assert error.field == f"items[{item - 1}]"
    assert error.message == f"{maximum + 1} is out of range 0-{maximum}"


def test_hamd17_maximum_total_is_52() -> None:
    items = [4 if i in {1, 2, 3, 7, 8, 9, 10, 11, 15} else 2 for i in range(1, 18)]
    assert score_items("hamd17", items) == 52


@pytest.mark.parametrize("bad", [True, False, 1.0, 2.5, "1", None, [1]])
def test_items_must_be_integers(bad: object) -> None:
    error = error_of(validate_items, "phq9", with_item(9, 4, bad))
    assert error.field == "items[4]"
    assert "not an integer" in error.message


def test_negative_item() -> None:
    error = error_of(validate_items, "phq9", with_item(9, 2, -1))
    assert (error.field, error.message) == ("items[2]", "-1 is out of range 0-3")


@pytest.mark.parametrize("bad", ["0,1,2", {"1": 0}, 5, None])
def test_items_must_be_a_list(bad: object) -> None:
    assert error_of(validate_items, "phq9", bad).field == "items"


def test_unknown_scale_is_a_scale_error() -> None:
    assert error_of(validate_items, "gad7", zeros(7)).field == "scale"


# ---------------------------------------------------------------- totals


@pytest.mark.parametrize(("key", "maximum"), [("bdi2", 63), ("madrs", 60), ("hamd17", 52), ("phq9", 27)])
def test_total_range(key: str, maximum: int) -> None:
    assert validate_total(key, 0) == 0
    assert validate_total(key, maximum) == maximum
    for bad in (-1, maximum + 1):
        error = error_of(validate_total, key, bad)
        assert (error.field, error.message) == ("total", f"{bad} is out of range 0-{maximum}")


@pytest.mark.parametrize("bad", [True, 12.0, "12", None])
def test_total_must_be_an_integer(bad: object) -> None:
    assert error_of(validate_total, "bdi2", bad).field == "total"


# ---------------------------------------------------------------- BDI-II items 16 and 18


def test_bdi2_direction_letters_score_as_digits() -> None:
    items = with_item(21, 15, "2a")
    items[17] = "3b"
    assert validate_items("bdi2", items)[15:18] == (2, 0, 3)
    assert score_items("bdi2", items) == 5
    assert item_directions("bdi2", items) == {16: "increase", 18: "decrease"}


@pytest.mark.parametrize(
    ("option", "score", "direction"),
    [("0", 0, None), ("1a", 1, "increase"), ("1b", 1, "decrease"), ("3a", 3, "increase")],
)
def test_each_directional_option(option: str, score: int, direction: str | None) -> None:
    items = with_item(21, 17, option)
    assert validate_items("bdi2", items)[17] == score
    assert item_directions("bdi2", items) == ({} if direction is None else {18: direction})


@pytest.mark.parametrize("option", ["4a", "1c", "0a", "2", "a", "", " 1a", "1a\n", "1A"])
def test_bad_directional_option(option: str) -> None:
    error = error_of(validate_items, "bdi2", with_item(21, 15, option))
    assert error.field == "items[15]"
    assert "not one of the options 0, 1a, 1b, 2a, 2b, 3a, 3b" in error.message


def test_letters_only_on_directional_items() -> None:
    assert error_of(validate_items, "bdi2", with_item(21, 14, "1a")).field == "items[14]"
    assert error_of(validate_items, "phq9", with_item(9, 2, "1a")).field == "items[2]"


def test_explicit_directions() -> None:
    items = with_item(21, 15, 2)
    items[17] = 1
    directions = {"16": "decrease", "18": "increase"}
    assert item_directions("bdi2", items, directions) == {16: "decrease", 18: "increase"}
    assert validate_items("bdi2", items, directions)[15] == 2


def test_item_without_direction_is_left_out() -> None:
    assert item_directions("bdi2", with_item(21, 15, 2)) == {}


def test_explicit_direction_agreeing_with_letter() -> None:
    items = with_item(21, 15, "2a")
    assert item_directions("bdi2", items, {"16": "increase"}) == {16: "increase"}


@pytest.mark.parametrize(
    ("key", "items", "directions", "field", "words"),
    [
        ("bdi2", with_item(21, 15, "2a"), {"16": "decrease"}, "item_directions.16", "contradicts"),
        ("bdi2", zeros(21), {"16": "increase"}, "item_directions.16", "score above 0"),
        ("bdi2", with_item(21, 8, 1), {"9": "increase"}, "item_directions.9", "has no direction"),
        ("bdi2", with_item(21, 15, 1), {"16": "up"}, "item_directions.16", "'increase' or 'decrease'"),
        ("bdi2", with_item(21, 15, 1), {"x": "increase"}, "item_directions.x", "not an item number"),
        ("bdi2", with_item(21, 15, 1), ["increase"], "item_directions", "expected an object"),
        ("phq9", with_item(9, 2, 1), {"3": "increase"}, "item_directions.3", "has no direction"),
    ],
)
def test_bad_directions(key: str, items: list[object], directions: object, field: str, words: str) -> None:
    for call in (item_directions, validate_items):
        error = error_of(call, key, items, directions)
        assert error.field == field
        assert words in error.message


def test_error_string_is_field_colon_message() -> None:
    error = error_of(validate_items, "bdi2", with_item(21, 4, 5))
    assert str(error) == "items[4]: 5 is out of range 0-3"
    assert isinstance(error, ValueError)


# ---------------------------------------------------------------- every fault at once


def test_every_bad_item_is_named_with_its_code() -> None:
    items = zeros(9)
    items[1], items[4], items[7] = 4, None, "x"
    error = error_of(validate_items, "phq9", items)
    assert [(e.field, e.code) for e in error.errors] == [
        ("items[1]", "out_of_range"),
        ("items[4]", "null"),
        ("items[7]", "not_an_integer"),
    ]
    assert error.errors[0].params == {"item": 2, "min": 0, "max": 3}
    # It reads as its first fault, so one-line reports (the CLI) are unchanged.
    assert (error.field, error.message) == ("items[1]", "4 is out of range 0-3")
    assert str(error) == "items[1]: 4 is out of range 0-3"


def test_every_bad_direction_is_named() -> None:
    items = with_item(21, 15, 2)
    error = error_of(item_directions, "bdi2", items, {"16": "sideways", "18": "increase", "3": "increase"})
    assert [(e.field, e.code) for e in error.errors] == [
        ("item_directions.16", "invalid_choice"),
        ("item_directions.18", "direction_without_score"),
        ("item_directions.3", "not_directional"),
    ]


def test_one_fault_is_a_plain_error_with_a_code() -> None:
    error = error_of(validate_items, "phq9", zeros(8))
    assert (error.code, error.params["expected"], error.params["given"]) == ("wrong_item_count", 9, 8)
    assert error.errors == (error,)
