"""tracker.records.fastpath.insert_together stores what the ORM's save() stores, atomically."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import pytest
from django.db import IntegrityError, connection, transaction

from tests.tracker.helpers import make_clinic
from tracker.records.fastpath import insert_together
from tracker.records.models import Assessment, AuditEvent, SafetyFlag

pytestmark = pytest.mark.django_db


def _rows(model: Any, **filters: Any) -> list[dict[str, Any]]:
    return list(model.objects.filter(**filters).order_by("pk").values())


def _entry(world: Any, client_id: uuid.UUID) -> tuple[Assessment, list[SafetyFlag], AuditEvent]:
    a = Assessment(
        patient=world.patient, scale="bdi2", scale_version="1996", administered_on=date(2026, 11, 1),
        items=[1] * 21, item_count=21, item_directions={"16": "increase"}, total=21, severity="moderate",
        entered_by=world.patient_user, entered_by_role="patient", client_id=client_id, seq=1,
    )  # fmt: skip
    flags = [
        SafetyFlag(assessment=a, patient_id=world.patient.pk, scale="bdi2", item=9, value=v, level="review")
        for v in (1, 2)
    ]
    event = AuditEvent(actor=world.patient_user, actor_role="patient", clinic_id=world.clinic.pk,
                       action="assessment.create", object_type="assessment", object_id=str(a.pk),
                       patient_id=world.patient.pk, request_id="r")  # fmt: skip
    return a, flags, event


def _insert(entry: tuple[Assessment, list[SafetyFlag], AuditEvent]) -> None:
    insert_together([entry[0], *entry[1], entry[2]])


def test_same_rows_as_the_orm_and_instances_left_as_save_leaves_them() -> None:
    world = make_clinic()
    a, flags, event = _entry(world, uuid.uuid4())
    insert_together([a, *flags, event])
    assert event.pk is not None and not a._state.adding and not event._state.adding
    assert a.created_at is not None and event.at is not None
    ours = (_rows(Assessment, pk=a.pk), _rows(SafetyFlag, assessment=a), _rows(AuditEvent, pk=event.pk))

    b, b_flags, b_event = _entry(world, uuid.uuid4())
    b.save()
    for f in b_flags:
        f.save()
    b_event.save()
    theirs = (_rows(Assessment, pk=b.pk), _rows(SafetyFlag, assessment=b), _rows(AuditEvent, pk=b_event.pk))

    def same_shape(rows: list[dict[str, Any]], other: list[dict[str, Any]]) -> None:
        ignore = {"id", "client_id", "assessment_id", "created_at", "at", "object_id"}

        def key(rs: list[dict[str, Any]]) -> list[str]:
            return sorted(repr({k: v for k, v in r.items() if k not in ignore}) for r in rs)

        assert key(rows) == key(other)

    for mine, orm in zip(ours, theirs, strict=True):
        assert mine and orm
        same_shape(mine, orm)
    assert ours[0][0]["items"] == [1] * 21 and ours[0][0]["item_directions"] == {"16": "increase"}


def test_a_failure_stores_nothing_and_leaves_the_callers_transaction_usable() -> None:
    world = make_clinic()
    client_id = uuid.uuid4()
    first = _entry(world, client_id)
    _insert(first)
    counts = (Assessment.objects.count(), SafetyFlag.objects.count(), AuditEvent.objects.count())
    with transaction.atomic():
        again = _entry(world, client_id)  # the same client_id: the unique constraint refuses it
        with pytest.raises(IntegrityError):
            _insert(again)
        assert Assessment.objects.filter(client_id=client_id).count() == 1  # the transaction still works
    assert (Assessment.objects.count(), SafetyFlag.objects.count(), AuditEvent.objects.count()) == counts


def test_only_the_last_model_may_have_a_generated_key() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("other databases save the instances one by one")
    world = make_clinic()
    a, _, event = _entry(world, uuid.uuid4())
    with pytest.raises(ValueError, match="last model"):
        insert_together([event, a])


def test_a_model_declaring_on_conflict_update_is_upserted() -> None:
    from tracker.records.models import PendingRecompute

    world = make_clinic()
    first = _entry(world, uuid.uuid4())
    insert_together([first[0], PendingRecompute(patient_id=world.patient.pk), first[2]])
    queued = PendingRecompute.objects.get().queued_at
    second = _entry(world, uuid.uuid4())
    insert_together([second[0], PendingRecompute(patient_id=world.patient.pk), second[2]])
    row = PendingRecompute.objects.get()  # still one row for the patient, with the later time
    assert row.patient_id == world.patient.pk and row.queued_at >= queued
    assert Assessment.objects.count() == 2 and AuditEvent.objects.filter(action="assessment.create").count() == 2


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_a_failure_is_djangos_error_and_stores_nothing() -> None:
    """In autocommit the statement is atomic on its own: a refused entry leaves none of its rows,
    the error is django.db's (not the driver's), and execute wrappers see the statement."""
    assert not connection.in_atomic_block
    world = make_clinic()
    client_id = uuid.uuid4()
    _insert(_entry(world, client_id))
    counts = (Assessment.objects.count(), SafetyFlag.objects.count(), AuditEvent.objects.count())
    seen: list[str] = []

    def wrapper(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        seen.append(sql)
        return execute(sql, params, many, context)

    again = _entry(world, client_id)
    with connection.execute_wrapper(wrapper), pytest.raises(IntegrityError):  # django.db's
        _insert(again)
    assert seen and any("INSERT" in sql for sql in seen)
    assert (Assessment.objects.count(), SafetyFlag.objects.count(), AuditEvent.objects.count()) == counts
    assert SafetyFlag.objects.filter(assessment_id=again[0].pk).count() == 0


def test_insert_per_patient_writes_the_rows_bulk_create_writes_in_the_order_given() -> None:
    """One audit event per patient, as a list read writes them (``audit_record_many``): on
    PostgreSQL the one-statement bypass, compared with ``bulk_create`` of the same events."""
    from tracker.records.fastpath import insert_per_patient
    from tracker.records.services.audit import audit_event, audit_record_many

    world = make_clinic()
    ids = [uuid.uuid4() for _ in range(5)]
    ids[2] = world.patient.pk  # any id, in any order: the order given is the order stored

    def written(action: str) -> list[dict[str, Any]]:
        return [{k: v for k, v in r.items() if k not in ("id", "at")} for r in _rows(AuditEvent, action=action)]

    template = audit_event(actor=world.clinician, action="patient.list", object_type="patient")
    AuditEvent.objects.bulk_create(
        audit_event(actor=world.clinician, action="plain", object_type="patient", object_id=pid, patient_id=pid)
        for pid in ids
    )
    insert_per_patient(template, ids)
    audit_record_many(actor=world.clinician, action="service", object_type="patient", patient_ids=ids)
    plain = written("plain")
    assert [r["patient_id"] for r in plain] == ids and [r["object_id"] for r in plain] == [str(i) for i in ids]
    for action in ("patient.list", "service"):
        assert [{**r, "action": "plain"} for r in written(action)] == plain
    assert plain[0]["actor_id"] == world.clinician.pk and plain[0]["clinic_id"] == world.clinic.pk

    insert_per_patient(template, [])  # nothing to write: no statement fails
