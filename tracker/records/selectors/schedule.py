"""What the patient's app should ask for now: computed from the entries, in the patient's timezone,
so a schedule survives edits and never double-fires (FIELD.md: mindLAMP #309, Beiwe #350)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import Max, QuerySet

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
    return due_from_last(last, today, schedule)


def due_from_last(last: Mapping[str, date], today: date, schedule: Mapping[str, int]) -> list[Due]:
    """The one rule: a questionnaire of ``schedule`` (scale: every how many days) is due ``interval``
    days after its last completion (at once if never)."""
    result = []
    for scale, interval in schedule.items():
        previous = last.get(scale)
        next_due = previous + timedelta(days=interval) if previous else today
        result.append(Due(scale, today >= next_due, previous, next_due, interval))
    return result


def last_completed_by_patient(*, patients: QuerySet[Patient]) -> dict[object, dict[str, date]]:
    """Each patient's last completion date per scale (every scale, not only the scheduled ones), in one
    query whatever the number of patients: the bulk read behind ``due_from_last`` for a patient list."""
    rows = (
        Assessment.objects.filter(patient__in=patients.values("pk"), is_superseded=False)
        .values("patient_id", "scale")
        .annotate(last=Max("administered_on"))
        .values_list("patient_id", "scale", "last")
        .order_by()
    )
    result: dict[object, dict[str, date]] = defaultdict(dict)
    for patient_id, scale, last in rows:
        result[patient_id][scale] = last
    return result
