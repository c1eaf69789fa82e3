"""Reads never write domain state: a GET whose snapshots are stale answers from the entries and
leaves the storing to the workers; the only rows a read writes are its audit events."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from projections.models import OutcomeSnapshot
from projections.tasks import recompute_patient
from tests.tracker.helpers import client_for, make_clinic, submit
from tracker.records import outbox
from tracker.records.models import AuditEvent, Notice
from tracker.records.services.patients import course_create, session_create

pytestmark = pytest.mark.django_db
TODAY = date.today()


def _world() -> Any:
    """A patient six weeks into IV ketamine, BDI-II flat (off track) and a PHQ-9: the snapshots
    were stored once, then one more entry made them stale."""
    world = make_clinic()
    start = TODAY - timedelta(days=42)
    course = course_create(
        actor=world.clinician, patient=world.patient, modality="iv_ketamine", with_therapy=False, start_date=start
    )
    session_create(actor=world.clinician, course=course, date=start, dose_mg=None)
    staff = client_for(world.clinician)
    for week, total in enumerate([40, 40, 39, 41, 40, 40]):
        submit(staff, "bdi2", start + timedelta(days=7 * week), total, patient=world.patient)
    submit(staff, "phq9", start, 20, patient=world.patient)
    recompute_patient(str(world.patient.pk))
    submit(staff, "bdi2", TODAY, 39, patient=world.patient)  # its recomputation never runs here
    return world


def _written_tables(queries: list[dict[str, str]]) -> set[str]:
    tables = set()
    for query in queries:
        sql = query["sql"]
        if re.match(r"^\s*(INSERT|UPDATE|DELETE)\b", sql, re.IGNORECASE):
            found = re.search(r'\b(?:INTO|UPDATE|FROM)\s+"?(\w+)"?', sql, re.IGNORECASE)
            tables.add(found.group(1) if found else sql[:40])
    return tables


def _reads(world: Any) -> dict[str, tuple[Client, str]]:
    pid = world.patient.pk
    web = Client()
    web.force_login(world.clinician)
    return {
        "outcomes": (client_for(world.patient_user), f"/api/v1/patients/{pid}/outcomes/"),
        "progress": (client_for(world.patient_user), "/api/v1/me/progress/"),
        "chart.png": (client_for(world.clinician), f"/api/v1/patients/{pid}/chart.png"),
        "chart.svg": (client_for(world.clinician), f"/api/v1/patients/{pid}/chart.svg?scale=bdi2"),
        "report.pdf": (client_for(world.clinician), f"/api/v1/patients/{pid}/report.pdf"),
        "response.csv": (client_for(world.admin), "/api/v1/reports/response.csv"),
        "dashboard page": (web, f"/patients/{pid}/"),
        "dashboard chart": (web, f"/patients/{pid}/chart.svg"),
        "dashboard pdf": (web, f"/patients/{pid}/report.pdf"),
    }


@pytest.mark.parametrize(
    "read",
    [
        "outcomes",
        "progress",
        "chart.png",
        "chart.svg",
        "report.pdf",
        "response.csv",
        "dashboard page",
        "dashboard chart",
        "dashboard pdf",
    ],
)
def test_a_stale_read_answers_from_the_entries_and_writes_only_its_audit(
    read: str, django_capture_on_commit_callbacks: Any
) -> None:
    world = _world()
    stored = {s.pk: (s.fingerprint, s.data) for s in OutcomeSnapshot.objects.all()}
    notices = Notice.objects.count()
    client, url = _reads(world)[read]
    with CaptureQueriesContext(connection) as queries, django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.get(url)
    assert response.status_code == 200
    assert _written_tables(queries.captured_queries) <= {AuditEvent._meta.db_table}
    assert not callbacks
    assert {s.pk: (s.fingerprint, s.data) for s in OutcomeSnapshot.objects.all()} == stored
    assert Notice.objects.count() == notices


def test_the_answer_counts_the_entry_the_stored_snapshot_does_not() -> None:
    world = _world()
    stored = OutcomeSnapshot.objects.get(patient=world.patient, scale="bdi2")
    assert stored.latest_date != TODAY
    outcome = client_for(world.clinician).get(f"/api/v1/patients/{world.patient.pk}/outcomes/").json()["bdi2"]
    assert outcome["latest"] == {**outcome["latest"], "date": TODAY.isoformat(), "total": 39}


def test_with_a_broker_a_stale_read_hands_the_patient_to_the_workers(monkeypatch: pytest.MonkeyPatch) -> None:
    world = _world()
    monkeypatch.setattr(outbox, "enabled", lambda: True)
    assert outbox.waiting() == set()
    client_for(world.clinician).get(f"/api/v1/patients/{world.patient.pk}/outcomes/")
    assert outbox.waiting() == {str(world.patient.pk)}
    outbox.drain(recompute_patient)
    assert OutcomeSnapshot.objects.get(patient=world.patient, scale="bdi2").latest_date == TODAY
    # Up to date now: the next read queues nothing.
    client_for(world.clinician).get(f"/api/v1/patients/{world.patient.pk}/outcomes/")
    assert outbox.waiting() == set()


def test_the_payer_pdf_reads_the_course_and_its_entries_once() -> None:
    world = _world()
    client = client_for(world.clinician)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(f"/api/v1/patients/{world.patient.pk}/report.pdf").status_code == 200
    reads = [q["sql"] for q in queries.captured_queries if q["sql"].lstrip().upper().startswith("SELECT")]

    def reads_of(model: Any) -> int:
        return sum(1 for sql in reads if re.search(rf'\bFROM\s+"?{model._meta.db_table}"?\s', sql))

    from tracker.records.models import Assessment, TreatmentCourse, TreatmentSession

    assert reads_of(TreatmentCourse) == 1
    assert reads_of(Assessment) == 1
    assert reads_of(TreatmentSession) == 1
    assert reads_of(OutcomeSnapshot) == 1
