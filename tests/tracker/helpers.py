"""Build test data the way users do: through the services and the HTTP API."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from django.test import Client
from rest_framework.test import APIClient

from tracker.records.models import Clinic, Patient, Role, User
from tracker.records.services.assessments import assessment_submit
from tracker.records.services.auth import token_issue
from tracker.records.services.clinics import clinic_create, staff_create
from tracker.records.services.patients import course_create, patient_create, patient_enroll

PASSWORD = "correct-Horse-battery-9"


def client_for(user: User | None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_issue(user=user).raw}")
    return client


@dataclass
class ClinicWorld:
    clinic: Clinic
    admin: User
    clinician: User
    patient: Patient
    patient_user: User
    other_patient: Patient
    other_patient_user: User


def make_clinic(name: str = "Clinic A", prefix: str = "a") -> ClinicWorld:
    clinic, admin = clinic_create(name=name, admin_username=f"{prefix}-admin", admin_password=PASSWORD)
    clinician = staff_create(actor=admin, username=f"{prefix}-clinician", password=PASSWORD, role=Role.CLINICIAN)
    patients = []
    for i in (1, 2):
        new = patient_create(actor=clinician, name=f"{prefix} patient {i}", timezone_name="UTC")
        patient, _ = patient_enroll(
            enrollment_code=new.enrollment_code, username=f"{prefix}-patient-{i}", password=PASSWORD
        )
        patient.refresh_from_db()
        patients.append(patient)
    return ClinicWorld(
        clinic=clinic,
        admin=admin,
        clinician=clinician,
        patient=patients[0],
        patient_user=patients[0].user,  # type: ignore[arg-type]
        other_patient=patients[1],
        other_patient_user=patients[1].user,  # type: ignore[arg-type]
    )


def items_with_total(scale: str, total: int, suicide: int = 0) -> list[int]:
    """Items of ``scale`` summing to ``total`` (filled from item 1, the suicide item set to ``suicide``)."""
    import scoring

    s = scoring.SCALES[scale]
    items = [0] * s.n_items
    items[s.suicide_item - 1] = suicide
    left = total - suicide
    for i in range(s.n_items):
        if i == s.suicide_item - 1:
            continue
        take = min(s.item_max[i], left)
        items[i] = take
        left -= take
    assert left == 0, "total too large for the scale"
    return items


def submit(client: APIClient, scale: str, on: date, total: int, patient: Patient | None = None, **extra: Any) -> Any:
    body: dict[str, Any] = {
        "scale": scale,
        "administered_on": on.isoformat(),
        "items": items_with_total(scale, total, extra.pop("suicide", 0)),
        "client_id": str(uuid.uuid4()),
        **extra,
    }
    if patient is not None:
        body["patient"] = str(patient.pk)
    return client.post("/api/v1/assessments/", body, format="json")


def weekly_course(
    world: ClinicWorld, name: str, modality: str, scale: str, start: date, totals: Sequence[int]
) -> Patient:
    """A new patient of ``world``'s clinic with a course from ``start`` and one entry a week of
    ``totals`` (the first on ``start``), entered by the clinician through the services."""
    patient = patient_create(actor=world.clinician, name=name).patient
    course_create(actor=world.clinician, patient=patient, modality=modality, with_therapy=False, start_date=start)
    weekly_entries(world.clinician, patient, scale, start, totals)
    return patient


def weekly_entries(actor: User, patient: Patient, scale: str, start: date, totals: Sequence[int]) -> None:
    """One entry a week of ``totals`` (the first on ``start``), submitted by ``actor`` through the service."""
    for week, total in enumerate(totals):
        assessment_submit(
            actor=actor,
            patient=patient,
            scale=scale,
            administered_on=start + timedelta(days=7 * week),
            items=items_with_total(scale, total),
            client_id=uuid.uuid4(),
        )


REPO_ROOT = Path(__file__).resolve().parents[2]


def run_manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """``manage.py`` in a child process, on the embedded defaults plus ``env`` (nothing of this
    process's DJANGO_*, DATABASE_URL or REDIS_URL)."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_URL", "REDIS_URL"))}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=REPO_ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def error_fields(response: Any) -> set[str]:
    """The offending fields an error answer names, whatever its body's shape.

    Tests assert on these (and on status codes), not on the body's layout, so that the error contract
    can move to RFC 9457 problem details (API.md 1.1) without touching every test.
    """
    body = response.json()
    if isinstance(body, dict) and isinstance(body.get("errors"), list):
        return {str(error.get("field")) for error in body["errors"] if error.get("field")}
    if isinstance(body, dict):
        return {key for key in body if key not in {"detail", "non_field_errors"}}
    return set()


def web_client(user: User) -> Client:
    """A browser's client for the dashboard, signed in as ``user``."""
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client
