"""The nightly job's storage writes every column of the models, as the per-patient path does: a
field added to a model cannot be silently left out of the nightly's COPY or bulk writes."""

from __future__ import annotations

import uuid
from dataclasses import fields
from typing import Any

import pytest
from django.db import models
from hypothesis import given
from hypothesis import strategies as st

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


@given(st.lists(st.uuids(), max_size=50), st.booleans())
def test_uuid_array_is_the_ids_as_postgresql_array_text(ids: list[uuid.UUID], as_text: bool) -> None:
    text = storage.uuid_array([str(pk) if as_text else pk for pk in ids])
    assert text == "{" + ",".join(str(pk) for pk in ids) + "}"
    assert [uuid.UUID(part) for part in text[1:-1].split(",") if part] == ids


@pytest.mark.parametrize("bad", [["not-a-uuid"], [f"{uuid.uuid4()},{uuid.uuid4()}"], [f"{uuid.uuid4()}}}"], [""]])
def test_uuid_array_refuses_anything_but_uuids(bad: list[str]) -> None:
    with pytest.raises(ValueError, match="not a list of UUIDs"):
        storage.uuid_array(bad)


@pytest.mark.django_db
def test_uuid_array_is_read_as_one_uuid_array_also_in_a_generic_plan() -> None:
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's uuid[]")
    ids = [uuid.uuid4() for _ in range(3)]
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL plan_cache_mode = force_generic_plan")
        for _ in range(7):  # past psycopg's prepare threshold, the prepared statement's generic plan
            cursor.execute(
                "SELECT u FROM unnest(%s::uuid[]) AS u WHERE u = ANY(%s::uuid[])", [storage.uuid_array(ids)] * 2
            )
            assert [row[0] for row in cursor.fetchall()] == ids


@pytest.mark.django_db
def test_a_chunks_read_and_write_transactions_compile_nothing() -> None:
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's JIT")
    population(n=3)
    ids = [str(pk) for pk in Patient.objects.order_by("id").values_list("id", flat=True)]

    def jit() -> str:
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_setting('jit')")
            return str(cursor.fetchone()[0])

    # The test runs in a transaction: a chunk's transaction-local setting lasts until its end.
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL jit = on")
    chunk = storage.read_chunk(ids)
    assert jit() == "off"
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL jit = on")
    storage.lock_chunk(chunk)
    assert jit() == "off"
