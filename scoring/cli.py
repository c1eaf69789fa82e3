"""``python -m scoring classify [FILE]``: the rules from the command line (CLINICAL §6).

Reads one trajectory as JSON from FILE or standard input and prints its
classification as JSON.  Invalid input prints one line on standard error,
``error: <field>: <message>``, nothing on standard output, and exits with 2.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import sys
from collections.abc import Mapping, Sequence
from typing import NoReturn

from scoring.errors import ScoringError
from scoring.outcomes import Entry, Options, TimingName, classify_trajectory
from scoring.safety import SafetyFlag, safety_flags
from scoring.scales import POST_DOSE, PRE_DOSE, Scale, as_integer, get_scale
from scoring.validation import validate_items, validate_total

EXIT_INVALID = 2
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_CLOCK_TIME = re.compile(r"([01]\d|2[0-3]):([0-5]\d)")
TOP_FIELDS = ("scale", "course_start", "assessments", "options", "baseline_index")
ASSESSMENT_FIELDS = ("date", "time", "timing", "baseline", "items", "total", "item_directions")


def parse_date(value: object, field: str) -> dt.date:
    """A ``YYYY-MM-DD`` string as a date, or ScoringError."""
    if isinstance(value, str) and _ISO_DATE.fullmatch(value):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    raise ScoringError(field, f"{value!r} is not a valid date (YYYY-MM-DD)")


def parse_time(value: object, field: str) -> dt.time | None:
    """An ``HH:MM`` string (00:00-23:59) as a time, None for null, or ScoringError."""
    if value is None:
        return None
    match = _CLOCK_TIME.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        raise ScoringError(field, f"{value!r} is not a valid time of day (HH:MM)")
    return dt.time(int(match[1]), int(match[2]))


def _timing(value: object, field: str) -> TimingName | None:
    if value is None:
        return None
    if value == PRE_DOSE:
        return PRE_DOSE
    if value == POST_DOSE:
        return POST_DOSE
    raise ScoringError(field, f"{value!r} is not pre_dose, post_dose or null")


def _marked(value: object, field: str, timing: TimingName | None) -> bool:
    if type(value) is not bool:
        raise ScoringError(field, f"{value!r} is not true or false")
    if value and timing == POST_DOSE:
        raise ScoringError(field, "a post_dose entry cannot be the baseline")
    return value


def _check_fields(data: Mapping[str, object], allowed: Sequence[str], prefix: str) -> None:
    for name in data:
        if name not in allowed:
            where = f"{prefix}.{name}" if prefix else name
            raise ScoringError(where, f"unknown field (expected one of {', '.join(allowed)})")


def _read_assessment(scale: Scale, index: int, raw: object) -> tuple[Entry, list[dict[str, object]], bool]:
    """One input assessment as an Entry (keyed by its index), its safety flags
    and whether it is marked as the baseline."""
    prefix = f"assessments[{index}]"
    if not isinstance(raw, Mapping):
        raise ScoringError(prefix, "expected an object with date and items or total")
    _check_fields(raw, ASSESSMENT_FIELDS, prefix)
    if "date" not in raw:
        raise ScoringError(f"{prefix}.date", "missing")
    date = parse_date(raw["date"], f"{prefix}.date")
    time = parse_time(raw.get("time"), f"{prefix}.time")
    timing = _timing(raw.get("timing"), f"{prefix}.timing")
    marked = _marked(raw.get("baseline", False), f"{prefix}.baseline", timing)
    try:
        total, flags = _score(scale, raw)
    except ScoringError as error:
        raise error.within(prefix) from None
    dated = [{"date": date.isoformat(), **flag.as_dict()} for flag in flags]
    return Entry(date, total, index, timing, time), dated, marked


def _score(scale: Scale, raw: Mapping[str, object]) -> tuple[int, list[SafetyFlag]]:
    has_items, has_total = "items" in raw, "total" in raw
    if not has_items:
        if not has_total:
            raise ScoringError("items", "missing: give items or a total")
        if "item_directions" in raw:
            raise ScoringError("item_directions", "given without items")
        return validate_total(scale.key, raw["total"]), []
    items = raw["items"]
    total = sum(validate_items(scale.key, items, raw.get("item_directions")))
    if has_total:
        given = validate_total(scale.key, raw["total"])
        if given != total:
            raise ScoringError("total", f"{given} does not match the sum of the items ({total})")
    return total, safety_flags(scale.key, items)


def classify_document(document: object) -> dict[str, object]:
    """The §6 output for a parsed §6 input document; ScoringError for bad input."""
    if not isinstance(document, Mapping):
        raise ScoringError("input", "expected a JSON object")
    _check_fields(document, TOP_FIELDS, "")
    if "scale" not in document:
        raise ScoringError("scale", "missing")
    scale = get_scale(document["scale"])
    start = document.get("course_start")
    course_start = None if start is None else parse_date(start, "course_start")
    options = Options.from_dict(document.get("options"))
    options.resolve(scale)
    assessments = document.get("assessments")
    if not isinstance(assessments, list):
        raise ScoringError("assessments", "expected a list of assessments")
    read = []
    marked: int | None = None
    for i, raw in enumerate(assessments):
        entry, flags, is_baseline = _read_assessment(scale, i, raw)
        if is_baseline:
            if marked is not None:
                raise ScoringError(
                    f"assessments[{i}].baseline", f"a second baseline (assessments[{marked}] is marked already)"
                )
            marked = i
        read.append((entry, flags))
    baseline_key = _baseline_index(document.get("baseline_index"), read, marked)
    classification = classify_trajectory(
        scale.key,
        [entry for entry, _ in read],
        course_start=course_start,
        baseline_key=baseline_key,
        options=options,
    )
    result = classification.as_dict()
    result["assessments"] = [row.as_dict() for row in classification.rows]
    result["safety_flags"] = [flag for row in classification.rows for flag in read[row.index][1]]
    return result


def _baseline_index(value: object, read: Sequence[tuple[Entry, object]], marked: int | None) -> int | None:
    """The marked baseline: ``"baseline": true`` on an entry, or the older
    top-level ``baseline_index``; both at once must name the same entry."""
    if value is None:
        return marked
    count = len(read)
    index = as_integer(value, "baseline_index")
    if not 0 <= index < count:
        raise ScoringError("baseline_index", f"{index} is not an index of assessments (0-{count - 1})")
    if marked is not None and marked != index:
        raise ScoringError("baseline_index", f"{index} disagrees with assessments[{marked}].baseline")
    if read[index][0].post_dose:
        raise ScoringError("baseline_index", f"assessments[{index}] is post_dose: it cannot be the baseline")
    return index


def _read_input(path: str) -> str:
    try:
        if path == "-":
            data = sys.stdin.buffer.read()
        else:
            with open(path, "rb") as handle:
                data = handle.read()
    except OSError as error:
        raise ScoringError("file", f"cannot read {path}: {error.strerror}") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ScoringError("input", "not UTF-8 text") from None


def _parse_json(text: str) -> object:
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise ScoringError(
            "input", f"malformed JSON: {error.msg} at line {error.lineno} column {error.colno}"
        ) from None


class _Parser(argparse.ArgumentParser):
    """Usage errors, like input errors, are one line on stderr and status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_INVALID, f"error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m scoring", description="The clinical rules of CLINICAL.md.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    classify = commands.add_parser(
        "classify",
        help="classify one trajectory given as JSON",
        description="Read one trajectory as JSON and print its classification as JSON.",
    )
    classify.add_argument("file", nargs="?", default="-", help="the JSON input (standard input if omitted or -)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        result = classify_document(_parse_json(_read_input(args.file)))
    except ScoringError as error:
        message = str(error).replace("\n", " ")
        print(f"error: {message}", file=sys.stderr)
        return EXIT_INVALID
    sys.stdout.write(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    return 0
