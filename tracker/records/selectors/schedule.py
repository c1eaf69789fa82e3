"""What the patient's app should ask for now: computed from the entries, in the patient's timezone,
so a schedule survives edits and never double-fires (FIELD.md: mindLAMP #309, Beiwe #350)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import Max

from tracker.records.models import DEFAULT_SCHEDULE, Assessment, Patient
from tracker.records.services.patients import patient_local_today

__all__ = ["DEFAULT_SCHEDULE", "Due", "questionnaires_due"]


@dataclass(frozen=True)
class Due:
    scale: str
    due: bool
    last_completed: date | None
    next_due: date
    interval_days: int


def questionnaires_due(*, patient: Patient, today: date | None = None) -> list[Due]:
    """The patient's own schedule (``Patient.questionnaire_schedule``): a scale it does not name is never due."""
    today = today or patient_local_today(patient)
    schedule = patient.questionnaire_schedule
    if not schedule:
        return []
    last = dict(
        Assessment.objects.filter(patient=patient, scale__in=schedule, is_superseded=False)
        .values("scale")
        .annotate(last=Max("administered_on"))
        .values_list("scale", "last")
    )
    return due_from(last, today, schedule)


def due_from(last: dict[str, date], today: date, schedule: dict[str, int]) -> list[Due]:
    """Each questionnaire of ``schedule`` (scale: every how many days) given the date each was last
    completed (none: due from today)."""
    result = []
    for scale, interval in schedule.items():
        previous = last.get(scale)
        next_due = previous + timedelta(days=interval) if previous else today
        result.append(Due(scale, today >= next_due, previous, next_due, interval))
    return result
