"""The morning triage list: every visible patient ranked by urgency, in a fixed number of queries.

One query ranks the whole list: the actor's patient queryset annotated, per patient, with its open
urgent and review flags, the worst projection signal of its current course and the last completion
of each questionnaire (correlated subqueries on indexed columns). Due-ness (in each patient's
timezone), the "overdue" filter and the sorting are done in Python on those tuples; full display rows
(patient, course, snapshots) are read only for the page shown, in three more queries.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Case, Count, DateField, IntegerField, Max, OuterRef, QuerySet, Subquery, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

import scoring
from projections.models import OutcomeSnapshot
from tracker.records.models import Assessment, FlagLevel, Patient, SafetyFlag, TreatmentCourse, schedule_from
from tracker.records.selectors.schedule import DEFAULT_SCHEDULE, due_from_last
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
    pk: Any
    name: str
    urgent: int
    review: int
    signal_rank: int
    overdue: list[str]
    last_entry: date | None
    tier: int
    today: date
    # Filled in by ``Triage.detail`` for the rows shown (building 2,000 model instances costs more than the rest).
    patient: Patient | None = None
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
    "urgency": lambda r: (r.tier, -r.urgent, -r.review, r.name.casefold(), str(r.pk)),
    "name": lambda r: (r.name.casefold(), str(r.pk)),
    # Never reported first, then the oldest last entry.
    "last_entry": lambda r: (r.last_entry is not None, r.last_entry or date.min, r.name.casefold(), str(r.pk)),
    "signal": lambda r: (r.signal_rank, r.tier, r.name.casefold(), str(r.pk)),
}


def _count(queryset: QuerySet[Any]) -> Coalesce:
    counted = queryset.order_by().values("patient_id").annotate(n=Count("id")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def _ranked(patients: QuerySet[Patient]) -> QuerySet[Patient]:
    """The patient queryset annotated with what the ranking needs, one row per patient."""
    current_course = TreatmentCourse.objects.filter(patient=OuterRef(OuterRef("pk"))).order_by(
        "-start_date", "-created_at"
    )
    rank = Case(
        *(When(signal=signal, then=Value(value)) for signal, value in SIGNAL_RANK.items()),
        default=Value(NO_SIGNAL),
        output_field=IntegerField(),
    )
    worst = (
        OutcomeSnapshot.objects.filter(patient=OuterRef("pk"), course=Subquery(current_course.values("id")[:1]))
        .annotate(rank=rank)
        .order_by("rank")
        .values("rank")[:1]
    )
    open_flags = SafetyFlag.objects.filter(patient=OuterRef("pk"), acknowledged_at__isnull=True)
    entries = Assessment.objects.filter(patient=OuterRef("pk"), is_superseded=False).order_by()
    last = {
        f"last_{scale}": Subquery(
            entries.filter(scale=scale).values("patient_id").annotate(d=Max("administered_on")).values("d"),
            output_field=DateField(),
        )
        for scale in DEFAULT_SCHEDULE
    }
    return patients.order_by().annotate(
        urgent=_count(open_flags.filter(level=FlagLevel.URGENT)),
        review=_count(open_flags.exclude(level=FlagLevel.URGENT)),
        signal_rank=Coalesce(Subquery(worst, output_field=IntegerField()), Value(NO_SIGNAL)),
        last_entry=Subquery(
            entries.values("patient_id").annotate(d=Max("administered_on")).values("d"), output_field=DateField()
        ),
        **last,
    )


class Triage:
    """The ranked rows of ``patients``, a queryset already scoped to the actor (``selectors.patients_visible``):
    every other read here is limited to those patients."""

    def __init__(self, *, patients: QuerySet[Patient], overdue_only: bool, sort: str) -> None:
        scales = list(DEFAULT_SCHEDULE)
        columns = ["pk", "name", "timezone", "schedule", "urgent", "review", "signal_rank", "last_entry"]
        now = timezone.now()
        rows = []
        for values in _ranked(patients).values_list(*columns, *(f"last_{s}" for s in scales)):
            pk, name, tz, schedule, urgent, review, rank, last_entry = values[:8]
            completed = {scale: day for scale, day in zip(scales, values[8:], strict=True) if day is not None}
            today = now.astimezone(_zone(tz)).date()
            due = due_from_last(completed, today, schedule_from(schedule))
            overdue = [short_name(d.scale) for d in due if d.due]
            if overdue_only and not overdue:
                continue
            rows.append(
                TriageRow(
                    pk=pk,
                    name=name,
                    urgent=urgent,
                    review=review,
                    signal_rank=rank,
                    overdue=overdue,
                    last_entry=last_entry,
                    tier=_tier(urgent, review, rank, bool(overdue)),
                    today=today,
                )
            )
        rows.sort(key=_SORT_KEYS[sort])
        self.rows = rows

    def detail(self, rows: Sequence[TriageRow]) -> list[TriageRow]:
        """Fill in the patient, course and per-scale cells of the rows about to be shown (three queries)."""
        ids = [row.pk for row in rows]
        people = {
            p.pk: p
            for p in Patient.objects.filter(pk__in=ids).only(
                "id", "name", "external_id", "date_of_birth", "timezone", "clinic_id"
            )
        }
        courses: dict[Any, list[TreatmentCourse]] = defaultdict(list)
        for one in TreatmentCourse.objects.filter(patient__in=ids):
            courses[one.patient_id].append(one)
        current = {pk: latest_course(courses.get(pk, ())) for pk in ids}
        snapshots: dict[Any, dict[str, OutcomeSnapshot]] = defaultdict(dict)
        for stored in OutcomeSnapshot.objects.filter(patient__in=ids).defer("data"):
            course = current.get(stored.patient_id)
            if stored.course_id == (course.pk if course is not None else None):
                snapshots[stored.patient_id][stored.scale] = stored
        for row in rows:
            row.patient = people[row.pk]
            row.course = CourseInfo.of(current[row.pk], row.today)
            by_scale = snapshots.get(row.pk, {})
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
