"""Outcome rules for one scale and one treatment course (CLINICAL §2).

``classify_trajectory`` orders the assessments, picks the baseline, grades
every assessment against it and runs the remission state machine over the
baseline and the assessments after it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from fractions import Fraction
from typing import Literal

from scoring.errors import ScoringError
from scoring.reliable_change import ReliableChange, reliable_change
from scoring.scales import (
    BASELINE_WINDOW_DAYS,
    DURATIONS_SOURCE,
    MAX_GAP_DAYS,
    PARTIAL,
    POST_DOSE,
    PRE_DOSE,
    RECOVERY_DAYS,
    RECOVERY_MAX_GAP_DAYS,
    RELAPSE_MIN_DAYS_APART,
    RESPONSE,
    RESPONSE_SOURCE,
    SUSTAIN_DAYS,
    Scale,
    as_integer,
    get_scale,
)

StateName = Literal["not_remitted", "remission_pending", "remission", "recovered"]
ResponseName = Literal["none", "partial", "response"]
EventType = Literal["remission", "relapse", "recovery", "recurrence"]
TimingName = Literal["pre_dose", "post_dose"]

NOT_REMITTED: StateName = "not_remitted"
REMISSION_PENDING: StateName = "remission_pending"
REMISSION: StateName = "remission"
RECOVERED: StateName = "recovered"
#: The states, in the order of their codes in the batch path.
STATES: tuple[StateName, ...] = (NOT_REMITTED, REMISSION_PENDING, REMISSION, RECOVERED)
#: The response categories, in the order of their codes in the batch path.
RESPONSES: tuple[ResponseName, ...] = ("none", "partial", "response")
#: The event types, in the order of their codes in the batch path.
EVENT_TYPES: tuple[EventType, ...] = ("remission", "relapse", "recovery", "recurrence")
#: ``Entry.timing`` values, in the order of their codes in the batch path: 0 unknown
#: (None, read as pre_dose), 1 post_dose, 2 pre_dose (so a boolean post_dose array
#: is a valid array of codes).
TIMINGS: tuple[TimingName | None, ...] = (None, POST_DOSE, PRE_DOSE)

#: The settings counted in days.
DURATION_SETTINGS = (
    "sustain_days",
    "max_gap_days",
    "recovery_days",
    "baseline_window_days",
    "relapse_min_days_apart",
    "recovery_max_gap_days",
)
#: Longest duration setting accepted (a century): keeps day arithmetic in range.
MAX_SETTING_DAYS = 36_525


# --------------------------------------------------------------------------- settings


def _check_days(name: str, value: object) -> int:
    days = as_integer(value, f"options.{name}")
    if not 0 <= days <= MAX_SETTING_DAYS:
        raise ScoringError(f"options.{name}", f"{days} is out of range 0-{MAX_SETTING_DAYS}")
    return days


def _check_level(name: str, value: object) -> int | None:
    if value is None:
        return None
    level = as_integer(value, f"options.{name}")
    if level < 0:
        raise ScoringError(f"options.{name}", f"{level} is below 0")
    return level


@dataclass(frozen=True)
class Options:
    """A clinic's settings of the §2 rules; ``None`` levels mean the scale's own."""

    remission_max: int | None = None
    relapse_min: int | None = None
    sustain_days: int = SUSTAIN_DAYS
    max_gap_days: int = MAX_GAP_DAYS
    recovery_days: int = RECOVERY_DAYS
    baseline_window_days: int = BASELINE_WINDOW_DAYS
    relapse_min_days_apart: int = RELAPSE_MIN_DAYS_APART
    recovery_max_gap_days: int = RECOVERY_MAX_GAP_DAYS

    def __post_init__(self) -> None:
        _check_level("remission_max", self.remission_max)
        _check_level("relapse_min", self.relapse_min)
        for name in DURATION_SETTINGS:
            _check_days(name, getattr(self, name))

    @classmethod
    def from_dict(cls, data: object) -> Options:
        """Options from a JSON-like mapping; unknown keys and bad values are errors."""
        if data is None:
            return cls()
        if not isinstance(data, Mapping):
            raise ScoringError("options", "expected an object")
        known = {f.name for f in fields(cls)}
        for name in data:
            if name not in known:
                raise ScoringError(f"options.{name}", f"unknown option (expected one of {', '.join(sorted(known))})")
        return cls(**{str(name): value for name, value in data.items()})

    def resolve(self, scale: Scale) -> Rules:
        """The rules this scale is classified by, the levels checked against it."""
        remission_max = self._level(scale, "remission_max", scale.remission_max)
        relapse_min = self._level(scale, "relapse_min", scale.relapse_min)
        if relapse_min <= remission_max:
            name = "relapse_min" if self.relapse_min is not None else "remission_max"
            raise ScoringError(
                f"options.{name}",
                f"relapse_min ({relapse_min}) must be above remission_max ({remission_max})",
            )
        return Rules(
            remission_max=remission_max,
            relapse_min=relapse_min,
            sustain_days=self.sustain_days,
            max_gap_days=self.max_gap_days,
            recovery_days=self.recovery_days,
            baseline_window_days=self.baseline_window_days,
            relapse_min_days_apart=self.relapse_min_days_apart,
            recovery_max_gap_days=self.recovery_max_gap_days,
        )

    def _level(self, scale: Scale, name: str, default: int) -> int:
        value: int | None = getattr(self, name)
        if value is None:
            return default
        if value > scale.total_max:
            raise ScoringError(f"options.{name}", f"{value} is out of range 0-{scale.total_max}")
        return value


@dataclass(frozen=True)
class Rules:
    """The settings a classification was made with (the options, resolved)."""

    remission_max: int
    relapse_min: int
    sustain_days: int
    max_gap_days: int
    recovery_days: int
    baseline_window_days: int
    relapse_min_days_apart: int = RELAPSE_MIN_DAYS_APART
    recovery_max_gap_days: int = RECOVERY_MAX_GAP_DAYS

    def as_dict(self) -> dict[str, object]:
        return {
            "remission_max": self.remission_max,
            "relapse_min": self.relapse_min,
            "sustain_days": self.sustain_days,
            "max_gap_days": self.max_gap_days,
            "recovery_days": self.recovery_days,
            "baseline_window_days": self.baseline_window_days,
            "relapse_min_days_apart": self.relapse_min_days_apart,
            "recovery_max_gap_days": self.recovery_max_gap_days,
            "response_min_improvement": float(RESPONSE),
            "partial_above_improvement": float(PARTIAL),
            "sources": {"response": RESPONSE_SOURCE, "durations": DURATIONS_SOURCE},
        }


def _as_options(options: Options | Mapping[str, object] | None) -> Options:
    return options if isinstance(options, Options) else Options.from_dict(options)


# --------------------------------------------------------------------------- grading


def improvement(baseline: int, total: int) -> Fraction | None:
    """``(baseline - total) / baseline``, exactly; None when the baseline is 0."""
    if baseline == 0:
        return None
    return Fraction(baseline - total, baseline)


def response_category(value: Fraction | None) -> ResponseName | None:
    """``response`` at >= 50 %, ``partial`` above 25 %, else ``none``; None if undefined."""
    if value is None:
        return None
    if value >= RESPONSE:
        return "response"
    if value > PARTIAL:
        return "partial"
    return "none"


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class Entry:
    """One assessment total on a date; ``key`` is the caller's id, carried through.

    ``timing`` is ``"pre_dose"``, ``"post_dose"`` or None (unknown, read as
    pre_dose); ``time`` the time of day where recorded.  Only pre_dose (and
    unknown) entries take part in the rules.
    """

    date: dt.date
    total: int
    key: object = None
    timing: TimingName | None = None
    time: dt.time | None = None

    @property
    def post_dose(self) -> bool:
        return self.timing == POST_DOSE


@dataclass(frozen=True)
class Event:
    """``remission``/``relapse``/``recurrence`` have onset and confirmed; ``recovery`` a date."""

    type: EventType
    onset: dt.date | None = None
    confirmed: dt.date | None = None
    date: dt.date | None = None

    def as_dict(self) -> dict[str, object]:
        if self.type == "recovery":
            return {"type": self.type, "date": _iso(self.date)}
        return {"type": self.type, "onset": _iso(self.onset), "confirmed": _iso(self.confirmed)}


@dataclass(frozen=True)
class ScoreWarning:
    """A relapse-level score after remission that no relapse confirmed: a warning."""

    date: dt.date
    total: int
    key: object = None

    def as_dict(self) -> dict[str, object]:
        return {"type": "relapse_level_score", "date": self.date.isoformat(), "total": self.total}


@dataclass(frozen=True)
class Row:
    """One assessment as graded.  Before the baseline, for the post_dose entries
    and (response only) for the baseline itself, improvement, response and
    state are None: those entries are listed but take no part in the rules."""

    date: dt.date
    total: int
    severity: str
    improvement: Fraction | None
    response: ResponseName | None
    in_remission_range: bool
    state: StateName | None
    warning: bool
    key: object = None
    index: int = 0
    timing: TimingName | None = None
    time: dt.time | None = None

    def as_dict(self) -> dict[str, object]:
        return {
            "date": self.date.isoformat(),
            "timing": self.timing,
            "total": self.total,
            "severity": self.severity,
            "improvement": _float(self.improvement),
            "response": self.response,
            "in_remission_range": self.in_remission_range,
        }


@dataclass(frozen=True)
class Classification:
    """The outcome of one scale over one course (API.md "Outcomes, per scale").

    ``latest`` is the latest pre_dose assessment.  ``assessable`` is False
    while the course has no pre_dose assessment after its baseline (then the
    latest is the baseline and its response is None, never "none").
    """

    scale: str
    scale_version: str
    course_start: dt.date | None
    baseline: Entry | None
    latest: Entry | None
    improvement: Fraction | None
    response: ResponseName | None
    first_response_date: dt.date | None
    state: StateName
    remission_pending_since: dt.date | None
    events: list[Event]
    rows: list[Row]
    warnings: list[ScoreWarning]
    reliable_change: ReliableChange | None
    rules: Rules
    baseline_in_remission_range: bool = False
    assessable: bool = False

    def as_dict(self) -> dict[str, object]:
        """The API's per-scale outcome, without ``projection``, plus extra keys."""
        return {
            "scale": self.scale,
            "baseline": None
            if self.baseline is None
            else {"date": self.baseline.date.isoformat(), "total": self.baseline.total},
            "latest": None
            if self.latest is None
            else {
                "date": self.latest.date.isoformat(),
                "total": self.latest.total,
                "improvement": _float(self.improvement),
                "response": self.response,
            },
            "first_response_date": _iso(self.first_response_date),
            "state": self.state,
            "events": [event.as_dict() for event in self.events],
            "baseline_in_remission_range": self.baseline_in_remission_range,
            "assessable": self.assessable,
            "remission_pending_since": _iso(self.remission_pending_since),
            "warnings": [warning.as_dict() for warning in self.warnings],
            "reliable_change": None if self.reliable_change is None else self.reliable_change.as_dict(),
            "scale_version": self.scale_version,
            "course_start": _iso(self.course_start),
            "rules": self.rules.as_dict(),
        }


def _iso(value: dt.date | None) -> str | None:
    return None if value is None else value.isoformat()


def _float(value: Fraction | None) -> float | None:
    return None if value is None else float(value)


# --------------------------------------------------------------------------- the state machine


@dataclass
class Trace:
    """What the rules found over the pre_dose assessments from the baseline on.

    Positions count from the baseline (0) over pre_dose entries only.  The
    scalar and the batch path each produce one; ``assemble_classification``
    turns it into a Classification.
    """

    responses: list[ResponseName | None] = field(default_factory=list)
    states: list[StateName] = field(default_factory=list)
    events: list[tuple[EventType, int, int]] = field(default_factory=list)
    warnings: list[int] = field(default_factory=list)
    pending_since: int | None = None
    first_response: int | None = None


class _Course:
    """The remission state machine of §2, fed one pre_dose assessment at a time,
    the baseline first."""

    def __init__(self, rules: Rules, trace: Trace) -> None:
        self.rules = rules
        self.trace = trace
        self.state: StateName = NOT_REMITTED
        self.days: list[int] = []
        self.run_start = 0  # position where the current remission run started
        self.clock = 0  # day the recovery clock (re)started
        self.clock_stopped = False  # a long gap stopped it; the next in-range score restarts it
        self.watch: int | None = None  # position of an open relapse watch's onset

    def step(self, day: int, total: int) -> None:
        position = len(self.days)
        gap = day - self.days[-1] if self.days else 0
        self.days.append(day)
        rules = self.rules
        in_range = total <= rules.remission_max
        if self.state == NOT_REMITTED:
            if in_range and position > 0:  # the baseline cannot start a run
                self._start_run(position, day)
        elif self.state == REMISSION_PENDING:
            if not in_range:
                self.state = NOT_REMITTED
            elif gap > rules.max_gap_days:
                self._start_run(position, day)
            elif gap > rules.recovery_max_gap_days:
                self.clock = day
        else:
            self._watch(position, day, total)
            if self.state == REMISSION:
                if gap > rules.recovery_max_gap_days:
                    self.clock_stopped = True
                if in_range and self.clock_stopped:
                    self.clock, self.clock_stopped = day, False
                self._recover_if_due(position, day, in_range)
        if self.state == REMISSION_PENDING:
            self._confirm_if_sustained(position, day)
        self.trace.states.append(self.state)

    def finish(self) -> None:
        if self.watch is not None:
            self.trace.warnings.append(self.watch)
        if self.state == REMISSION_PENDING:
            self.trace.pending_since = self.run_start

    def _start_run(self, position: int, day: int) -> None:
        self.state = REMISSION_PENDING
        self.run_start = position
        self.clock, self.clock_stopped = day, False

    def _confirm_if_sustained(self, position: int, day: int) -> None:
        if day - self.days[self.run_start] < self.rules.sustain_days:
            return
        self.trace.events.append(("remission", self.run_start, position))
        self.state = REMISSION
        self._recover_if_due(position, day, True)

    def _recover_if_due(self, position: int, day: int, in_range: bool) -> None:
        if in_range and not self.clock_stopped and day - self.clock >= self.rules.recovery_days:
            self.trace.events.append(("recovery", position, position))
            self.state = RECOVERED

    def _watch(self, position: int, day: int, total: int) -> None:
        """After remission: a relapse-level score opens a watch; one at least
        ``relapse_min_days_apart`` days after its onset, with none below the
        level in between, confirms a relapse (or recurrence); a lower score
        closes it as a warning."""
        if total >= self.rules.relapse_min:
            if self.watch is None:
                self.watch = position
            elif day - self.days[self.watch] >= self.rules.relapse_min_days_apart:
                kind: EventType = "relapse" if self.state == REMISSION else "recurrence"
                self.trace.events.append((kind, self.watch, position))
                self.watch = None
                self.state = NOT_REMITTED
            return
        if self.watch is not None:
            self.trace.warnings.append(self.watch)
            self.watch = None


def trace_course(rules: Rules, days: Sequence[int], totals: Sequence[int]) -> Trace:
    """Run the rules over the baseline (first) and the pre_dose assessments after it."""
    trace = Trace()
    course = _Course(rules, trace)
    baseline = totals[0] if totals else 0
    for position, (day, total) in enumerate(zip(days, totals, strict=True)):
        category = None if position == 0 else response_category(improvement(baseline, total))
        trace.responses.append(category)
        if category == "response" and trace.first_response is None:
            trace.first_response = position
        course.step(day, total)
    course.finish()
    return trace


# --------------------------------------------------------------------------- classification


def entry_order(index: int, entry: Entry) -> tuple[dt.date, bool, bool, dt.time, int]:
    """The §2 order: date, pre_dose (or unknown) before post_dose, untimed before
    timed, time of day, input index."""
    time = entry.time
    return (entry.date, entry.timing == POST_DOSE, time is not None, time or dt.time.min, index)


def order_entries(scale: Scale, entries: Iterable[Entry]) -> list[tuple[int, Entry]]:
    """The entries checked and put in the order of §2, with their input index."""
    checked = [_check_entry(scale, index, entry) for index, entry in enumerate(entries)]
    return sorted(enumerate(checked), key=lambda pair: entry_order(*pair))


def _check_entry(scale: Scale, index: int, entry: object) -> Entry:
    if not isinstance(entry, Entry):
        raise ScoringError(f"entries[{index}]", f"expected an Entry, got {type(entry).__name__}")
    _check_date(entry.date, f"entries[{index}].date")
    scale.check_total(entry.total, f"entries[{index}].total")
    if entry.timing not in TIMINGS:
        raise ScoringError(f"entries[{index}].timing", f"{entry.timing!r} is not pre_dose, post_dose or None")
    if entry.time is not None and not isinstance(entry.time, dt.time):
        raise ScoringError(f"entries[{index}].time", f"{entry.time!r} is not a time of day")
    return entry


def _check_date(value: object, field_name: str) -> dt.date:
    if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
        raise ScoringError(field_name, f"{value!r} is not a date")
    return value


def baseline_position(dates: Sequence[dt.date], course_start: dt.date | None, window_days: int) -> int:
    """The latest assessment on or before the course start and at most
    ``window_days`` before it; otherwise (or without a start) the first one.
    ``dates`` are those of the pre_dose assessments, in order."""
    if course_start is not None:
        start = course_start.toordinal()
        for position in range(len(dates) - 1, -1, -1):
            day = dates[position].toordinal()
            if day <= start:
                return position if start - day <= window_days else 0
    return 0


def _marked_baseline(ordered: Sequence[tuple[int, Entry]], baseline_key: object) -> int:
    for position, (_, entry) in enumerate(ordered):
        if entry.key == baseline_key:
            if entry.post_dose:
                raise ScoringError(
                    "baseline_key", f"the entry {baseline_key!r} is post_dose: it cannot be the baseline"
                )
            return position
    raise ScoringError("baseline_key", f"no entry has the key {baseline_key!r}")


def choose_baseline(
    ordered: Sequence[tuple[int, Entry]], course_start: dt.date | None, window_days: int, baseline_key: object = None
) -> int:
    """Position in ``ordered`` of the baseline; ``len(ordered)`` when there is
    no pre_dose entry (then every entry is "before the baseline")."""
    if baseline_key is not None:
        return _marked_baseline(ordered, baseline_key)
    pre = [position for position, (_, entry) in enumerate(ordered) if not entry.post_dose]
    if not pre:
        return len(ordered)
    return pre[baseline_position([ordered[p][1].date for p in pre], course_start, window_days)]


def classify_trajectory(
    scale_key: str,
    entries: Iterable[Entry],
    *,
    course_start: dt.date | None = None,
    baseline_key: object = None,
    options: Options | Mapping[str, object] | None = None,
) -> Classification:
    """Classify one scale's assessments over one course (CLINICAL §2).

    Entries may come in any order; they are put in the order of §2
    (``entry_order``).  ``baseline_key`` (an entry's ``key``) marks the
    clinician's chosen baseline; it must be a pre_dose (or unknown) entry.
    """
    scale = get_scale(scale_key)
    rules = _as_options(options).resolve(scale)
    if course_start is not None:
        _check_date(course_start, "course_start")
    ordered = order_entries(scale, entries)
    base = choose_baseline(ordered, course_start, rules.baseline_window_days, baseline_key)
    seen = [entry for _, entry in ordered[base:] if not entry.post_dose]
    trace = trace_course(rules, [entry.date.toordinal() for entry in seen], [entry.total for entry in seen])
    return assemble_classification(scale, rules, ordered, base, trace, course_start)


def assemble_classification(
    scale: Scale,
    rules: Rules,
    ordered: Sequence[tuple[int, Entry]],
    base: int,
    trace: Trace,
    course_start: dt.date | None,
) -> Classification:
    """Build the Classification from ordered entries, the baseline's position
    in them and the trace of the rules over the pre_dose entries from it on."""
    seen_at = [p for p in range(base, len(ordered)) if not ordered[p][1].post_dose]
    seen = [ordered[p][1] for p in seen_at]
    baseline = seen[0] if seen else None
    latest = seen[-1] if seen else None
    position_of = {p: i for i, p in enumerate(seen_at)}
    warned = set(trace.warnings)
    rows = []
    for p, (index, entry) in enumerate(ordered):
        i = position_of.get(p)
        if i is None or baseline is None:
            rows.append(_row(scale, rules, index, entry, None, None, None, False))
            continue
        value = improvement(baseline.total, entry.total)
        rows.append(_row(scale, rules, index, entry, value, trace.responses[i], trace.states[i], i in warned))
    return Classification(
        scale=scale.key,
        scale_version=scale.version,
        course_start=course_start,
        baseline=baseline,
        latest=latest,
        improvement=None if baseline is None or latest is None else improvement(baseline.total, latest.total),
        response=trace.responses[-1] if trace.responses else None,
        first_response_date=_date_at(seen, trace.first_response),
        state=trace.states[-1] if trace.states else NOT_REMITTED,
        remission_pending_since=_date_at(seen, trace.pending_since),
        events=[_event(seen, kind, onset, confirmed) for kind, onset, confirmed in trace.events],
        rows=rows,
        warnings=[ScoreWarning(seen[p].date, seen[p].total, seen[p].key) for p in trace.warnings],
        reliable_change=None
        if baseline is None or latest is None
        else reliable_change(scale.key, baseline.total, latest.total),
        rules=rules,
        baseline_in_remission_range=baseline is not None and baseline.total <= rules.remission_max,
        assessable=len(seen) > 1,
    )


def _row(
    scale: Scale,
    rules: Rules,
    index: int,
    entry: Entry,
    value: Fraction | None,
    response: ResponseName | None,
    state: StateName | None,
    warning: bool,
) -> Row:
    return Row(
        date=entry.date,
        total=entry.total,
        severity=scale.severity(entry.total),
        improvement=value,
        response=response,
        in_remission_range=scale.in_remission_range(entry.total, rules.remission_max),
        state=state,
        warning=warning,
        key=entry.key,
        index=index,
        timing=entry.timing,
        time=entry.time,
    )


def _date_at(seen: Sequence[Entry], position: int | None) -> dt.date | None:
    return None if position is None else seen[position].date


def _event(seen: Sequence[Entry], kind: EventType, onset: int, confirmed: int) -> Event:
    if kind == "recovery":
        return Event(kind, date=seen[confirmed].date)
    return Event(kind, onset=seen[onset].date, confirmed=seen[confirmed].date)
