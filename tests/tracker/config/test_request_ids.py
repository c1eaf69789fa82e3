"""Request ids: the audit trail stores the server's id (the response's X-Request-ID); a client's
X-Request-ID is kept beside it when it is at most 64 printable ASCII characters, else dropped."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.tracker.helpers import client_for, make_clinic
from tracker.records.models import AuditEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def world() -> Any:
    return make_clinic()


def _read(world: Any, **headers: str) -> tuple[Any, AuditEvent]:
    r = client_for(world.clinician).get(f"/api/v1/patients/{world.patient.pk}/", headers=headers)
    assert r.status_code == 200
    return r, AuditEvent.objects.filter(patient_id=world.patient.pk).latest("id")


@pytest.mark.parametrize(
    "supplied",
    ["6f1e7f0c-54a5-4c1c-9a34-8d3c1d1f0a11", "app-ios/4.2 req#17", "x" * 64, "~!{}[]<>"],
)
def test_a_well_formed_client_id_is_kept_beside_the_servers(world: Any, supplied: str) -> None:
    r, event = _read(world, **{"X-Request-ID": supplied})
    assert event.client_request_id == supplied
    assert event.request_id == r["X-Request-ID"] != supplied
    uuid.UUID(event.request_id)


@pytest.mark.parametrize("supplied", ["x" * 65, "caf\u00e9", "a\tb", "new\x7fline", ""])
def test_a_malformed_client_id_is_dropped(world: Any, supplied: str) -> None:
    r, event = _read(world, **{"X-Request-ID": supplied})
    assert event.client_request_id == ""
    assert event.request_id == r["X-Request-ID"]


def test_two_requests_with_the_same_client_id_stay_two(world: Any) -> None:
    first, a = _read(world, **{"X-Request-ID": "same"})
    second, b = _read(world, **{"X-Request-ID": "same"})
    assert a.client_request_id == b.client_request_id == "same"
    assert a.request_id != b.request_id and first["X-Request-ID"] != second["X-Request-ID"]


def test_no_client_id_no_client_request_id(world: Any) -> None:
    r, event = _read(world)
    assert event.client_request_id == "" and event.request_id == r["X-Request-ID"]
