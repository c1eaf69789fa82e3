"""Celery tasks. They take ids only, recompute from stored entries, and can run twice."""

from __future__ import annotations

import logging

from celery import shared_task

from projections.outcomes import recompute_patient_outcomes
from tracker.models import Patient

logger = logging.getLogger(__name__)


@shared_task(
    name="projections.tasks.recompute_patient",
    bind=True,
    autoretry_for=(OSError,),
    retry_backoff=True,
    max_retries=5,
    acks_late=True,
)
def recompute_patient(self: object, patient_id: str) -> int:
    """Recompute every snapshot of one patient; returns how many are stored."""
    patient = Patient.objects.select_related("clinic").filter(pk=patient_id).first()
    if patient is None:
        return 0
    return len(recompute_patient_outcomes(patient))
