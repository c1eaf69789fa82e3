"""A patient's access log for the clinic's admin: who saw or changed the patient's data, and when."""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Any

import pytest

from tests.tracker.helpers import client_for, make_clinic, submit
from tracker.records.models import AuditEvent

pytestmark = pytest.mark.django_db

FIELDS = ["at", "actor_username", "actor_role", "action", "object_type", "object_id", "request_id"]


@pytest.fixture
def world() -> Any:
    return make_clinic()


def _log(world: Any, **params: str) -> Any:
    return client_for(world.admin).get(f"/api/v1/patients/{world.patient.pk}/access-log/", params)


def test_the_admin_sees_who_read_and_wrote_the_patients_data(world: Any) -> None:
    phone = client_for(world.patient_user)
    created = submit(phone, "phq9", date(2026, 3, 9), 5)
    read = client_for(world.clinician).get(f"/api/v1/patients/{world.patient.pk}/outcomes/")
    client_for(world.clinician).get(f"/api/v1/patients/{world.other_patient.pk}/")  # another patient
    r = _log(world)
    assert r.status_code == 200
    body = r.json()
    assert set(body) == {"count", "next", "previous", "results"}
    rows = body["results"]
    assert all(list(row) == FIELDS for row in rows)
    assert rows == sorted(rows, key=lambda row: row["at"], reverse=True)
    assert {(row["actor_username"], row["actor_role"], row["action"]) for row in rows} >= {
        ("a-patient-1", "patient", "assessment.create"),
        ("a-clinician", "clinician", "outcome.read"),
    }
    assert read["X-Request-ID"] in {row["request_id"] for row in rows}
    assert created.json()["id"] in {row["object_id"] for row in rows}
    assert body["count"] == AuditEvent.objects.filter(patient_id=world.patient.pk).count() - 1  # the export itself
    # The export itself is audited on the patient and shows in the next one.
    [event] = AuditEvent.objects.filter(action="patient.access_log")
    assert event.patient_id == world.patient.pk and event.actor_id == world.admin.pk
    assert _log(world).json()["results"][0]["action"] == "patient.access_log"


def test_the_log_comes_in_pages(world: Any) -> None:
    for _ in range(7):
        client_for(world.clinician).get(f"/api/v1/patients/{world.patient.pk}/")
    total = AuditEvent.objects.filter(patient_id=world.patient.pk).count()
    first = _log(world, page_size="5").json()
    assert first["count"] == total and len(first["results"]) == 5 and first["next"]


def test_the_log_as_csv(world: Any) -> None:
    client_for(world.clinician).get(f"/api/v1/patients/{world.patient.pk}/")
    r = _log(world, format="csv")
    assert r.status_code == 200 and r["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(r.content.decode())))
    assert rows[0] == FIELDS
    assert ["a-clinician", "clinician", "patient.read"] in [row[1:4] for row in rows[1:]]
    assert AuditEvent.objects.filter(action="patient.access_log").count() == 1


def test_nobody_else_sees_it(world: Any) -> None:
    other = make_clinic("Clinic B", "b")
    path = f"/api/v1/patients/{world.patient.pk}/access-log/"
    assert client_for(other.admin).get(path).status_code == 404
    assert client_for(other.admin).get(path + "?format=csv").status_code == 404
    assert client_for(world.clinician).get(path).status_code == 403
    assert client_for(world.patient_user).get(path).status_code == 403
    assert client_for(None).get(path).status_code == 401
    assert not AuditEvent.objects.filter(action="patient.access_log").exists()
