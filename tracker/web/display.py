"""What the dashboard's templates show, prepared from selectors' results and outcome dicts.

Nothing here re-states a clinical number: severity labels and bands come from ``scoring.SCALES``,
signals from ``projections.math.signals``, rules from the outcome's own ``rules``. The only thing added
is a colour tone: a band's position among its scale's bands (0 = lowest band … 4 = highest).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext_lazy as _

import scoring
from projections.math.signals import weeks_since_start
from projections.models import OutcomeSnapshot
from tracker.records.models import (
    Assessment,
    FlagAcknowledgement,
    FlagLevel,
    Patient,
    SafetyFlag,
    TreatmentCourse,
    TreatmentSession,
    User,
)
from tracker.records.selectors.schedule import Due
from tracker.reports.csv_export import rules_text
from tracker.reports.payer import SHORT_NAMES

TONES = 4  # tones 0..4, mapped to colours in base.html's CSS (.sev-0 … .sev-4)


def short_name(scale: str) -> str:
    return SHORT_NAMES.get(scale, scale)


# The words of the keys the API uses (states, projection signals, severity bands, responses), in the
# reader's language; a key not listed reads as itself, its underscores as spaces.
TERMS = {
    "not_remitted": _("not remitted"),
    "remission_pending": _("remission pending"),
    "remission": _("remission"),
    "recovered": _("recovered"),
    "ahead": _("ahead"),
    "on_track": _("on track"),
    "at_risk": _("at risk"),
    "off_track": _("off track"),
    "insufficient_data": _("insufficient data"),
    "too_early": _("too early"),
    "normal": _("normal"),
    "minimal": _("minimal"),
    "mild": _("mild"),
    "moderate": _("moderate"),
    "moderately_severe": _("moderately severe"),
    "severe": _("severe"),
    "very_severe": _("very severe"),
    "none": _("none"),
    "partial": _("partial"),
    "response": _("response"),
}


def words(value: object) -> str:
    """``remission_pending`` → ``remission pending`` (labels are the keys the API uses), translated."""
    key = str(value or "")
    return str(TERMS[key]) if key in TERMS else key.replace("_", " ")


def severity_tone(scale: str, severity: str) -> int:
    """The colour tone of a severity label: its band's position among the scale's bands."""
    labels = [band.label for band in scoring.SCALES[scale].bands]
    if severity not in labels or len(labels) < 2:
        return 0
    return round(TONES * labels.index(severity) / (len(labels) - 1))


@dataclass(frozen=True)
class Score:
    scale: str
    total: int
    severity: str
    tone: int
    on: date | str | None = None

    @classmethod
    def of(cls, scale: str, total: int | None, on: date | str | None = None) -> Score | None:
        if total is None:
            return None
        severity = scoring.SCALES[scale].severity(total)
        return cls(scale=scale, total=total, severity=words(severity), tone=severity_tone(scale, severity), on=on)


@dataclass(frozen=True)
class CourseInfo:
    course: TreatmentCourse
    label: str
    day: int
    week: int
    started: bool

    @classmethod
    def of(cls, course: TreatmentCourse | None, today: date) -> CourseInfo | None:
        if course is None:
            return None
        therapy = " + therapy" if course.with_therapy else ""
        days = (today - course.start_date).days
        return cls(
            course=course,
            label=f"{course.get_modality_display()}{therapy}",
            day=days,
            # Counted as trials count and the payer report prints: days 0-6 are week 1 (the API's
            # numeric ``week`` keeps its documented meaning, whole weeks since the start).
            week=int(weeks_since_start(course.start_date, today)) + 1,
            started=days >= 0,
        )


def latest_course(courses: Iterable[TreatmentCourse]) -> TreatmentCourse | None:
    """The current course: the latest start (as ``selectors.current_course`` and the outcomes pick it)."""
    return max(courses, key=lambda c: (c.start_date, c.created_at), default=None)


class _StateAndSignalLabels:
    """Words for an outcome's ``state`` and ``signal`` (for the templates)."""

    state: str
    signal: str

    @property
    def state_label(self) -> str:
        return words(self.state)

    @property
    def signal_label(self) -> str:
        return words(self.signal)


@dataclass(frozen=True)
class ScaleCell(_StateAndSignalLabels):
    """One scale of a patient row: the latest total and the stored outcome snapshot."""

    scale: str
    short: str
    latest: Score | None
    state: str
    signal: str
    percentile: int | None


@dataclass
class PatientRow:
    patient: Patient
    course: CourseInfo | None
    cells: list[ScaleCell]
    urgent: int
    review: int
    due: list[str] = field(default_factory=list)  # short names of the questionnaires now due

    @property
    def open_flags(self) -> int:
        return self.urgent + self.review


def patient_row(
    patient: Patient,
    *,
    courses: Sequence[TreatmentCourse],
    snapshots: Sequence[OutcomeSnapshot],
    open_flags: Sequence[SafetyFlag],
    due: Sequence[Due],
    today: date,
) -> PatientRow:
    current = latest_course(courses)
    current_id = current.pk if current is not None else None
    by_scale = {s.scale: s for s in snapshots if s.course_id == current_id}
    cells = [
        ScaleCell(
            scale=key,
            short=short_name(key),
            latest=Score.of(key, snap.latest_total, snap.latest_date),
            state=snap.state,
            signal=snap.signal,
            percentile=snap.percentile,
        )
        for key in scoring.SCALES
        if (snap := by_scale.get(key)) is not None
    ]
    return PatientRow(
        patient=patient,
        course=CourseInfo.of(current, today),
        cells=cells,
        urgent=sum(1 for f in open_flags if f.level == FlagLevel.URGENT),
        review=sum(1 for f in open_flags if f.level != FlagLevel.URGENT),
        due=[short_name(d.scale) for d in due if d.due],
    )


# --------------------------------------------------------------------------- patient detail


def dose_text(dose: Decimal | None) -> str:
    """``35.50`` → ``35.5 mg``, ``40.00`` → ``40 mg``; no dose recorded → ``–``."""
    return "–" if dose is None else f"{dose.normalize():f} mg"


def _mmhg(systolic: int | None, diastolic: int | None) -> str:
    return "–" if systolic is None or diastolic is None else f"{systolic}/{diastolic}"


@dataclass(frozen=True)
class SessionView:
    """A session's monitoring record as read on the page: dose, pressures (mmHg), minutes, notes."""

    session: TreatmentSession
    number: int
    dose: str
    bp_before: str
    bp_after: str


def session_views(sessions: Iterable[TreatmentSession]) -> list[SessionView]:
    views = []
    for number, s in enumerate(sessions, start=1):
        doses = [
            d
            for d in (
                dose_text(s.dose_mg) if s.dose_mg is not None else "",
                f"{s.dose_mg_per_kg.normalize():f} mg/kg" if s.dose_mg_per_kg is not None else "",
            )
            if d
        ]
        views.append(
            SessionView(
                session=s,
                number=number,
                dose=" · ".join(doses) or "–",
                bp_before=_mmhg(s.bp_systolic_before, s.bp_diastolic_before),
                bp_after=_mmhg(s.bp_systolic_after, s.bp_diastolic_after),
            )
        )
    return views


def person(user: User | None) -> str:
    if user is None:
        return "(removed login)"
    return user.get_full_name() or user.username


@dataclass(frozen=True)
class FlagView:
    flag: SafetyFlag
    short: str
    urgent: bool
    answered_on: date
    history: list[FlagAcknowledgement] = field(default_factory=list)


def flag_views(flags: Iterable[SafetyFlag], *, newest_first: bool = False) -> list[FlagView]:
    views = [
        FlagView(
            flag=f,
            short=short_name(f.scale),
            urgent=f.level == FlagLevel.URGENT,
            answered_on=f.assessment.administered_on,
            history=list(f.acknowledgements.all()),
        )
        for f in flags
    ]
    if newest_first:  # the history: as given (latest acknowledgement first)
        return views
    return sorted(views, key=lambda v: (not v.urgent, -v.answered_on.toordinal()))


@dataclass(frozen=True)
class EventView:
    label: str
    when: str


def _events(outcome: Mapping[str, Any]) -> list[EventView]:
    result = []
    for event in outcome.get("events", []):
        if event["type"] == "recovery":
            result.append(EventView(label="recovery", when=str(event["date"])))
        else:
            confirmed = f", confirmed {event['confirmed']}" if event.get("confirmed") else ""
            result.append(EventView(label=words(event["type"]), when=f"onset {event['onset']}{confirmed}"))
    if outcome.get("remission_pending_since"):
        result.append(
            EventView(label="remission range entered (pending)", when=str(outcome["remission_pending_since"]))
        )
    for warning in outcome.get("warnings", []):
        result.append(EventView(label=words(warning.get("type")), when=str(warning.get("date", ""))))
    return result


@dataclass(frozen=True)
class OutcomeView(_StateAndSignalLabels):
    scale: str
    short: str
    name: str
    baseline: Score | None
    latest: Score | None
    improvement_pct: str | None
    response: str
    state: str
    events: list[EventView]
    signal: str
    percentile: int | None
    reference: str
    week: int | None
    expected_range: str
    rules: str
    reliable: str


def _pct(value: float | None) -> str | None:
    return None if value is None else f"{value * 100:.0f} %"


def outcome_view(outcome: Mapping[str, Any]) -> OutcomeView:
    key = outcome["scale"]
    baseline = outcome.get("baseline") or {}
    latest = outcome.get("latest") or {}
    projection = outcome.get("projection") or {}
    expected = projection.get("expected_improvement") or {}
    rc = outcome.get("reliable_change") or {}
    reliable = ""
    if rc:
        reliable = f"{words(rc.get('direction'))}, {'reliable' if rc.get('reliable') else 'not reliable'}"
    return OutcomeView(
        scale=key,
        short=short_name(key),
        name=scoring.SCALES[key].name,
        baseline=Score.of(key, baseline.get("total"), baseline.get("date")),
        latest=Score.of(key, latest.get("total"), latest.get("date")),
        improvement_pct=_pct(latest.get("improvement")),
        response=words(latest.get("response")),
        state=outcome.get("state", ""),
        events=_events(outcome),
        signal=projection.get("signal", "insufficient_data") if projection else "insufficient_data",
        percentile=projection.get("percentile"),
        reference=str(projection.get("reference_label") or projection.get("reference") or ""),
        week=None if projection.get("week") is None else int(projection["week"]) + 1,  # week 1: days 0-6
        expected_range=(
            f"{_pct(expected['p25'])} – {_pct(expected['p75'])}" if "p25" in expected and "p75" in expected else ""
        ),
        rules=rules_text(outcome["rules"]),
        reliable=reliable,
    )


@dataclass(frozen=True)
class EntryView:
    """One entry: item numbers and scores only (never item wording: BDI-II and MADRS are copyrighted)."""

    assessment: Assessment
    short: str
    score: Score
    items: list[tuple[int, int]]
    suicide_item: int
    flag_level: str  # "urgent", "review" or "" (the highest level of the flags this entry raised)
    entered_by: str = ""
    # For a superseded entry: the version that replaced it (its reason, author and date are shown).
    replaced_by: Assessment | None = None
    replaced_by_name: str = ""


def _highest_level(flags: Iterable[SafetyFlag]) -> str:
    levels = {f.level for f in flags}
    if FlagLevel.URGENT in levels:
        return str(FlagLevel.URGENT)
    return str(FlagLevel.REVIEW) if levels else ""


def entry_views(entries: Iterable[Assessment]) -> list[EntryView]:
    entries = list(entries)
    replacement = {a.supersedes_id: a for a in entries if a.supersedes_id}
    views = []
    for a in entries:
        newer = replacement.get(a.pk)
        scale = scoring.SCALES[a.scale]
        views.append(
            EntryView(
                assessment=a,
                short=short_name(a.scale),
                score=Score(
                    scale=a.scale, total=a.total, severity=words(a.severity), tone=severity_tone(a.scale, a.severity)
                ),
                items=list(enumerate(a.items, start=1)),
                suicide_item=scale.suicide_item,
                flag_level=_highest_level(a.flags.all()),
                entered_by=person(a.entered_by),
                replaced_by=newer,
                replaced_by_name=person(newer.entered_by) if newer else "",
            )
        )
    return views
