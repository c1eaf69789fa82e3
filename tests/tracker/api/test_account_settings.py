"""A user's own account: changing the password, a patient's time zone and language (``PATCH /me/``),
the language their messages come in, and the API's version (``GET /api/v1/``)."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.test import override_settings
from rest_framework.test import APIClient

from tests.tracker.helpers import PASSWORD, client_for, error_fields, make_clinic
from tracker.records.models import AuditEvent, Patient

pytestmark = pytest.mark.django_db
NEW = "fresh-Meadow-2031"


@pytest.fixture
def world() -> Any:
    return make_clinic()


def login(username: str, password: str) -> Any:
    return APIClient().post("/api/v1/auth/token/", {"username": username, "password": password}, format="json")


def change(client: APIClient, old: Any = PASSWORD, new: Any = NEW, body: Any = None, **headers: str) -> Any:
    payload = {"old_password": old, "new_password": new, **(body or {})}
    return client.post("/api/v1/auth/password/", payload, format="json", **headers)


# --------------------------------------------------------------------------- password change


@pytest.mark.parametrize("who", ["patient_user", "clinician", "admin"])
def test_a_change_keeps_this_session_and_ends_the_others(world: Any, who: str) -> None:
    user = getattr(world, who)
    this, other = client_for(user), client_for(user)
    assert change(this).status_code == 204
    assert this.post("/api/v1/auth/logout/").status_code == 204  # still valid until logged out
    assert other.post("/api/v1/auth/logout/").status_code == 401
    assert login(user.username, PASSWORD).status_code == 400
    assert login(user.username, NEW).status_code == 200
    event = AuditEvent.objects.get(action="auth.password_change")
    assert event.actor_id == user.pk
    assert event.patient_id == (world.patient.pk if who == "patient_user" else None)


@pytest.mark.parametrize(
    ("old", "new", "fields"),
    [
        ("not-my-password", NEW, {"old_password"}),
        (PASSWORD, "short", {"new_password"}),
        (PASSWORD, "bbbbbbbbbbbbbbbbb", {"new_password"}),
        (PASSWORD, PASSWORD, {"new_password"}),
        (PASSWORD, None, {"new_password"}),
        (None, NEW, {"old_password"}),
    ],
)
def test_a_refused_change_names_the_field_and_changes_nothing(world: Any, old: Any, new: Any, fields: set[str]) -> None:
    this, other = client_for(world.patient_user), client_for(world.patient_user)
    r = change(this, old, new)
    assert r.status_code == 400 and error_fields(r) == fields
    assert other.get("/api/v1/me/").status_code == 200
    assert login("a-patient-1", PASSWORD).status_code == 200
    assert not AuditEvent.objects.filter(action="auth.password_change").exists()


def test_unknown_fields_are_refused(world: Any) -> None:
    r = change(client_for(world.patient_user), body={"extra": "x"})
    assert r.status_code == 400 and error_fields(r) == {"extra"}


def test_a_change_needs_a_token(world: Any) -> None:
    assert change(APIClient()).status_code == 401
    assert login("a-patient-1", PASSWORD).status_code == 200


def test_guessing_the_current_password_with_a_token_is_locked_out(world: Any) -> None:
    client = client_for(world.patient_user)
    for _ in range(settings.LOGIN_MAX_FAILURES):
        assert change(client, old="guess-Password-1").status_code == 400
    locked = change(client)
    assert locked.status_code == 429 and int(locked["Retry-After"]) > 0
    assert AuditEvent.objects.filter(action="auth.password_change_failed").count() == settings.LOGIN_MAX_FAILURES


# --------------------------------------------------------------------------- PATCH /me/


def patch_me(client: APIClient, body: Any, **headers: str) -> Any:
    return client.patch("/api/v1/me/", body, format="json", **headers)


def test_a_patient_sets_their_time_zone_and_language(world: Any) -> None:
    client = client_for(world.patient_user)
    r = patch_me(client, {"timezone": "Asia/Tokyo", "locale": "es"})
    assert r.status_code == 200
    assert r.json() == client.get("/api/v1/me/").json()
    assert r.json()["patient"]["timezone"] == "Asia/Tokyo" and r.json()["patient"]["locale"] == "es"
    stored = Patient.objects.get(pk=world.patient.pk)
    assert (stored.timezone, stored.locale) == ("Asia/Tokyo", "es")
    event = AuditEvent.objects.get(action="patient.preferences")
    assert (event.actor_id, event.patient_id) == (world.patient_user.pk, world.patient.pk)
    # One field at a time; "" gives the choice back to the phone.
    assert patch_me(client, {"locale": ""}).json()["patient"] == {**r.json()["patient"], "locale": ""}
    assert Patient.objects.get(pk=world.patient.pk).timezone == "Asia/Tokyo"


def test_the_time_zone_decides_the_patients_today(world: Any) -> None:
    """A Tokyo phone submitting its 'today' early in the morning is accepted once the zone is set."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from tests.tracker.helpers import submit

    client = client_for(world.patient_user)
    assert patch_me(client, {"timezone": "Pacific/Kiritimati"}).status_code == 200
    today_there = datetime.now(ZoneInfo("Pacific/Kiritimati")).date()
    assert submit(client, "phq9", today_there, 5).status_code == 201


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"timezone": "Mars/Olympus_Mons"}, {"timezone"}),
        ({"timezone": "localtime"}, {"timezone"}),
        ({"timezone": "posixrules"}, {"timezone"}),
        ({"timezone": ""}, {"timezone"}),
        ({"timezone": None}, {"timezone"}),
        ({"locale": "fr"}, {"locale"}),
        ({"locale": None}, {"locale"}),
        ({"timezone": "Nowhere/Land", "locale": "xx"}, {"timezone", "locale"}),
        ({"timezone": "Asia/Tokyo", "locale": "xx"}, {"locale"}),
        ({"name": "Someone else"}, {"name"}),
        ([], set()),
    ],
)
def test_bad_preferences_are_named_and_nothing_is_stored(world: Any, body: Any, fields: set[str]) -> None:
    r = patch_me(client_for(world.patient_user), body)
    assert r.status_code == 400 and error_fields(r) == fields
    stored = Patient.objects.get(pk=world.patient.pk)
    assert (stored.timezone, stored.locale) == ("UTC", "")
    assert not AuditEvent.objects.filter(action="patient.preferences").exists()


def test_only_a_patient_patches_me(world: Any) -> None:
    assert patch_me(client_for(world.clinician), {"timezone": "Asia/Tokyo"}).status_code == 403
    assert patch_me(APIClient(), {"timezone": "Asia/Tokyo"}).status_code == 401
    assert Patient.objects.get(pk=world.patient.pk).timezone == "UTC"


def test_a_patient_changes_only_their_own_profile(world: Any) -> None:
    assert patch_me(client_for(world.patient_user), {"timezone": "Asia/Tokyo"}).status_code == 200
    assert Patient.objects.get(pk=world.other_patient.pk).timezone == "UTC"


# --------------------------------------------------------------------------- the patient's language


def test_without_accept_language_the_patients_locale_is_used(world: Any) -> None:
    client = client_for(world.patient_user)
    patch_me(client, {"locale": "es"})
    spanish = change(client, old="not-my-password")
    assert spanish.status_code == 400 and spanish["Content-Language"] == "es"
    assert "La contraseña actual no es correcta." in spanish.content.decode()
    assert change(client, old="not-my-password", HTTP_ACCEPT_LANGUAGE="")["Content-Language"] == "es"
    english = change(client, old="not-my-password", HTTP_ACCEPT_LANGUAGE="en")
    assert english["Content-Language"] == "en"
    assert "The current password is not correct." in english.content.decode()
    # Another patient without a locale of their own: the server's default.
    other = change(client_for(world.other_patient_user), old="not-my-password")
    assert other["Content-Language"] == "en"


def test_accept_language_chooses_spanish_for_anyone(world: Any) -> None:
    r = change(client_for(world.clinician), old="not-my-password", HTTP_ACCEPT_LANGUAGE="es-ES,es;q=0.9")
    assert r["Content-Language"] == "es" and "La contraseña actual no es correcta." in r.content.decode()


# --------------------------------------------------------------------------- GET /api/v1/


def test_the_version_is_public() -> None:
    r = APIClient().get("/api/v1/")
    assert r.status_code == 200
    assert r.json() == {"api_version": "1.1", "min_supported_app_version": "1.0.0"}


@override_settings(MIN_SUPPORTED_APP_VERSION="2.3.0")
def test_the_operator_sets_the_minimum_app_version() -> None:
    assert APIClient().get("/api/v1/").json()["min_supported_app_version"] == "2.3.0"


def test_the_version_ignores_a_bad_token() -> None:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")
    assert client.get("/api/v1/").status_code == 200
