"""CLINICAL v2 §2 through the API: entries timed against the dose, and the clinician's baseline mark."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from tests.tracker.helpers import client_for, error_fields, make_clinic, submit
from tracker.records.models import Assessment, AuditEvent
from tracker.records.services.patients import course_create, session_create

pytestmark = pytest.mark.django_db

START = date.today() - timedelta(days=35)


@pytest.fixture
def world():
    w = make_clinic()
    course = course_create(
        actor=w.clinician, patient=w.patient, modality="iv_ketamine", with_therapy=False, start_date=START
    )
    session_create(actor=w.clinician, course=course, date=START)
    return w


def outcomes(w, scale="madrs"):
    return client_for(w.clinician).get(f"/api/v1/patients/{w.patient.pk}/outcomes/").json()[scale]


def test_a_same_day_pre_and_post_dose_pair_keeps_the_pre_dose_baseline(world):
    # Entered in this order the post-dose score is the later same-day entry: it must still not be the baseline.
    clinician = client_for(world.clinician)
    pre = submit(clinician, "madrs", START, 34, patient=world.patient, timing="pre_dose", administered_time="09:00")
    post = submit(clinician, "madrs", START, 12, patient=world.patient, timing="post_dose", administered_time="09:30")
    assert post.status_code == pre.status_code == 201
    assert post.json()["timing"] == "post_dose" and post.json()["administered_time"] == "09:30"
    later = submit(clinician, "madrs", START + timedelta(days=21), 16, patient=world.patient)
    assert later.json()["timing"] is None  # no session that day: unknown, read as pre-dose
    result = outcomes(world)
    assert result["baseline"] == {"date": START.isoformat(), "total": 34}
    assert result["latest"]["total"] == 16 and result["latest"]["response"] == "response"


def test_a_clinician_scale_on_a_session_day_defaults_to_pre_dose(world):
    response = submit(client_for(world.clinician), "madrs", START, 30, patient=world.patient)
    assert response.json()["timing"] == "pre_dose"


@pytest.mark.parametrize(
    ("field", "value"),
    [("timing", "later"), ("timing", "PRE_DOSE"), ("administered_time", "25:00"), ("administered_time", "9am")],
)
def test_bad_timing_or_time_is_a_400_naming_the_field_and_stores_nothing(world, field, value):
    response = submit(client_for(world.clinician), "madrs", START, 30, patient=world.patient, **{field: value})
    assert response.status_code == 400 and field in error_fields(response)
    assert not Assessment.objects.exists()


def test_marking_and_unmarking_a_baseline(world):
    clinician = client_for(world.clinician)
    screening = submit(clinician, "madrs", START - timedelta(days=20), 36, patient=world.patient).json()
    submit(clinician, "madrs", START, 30, patient=world.patient)
    submit(clinician, "madrs", START + timedelta(days=28), 15, patient=world.patient)
    assert outcomes(world)["baseline"]["total"] == 30  # the rule: latest before the start

    marked = clinician.post(f"/api/v1/assessments/{screening['id']}/baseline/")
    assert marked.status_code == 200
    assert marked.json()["baseline"] == {"date": (START - timedelta(days=20)).isoformat(), "total": 36}
    assert outcomes(world)["baseline"]["total"] == 36
    entry = Assessment.objects.get(pk=screening["id"])
    assert entry.is_baseline and entry.baseline_marked_by == world.clinician and entry.baseline_marked_at
    assert AuditEvent.objects.filter(action="assessment.baseline_mark", object_id=screening["id"]).exists()

    undone = clinician.delete(f"/api/v1/assessments/{screening['id']}/baseline/")
    assert undone.status_code == 200 and undone.json()["baseline"]["total"] == 30
    assert AuditEvent.objects.filter(action="assessment.baseline_unmark").exists()


def test_a_second_mark_and_a_post_dose_mark_are_refused(world):
    clinician = client_for(world.clinician)
    first = submit(clinician, "madrs", START - timedelta(days=3), 33, patient=world.patient).json()
    second = submit(clinician, "madrs", START, 31, patient=world.patient).json()
    post = submit(clinician, "madrs", START, 20, patient=world.patient, timing="post_dose").json()
    assert clinician.post(f"/api/v1/assessments/{first['id']}/baseline/").status_code == 200
    again = clinician.post(f"/api/v1/assessments/{second['id']}/baseline/")
    assert again.status_code == 400 and "baseline" in again.json()
    refused = clinician.post(f"/api/v1/assessments/{post['id']}/baseline/")
    assert refused.status_code == 400 and "baseline" in refused.json()
    assert list(Assessment.objects.filter(is_baseline=True).values_list("pk", flat=True)) == [
        Assessment.objects.get(pk=first["id"]).pk
    ]


def test_marking_an_entry_of_another_course_is_refused(world):
    clinician = client_for(world.clinician)
    old = submit(clinician, "madrs", START + timedelta(days=1), 33, patient=world.patient).json()
    newer = course_create(
        actor=world.clinician,
        patient=world.patient,
        modality="esketamine",
        with_therapy=False,
        start_date=START + timedelta(days=60),
    )
    response = clinician.post(f"/api/v1/assessments/{old['id']}/baseline/", {"course": str(newer.pk)}, format="json")
    assert response.status_code == 400 and "course" in error_fields(response)
    assert not Assessment.objects.filter(is_baseline=True).exists()


def test_only_a_clinician_of_the_clinic_marks_a_baseline(world):
    entry = submit(client_for(world.clinician), "madrs", START, 30, patient=world.patient).json()
    assert client_for(world.patient_user).post(f"/api/v1/assessments/{entry['id']}/baseline/").status_code in (403, 404)
    other = make_clinic("Clinic B", prefix="b")
    assert client_for(other.clinician).post(f"/api/v1/assessments/{entry['id']}/baseline/").status_code == 404
    assert not Assessment.objects.filter(is_baseline=True).exists()


def test_the_dashboard_marks_and_unmarks_a_baseline_and_shows_the_timing(world):
    from django.test import Client

    from tests.tracker.helpers import PASSWORD

    clinician = client_for(world.clinician)
    entry = submit(clinician, "madrs", START - timedelta(days=5), 33, patient=world.patient).json()
    submit(clinician, "madrs", START, 20, patient=world.patient, timing="post_dose")
    browser = Client()
    assert browser.login(username=world.clinician.username, password=PASSWORD)
    page = browser.get(f"/patients/{world.patient.pk}/")
    assert b"after dose" in page.content and b"Mark as baseline" in page.content
    response = browser.post(f"/entries/{entry['id']}/baseline/", follow=True)
    assert b"marked as the course" in response.content and b"Unmark baseline" in response.content
    assert Assessment.objects.get(pk=entry["id"]).is_baseline
    browser.post(f"/entries/{entry['id']}/baseline/", {"action": "unmark"})
    assert not Assessment.objects.get(pk=entry["id"]).is_baseline
