"""The nightly job's storage writes every column of the models, as the per-patient path does: a
field added to a model cannot be silently left out of the nightly's COPY or bulk writes."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

import pytest
from django.db import models

from projections import storage
from projections.models import OutcomeSnapshot
from projections.nightly import recompute_all
from projections.outcomes import recompute_patient_outcomes
from tests.projections.helpers import population
from tracker.records.models import Notice, Patient

WRITTEN_AT = ("id", "computed_at", "created_at")  # a new id and the time of the write: differ by path


def _concrete_columns(model: type[models.Model]) -> tuple[str, ...]:
    return tuple(field.column for field in model._meta.concrete_fields)


def test_copy_column_lists_are_the_models_concrete_columns() -> None:
    assert _concrete_columns(OutcomeSnapshot) == storage.SNAPSHOT_COLUMNS
    assert _concrete_columns(Notice) == storage.NOTICE_COLUMNS
    # Every snapshot column but the write's (id, time) and the patient's (clinic, patient, course)
    # is computed: a field of the Outcome the batch builds, and Outcome holds nothing else.
    computed = {field.name for field in fields(storage.Outcome)} - {"trajectory", "patient"}
    assert computed == set(storage.OUTCOME_COLUMNS)
    assert set(_concrete_columns(OutcomeSnapshot)) - computed == {
        "id",
        "computed_at",
        "clinic_id",
        "patient_id",
        "course_id",
    }


def _rows(model: type[models.Model]) -> list[tuple[Any, ...]]:
    """Every stored row's columns but its id and time of writing, sorted by the first four
    (clinic, patient, then course and scale or the notice's kind and message)."""
    columns = [f.attname for f in model._meta.concrete_fields if f.attname not in WRITTEN_AT]
    assert columns[:2] == ["clinic_id", "patient_id"]
    return sorted(model.objects.values_list(*columns), key=lambda row: repr(row[:4]))


@pytest.mark.django_db
def test_nightly_writes_every_column_as_the_per_patient_path() -> None:
    population(n=10, seed=5)
    recompute_all(chunk_size=4)
    snapshots, notices = _rows(OutcomeSnapshot), _rows(Notice)
    assert len(snapshots) == 20 and notices  # some signals are worrying
    assert not OutcomeSnapshot.objects.filter(computed_at__isnull=True).exists()

    OutcomeSnapshot.objects.all().delete()
    Notice.objects.all().delete()
    for patient in Patient.objects.all():
        recompute_patient_outcomes(patient)
    assert _rows(OutcomeSnapshot) == snapshots
    assert _rows(Notice) == notices
