"""What the patient's app should ask for now: computed from the entries, in the patient's timezone,
so a schedule survives edits and never double-fires (FIELD.md: mindLAMP #309, Beiwe #350)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import Max, QuerySet

from tracker.records.models import Assessment, Patient
from tracker.records.services.patients import patient_local_today

# Self-report questionnaires the app asks for by default, and how often (days).
DEFAULT_SCHEDULE: dict[str, int] = {"bdi2": 7, "phq9": 7}


@dataclass(frozen=True)
class Due:
    scale: str
    due: bool
    last_completed: date | None
    next_due: date
    interval_days: int


def questionnaires_due(*, patient: Patient, today: date | None = None) -> list[Due]:
    today = today or patient_local_today(patient)
    last = dict(
        Assessment.objects.filter(patient=patient, scale__in=DEFAULT_SCHEDULE, is_superseded=False)
        .values("scale")
        .annotate(last=Max("administered_on"))
        .values_list("scale", "last")
    )
    return due_from_last(last, today)


def due_from_last(last: Mapping[str, date], today: date) -> list[Due]:
    """The one rule: a questionnaire is due ``interval`` days after its last completion (at once if never)."""
    result = []
    for scale, interval in DEFAULT_SCHEDULE.items():
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
