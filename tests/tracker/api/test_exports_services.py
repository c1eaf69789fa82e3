"""Export jobs run by a real ``celery worker`` behind Redis (PostgreSQL): the FHIR bulk export and a
CSV job, from the kick-off to the downloaded files; and the response CSV's threshold under the
deployed web server (gunicorn with ``gunicorn.conf.py``)."""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from typing import Any

import pytest

from tests.server import gunicorn_server
from tests.tracker.helpers import client_for, make_clinic
from tests.tracker.reports.test_reports_csv_stream import add_patients
from tests.tracker.reports.test_reports_support import worked_example
from tests.worker import celery_workers, wait_until, worker_database_url
from tracker.records.services.auth import token_issue

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _shared_export_dir(settings: Any, tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The directory the web side and the worker share."""
    settings.EXPORT_DIR = tmp_path / "exports"
    monkeypatch.setenv("EXPORT_DIR", str(tmp_path / "exports"))
    from tracker.config.celery import app

    app.control.purge()


def test_a_worker_builds_the_fhir_bulk_export_and_a_csv_job() -> None:
    world = make_clinic()
    course = worked_example(world)
    admin = client_for(world.admin)
    with celery_workers(1):
        kick_off = admin.get("/api/v1/fhir/$export", HTTP_PREFER="respond-async")
        csv_job = admin.post("/api/v1/reports/response.csv")
        assert kick_off.status_code == csv_job.status_code == 202
        assert wait_until(lambda: admin.get(kick_off["Content-Location"]).status_code == 200, timeout=60)
        assert wait_until(lambda: admin.get(csv_job["Content-Location"]).status_code == 200, timeout=60)
    manifest = admin.get(kick_off["Content-Location"]).json()
    responses = next(o for o in manifest["output"] if o["type"] == "QuestionnaireResponse")
    lines = b"".join(admin.get(responses["url"]).streaming_content).decode().splitlines()
    assert [json.loads(line)["id"] for line in lines] == course.entry_ids["bdi2"]
    (file,) = admin.get(csv_job["Content-Location"]).json()["files"]
    assert b"".join(admin.get(file["url"]).streaming_content) == admin.get("/api/v1/reports/response.csv").content


@contextmanager
def gunicorn(environment: dict[str, str]) -> Iterator[str]:
    """The web server as deployed (``gunicorn.conf.py``) on a free port against the test database;
    its base URL."""
    env = {
        **os.environ,
        "DATABASE_URL": worker_database_url(),
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "DJANGO_DEBUG": "0",
        "WEB_CONCURRENCY": "2",
        "GUNICORN_LOG_LEVEL": "warning",
        **environment,
    }
    with gunicorn_server(env) as base:
        yield base


def _get(url: str, token: str) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def test_under_gunicorn_a_csv_over_the_threshold_is_a_job_and_one_under_it_streams(settings: Any) -> None:
    """The deployed web server never builds a large export in the request (its worker would hit
    gunicorn's timeout): above ``EXPORT_SYNC_MAX_ROWS`` it answers 202 and a job, which a real
    Celery worker builds and the admin downloads; below, the CSV streams with 200."""
    world = make_clinic()
    add_patients(world, 6)  # 6 courses, 9 rows (every other patient has a second scale)
    token = token_issue(user=world.admin).raw
    first_two = (date.today() - timedelta(days=61)).isoformat()  # the courses of patients 0 and 1: 3 rows
    settings.EXPORT_SYNC_MAX_ROWS = 1_000  # the same exports streamed in this process, to compare
    admin = client_for(world.admin)
    whole = admin.get("/api/v1/reports/response.csv").content
    small = admin.get(f"/api/v1/reports/response.csv?from={first_two}").content
    assert whole.count(b"\r\n") == 1 + 9 and small.count(b"\r\n") == 1 + 3
    with celery_workers(1), gunicorn({"EXPORT_SYNC_MAX_ROWS": "5"}) as base:
        status, headers, body = _get(f"{base}/api/v1/reports/response.csv?from={first_two}", token)
        assert status == 200 and headers["Content-Type"].startswith("text/csv")
        assert body == small
        status, headers, body = _get(f"{base}/api/v1/reports/response.csv", token)
        assert status == 202, body
        job_url = headers["Content-Location"]
        assert json.loads(body)["status"] == "pending"

        def ready() -> bool:
            return _get(job_url, token)[0] == 200

        assert wait_until(ready, timeout=60)
        (file,) = json.loads(_get(job_url, token)[2])["files"]
        status, headers, body = _get(file["url"], token)
    assert status == 200 and headers["Content-Type"].startswith("text/csv")
    assert body == whole
