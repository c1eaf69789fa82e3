"""GET /api/v1/me/progress/: the patient's own progress in plain words (API.md 1.1)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from tests.tracker.helpers import ClinicWorld, client_for, make_clinic, submit
from tracker.records.models import AuditEvent, Patient
from tracker.records.services.patients import course_create

pytestmark = pytest.mark.django_db

URL = "/api/v1/me/progress/"
# The seed article's BDI-II course (CLINICAL.md §2), weekly; the first eight rows end on day 49.
SEED = [48, 47, 46, 44, 30, 12, 4, 3]


@pytest.fixture
def world() -> ClinicWorld:
    return make_clinic()


def _seed_course(world: ClinicWorld, totals: list[int]) -> date:
    start = date.today() - timedelta(days=7 * (len(totals) - 1))
    course_create(
        actor=world.clinician, patient=world.patient, modality="iv_ketamine", with_therapy=False, start_date=start
    )
    patient_api = client_for(world.patient_user)
    for week, total in enumerate(totals):
        assert submit(patient_api, "bdi2", start + timedelta(days=7 * week), total).status_code == 201
    return start


def test_patient_without_course_or_entries_gets_an_empty_answer(world: ClinicWorld) -> None:
    r = client_for(world.patient_user).get(URL)
    assert r.status_code == 200
    assert r.json() == {"patient_id": str(world.patient.pk), "course": None, "scales": []}


def test_patient_with_a_course_and_no_entries_yet(world: ClinicWorld) -> None:
    course = course_create(
        actor=world.clinician, patient=world.patient, modality="esketamine", with_therapy=True, start_date=date.today()
    )
    body = client_for(world.patient_user).get(URL).json()
    assert body["course"]["id"] == str(course.pk) and body["scales"] == []


def test_patient_sees_own_progress_in_the_outcomes_numbers(world: ClinicWorld) -> None:
    start = _seed_course(world, SEED)
    client = client_for(world.patient_user)
    r = client.get(URL)
    assert r.status_code == 200 and r["Content-Language"] == "en"
    body = r.json()
    assert body["patient_id"] == str(world.patient.pk)
    [bdi] = body["scales"]
    assert bdi["scale"] == "bdi2" and bdi["status"] == "remission_pending"
    assert bdi["headline"] == "Your scores have dropped by half or more since you started"
    assert "for 2 weeks" in bdi["where_you_are"] and "1 week more" in bdi["where_you_are"]
    assert "Scores often improve before daily life feels different." in bdi["what_it_means"]
    assert bdi["next_step"]
    # The numbers are the outcomes API's own answer for the same course.
    outcome = client.get(f"/api/v1/patients/{world.patient.pk}/outcomes/").json()["bdi2"]
    n = bdi["numbers"]
    assert (n["baseline_total"], n["baseline_date"]) == (outcome["baseline"]["total"], outcome["baseline"]["date"])
    assert (n["latest_total"], n["latest_date"]) == (outcome["latest"]["total"], outcome["latest"]["date"])
    assert n["improvement"] == outcome["latest"]["improvement"] and n["response"] == "response"
    assert n["state"] == outcome["state"] == "remission_pending"
    assert n["signal"] == outcome["projection"]["signal"]
    assert n["remission_range_since"] == (start + timedelta(days=35)).isoformat()
    assert (n["weeks_in_remission_range"], n["days_until_confirmation"]) == (2, 7)


def test_spanish_by_accept_language(world: ClinicWorld) -> None:
    _seed_course(world, SEED)
    r = client_for(world.patient_user).get(URL, HTTP_ACCEPT_LANGUAGE="es-ES,es;q=0.9")
    assert r.status_code == 200 and r["Content-Language"] == "es"
    [bdi] = r.json()["scales"]
    assert bdi["headline"] == "Tus puntuaciones han bajado la mitad o más desde que empezaste"
    assert "1 semana más" in bdi["where_you_are"]


def test_patient_locale_is_used_without_accept_language(world: ClinicWorld) -> None:
    _seed_course(world, SEED)
    Patient.objects.filter(pk=world.patient.pk).update(locale="es")
    client = client_for(world.patient_user)
    spanish = client.get(URL)
    assert spanish["Content-Language"] == "es"
    assert spanish.json()["scales"][0]["headline"].startswith("Tus puntuaciones")
    # The request's own language wins over the profile's.
    english = client.get(URL, HTTP_ACCEPT_LANGUAGE="en")
    assert english.json()["scales"][0]["headline"].startswith("Your scores")


def test_only_a_baseline_is_not_assessable_and_not_non_response(world: ClinicWorld) -> None:
    _seed_course(world, [30])
    [bdi] = client_for(world.patient_user).get(URL).json()["scales"]
    assert bdi["status"] == "not_assessable" and bdi["numbers"]["assessable"] is False
    assert bdi["numbers"]["response"] is None and bdi["headline"] == "Your starting score is recorded"


@pytest.mark.parametrize("user", ["clinician", "admin"])
def test_staff_have_no_own_progress(world: ClinicWorld, user: str) -> None:
    r = client_for(getattr(world, user)).get(URL)
    assert r.status_code == 403
    assert not AuditEvent.objects.filter(action="progress.read").exists()


def test_anonymous_is_refused(world: ClinicWorld) -> None:
    assert client_for(None).get(URL).status_code == 401


def test_read_is_audited_on_the_patient(world: ClinicWorld) -> None:
    _seed_course(world, SEED)
    client_for(world.patient_user).get(URL)
    [event] = AuditEvent.objects.filter(action="progress.read")
    assert event.patient_id == world.patient.pk and event.actor_id == world.patient_user.pk
    assert event.object_id == str(world.patient.pk)


def test_each_patient_sees_only_their_own(world: ClinicWorld) -> None:
    _seed_course(world, SEED)
    body = client_for(world.other_patient_user).get(URL).json()
    assert body["patient_id"] == str(world.other_patient.pk) and body["scales"] == []
