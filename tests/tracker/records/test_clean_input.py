"""Junk is not stored as data: names, usernames, time zones and passwords are checked at the door."""

from __future__ import annotations

import pytest

from tests.tracker.helpers import PASSWORD, client_for, error_fields, make_clinic
from tracker.records.models import Patient, User

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    return make_clinic()


@pytest.mark.parametrize(
    "name",
    ["Ann\x00Smith", "Ann\x1b[31mSmith", "Ann\u202eSmith", "\u200b\u200b", "Ann\u2066Smith\u2069", "   "],
)
def test_names_with_control_direction_or_invisible_characters_are_refused(world, name):
    before = Patient.objects.count()
    response = client_for(world.clinician).post("/api/v1/patients/", {"name": name}, format="json")
    assert response.status_code == 400 and "name" in str(response.json())
    assert Patient.objects.count() == before


def test_names_are_stored_normalised(world):
    decomposed = "Jose\u0301 Mu\u0308ller"
    response = client_for(world.clinician).post("/api/v1/patients/", {"name": decomposed}, format="json")
    assert response.status_code == 201
    assert Patient.objects.get(pk=response.json()["id"]).name == "José Müller"


@pytest.mark.parametrize("username", ["new user", "new\nuser", "../admin", "аdmin-new", "ab", "-lead"])
def test_usernames_outside_the_safe_set_are_refused(world, username):
    response = client_for(world.admin).post(
        "/api/v1/staff/", {"username": username, "password": PASSWORD, "role": "clinician"}, format="json"
    )
    assert response.status_code == 400 and "username" in error_fields(response)
    assert not User.objects.filter(username=username).exists()


@pytest.mark.parametrize("lookalike", ["a-c1inician", "A-Clinician", "a_clinician", "a-cIinician"])
def test_a_username_that_looks_like_an_existing_one_is_refused(world, lookalike):
    response = client_for(world.admin).post(
        "/api/v1/staff/", {"username": lookalike, "password": PASSWORD, "role": "clinician"}, format="json"
    )
    assert response.status_code == 400


def test_a_taken_username_gets_the_same_answer_whichever_clinic_holds_it(world):
    other = make_clinic("Clinic B", prefix="b")
    admin = client_for(world.admin)
    mine = admin.post(
        "/api/v1/staff/", {"username": "a-clinician", "password": PASSWORD, "role": "clinician"}, format="json"
    )
    theirs = admin.post(
        "/api/v1/staff/", {"username": "b-clinician", "password": PASSWORD, "role": "clinician"}, format="json"
    )
    assert mine.status_code == theirs.status_code == 400
    assert mine.json() == theirs.json()
    assert other.clinician.username == "b-clinician"


@pytest.mark.parametrize("zone", ["localtime", "Factory", "posixrules", "US/Eastern", "Mars/Olympus"])
def test_only_canonical_time_zones_are_accepted(world, zone):
    response = client_for(world.clinician).post("/api/v1/patients/", {"name": "Zoe", "timezone": zone}, format="json")
    assert response.status_code == 400 and "timezone" in error_fields(response)


@pytest.mark.parametrize("zone", ["Pacific/Kiritimati", "Pacific/Pago_Pago", "Asia/Tokyo", "UTC"])
def test_canonical_time_zones_are_accepted(world, zone):
    response = client_for(world.clinician).post("/api/v1/patients/", {"name": "Zoe", "timezone": zone}, format="json")
    assert response.status_code == 201


@pytest.mark.parametrize("password", ["ppppppppppp", "abababababab"])
def test_passwords_of_one_repeated_character_are_refused(world, password):
    response = client_for(world.admin).post(
        "/api/v1/staff/", {"username": "new-clinician", "password": password, "role": "clinician"}, format="json"
    )
    assert response.status_code == 400 and "password" in error_fields(response)


def test_a_course_naming_a_reference_set_that_does_not_exist_is_refused(world):
    from tracker.records.models import TreatmentCourse

    body = {"modality": "iv_ketamine", "start_date": "2026-01-05", "reference_set": "no-such-set"}
    response = client_for(world.clinician).post(f"/api/v1/patients/{world.patient.pk}/courses/", body, format="json")
    assert response.status_code == 400 and "reference_set" in error_fields(response)
    assert not TreatmentCourse.objects.exists()
    body["reference_set"] = "real_world"
    assert (
        client_for(world.clinician)
        .post(f"/api/v1/patients/{world.patient.pk}/courses/", body, format="json")
        .status_code
        == 201
    )
