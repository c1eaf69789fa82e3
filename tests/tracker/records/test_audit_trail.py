"""The audit trail: who did what, kept as it was written."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction

from tests.tracker.helpers import client_for, make_clinic
from tracker.records.models import AuditEvent

pytestmark = pytest.mark.django_db


def test_each_event_keeps_the_actors_username_as_it_was():
    world = make_clinic()
    client_for(world.clinician).get(f"/api/v1/patients/{world.patient.pk}/")
    event = AuditEvent.objects.filter(actor=world.clinician).latest("id")
    world.clinician.username = "renamed-clinician"
    world.clinician.save()
    event.refresh_from_db()
    assert event.actor_username == "a-clinician"
    assert event.actor_id == world.clinician.pk


@pytest.mark.services
@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE tracker_auditevent SET action = 'forged'",
        "DELETE FROM tracker_auditevent",
        "UPDATE tracker_auditevent SET actor_id = NULL",
    ],
)
def test_postgresql_refuses_to_change_or_remove_an_audit_row(statement):
    if connection.vendor != "postgresql":
        pytest.skip("the trigger is PostgreSQL's")
    make_clinic()
    before = list(AuditEvent.objects.order_by("id").values_list("id", "action", "actor_id"))
    assert before
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement)
    assert list(AuditEvent.objects.order_by("id").values_list("id", "action", "actor_id")) == before


@pytest.mark.services
def test_bulk_orm_updates_are_refused_too():
    if connection.vendor != "postgresql":
        pytest.skip("the trigger is PostgreSQL's")
    make_clinic()
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.update(object_type="forged")
    assert not AuditEvent.objects.filter(object_type="forged").exists()


def test_a_refused_access_to_another_clinics_patient_is_audited():
    world = make_clinic()
    other = make_clinic("Clinic B", prefix="b")
    response = client_for(other.clinician).get(f"/api/v1/patients/{world.patient.pk}/outcomes/")
    assert response.status_code == 404
    refused = AuditEvent.objects.get(action="access.refused")
    assert refused.actor == other.clinician and refused.actor_username == "b-clinician"
    assert refused.object_type == "patient" and refused.object_id == str(world.patient.pk)
    assert refused.patient_id is None  # filed under the id asked for, not under a patient it would confirm
