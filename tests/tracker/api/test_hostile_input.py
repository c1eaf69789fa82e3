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
    assert response.json()["code"] == "json_too_deep" and "nested too deeply" in response.json()["detail"]


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
    assert response.json()["code"] != "json_too_deep" and "nested" not in str(response.json())


@pytest.mark.django_db
@pytest.mark.parametrize("key", ["¹⁶", "\u00b9\u2078", "16.0", "+16", " 16"])
def test_item_direction_keys_that_are_not_plain_digits_are_a_400(key: str) -> None:
    from datetime import date

    from tests.tracker.helpers import items_with_total

    world = make_clinic()
    body = {
        "scale": "bdi2",
        "administered_on": date.today().isoformat(),
        "items": items_with_total("bdi2", 30),
        "item_directions": {key: "increase"},
        "client_id": "6f1f3c4e-0000-4000-8000-000000000001",
    }
    response = client_for(world.patient_user).post("/api/v1/assessments/", body, format="json")
    assert response.status_code == 400
    assert not Assessment.objects.exists()
