"""Writes of the outcomes layer: a clinic's choice of reference set and its per-scale thresholds, and
the hand-over of stale outcomes from a read to the workers."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from typing import Any

from django.db import transaction

import scoring
from projections.selectors import reference_set_exists
from projections.tasks import recompute_clinic
from tracker.records import outbox
from tracker.records.models import Clinic, User
from tracker.records.services.audit import audit_record
from tracker.records.services.errors import invalid

logger = logging.getLogger(__name__)


def _schedule_clinic_recompute(clinic_id: uuid.UUID) -> None:
    """Recompute the clinic's snapshots once its new rules commit (ids only in the message)."""

    def send() -> None:
        try:
            recompute_clinic.delay(str(clinic_id))
        except Exception as exc:
            logger.warning(
                "could not schedule a clinic recomputation (%s); the nightly run will catch up", type(exc).__name__
            )

    transaction.on_commit(send)


def outcomes_refresh_request(*, patient_ids: Iterable[uuid.UUID]) -> None:
    """A read computed these patients' outcomes because their snapshots were missing or out of date:
    ask the workers to store them. With a broker, the patients join the outbox that ``drain_pending``
    empties every few seconds (a queue row, not an outcome). Run eagerly there are no workers and
    nothing is queued: entries and settings recompute at their own commit, the nightly run catches
    up on the rest, and the read itself never stores a snapshot or raises a notice."""
    if outbox.enabled():
        outbox.enqueue(patient_ids)


@transaction.atomic
def clinic_update_settings(
    *, actor: User, reference_set: str | None = None, scoring_options: dict[str, Any] | None = None
) -> Clinic:
    """Choose the clinic's default reference set and override scoring's defaults per scale."""
    assert actor.clinic_id is not None
    clinic = Clinic.objects.select_for_update().get(pk=actor.clinic_id)
    if reference_set is not None:
        if not reference_set_exists(clinic=clinic, key=reference_set):
            raise invalid("reference_set", "Unknown reference set; see /api/v1/reference-sets/.")
        clinic.reference_set = reference_set
    if scoring_options is not None:
        for scale, options in scoring_options.items():
            if scale not in scoring.SCALES:
                raise invalid("scoring_options", f"Unknown scale {scale!r}.")
            try:
                scoring.Options.from_dict(options).resolve(scoring.get_scale(scale))
            except scoring.ScoringError as exc:
                raise invalid("scoring_options", f"{scale}: {exc}") from None
        clinic.scoring_options = scoring_options
    clinic.save(update_fields=["reference_set", "scoring_options"])
    audit_record(actor=actor, action="clinic.settings", object_type="clinic", object_id=clinic.pk)
    _schedule_clinic_recompute(clinic.pk)
    return clinic
