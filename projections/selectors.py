"""Reads of projection results, scoped to a clinic."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone

import scoring
from projections.math.reference_sets import load_reference_sets
from projections.models import CohortResult, FittedReferenceSet, OutcomeSnapshot
from tracker.records.models import Clinic
from tracker.records.services.errors import invalid


def reference_sets_for(*, clinic: Clinic) -> list[dict[str, Any]]:
    published = [
        {"key": r.key, "title": r.title, "version": str(r.version), "kind": "published"}
        for r in load_reference_sets().values()
    ]
    own = [
        {"key": f.key, "title": f.data.get("title", f.key), "version": str(f.data.get("version", 1)), "kind": "clinic"}
        for f in FittedReferenceSet.objects.filter(clinic=clinic).order_by("created_at")
    ]
    return published + own


def reference_set_exists(*, clinic: Clinic, key: str) -> bool:
    return key in load_reference_sets() or FittedReferenceSet.objects.filter(clinic=clinic, key=key).exists()


#: The beat entry that computes the cohort results (tracker/config/settings.py).
COHORT_BEAT_ENTRY = "nightly-cohort-curves"


@dataclass(frozen=True)
class CohortAnswer:
    """A clinic's stored cohort results, or none yet: ``pending`` when the clinic has courses with
    outcomes but the workers have not computed its cohort yet (they do at ``next_run_at``)."""

    results: list[dict[str, Any]]
    pending: bool
    next_run_at: datetime | None


def cohort_next_run_at(now: datetime | None = None) -> datetime | None:
    """When the beat next sends the cohort computation (None when no such entry is scheduled)."""
    entry = settings.CELERY_BEAT_SCHEDULE.get(COHORT_BEAT_ENTRY)
    if entry is None:
        return None
    now = now or timezone.now()
    schedule = entry["schedule"]
    if isinstance(schedule, int | float):
        return now + timedelta(seconds=schedule)
    remaining: timedelta = schedule.remaining_estimate(now)  # type: ignore[attr-defined]
    return now + remaining


def cohort_results(*, clinic: Clinic, modality: str | None = None, scale: str | None = None) -> CohortAnswer:
    """The clinic's stored cohort results. Never computed here: the workers store them on the beat
    (``projections.tasks.recompute_cohorts``), so a clinic whose results are not stored yet is
    answered ``pending`` with the time of the next run."""
    qs = CohortResult.objects.filter(clinic=clinic)
    if scale is not None and scale not in scoring.SCALES:
        raise invalid("scale", "Unknown scale.")
    if not qs.exists():
        has_courses = OutcomeSnapshot.objects.filter(clinic=clinic, course__isnull=False).exists()
        return CohortAnswer(results=[], pending=has_courses, next_run_at=cohort_next_run_at() if has_courses else None)
    if modality:
        qs = qs.filter(modality=modality)
    if scale:
        qs = qs.filter(scale=scale)
    results = [{**r.data, "computed_at": r.computed_at} for r in qs.order_by("modality", "scale")]
    return CohortAnswer(results=results, pending=False, next_run_at=None)
