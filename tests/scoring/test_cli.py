"""``python -m scoring classify`` as an auditor runs it (CLINICAL §6)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.scoring.helpers import WORKED_EXAMPLE, assessment, day, run_cli

EXAMPLE = {
    "scale": "bdi2",
    "course_start": day(0).isoformat(),
    "assessments": [assessment(d, total) for d, total in WORKED_EXAMPLE],
}


def bdi2_items(total: int, suicide: int = 0) -> list[object]:
    items: list[object] = [0] * 21
    items[8] = suicide
    rest = total - suicide
    for i in range(21):
        if i != 8 and rest:
            items[i] = min(3, rest)
            rest -= items[i]  # type: ignore[operator]
    return items


def test_worked_example_from_stdin() -> None:
    run = run_cli(EXAMPLE)
    assert (run.status, run.stderr) == (0, "")
    out = run.json()
    assert out["baseline"] == {"date": "2026-01-05", "total": 48}
    assert out["latest"] == {
        "date": "2026-03-09", "total": 3, "improvement": 0.9375, "response": "response",
    }  # fmt: skip
    assert out["first_response_date"] == "2026-02-09"
    assert out["state"] == "remission"
    assert out["events"] == [{"type": "remission", "onset": "2026-02-09", "confirmed": "2026-03-02"}]
    assert out["safety_flags"] == []
    assert "projection" not in out
    assert out["assessments"][4] == {
        "date": "2026-02-02", "timing": None, "total": 30, "severity": "severe",
        "improvement": 0.375, "response": "partial", "in_remission_range": False,
    }  # fmt: skip
    assert len(out["assessments"]) == 10


def test_from_a_file(tmp_path: Path) -> None:
    path = tmp_path / "trajectory.json"
    path.write_text(json.dumps(EXAMPLE))
    run = run_cli(text="", args=[str(path)])
    assert run.status == 0
    assert run.json()["state"] == "remission"


def test_assessments_in_date_order_items_and_flags() -> None:
    payload = {
        "scale": "bdi2",
        "assessments": [
            {"date": "2026-01-19", "items": bdi2_items(20, suicide=2)},
            {"date": "2026-01-05", "items": bdi2_items(40, suicide=1), "total": 40},
            {"date": "2026-01-12", "total": 30},
        ],
    }
    out = run_cli(payload).json()
    assert [a["date"] for a in out["assessments"]] == ["2026-01-05", "2026-01-12", "2026-01-19"]
    assert [a["total"] for a in out["assessments"]] == [40, 30, 20]
    assert out["assessments"][2]["response"] == "response"
    assert out["safety_flags"] == [
        {"date": "2026-01-05", "item": 9, "value": 1, "level": "review"},
        {"date": "2026-01-19", "item": 9, "value": 2, "level": "urgent"},
    ]


def test_options_and_directions() -> None:
    items: list[object] = [0] * 21
    items[15] = "2a"
    payload = {
        "scale": "madrs",
        "options": {"remission_max": 12},
        "assessments": [assessment(d, t) for d, t in [(0, 34), (7, 12), (14, 12), (21, 12), (28, 12)]],
    }
    out = run_cli(payload).json()
    assert out["state"] == "remission"
    assert out["rules"]["remission_max"] == 12
    bdi = run_cli({"scale": "bdi2", "assessments": [{"date": "2026-01-05", "items": items}]})
    assert bdi.json()["assessments"][0]["total"] == 2


def test_baseline_index_marks_the_baseline() -> None:
    payload = {
        "scale": "phq9",
        "baseline_index": 1,
        "assessments": [assessment(0, 10), assessment(7, 20), assessment(14, 10)],
    }
    out = run_cli(payload).json()
    assert out["baseline"] == {"date": day(7).isoformat(), "total": 20}
    assert out["latest"]["response"] == "response"


ITEMS_OK = [0] * 9


@pytest.mark.parametrize(
    ("payload", "line"),
    [
        ({"scale": "gad7", "assessments": []}, "error: scale: unknown scale 'gad7'"),
        ({"assessments": []}, "error: scale: missing"),
        (
            {"scale": "phq9", "assessments": [{"date": "2026-01-05", "items": [0] * 8}]},
            "error: assessments[0].items: expected 9 items for phq9, got 8",
        ),
        (
            {
                "scale": "bdi2",
                "assessments": [
                    assessment(0, 3),
                    assessment(7, 3),
                    assessment(14, 3),
                    {"date": "2026-01-26", "items": [0, 0, 0, 0, 5] + [0] * 16},
                ],
            },
            "error: assessments[3].items[4]: 5 is out of range 0-3",
        ),
        (
            {"scale": "hamd17", "assessments": [{"date": "2026-01-05", "items": [0, 0, 0, 3] + [0] * 13}]},
            "error: assessments[0].items[3]: 3 is out of range 0-2",
        ),
        (
            {"scale": "phq9", "assessments": [assessment(0, 5), assessment(7, 28)]},
            "error: assessments[1].total: 28 is out of range 0-27",
        ),
        (
            {"scale": "phq9", "assessments": [{"date": "2026-01-05", "total": 4.0}]},
            "error: assessments[0].total: 4.0 is not an integer",
        ),
        (
            {"scale": "phq9", "assessments": [{"date": "2026-02-30", "total": 4}]},
            "error: assessments[0].date: '2026-02-30' is not a valid date (YYYY-MM-DD)",
        ),
        (
            {"scale": "phq9", "assessments": [assessment(0, 4), {"date": "05/01/2026", "total": 4}]},
            "error: assessments[1].date: '05/01/2026' is not a valid date (YYYY-MM-DD)",
        ),
        (
            {"scale": "phq9", "assessments": [{"total": 4}]},
            "error: assessments[0].date: missing",
        ),
        (
            {"scale": "phq9", "assessments": [{"date": "2026-01-05", "items": [1] * 9, "total": 8}]},
            "error: assessments[0].total: 8 does not match the sum of the items (9)",
        ),
        (
            {"scale": "phq9", "assessments": [{"date": "2026-01-05"}]},
            "error: assessments[0].items: missing: give items or a total",
        ),
        (
            {"scale": "phq9", "assessments": [{"date": "2026-01-05", "total": 3, "note": "x"}]},
            "error: assessments[0].note: unknown field",
        ),
        (
            {"scale": "phq9", "assessments": ["2026-01-05"]},
            "error: assessments[0]: expected an object",
        ),
        ({"scale": "phq9", "assessments": {}}, "error: assessments: expected a list"),
        ({"scale": "phq9"}, "error: assessments: expected a list"),
        (
            {"scale": "phq9", "course_start": "soon", "assessments": []},
            "error: course_start: 'soon' is not a valid date",
        ),
        (
            {"scale": "phq9", "assessments": [], "options": {"remission_max": 30}},
            "error: options.remission_max: 30 is out of range 0-27",
        ),
        (
            {"scale": "phq9", "assessments": [], "options": {"sustain": 21}},
            "error: options.sustain: unknown option",
        ),
        (
            {"scale": "phq9", "assessments": [], "options": {"max_gap_days": -2}},
            "error: options.max_gap_days: -2 is out of range",
        ),
        (
            {"scale": "phq9", "assessments": [], "course_stat": "2026-01-05"},
            "error: course_stat: unknown field",
        ),
        (
            {"scale": "phq9", "assessments": [assessment(0, 3)], "baseline_index": 1},
            "error: baseline_index: 1 is not an index of assessments",
        ),
        (
            {
                "scale": "bdi2",
                "assessments": [
                    {"date": "2026-01-05", "items": [0] * 15 + ["1c"] + [0] * 5},
                ],
            },
            "error: assessments[0].items[15]: '1c' is not one of the options",
        ),
        (
            {
                "scale": "bdi2",
                "assessments": [
                    {"date": "2026-01-05", "items": [0] * 21, "item_directions": {"16": "increase"}},
                ],
            },
            "error: assessments[0].item_directions.16: a direction needs an item score above 0",
        ),
        ([1, 2], "error: input: expected a JSON object"),
    ],
)
def test_invalid_input_is_one_line_and_status_2(payload: object, line: str) -> None:
    run = run_cli(payload)
    assert run.status == 2
    assert run.stdout == ""
    assert run.stderr.count("\n") == 1
    assert run.stderr.startswith(line)


@pytest.mark.parametrize("text", ['{"scale": "bdi2",', "", "not json", '{"scale": NaN'])
def test_malformed_json(text: str) -> None:
    run = run_cli(text=text)
    assert (run.status, run.stdout) == (2, "")
    assert run.stderr.startswith("error: input: malformed JSON")
    assert run.stderr.count("\n") == 1


def test_missing_file() -> None:
    run = run_cli(text="", args=["/nonexistent/trajectory.json"])
    assert (run.status, run.stdout) == (2, "")
    assert run.stderr.startswith("error: file: cannot read")


def test_empty_assessments_is_not_an_error() -> None:
    run = run_cli({"scale": "phq9", "assessments": []})
    assert run.status == 0
    out = run.json()
    assert (out["baseline"], out["latest"], out["state"]) == (None, None, "not_remitted")
    assert (out["assessments"], out["safety_flags"]) == ([], [])


# ---------------------------------------------------------------- version 2: timing, time, marked baseline


def test_timing_time_and_order_of_section_2() -> None:
    payload = {
        "scale": "bdi2",
        "course_start": day(0).isoformat(),
        "assessments": [
            {"date": day(0).isoformat(), "total": 20, "timing": "post_dose", "time": "08:00"},
            {"date": day(0).isoformat(), "total": 40, "timing": "pre_dose", "time": "10:00"},
            {"date": day(-2).isoformat(), "total": 42},
            {"date": day(7).isoformat(), "items": bdi2_items(12, suicide=1), "timing": "post_dose"},
            {"date": day(7).isoformat(), "total": 30, "timing": None},
        ],
    }
    out = run_cli(payload).json()
    assert [(a["date"], a["timing"], a["total"]) for a in out["assessments"]] == [
        (day(-2).isoformat(), None, 42),
        (day(0).isoformat(), "pre_dose", 40),
        (day(0).isoformat(), "post_dose", 20),
        (day(7).isoformat(), None, 30),
        (day(7).isoformat(), "post_dose", 12),
    ]
    assert out["baseline"] == {"date": day(0).isoformat(), "total": 40}
    assert out["latest"]["total"] == 30
    assert out["assessments"][1]["response"] is None  # the baseline itself
    assert out["assessments"][4] == {
        "date": day(7).isoformat(), "timing": "post_dose", "total": 12, "severity": "minimal",
        "improvement": None, "response": None, "in_remission_range": True,
    }  # fmt: skip
    assert out["safety_flags"] == [{"date": day(7).isoformat(), "item": 9, "value": 1, "level": "review"}]
    assert out["baseline_in_remission_range"] is False


def test_marked_baseline_on_an_entry() -> None:
    payload = {
        "scale": "phq9",
        "assessments": [
            assessment(0, 10),
            {**assessment(7, 20), "baseline": True},
            {**assessment(14, 10), "baseline": False},
        ],
    }
    out = run_cli(payload).json()
    assert out["baseline"] == {"date": day(7).isoformat(), "total": 20}
    assert [a["response"] for a in out["assessments"]] == [None, None, "response"]


def test_baseline_only_course_is_not_assessable() -> None:
    out = run_cli({"scale": "madrs", "assessments": [assessment(0, 8)]}).json()
    assert out["latest"]["response"] is None
    assert out["assessable"] is False
    assert out["baseline_in_remission_range"] is True
    assert out["state"] == "not_remitted"


def test_worked_example_with_post_dose_entries_between() -> None:
    noisy = dict(EXAMPLE)
    noisy["assessments"] = (
        [*EXAMPLE["assessments"]]
        + [  # type: ignore[misc]
            {**assessment(d, 0), "timing": "post_dose"} for d in (1, 8, 15)
        ]
        + [{**assessment(30, 40), "timing": "post_dose"}]
    )
    out = run_cli(noisy).json()
    assert out["first_response_date"] == "2026-02-09"
    assert out["events"] == [{"type": "remission", "onset": "2026-02-09", "confirmed": "2026-03-02"}]
    assert len(out["assessments"]) == 14


def test_new_options_are_accepted() -> None:
    payload = {
        "scale": "bdi2",
        "options": {"relapse_min_days_apart": 2, "recovery_max_gap_days": 40},
        "assessments": [assessment(d, t) for d, t in [(0, 40), (7, 5), (14, 5), (21, 5), (28, 5), (35, 20), (37, 20)]],
    }
    out = run_cli(payload).json()
    assert out["state"] == "not_remitted"
    assert out["events"][-1] == {"type": "relapse", "onset": day(35).isoformat(), "confirmed": day(37).isoformat()}
    assert (out["rules"]["relapse_min_days_apart"], out["rules"]["recovery_max_gap_days"]) == (2, 40)


@pytest.mark.parametrize(
    ("entries", "line"),
    [
        (
            [{**assessment(0, 3), "baseline": True}, assessment(7, 3), {**assessment(14, 3), "baseline": True}],
            "error: assessments[2].baseline: a second baseline",
        ),
        (
            [assessment(0, 3), {**assessment(0, 3), "timing": "post_dose", "baseline": True}],
            "error: assessments[1].baseline:",
        ),
        ([{**assessment(0, 3), "baseline": "yes"}], "error: assessments[0].baseline: 'yes' is not true or false"),
        ([{**assessment(0, 3), "baseline": 1}], "error: assessments[0].baseline:"),
        ([assessment(0, 3), {**assessment(7, 3), "timing": "after"}], "error: assessments[1].timing: 'after' is not"),
        ([{**assessment(0, 3), "timing": "PRE_DOSE"}], "error: assessments[0].timing:"),
        ([{**assessment(0, 3), "timing": True}], "error: assessments[0].timing:"),
        ([{**assessment(0, 3), "time": "9:00"}], "error: assessments[0].time: '9:00' is not a valid time of day"),
        ([{**assessment(0, 3), "time": "24:00"}], "error: assessments[0].time:"),
        ([assessment(0, 3), {**assessment(0, 3), "time": "12:60"}], "error: assessments[1].time:"),
        ([{**assessment(0, 3), "time": 900}], "error: assessments[0].time:"),
        ([{**assessment(0, 3), "time": "09:00:00"}], "error: assessments[0].time:"),
    ],
)
def test_invalid_timing_time_or_baseline(entries: list[object], line: str) -> None:
    run = run_cli({"scale": "phq9", "assessments": entries})
    assert (run.status, run.stdout) == (2, "")
    assert run.stderr.count("\n") == 1
    assert run.stderr.startswith(line)


def test_baseline_index_and_a_marked_entry_must_agree() -> None:
    entries = [assessment(0, 3), {**assessment(7, 3), "baseline": True}]
    agree = run_cli({"scale": "phq9", "baseline_index": 1, "assessments": entries})
    assert agree.status == 0
    run = run_cli({"scale": "phq9", "baseline_index": 0, "assessments": entries})
    assert (run.status, run.stdout) == (2, "")
    assert run.stderr.startswith("error: baseline_index: 0 disagrees with assessments[1].baseline")


@pytest.mark.parametrize("option", ["relapse_min_days_apart", "recovery_max_gap_days"])
def test_bad_new_options_exit_2(option: str) -> None:
    run = run_cli({"scale": "phq9", "assessments": [], "options": {option: -1}})
    assert (run.status, run.stdout) == (2, "")
    assert run.stderr.startswith(f"error: options.{option}: -1 is out of range")
