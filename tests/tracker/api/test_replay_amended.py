"""A phone replays a client_id whose entry was amended since: it is answered with the entry's current
version and ``original_id``, the entry it first stored. An unamended replay is answered as before."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import pytest

from tests.tracker.helpers import client_for, items_with_total, make_clinic
from tracker.records.models import Assessment, AuditEvent

pytestmark = pytest.mark.django_db
TODAY = date.today()


@pytest.fixture
def world() -> Any:
    return make_clinic()


def payload(total: int = 20, suicide: int = 0) -> dict[str, Any]:
    return {
        "scale": "bdi2",
        "administered_on": TODAY.isoformat(),
        "items": items_with_total("bdi2", total, suicide),
        "client_id": str(uuid.uuid4()),
    }


def amend(world: Any, entry_id: str, total: int, suicide: int = 0) -> Any:
    r = client_for(world.clinician).post(
        f"/api/v1/assessments/{entry_id}/amend/",
        {"items": items_with_total("bdi2", total, suicide), "reason": "Read back to the patient"},
        format="json",
    )
    assert r.status_code == 201
    return r.json()


def test_the_replay_of_an_amended_entry_answers_its_current_version(world: Any) -> None:
    phone = client_for(world.patient_user)
    body = payload(20, suicide=2)
    first = phone.post("/api/v1/assessments/", body, format="json").json()
    assert first["crisis_resources"] is not None
    amended = amend(world, first["id"], 15)
    replay = phone.post("/api/v1/assessments/", body, format="json")
    assert replay.status_code == 200
    answer = replay.json()
    assert answer["id"] == amended["id"] and answer["original_id"] == first["id"]
    assert answer["supersedes"] == first["id"] and answer["total"] == 15 and not answer["is_superseded"]
    # The current version's flags decide the crisis resources (the amendment has none).
    assert answer["flags"] == [] and answer["crisis_resources"] is None
    assert Assessment.objects.count() == 2
    event = AuditEvent.objects.get(action="assessment.replay")
    assert (event.object_id, event.patient_id) == (amended["id"], world.patient.pk)


def test_a_chain_of_amendments_answers_the_latest(world: Any) -> None:
    phone = client_for(world.patient_user)
    body = payload(20)
    first = phone.post("/api/v1/assessments/", body, format="json").json()
    second = amend(world, first["id"], 18)
    third = amend(world, second["id"], 16, suicide=1)
    answer = phone.post("/api/v1/assessments/", body, format="json").json()
    assert answer["id"] == third["id"] and answer["original_id"] == first["id"] and answer["total"] == 16
    assert [f["item"] for f in answer["flags"]] == [9] and answer["crisis_resources"] is not None


def test_an_unamended_replay_has_no_pointer_and_the_same_body(world: Any) -> None:
    phone = client_for(world.patient_user)
    body = payload(20)
    first = phone.post("/api/v1/assessments/", body, format="json")
    again = phone.post("/api/v1/assessments/", body, format="json")
    assert again.status_code == 200 and again.content == first.content
    assert "original_id" not in again.json()
