"""Hand follow-up work to Celery. Messages carry ids only; a broker outage never fails a save."""

from __future__ import annotations

import contextlib
import contextvars
import logging
import uuid
from collections.abc import Iterator

logger = logging.getLogger(__name__)

_suppressed: contextvars.ContextVar[bool] = contextvars.ContextVar("recompute_suppressed", default=False)


@contextlib.contextmanager
def recompute_deferred() -> Iterator[None]:
    """For bulk loads (demo data, imports) that recompute everything once at the end."""
    token = _suppressed.set(True)
    try:
        yield
    finally:
        _suppressed.reset(token)


def schedule_patient_recompute(patient_id: uuid.UUID) -> None:
    """Called at commit. With Redis, the patient joins the pending queue and at most one drain
    message is published per burst (projections/pending.py); run eagerly, it recomputes now."""
    if _suppressed.get():
        return
    from projections import pending
    from projections.tasks import drain_pending, recompute_patient

    try:
        if not pending.enabled():
            recompute_patient.delay(str(patient_id))
        elif pending.add(patient_id):
            try:
                drain_pending.apply_async(countdown=pending.DRAIN_DELAY_SECONDS)
            except Exception:
                pending.release_claim()  # the next entry tries again
                raise
    except Exception as exc:  # broker down: the nightly run (or the next read) catches up
        logger.warning("could not schedule an outcome recomputation (%s); the nightly run will catch up", type(exc).__name__)


def schedule_clinic_recompute(clinic_id: uuid.UUID) -> None:
    """After a clinic changes its thresholds or reference set: recompute its patients' snapshots."""
    from django.db import transaction

    from projections.tasks import recompute_clinic

    def send() -> None:
        try:
            recompute_clinic.delay(str(clinic_id))
        except Exception as exc:
            logger.warning("could not schedule a clinic recomputation (%s); the nightly run will catch up", type(exc).__name__)

    transaction.on_commit(send)
