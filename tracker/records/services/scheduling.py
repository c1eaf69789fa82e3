"""Follow-up work after an entry: the outbox row (with a broker) or a signal at commit (run eagerly)."""

from __future__ import annotations

import contextlib
import contextvars
import uuid
from collections.abc import Iterator

from django.db import transaction
from django.db.models import Model

from tracker.records import outbox
from tracker.records.signals import entries_changed

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
    recompute its patient's outcomes (``tracker.records.outbox``); none when run eagerly."""
    return [outbox.row(patient_id)] if outbox.enabled() and not _suppressed.get() else []


def schedule_patient_recompute(patient_id: uuid.UUID) -> None:
    """Run eagerly (no broker): announce the changed entries once they commit, and the outcomes
    layer recomputes them. With a broker the outbox row does it and this does nothing."""
    if _suppressed.get() or outbox.enabled():
        return
    transaction.on_commit(lambda: entries_changed.send(sender=None, patient_id=patient_id))


def patient_entries_changed(patient_id: uuid.UUID) -> None:
    """After a change to a patient's entries other than a new version (a baseline mark): queue the
    patient in the outbox (with a broker) or recompute at commit (run eagerly)."""
    if _suppressed.get():
        return
    if outbox.enabled():
        outbox.enqueue([patient_id])
    else:
        schedule_patient_recompute(patient_id)
