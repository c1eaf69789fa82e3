"""The morning triage list: every visible patient ranked by urgency, in a fixed number of queries.

Five bulk reads whatever the clinic's size (patients, courses, outcome snapshots, open flags, the last
completion per scale), each scoped by the actor's patient queryset; ranking, the "overdue" filter
and sorting are done in Python on those rows, and full display rows are built only for the page shown.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

import scoring
from projections.models import OutcomeSnapshot
from tracker.records import selectors
from tracker.records.models import FlagLevel, Patient, TreatmentCourse, User
from tracker.records.selectors.schedule import due_from_last, last_completed_by_patient
from tracker.web.display import CourseInfo, Score, latest_course, short_name, words

SORTS = {
    "urgency": _("Urgency"),
    "name": _("Name"),
    "last_entry": _("Last entry (longest silence first)"),
    "signal": _("Projection signal (worst first)"),
}
# Worst first: the order of the "signal" sort and of a patient's worst scale.
SIGNAL_RANK = {"off_track": 0, "at_risk": 1, "on_track": 2, "ahead": 3, "too_early": 4, "insufficient_data": 5}
NO_SIGNAL = len(SIGNAL_RANK)

# Urgency tiers: open urgent flags, review flags, off track, at risk, overdue, the rest.
TIER_LABELS = (
    _("urgent flag"),
    _("flag to review"),
    _("off track"),
    _("at risk"),
    _("questionnaire overdue"),
    "",
)


@dataclass(frozen=True)
class TriageCell:
    """One scale of the patient's current course: latest total, improvement since baseline, state, signal."""

    scale: str
    short: str
    latest: Score | None
    improvement: str | None
    state: str
    signal: str
    percentile: int | None

    @property
    def state_label(self) -> str:
        return words(self.state)

    @property
    def signal_label(self) -> str:
        return words(self.signal)


@dataclass
class TriageRow:
    patient: Patient
    urgent: int
    review: int
    signal_rank: int
    overdue: list[str]
    last_entry: date | None
    tier: int
    today: date
    course: CourseInfo | None = None
    cells: list[TriageCell] = field(default_factory=list)

    @property
    def open_flags(self) -> int:
        return self.urgent + self.review

    @property
    def tier_label(self) -> str:
        return str(TIER_LABELS[self.tier])


def _improvement(value: float | None) -> str | None:
    # Improvement is the share of the baseline score lost: positive is better.
    return None if value is None else f"{value * 100:+.0f} %"


@cache
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def _tier(urgent: int, review: int, signal_rank: int, overdue: bool) -> int:
    if urgent:
        return 0
    if review:
        return 1
    if signal_rank <= SIGNAL_RANK["at_risk"]:
        return 2 + signal_rank
    return 4 if overdue else 5


_SORT_KEYS: dict[str, Callable[[TriageRow], Any]] = {
    "urgency": lambda r: (r.tier, -r.urgent, -r.review, r.patient.name.casefold(), str(r.patient.pk)),
    "name": lambda r: (r.patient.name.casefold(), str(r.patient.pk)),
    # Never reported first, then the oldest last entry.
    "last_entry": lambda r: (r.last_entry is not None, r.last_entry or date.min, r.patient.name.casefold()),
    "signal": lambda r: (r.signal_rank, r.tier, r.patient.name.casefold(), str(r.patient.pk)),
}


class Triage:
    """The ranked rows of ``patients`` (a queryset already scoped to ``actor``)."""

    def __init__(self, *, actor: User, patients: QuerySet[Patient], overdue_only: bool, sort: str) -> None:
        ids = patients.values("pk")
        people = list(patients.only("id", "name", "external_id", "date_of_birth", "timezone", "clinic_id"))
        courses: dict[Any, list[TreatmentCourse]] = defaultdict(list)
        for course in selectors.courses_visible(actor=actor).filter(patient__in=ids).order_by():
            courses[course.patient_id].append(course)
        snapshots: dict[Any, list[OutcomeSnapshot]] = defaultdict(list)
        for snap in OutcomeSnapshot.objects.filter(patient__in=ids).defer("data").order_by():
            snapshots[snap.patient_id].append(snap)
        flags: dict[Any, list[str]] = defaultdict(list)
        open_flags = selectors.flags_visible(actor=actor).filter(patient__in=ids, acknowledged_at__isnull=True)
        for patient_id, level in open_flags.values_list("patient_id", "level").order_by():
            flags[patient_id].append(level)
        last = last_completed_by_patient(patients=patients)

        now = timezone.now()
        self._courses = courses
        self._snapshots = snapshots
        rows = []
        for patient in people:
            current = latest_course(courses.get(patient.pk, ()))
            current_id = current.pk if current is not None else None
            current_snaps = [s for s in snapshots.get(patient.pk, ()) if s.course_id == current_id]
            rank = min((SIGNAL_RANK.get(s.signal, NO_SIGNAL) for s in current_snaps), default=NO_SIGNAL)
            levels = flags.get(patient.pk, [])
            urgent = sum(1 for level in levels if level == FlagLevel.URGENT)
            today = now.astimezone(_zone(patient.timezone)).date()
            completed = last.get(patient.pk, {})
            overdue = [short_name(d.scale) for d in due_from_last(completed, today) if d.due]
            if overdue_only and not overdue:
                continue
            rows.append(
                TriageRow(
                    patient=patient,
                    urgent=urgent,
                    review=len(levels) - urgent,
                    signal_rank=rank,
                    overdue=overdue,
                    last_entry=max(completed.values(), default=None),
                    tier=_tier(urgent, len(levels) - urgent, rank, bool(overdue)),
                    today=today,
                )
            )
        rows.sort(key=_SORT_KEYS[sort])
        self.rows = rows

    def detail(self, rows: Sequence[TriageRow]) -> list[TriageRow]:
        """Fill in the course and per-scale cells of the rows about to be shown."""
        for row in rows:
            current = latest_course(self._courses.get(row.patient.pk, ()))
            current_id = current.pk if current is not None else None
            by_scale = {s.scale: s for s in self._snapshots.get(row.patient.pk, ()) if s.course_id == current_id}
            row.course = CourseInfo.of(current, row.today)
            row.cells = [
                TriageCell(
                    scale=key,
                    short=short_name(key),
                    latest=Score.of(key, snap.latest_total, snap.latest_date),
                    improvement=_improvement(snap.improvement),
                    state=snap.state,
                    signal=snap.signal,
                    percentile=snap.percentile,
                )
                for key in scoring.SCALES
                if (snap := by_scale.get(key)) is not None
            ]
        return list(rows)
