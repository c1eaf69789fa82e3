"""A clinic's cohort against the published curves: Kaplan–Meier time to confirmed remission per
modality and scale (censored at each course's last assessment), beside every reference set's
expected cumulative remission. Computed from the stored snapshots; stored in ``CohortResult``."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any

from django.db import transaction

from projections.math.cohort import kaplan_meier
from projections.math.reference_sets import ReferenceSet, load_reference_sets
from projections.models import CohortResult, FittedReferenceSet, OutcomeSnapshot
from tracker.records.models import Clinic

REFERENCE_WEEKS = 52


def _durations(snapshots: list[OutcomeSnapshot]) -> tuple[list[int], list[bool]]:
    durations, events = [], []
    for snap in snapshots:
        start = snap.course.start_date  # type: ignore[union-attr]
        remission = next((e for e in snap.data.get("events", []) if e["type"] == "remission"), None)
        if remission is not None:
            durations.append(max((date.fromisoformat(remission["confirmed"]) - start).days, 0))
            events.append(True)
        elif snap.latest_date is not None:
            durations.append(max((snap.latest_date - start).days, 0))
            events.append(False)
    return durations, events


def cohort_data(clinic: Clinic, modality: str, scale: str, snapshots: list[OutcomeSnapshot]) -> dict[str, Any]:
    durations, events = _durations(snapshots)
    sets = dict(load_reference_sets())
    for fitted in FittedReferenceSet.objects.filter(clinic=clinic):
        sets[fitted.key] = ReferenceSet.from_dict(fitted.data)
    references = []
    for key, ref in sets.items():
        curve = ref.curve(modality, scale)
        references.append(
            {
                "reference": key,
                "title": ref.title,
                "borrowed": curve.borrowed,
                "weeks": list(range(REFERENCE_WEEKS + 1)),
                "remission_cumulative": [curve.remission_cumulative(w) for w in range(REFERENCE_WEEKS + 1)],
            }
        )
    return {
        "modality": modality,
        "scale": scale,
        "courses": len(durations),
        "kaplan_meier": kaplan_meier(durations, events).as_dict() if durations else None,
        "references": references,
    }


def recompute_cohorts(clinic_id: Any = None) -> int:
    """Recompute every clinic's (or one clinic's) cohort results from the snapshots."""
    clinics = Clinic.objects.all() if clinic_id is None else Clinic.objects.filter(pk=clinic_id)
    stored = 0
    for clinic in clinics:
        groups: dict[tuple[str, str], list[OutcomeSnapshot]] = defaultdict(list)
        for snap in OutcomeSnapshot.objects.filter(clinic=clinic, course__isnull=False).select_related("course"):
            groups[(snap.course.modality, snap.scale)].append(snap)  # type: ignore[union-attr]
        with transaction.atomic():
            CohortResult.objects.filter(clinic=clinic).delete()
            CohortResult.objects.bulk_create(
                CohortResult(
                    clinic=clinic, modality=modality, scale=scale, data=cohort_data(clinic, modality, scale, snaps)
                )
                for (modality, scale), snaps in sorted(groups.items())
            )
        stored += len(groups)
    return stored
