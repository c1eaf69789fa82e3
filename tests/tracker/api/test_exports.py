"""Exports a worker builds: the response CSV as a job, and the FHIR Bulk Data $export of a clinic."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from tests.tracker.helpers import client_for, error_fields, make_clinic
from tests.tracker.reports.test_reports_support import worked_example
from tracker.records.models import AuditEvent, ExportJob
from tracker.reports.tasks import exports_purge_task

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _export_dir(settings, tmp_path):
    settings.EXPORT_DIR = tmp_path / "exports"


def run_jobs(capture, call):
    """``call()``, with the export tasks it schedules at commit run (eagerly, as a worker would)."""
    with capture(execute=True):
        return call()


def test_a_large_csv_is_built_by_a_worker_and_downloaded(settings, django_capture_on_commit_callbacks):
    world = make_clinic()
    worked_example(world)
    admin = client_for(world.admin)
    streamed = admin.get("/api/v1/reports/response.csv").content
    settings.EXPORT_SYNC_MAX_ROWS = 0  # any export is now "too large" for a request
    started = run_jobs(django_capture_on_commit_callbacks, lambda: admin.get("/api/v1/reports/response.csv"))
    assert started.status_code == 202
    job_url = started["Content-Location"]
    assert started["Location"] == job_url and started.json()["status"] == "pending"
    done = admin.get(job_url)
    assert done.status_code == 200
    (file,) = done.json()["files"]
    download = admin.get(file["url"])
    assert download.status_code == 200 and download["Content-Type"].startswith("text/csv")
    assert b"".join(download.streaming_content) == streamed
    actions = list(AuditEvent.objects.values_list("action", flat=True))
    assert {"export.start", "export.download"} <= set(actions)
    assert actions.count("report.csv") == 2  # the streamed read and the worker's, once per patient each


def test_async_on_request_and_by_post(django_capture_on_commit_callbacks):
    world = make_clinic()
    worked_example(world)
    admin = client_for(world.admin)
    pending = admin.get("/api/v1/reports/response.csv?async=1")  # no worker ran it: still pending
    assert pending.status_code == 202
    poll = admin.get(pending["Content-Location"])
    assert poll.status_code == 202 and poll.json()["status"] == "pending" and poll["Retry-After"]
    posted = run_jobs(
        django_capture_on_commit_callbacks, lambda: admin.post("/api/v1/reports/response.csv?to=2000-01-01")
    )
    assert posted.status_code == 202
    (file,) = admin.get(posted["Content-Location"]).json()["files"]
    assert b"".join(admin.get(file["url"]).streaming_content).count(b"\r\n") == 1  # header only
    assert admin.post("/api/v1/reports/response.csv?from=2026-13-01").status_code == 400


def test_jobs_are_the_clinics_admins_and_expire(django_capture_on_commit_callbacks):
    world = make_clinic()
    worked_example(world)
    other = make_clinic("Clinic B", prefix="b")
    started = run_jobs(
        django_capture_on_commit_callbacks, lambda: client_for(world.admin).post("/api/v1/reports/response.csv")
    )
    url = started["Content-Location"]
    file_url = client_for(world.admin).get(url).json()["files"][0]["url"]
    assert client_for(other.admin).get(url).status_code == 404
    assert client_for(other.admin).get(file_url).status_code == 404
    assert client_for(world.clinician).get(url).status_code == 403
    assert client_for(world.admin).get(url.rstrip("/") + "x/").status_code == 404
    assert AuditEvent.objects.filter(action="access.refused", actor=other.admin).exists()
    assert not AuditEvent.objects.filter(action="export.download").exists()
    ExportJob.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert client_for(world.admin).get(url).status_code == 404
    assert exports_purge_task() == 1
    assert not ExportJob.objects.exists()


def ndjson(client, url: str) -> list[dict]:
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/fhir+ndjson"
    text = b"".join(response.streaming_content).decode()
    assert text.endswith("\n")
    return [json.loads(line) for line in text.splitlines()]


def test_fhir_bulk_export_of_a_clinic(django_capture_on_commit_callbacks):
    world = make_clinic()
    course = worked_example(world)
    other = make_clinic("Clinic B", prefix="b")
    worked_example(other)  # never in clinic A's export
    admin = client_for(world.admin)
    assert error_fields(admin.get("/api/v1/fhir/$export")) == {"Prefer"}
    assert error_fields(admin.get("/api/v1/fhir/$export?_since=2026-01-01", HTTP_PREFER="respond-async")) == {"_since"}
    assert error_fields(admin.get("/api/v1/fhir/$export?_type=Encounter", HTTP_PREFER="respond-async")) == {"_type"}
    assert client_for(world.clinician).get("/api/v1/fhir/$export", HTTP_PREFER="respond-async").status_code == 403
    assert not ExportJob.objects.exists()

    kick_off = run_jobs(
        django_capture_on_commit_callbacks, lambda: admin.get("/api/v1/fhir/$export", HTTP_PREFER="respond-async")
    )
    assert kick_off.status_code == 202
    status = admin.get(kick_off["Content-Location"])
    assert status.status_code == 200
    manifest = status.json()
    assert manifest["requiresAccessToken"] is True and manifest["error"] == []
    assert manifest["request"].endswith("/api/v1/fhir/$export")
    assert manifest["transactionTime"]
    assert [o["type"] for o in manifest["output"]] == ["Patient", "QuestionnaireResponse", "Observation"]
    patients, responses, observations = (ndjson(admin, o["url"]) for o in manifest["output"])
    assert {p["id"] for p in patients} == {str(world.patient.pk), str(world.other_patient.pk)}
    assert all(p["resourceType"] == "Patient" for p in patients)
    entries = course.entry_ids["bdi2"]
    assert [r["id"] for r in responses] == entries  # superseded versions left out, in date order
    assert course.entry_ids["superseded"][0] not in {r["id"] for r in responses}
    assert {r["subject"]["reference"] for r in responses} == {f"Patient/{world.patient.pk}"}
    assert [o["derivedFrom"][0]["reference"] for o in observations] == [f"QuestionnaireResponse/{e}" for e in entries]
    assert [o["count"] for o in manifest["output"]] == [2, len(entries), len(entries)]
    # Each patient's export audited once, as the admin who asked; another clinic's admin gets a 404.
    audited = list(AuditEvent.objects.filter(action="fhir.bulk").values_list("patient_id", "actor"))
    assert sorted(audited) == sorted({(world.patient.pk, world.admin.pk), (world.other_patient.pk, world.admin.pk)})
    assert client_for(other.admin).get(kick_off["Content-Location"]).status_code == 404
    assert client_for(other.admin).get(manifest["output"][0]["url"]).status_code == 404


def test_fhir_bulk_export_of_some_types(django_capture_on_commit_callbacks):
    world = make_clinic()
    worked_example(world)
    admin = client_for(world.admin)
    kick_off = run_jobs(
        django_capture_on_commit_callbacks,
        lambda: admin.get("/api/v1/fhir/$export?_type=Observation,Patient", HTTP_PREFER="respond-async"),
    )
    assert [o["type"] for o in admin.get(kick_off["Content-Location"]).json()["output"]] == ["Patient", "Observation"]
