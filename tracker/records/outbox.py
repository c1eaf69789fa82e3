"""Patients whose outcomes wait to be recomputed after a new or amended entry: a transactional outbox.

With a broker, an entry publishes no Celery message. It writes a ``PendingRecompute`` row for its
patient in the same statement that stores it (tracker/records/fastpath.py: ``INSERT ... ON CONFLICT DO UPDATE``),
so the row commits if and only if the entry does, and the request does no other work for it.
``drain_pending`` (on the beat every few seconds; any number of workers at once) takes a batch of
rows with ``FOR UPDATE SKIP LOCKED``, deletes them and commits, then recomputes those patients:

- an entry's upsert locks its patient's row. If the entry holds the lock, the drain skips the row
  and a later drain takes it, after the entry committed. If the drain holds it, the entry waits
  the few milliseconds until the deletion commits and then inserts a new row. Either way a
  recomputation starts after the entry committed: none is missed;
- a patient with several entries between two drains is recomputed once;
- the rows survive a restart of Redis or of the workers, which a queued message would not. A
  worker that dies between deleting its batch and recomputing it leaves those patients to the
  nightly run; reads never serve a stale snapshot anyway (the fingerprint check recomputes).

Run eagerly (the embedded defaults), the recomputation happens in-process at commit instead.
Rows hold patient ids and times only, never health data.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterable

from celery import current_app
from django.db import transaction

from tracker.records.models import PendingRecompute

logger = logging.getLogger(__name__)

DRAIN_EVERY_SECONDS = 3.0
BATCH_SIZE = 50
MAX_BATCHES = 20


def enabled() -> bool:
    """True when tasks go through a broker (not run eagerly in-process)."""
    return not current_app.conf.task_always_eager


def row(patient_id: uuid.UUID) -> PendingRecompute:
    """The outbox row to write with an entry (``insert_together`` upserts it)."""
    return PendingRecompute(patient_id=patient_id)


def enqueue(patient_ids: Iterable[uuid.UUID]) -> None:
    """Queue patients for the next drain without an entry (a read found their snapshots out of
    date). One ``INSERT ... ON CONFLICT DO NOTHING``: a patient already waiting keeps its row."""
    PendingRecompute.objects.bulk_create([row(pid) for pid in dict.fromkeys(patient_ids)], ignore_conflicts=True)


def _take(batch_size: int) -> list[str]:
    with transaction.atomic():
        ids = list(
            PendingRecompute.objects.select_for_update(skip_locked=True)
            .order_by("queued_at")
            .values_list("patient_id", flat=True)[:batch_size]
        )
        PendingRecompute.objects.filter(patient_id__in=ids).delete()
    return [str(pid) for pid in ids]


def drain(recompute: Callable[[str], object], batch_size: int = BATCH_SIZE, max_batches: int = MAX_BATCHES) -> int:
    """Recompute the waiting patients batch by batch; returns how many were taken.

    At most ``max_batches`` per call, so a drain ends under a steady stream of entries (the next
    beat goes on). A patient whose recomputation fails is logged (by id) and left to the nightly
    run, so one bad record cannot hold up the others.
    """
    taken = 0
    for _ in range(max_batches):
        if not (ids := _take(batch_size)):
            break
        for patient_id in ids:
            try:
                recompute(patient_id)
            except Exception:
                logger.exception("recomputation of patient %s failed; the nightly run will retry", patient_id)
        taken += len(ids)
    return taken


def waiting() -> set[str]:
    """The patient ids waiting now (for tests and operators)."""
    return {str(pid) for pid in PendingRecompute.objects.values_list("patient_id", flat=True)}
