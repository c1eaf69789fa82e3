"""The clinic's time zone: set by its admin (dashboard settings, ``PATCH /api/v1/clinic/``), and the zone
every date-time staff read is shown in (dashboard, payer PDF); the API keeps answering in UTC."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine

from tests.tracker.helpers import ClinicWorld, client_for, error_fields, make_clinic, submit, web_client
from tests.tracker.reports.test_reports_support import pdf_pages
from tracker.records.models import AuditEvent, Clinic, SafetyFlag
from tracker.records.services.clinics import clinic_set_timezone
from tracker.records.services.patients import course_create

pytestmark = pytest.mark.django_db

KIRITIMATI = "Pacific/Kiritimati"  # UTC+14: 23:30 UTC is 13:30 on the next day's date
RAISED_AT = datetime(2026, 11, 30, 23, 30, tzinfo=UTC)


@pytest.fixture
def world() -> ClinicWorld:
    return make_clinic()


def _flag_raised_late(world: ClinicWorld) -> SafetyFlag:
    with time_machine.travel(RAISED_AT, tick=False):
        course_create(
            actor=world.clinician,
            patient=world.patient,
            modality="iv_ketamine",
            with_therapy=False,
            start_date=RAISED_AT.date() - timedelta(days=14),
        )
        r = submit(client_for(world.patient_user), "phq9", RAISED_AT.date(), 12, suicide=2)
        assert r.status_code == 201, r.content
    return SafetyFlag.objects.get(patient=world.patient)


# --- setting it -----------------------------------------------------------------------------------------
def test_a_new_clinic_reads_utc(world):
    assert Clinic.objects.get(pk=world.clinic.pk).timezone == "UTC"
    assert client_for(world.admin).get("/api/v1/clinic/").json()["timezone"] == "UTC"


def test_the_admin_sets_the_zone_through_the_api(world):
    r = client_for(world.admin).patch("/api/v1/clinic/", {"timezone": KIRITIMATI}, format="json")
    assert r.status_code == 200, r.content
    assert r.json()["timezone"] == KIRITIMATI
    assert Clinic.objects.get(pk=world.clinic.pk).timezone == KIRITIMATI
    assert AuditEvent.objects.filter(action="clinic.settings", actor=world.admin).exists()
    assert client_for(world.clinician).get("/api/v1/clinic/").json()["timezone"] == KIRITIMATI


@pytest.mark.parametrize("zone", ["Mars/Olympus", "", "utc+2", 5, "US/Pacific"])
def test_an_unknown_zone_is_refused_by_name_and_nothing_is_stored(world, zone):
    r = client_for(world.admin).patch("/api/v1/clinic/", {"timezone": zone}, format="json")
    assert r.status_code == 400
    assert r.json()["code"] == "validation_error"
    assert error_fields(r) == {"timezone"}
    assert Clinic.objects.get(pk=world.clinic.pk).timezone == "UTC"
    assert not AuditEvent.objects.filter(action="clinic.settings").exists()


def test_a_clinician_cannot_set_the_zone(world):
    r = client_for(world.clinician).patch("/api/v1/clinic/", {"timezone": KIRITIMATI}, format="json")
    assert r.status_code == 403
    assert Clinic.objects.get(pk=world.clinic.pk).timezone == "UTC"


def test_the_schema_documents_the_zone():
    from django.test import Client as Plain

    schema = Plain().get("/api/schema/?format=json").json()
    prop = schema["components"]["schemas"]["Clinic"]["properties"]["timezone"]
    assert prop["type"] == "string" and "IANA" in prop["description"]


def test_the_admin_sets_the_zone_on_the_settings_page(world):
    client = web_client(world.admin)
    form = client.get("/clinic/settings/").context["form"]
    assert form.initial["timezone"] == "UTC"
    data = {**form.initial, "timezone": "Europe/Berlin"}
    r = client.post("/clinic/settings/", data)
    assert r.status_code == 302, r.context["form"].errors if r.context else r
    assert Clinic.objects.get(pk=world.clinic.pk).timezone == "Europe/Berlin"
    assert client.get("/clinic/settings/").context["form"].initial["timezone"] == "Europe/Berlin"


def test_a_bad_zone_on_the_settings_page_is_an_error_beside_the_field(world):
    client = web_client(world.admin)
    form = client.get("/clinic/settings/").context["form"]
    before = Clinic.objects.filter(pk=world.clinic.pk).values().get()
    r = client.post("/clinic/settings/", {**form.initial, "timezone": "Mars/Olympus"})
    assert r.status_code == 200
    assert "timezone" in r.context["form"].errors
    assert 'id="id_timezone_error"' in r.content.decode()
    assert Clinic.objects.filter(pk=world.clinic.pk).values().get() == before


# --- reading in it --------------------------------------------------------------------------------------
def test_a_flag_raised_late_utc_shows_the_next_day_in_kiritimati(world):
    flag = _flag_raised_late(world)
    client = web_client(world.clinician)
    html = client.get(f"/patients/{world.patient.pk}/").content.decode()
    assert "raised 2026-11-30 23:30 (UTC)" in html  # before: UTC, named
    clinic_set_timezone(actor=world.admin, timezone_name=KIRITIMATI)
    html = client.get(f"/patients/{world.patient.pk}/").content.decode()
    assert "raised 2026-12-01 13:30 (Pacific/Kiritimati)" in html
    assert "Times in Pacific/Kiritimati." in html
    # The API keeps ISO 8601 in UTC.
    results = client_for(world.clinician).get("/api/v1/flags/").json()["results"]
    body = next(f for f in results if f["id"] == str(flag.pk))
    assert body["created_at"].startswith("2026-11-30T23:30:00") and body["created_at"].endswith(("Z", "+00:00"))


def test_acknowledgement_history_and_notices_in_the_clinic_zone(world):
    _flag_raised_late(world)
    clinic_set_timezone(actor=world.admin, timezone_name=KIRITIMATI)
    flag = SafetyFlag.objects.get(patient=world.patient)
    with time_machine.travel(RAISED_AT + timedelta(minutes=15), tick=False):
        r = client_for(world.clinician).post(
            f"/api/v1/flags/{flag.pk}/acknowledge/", {"note": "called", "action": "contacted_patient"}, format="json"
        )
        assert r.status_code == 200, r.content
    html = web_client(world.clinician).get(f"/patients/{world.patient.pk}/").content.decode()
    assert "(Pacific/Kiritimati)</th>" in html
    assert "2026-12-01 13:45" in html


def test_another_clinic_keeps_its_own_zone(world):
    other = make_clinic("Clinic B", prefix="b")
    clinic_set_timezone(actor=world.admin, timezone_name=KIRITIMATI)
    html = web_client(other.clinician).get("/patients/").content.decode()
    assert "Times in UTC." in html


def test_the_payer_pdf_is_dated_in_the_clinic_zone(world):
    _flag_raised_late(world)
    clinic_set_timezone(actor=world.admin, timezone_name=KIRITIMATI)
    client = web_client(world.clinician)
    with time_machine.travel(RAISED_AT, tick=False):
        r = client.get(f"/patients/{world.patient.pk}/report.pdf")
        api = client_for(world.clinician).get(f"/api/v1/patients/{world.patient.pk}/report.pdf")
    assert r.status_code == 200 and api.status_code == 200
    for content in (r.content, api.content):
        lines = [line for page in pdf_pages(content) for line in page]
        assert f"Generated by a-clinician on {date(2026, 12, 1).isoformat()} (Pacific/Kiritimati)." in lines
