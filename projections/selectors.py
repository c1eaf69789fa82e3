"""Reads of projection results, scoped to a clinic."""

from __future__ import annotations

from typing import Any

import scoring
from projections.cohort_results import recompute_cohorts
from projections.math.reference_sets import load_reference_sets
from projections.models import CohortResult, FittedReferenceSet
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


def cohort_results(*, clinic: Clinic, modality: str | None = None, scale: str | None = None) -> list[dict[str, Any]]:
    """The stored cohort results (computed first if the clinic has none yet)."""
    qs = CohortResult.objects.filter(clinic=clinic)
    if not qs.exists():
        recompute_cohorts(clinic.pk)
    if modality:
        qs = qs.filter(modality=modality)
    if scale:
        if scale not in scoring.SCALES:
            raise invalid("scale", "Unknown scale.")
        qs = qs.filter(scale=scale)
    return [{**r.data, "computed_at": r.computed_at} for r in qs.order_by("modality", "scale")]
