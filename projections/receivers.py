"""What the outcomes layer does when the records layer announces a change (connected at start-up)."""

from __future__ import annotations

import logging
from typing import Any

from django.dispatch import receiver

from projections.tasks import recompute_patient
from tracker.records.signals import entries_changed

logger = logging.getLogger(__name__)


@receiver(entries_changed, dispatch_uid="projections.recompute_after_entries")
def recompute_after_entries(sender: object, *, patient_id: object, **kwargs: Any) -> None:
    """Run eagerly, an entry's commit recomputes its patient's outcomes (with a broker the outbox does)."""
    try:
        recompute_patient.delay(str(patient_id))
    except Exception as exc:  # the nightly run (or the next read) catches up
        logger.warning("could not recompute outcomes (%s); the nightly run will catch up", type(exc).__name__)
