"""The patient page as a workspace: rating a clinician scale, sessions, corrections, flags, onboarding,
the questionnaire schedule. Every form: success, each error (beside its field, nothing saved), scope, audit."""

from __future__ import annotations

import re
import uuid
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from tests.tracker.helpers import (
    PASSWORD,
    ClinicWorld,
    client_for,
    error_fields,
    items_with_total,
    make_clinic,
    submit,
    web_client,
)
from tracker.records.crisis import resources_for
from tracker.records.models import (
    Assessment,
    AuditEvent,
    EnrollmentCode,
    FlagAcknowledgement,
    Patient,
    SafetyFlag,
    TreatmentCourse,
    TreatmentSession,
)
from tracker.records.selectors.schedule import questionnaires_due
from tracker.records.services.patients import course_create, patient_create, patient_enroll, session_create

pytestmark = pytest.mark.django_db

# Item headings of the copyrighted scales: the dashboard shows none (numbers and neutral labels only).
COPYRIGHTED_WORDING = ["Apparent sadness", "Reported sadness", "Inner tension", "Lassitude", "Inability to feel"]


def audited(action: str, **filters: Any) -> bool:
    return AuditEvent.objects.filter(action=action, **filters).exists()


@pytest.fixture
def world() -> ClinicWorld:
    world = make_clinic()
    start = date.today() - timedelta(days=21)
    course_create(
        actor=world.clinician, patient=world.patient, modality="iv_ketamine", with_therapy=False, start_date=start
    )
    return world


@pytest.fixture
def other() -> ClinicWorld:
    return make_clinic("Clinic B", prefix="b")


def rating(scale: str, total: int, *, on: date | None = None, suicide: int = 0, **extra: Any) -> dict[str, Any]:
    items = items_with_total(scale, total, suicide)
    body = {
        f"{scale}-administered_on": (on or date.today()).isoformat(),
        f"{scale}-administered_time": "09:30",
        f"{scale}-timing": "pre_dose",
        f"{scale}-client_id": str(uuid.uuid4()),
        **{f"{scale}-item_{n}": str(v) for n, v in enumerate(items, start=1)},
    }
    body.update({f"{scale}-{k}": v for k, v in extra.items()})
    return body


# --- rating a clinician scale ---------------------------------------------------------------------------
def test_page_offers_both_scales_with_hamd_anchors_and_madrs_numbers_and_neutral_labels(world):
    html = web_client(world.clinician).get(f"/patients/{world.patient.pk}/").content.decode()
    assert f'action="/patients/{world.patient.pk}/rate/madrs/"' in html
    assert "Feels life is not worth living" in html  # HAM-D item 3, score 1 (public domain)
    # MADRS: the item's number and a short neutral label of our own, no wording of the scale.
    assert "Item 1: Mood (observed)" in html
    assert "Item 10: Suicidality (suicide item)" in html
    for wording in COPYRIGHTED_WORDING:
        assert wording not in html
    # Rating is a clinician's: an admin's page has no rating form.
    assert "/rate/madrs/" not in web_client(world.admin).get(f"/patients/{world.patient.pk}/").content.decode()


def test_clinician_rates_a_madrs_and_the_outcome_follows(world):
    client = web_client(world.clinician)
    start = date.today() - timedelta(days=21)
    r = client.post(f"/patients/{world.patient.pk}/rate/madrs/", rating("madrs", 32, on=start))
    assert r.status_code == 302 and r["Location"] == f"/patients/{world.patient.pk}/"
    entry = Assessment.objects.get(patient=world.patient, scale="madrs")
    assert (entry.total, entry.entered_by, entry.timing) == (32, world.clinician, "pre_dose")
    assert entry.administered_time.strftime("%H:%M") == "09:30"
    assert audited("assessment.create", object_id=str(entry.pk), actor=world.clinician)
    r = client.post(f"/patients/{world.patient.pk}/rate/madrs/", rating("madrs", 14))
    page = client.get(r["Location"]).content.decode()
    assert "MADRS entry saved: total 14 (mild)." in page
    outcomes = re.search(r'<table class="outcomes[^"]*">.*?</table>', page, re.S).group(0)  # type: ignore[union-attr]
    assert "MADRS" in outcomes and "56 %" in outcomes  # improvement from 32 to 14


def test_a_double_submit_stores_one_entry(world):
    client = web_client(world.clinician)
    body = rating("hamd17", 20)
    for _ in range(2):
        assert client.post(f"/patients/{world.patient.pk}/rate/hamd17/", body).status_code == 302
    assert Assessment.objects.filter(patient=world.patient, scale="hamd17").count() == 1


def test_timing_defaults_to_pre_dose_on_a_session_day(world):
    course = TreatmentCourse.objects.get(patient=world.patient)
    session_create(actor=world.clinician, course=course, date=date.today(), dose_mg=Decimal(35))
    client = web_client(world.clinician)
    page = client.get(f"/patients/{world.patient.pk}/")
    form = page.context["rating_forms"][0]
    assert form.initial["timing"] == "pre_dose"
    body = rating("madrs", 20, timing="")  # "not recorded" on a session day: the service's rule
    assert client.post(f"/patients/{world.patient.pk}/rate/madrs/", body).status_code == 302
    assert Assessment.objects.get(patient=world.patient, scale="madrs").timing == "pre_dose"


def test_a_suicide_item_raises_a_flag_shown_at_once_without_the_crisis_message(world):
    client = web_client(world.clinician)
    r = client.post(f"/patients/{world.patient.pk}/rate/madrs/", rating("madrs", 30, suicide=4))
    page = client.get(r["Location"]).content.decode()
    assert SafetyFlag.objects.get(patient=world.patient).level == "urgent"
    assert "Open safety flags (1)" in page and "MADRS item 10" in page
    assert "Safety flag raised" in page
    patient_message = resources_for(world.clinic, "en", world.patient)["message"]
    # The US line as a number of its own (ids in the page's links are hex and may contain the digits).
    assert patient_message not in page and not re.search(r"(?<![\w-])988(?![\w-])", page)


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"item_3": ""}, "item_3", "Rate this item."),
        ({"item_3": "7"}, "item_3", "Select a valid choice"),
        ({"administered_on": ""}, "administered_on", "required"),
        ({"administered_on": (date.today() + timedelta(days=2)).isoformat()}, "administered_on", "future"),
        ({"administered_on": "2001-01-01"}, "administered_on", "before the treatment course"),
        ({"administered_time": "25:00"}, "administered_time", "valid time"),
        ({"timing": "during"}, "timing", "Select a valid choice"),
    ],
)
def test_a_refused_rating_shows_the_error_beside_its_field_and_saves_nothing(world, change, field, message):
    client = web_client(world.clinician)
    body = rating("madrs", 20)
    body.update({f"madrs-{k}": v for k, v in change.items()})
    r = client.post(f"/patients/{world.patient.pk}/rate/madrs/", body)
    assert r.status_code == 400
    form = next(f for f in r.context["rating_forms"] if f.scale.key == "madrs")
    found = {k: " ".join(str(m) for m in v) for k, v in form.errors.items()}
    assert message in found[field]
    assert 'id="rate-madrs" open' in r.content.decode()  # the refused form is shown open
    assert not Assessment.objects.filter(patient=world.patient).exists()


def test_rating_is_scoped_checked_and_csrf_protected(world, other):
    body = rating("madrs", 20)
    assert web_client(other.clinician).post(f"/patients/{world.patient.pk}/rate/madrs/", body).status_code == 404
    assert audited("access.refused", actor=other.clinician)
    assert web_client(world.admin).post(f"/patients/{world.patient.pk}/rate/madrs/", body).status_code == 403
    assert web_client(world.clinician).post(f"/patients/{world.patient.pk}/rate/bdi2/", body).status_code == 404
    assert web_client(world.clinician).get(f"/patients/{world.patient.pk}/rate/madrs/").status_code == 405
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(world.clinician)
    assert strict.post(f"/patients/{world.patient.pk}/rate/madrs/", body).status_code == 403
    assert not Assessment.objects.exists()


# --- treatment sessions -----------------------------------------------------------------------------------
def session_body(**fields: Any) -> dict[str, Any]:
    body = {
        "date": date.today().isoformat(),
        "time": "10:15",
        "dose_mg": "",
        "dose_mg_per_kg": "0.5",
        "bp_systolic_before": "128",
        "bp_diastolic_before": "82",
        "bp_systolic_after": "146",
        "bp_diastolic_after": "91",
        "monitoring_minutes": "120",
        "notes": "Mild dissociation at 20 min, resolved.",
        "adverse_events": "Nausea",
    }
    body.update(fields)
    return {f"session-{k}": v for k, v in body.items()}


def test_clinician_records_a_ketamine_session_and_the_page_shows_its_vitals(world):
    client = web_client(world.clinician)
    r = client.post(f"/patients/{world.patient.pk}/sessions/", session_body())
    assert r.status_code == 302
    session = TreatmentSession.objects.get(course__patient=world.patient)
    assert session.dose_mg_per_kg == Decimal("0.5") and session.bp_systolic_after == 146
    assert session.monitoring_minutes == 120 and session.adverse_events == "Nausea"
    assert audited("session.create", object_id=str(session.pk), actor=world.clinician)
    page = client.get(r["Location"]).content.decode()
    for shown in ("0.5 mg/kg", "128/82", "146/91", "120 min", "Mild dissociation at 20 min, resolved.", "Nausea"):
        assert shown in page


def test_an_esketamine_session_is_56_or_84_mg(world):
    patient = patient_create(actor=world.clinician, name="Spray Patient").patient
    course_create(
        actor=world.clinician, patient=patient, modality="esketamine", with_therapy=False, start_date=date.today()
    )
    client = web_client(world.clinician)
    page = client.get(f"/patients/{patient.pk}/").content.decode()
    assert '<option value="84">84 mg</option>' in page and "mg/kg" not in page
    r = client.post(f"/patients/{patient.pk}/sessions/", session_body(dose_mg="70", dose_mg_per_kg=""))
    assert r.status_code == 400 and "Select a valid choice" in str(r.context["session_form"].errors["dose_mg"])
    assert client.post(f"/patients/{patient.pk}/sessions/", session_body(dose_mg="84")).status_code == 302
    assert TreatmentSession.objects.get(course__patient=patient).dose_mg == Decimal(84)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"dose_mg_per_kg": "", "dose_mg": ""}, "dose_mg"),
        ({"dose_mg_per_kg": "9"}, "dose_mg_per_kg"),
        ({"bp_systolic_before": "400"}, "bp_systolic_before"),
        ({"bp_diastolic_after": ""}, "bp_diastolic_after"),
        ({"bp_diastolic_before": "130"}, "bp_diastolic_before"),
        ({"monitoring_minutes": "-5"}, "monitoring_minutes"),
        ({"date": (date.today() + timedelta(days=1)).isoformat()}, "date"),
        ({"date": (date.today() - timedelta(days=60)).isoformat()}, "date"),
    ],
)
def test_a_refused_session_names_its_field_and_saves_nothing(world, fields, field):
    r = web_client(world.clinician).post(f"/patients/{world.patient.pk}/sessions/", session_body(**fields))
    assert r.status_code == 400
    assert field in r.context["session_form"].errors
    assert 'id="session" open' in r.content.decode()
    assert not TreatmentSession.objects.exists()


def test_sessions_are_scoped_and_for_clinicians(world, other):
    assert (
        web_client(other.clinician).post(f"/patients/{world.patient.pk}/sessions/", session_body()).status_code == 404
    )
    assert web_client(world.admin).post(f"/patients/{world.patient.pk}/sessions/", session_body()).status_code == 403
    assert not TreatmentSession.objects.exists()


def test_the_api_session_carries_the_monitoring_record_and_old_bodies_still_work(world):
    api = client_for(world.clinician)
    course = TreatmentCourse.objects.get(patient=world.patient)
    old = api.post(
        f"/api/v1/courses/{course.pk}/sessions/", {"date": date.today().isoformat(), "dose_mg": "35"}, format="json"
    )
    assert old.status_code == 201 and old.json()["bp_systolic_before"] is None
    body = {
        "date": date.today().isoformat(),
        "time": "08:05",
        "dose_mg_per_kg": "0.75",
        "bp_systolic_before": 120,
        "bp_diastolic_before": 80,
        "monitoring_minutes": 90,
        "adverse_events": "none",
    }
    r = api.post(f"/api/v1/courses/{course.pk}/sessions/", body, format="json")
    assert r.status_code == 201, r.content
    assert r.json()["time"] == "08:05" and r.json()["monitoring_minutes"] == 90
    bad = api.post(f"/api/v1/courses/{course.pk}/sessions/", {**body, "bp_diastolic_before": None}, format="json")
    assert bad.status_code == 400
    assert error_fields(bad) == {"bp_diastolic_before"}
    listed = api.get(f"/api/v1/courses/{course.pk}/sessions/").json()
    assert [s["dose_mg_per_kg"] for s in listed] == [None, "0.750"]


# --- correcting an entry ----------------------------------------------------------------------------------
def test_clinician_corrects_an_entry_and_the_original_stays_struck_through_with_its_reason(world):
    api = client_for(world.clinician)
    assert submit(api, "madrs", date.today(), 20, patient=world.patient).status_code == 201
    original = Assessment.objects.get(patient=world.patient)
    client = web_client(world.clinician)
    form = client.get(f"/entries/{original.pk}/amend/")
    assert form.status_code == 200 and form.context["form"].initial["item_1"] == original.items[0]
    assert audited("web.assessment.read", object_id=str(original.pk))
    items = {f"item_{n}": str(v) for n, v in enumerate(items_with_total("madrs", 18), start=1)}
    r = client.post(f"/entries/{original.pk}/amend/", {**items, "reason": "Item 1 was mis-keyed"})
    assert r.status_code == 302 and r["Location"].endswith("#entries")
    original.refresh_from_db()
    newer = Assessment.objects.get(supersedes=original)
    assert original.is_superseded and newer.total == 18 and newer.amend_reason == "Item 1 was mis-keyed"
    assert audited("assessment.amend", object_id=str(newer.pk), actor=world.clinician)
    page = client.get(f"/patients/{world.patient.pk}/").content.decode()
    row = re.search(rf'<tr class="superseded" data-entry="{original.pk}">.*?</tr>', page, re.S).group(0)  # type: ignore[union-attr]
    assert 'class="struck"' in row
    assert f"Corrected on {date.today():%Y-%m-%d} by a-clinician. Reason: Item 1 was mis-keyed" in row
    assert f"/entries/{original.pk}/amend/" not in page  # only the latest version is corrected


@pytest.mark.parametrize(("change", "field"), [({"reason": "  "}, "reason"), ({"item_2": "9"}, "item_2")])
def test_a_refused_correction_names_its_field_and_changes_nothing(world, change, field):
    assert submit(client_for(world.clinician), "madrs", date.today(), 20, patient=world.patient).status_code == 201
    original = Assessment.objects.get(patient=world.patient)
    items = {f"item_{n}": str(v) for n, v in enumerate(original.items, start=1)}
    r = web_client(world.clinician).post(f"/entries/{original.pk}/amend/", {**items, "reason": "typo", **change})
    assert r.status_code == 400 and field in r.context["form"].errors
    original.refresh_from_db()
    assert not original.is_superseded and Assessment.objects.count() == 1


def test_a_superseded_entry_is_not_corrected_twice_and_corrections_are_scoped(world, other):
    assert submit(client_for(world.clinician), "madrs", date.today(), 20, patient=world.patient).status_code == 201
    original = Assessment.objects.get(patient=world.patient)
    items = {f"item_{n}": str(v) for n, v in enumerate(original.items, start=1)}
    client = web_client(world.clinician)
    assert client.post(f"/entries/{original.pk}/amend/", {**items, "reason": "first"}).status_code == 302
    again = client.post(f"/entries/{original.pk}/amend/", {**items, "reason": "second"})
    assert again.status_code == 400 and "already amended" in str(again.context["form"].non_field_errors())
    assert Assessment.objects.count() == 2
    assert web_client(other.clinician).get(f"/entries/{original.pk}/amend/").status_code == 404
    assert web_client(world.admin).get(f"/entries/{original.pk}/amend/").status_code == 403


# --- acknowledging flags ----------------------------------------------------------------------------------
def two_flags(world: ClinicWorld) -> list[SafetyFlag]:
    api = client_for(world.clinician)
    assert submit(api, "madrs", date.today(), 20, patient=world.patient, suicide=4).status_code == 201
    assert submit(api, "hamd17", date.today(), 12, patient=world.patient, suicide=1).status_code == 201
    return list(SafetyFlag.objects.filter(patient=world.patient))


def test_clinician_acknowledges_several_flags_at_once_and_the_history_shows(world):
    flags = two_flags(world)
    client = web_client(world.clinician)
    body = {"ack-flags": [str(f.pk) for f in flags], "ack-action": "safety_plan_reviewed", "ack-note": "Seen today"}
    r = client.post(f"/patients/{world.patient.pk}/flags/", body)
    assert r.status_code == 302
    for flag in flags:
        flag.refresh_from_db()
        assert flag.acknowledged_by == world.clinician
        step = FlagAcknowledgement.objects.get(flag=flag)
        assert (step.action, step.note, step.by) == ("safety_plan_reviewed", "Seen today", world.clinician)
        assert audited("flag.acknowledge", object_id=str(flag.pk))
    page = client.get(r["Location"]).content.decode()
    assert "2 safety flags acknowledged." in page and "No open safety flags." in page
    history = re.search(r'<section class="card scroll" id="flag-history"[^>]*>.*?</section>', page, re.S).group(0)  # type: ignore[union-attr]
    assert history.count("Safety plan reviewed") == 2 and "Seen today" in history and "a-clinician" in history


def test_a_flags_own_button_acknowledges_that_flag_only(world):
    first, second = two_flags(world)
    body = {"only": str(first.pk), "ack-flags": [str(second.pk)], "ack-action": "contacted_patient"}
    assert web_client(world.clinician).post(f"/patients/{world.patient.pk}/flags/", body).status_code == 302
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.acknowledged_at is not None and second.acknowledged_at is None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"ack-action": "contacted_patient"}, "flags"),
        ({"ack-action": ""}, "action"),
        ({"ack-action": "hoped"}, "action"),
        ({"ack-action": "other", "ack-note": ""}, "note"),
    ],
)
def test_a_refused_acknowledgement_names_its_field_and_changes_nothing(world, body, field):
    flags = two_flags(world)
    if field != "flags":
        body = {**body, "ack-flags": [str(f.pk) for f in flags]}
    r = web_client(world.clinician).post(f"/patients/{world.patient.pk}/flags/", body)
    assert r.status_code == 400 and field in r.context["ack_form"].errors
    assert not SafetyFlag.objects.filter(acknowledged_at__isnull=False).exists()
    assert not FlagAcknowledgement.objects.exists()


def test_flags_of_another_patient_or_clinic_cannot_be_acknowledged(world, other):
    flags = two_flags(world)
    body = {"ack-flags": [str(f.pk) for f in flags], "ack-action": "escalated"}
    assert web_client(other.clinician).post(f"/patients/{world.patient.pk}/flags/", body).status_code == 404
    # Another patient's page does not accept this patient's flags.
    r = web_client(world.clinician).post(f"/patients/{world.other_patient.pk}/flags/", body)
    assert r.status_code == 400 and "flags" in r.context["ack_form"].errors
    assert web_client(world.admin).post(f"/patients/{world.patient.pk}/flags/", body).status_code == 403
    assert not SafetyFlag.objects.filter(acknowledged_at__isnull=False).exists()


def test_the_api_takes_a_note_and_action_and_shows_the_history(world):
    flags = two_flags(world)
    api = client_for(world.clinician)
    url = f"/api/v1/flags/{flags[0].pk}/acknowledge/"
    r = api.post(url, {"note": "Called", "action": "contacted_patient"}, format="json")
    assert r.status_code == 200 and r.json()["history"][0]["action"] == "contacted_patient"
    assert api.post(url, {"note": "Called", "action": "contacted_patient"}, format="json").status_code == 200
    assert FlagAcknowledgement.objects.filter(flag=flags[0]).count() == 1  # a retry adds nothing
    follow_up = api.post(url, {"note": "Referred to crisis team", "action": "escalated"}, format="json").json()
    assert [s["action"] for s in follow_up["history"]] == ["contacted_patient", "escalated"]
    assert follow_up["acknowledged_by"] == str(world.clinician.pk)
    assert audited("flag.follow_up", object_id=str(flags[0].pk))
    bad = api.post(f"/api/v1/flags/{flags[1].pk}/acknowledge/", {"action": "shrugged"}, format="json")
    assert bad.status_code == 400
    assert error_fields(bad) == {"action"}
    assert api.post(f"/api/v1/flags/{flags[1].pk}/acknowledge/").status_code == 200  # an empty body, as before
    listed = api.get("/api/v1/flags/").json()["results"]
    assert {len(f["history"]) for f in listed} == {2, 1}


# --- onboarding -------------------------------------------------------------------------------------------
def test_staff_onboard_a_patient_course_and_printable_code(world):
    client = web_client(world.admin)
    form = client.get("/patients/new/")
    assert form.status_code == 200 and '<option value="Europe/Berlin">' in form.content.decode()
    body = {
        "name": "Robin New",
        "date_of_birth": "1990-04-02",
        "external_id": "MRN-77",
        "timezone": "Europe/Berlin",
        "bdi2": "",
        "phq9": "14",
    }
    r = client.post("/patients/new/", body)
    patient = Patient.objects.get(name="Robin New")
    assert r.status_code == 302 and r["Location"] == f"/patients/{patient.pk}/courses/new/"
    assert patient.schedule == {"phq9": 14} and patient.timezone == "Europe/Berlin"
    assert audited("patient.create", object_id=str(patient.pk), actor=world.admin)
    course_page = client.get(r["Location"]).content.decode()
    assert f'<option value="{world.clinician.pk}">' in course_page
    r = client.post(
        r["Location"],
        {
            "modality": "esketamine",
            "start_date": date.today().isoformat(),
            "treating_clinician": str(world.clinician.pk),
        },
    )
    assert r.status_code == 302 and r["Location"] == f"/patients/{patient.pk}/enrollment/"
    course = TreatmentCourse.objects.get(patient=patient)
    assert course.treating_clinician == world.clinician and course.modality == "esketamine"
    page = client.get(r["Location"]).content.decode()
    code = re.search(r'<p class="code" id="enrollment-code">([A-Z0-9-]+)</p>', page).group(1)  # type: ignore[union-attr]
    assert "<svg" in page and "<path" in page and "<script" not in page and "style=" not in page
    assert audited("web.enrollment.read", patient_id=patient.pk)
    # The printed code works in the app.
    enrolled, _ = patient_enroll(enrollment_code=code, username="robin-new", password=PASSWORD)
    assert enrolled.pk == patient.pk
    assert "no code is needed" in client.get(f"/patients/{patient.pk}/enrollment/").content.decode()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"name": ""}, "name"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"date_of_birth": (date.today() + timedelta(days=3)).isoformat()}, "date_of_birth"),
        ({"external_id": "DUP-1"}, "external_id"),
        ({"phq9": "3"}, "phq9"),
        ({"name": "Bad\u202ename"}, "name"),
    ],
)
def test_a_refused_patient_names_its_field_and_saves_nothing(world, change, field):
    patient_create(actor=world.clinician, name="Existing", external_id="DUP-1")
    before = Patient.objects.count()
    body = {"name": "Robin New", "timezone": "UTC", "bdi2": "7", "phq9": "7", **change}
    r = web_client(world.clinician).post("/patients/new/", body)
    assert r.status_code == 400 and field in r.context["form"].errors
    assert Patient.objects.count() == before


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"modality": "lsd"}, "modality"),
        ({"start_date": (date.today() + timedelta(days=400)).isoformat()}, "start_date"),
        ({"treating_clinician": str(uuid.uuid4())}, "treating_clinician"),
    ],
)
def test_a_refused_course_names_its_field_and_saves_nothing(world, other, change, field):
    body = {"modality": "iv_ketamine", "start_date": date.today().isoformat(), **change}
    r = web_client(world.clinician).post(f"/patients/{world.other_patient.pk}/courses/new/", body)
    assert r.status_code == 400 and field in r.context["form"].errors
    assert not TreatmentCourse.objects.filter(patient=world.other_patient).exists()
    assert web_client(other.clinician).post(f"/patients/{world.other_patient.pk}/courses/new/", body).status_code == 404


def test_an_expired_code_is_renewed_on_the_printable_page(world):
    new = patient_create(actor=world.clinician, name="Late Starter")
    EnrollmentCode.objects.filter(patient=new.patient).update(expires_at=timezone.now() - timedelta(hours=1))
    client = web_client(world.clinician)
    page = client.get(f"/patients/{new.patient.pk}/enrollment/").content.decode()
    assert "The enrollment code has expired." in page and "Issue a new code" in page
    r = client.post(f"/patients/{new.patient.pk}/enrollment/renew/")
    assert r.status_code == 302
    assert audited("patient.enrollment_code", patient_id=new.patient.pk, actor=world.clinician)
    page = client.get(r["Location"]).content.decode()
    code = re.search(r'id="enrollment-code">([A-Z0-9-]+)<', page).group(1)  # type: ignore[union-attr]
    patient_enroll(enrollment_code=code, username="late-starter", password=PASSWORD)
    # Once enrolled, no code is issued.
    r = client.post(f"/patients/{new.patient.pk}/enrollment/renew/")
    assert EnrollmentCode.objects.filter(patient=new.patient).count() == 2
    assert "already enrolled" in client.get(r["Location"]).content.decode()


def test_enrollment_pages_are_scoped(world, other):
    new = patient_create(actor=world.clinician, name="Scoped")
    assert web_client(other.clinician).get(f"/patients/{new.patient.pk}/enrollment/").status_code == 404
    assert web_client(other.admin).post(f"/patients/{new.patient.pk}/enrollment/renew/").status_code == 404
    assert EnrollmentCode.objects.filter(patient=new.patient).count() == 1


# --- the questionnaire schedule ---------------------------------------------------------------------------
def test_a_phq9_only_patient_is_never_overdue_on_the_bdi2(world):
    patient = patient_create(actor=world.clinician, name="Only PHQ", schedule={"phq9": 14}).patient
    due = questionnaires_due(patient=patient)
    assert [(d.scale, d.interval_days) for d in due] == [("phq9", 14)]
    page = web_client(world.clinician).get(f"/patients/{patient.pk}/").content.decode()
    assert "every 14 days" in page and "BDI-II <span" not in page


def test_existing_patients_keep_the_default_schedule(world):
    assert world.patient.schedule is None
    assert [(d.scale, d.interval_days) for d in questionnaires_due(patient=world.patient)] == [("bdi2", 7), ("phq9", 7)]


def test_clinician_changes_the_schedule(world):
    client = web_client(world.clinician)
    r = client.post(f"/patients/{world.patient.pk}/schedule/", {"bdi2": "28", "phq9": ""})
    assert r.status_code == 302
    world.patient.refresh_from_db()
    assert world.patient.schedule == {"bdi2": 28}
    assert audited("patient.schedule", patient_id=world.patient.pk)
    bad = client.post(f"/patients/{world.patient.pk}/schedule/", {"bdi2": "5"})
    assert bad.status_code == 400 and "bdi2" in bad.context["schedule_form"].errors
    world.patient.refresh_from_db()
    assert world.patient.schedule == {"bdi2": 28}
    assert (
        web_client(make_clinic("C", "c").clinician).post(f"/patients/{world.patient.pk}/schedule/", {}).status_code
        == 404
    )


def test_the_api_patient_body_carries_the_schedule(world):
    api = client_for(world.clinician)
    r = api.post("/api/v1/patients/", {"name": "Api Patient", "schedule": {"phq9": 14}}, format="json")
    assert r.status_code == 201 and r.json()["schedule"] == {"phq9": 14}
    plain = api.post("/api/v1/patients/", {"name": "Plain"}, format="json").json()
    assert plain["schedule"] == {"bdi2": 7, "phq9": 7}
    for schedule in ({"madrs": 7}, {"phq9": 0}, {"phq9": "7"}, ["phq9"]):
        bad = api.post("/api/v1/patients/", {"name": "Bad", "schedule": schedule}, format="json")
        assert bad.status_code == 400 and error_fields(bad) == {"schedule"}, schedule
    assert not Patient.objects.filter(name="Bad").exists()
    assert api.get(f"/api/v1/patients/{plain['id']}/").json()["schedule"] == {"bdi2": 7, "phq9": 7}


def test_the_workspace_speaks_spanish(world):
    client = web_client(world.clinician)
    html = client.get(f"/patients/{world.patient.pk}/", HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "Puntuar una escala clínica" in html and "Registrar una sesión de tratamiento" in html
    r = client.post(f"/patients/{world.patient.pk}/rate/madrs/", rating("madrs", 20), HTTP_ACCEPT_LANGUAGE="es")
    assert (
        "Registro de MADRS guardado: total 20" in client.get(r["Location"], HTTP_ACCEPT_LANGUAGE="es").content.decode()
    )
