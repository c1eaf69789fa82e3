"""The nightly recomputation of every patient's snapshots, in chunks of patients."""

from __future__ import annotations

from typing import Any

from tqdm import tqdm

from projections.outcomes import recompute_patient_outcomes
from tracker.models import Patient


def patient_chunks(*, clinic_id: Any = None, chunk_size: int = 2000) -> list[list[str]]:
    qs = Patient.objects.order_by("id")
    if clinic_id:
        qs = qs.filter(clinic_id=clinic_id)
    ids = [str(pk) for pk in qs.values_list("id", flat=True)]
    return [ids[i : i + chunk_size] for i in range(0, len(ids), chunk_size)]


def recompute_chunk(patient_ids: list[str]) -> dict[str, int]:
    snapshots = 0
    for patient in Patient.objects.filter(pk__in=patient_ids).select_related("clinic"):
        snapshots += len(recompute_patient_outcomes(patient))
    return {"patients": len(patient_ids), "snapshots": snapshots}


def recompute_all(*, clinic_id: Any = None, chunk_size: int = 2000, progress: bool = False) -> dict[str, int]:
    chunks = patient_chunks(clinic_id=clinic_id, chunk_size=chunk_size)
    totals = {"patients": 0, "snapshots": 0}
    bar = tqdm(total=sum(len(c) for c in chunks), unit="patient", disable=not progress)
    for chunk in chunks:
        stats = recompute_chunk(chunk)
        totals["patients"] += stats["patients"]
        totals["snapshots"] += stats["snapshots"]
        bar.update(len(chunk))
    bar.close()
    return totals
