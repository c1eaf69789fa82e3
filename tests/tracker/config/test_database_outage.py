"""The database is unreachable: a 503 with Retry-After (JSON under /api/), one compact log line,
rate-limited, never a traceback, SQL or parameters."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from django.db import InterfaceError, OperationalError, connection
from django.test import Client

from tests.tracker.helpers import PASSWORD, client_for, make_clinic
from tracker.config import outage

pytestmark = pytest.mark.django_db

SECRET_SQL = "SELECT secret_column FROM tracker_patient WHERE name = 'Jane Roe'"


@pytest.fixture
def world() -> Any:
    return make_clinic()


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    now = [1000.0]
    monkeypatch.setattr(outage, "outage_log", outage._RateLimitedLog(clock=lambda: now[0]))
    return now


def _database_down(monkeypatch: pytest.MonkeyPatch, error: type[Exception] = OperationalError) -> None:
    def cursor(*args: object, **kwargs: object) -> None:
        raise error(f'connection to server at "10.0.0.5" failed while running {SECRET_SQL}')

    monkeypatch.setattr(connection, "cursor", cursor)


def _outage_lines(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.levelno >= logging.ERROR]


@pytest.mark.parametrize("error", [OperationalError, InterfaceError])
def test_an_api_call_is_a_503_with_retry_after_and_a_json_body(
    world: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, clock: list[float], error: Any
) -> None:
    staff = client_for(world.clinician)
    _database_down(monkeypatch, error)
    r = staff.get("/api/v1/flags/?open=true")
    assert r.status_code == 503
    assert int(r["Retry-After"]) > 0
    assert r.json()["code"] == "service_unavailable"
    assert b"Traceback" not in r.content and b"SELECT" not in r.content and len(r.content) < 300
    [line] = _outage_lines(caplog)
    assert line.exc_info is None and error.__name__ in line.getMessage()
    assert "SELECT" not in line.getMessage() and "Jane" not in line.getMessage() and "10.0.0.5" not in line.getMessage()


def test_a_dashboard_page_is_a_503_too(
    world: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, clock: list[float]
) -> None:
    browser = Client(raise_request_exception=False)
    assert browser.login(username=world.clinician.username, password=PASSWORD)
    _database_down(monkeypatch)
    r = browser.get("/patients/")  # the session is loaded by a middleware, before any view
    assert r.status_code == 503 and int(r["Retry-After"]) > 0
    assert r["Content-Type"].startswith("text/html") and b"Traceback" not in r.content
    assert all(line.exc_info is None for line in caplog.records)
    assert len(_outage_lines(caplog)) == 1


def test_the_log_says_one_line_per_interval_with_a_count(
    world: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, clock: list[float]
) -> None:
    staff = client_for(world.clinician)
    _database_down(monkeypatch)
    for _ in range(5):
        assert staff.get("/api/v1/notices/").status_code == 503
    assert len(_outage_lines(caplog)) == 1
    clock[0] += 60
    assert staff.get("/api/v1/notices/").status_code == 503
    lines = _outage_lines(caplog)
    assert len(lines) == 2 and "4 more" in lines[1].getMessage()


def test_other_errors_are_still_a_plain_500(world: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    staff = client_for(world.clinician)
    staff.raise_request_exception = False

    def cursor(*args: object, **kwargs: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(connection, "cursor", cursor)
    r = staff.get("/api/v1/notices/")
    assert r.status_code == 500 and "Retry-After" not in r
