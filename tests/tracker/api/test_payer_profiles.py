"""Payer profiles through the API: listing, adding, the clinic default, ?profile= on the report,
and the course's treating clinician."""

from __future__ import annotations

import copy
from datetime import date, timedelta

import pytest

from tests.tracker.helpers import PASSWORD, client_for, error_fields, make_clinic
from tests.tracker.reports.test_reports_support import add_entries, add_sessions, make_course, pdf_pages
from tracker.records.models import AuditEvent, Role
from tracker.records.services.clinics import staff_create
from tracker.reports.payer import default_document

pytestmark = pytest.mark.django_db

BUILTIN = "Common payer criteria for ketamine and esketamine"


def strict_rules() -> dict:
    rules = copy.deepcopy(default_document()["rules"])
    rules["severity_floors"]["minimum_baseline"]["madrs"] = 34
    rules["categories"]["non_response_max_percent"] = 20
    return rules


def report_lines(client, patient_id, **params) -> list[str]:
    r = client.get(f"/api/v1/patients/{patient_id}/report.pdf", params)
    assert r.status_code == 200, r.content
    return [line for page in pdf_pages(r.content) for line in page]


@pytest.fixture
def world():
    world = make_clinic()
    staff = client_for(world.clinician)
    course = make_course(staff, world.patient.pk, "esketamine", date.today() - timedelta(days=40))
    add_sessions(staff, course, [0, 3, 7, 10, 14, 17, 21, 24, 28])
    add_entries(staff, course, "madrs", [(-1, 32), (27, 25)], patient=world.patient)
    return world


def test_profiles_listed_added_and_chosen(world):
    admin = client_for(world.admin)
    listed = client_for(world.clinician).get("/api/v1/payer-profiles/")
    assert listed.status_code == 200
    assert [(p["key"], p["builtin"], p["is_clinic_default"]) for p in listed.json()] == [
        ("common-payer-criteria", True, True)
    ]
    assert listed.json()[0]["rules"]["induction"]["by_treatment"]["esketamine"]["days"] == 28

    body = {"key": "acme-health", "name": "Acme Health ketamine policy", "rules": strict_rules()}
    assert client_for(world.clinician).post("/api/v1/payer-profiles/", body, format="json").status_code == 403
    r = admin.post("/api/v1/payer-profiles/", body, format="json")
    assert r.status_code == 201, r.content
    created = r.json()
    assert created["key"] == "acme-health" and created["builtin"] is False and created["is_clinic_default"] is False
    assert AuditEvent.objects.filter(action="payer_profile.create", object_id=created["id"]).exists()
    taken = admin.post("/api/v1/payer-profiles/", body, format="json")
    assert error_fields(taken) == {"key"} and taken.json()["key"] == ["This key is taken."]

    # Default: the built-in profile.
    lines = report_lines(client_for(world.clinician), world.patient.pk)
    assert f"Criteria applied: {BUILTIN}." in lines
    assert "met: baseline 32, at least 28 required" in lines
    # ?profile= by key or id.
    for wanted in ("acme-health", created["id"]):
        lines = report_lines(client_for(world.clinician), world.patient.pk, profile=wanted)
        assert "Criteria applied: Acme Health ketamine policy." in lines
        assert "not met: baseline 32, at least 34 required" in lines
        # 32 to 25 is 21.9 %: partial under this profile, non-response under the built-in one.
        assert "Partial response (an improvement above 20 % and below 50 %)" in lines

    # The clinic's default.
    r = admin.patch("/api/v1/clinic/", {"payer_profile": "acme-health"}, format="json")
    assert r.status_code == 200, r.content
    assert r.json()["payer_profile"] == created["id"]
    assert AuditEvent.objects.filter(action="clinic.payer_profile").exists()
    assert "Criteria applied: Acme Health ketamine policy." in report_lines(client_for(world.admin), world.patient.pk)
    # The built-in one by its key, still.
    lines = report_lines(client_for(world.admin), world.patient.pk, profile="common-payer-criteria")
    assert f"Criteria applied: {BUILTIN}." in lines
    # Back to the built-in default.
    assert admin.patch("/api/v1/clinic/", {"payer_profile": None}, format="json").json()["payer_profile"] is None
    assert f"Criteria applied: {BUILTIN}." in report_lines(client_for(world.admin), world.patient.pk)


def test_unknown_or_another_clinics_profile_is_400_naming_profile(world):
    other = make_clinic("Clinic B", prefix="b")
    body = {"key": "theirs", "name": "Another clinic's policy", "rules": strict_rules()}
    theirs = client_for(other.admin).post("/api/v1/payer-profiles/", body, format="json").json()
    url = f"/api/v1/patients/{world.patient.pk}/report.pdf"
    for wanted in ("no-such-profile", "theirs", theirs["id"]):
        r = client_for(world.clinician).get(url, {"profile": wanted})
        assert r.status_code == 400, wanted
        assert error_fields(r) == {"profile"}
    r = client_for(world.admin).patch("/api/v1/clinic/", {"payer_profile": theirs["id"]}, format="json")
    assert r.status_code == 400 and error_fields(r) == {"payer_profile"}
    assert not AuditEvent.objects.filter(action="report.pdf", patient_id=world.patient.pk).exists()


def _floors(rules):
    return rules["severity_floors"]["minimum_baseline"]


def _treatments(rules):
    return rules["induction"]["by_treatment"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda r: r["categories"].update(response_min_percent=20), "rules.categories.response_min_percent"),
        (lambda r: _floors(r).update(madrs=61), "rules.severity_floors.minimum_baseline.madrs"),
        (lambda r: _floors(r).update(gad7=10), "rules.severity_floors.minimum_baseline.gad7"),
        (lambda r: _treatments(r).update(infusion={"days": 5, "source": "x"}), "rules.induction.by_treatment.infusion"),
        (lambda r: _treatments(r).update(esketamine={"source": "x"}), "rules.induction.by_treatment.esketamine"),
        (lambda r: r["baseline"].update(max_days_before_start="28"), "rules.baseline.max_days_before_start"),
        (lambda r: r["baseline"].pop("source"), "rules.baseline.source"),
    ],
)  # fmt: skip
def test_a_profile_is_validated_against_the_built_in_shape(world, change, field):
    rules = strict_rules()
    change(rules)
    r = client_for(world.admin).post(
        "/api/v1/payer-profiles/", {"key": "bad", "name": "Bad", "rules": rules}, format="json"
    )
    assert r.status_code == 400
    assert error_fields(r) == {field}
    r = client_for(world.admin).post(
        "/api/v1/payer-profiles/",
        {"key": "common-payer-criteria", "name": "Mine", "rules": strict_rules()},
        format="json",
    )
    assert error_fields(r) == {"key"} and r.json()["errors"][0]["code"] == "key_taken"


def test_treating_clinician_on_creation_and_by_patch():
    world = make_clinic()
    other = make_clinic("Clinic B", prefix="b")
    doctor = staff_create(actor=world.admin, username="dr-who", password=PASSWORD, role=Role.CLINICIAN)
    staff = client_for(world.clinician)
    r = staff.post(
        f"/api/v1/patients/{world.patient.pk}/courses/",
        {"modality": "iv_ketamine", "start_date": date.today().isoformat(), "treating_clinician": str(doctor.pk)},
        format="json",
    )
    assert r.status_code == 201, r.content
    course = r.json()
    assert course["treating_clinician"] == str(doctor.pk)
    url = f"/api/v1/courses/{course['id']}/"
    for wrong in (str(other.clinician.pk), str(world.patient_user.pk), "00000000-0000-0000-0000-000000000000"):
        r = staff.patch(url, {"treating_clinician": wrong}, format="json")
        assert r.status_code == 400 and error_fields(r) == {"treating_clinician"}, wrong
    assert staff.patch(url, {"start_date": "2020-01-01"}, format="json").status_code == 400
    r = staff.patch(url, {"treating_clinician": str(world.admin.pk)}, format="json")
    assert r.status_code == 200 and r.json()["treating_clinician"] == str(world.admin.pk)
    assert AuditEvent.objects.filter(action="course.treating_clinician", object_id=course["id"]).count() == 1
    assert client_for(other.clinician).patch(url, {"treating_clinician": None}, format="json").status_code == 404
    assert client_for(world.patient_user).patch(url, {"treating_clinician": None}, format="json").status_code == 403
    r = staff.post(
        f"/api/v1/patients/{world.patient.pk}/courses/",
        {"modality": "iv_ketamine", "start_date": date.today().isoformat(), "treating_clinician": str(other.admin.pk)},
        format="json",
    )
    assert r.status_code == 400 and error_fields(r) == {"treating_clinician"}
