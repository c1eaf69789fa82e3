"""Export jobs run by a real ``celery worker`` behind Redis (PostgreSQL): the FHIR bulk export and a
CSV job, from the kick-off to the downloaded files."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.tracker.helpers import client_for, make_clinic
from tests.tracker.reports.test_reports_support import worked_example
from tests.worker import celery_workers, wait_until

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
