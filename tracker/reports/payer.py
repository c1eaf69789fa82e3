"""What a payer's response report says, in words, without any layout or database.

A payer profile (the baseline window, the baseline severity floors, the end of induction for each
treatment and the response categories) is data: the built-in one is ``payer_profiles/default.json``
beside this module, and a clinic may store its own (``PayerProfile``), validated by
``parse_profile``. From a profile, a course's treatments and an outcome as ``scoring`` classified it,
``scale_lines`` gives the labelled lines of one scale's section and ``criteria_lines`` the rule
applied, in words a reviewer outside the clinic understands: no internal names, keys or
references. ``tracker.reports.pdf`` only lays these lines out.

Pure: the standard library and ``scoring``; no Django, no reportlab.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import scoring
from scoring.scales import RATED_BY_LABELS

DEFAULT_PROFILE_PATH = Path(__file__).with_name("payer_profiles") / "default.json"

#: Short names a reviewer knows the scales by (labels only; every threshold comes from ``scoring``).
SHORT_NAMES = {key: scale.short_name for key, scale in scoring.SCALES.items()}
RATED_BY = {
    "patient": f"the patient ({RATED_BY_LABELS['patient']})",
    "clinician": f"a clinician ({RATED_BY_LABELS['clinician']})",
}
CATEGORY_NAMES = {"response": "Response", "partial": "Partial response", "none": "Non-response"}
POST_DOSE = "post_dose"

KEY_MAX_LENGTH = 60
NAME_MAX_LENGTH = 200
SOURCE_MAX_LENGTH = 1000
MAX_WINDOW_DAYS = 366


# --------------------------------------------------------------------------- numbers in words


def plural(count: int, one: str, many: str | None = None) -> str:
    """``1 day``, ``2 days``, ``0 days``."""
    return f"{count} {one if abs(count) == 1 else (many or one + 's')}"


def days(count: int) -> str:
    return plural(count, "day")


def ordinal(n: int) -> str:
    """``1st``, ``2nd``, ``3rd``, ``4th``, ``11th``, ``12th``, ``13th``, ``21st``, ``62nd``."""
    if n % 100 in (11, 12, 13):
        return f"{n}th"
    return str(n) + {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")


def percent(value: Fraction) -> str:
    """``value`` (a proportion) as a percentage to one decimal, rounded half away from zero,
    signless at zero: ``0.5625`` is ``56.3 %``, ``-1/1600`` is ``0.0 %``, never ``-0.0 %``."""
    # Exact: a tenth of a percent is a thousandth, rounded on the fraction itself (no float step).
    thousandths = abs(value) * 1000
    whole, rest = divmod(thousandths.numerator, thousandths.denominator)
    tenths = Decimal(whole + (1 if 2 * rest >= thousandths.denominator else 0)).scaleb(-1)
    tenths = tenths.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    sign = "-" if value < 0 and tenths != 0 else ""
    return f"{sign}{tenths} %"


def percent_label(value: Fraction) -> str:
    """A boundary of a profile as a percentage: ``25 %``, ``33.3 %`` (no trailing zeros)."""
    number = Decimal(value.numerator * 100) / Decimal(value.denominator)
    number = number.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP).normalize()
    return f"{number:f} %"


def points(count: int, signed: bool = True) -> str:
    """``-18 points``, ``+1 point``, ``0 points``."""
    text = plural(count, "point")
    return "+" + text if signed and count > 0 else text


def change(baseline: int, score: int) -> str:
    """Points and percent change from the baseline: ``-18 points (-56.3 %)``, ``0 points (0.0 %)``."""
    diff = score - baseline
    if baseline == 0:
        return f"{points(diff)} (percent change undefined: the baseline is 0)"
    pct = percent(Fraction(diff, baseline))
    return f"{points(diff)} ({'+' if diff > 0 else ''}{pct})"


def improvement(baseline: int, score: int) -> Fraction | None:
    return None if baseline == 0 else Fraction(baseline - score, baseline)


# --------------------------------------------------------------------------- profiles


class ProfileError(ValueError):
    """A payer profile that does not follow the schema; ``field`` is the dotted path."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True)
class InductionRule:
    """Induction ends at the ``sessions``-th session or on day ``days``, whichever comes first."""

    sessions: int | None
    days: int | None
    source: str


@dataclass(frozen=True)
class Profile:
    key: str
    name: str
    baseline_max_days_before_start: int
    baseline_source: str
    severity_floors: Mapping[str, int]
    severity_floors_source: str
    induction: Mapping[str, InductionRule]
    score_window_days: int
    induction_source: str
    non_response_max: Fraction
    response_min: Fraction
    categories_source: str
    document: Mapping[str, Any] = field(compare=False, repr=False)
    #: The stored profile's id, None for the built-in one.
    id: str | None = None

    def category(self, value: Fraction | None) -> str | None:
        """``response``, ``partial`` or ``none`` for an improvement; None when undefined."""
        if value is None:
            return None
        if value >= self.response_min:
            return "response"
        if value > self.non_response_max:
            return "partial"
        return "none"


def _object(value: Any, path: str, keys: Collection[str], required: Collection[str]) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ProfileError(path, "must be an object")
    for key in value:
        if key not in keys:
            raise ProfileError(f"{path}.{key}" if path else key, "is not a field of a payer profile")
    for key in required:
        if key not in value:
            raise ProfileError(f"{path}.{key}" if path else key, "is required")
    return value


def _int(value: Any, path: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ProfileError(path, "must be a whole number")
    if not low <= value <= high:
        raise ProfileError(path, f"must be from {low} to {high}")
    return value


def _text(value: Any, path: str, max_length: int) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ProfileError(path, "must be a non-empty text")
    if len(value) > max_length:
        raise ProfileError(path, f"must be at most {max_length} characters")
    return value.strip()


def _proportion(value: Any, path: str) -> Fraction:
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise ProfileError(path, "must be a number (a percentage)")
    number = Fraction(str(value))
    if not 0 < number < 100:
        raise ProfileError(path, "must be above 0 and below 100")
    return number / 100


def _key(value: Any, path: str) -> str:
    text = _text(value, path, KEY_MAX_LENGTH)
    if not all(c.isascii() and (c.isalnum() or c in "-_") for c in text) or not text[0].isalnum():
        raise ProfileError(path, "must be letters, digits, '-' and '_', starting with a letter or digit")
    return text


def parse_profile(document: Any, *, treatments: Collection[str], profile_id: str | None = None) -> Profile:
    """The profile a JSON document describes, or ProfileError naming the first wrong field.

    The document: ``{"key", "name", "rules": {"baseline": {"max_days_before_start", "source"},
    "severity_floors": {"minimum_baseline": {scale: total}, "source"}, "induction": {"by_treatment":
    {treatment: {"sessions"?, "days"?, "source"}}, "score_window_days", "source"}, "categories":
    {"non_response_max_percent", "response_min_percent", "source"}}}``. ``treatments`` are the
    treatment (modality) keys a rule may name.
    """
    doc = _object(document, "", ("key", "name", "rules"), ("key", "name", "rules"))
    rules = _object(doc["rules"], "rules", ("baseline", "severity_floors", "induction", "categories"), ())
    required = ("baseline", "severity_floors", "induction", "categories")
    _object(rules, "rules", required, required)

    base = _object(
        rules["baseline"], "rules.baseline", ("max_days_before_start", "source"), ("max_days_before_start", "source")
    )
    floors_doc = _object(
        rules["severity_floors"],
        "rules.severity_floors",
        ("minimum_baseline", "source"),
        ("minimum_baseline", "source"),
    )
    minimum = _object(floors_doc["minimum_baseline"], "rules.severity_floors.minimum_baseline", scoring.SCALES, ())
    floors = {
        key: _int(value, f"rules.severity_floors.minimum_baseline.{key}", 0, scoring.SCALES[key].total_max)
        for key, value in minimum.items()
    }
    ind_fields = ("by_treatment", "score_window_days", "source")
    ind = _object(rules["induction"], "rules.induction", ind_fields, ind_fields)
    by_treatment = _object(ind["by_treatment"], "rules.induction.by_treatment", treatments, ())
    induction: dict[str, InductionRule] = {}
    for treatment, rule_doc in by_treatment.items():
        path = f"rules.induction.by_treatment.{treatment}"
        rule = _object(rule_doc, path, ("sessions", "days", "source"), ("source",))
        if "sessions" not in rule and "days" not in rule:
            raise ProfileError(path, "needs sessions, days or both")
        induction[treatment] = InductionRule(
            sessions=_int(rule["sessions"], f"{path}.sessions", 1, 100) if "sessions" in rule else None,
            days=_int(rule["days"], f"{path}.days", 1, MAX_WINDOW_DAYS) if "days" in rule else None,
            source=_text(rule["source"], f"{path}.source", SOURCE_MAX_LENGTH),
        )
    cat_fields = ("non_response_max_percent", "response_min_percent", "source")
    cat = _object(rules["categories"], "rules.categories", cat_fields, cat_fields)
    non_response_max = _proportion(cat["non_response_max_percent"], "rules.categories.non_response_max_percent")
    response_min = _proportion(cat["response_min_percent"], "rules.categories.response_min_percent")
    if non_response_max >= response_min:
        raise ProfileError("rules.categories.response_min_percent", "must be above non_response_max_percent")
    return Profile(
        key=_key(doc["key"], "key"),
        name=_text(doc["name"], "name", NAME_MAX_LENGTH),
        baseline_max_days_before_start=_int(
            base["max_days_before_start"], "rules.baseline.max_days_before_start", 0, MAX_WINDOW_DAYS
        ),
        baseline_source=_text(base["source"], "rules.baseline.source", SOURCE_MAX_LENGTH),
        severity_floors=floors,
        severity_floors_source=_text(floors_doc["source"], "rules.severity_floors.source", SOURCE_MAX_LENGTH),
        induction=induction,
        score_window_days=_int(ind["score_window_days"], "rules.induction.score_window_days", 0, 60),
        induction_source=_text(ind["source"], "rules.induction.source", SOURCE_MAX_LENGTH),
        non_response_max=non_response_max,
        response_min=response_min,
        categories_source=_text(cat["source"], "rules.categories.source", SOURCE_MAX_LENGTH),
        document=json.loads(json.dumps(doc)),
        id=profile_id,
    )  # fmt: skip


def default_document() -> dict[str, Any]:
    """The built-in profile, as shipped (a fresh copy)."""
    document: dict[str, Any] = json.loads(DEFAULT_PROFILE_PATH.read_text(encoding="utf-8"))
    return document


# --------------------------------------------------------------------------- induction


@dataclass(frozen=True)
class Induction:
    """The end of induction of a course. ``end`` is None while a sessions-only rule is not reached;
    ``latest`` is the last day it can end (the day limit), None without one."""

    end: date | None
    complete: bool
    how: str
    latest: date | None
    rule: InductionRule


def induction_end(rule: InductionRule, start: date, session_dates: Sequence[date], today: date) -> Induction:
    """Induction ends after the rule's N-th session or on day D of the course (the start is day 0),
    whichever comes first; it is complete once that day has come."""
    limit = start + timedelta(days=rule.days) if rule.days is not None else None
    dated = sorted(d for d in session_dates if d >= start)
    nth = dated[rule.sessions - 1] if rule.sessions is not None and len(dated) >= rule.sessions else None
    if nth is not None and (limit is None or nth <= limit):
        return Induction(nth, nth <= today, f"the {ordinal(rule.sessions or 0)} session", limit, rule)
    if limit is not None:
        given = len([d for d in dated if d <= limit])
        how = f"day {rule.days} of the course"
        if rule.sessions is not None:
            how += f", with {plural(given, 'session')} given by then"
        return Induction(limit, limit <= today, how, limit, rule)
    return Induction(None, False, f"the {ordinal(rule.sessions or 0)} session", None, rule)


def induction_pending_text(induction: Induction) -> str:
    """``induction not complete (ends 2026-05-03)``, with the session rule where there is one."""
    rule = induction.rule
    session = f"the {ordinal(rule.sessions)} session" if rule.sessions is not None else None
    if induction.latest is None:
        return f"induction not complete (ends at {session})"
    if session is None or induction.end != induction.latest:
        return f"induction not complete (ends {induction.latest.isoformat()})"
    return f"induction not complete (ends {induction.latest.isoformat()}, or at {session} if sooner)"


# --------------------------------------------------------------------------- entries


@dataclass(frozen=True)
class Entry:
    """One assessment as the payer's rules read it."""

    key: object
    date: date
    total: int
    seq: int
    timing: str | None = None
    time: time | None = None
    is_baseline: bool = False

    @property
    def order(self) -> tuple[Any, ...]:
        """By date, then time of day where recorded, a pre-dose entry before a post-dose one, then entry order."""
        return (self.date, self.time or time.min, 1 if self.timing == POST_DOSE else 0, self.seq)


def find_baseline(entries: Sequence[Entry], baseline: Mapping[str, Any] | None) -> Entry | None:
    """The entry that is the outcome's baseline (its date and total; a clinician's mark first)."""
    if not baseline:
        return None
    on = date.fromisoformat(baseline["date"])
    same = [e for e in entries if e.date == on and e.total == baseline["total"]]
    marked = [e for e in same if e.is_baseline]
    found = marked or sorted(same, key=lambda e: e.order)
    return found[0] if found else None


def after_baseline(entries: Sequence[Entry], baseline: Entry) -> list[Entry]:
    """Entries after the baseline that the rules read: never a post-dose one."""
    return sorted(
        (e for e in entries if e.order > baseline.order and e.timing != POST_DOSE and e.key != baseline.key),
        key=lambda e: e.order,
    )


def end_of_induction_score(entries: Sequence[Entry], baseline: Entry, end: date, window_days: int) -> Entry | None:
    """The latest pre-dose (or untimed) entry after the baseline dated from ``window_days`` before
    to ``window_days`` after the end of induction; a post-dose entry never counts."""
    low, high = end - timedelta(days=window_days), end + timedelta(days=window_days)
    found = [e for e in after_baseline(entries, baseline) if low <= e.date <= high]
    return found[-1] if found else None


# --------------------------------------------------------------------------- one scale, in words


@dataclass(frozen=True)
class Course:
    """What the payer's rules read of a treatment course."""

    treatment: str
    treatment_name: str
    start: date
    session_dates: Sequence[date]


Line = tuple[str, str]


def scale_title(scale: scoring.Scale) -> str:
    short = SHORT_NAMES.get(scale.key, "")
    return scale.name if not short or short in scale.name else f"{scale.name} ({short})"


def _category_text(value: Fraction | None, profile: Profile) -> str:
    name = profile.category(value)
    if name is None:
        return "undefined (the baseline is 0)"
    limits = {
        "response": f"an improvement of {percent_label(profile.response_min)} or more",
        "partial": (
            f"an improvement above {percent_label(profile.non_response_max)} "
            f"and below {percent_label(profile.response_min)}"
        ),
        "none": f"an improvement of {percent_label(profile.non_response_max)} or less",
    }
    return f"{CATEGORY_NAMES[name]} ({limits[name]})"


def _baseline_window_text(b_date: date, course: Course, profile: Profile) -> str:
    before = (course.start - b_date).days
    allowed = profile.baseline_max_days_before_start
    if before < 0:
        return f"no: {days(-before)} after the course start"
    if before == 0:
        return "yes: on the day the course started"
    if before <= allowed:
        return f"yes: {days(before)} before the course start (at most {days(allowed)} allowed)"
    return f"no: {days(before)} before the course start (at most {days(allowed)} allowed)"


def _severity_floor_text(scale: scoring.Scale, total: int, profile: Profile) -> str:
    floor = profile.severity_floors.get(scale.key)
    if floor is None:
        return "none: the applied criteria set no minimum baseline score for this scale"
    met = "met" if total >= floor else "not met"
    return f"{met}: baseline {total}, at least {floor} required"


def _induction_lines(
    scale: scoring.Scale, entries: Sequence[Entry], baseline: Entry, course: Course, profile: Profile, today: date
) -> list[Line]:
    rule = profile.induction.get(course.treatment)
    if rule is None:
        return [
            (
                "End of induction",
                f"not defined: the applied criteria set no induction phase for {course.treatment_name.lower()}",
            )
        ]
    induction = induction_end(rule, course.start, course.session_dates, today)
    if not induction.complete or induction.end is None:
        return [
            ("End of induction", induction_pending_text(induction)),
            ("Score at end of induction", "not yet: " + induction_pending_text(induction)),
        ]
    lines: list[Line] = [("End of induction", f"{induction.end.isoformat()} ({induction.how})")]
    window = profile.score_window_days
    low, high = induction.end - timedelta(days=window), induction.end + timedelta(days=window)
    score = end_of_induction_score(entries, baseline, induction.end, window)
    if score is None:
        still = f"; scores up to {high.isoformat()} still count" if today < high else ""
        lines.append(
            ("Score at end of induction", f"none before a dose from {low.isoformat()} to {high.isoformat()}{still}")
        )
        return lines
    lines += [
        ("Score at end of induction", f"{score.total} on {score.date.isoformat()}"),
        ("Change at end of induction", change(baseline.total, score.total)),
        ("Category at end of induction", _category_text(improvement(baseline.total, score.total), profile)),
    ]
    return lines


def _reliable_change_text(scale: scoring.Scale, baseline: int, latest: int) -> str:
    result = scoring.reliable_change(scale.key, baseline, latest)
    verdict = {"improved": "reliable improvement", "worsened": "reliable worsening"}.get(
        result.direction, "no reliable change"
    )
    if result.rc is None:
        method = f"a fixed {int(result.threshold_points)}-point change (NHS Talking Therapies)"
    else:
        method = "Jacobson & Truax reliable change index"
        if "provisional" in result.source:
            method += "; its standard deviation is provisional, with no published value yet"
    return f"{verdict} from baseline to the latest score ({method})"


def remission_text(outcome: Mapping[str, Any]) -> str:
    """The remission status and its dates, with any relapse-level score since the remission began."""
    rules = outcome.get("rules") or {}
    events = outcome.get("events") or []
    state = outcome.get("state")
    parts: list[str] = []
    remissions = [e for e in events if e["type"] == "remission"]
    current = remissions[-1] if remissions else None
    if state == "remission" and current:
        parts.append(f"In remission since {current['onset']} (confirmed {current['confirmed']})")
    elif state == "recovered":
        recovery = next((e for e in reversed(events) if e["type"] == "recovery"), None)
        onset = f" (in remission since {current['onset']})" if current else ""
        parts.append(f"Recovered on {recovery['date'] if recovery else 'an unrecorded date'}{onset}")
    elif state == "remission_pending":
        parts.append(
            f"In the remission range since {outcome.get('remission_pending_since')}, not yet sustained "
            f"(remission is confirmed after {days(int(rules.get('sustain_days', 0)))} in range)"
        )
    else:
        parts.append("Not in remission")
    for event in events:
        if event["type"] in ("relapse", "recurrence"):
            parts.append(f"{event['type']} from {event['onset']} (confirmed {event['confirmed']})")
        elif event["type"] == "remission" and event is not current:
            parts.append(f"earlier remission from {event['onset']} (confirmed {event['confirmed']})")
    since = current["onset"] if current else None
    for warning in outcome.get("warnings") or []:
        if since is None or warning["date"] >= since:
            parts.append(
                f"a score at the relapse level ({warning['total']}, {rules.get('relapse_min', '?')} or more) "
                f"on {warning['date']} (not confirmed)"
            )
    return "; ".join(parts)


def scale_lines(
    scale: scoring.Scale,
    outcome: Mapping[str, Any],
    entries: Sequence[Entry],
    course: Course | None,
    profile: Profile,
    today: date,
) -> list[Line]:
    """The labelled lines of one scale's section of the report."""
    lines: list[Line] = [("Scale", scale_title(scale)), ("Rated by", RATED_BY[scale.rated_by])]
    baseline = find_baseline(entries, outcome.get("baseline"))
    if baseline is None:
        lines.append(("Baseline", "none"))
        lines.append(("Remission status", remission_text(outcome)))
        return lines
    severity = scale.severity(baseline.total).replace("_", " ")
    lines.append(("Baseline", f"{baseline.total} on {baseline.date.isoformat()} ({severity})"))
    if course is not None:
        window = f"Baseline within {days(profile.baseline_max_days_before_start)} before the start"
        lines.append((window, _baseline_window_text(baseline.date, course, profile)))
    lines.append(("Baseline severity floor", _severity_floor_text(scale, baseline.total, profile)))
    if course is not None:
        lines += _induction_lines(scale, entries, baseline, course, profile, today)
    later = after_baseline(entries, baseline)
    if later:
        latest = later[-1]
        lines += [
            ("Latest score", f"{latest.total} on {latest.date.isoformat()}"),
            ("Change since baseline", change(baseline.total, latest.total)),
            ("Category (latest)", _category_text(improvement(baseline.total, latest.total), profile)),
            ("Reliable change", _reliable_change_text(scale, baseline.total, latest.total)),
        ]
    else:
        lines.append(("Latest score", "no score after the baseline yet: not assessable"))
    lines.append(("Remission status", remission_text(outcome)))
    return lines


def outcome_rule_text(scale: scoring.Scale, outcome: Mapping[str, Any]) -> str:
    """The outcome rules the remission status was classified with, in words."""
    rules = outcome.get("rules") or {}
    apart = rules.get("relapse_min_days_apart")
    confirm = f"another at least {days(int(apart))} later" if apart else "the next score"
    return (
        f"Baseline: the latest score on or before the course start and at most "
        f"{days(int(rules.get('baseline_window_days', 0)))} before it (otherwise the first score), "
        "unless a clinician chose another. Improvement = (baseline - score) / baseline. "
        f"Remission: scores of {rules.get('remission_max')} or less for at least "
        f"{days(int(rules.get('sustain_days', 0)))} with no gap over {days(int(rules.get('max_gap_days', 0)))} "
        f"between scores, dated from its first day. Relapse: after remission, a score of "
        f"{rules.get('relapse_min')} or more confirmed by {confirm} at that level. Recovery: remission lasting "
        f"{days(int(rules.get('recovery_days', 0)))} without relapse. Scores taken after a dose are shown but "
        "do not count toward the end-of-induction score or the latest score."
    )


def criteria_lines(profile: Profile, treatment_names: Mapping[str, str], treatment: str | None = None) -> list[str]:
    """The payer criteria the report applied, each with its source, in words (the induction rule of
    ``treatment`` only, where one is given)."""
    floors = ", ".join(
        f"{SHORT_NAMES.get(k, scoring.SCALES[k].name)} {v} or more" for k, v in profile.severity_floors.items()
    )
    inductions = []
    for key, rule in profile.induction.items():
        if treatment is not None and key != treatment:
            continue
        name = treatment_names.get(key, key.replace("_", " "))
        if rule.sessions is not None and rule.days is not None:
            when = f"after the {ordinal(rule.sessions)} session or on day {rule.days}, whichever comes first"
        elif rule.sessions is not None:
            when = f"after the {ordinal(rule.sessions)} session"
        else:
            when = f"on day {rule.days} of the course"
        inductions.append(f"{name}: induction ends {when}. {rule.source}")
    window = days(profile.score_window_days)
    return [
        f"Criteria applied: {profile.name}.",
        f"Baseline: taken at most {days(profile.baseline_max_days_before_start)} before the course start. "
        + profile.baseline_source,
        f"Minimum baseline severity: {floors or 'none'}. {profile.severity_floors_source}",
        *inductions,
        f"Score at the end of induction: the latest score taken before a dose (or on a day without one) "
        f"from {window} before to {window} after the end of induction; a score taken after a dose is "
        f"never used. {profile.induction_source}",
        f"Categories: response at an improvement of {percent_label(profile.response_min)} or more; partial "
        f"response above {percent_label(profile.non_response_max)} and below "
        f"{percent_label(profile.response_min)}; non-response at {percent_label(profile.non_response_max)} "
        f"or less. {profile.categories_source}",
    ]
