"""Codes from clinic staff: a new enrollment code for a patient who lost theirs, and password reset
codes (for patients from their clinic's staff, for staff from their clinic's admin)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings
from django.core.cache import cache
from django.utils import timezone
from rest_framework.test import APIClient

from tests.tracker.helpers import PASSWORD, client_for, error_fields, make_clinic
from tracker.records.models import AuditEvent, EnrollmentCode, PasswordResetCode, Patient
from tracker.records.services.auth import token_digest
from tracker.records.services.patients import patient_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def world() -> Any:
    return make_clinic()


@pytest.fixture
def other() -> Any:
    return make_clinic("Clinic B", "b")


def enroll(code: str, username: str = "new-patient") -> Any:
    return APIClient().post(
        "/api/v1/enroll/", {"enrollment_code": code, "username": username, "password": PASSWORD}, format="json"
    )


def renew(client: APIClient, patient: Patient) -> Any:
    return client.post(f"/api/v1/patients/{patient.pk}/enrollment-code/")


# --------------------------------------------------------------------------- enrollment codes


def test_a_new_enrollment_code_replaces_the_lost_one(world: Any) -> None:
    new = patient_create(actor=world.clinician, name="Lost their code")
    r = renew(client_for(world.clinician), new.patient)
    assert r.status_code == 201
    body = r.json()
    assert set(body) == {"enrollment_code", "expires_at"} and body["enrollment_code"] != new.enrollment_code
    expected = timezone.now() + timedelta(hours=settings.ENROLLMENT_CODE_TTL_HOURS)
    assert abs((timezone.datetime.fromisoformat(body["expires_at"]) - expected).total_seconds()) < 60
    # The earlier code stops working; the new one enrols the patient.
    old = enroll(new.enrollment_code)
    assert old.status_code == 400 and error_fields(old) == {"enrollment_code"}
    assert enroll(body["enrollment_code"]).status_code == 201
    assert Patient.objects.get(pk=new.patient.pk).user is not None
    assert AuditEvent.objects.filter(
        action="patient.enrollment_code", patient_id=new.patient.pk, actor=world.clinician
    ).exists()


def test_an_admin_renews_too_and_each_renewal_ends_the_previous_code(world: Any) -> None:
    new = patient_create(actor=world.clinician, name="Twice")
    first = renew(client_for(world.admin), new.patient).json()["enrollment_code"]
    second = renew(client_for(world.clinician), new.patient).json()["enrollment_code"]
    assert enroll(first).status_code == 400
    assert enroll(second).status_code == 201
    assert not EnrollmentCode.objects.filter(digest=second).exists()  # stored hashed
    assert EnrollmentCode.objects.filter(digest=token_digest(second)).exists()


def test_an_enrolled_patient_gets_409_and_nothing_is_stored(world: Any) -> None:
    before = EnrollmentCode.objects.count()
    r = renew(client_for(world.clinician), world.patient)
    assert r.status_code == 409 and error_fields(r) == {"patient"}
    assert EnrollmentCode.objects.count() == before
    assert not AuditEvent.objects.filter(action="patient.enrollment_code").exists()


def test_enrollment_codes_are_scoped_to_the_clinics_staff(world: Any, other: Any) -> None:
    new = patient_create(actor=world.clinician, name="Mine")
    before = EnrollmentCode.objects.count()
    assert renew(client_for(other.clinician), new.patient).status_code == 404
    assert renew(client_for(other.admin), new.patient).status_code == 404
    assert renew(client_for(world.patient_user), new.patient).status_code == 403
    assert renew(APIClient(), new.patient).status_code == 401
    assert client_for(world.clinician).post("/api/v1/patients/not-a-uuid/enrollment-code/").status_code == 404
    assert EnrollmentCode.objects.count() == before
    # The original code still works: a refused request changed nothing.
    assert enroll(new.enrollment_code).status_code == 201


# --------------------------------------------------------------------------- reset codes: issuing


def issue_for_patient(client: APIClient, patient: Patient) -> Any:
    return client.post(f"/api/v1/patients/{patient.pk}/password-reset-code/")


def test_staff_issue_a_short_lived_reset_code_stored_hashed(world: Any) -> None:
    r = issue_for_patient(client_for(world.clinician), world.patient)
    assert r.status_code == 201
    body = r.json()
    assert set(body) == {"reset_code", "expires_at"}
    expected = timezone.now() + timedelta(minutes=settings.PASSWORD_RESET_CODE_TTL_MINUTES)
    assert abs((timezone.datetime.fromisoformat(body["expires_at"]) - expected).total_seconds()) < 60
    stored = PasswordResetCode.objects.get()
    assert stored.digest == token_digest(body["reset_code"]) != body["reset_code"]
    assert stored.user == world.patient_user and stored.created_by == world.clinician
    event = AuditEvent.objects.get(action="auth.password_reset_code")
    assert (event.actor_id, event.patient_id, event.object_id) == (
        world.clinician.pk,
        world.patient.pk,
        str(world.patient_user.pk),
    )


def test_a_patient_not_enrolled_yet_needs_an_enrollment_code_instead(world: Any) -> None:
    new = patient_create(actor=world.clinician, name="Not yet enrolled")
    r = issue_for_patient(client_for(world.admin), new.patient)
    assert r.status_code == 409 and error_fields(r) == {"patient"}
    assert not PasswordResetCode.objects.exists()


def test_reset_codes_for_patients_are_scoped_to_the_clinics_staff(world: Any, other: Any) -> None:
    assert issue_for_patient(client_for(other.clinician), world.patient).status_code == 404
    assert issue_for_patient(client_for(world.patient_user), world.patient).status_code == 403
    assert issue_for_patient(client_for(world.other_patient_user), world.patient).status_code == 403
    assert issue_for_patient(APIClient(), world.patient).status_code == 401
    assert not PasswordResetCode.objects.exists()


def issue_for_staff(client: APIClient, user: Any) -> Any:
    return client.post(f"/api/v1/staff/{user.pk}/password-reset-code/")


def test_an_admin_issues_reset_codes_for_the_clinics_staff_only(world: Any, other: Any) -> None:
    assert issue_for_staff(client_for(world.admin), world.clinician).status_code == 201
    # A clinician cannot; another clinic's admin does not see them; an admin's own is a change.
    assert issue_for_staff(client_for(world.clinician), world.admin).status_code == 403
    assert issue_for_staff(client_for(other.admin), world.clinician).status_code == 404
    assert issue_for_staff(client_for(world.admin), world.patient_user).status_code == 404  # not staff
    own = issue_for_staff(client_for(world.admin), world.admin)
    assert own.status_code == 409 and error_fields(own) == {"user"}
    assert PasswordResetCode.objects.count() == 1


# --------------------------------------------------------------------------- reset codes: using


def reset(code: str, username: str, new_password: str = "fresh-Meadow-2031", address: str = "198.51.100.7") -> Any:
    return APIClient(REMOTE_ADDR=address).post(
        "/api/v1/auth/password-reset/",
        {"reset_code": code, "username": username, "new_password": new_password},
        format="json",
    )


def login(username: str, password: str) -> Any:
    return APIClient().post("/api/v1/auth/token/", {"username": username, "password": password}, format="json")


def test_a_reset_sets_the_password_and_ends_every_session(world: Any) -> None:
    phone = client_for(world.patient_user)
    tablet = client_for(world.patient_user)
    code = issue_for_patient(client_for(world.clinician), world.patient).json()["reset_code"]
    # As typed by a person: lower case, with a dash.
    typed = f"{code[:5].lower()}-{code[5:].lower()}"
    assert reset(typed, "a-patient-1").status_code == 204
    assert phone.get("/api/v1/me/").status_code == 401
    assert tablet.get("/api/v1/me/").status_code == 401
    assert login("a-patient-1", PASSWORD).status_code == 400
    assert login("a-patient-1", "fresh-Meadow-2031").status_code == 200
    # Single use.
    again = reset(code, "a-patient-1", "another-Meadow-2032")
    assert again.status_code == 400 and error_fields(again) == {"reset_code"}
    assert login("a-patient-1", "fresh-Meadow-2031").status_code == 200
    event = AuditEvent.objects.get(action="auth.password_reset")
    assert (event.actor_id, event.patient_id) == (world.patient_user.pk, world.patient.pk)
    # The other patient's sessions are untouched.
    assert client_for(world.other_patient_user).get("/api/v1/me/").status_code == 200


def test_a_staff_member_resets_with_the_admins_code(world: Any) -> None:
    code = issue_for_staff(client_for(world.admin), world.clinician).json()["reset_code"]
    assert reset(code, "a-clinician").status_code == 204
    assert login("a-clinician", "fresh-Meadow-2031").status_code == 200


def test_a_wrong_code_or_username_gets_one_generic_answer_and_changes_nothing(world: Any) -> None:
    code = issue_for_patient(client_for(world.clinician), world.patient).json()["reset_code"]
    answers = [
        reset("WRONGCODE2", "a-patient-1"),
        reset(code, "a-patient-2"),  # a real code, another user's name
        reset(code, "nobody-at-all"),
        reset("", "a-patient-1"),
    ]
    assert [a.status_code for a in answers] == [400] * 4
    assert {frozenset(error_fields(a)) for a in answers} == {frozenset({"reset_code"})}
    assert len({a.content for a in answers[:3]}) == 1
    assert login("a-patient-1", PASSWORD).status_code == 200
    assert AuditEvent.objects.filter(action="auth.password_reset_failed").count() == 3
    # The right pair still works.
    assert reset(code, "a-patient-1").status_code == 204


def test_an_expired_or_replaced_code_no_longer_works(world: Any) -> None:
    staff = client_for(world.clinician)
    first = issue_for_patient(staff, world.patient).json()["reset_code"]
    second = issue_for_patient(staff, world.patient).json()["reset_code"]
    assert reset(first, "a-patient-1").status_code == 400
    PasswordResetCode.objects.filter(digest=token_digest(second)).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    assert reset(second, "a-patient-1").status_code == 400
    assert login("a-patient-1", PASSWORD).status_code == 200


@pytest.mark.parametrize(
    ("payload", "fields"),
    [
        ({"new_password": "short"}, {"new_password"}),
        ({"new_password": "aaaaaaaaaaaaaaaa"}, {"new_password"}),
        ({"new_password": "1234567890123"}, {"new_password"}),
        ({"new_password": "a-patient-1-pw"}, {"new_password"}),  # too like the username
        ({"new_password": None}, {"new_password"}),
        ({"username": None}, {"username"}),
        ({"extra": 1}, {"extra"}),
    ],
)
def test_a_refused_new_password_names_the_field_and_keeps_the_code(
    world: Any, payload: dict[str, Any], fields: set[str]
) -> None:
    code = issue_for_patient(client_for(world.clinician), world.patient).json()["reset_code"]
    phone = client_for(world.patient_user)
    body = {"reset_code": code, "username": "a-patient-1", "new_password": "fresh-Meadow-2031", **payload}
    r = APIClient().post("/api/v1/auth/password-reset/", body, format="json")
    assert r.status_code == 400 and error_fields(r) == fields
    assert phone.get("/api/v1/me/").status_code == 200
    assert login("a-patient-1", PASSWORD).status_code == 200
    assert not AuditEvent.objects.filter(action="auth.password_reset").exists()
    assert reset(code, "a-patient-1").status_code == 204  # the code was not spent


def test_guessing_codes_locks_the_username_from_that_address_with_retry_after(world: Any) -> None:
    code = issue_for_patient(client_for(world.clinician), world.patient).json()["reset_code"]
    for _ in range(settings.LOGIN_MAX_FAILURES):
        assert reset("GUESSGUESS", "a-patient-1", address="203.0.113.9").status_code == 400
    locked = reset(code, "a-patient-1", address="203.0.113.9")
    assert locked.status_code == 429
    assert 0 < int(locked["Retry-After"]) <= settings.LOGIN_LOCKOUT_SECONDS
    # Shared with logins: the same username is locked from that address.
    assert (
        APIClient(REMOTE_ADDR="203.0.113.9")
        .post("/api/v1/auth/token/", {"username": "a-patient-1", "password": PASSWORD}, format="json")
        .status_code
        == 429
    )
    # The patient, on their own phone's address, is not locked out.
    assert reset(code, "a-patient-1", address="198.51.100.7").status_code == 204


def test_the_reset_endpoint_is_throttled_per_address_with_retry_after(world: Any) -> None:
    """Forged X-Forwarded-For headers change nothing (no trusted proxies): one address, one allowance."""
    cache.clear()
    limit = int(settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["password_reset"].split("/")[0])

    def guess(i: int) -> Any:
        return APIClient(REMOTE_ADDR="192.0.2.44", HTTP_X_FORWARDED_FOR=f"10.2.0.{i % 250}").post(
            "/api/v1/auth/password-reset/",
            {"reset_code": "GUESSGUESS", "username": f"nobody-{i}", "new_password": "fresh-Meadow-2031"},
            format="json",
        )

    answers = [guess(i) for i in range(limit + 1)]
    assert [a.status_code for a in answers[:limit]] == [400] * limit
    assert answers[-1].status_code == 429 and int(answers[-1]["Retry-After"]) > 0
    cache.clear()
