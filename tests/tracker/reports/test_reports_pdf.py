"""The payer's response report, as staff download it: GET /patients/{id}/report.pdf, read back
line by line with a PDF reader."""

from __future__ import annotations

import re
import uuid
from datetime import date, timedelta

import pytest

import scoring
from tests.tracker.helpers import PASSWORD, client_for, items_with_total, make_clinic, submit
from tests.tracker.reports.test_reports_support import (
    Course,
    add_entries,
    add_sessions,
    make_course,
    pdf_pages,
    worked_example,
)
from tracker.records.models import AuditEvent, Role
from tracker.records.services.assessments import assessment_submit
from tracker.records.services.clinics import staff_create

pytestmark = pytest.mark.django_db

#: Words a reviewer outside the clinic should never meet: internal names, keys, file and section
#: references, the projection block's vocabulary.
FORBIDDEN = (
    "CLINICAL",
    "§",
    ".md",
    ".json",
    "key ",
    "version 1",
    "(key",
    "projection",
    "Projection",
    "percentile",
    "expected curve",
    "reference trials",
    "on_track",
    "on track",
    "off_track",
    "at_risk",
    "this project",
    "-0.0",
    "_",
    "NOT met",
)


def get_report(client, patient_id, **params) -> list[list[str]]:
    r = client.get(f"/api/v1/patients/{patient_id}/report.pdf", params)
    assert r.status_code == 200, r.content
    assert r["Content-Type"] == "application/pdf"
    return pdf_pages(r.content)


def check_every_page(pages: list[list[str]], patient) -> None:
    """The patient's name, date of birth, external id and "page N of M" head every page."""
    born = patient.date_of_birth.isoformat() if patient.date_of_birth else "not recorded"
    head = f"Patient: {patient.name} · Date of birth: {born} · External id: {patient.external_id or 'not recorded'}"
    assert len(pages) >= 2
    for number, lines in enumerate(pages, start=1):
        assert head in lines, (number, lines[-3:])
        assert f"page {number} of {len(pages)}" in lines
        assert "Treatment response report" in lines


def check_nothing_internal(pages: list[list[str]]) -> None:
    text = "\n".join(line for lines in pages for line in lines)
    for word in FORBIDDEN:
        assert word not in text, word
    # Singular and plural agree: "1 day", "1 point" (and 21 days, 11 points).
    assert not re.search(r"(?<![\d.])[-+]?1 (days|points|sessions)\b", text), text


def after(lines: list[str], label: str) -> str:
    """The cell right of a table label (a label may wrap over two lines)."""
    for i, line in enumerate(lines):
        if line == label:
            return lines[i + 1]
    raise AssertionError(f"{label!r} not in {lines}")


def entry(patient, scale: str, on: date, total: int, timing: str | None, actor, **extra) -> None:
    assessment_submit(
        actor=actor,
        patient=patient,
        scale=scale,
        administered_on=on,
        items=items_with_total(scale, total),
        client_id=uuid.uuid4(),
        timing=timing,
        **extra,
    )


def test_iv_ketamine_course_after_induction():
    world = make_clinic()
    world.patient.external_id = "MRN-0042"
    world.patient.date_of_birth = date(1980, 2, 29)
    world.patient.save()
    doctor = staff_create(actor=world.admin, username="dr-who", password=PASSWORD, role=Role.CLINICIAN)
    doctor.first_name, doctor.last_name = "Jane", "Émile-Ødegård"
    doctor.save()
    course = worked_example(world)
    day = lambda n: (course.start + timedelta(days=n)).isoformat()  # noqa: E731
    # After the remission (onset day 35, confirmed day 56): one score at the relapse level, not confirmed.
    add_entries(client_for(world.patient_user), course, "bdi2", [(70, 25), (77, 5)])
    r = client_for(world.admin).patch(
        f"/api/v1/courses/{course.id}/", {"treating_clinician": str(doctor.pk)}, format="json"
    )
    assert r.status_code == 200, r.content

    # Downloaded by the clinic's other clinician: named as who generated it, not as the treating one.
    pages = get_report(client_for(world.clinician), world.patient.pk)
    check_every_page(pages, world.patient)
    check_nothing_internal(pages)
    lines = [line for page in pages for line in page]
    assert after(lines, "Clinic") == "Clinic A"
    assert after(lines, "Treatment course") == f"IV ketamine, without psychotherapy, started {day(0)}"
    assert after(lines, "Criteria applied") == "Common payer criteria for ketamine and esketamine"
    assert after(lines, "Scale") == "Beck Depression Inventory-II (BDI-II)"
    assert after(lines, "Rated by") == "the patient (self-report)"
    # The superseded first entry (50) is not the baseline.
    assert after(lines, "Baseline") == f"48 on {day(0)} (severe)"
    assert "yes: on the day the course started" in lines
    assert "none: the applied criteria set no minimum baseline score for this scale" in lines
    # Six infusions by day 11, before day 21: induction ends at the 6th; the latest score from day 4
    # to day 18 is day 14's 46.
    assert after(lines, "End of induction") == f"{day(11)} (the 6th session)"
    assert after(lines, "Score at end of induction") == f"46 on {day(14)}"
    assert after(lines, "Change at end of induction") == "-2 points (-4.2 %)"
    assert after(lines, "Category at end of induction") == "Non-response (an improvement of 25 % or less)"
    assert after(lines, "Latest score") == f"5 on {day(77)}"
    assert after(lines, "Change since baseline") == "-43 points (-89.6 %)"
    assert after(lines, "Category (latest)") == "Response (an improvement of 50 % or more)"
    text = " ".join(lines)
    assert "reliable improvement from baseline to the latest score (Jacobson & Truax reliable change index)" in text
    assert (
        f"In remission since {day(35)} (confirmed {day(56)}); a score at the relapse level (25, 20 or more) "
        f"on {day(70)} (not confirmed)"
    ) in text
    assert "Dosing history" in lines
    assert "IV ketamine: induction ends after the 6th session or on day 21, whichever comes first." in text
    assert "Esketamine" not in text  # only the course's own treatment's rule
    # The attestation names the course's treating clinician, with blank signature and date lines;
    # who generated the report is printed apart.
    assert lines[lines.index("Attestation") :].count("Treating clinician") == 1
    assert "Jane Émile-Ødegård" in lines[lines.index("Attestation") :]
    assert "Signature" in lines and "Date" in lines
    assert f"Generated by a-clinician on {date.today().isoformat()} (UTC)." in lines  # the clinic's zone, named
    assert "a-clinician" not in " ".join(lines[: lines.index("Attestation")])
    assert "Progress chart" in lines


def test_iv_ketamine_induction_ends_on_day_21_without_six_sessions():
    world = make_clinic()
    staff = client_for(world.clinician)
    start = date.today() - timedelta(days=60)
    course = make_course(staff, world.patient.pk, "iv_ketamine", start)
    add_sessions(staff, course, [0, 7, 14, 20, 28, 35])  # the 6th after day 21
    add_entries(staff, course, "madrs", [(0, 30), (21, 30), (22, 29)], patient=world.patient)
    lines = [line for page in get_report(staff, world.patient.pk) for line in page]
    day = lambda n: (start + timedelta(days=n)).isoformat()  # noqa: E731
    assert after(lines, "End of induction") == f"{day(21)} (day 21 of the course, with 4 sessions given by then)"
    assert after(lines, "Score at end of induction") == f"29 on {day(22)}"
    assert after(lines, "Change at end of induction") == "-1 point (-3.3 %)"
    assert after(lines, "Baseline severity floor") == "met: baseline 30, at least 28 required"


def esketamine_course(world, start: date) -> Course:
    staff = client_for(world.clinician)
    course = make_course(staff, world.patient.pk, "esketamine", start, with_therapy=True)
    add_sessions(
        staff, course, [d for d in (0, 3, 7, 10, 14, 17, 21, 24, 28, 35) if start + timedelta(d) <= date.today()]
    )
    return course


def test_esketamine_course_before_day_28_says_induction_is_not_complete():
    world = make_clinic()
    start = date.today() - timedelta(days=20)
    esketamine_course(world, start)
    entry(world.patient, "madrs", start - timedelta(days=1), 33, "pre_dose", world.clinician)
    # A 24-hour score after the first dose: shown nowhere as an end-of-induction score.
    entry(world.patient, "madrs", start + timedelta(days=1), 16, "post_dose", world.clinician)
    entry(world.patient, "madrs", start + timedelta(days=14), 30, "pre_dose", world.clinician)
    pages = get_report(client_for(world.clinician), world.patient.pk)
    check_every_page(pages, world.patient)
    check_nothing_internal(pages)
    lines = [line for page in pages for line in page]
    ends = (start + timedelta(days=28)).isoformat()
    assert after(lines, "End of induction") == f"induction not complete (ends {ends})"
    assert after(lines, "Score at end of induction") == f"not yet: induction not complete (ends {ends})"
    assert "Category at end of induction" not in lines and "Change at end of induction" not in lines
    assert "Baseline within 28 days" in lines
    assert "yes: 1 day before the course start (at most 28 days allowed)" in lines
    # The latest score is the pre-dose one: the post-dose 16 of day 1 counts nowhere.
    assert after(lines, "Latest score") == f"30 on {(start + timedelta(days=14)).isoformat()}"
    assert after(lines, "Category (latest)") == "Non-response (an improvement of 25 % or less)"
    assert "Response (an improvement of 50 % or more)" not in lines
    assert after(lines, "Treating clinician") == "not recorded for this course"


def test_esketamine_course_after_day_28_reads_the_pre_dose_score_of_the_window():
    world = make_clinic()
    world.patient.date_of_birth = date(1971, 6, 1)
    world.patient.save()
    start = date.today() - timedelta(days=40)
    esketamine_course(world, start)
    day = lambda n: (start + timedelta(days=n)).isoformat()  # noqa: E731
    d = lambda n: start + timedelta(days=n)  # noqa: E731
    entry(world.patient, "madrs", d(-3), 32, "pre_dose", world.clinician)
    entry(world.patient, "madrs", d(1), 16, "post_dose", world.clinician)
    entry(world.patient, "madrs", d(24), 22, "pre_dose", world.clinician)
    entry(world.patient, "madrs", d(28), 24, "pre_dose", world.clinician)
    # After the day-28 dose, and again a week later: post-dose, never the end-of-induction score.
    entry(world.patient, "madrs", d(28), 9, "post_dose", world.clinician)
    entry(world.patient, "madrs", d(35), 8, "post_dose", world.clinician)
    # Outside the window (day 21 to day 35).
    entry(world.patient, "madrs", d(36), 12, "pre_dose", world.clinician)
    # The PHQ-9: self-report without timing (read as pre-dose), no change at all.
    me = client_for(world.patient_user)
    for n, total in ((-2, 16), (30, 16)):
        assert submit(me, "phq9", d(n), total).status_code == 201

    pages = get_report(client_for(world.admin), world.patient.pk)
    check_every_page(pages, world.patient)
    check_nothing_internal(pages)
    lines = [line for page in pages for line in page]
    madrs = lines[lines.index(scoring.SCALES["madrs"].name) :]
    assert after(madrs, "Rated by") == "a clinician (clinician-rated)"
    assert after(madrs, "Baseline") == f"32 on {day(-3)} (moderate)"
    assert "yes: 3 days before the course start (at most 28 days allowed)" in madrs
    assert after(madrs, "Baseline severity floor") == "met: baseline 32, at least 28 required"
    assert after(madrs, "End of induction") == f"{day(28)} (day 28 of the course)"
    assert after(madrs, "Score at end of induction") == f"24 on {day(28)}"
    assert after(madrs, "Change at end of induction") == "-8 points (-25.0 %)"
    assert after(madrs, "Category at end of induction") == "Non-response (an improvement of 25 % or less)"
    assert after(madrs, "Latest score") == f"12 on {day(36)}"
    assert after(madrs, "Change since baseline") == "-20 points (-62.5 %)"

    phq9 = lines[lines.index("Patient Health Questionnaire-9 (PHQ-9)") :]
    assert after(phq9, "Baseline") == f"16 on {day(-2)} (moderately severe)"
    assert "yes: 2 days before the course start (at most 28 days allowed)" in phq9
    assert after(phq9, "Baseline severity floor") == "met: baseline 16, at least 15 required"
    assert after(phq9, "Score at end of induction") == f"16 on {day(30)}"
    assert after(phq9, "Change at end of induction") == "0 points (0.0 %)"
    text = " ".join(phq9)
    assert (
        "no reliable change from baseline to the latest score (a fixed 6-point change (NHS Talking Therapies))" in text
    )
    assert "Jacobson" not in text.split("Dosing history")[0]
    assert "Esketamine nasal spray: induction ends on day 28 of the course." in text
    assert after(lines, "Treatment course") == f"Esketamine nasal spray, with psychotherapy, started {day(0)}"


def test_one_read_of_the_course_and_a_chart_without_projection():
    world = make_clinic()
    worked_example(world)
    client = client_for(world.clinician)
    r = client.get(f"/api/v1/patients/{world.patient.pk}/report.pdf")
    assert b"/Subtype /Image" in r.content
    assert r["Content-Disposition"] == f'attachment; filename="response-report-{world.patient.pk}.pdf"'
    # The course, its sessions and entries are read once: a second read would add their queries.
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        client.get(f"/api/v1/patients/{world.patient.pk}/report.pdf")
    courses = [q for q in queries.captured_queries if 'FROM "tracker_treatmentcourse"' in q["sql"]]
    sessions = [q for q in queries.captured_queries if 'FROM "tracker_treatmentsession"' in q["sql"]]
    assert len(sessions) == 1, [q["sql"] for q in sessions]
    assert len(courses) <= 2, [q["sql"] for q in courses]  # scope check of the request, then the course
    assert AuditEvent.objects.filter(action="report.pdf", patient_id=world.patient.pk).count() == 2


def test_report_without_course_or_entries():
    world = make_clinic()
    lines = [line for page in get_report(client_for(world.clinician), world.patient.pk) for line in page]
    assert "none recorded: outcomes are computed from the first assessment" in lines
    assert "No assessments are recorded for this course." in lines
    me = client_for(world.patient_user)
    for days_ago, total in ((30, 30), (10, 14)):
        assert submit(me, "bdi2", date.today() - timedelta(days=days_ago), total).status_code == 201
    pages = get_report(client_for(world.clinician), world.patient.pk)
    check_every_page(pages, world.patient)
    check_nothing_internal(pages)
    lines = [line for page in pages for line in page]
    assert after(lines, "Baseline") == f"30 on {(date.today() - timedelta(days=30)).isoformat()} (severe)"
    assert after(lines, "Change since baseline") == "-16 points (-53.3 %)"
    assert "End of induction" not in lines and "Dosing history" not in lines


def test_report_scope_and_roles():
    world = make_clinic()
    worked_example(world)
    other = make_clinic("Clinic B", prefix="b")
    url = f"/api/v1/patients/{world.patient.pk}/report.pdf"
    assert client_for(world.patient_user).get(url).status_code == 403
    assert client_for(other.clinician).get(url).status_code == 404
    assert client_for(other.admin).get(url).status_code == 404
    assert client_for(world.admin).get(url).status_code == 200
