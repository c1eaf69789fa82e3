"""Writes of the outcomes layer: a clinic's choice of reference set and its per-scale thresholds, its
own fitted reference sets, and the hand-over of stale outcomes from a read to the workers."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from typing import Any

from django.db import transaction

import scoring
from projections.clinic_fit import fit_clinic
from projections.models import FittedReferenceSet
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
    before = (clinic.reference_set, clinic.scoring_options)
    if reference_set is not None:
        if not reference_set_exists(clinic=clinic, key=reference_set):
            raise invalid("reference_set", "Unknown reference set; see /api/v1/reference-sets/.")
        clinic.reference_set = reference_set
    if scoring_options is not None:
        for scale, options in scoring_options.items():
            if scale not in scoring.SCALES:
                raise invalid("scoring_options", f"Unknown scale {scale!r}.")
            try:
                rules = scoring.Options.from_dict(options).resolve(scoring.get_scale(scale))
            except scoring.ScoringError as exc:
                raise invalid("scoring_options", f"{scale}: {exc}") from None
            # A remission level is a low score: one reaching the moderate band would call moderately
            # depressed patients remitted, and leaves no room below the baselines curves start from.
            highest = scoring.get_scale(scale).bands[1].high
            if rules.remission_max > highest:
                raise invalid(
                    "scoring_options",
                    f"{scale}: remission_max must be at most {highest} (the top of the "
                    f"{scoring.get_scale(scale).bands[1].label} band).",
                )
        clinic.scoring_options = scoring_options
    clinic.save(update_fields=["reference_set", "scoring_options"])
    audit_record(actor=actor, action="clinic.settings", object_type="clinic", object_id=clinic.pk)
    if (clinic.reference_set, clinic.scoring_options) != before:  # the same rules give the same outcomes
        _schedule_clinic_recompute(clinic.pk)
    return clinic


@transaction.atomic
def reference_set_fit(
    *, actor: User | None, clinic: Clinic, min_courses: int = 30, activate: bool = False
) -> FittedReferenceSet:
    """Fit the clinic's own expected curves from its completed courses and store them (audited as
    ``reference_set.fit``). With ``activate`` they become the clinic's default reference set
    (audited as ``clinic.settings``) and its snapshots are recomputed once that commits. ``actor``
    is None for the operator's command. Raises ``NotEnoughData`` below ``min_courses``."""
    ref, n_courses = fit_clinic(clinic, min_courses=min_courses)
    fitted = FittedReferenceSet.objects.create(clinic=clinic, key=ref.key, data=ref.to_dict(), n_courses=n_courses)
    audit_record(
        actor=actor, action="reference_set.fit", object_type="reference_set", object_id=fitted.pk, clinic_id=clinic.pk
    )
    if activate:
        clinic = Clinic.objects.select_for_update().get(pk=clinic.pk)
        clinic.reference_set = fitted.key
        clinic.save(update_fields=["reference_set"])
        audit_record(
            actor=actor, action="clinic.settings", object_type="clinic", object_id=clinic.pk, clinic_id=clinic.pk
        )
        _schedule_clinic_recompute(clinic.pk)
    return fitted
