"""Hostile bodies are answered 400 and store nothing, whoever sends them."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from tests.tracker.helpers import client_for, make_clinic
from tracker.records.models import Assessment


@pytest.mark.django_db
@pytest.mark.parametrize("body", ["[" * 3000, "[" * 17 + "]" * 17, '{"a":' * 40 + "1" + "}" * 40])
def test_deeply_nested_json_is_a_400_without_logging_in(body: str) -> None:
    response = APIClient().post("/api/v1/auth/token/", data=body, content_type="application/json")
    assert response.status_code == 400
    assert "nested too deeply" in response.json()["detail"]


@pytest.mark.django_db
def test_deeply_nested_items_store_nothing() -> None:
    world = make_clinic()
    body = '{"scale": "phq9", "administered_on": "2026-01-05", "items": ' + "[" * 500 + "]" * 500 + "}"
    response = client_for(world.patient_user).post("/api/v1/assessments/", data=body, content_type="application/json")
    assert response.status_code == 400
    assert not Assessment.objects.exists()


@pytest.mark.django_db
def test_nesting_within_the_limit_reaches_validation() -> None:
    response = APIClient().post("/api/v1/auth/token/", data={"username": [[["x"]]], "password": "y"}, format="json")
    assert response.status_code == 400
    assert "nested" not in str(response.json())
