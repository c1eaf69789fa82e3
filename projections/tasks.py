"""Celery tasks. They take ids only, recompute from stored entries, and can run twice."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from celery import shared_task

from projections.cohort_results import recompute_cohorts
from projections.nightly import night_chunks, recompute_chunk
from projections.outcomes import recompute_patient_outcomes
from tracker.records import outbox as pending
from tracker.records.models import Patient

logger = logging.getLogger(__name__)

NIGHTLY_CHUNK_SIZE = 2000


@shared_task(name="projections.tasks.recompute_patient", autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def recompute_patient(patient_id: str) -> int:
    """Recompute every snapshot of one patient; returns how many are stored."""
    patient = Patient.objects.select_related("clinic").filter(pk=patient_id).first()
    if patient is None:
        return 0
    return len(recompute_patient_outcomes(patient))


@shared_task(name="projections.tasks.drain_pending")
def drain_pending() -> int:
    """Recompute the patients waiting in the outbox (tracker/records/outbox.py); on the beat."""
    return pending.drain(recompute_patient)


@shared_task(name="projections.tasks.recompute_chunk", autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def recompute_chunk_task(patient_ids: list[str]) -> dict[str, int]:
    """One chunk of the nightly job: one transaction; redone whole if the worker dies (acks_late)."""
    return recompute_chunk(patient_ids)


@shared_task(name="projections.tasks.recompute_cohorts")
def recompute_cohorts_task() -> int:
    return recompute_cohorts()


def _send_chunks(chunks: Iterable[list[str]]) -> int:
    """Each chunk to the workers as soon as its ids are read: the first chunks run while the rest
    are listed. Returns how many were sent."""
    sent = 0
    for chunk in chunks:
        recompute_chunk_task.delay(chunk)
        sent += 1
    return sent


@shared_task(name="projections.tasks.nightly_recompute")
def nightly_recompute(chunk_size: int = NIGHTLY_CHUNK_SIZE) -> dict[str, Any]:
    """Split every patient into chunks of at most ``chunk_size``, balanced between the workers
    (``projections.nightly.chunk_sizes``), and send them as they are listed (the cohort curves
    follow on their own beat entry, an hour later)."""
    chunks = _send_chunks(night_chunks(max_size=chunk_size))
    logger.info("nightly recomputation: %d chunks scheduled", chunks)
    return {"chunks": chunks}


@shared_task(name="projections.tasks.recompute_clinic")
def recompute_clinic(clinic_id: str, chunk_size: int = NIGHTLY_CHUNK_SIZE) -> dict[str, int]:
    """One clinic's snapshots (after a change of its settings), as chunk tasks the workers share:
    no task runs longer than one chunk, which the broker's visibility timeout is set from."""
    return {"chunks": _send_chunks(night_chunks(clinic_id=clinic_id, max_size=chunk_size))}
