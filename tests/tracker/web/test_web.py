"""The clinician dashboard as staff use it in a browser (Django's test client, session login)."""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.test import Client

from projections.models import OutcomeSnapshot
from projections.outcomes import recompute_patient_outcomes
from tests.tracker.helpers import PASSWORD, ClinicWorld, client_for, make_clinic, submit, web_client
from tracker.records.models import AuditEvent, Patient, SafetyFlag
from tracker.records.services.patients import course_create, patient_create, session_create

pytestmark = pytest.mark.django_db

# Headings of copyrighted questionnaires' items: the dashboard shows none (numbers and neutral labels only).
COPYRIGHTED_WORDING = ["Suicidal Thoughts or Wishes", "Sadness", "Pessimism", "Suicidal thoughts", "Apparent sadness"]


def audits(action: str, **filters: object) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action, **filters))


@pytest.fixture
def world() -> ClinicWorld:
    """Clinic A: patient 1 in a course, improving on the BDI-II, with an urgent item-9 answer;
    patient 2 without entries."""
    return _world()


def _world() -> ClinicWorld:
    world = make_clinic()
    start = date.today() - timedelta(days=28)
    course = course_create(
        actor=world.clinician, patient=world.patient, modality="iv_ketamine", with_therapy=False, start_date=start
    )
    session_create(actor=world.clinician, course=course, date=start, dose_mg=Decimal("35.5"))
    api = client_for(world.clinician)
    for week, total in enumerate([32, 26, 20, 14]):
        assert submit(api, "bdi2", start + timedelta(days=7 * week), total, patient=world.patient).status_code == 201
    assert submit(api, "bdi2", date.today(), 10, patient=world.patient, suicide=2).status_code == 201
    assert submit(api, "phq9", date.today(), 6, patient=world.patient).status_code == 201
    world.patient.external_id = "MRN-0042"
    world.patient.save()
    # What the task each entry schedules stores (run here: Celery may not be eager, and a test's
    # transaction never commits).
    recompute_patient_outcomes(world.patient)
    return world


@pytest.fixture
def other() -> ClinicWorld:
    return make_clinic("Clinic B", prefix="b")


def rows(html: str) -> list[str]:
    return re.findall(r'<tr data-patient="([0-9a-f-]+)">', html)


# --- access ---------------------------------------------------------------------------------------------
def test_anonymous_is_sent_to_login():
    r = Client().get("/patients/")
    assert r.status_code == 302
    assert r["Location"] == "/login/?next=/patients/"
    home = Client().get("/")
    assert home.status_code == 200
    assert b'href="/login/"' in home.content and b"/api/docs/" in home.content


def test_staff_home_goes_to_patient_list(world):
    r = web_client(world.clinician).get("/")
    assert r.status_code == 302 and r["Location"] == "/patients/"


def test_clinician_logs_in_through_the_form(world):
    client = Client()
    page = client.get("/login/")
    assert page.status_code == 200 and b"csrfmiddlewaretoken" in page.content
    r = client.post("/login/", {"username": "a-clinician", "password": PASSWORD})
    assert r.status_code == 302 and r["Location"] == "/patients/"
    assert client.get("/patients/").status_code == 200
    assert audits("web.login", actor=world.clinician)


def test_wrong_password_is_refused(world):
    r = Client().post("/login/", {"username": "a-clinician", "password": "wrong-password-1"})
    assert r.status_code == 200
    assert b"Please enter a correct username and password" in r.content


def test_an_empty_login_says_what_is_missing_beside_each_field(world):
    r = Client().post("/login/", {"username": "", "password": ""})
    assert r.status_code == 200
    page = r.content.decode()
    assert "Enter your username." in page and "Enter your password." in page
    assert page.count('aria-invalid="true"') == 2
    assert "_auth_user_id" not in Client().session
    r = Client().post("/login/", {"username": world.clinician.username, "password": ""})
    page = r.content.decode()
    assert "Enter your password." in page and "Enter your username." not in page


def test_every_page_starts_with_a_skip_link_to_its_main_content(world):
    for client, url in ((Client(), "/login/"), (web_client(world.clinician), "/patients/")):
        page = client.get(url).content.decode()
        assert page.index('class="skip-link" href="#main"') < page.index("<header")
        assert '<main id="main"' in page


def test_patient_login_is_refused_with_a_clear_message(world):
    client = Client()
    r = client.post("/login/", {"username": "a-patient-1", "password": PASSWORD})
    assert r.status_code == 200
    assert b"Patients sign in with the mobile app" in r.content
    assert "_auth_user_id" not in client.session
    assert client.get("/patients/").status_code == 302


def test_a_patient_session_is_forbidden(world):
    client = Client()
    client.force_login(world.patient_user)
    assert client.get("/patients/").status_code == 403
    assert client.get(f"/patients/{world.patient.pk}/").status_code == 403


def test_logout_is_a_post_and_ends_the_session(world):
    client = web_client(world.clinician)
    r = client.post("/logout/")
    assert r.status_code == 302 and r["Location"] == "/login/"
    assert client.get("/patients/").status_code == 302
    assert audits("web.logout", actor=world.clinician)


# --- patient list ---------------------------------------------------------------------------------------
def test_list_shows_own_patients_only_and_audits_each(world, other):
    r = web_client(world.clinician).get("/patients/")
    assert r.status_code == 200
    html = r.content.decode()
    assert set(rows(html)) == {str(world.patient.pk), str(world.other_patient.pk)}
    assert other.patient.name not in html
    assert "MRN-0042" in html
    assert "IV ketamine" in html and "week 5" in html  # day 28: the fifth week (days 0-6 are week 1)
    # Latest BDI-II total 10 is in the lowest band (green tone); one urgent flag; PHQ-9 answered today.
    assert 'class="chip sev-0"' in html and "10 minimal" in html
    assert "1 urgent" in html
    listed = {e.patient_id for e in audits("web.patient.list", actor=world.clinician)}
    assert listed == {world.patient.pk, world.other_patient.pk}


def test_list_filters(world):
    client = web_client(world.clinician)
    both = {str(world.patient.pk), str(world.other_patient.pk)}
    only_first = {str(world.patient.pk)}
    only_second = {str(world.other_patient.pk)}
    snapshot = OutcomeSnapshot.objects.get(patient=world.patient, scale="bdi2")

    assert set(rows(client.get("/patients/?flagged=true").content.decode())) == only_first
    assert set(rows(client.get("/patients/?flagged=false").content.decode())) == both
    assert set(rows(client.get(f"/patients/?signal={snapshot.signal}").content.decode())) == only_first
    assert set(rows(client.get(f"/patients/?state={snapshot.state}").content.decode())) == only_first
    # BDI-II and PHQ-9 were answered today by patient 1; patient 2 never answered.
    assert set(rows(client.get("/patients/?overdue=true").content.decode())) == only_second
    assert set(rows(client.get("/patients/?q=patient 2").content.decode())) == only_second
    assert set(rows(client.get("/patients/?q=mrn-00").content.decode())) == only_first
    # An unknown value is reported, not a server error; the list is not filtered by it.
    bad = client.get("/patients/?signal=bogus")
    assert bad.status_code == 200 and b"Select a valid choice" in bad.content
    assert set(rows(bad.content.decode())) == both


def test_list_is_paginated_by_50(world):
    for i in range(50):
        patient_create(actor=world.clinician, name=f"zz extra {i:02d}", timezone_name="UTC")
    client = web_client(world.clinician)
    first = client.get("/patients/")
    assert len(rows(first.content.decode())) == 50
    assert b"Page 1 of 2" in first.content
    second = client.get("/patients/?page=2")
    assert len(rows(second.content.decode())) == 2
    assert len(audits("web.patient.list")) == 52


# --- patient detail -------------------------------------------------------------------------------------
def test_detail_of_own_patient(world):
    client = web_client(world.clinician)
    r = client.get(f"/patients/{world.patient.pk}/")
    assert r.status_code == 200
    html = r.content.decode()
    assert world.patient.name in html and "MRN-0042" in html and "UTC" in html
    # The open flag comes first, with the acknowledgement form for a clinician.
    assert html.index("Open safety flags (1)") < html.index("Current course") < html.index("Entries (")
    assert "URGENT" in html and "BDI-II item 9" in html
    assert "Acknowledge</button>" in html and "csrfmiddlewaretoken" in html
    # The course with its session and dose, the chart, the outcome with its projection and rules.
    assert "35.5 mg" in html
    assert f'src="/patients/{world.patient.pk}/chart.svg?scale=bdi2"' in html
    # The curve is labelled as the published prior it is (CLINICAL v2 §4), not by its internal key.
    assert "remission&lt;=13" in html and "reference: Published prior" in html
    assert f"/patients/{world.patient.pk}/report.pdf" in html
    # Entries: numbers and scores only.
    assert "Item 9: 2" in html and "Item 21: 0" in html
    for wording in COPYRIGHTED_WORDING:
        assert wording not in html
    assert audits("web.patient.read", patient_id=world.patient.pk, actor=world.clinician)


def test_detail_of_another_clinics_patient_is_404(world, other):
    client = web_client(world.clinician)
    assert client.get(f"/patients/{other.patient.pk}/").status_code == 404
    assert client.get("/patients/not-a-uuid/").status_code == 404
    for suffix in ("chart.svg", "report.pdf", "fhir.json"):
        assert client.get(f"/patients/{other.patient.pk}/{suffix}").status_code == 404
    assert not audits("web.patient.read", patient_id=other.patient.pk)


def test_admin_sees_flags_but_cannot_acknowledge(world):
    html = web_client(world.admin).get(f"/patients/{world.patient.pk}/").content.decode()
    assert "Open safety flags (1)" in html
    assert "Acknowledge</button>" not in html
    assert "A clinician acknowledges this flag" in html


# --- acknowledging a flag -------------------------------------------------------------------------------
def test_clinician_acknowledges_a_flag(world):
    flag = SafetyFlag.objects.get(patient=world.patient)
    client = web_client(world.clinician)
    r = client.post(f"/flags/{flag.pk}/acknowledge/", {"note": "called the patient", "action": "contacted_patient"})
    assert r.status_code == 302 and r["Location"] == f"/patients/{world.patient.pk}/"
    flag.refresh_from_db()
    assert flag.acknowledged_by == world.clinician and flag.acknowledged_at is not None
    assert flag.acknowledgement_note == "called the patient"
    assert audits("flag.acknowledge", object_id=str(flag.pk), actor=world.clinician)
    page = client.get(r["Location"])
    assert b"Safety flag acknowledged." in page.content
    assert b"No open safety flags." in page.content
    assert set(rows(client.get("/patients/?flagged=true").content.decode())) == set()


def test_acknowledge_needs_a_clinician_a_post_and_the_own_clinic(world, other):
    flag = SafetyFlag.objects.get(patient=world.patient)
    assert web_client(world.admin).post(f"/flags/{flag.pk}/acknowledge/").status_code == 403
    assert web_client(other.clinician).post(f"/flags/{flag.pk}/acknowledge/").status_code == 404
    assert web_client(world.clinician).get(f"/flags/{flag.pk}/acknowledge/").status_code == 405
    anonymous = Client().post(f"/flags/{flag.pk}/acknowledge/")
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/login/")
    flag.refresh_from_db()
    assert flag.acknowledged_at is None


def test_acknowledge_requires_the_csrf_token(world):
    flag = SafetyFlag.objects.get(patient=world.patient)
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.clinician)
    assert client.post(f"/flags/{flag.pk}/acknowledge/").status_code == 403
    flag.refresh_from_db()
    assert flag.acknowledged_at is None


def test_acknowledge_ignores_an_offsite_next(world):
    flag = SafetyFlag.objects.get(patient=world.patient)
    r = web_client(world.clinician).post(
        f"/flags/{flag.pk}/acknowledge/", {"next": "https://evil.example/", "action": "escalated"}
    )
    assert r["Location"] == f"/patients/{world.patient.pk}/"


# --- chart, report, export ------------------------------------------------------------------------------
def test_report_pdf_chart_and_fhir(world):
    client = web_client(world.clinician)
    pdf = client.get(f"/patients/{world.patient.pk}/report.pdf")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF-")
    chart = client.get(f"/patients/{world.patient.pk}/chart.svg")
    assert chart.status_code == 200 and chart["Content-Type"] == "image/svg+xml"
    assert b"<svg" in chart.content
    fhir = client.get(f"/patients/{world.patient.pk}/fhir.json")
    assert fhir.status_code == 200 and b'"resourceType"' in fhir.content
    for action in ("web.report.pdf", "web.chart.svg", "web.fhir.export"):
        assert audits(action, patient_id=world.patient.pk, actor=world.clinician), action


def test_admin_downloads_the_report(world):
    assert web_client(world.admin).get(f"/patients/{world.patient.pk}/report.pdf").status_code == 200


def test_patient_without_entries_has_an_empty_detail(world):
    html = web_client(world.clinician).get(f"/patients/{world.other_patient.pk}/").content.decode()
    assert "No open safety flags." in html and "No entries yet." in html and "chart.svg" not in html
    assert Patient.objects.filter(pk=world.other_patient.pk).exists()


@pytest.mark.parametrize(("days_ago", "week"), [(0, 1), (6, 1), (7, 2), (20, 3)])
def test_weeks_are_counted_from_one_as_trials_count_them(days_ago: int, week: int) -> None:
    world = make_clinic(name="Weeks", prefix="wk")
    start = date.today() - timedelta(days=days_ago)
    course_create(
        actor=world.clinician, patient=world.patient, modality="esketamine", with_therapy=False, start_date=start
    )
    html = web_client(world.clinician).get(f"/patients/{world.patient.pk}/").content.decode()
    assert f"week {week}, day {days_ago}" in html


def test_the_chart_shows_one_scale_chosen_on_the_page(world):
    client = web_client(world.clinician)
    submit(client_for(world.clinician), "madrs", date.today() - timedelta(days=1), 20, patient=world.patient)
    html = client.get(f"/patients/{world.patient.pk}/").content.decode()
    assert 'aria-current="page">BDI-II</a>' in html and 'href="?scale=madrs#progress"' in html
    html = client.get(f"/patients/{world.patient.pk}/", {"scale": "madrs"}).content.decode()
    assert f'src="/patients/{world.patient.pk}/chart.svg?scale=madrs"' in html
    one = client.get(f"/patients/{world.patient.pk}/chart.svg", {"scale": "madrs"})
    both = client.get(f"/patients/{world.patient.pk}/chart.svg")
    assert one.status_code == 200 and one["Content-Type"] == "image/svg+xml"
    # One panel, not the stack of both (the text is drawn as glyphs, so the heights tell).
    height = re.compile(rb'<svg[^>]* height="([0-9.]+)pt"')
    assert float(height.search(one.content)[1]) < 0.7 * float(height.search(both.content)[1])
    assert client.get(f"/patients/{world.patient.pk}/chart.svg", {"scale": "nope"}).status_code == 404
