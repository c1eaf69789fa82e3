"""Crisis resources per clinic and locale: defaults by country, the clinic's own settings, what a patient is
shown (at /me/crisis-resources/ and in a flagged entry's answer), and who may change them."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import pytest

from tests.tracker.helpers import PASSWORD, client_for, error_fields, items_with_total, make_clinic, submit
from tracker.records.models import AuditEvent, User
from tracker.records.services.patients import patient_create, patient_enroll

pytestmark = pytest.mark.django_db
TODAY = date.today()
URL = "/api/v1/clinic/crisis-resources/"
MINE = "/api/v1/me/crisis-resources/"


@pytest.fixture
def world() -> Any:
    return make_clinic()


def enrolled_patient(world: Any, timezone_name: str, username: str) -> User:
    new = patient_create(actor=world.clinician, name=username, timezone_name=timezone_name)
    patient, _ = patient_enroll(enrollment_code=new.enrollment_code, username=username, password=PASSWORD)
    assert patient.user is not None
    return patient.user


def put(world: Any, body: dict[str, Any]) -> Any:
    return client_for(world.admin).put(URL, body, format="json")


@pytest.mark.parametrize(
    ("country", "line", "emergency"),
    [
        ("US", "988", "911"),
        ("GB", "116 123", "999"),
        ("UK", "116 123", "999"),
        ("ES", "024", "112"),
        ("MX", "800 911 2000", "911"),
        ("CA", "988", "911"),
        ("AU", "13 11 14", "000"),
        ("IE", "116 123", "112 / 999"),
    ],
)
def test_each_country_has_its_own_defaults(world: Any, country: str, line: str, emergency: str) -> None:
    assert put(world, {"country": country}).status_code == 200
    shown = client_for(world.patient_user).get(MINE).json()
    assert shown["phone"] == line and shown["lines"][0]["phone"] == line
    assert shown["emergency"] == emergency
    assert line in shown["message"] and emergency in shown["message"]
    assert shown["country"] == ("GB" if country == "UK" else country)


def test_without_a_country_the_patient_is_told_to_call_the_local_emergency_number(world: Any) -> None:
    shown = client_for(world.patient_user).get(MINE).json()  # a UTC patient: no country to guess
    assert shown["lines"] == [] and shown["emergency"] == "" and shown["country"] == ""
    assert "local emergency number" in shown["message"]
    assert "988" not in shown["message"]


def test_without_a_country_the_patients_time_zone_chooses_the_defaults(world: Any) -> None:
    madrid = enrolled_patient(world, "Europe/Madrid", "madrid-patient")
    shown = client_for(madrid).get(MINE, HTTP_ACCEPT_LANGUAGE="es").json()
    assert (shown["country"], shown["phone"], shown["emergency"]) == ("ES", "024", "112")
    # The clinic's own country wins over the guess.
    put(world, {"country": "MX"})
    assert client_for(madrid).get(MINE).json()["phone"] == "800 911 2000"


def test_spanish_texts_for_a_spanish_request(world: Any) -> None:
    put(world, {"country": "US"})
    shown = client_for(world.patient_user).get(MINE, HTTP_ACCEPT_LANGUAGE="es").json()
    assert shown["locale"] == "es"
    assert shown["message"].startswith("Gracias por responder con sinceridad.")
    assert shown["lines"][0]["label"] == "Línea de Prevención del Suicidio y Crisis"
    english = client_for(world.patient_user).get(MINE, HTTP_ACCEPT_LANGUAGE="en").json()
    assert english["message"].startswith("Thank you for answering honestly.")
    assert english["lines"][0]["label"] == "Suicide & Crisis Lifeline"
    assert english["message"] == (
        "Thank you for answering honestly. If you are thinking about ending your life or harming yourself, please "
        "reach out now: call 988 (Suicide & Crisis Lifeline), or your emergency number 911, or go to the nearest "
        "emergency department. Your care team has been notified and will review your answers."
    )


def test_the_clinics_own_line_and_texts_per_locale(world: Any) -> None:
    body = {
        "country": "ES",
        "clinic_line": {"phone": "+34 910 000 000", "url": "https://clinica.example.org/urgencias"},
        "locales": {
            "es": {
                "message": "Llame ahora a la clínica o al 024.",
                "lines": [{"label": "Teléfono de la Esperanza", "phone": "717 003 717"}],
            }
        },
    }
    r = put(world, body)
    assert r.status_code == 200, r.content
    assert r.json()["effective"]["es"]["message"] == "Llame ahora a la clínica o al 024."
    spanish = client_for(world.patient_user).get(MINE, HTTP_ACCEPT_LANGUAGE="es").json()
    assert [x["phone"] for x in spanish["lines"]] == ["717 003 717", "+34 910 000 000"]
    assert spanish["lines"][1]["label"] == "Su clínica"
    assert spanish["emergency"] == "112"  # not overridden: the country's
    english = client_for(world.patient_user).get(MINE, HTTP_ACCEPT_LANGUAGE="en").json()
    assert [x["phone"] for x in english["lines"]] == ["024", "+34 910 000 000"]
    assert "You can also call your clinic: +34 910 000 000." in english["message"]
    assert client_for(world.clinician).get(URL).json()["clinic_line"]["phone"] == "+34 910 000 000"
    assert AuditEvent.objects.filter(action="clinic.crisis_resources_update").count() == 1
    # A PUT replaces: null removes the clinic's line.
    cleared = put(world, {"country": "ES", "clinic_line": None, "locales": None})
    assert cleared.status_code == 200, cleared.content
    assert cleared.json()["clinic_line"] is None and cleared.json()["effective"]["es"]["phone"] == "024"


def test_every_bad_field_is_named_and_nothing_changes(world: Any) -> None:
    put(world, {"country": "US"})
    before = client_for(world.admin).get(URL).json()
    bad = {
        "country": "XX",
        "clinic_line": {"label": "L" * 121, "phone": "call us", "url": "http://clinic.example.org", "fax": "1"},
        "locales": {
            "fr": {"message": "Appelez"},
            "es": {"emergency": [], "lines": [{"label": "", "phone": "12"}], "extra": 1},
        },
    }
    r = put(world, bad)
    assert r.status_code == 400
    assert error_fields(r) >= {
        "country",
        "clinic_line.label",
        "clinic_line.phone",
        "clinic_line.url",
        "clinic_line.fax",
        "locales.fr",
        "locales.es.emergency",
        "locales.es.lines[0].label",
        "locales.es.lines[0].phone",
        "locales.es.extra",
    }, r.json()
    assert client_for(world.admin).get(URL).json() == before
    assert put(world, {"surprise": 1}).status_code == 400
    assert put(world, {"locales": {"es": {"message": "x" * 1001}}}).status_code == 400


def test_only_a_clinic_admin_changes_them_and_staff_see_only_their_own(world: Any) -> None:
    other = make_clinic("Clinic B", "b")
    assert client_for(world.clinician).put(URL, {"country": "GB"}, format="json").status_code == 403
    assert client_for(world.patient_user).get(URL).status_code == 403
    assert client_for(world.clinician).get(MINE).status_code == 403
    put(world, {"country": "GB"})
    assert client_for(other.admin).get(URL).json()["country"] == ""
    assert client_for(other.patient_user).get(MINE).json()["country"] == ""


def test_a_patients_flagged_entry_carries_the_resources_of_their_clinic_and_language(world: Any) -> None:
    put(world, {"country": "IE"})
    patient = client_for(world.patient_user)
    body = {
        "scale": "phq9",
        "administered_on": TODAY.isoformat(),
        "items": items_with_total("phq9", 5, suicide=2),
        "client_id": str(uuid.uuid4()),
    }
    r = patient.post("/api/v1/assessments/", body, format="json", HTTP_ACCEPT_LANGUAGE="es")
    assert r.status_code == 201
    embedded = r.json()["crisis_resources"]
    assert embedded == patient.get(MINE, HTTP_ACCEPT_LANGUAGE="es").json()
    assert embedded["emergency"] == "112 / 999" and embedded["message"].startswith("Gracias")


def test_no_resources_without_a_flag_nor_for_a_clinicians_own_entry(world: Any) -> None:
    put(world, {"country": "US"})
    assert submit(client_for(world.patient_user), "phq9", TODAY, 5).json()["crisis_resources"] is None
    staff_entry = submit(client_for(world.clinician), "phq9", TODAY, 5, patient=world.patient, suicide=3)
    assert staff_entry.status_code == 201 and len(staff_entry.json()["flags"]) == 1
    assert staff_entry.json()["crisis_resources"] is None


@pytest.mark.parametrize(
    "url",
    [
        "https://clinic.example.org/a%2",  # a percent-escape without its two hex digits
        "https://clinic.example.org/100%",
        "https://clinic.example.org/help?lang=es",  # no query: the address is shown as it is stored
        "https://clinic.example.org:8443/help",
    ],
)
def test_an_address_is_refused_where_the_schemas_pattern_refuses_it(world: Any, url: str) -> None:
    r = put(world, {"country": "ES", "clinic_line": {"phone": "+34 910 000 000", "url": url}})
    assert r.status_code == 400 and r.json()["code"] == "validation_error", r.content
    assert error_fields(r) == {"clinic_line.url"}


def test_the_clinics_line_needs_no_label(world: Any) -> None:
    r = put(world, {"clinic_line": {"phone": "+34 910 000 000", "url": "https://clinic.example.org/a%20b"}})
    assert r.status_code == 200, r.content
    assert r.json()["clinic_line"]["label"] == ""


def test_null_reads_as_not_given_as_the_schema_says(world: Any) -> None:
    body = {
        "country": None,
        "clinic_line": {"label": None, "phone": "+34 910 000 000", "sms": None, "url": None},
        "locales": {"es": {"message": None, "emergency": None, "lines": None}},
    }
    r = put(world, body)
    assert r.status_code == 200, r.content
    assert r.json()["clinic_line"] == {"label": "", "phone": "+34 910 000 000", "sms": "", "url": ""}
    assert r.json()["locales"] == {}
