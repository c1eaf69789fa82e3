"""ETag / If-None-Match on a patient's profile, outcomes and charts: a phone that holds the answer
already gets 304 without a body; any change that alters the answer changes the ETag; a 304 is audited
as the read it is; scope comes first."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from rest_framework.test import APIClient

from tests.tracker.helpers import client_for, make_clinic, submit
from tracker.records.models import AuditEvent
from tracker.records.services.patients import course_create, session_create

pytestmark = pytest.mark.django_db
TODAY = date.today()


@pytest.fixture
def world() -> Any:
    w = make_clinic()
    course_create(
        actor=w.clinician, patient=w.patient, modality="iv_ketamine", with_therapy=False,
        start_date=TODAY - timedelta(days=21),
    )  # fmt: skip
    phone = client_for(w.patient_user)
    for week, total in enumerate((40, 30, 20)):
        assert submit(phone, "bdi2", TODAY - timedelta(days=21 - 7 * week), total).status_code == 201
    return w


def paths(w: Any) -> dict[str, str]:
    base = f"/api/v1/patients/{w.patient.pk}"
    return {
        "me": "/api/v1/me/",
        "progress": "/api/v1/me/progress/",
        "outcomes": f"{base}/outcomes/",
        "png": f"{base}/chart.png",
        "svg": f"{base}/chart.svg",
        "png_bdi2": f"{base}/chart.png?scale=bdi2",
    }


READ_ACTION = {
    "me": "patient.me",
    "progress": "progress.read",
    "outcomes": "outcome.read",
    "png": "chart.png",
    "svg": "chart.svg",
}
PATIENT_ONLY = ("me", "progress")


@pytest.mark.parametrize("what", ["me", "progress", "outcomes", "png", "svg"])
def test_a_matching_etag_is_answered_304_without_a_body_and_audited(world: Any, what: str) -> None:
    client = client_for(world.patient_user)
    path = paths(world)[what]
    first = client.get(path)
    etag = first["ETag"]
    assert first.status_code == 200 and etag.startswith('"') and etag.endswith('"')
    assert client.get(path)["ETag"] == etag  # the same answer, the same tag
    reads = AuditEvent.objects.filter(action=READ_ACTION[what], actor=world.patient_user).count()
    again = client.get(path, HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304 and again.content == b"" and again["ETag"] == etag
    assert "no-store" in again["Cache-Control"]
    assert AuditEvent.objects.filter(action=READ_ACTION[what], actor=world.patient_user).count() == reads + 1
    # A list naming it, a weak form of it, and "*" match too; another tag does not.
    assert client.get(path, HTTP_IF_NONE_MATCH=f'"other", {etag}').status_code == 304
    assert client.get(path, HTTP_IF_NONE_MATCH=f"W/{etag}").status_code == 304
    assert client.get(path, HTTP_IF_NONE_MATCH="*").status_code == 304
    stale = client.get(path, HTTP_IF_NONE_MATCH='"not-this-one"')
    assert stale.status_code == 200 and stale["ETag"] == etag and stale.content == first.content


def test_each_format_and_scale_has_its_own_etag(world: Any) -> None:
    client = client_for(world.clinician)
    tags = {what: client.get(path)["ETag"] for what, path in paths(world).items() if what not in PATIENT_ONLY}
    assert len(set(tags.values())) == len(tags)
    # Staff and the patient are shown the same chart: the same tag.
    assert client_for(world.patient_user).get(paths(world)["png"])["ETag"] == tags["png"]


@pytest.mark.parametrize("what", ["outcomes", "png", "svg"])
def test_a_new_entry_an_amendment_a_baseline_mark_or_a_session_changes_the_answer(world: Any, what: str) -> None:
    staff = client_for(world.clinician)
    path = paths(world)[what]

    def changed(before: str) -> str:
        r = staff.get(path, HTTP_IF_NONE_MATCH=before)
        assert r.status_code == 200 and r["ETag"] != before
        return str(r["ETag"])

    etag = staff.get(path)["ETag"]
    submit(client_for(world.patient_user), "bdi2", TODAY, 12)
    etag = changed(etag)
    entries = staff.get(f"/api/v1/patients/{world.patient.pk}/assessments/").json()
    latest = entries[-1]["id"]
    amended = staff.post(
        f"/api/v1/assessments/{latest}/amend/", {"items": [0] * 21, "reason": "Transcription"}, format="json"
    )
    assert amended.status_code == 201
    etag = changed(etag)
    assert staff.post(f"/api/v1/assessments/{entries[1]['id']}/baseline/").status_code == 200
    etag = changed(etag)
    course = world.patient.courses.get()
    session_create(actor=world.clinician, course=course, date=TODAY - timedelta(days=1))
    if what == "outcomes":  # sessions are drawn, not part of the outcome
        assert staff.get(path, HTTP_IF_NONE_MATCH=etag).status_code == 304
    else:
        changed(etag)


def test_the_progress_etag_follows_the_entries_and_the_language(world: Any) -> None:
    client = client_for(world.patient_user)
    path = paths(world)["progress"]
    etag = client.get(path)["ETag"]
    spanish = client.get(path, HTTP_IF_NONE_MATCH=etag, HTTP_ACCEPT_LANGUAGE="es")
    assert spanish.status_code == 200 and spanish["ETag"] != etag
    submit(client, "bdi2", TODAY, 8)
    assert client.get(path, HTTP_IF_NONE_MATCH=etag).status_code == 200


def test_the_profile_etag_follows_the_profile(world: Any) -> None:
    client = client_for(world.patient_user)
    etag = client.get("/api/v1/me/")["ETag"]
    client.patch("/api/v1/me/", {"timezone": "Asia/Tokyo"}, format="json")
    r = client.get("/api/v1/me/", HTTP_IF_NONE_MATCH=etag)
    assert r.status_code == 200 and r["ETag"] != etag and r.json()["patient"]["timezone"] == "Asia/Tokyo"


def test_scope_comes_before_the_etag(world: Any) -> None:
    other = make_clinic("Clinic B", "b")
    for what, path in paths(world).items():
        if what in PATIENT_ONLY:
            assert client_for(world.clinician).get(path, HTTP_IF_NONE_MATCH="*").status_code == 403
            continue
        assert client_for(other.clinician).get(path, HTTP_IF_NONE_MATCH="*").status_code == 404
        assert client_for(world.other_patient_user).get(path, HTTP_IF_NONE_MATCH="*").status_code == 404
        assert APIClient().get(path, HTTP_IF_NONE_MATCH="*").status_code == 401
    assert not AuditEvent.objects.filter(action__in=list(READ_ACTION.values()), actor=other.clinician).exists()


def test_an_invalid_query_is_still_a_400(world: Any) -> None:
    r = client_for(world.patient_user).get(f"{paths(world)['png']}?scale=nope", HTTP_IF_NONE_MATCH="*")
    assert r.status_code == 400
