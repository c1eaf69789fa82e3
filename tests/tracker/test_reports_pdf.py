"""The insurance response report, as staff download it: GET /patients/{id}/report.pdf."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

import scoring
from tests.tracker.helpers import PASSWORD, client_for, make_clinic, submit
from tests.tracker.test_reports_support import (
    add_entries,
    add_sessions,
    make_course,
    pdf_strings,
    pdftotext,
    squash,
    worked_example,
    write_uncompressed_pdfs,
)
from tracker.records.models import Role
from tracker.records.services.clinics import staff_create

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _uncompressed(monkeypatch):
    write_uncompressed_pdfs(monkeypatch)


def report_text(client, patient_id) -> str:
    r = client.get(f"/api/v1/patients/{patient_id}/report.pdf")
    assert r.status_code == 200, r.content
    assert r["Content-Type"] == "application/pdf"
    assert r.content.startswith(b"%PDF-")
    assert r.content.rstrip().endswith(b"%%EOF")
    return squash(pdf_strings(r.content))


def test_report_of_the_worked_example():
    world = make_clinic()
    world.patient.external_id = "MRN-0042"
    world.patient.date_of_birth = date(1980, 2, 29)
    world.patient.save()
    course = worked_example(world)
    day = lambda n: (course.start + timedelta(days=n)).isoformat()  # noqa: E731
    text = report_text(client_for(world.clinician), world.patient.pk)
    rules = scoring.SCALES["bdi2"]
    expected = [
        "Clinic A",
        world.patient.name,
        "1980-02-29",
        "MRN-0042",
        date.today().isoformat(),
        "IV ketamine, without psychotherapy, started " + course.start.isoformat(),
        rules.name,
        "the patient (self-report)",
        f"Baseline 48 on {day(0)} (severe)",
        "yes: 0 days before the course start",
        "none: payers set no common floor for the BDI-II",
        # 6th infusion on day 11; the latest entry by day 18 is day 14's 46.
        f"End of induction {day(11)}",
        "here it ended at the 6th session",
        f"Score at end of induction 46 on {day(14)}",
        "-2 points (-4.2 %)",
        "Category at end of induction Non-response (improvement <= 25 %)",
        f"Latest score 3 on {day(63)}",
        "-45 points (-93.8 %)",
        "Category (latest) Response (improvement >= 50 %)",
        f"First response {day(35)}",
        f"remission: onset {day(35)}, confirmed {day(56)}",
        f"Remission = score <= {rules.remission_max}",
        f"two consecutive scores >= {rules.relapse_min}",
        "Dosing history",
        "Baseline severity floors: MADRS >= 28, HAM-D >= 17, PHQ-9 >= 15; none for the BDI-II",
        "Treating clinician a-clinician",
        "Signature",
        "Progress chart",
    ]
    for phrase in expected:
        assert squash(phrase) in text, phrase
    for n in (0, 2, 4, 7, 9, 11):
        assert squash(f"{day(n)} 35.5") in text
    # The superseded first entry (50) is not the baseline, and no item is printed.
    assert "Baseline50" not in text
    assert "Item" not in text
    # The chart is embedded as an image.
    r = client_for(world.admin).get(f"/api/v1/patients/{world.patient.pk}/report.pdf")
    assert b"/Subtype /Image" in r.content
    assert r["Content-Disposition"] == f'attachment; filename="response-report-{world.patient.pk}.pdf"'


def test_report_of_an_esketamine_course_with_two_scales():
    world = make_clinic()
    doctor = staff_create(actor=world.admin, username="dr-who", password=PASSWORD, role=Role.CLINICIAN)
    doctor.first_name, doctor.last_name = "Jane", "Émile-Ødegård"
    doctor.save()
    staff = client_for(doctor)
    start = date.today() - timedelta(days=90)
    course = make_course(staff, world.patient.pk, "esketamine", start, with_therapy=True)
    add_sessions(staff, course, [0, 3, 7, 10, 14, 17, 21, 24, 28, 35, 42, 49], dose="84")
    add_entries(staff, course, "madrs", [(-3, 32), (14, 26), (28, 20), (54, 14), (70, 8)], patient=world.patient)
    add_entries(client_for(world.patient_user), course, "phq9", [(-29, 12), (30, 8), (60, 6)])
    text = report_text(staff, world.patient.pk)
    day = lambda n: (start + timedelta(days=n)).isoformat()  # noqa: E731
    expected = [
        "Esketamine nasal spray, with psychotherapy",
        scoring.SCALES["madrs"].name,
        "a clinician (clinician-rated)",
        f"Baseline 32 on {day(-3)}",
        "met: baseline 32, floor >= 28",
        # Esketamine: induction ends at day 56; the latest MADRS by day 63 is day 54's 14.
        f"End of induction {day(56)}",
        f"Score at end of induction 14 on {day(54)}",
        "-18 points (-56.2 %)",
        "Category at end of induction Response (improvement >= 50 %)",
        f"Latest score 8 on {day(70)}",
        # PHQ-9: a baseline inside the rules' 30-day window, but not the payer's 4 weeks.
        f"Baseline 12 on {day(-29)}",
        "no: 29 days before the course start (more than 28 days)",
        "NOT met: baseline 12, floor >= 15",
        f"Remission = score <= {scoring.SCALES['phq9'].remission_max}",
        "Treating clinician Jane",
        "84",
    ]
    for phrase in expected:
        assert squash(phrase) in text, phrase
    poppler = pdftotext(staff.get(f"/api/v1/patients/{world.patient.pk}/report.pdf").content)
    if poppler is not None:  # a real PDF reader sees the same, the accented name included
        assert squash("Jane Émile-Ødegård") in squash(poppler)
        assert squash("NOT met: baseline 12, floor >= 15") in squash(poppler)


def test_report_without_course_or_entries():
    world = make_clinic()
    text = report_text(client_for(world.clinician), world.patient.pk)
    assert squash("none recorded: outcomes are computed from the first assessment") in text
    assert squash("No assessments are recorded for this course.") in text
    # Entries without a course: classified from the first one, no induction or dosing.
    me = client_for(world.patient_user)
    for days_ago, total in ((30, 30), (10, 14)):
        assert submit(me, "bdi2", date.today() - timedelta(days=days_ago), total).status_code == 201
    text = report_text(client_for(world.clinician), world.patient.pk)
    assert squash(f"Baseline 30 on {(date.today() - timedelta(days=30)).isoformat()}") in text
    assert squash("-16 points (-53.3 %)") in text
    assert "Endofinduction" not in text and "Dosinghistory" not in text


def test_report_scope_and_roles():
    world = make_clinic()
    worked_example(world)
    other = make_clinic("Clinic B", prefix="b")
    url = f"/api/v1/patients/{world.patient.pk}/report.pdf"
    assert client_for(world.patient_user).get(url).status_code == 403
    assert client_for(other.clinician).get(url).status_code == 404
    assert client_for(other.admin).get(url).status_code == 404
    assert client_for(world.admin).get(url).status_code == 200
