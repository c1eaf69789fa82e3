"""Dashboard session lifetimes, no-store caching of health data, and the load balancer's health checks."""

from __future__ import annotations

import time

import pytest
from django.test import Client

from tests.tracker.helpers import PASSWORD, client_for, make_clinic


@pytest.fixture
def world():
    return make_clinic()


def _logged_in(world) -> Client:
    client = Client()
    response = client.post("/login/", {"username": world.clinician.username, "password": PASSWORD})
    assert response.status_code == 302
    return client


def _age_session(client: Client, **seconds_ago: float) -> None:
    session = client.session
    for key, ago in seconds_ago.items():
        session[key] = time.time() - ago
    session.save()


@pytest.mark.django_db
def test_a_dashboard_session_ends_after_30_idle_minutes(world):
    client = _logged_in(world)
    assert client.get("/patients/").status_code == 200
    _age_session(client, seen_at=29 * 60)
    assert client.get("/patients/").status_code == 200  # 29 minutes idle: still signed in
    _age_session(client, seen_at=31 * 60)
    response = client.get("/patients/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")


@pytest.mark.django_db
def test_a_dashboard_session_ends_12_hours_after_login_however_active(world):
    client = _logged_in(world)
    _age_session(client, started_at=11.9 * 3600)
    assert client.get("/patients/").status_code == 200
    _age_session(client, started_at=12.1 * 3600)
    assert client.get("/patients/").status_code == 302


@pytest.mark.django_db
def test_the_session_cookie_ends_with_the_browser(world):
    client = _logged_in(world)
    assert client.cookies["sessionid"]["expires"] == ""
    assert client.cookies["sessionid"]["max-age"] == ""


@pytest.mark.django_db
def test_health_data_is_never_cached(world):
    api = client_for(world.clinician)
    for path in (
        "/api/v1/patients/",
        f"/api/v1/patients/{world.patient.pk}/",
        f"/api/v1/patients/{world.patient.pk}/outcomes/",
    ):
        assert "no-store" in api.get(path)["Cache-Control"], path
    page = _logged_in(world).get(f"/patients/{world.patient.pk}/")
    assert page.status_code == 200 and "no-store" in page["Cache-Control"]


@pytest.mark.django_db
def test_health_endpoints_answer_without_login():
    assert Client().get("/healthz").json() == {"status": "ok"}
    ready = Client().get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"]["database"] == "ok"


@pytest.mark.django_db
def test_readiness_fails_with_retry_after_when_the_database_is_down(monkeypatch):
    from django.db import OperationalError
    from django.db.backends.utils import CursorWrapper

    def refuse(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(CursorWrapper, "execute", refuse)
    ready = Client().get("/readyz")
    assert ready.status_code == 503
    assert ready["Retry-After"]
    assert ready.json()["checks"]["database"].startswith("unavailable")
