"""From an operator's command to a patient's outcome, through HTTP only."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from datetime import date, timedelta
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import TestCase
from django.utils import timezone
from rest_framework.test import APIClient

from tests.tracker.helpers import PASSWORD, items_with_total
from tracker.records.models import Clinic, EnrollmentCode, User

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[3]


def bearer(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def login(username: str) -> APIClient:
    r = APIClient().post("/api/v1/auth/token/", {"username": username, "password": PASSWORD}, format="json")
    assert r.status_code == 200, r.content
    return bearer(r.json()["token"])


def test_create_clinic_prints_json(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("CLINIC_ADMIN_PASSWORD", PASSWORD)
    call_command("create_clinic", "--name", "Harbor Clinic", "--admin-username", "harbor-admin")
    out = json.loads(capsys.readouterr().out)
    assert out["admin_username"] == "harbor-admin"
    assert Clinic.objects.get(pk=out["clinic_id"]).name == "Harbor Clinic"
    assert User.objects.get(username="harbor-admin").role == "admin"


def test_create_clinic_refuses_without_password_or_with_a_weak_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CLINIC_ADMIN_PASSWORD", raising=False)
    with pytest.raises(CommandError, match="CLINIC_ADMIN_PASSWORD"):
        call_command("create_clinic", "--name", "X", "--admin-username", "x-admin")
    monkeypatch.setenv("CLINIC_ADMIN_PASSWORD", "123")
    with pytest.raises(CommandError, match="password"):
        call_command("create_clinic", "--name", "X", "--admin-username", "x-admin")
    assert not Clinic.objects.exists()


def test_create_clinic_as_an_operator_runs_it(tmp_path: Path) -> None:
    env = {**os.environ, "CLINIC_ADMIN_PASSWORD": PASSWORD, "SQLITE_PATH": str(tmp_path / "db.sqlite3")}
    env.pop("DATABASE_URL", None)
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "-v", "0"], env=env, check=True, cwd=ROOT)
    done = subprocess.run(
        [*manage, "create_clinic", "--name", "Op Clinic", "--admin-username", "op-admin"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(done.stdout)["admin_username"] == "op-admin"


def test_clinic_to_outcome_worked_example(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("CLINIC_ADMIN_PASSWORD", PASSWORD)
    call_command("create_clinic", "--name", "Seed Clinic", "--admin-username", "seed-admin")
    admin = login("seed-admin")
    assert (
        admin.post(
            "/api/v1/staff/", {"username": "dr-k", "password": PASSWORD, "role": "clinician"}, format="json"
        ).status_code
        == 201
    )
    clinician = login("dr-k")
    r = clinician.post("/api/v1/patients/", {"name": "A. Writer", "timezone": "America/New_York"}, format="json")
    assert r.status_code == 201
    patient_id, code = r.json()["id"], r.json()["enrollment_code"]

    r = APIClient().post(
        "/api/v1/enroll/", {"enrollment_code": code, "username": "writer", "password": PASSWORD}, format="json"
    )
    assert r.status_code == 201 and r.json()["patient_id"] == patient_id
    # Single use.
    again = APIClient().post(
        "/api/v1/enroll/", {"enrollment_code": code, "username": "writer2", "password": PASSWORD}, format="json"
    )
    assert again.status_code == 400 and "enrollment_code" in again.json()
    phone = bearer(r.json()["token"])

    start = timezone.now().date() - timedelta(days=70)
    r = clinician.post(
        f"/api/v1/patients/{patient_id}/courses/",
        {"modality": "iv_ketamine", "with_therapy": False, "start_date": start.isoformat()},
        format="json",
    )
    assert r.status_code == 201
    course_id = r.json()["id"]
    for k in range(6):
        assert (
            clinician.post(
                f"/api/v1/courses/{course_id}/sessions/",
                {"date": (start + timedelta(days=2 * k)).isoformat(), "dose_mg": "35"},
                format="json",
            ).status_code
            == 201
        )

    # Each entry's commit runs the recomputation it schedules (the workers store the snapshots the
    # list filters on; a test's transaction never commits on its own).
    with TestCase.captureOnCommitCallbacks(execute=True):
        for k, total in enumerate([48, 47, 46, 44, 30, 12, 4, 3, 4, 3]):
            r = phone.post(
                "/api/v1/assessments/",
                {
                    "scale": "bdi2",
                    "administered_on": (start + timedelta(days=7 * k)).isoformat(),
                    "items": items_with_total("bdi2", total),
                    "client_id": str(uuid.uuid4()),
                },
                format="json",
            )
            assert r.status_code == 201, r.content
            assert r.json()["total"] == total

    outcome = phone.get(f"/api/v1/patients/{patient_id}/outcomes/").json()["bdi2"]
    day = lambda n: (start + timedelta(days=n)).isoformat()  # noqa: E731
    assert outcome["baseline"] == {"date": day(0), "total": 48}
    assert outcome["first_response_date"] == day(35)
    assert outcome["state"] == "remission"
    assert outcome["events"] == [{"type": "remission", "onset": day(35), "confirmed": day(56)}]
    assert outcome["latest"] == {"date": day(63), "total": 3, "improvement": 0.9375, "response": "response"}
    assert outcome["projection"]["signal"] in {"ahead", "on_track", "at_risk", "off_track"}
    assert outcome["projection"]["week"] == 9

    listed = clinician.get("/api/v1/patients/?state=remission").json()
    assert [p["id"] for p in listed["results"]] == [patient_id]
    assert clinician.get("/api/v1/patients/?state=remission_pending").json()["count"] == 0

    me = phone.get("/api/v1/me/").json()
    assert me["course"]["id"] == course_id
    due = {d["scale"]: d for d in me["due"]}
    assert due["phq9"]["due"] is True and due["phq9"]["last_completed"] is None


def test_expired_enrollment_code_is_refused() -> None:
    from tests.tracker.helpers import make_clinic
    from tracker.records.services.patients import patient_create

    world = make_clinic()
    new = patient_create(actor=world.clinician, name="Late")
    EnrollmentCode.objects.filter(patient=new.patient).update(expires_at=timezone.now() - timedelta(minutes=1))
    r = APIClient().post(
        "/api/v1/enroll/",
        {"enrollment_code": new.enrollment_code, "username": "late", "password": PASSWORD},
        format="json",
    )
    assert r.status_code == 400 and not User.objects.filter(username="late").exists()


def test_due_questionnaires_follow_the_last_entry(db: object) -> None:
    from tests.tracker.helpers import client_for, make_clinic, submit

    world = make_clinic()
    phone = client_for(world.patient_user)
    today = date.today()
    assert submit(phone, "bdi2", today - timedelta(days=3), 20).status_code == 201
    due = {d["scale"]: d for d in phone.get("/api/v1/me/").json()["due"]}
    assert due["bdi2"]["due"] is False and due["bdi2"]["next_due"] == (today + timedelta(days=4)).isoformat()
    assert due["phq9"]["due"] is True
