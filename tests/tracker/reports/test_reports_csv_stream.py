"""The response CSV is streamed: a fixed number of queries whatever the clinic's size, and the same
bytes as the whole-file export it replaced."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from projections.models import OutcomeSnapshot
from projections.outcomes import recompute_patient_outcomes
from tests.tracker.helpers import client_for, items_with_total, make_clinic
from tests.tracker.reports.test_reports_support import worked_example
from tracker.records.models import AuditEvent, Patient, TreatmentSession
from tracker.records.services.assessments import assessment_submit
from tracker.records.services.patients import course_create, patient_create, session_create
from tracker.reports import csv_export
from tracker.reports.read_model import outcomes_of_courses

pytestmark = pytest.mark.django_db


def add_patients(world, n: int, *, first: int = 0) -> None:
    """``n`` patients with a course, sessions and entries on two scales (through the services)."""
    for i in range(first, first + n):
        patient = patient_create(actor=world.clinician, name=f"p{i}", external_id=f"X-{i}").patient
        start = date.today() - timedelta(days=60 + i % 7)
        course = course_create(
            actor=world.clinician, patient=patient, modality="iv_ketamine", with_therapy=i % 2 == 0, start_date=start
        )
        if i % 3:
            session_create(actor=world.clinician, course=course, date=start, dose_mg=None, notes="")
        for week, total in enumerate((30 - i % 5, 24, 18 - i % 4, 10)):
            for scale in ("bdi2", "madrs")[: 1 + i % 2]:
                assessment_submit(
                    actor=world.clinician,
                    patient=patient,
                    scale=scale,
                    administered_on=start + timedelta(days=7 * week),
                    items=items_with_total(scale, total),
                    client_id=uuid.uuid4(),
                )


def whole_file(admin) -> bytes:
    """The export as it was built before streaming: every course in memory at once, then one text."""
    courses = list(csv_export.response_courses(actor=admin, date_from=None, date_to=None))
    outcomes = outcomes_of_courses(courses)
    sessions = {c.pk: TreatmentSession.objects.filter(course=c).count() for c in courses}
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=csv_export.COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    for course in courses:
        common = {
            "patient_id": course.patient_id,
            "external_id": course.patient.external_id,
            "course_id": course.pk,
            "modality": course.modality,
            "with_therapy": "true" if course.with_therapy else "false",
            "course_start": course.start_date.isoformat(),
            "sessions": sessions[course.pk],
        }
        for row in [common | csv_export._scale_columns(s) for s in outcomes.get(course.pk, ())] or [common]:
            writer.writerow({name: csv_export.safe_cell(row.get(name)) for name in csv_export.COLUMNS})
    return buffer.getvalue().encode()


def export_queries(admin) -> tuple[int, bytes]:
    client = client_for(admin)
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/api/v1/reports/response.csv")
        assert response.status_code == 200
        assert response.streaming
        body = b"".join(response.streaming_content)
    return len(queries), body


def test_query_count_does_not_grow_with_the_clinic():
    world = make_clinic()
    add_patients(world, 5)
    small, body = export_queries(world.admin)
    assert body.count(b"\r\n") == 1 + 5 + 5 // 2  # header, a row per course and scale
    add_patients(world, 45, first=5)
    large, body = export_queries(world.admin)
    assert body.count(b"\r\n") == 1 + 50 + 50 // 2
    assert large == small


def test_streamed_bytes_equal_the_whole_file_export(monkeypatch):
    world = make_clinic()
    worked_example(world)
    add_patients(world, 12)
    # An empty course: one row with the scale empty.
    course_create(
        actor=world.clinician,
        patient=world.other_patient,
        modality="esketamine",
        with_therapy=True,
        start_date=date.today() - timedelta(days=3),
    )
    for patient in Patient.objects.select_related("clinic"):  # as the workers store them (a broker has none here)
        recompute_patient_outcomes(patient)
    expected = whole_file(world.admin)
    with CaptureQueriesContext(connection) as queries:
        assert client_for(world.admin).get("/api/v1/reports/response.csv").content == expected
    if connection.vendor == "postgresql":  # fresh snapshots are checked by the server, entries never loaded
        assert not [q for q in queries.captured_queries if 'FROM "tracker_assessment"' in q["sql"]]
    # A snapshot out of date (here: tampered with) is never served: the outcome is computed.
    tampered = OutcomeSnapshot.objects.filter(patient=world.patient).first()
    assert tampered is not None
    OutcomeSnapshot.objects.filter(pk=tampered.pk).update(fingerprint="0" * 64, data={**tampered.data, "state": "x"})
    assert client_for(world.admin).get("/api/v1/reports/response.csv").content == expected
    # In batches smaller than the clinic, with a patient's courses split across batches.
    monkeypatch.setattr(csv_export, "STREAM_CHUNK", 4)
    before = AuditEvent.objects.filter(action="report.csv").count()
    assert client_for(world.admin).get("/api/v1/reports/response.csv").content == expected
    audited = list(AuditEvent.objects.filter(action="report.csv").values_list("patient_id", flat=True))[before:]
    assert len(audited) == len(set(audited)) == 14  # each patient once per export
