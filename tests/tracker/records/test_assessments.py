"""Submitting, correcting and flagging entries through the API: bad input changes nothing."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

import pytest

from scoring import SCALES
from tests.tracker.helpers import client_for, error_fields, items_with_total, make_clinic, submit
from tracker.records.models import Assessment, AuditEvent, Patient, SafetyFlag

pytestmark = pytest.mark.django_db
TODAY = date.today()


@pytest.fixture
def world() -> Any:
    return make_clinic()


def body(scale: str = "bdi2", **over: Any) -> dict[str, Any]:
    return {
        "scale": scale,
        "administered_on": TODAY.isoformat(),
        "items": items_with_total(scale if scale in SCALES else "bdi2", 20),
        "client_id": str(uuid.uuid4()),
        **over,
    }


def nothing_stored() -> None:
    assert Assessment.objects.count() == 0
    assert SafetyFlag.objects.count() == 0
    assert not AuditEvent.objects.filter(action="assessment.create").exists()


@pytest.mark.parametrize(
    ("over", "field"),
    [
        ({"scale": "beck"}, "scale"),
        ({"scale": "madrs", "items": items_with_total("madrs", 20)}, "scale"),  # a patient may not rate MADRS
        ({"items": [1] * 20}, "items"),
        ({"items": [1] * 22}, "items"),
        ({"items": [4] + [0] * 20}, "items[0]"),
        ({"items": [-1] + [0] * 20}, "items[0]"),
        ({"items": ["x"] + [0] * 20}, "items[0]"),
        ({"items": [True] + [0] * 20}, "items[0]"),
        ({"items": [1.5] + [0] * 20}, "items[0]"),
        ({"items": [None] + [0] * 20}, "items[0]"),
        ({"items": [[1]] + [0] * 20}, "items[0]"),
        ({"administered_on": (TODAY + timedelta(days=2)).isoformat()}, "administered_on"),
        ({"administered_on": "2026-02-30"}, "administered_on"),
        ({"client_id": "not-a-uuid"}, "client_id"),
        ({"client_id": None}, "client_id"),
        ({"item_directions": {"3": "increase"}}, "item_directions"),
        ({"surprise": 1}, "surprise"),
    ],
)
def test_patient_bad_input_names_the_field_and_stores_nothing(world: Any, over: dict[str, Any], field: str) -> None:
    r = client_for(world.patient_user).post("/api/v1/assessments/", body(**over), format="json")
    assert r.status_code == 400, r.content
    assert any(key.startswith(field.split("[")[0]) for key in error_fields(r)), r.json()
    nothing_stored()


def test_item_error_names_the_item(world: Any) -> None:
    r = client_for(world.patient_user).post("/api/v1/assessments/", body(items=[0] * 5 + [7] + [0] * 15), format="json")
    assert r.status_code == 400
    assert error_fields(r) == {"items[5]"}, r.json()
    assert r.json()["errors"][0]["code"] == "out_of_range"


def test_staff_must_name_a_patient_of_their_clinic(world: Any) -> None:
    other = make_clinic("Clinic B", "b")
    staff = client_for(world.clinician)
    assert error_fields(staff.post("/api/v1/assessments/", body(), format="json")) == {"patient"}
    r = staff.post("/api/v1/assessments/", body(patient=str(other.patient.pk)), format="json")
    assert r.status_code == 400 and "patient" in error_fields(r)
    r = staff.post("/api/v1/assessments/", body(patient=str(uuid.uuid4())), format="json")
    assert r.status_code == 400 and "patient" in error_fields(r)
    nothing_stored()


def test_patient_cannot_submit_for_another_patient(world: Any) -> None:
    r = client_for(world.patient_user).post(
        "/api/v1/assessments/", body(patient=str(world.other_patient.pk)), format="json"
    )
    assert r.status_code == 400 and "patient" in error_fields(r)
    nothing_stored()


def test_date_before_the_course_window_is_refused(world: Any) -> None:
    staff = client_for(world.clinician)
    start = TODAY - timedelta(days=10)
    staff.post(
        f"/api/v1/patients/{world.patient.pk}/courses/",
        {"modality": "esketamine", "start_date": start.isoformat()},
        format="json",
    )
    ok = submit(client_for(world.patient_user), "bdi2", start - timedelta(days=30), 30)
    assert ok.status_code == 201
    r = client_for(world.patient_user).post(
        "/api/v1/assessments/", body(administered_on=(start - timedelta(days=31)).isoformat()), format="json"
    )
    assert r.status_code == 400 and "administered_on" in error_fields(r)


def test_the_window_follows_the_earliest_course_whatever_order_they_were_recorded(world: Any) -> None:
    staff = client_for(world.clinician)
    url = f"/api/v1/patients/{world.patient.pk}/courses/"
    for days_ago in (10, 100, 50):  # a course recorded later may have started earlier
        staff.post(
            url,
            {"modality": "iv_ketamine", "start_date": (TODAY - timedelta(days=days_ago)).isoformat()},
            format="json",
        )
    world.patient.refresh_from_db()
    assert world.patient.first_course_start == TODAY - timedelta(days=100)
    phone = client_for(world.patient_user)
    assert submit(phone, "bdi2", TODAY - timedelta(days=130), 30).status_code == 201
    r = phone.post(
        "/api/v1/assessments/", body(administered_on=(TODAY - timedelta(days=131)).isoformat()), format="json"
    )
    assert r.status_code == 400 and "administered_on" in error_fields(r)


def test_migration_fills_the_first_course_start_of_existing_patients(world: Any) -> None:
    import importlib

    from django.apps import apps

    staff = client_for(world.clinician)
    for days_ago in (20, 40):
        staff.post(
            f"/api/v1/patients/{world.patient.pk}/courses/",
            {"modality": "esketamine", "start_date": (TODAY - timedelta(days=days_ago)).isoformat()},
            format="json",
        )
    Patient.objects.update(first_course_start=None)
    migration = importlib.import_module("tracker.records.migrations.0003_patient_first_course_start")
    migration.fill_first_course_start(apps, None)
    assert dict(Patient.objects.filter(clinic=world.clinic).values_list("pk", "first_course_start")) == {
        world.patient.pk: TODAY - timedelta(days=40),
        world.other_patient.pk: None,
    }


def test_malformed_json_and_oversized_bodies(world: Any) -> None:
    client = client_for(world.patient_user)
    r = client.post("/api/v1/assessments/", data=b'{"scale": "bdi2", ', content_type="application/json")
    assert r.status_code == 400 and r.json()["code"] == "malformed_json"
    r = client.post("/api/v1/assessments/", data=b"[1, 2]", content_type="application/json")
    assert r.status_code == 400
    huge = b'{"scale": "bdi2", "notes": "' + b"x" * 70_000 + b'"}'
    r = client.post("/api/v1/assessments/", data=huge, content_type="application/json")
    assert r.status_code == 413
    nothing_stored()


def test_totals_and_severity_come_from_the_server(world: Any) -> None:
    r = client_for(world.patient_user).post("/api/v1/assessments/", body(total=3, severity="minimal"), format="json")
    assert r.status_code == 400  # unknown fields are refused, not trusted
    r = submit(client_for(world.patient_user), "bdi2", TODAY, 25)
    assert r.json()["total"] == 25 and r.json()["severity"] == "moderate"


def test_same_client_id_twice_is_one_entry(world: Any) -> None:
    client = client_for(world.patient_user)
    payload = body()
    first = client.post("/api/v1/assessments/", payload, format="json")
    again = client.post("/api/v1/assessments/", payload, format="json")
    changed = client.post("/api/v1/assessments/", {**payload, "items": items_with_total("bdi2", 5)}, format="json")
    assert (first.status_code, again.status_code, changed.status_code) == (201, 200, 200)
    assert first.json()["id"] == again.json()["id"] == changed.json()["id"]
    assert changed.json()["total"] == 20
    assert Assessment.objects.count() == 1


@pytest.mark.parametrize("suicide", [0, 3])
def test_a_retry_is_answered_exactly_as_the_first_submission(world: Any, suicide: int) -> None:
    """A retry is answered from the stored entry and its flags: the same body, crisis resources
    included, as the answer the phone may have missed."""
    client = client_for(world.patient_user)
    payload = body(items=items_with_total("bdi2", 20, suicide))
    first = client.post("/api/v1/assessments/", payload, format="json")
    again = client.post("/api/v1/assessments/", payload, format="json")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    assert len(first.json()["flags"]) == (1 if suicide else 0)
    assert (first.json()["crisis_resources"] is None) is (suicide == 0)
    replays = AuditEvent.objects.filter(action="assessment.replay")
    assert list(replays.values_list("object_id", "patient_id", "actor_id")) == [
        (first.json()["id"], world.patient.pk, world.patient_user.pk)
    ]


def test_a_client_id_is_one_patients(world: Any) -> None:
    """Another patient's entry under the same client_id is a new entry; each retry is answered
    with the retrying patient's own entry."""
    payload = body()
    mine = client_for(world.patient_user).post("/api/v1/assessments/", payload, format="json")
    theirs = client_for(world.other_patient_user).post("/api/v1/assessments/", payload, format="json")
    assert (mine.status_code, theirs.status_code) == (201, 201)
    assert mine.json()["id"] != theirs.json()["id"]
    again_mine = client_for(world.patient_user).post("/api/v1/assessments/", payload, format="json")
    again_theirs = client_for(world.other_patient_user).post("/api/v1/assessments/", payload, format="json")
    assert (again_mine.status_code, again_theirs.status_code) == (200, 200)
    assert again_mine.json() == mine.json() and again_theirs.json() == theirs.json()


def test_bdi_sleep_and_appetite_directions_are_stored(world: Any) -> None:
    items: list[Any] = [0] * 21
    items[15], items[17] = "2a", "1b"
    r = client_for(world.patient_user).post("/api/v1/assessments/", body(items=items), format="json")
    assert r.status_code == 201, r.content
    assert r.json()["total"] == 3
    assert r.json()["item_directions"] == {"16": "increase", "18": "decrease"}
    items = [0] * 21
    items[15] = 1
    r = client_for(world.patient_user).post(
        "/api/v1/assessments/", body(items=items, item_directions={"16": "decrease"}), format="json"
    )
    assert r.status_code == 201 and r.json()["item_directions"] == {"16": "decrease"}


@pytest.mark.parametrize(
    ("scale", "value", "level"), [("phq9", 1, "review"), ("phq9", 2, "urgent"), ("bdi2", 3, "urgent")]
)
def test_suicide_item_raises_a_flag_and_shows_crisis_resources(world: Any, scale: str, value: int, level: str) -> None:
    admin = client_for(world.admin)
    assert admin.put("/api/v1/clinic/crisis-resources/", {"country": "US"}, format="json").status_code == 200
    r = submit(client_for(world.patient_user), scale, TODAY, 5, suicide=value)
    assert r.status_code == 201
    flags = r.json()["flags"]
    assert [(f["item"], f["value"], f["level"]) for f in flags] == [(9, value, level)]
    assert "988" in r.json()["crisis_resources"]["message"]
    listed = client_for(world.clinician).get("/api/v1/patients/?flagged=true").json()["results"]
    assert [p["id"] for p in listed] == [str(world.patient.pk)]
    assert listed[0]["open_flags"][0]["level"] == level


def test_no_flag_no_crisis_message(world: Any) -> None:
    r = submit(client_for(world.patient_user), "phq9", TODAY, 5)
    assert r.json()["flags"] == [] and r.json()["crisis_resources"] is None


def test_acknowledging_a_flag_records_who_and_when(world: Any) -> None:
    flag_id = submit(client_for(world.patient_user), "phq9", TODAY, 5, suicide=2).json()["flags"][0]["id"]
    r = client_for(world.clinician).post(f"/api/v1/flags/{flag_id}/acknowledge/")
    assert r.status_code == 200
    assert r.json()["acknowledged_by"] == str(world.clinician.pk) and r.json()["acknowledged_at"]
    assert client_for(world.clinician).get("/api/v1/patients/?flagged=true").json()["count"] == 0
    assert AuditEvent.objects.filter(action="flag.acknowledge", object_id=flag_id).count() == 1


def test_amendment_keeps_the_original(world: Any) -> None:
    original = submit(client_for(world.patient_user), "phq9", TODAY, 12).json()
    staff = client_for(world.clinician)
    r = staff.post(
        f"/api/v1/assessments/{original['id']}/amend/",
        {"items": items_with_total("phq9", 9), "reason": "Patient misread item 3"},
        format="json",
    )
    assert r.status_code == 201, r.content
    amended = r.json()
    assert amended["supersedes"] == original["id"] and amended["total"] == 9 and amended["amend_reason"]
    entries = {e["id"]: e for e in staff.get(f"/api/v1/patients/{world.patient.pk}/assessments/").json()}
    assert entries[original["id"]]["is_superseded"] is True and entries[original["id"]]["total"] == 12
    current = staff.get(f"/api/v1/patients/{world.patient.pk}/assessments/?include_superseded=false").json()
    assert [e["id"] for e in current] == [amended["id"]]
    # The superseded version cannot be amended again; a reason is required.
    assert (
        staff.post(
            f"/api/v1/assessments/{original['id']}/amend/",
            {"items": items_with_total("phq9", 8), "reason": "again"},
            format="json",
        ).status_code
        == 409
    )
    r = staff.post(
        f"/api/v1/assessments/{amended['id']}/amend/",
        {"items": items_with_total("phq9", 8), "reason": " "},
        format="json",
    )
    assert r.status_code == 400 and "reason" in error_fields(r)
    assert Assessment.objects.count() == 2


def test_scale_filter_on_the_entry_list(world: Any) -> None:
    client = client_for(world.patient_user)
    submit(client, "phq9", TODAY, 3)
    submit(client, "bdi2", TODAY, 3)
    got = client.get(f"/api/v1/patients/{world.patient.pk}/assessments/?scale=phq9").json()
    assert [e["scale"] for e in got] == ["phq9"]
    assert client.get(f"/api/v1/patients/{world.patient.pk}/assessments/?scale=nope").status_code == 400


def test_clinician_rates_madrs_and_hamd(world: Any) -> None:
    staff = client_for(world.clinician)
    assert submit(staff, "madrs", TODAY, 30, patient=world.patient).json()["severity"] == "moderate"
    r = submit(staff, "hamd17", TODAY, 20, patient=world.patient)
    assert r.status_code == 201 and r.json()["severity"] == "severe"
    # HAM-D item 4 ranges 0-2 only.
    items = [0] * 17
    items[3] = 3
    r = staff.post("/api/v1/assessments/", body("hamd17", items=items, patient=str(world.patient.pk)), format="json")
    assert r.status_code == 400 and "items[3]" in error_fields(r)


def test_every_read_and_write_is_audited_without_values(world: Any) -> None:
    client = client_for(world.patient_user)
    r = client.post(
        "/api/v1/assessments/", body(), format="json", HTTP_X_REQUEST_ID="6f1e7f0c-54a5-4c1c-9a34-8d3c1d1f0a11"
    )
    entry = r.json()["id"]
    client.get(f"/api/v1/patients/{world.patient.pk}/assessments/")
    client.get(f"/api/v1/patients/{world.patient.pk}/outcomes/")
    client_for(world.clinician).get("/api/v1/patients/")
    events = list(
        AuditEvent.objects.filter(patient_id=world.patient.pk).values_list(
            "action", "object_id", "client_request_id", "actor_id", "request_id"
        )
    )
    actions = [e[0] for e in events]
    for expected in ("assessment.create", "assessment.list", "outcome.read", "patient.list"):
        assert expected in actions
    create = next(e for e in events if e[0] == "assessment.create")
    assert (
        create[1] == entry
        and create[2] == "6f1e7f0c-54a5-4c1c-9a34-8d3c1d1f0a11"
        and create[3] == world.patient_user.pk
        and create[4] == r["X-Request-ID"] != create[2]
    )
    with pytest.raises(PermissionError):
        AuditEvent.objects.first().delete()  # type: ignore[union-attr]


def test_database_refuses_a_course_in_another_clinic_than_its_patient(world: Any) -> None:
    from django.db import IntegrityError, transaction

    from tracker.records.models import TreatmentCourse

    other = make_clinic("Clinic B", "b")
    with pytest.raises(IntegrityError), transaction.atomic():
        TreatmentCourse.objects.create(patient=world.patient, clinic=other.clinic, modality="other", start_date=TODAY)
    assert not TreatmentCourse.objects.filter(patient=world.patient).exists()


def test_implausible_dates_are_refused_with_the_field_named(world: Any) -> None:
    """Found by schemathesis: a course dated 0001-01-02 made every later entry overflow (500)."""
    from tracker.records.models import TreatmentCourse

    staff = client_for(world.clinician)
    courses = f"/api/v1/patients/{world.patient.pk}/courses/"
    for start in ("0001-01-02", "1899-12-31", (TODAY + timedelta(days=367)).isoformat()):
        r = staff.post(courses, {"modality": "iv_ketamine", "start_date": start}, format="json")
        assert r.status_code == 400 and "start_date" in error_fields(r), start
    assert not TreatmentCourse.objects.exists()
    assert (
        staff.post(
            courses, {"modality": "iv_ketamine", "start_date": (TODAY + timedelta(days=30)).isoformat()}, format="json"
        ).status_code
        == 201
    )
    for on in ("0001-01-01", "1899-12-31"):
        r = client_for(world.patient_user).post("/api/v1/assessments/", body(administered_on=on), format="json")
        assert r.status_code == 400 and "administered_on" in error_fields(r), on
    nothing_stored()
    r = staff.post("/api/v1/patients/", {"name": "Old", "date_of_birth": "1899-12-31"}, format="json")
    assert r.status_code == 400 and "date_of_birth" in error_fields(r)


def test_a_course_cannot_start_before_the_patient_was_born(world: Any) -> None:
    staff = client_for(world.clinician)
    created = staff.post("/api/v1/patients/", {"name": "Young", "date_of_birth": "2000-05-01"}, format="json").json()
    r = staff.post(
        f"/api/v1/patients/{created['id']}/courses/",
        {"modality": "esketamine", "start_date": "2000-04-30"},
        format="json",
    )
    assert r.status_code == 400 and "start_date" in error_fields(r)


@pytest.mark.parametrize("scale", sorted(SCALES))
def test_the_entry_body_is_what_the_schemas_serializer_renders(world: Any, scale: str) -> None:
    """The API answers an entry with ``assessment_body`` (written out by hand); what it answers is
    what ``AssessmentSerializer`` (which describes it in the schema) renders.
    Fresh, reloaded, flagged, amended and acknowledged entries render alike."""
    import json

    from rest_framework.renderers import JSONRenderer

    from tracker.api.serializers.assessments import AssessmentSerializer

    staff = client_for(world.clinician)
    flagged = submit(staff, scale, TODAY, 12, patient=world.patient, suicide=2).json()
    plain = submit(staff, scale, TODAY - timedelta(days=1), 3, patient=world.patient).json()
    amended = staff.post(
        f"/api/v1/assessments/{plain['id']}/amend/",
        {"items": items_with_total(scale, 4), "reason": "typo"},
        format="json",
    ).json()
    flag_id = flagged["flags"][0]["id"]
    assert staff.post(f"/api/v1/flags/{flag_id}/acknowledge/").status_code == 200
    if scale == "bdi2":
        items: list[Any] = [0] * 21
        items[15] = "2a"
        assert submit(staff, scale, TODAY, 0, patient=world.patient, items=items).status_code == 201

    def rendered(data: Any) -> Any:
        return json.loads(JSONRenderer().render(data))

    entries = list(Assessment.objects.order_by("administered_on", "seq", "created_at"))
    assert len(entries) == (4 if scale == "bdi2" else 3)
    expected = [rendered(AssessmentSerializer(entry).data) for entry in entries]
    for entry, body in zip(entries, expected, strict=True):
        assert staff.get(f"/api/v1/assessments/{entry.pk}/").json() == body
    assert staff.get(f"/api/v1/patients/{world.patient.pk}/assessments/").json() == expected
    assert amended == expected[[e["id"] for e in expected].index(amended["id"])]
    assert amended["supersedes"] == plain["id"]
    acknowledged = staff.get(f"/api/v1/assessments/{flagged['id']}/").json()
    assert acknowledged["flags"][0]["acknowledged_at"] is not None
