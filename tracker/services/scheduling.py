"""Hand follow-up work to Celery. Messages carry ids only; a broker outage never fails a save."""

from __future__ import annotations

import contextlib
import contextvars
import logging
import uuid
from collections.abc import Iterator

from django.db import transaction
from django.db.models import Model

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


def recompute_outbox_rows(patient_id: uuid.UUID) -> list[Model]:
    """The row an entry's service writes with the entry so that, with a broker, the workers
    recompute its patient's outcomes (projections/pending.py); none when run eagerly."""
    from projections import pending

    return [pending.row(patient_id)] if pending.enabled() and not _suppressed.get() else []


def schedule_patient_recompute(patient_id: uuid.UUID) -> None:
    """Run eagerly (no broker): recompute the patient's outcomes once the entry commits. With a
    broker the outbox row does it (``recompute_outbox_rows``) and this does nothing."""
    from projections import pending

    if _suppressed.get() or pending.enabled():
        return

    def recompute() -> None:
        from projections.tasks import recompute_patient

        try:
            recompute_patient.delay(str(patient_id))
        except Exception as exc:  # the nightly run (or the next read) catches up
            logger.warning("could not recompute outcomes (%s); the nightly run will catch up", type(exc).__name__)

    transaction.on_commit(recompute)


def schedule_clinic_recompute(clinic_id: uuid.UUID) -> None:
    """After a clinic changes its thresholds or reference set: recompute its patients' snapshots."""
    from projections.tasks import recompute_clinic

    def send() -> None:
        try:
            recompute_clinic.delay(str(clinic_id))
        except Exception as exc:
            logger.warning("could not schedule a clinic recomputation (%s); the nightly run will catch up", type(exc).__name__)

    transaction.on_commit(send)
