"""A client generated from the OpenAPI schema with ``openapi-python-client`` (the pinned one of
requirements/dev.txt), as a mobile team would generate it, builds without a warning and walks a phone's
whole life against a live server: enroll → due → submit → retry → outcomes (again with their ETag; the
chart as bytes) → progress → change password, and reads a refused request's problem details.

The generator's configuration is the one a team would need: chart and PDF answers are typed binaries with
their real media types (``image/png``, ``image/svg+xml``, ``application/pdf``), which the generator only
reads as bytes when told to treat them as ``application/octet-stream`` (its documented
``content_type_overrides``); the post-generation hooks (ruff) are off, so the output does not depend on
what is on ``PATH``. Every request of the walk goes through the generated functions and models; the
clinician's token is issued through the services, as a dashboard login would.
"""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

pytest.importorskip("openapi_python_client", reason="openapi-python-client is not installed (requirements/dev.txt)")

from django.core.management import call_command

from tests.tracker.helpers import PASSWORD, items_with_total, make_clinic
from tracker.records.services.auth import token_issue

pytestmark = pytest.mark.slow

PACKAGE = "tracker_api_client"
CONFIG = {
    "content_type_overrides": {
        "image/png": "application/octet-stream",
        "image/svg+xml": "application/octet-stream",
        "application/pdf": "application/octet-stream",
    },
    "post_hooks": [],
}
WARNING_MARKERS = ("Warning", "WARNING", "Unable to")


class Generated:
    def __init__(self, root: Path, output: str, returncode: int) -> None:
        self.root, self.output, self.returncode = root, output, returncode

    def module(self, name: str) -> ModuleType:
        return importlib.import_module(f"{PACKAGE}.{name}")

    def op(self, tag: str, operation: str) -> ModuleType:
        return self.module(f"api.{tag}.{operation}")

    @property
    def models(self) -> ModuleType:
        return self.module("models")


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Any:
    root = tmp_path_factory.mktemp("generated_client")
    schema, config = root / "schema.json", root / "config.json"
    call_command("spectacular", "--format", "openapi-json", "--file", str(schema))
    config.write_text(json.dumps(CONFIG))
    generator = Path(sys.executable).with_name("openapi-python-client")
    command = [str(generator)] if generator.exists() else [sys.executable, "-m", "openapi_python_client"]
    done = subprocess.run(
        [
            *command,
            "generate",
            "--path",
            str(schema),
            "--output-path",
            str(root / PACKAGE),
            "--meta",
            "none",
            "--config",
            str(config),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=root,
    )
    sys.path.insert(0, str(root))
    importlib.invalidate_caches()
    yield Generated(root, done.stdout + done.stderr, done.returncode)
    sys.path.remove(str(root))
    for name in [m for m in sys.modules if m == PACKAGE or m.startswith(f"{PACKAGE}.")]:
        del sys.modules[name]


def test_client_generates_without_warnings(generated: Generated) -> None:
    assert generated.returncode == 0, generated.output
    warnings = [line for line in generated.output.splitlines() if any(m in line for m in WARNING_MARKERS)]
    assert warnings == [], generated.output
    package = generated.root / PACKAGE
    assert (package / "api" / "enroll" / "enroll_create.py").exists()
    # The binary answers are kept, typed as bytes, not dropped.
    assert "File" in (package / "api" / "patients" / "patients_chart_retrieve.py").read_text()
    assert "File" in (package / "api" / "patients" / "patients_report_pdf_retrieve.py").read_text()


def _ok(response: Any, status: HTTPStatus = HTTPStatus.OK) -> Any:
    assert response.status_code == status, response.content
    return response.parsed


@pytest.mark.django_db(transaction=True)
def test_a_phones_whole_life_through_the_generated_client(generated: Generated, live_server: Any) -> None:
    assert generated.returncode == 0, generated.output
    pkg = importlib.import_module(PACKAGE)
    m = generated.models
    op = generated.op
    world = make_clinic()
    base_url = live_server.url

    def client(token: str | None = None) -> Any:
        if token is None:
            return pkg.Client(base_url=base_url, raise_on_unexpected_status=True)
        return pkg.AuthenticatedClient(base_url=base_url, token=token, raise_on_unexpected_status=True)

    today = datetime.now(UTC).date()  # the patient lives in UTC
    start = today - timedelta(days=14)

    # The clinician onboards a patient and starts a course.
    clinician = client(token_issue(user=world.clinician).raw)
    created = _ok(
        op("patients", "patients_create").sync_detailed(
            client=clinician, body=m.PatientCreateRequest(name="Phone Patient", timezone=m.TimezoneEnum("UTC"))
        ),
        HTTPStatus.CREATED,
    )
    assert isinstance(created, m.PatientCreated) and created.enrollment_code and not created.enrolled
    course = _ok(
        op("patients", "patients_courses_create").sync_detailed(
            str(created.id),
            client=clinician,
            body=m.CourseCreateRequest(modality=m.ModalityEnum.IV_KETAMINE, start_date=start, with_therapy=False),
        ),
        HTTPStatus.CREATED,
    )
    assert isinstance(course, m.Course) and course.start_date == start

    # The phone enrolls with the code.
    enrolled = _ok(
        op("enroll", "enroll_create").sync_detailed(
            client=client(),
            body=m.EnrollRequest(enrollment_code=created.enrollment_code, username="phone-patient", password=PASSWORD),
        ),
        HTTPStatus.CREATED,
    )
    assert isinstance(enrolled, m.EnrollResponse) and enrolled.patient_id == created.id
    phone = client(enrolled.token)
    patient_id = str(enrolled.patient_id)

    # What is due: both weekly questionnaires, at once.
    me = _ok(op("me", "me_retrieve").sync_detailed(client=phone))
    assert isinstance(me, m.Me) and me.patient.id == created.id and me.course is not None
    assert me.course.id == course.id
    due = {d.scale: d for d in me.due}
    assert set(due) == {m.ScaleEnum.BDI2, m.ScaleEnum.PHQ9}
    assert due[m.ScaleEnum.BDI2].due and due[m.ScaleEnum.BDI2].last_completed is None

    # The first BDI-II, caught up for the course's start, then today's.
    def bdi(on: Any, total: int, client_id: uuid.UUID) -> Any:
        return m.AssessmentCreateRequest(
            scale=m.ScaleEnum.BDI2, administered_on=on, items=items_with_total("bdi2", total), client_id=client_id
        )

    submit = op("assessments", "assessments_create").sync_detailed
    baseline = _ok(submit(client=phone, body=bdi(start, 30, uuid.uuid4())), HTTPStatus.CREATED)
    today_id = uuid.uuid4()
    first = _ok(submit(client=phone, body=bdi(today, 12, today_id)), HTTPStatus.CREATED)
    assert isinstance(first, m.SubmittedAssessment)
    assert len(first.items) == 21 and first.total == 12 and first.client_id == today_id
    assert first.entered_by_role == m.RoleEnum.PATIENT and first.severity == m.SeverityEnum.MINIMAL
    assert first.crisis_resources is None and first.flags == []

    # The connection dropped before the answer: the phone sends the same entry again.
    retried = _ok(submit(client=phone, body=bdi(today, 12, today_id)), HTTPStatus.OK)
    assert retried.id == first.id and retried.total == first.total and retried.created_at == first.created_at
    entries = _ok(op("patients", "patients_assessments_list").sync_detailed(patient_id, client=phone))
    assert sorted(e.id for e in entries) == sorted([baseline.id, first.id])

    # Done for this week: the BDI-II is no longer due.
    me = _ok(op("me", "me_retrieve").sync_detailed(client=phone))
    bdi_due = next(d for d in me.due if d.scale == m.ScaleEnum.BDI2)
    assert not bdi_due.due and bdi_due.last_completed == today and bdi_due.next_due == today + timedelta(days=7)

    # Outcomes: baseline 30, latest 12, a response.
    outcomes = _ok(op("patients", "patients_outcomes_retrieve").sync_detailed(patient_id, client=phone))
    assert isinstance(outcomes, m.OutcomesByScale)
    outcome = outcomes.bdi2
    assert isinstance(outcome, m.Outcome) and outcome.scale == m.ScaleEnum.BDI2
    assert (outcome.baseline.date, outcome.baseline.total) == (start, 30)
    assert (outcome.latest.date, outcome.latest.total) == (today, 12)
    assert outcome.latest.improvement == pytest.approx(0.6)
    assert outcome.latest.response == m.ResponseEnum.RESPONSE
    assert isinstance(outcome.state, m.StateEnum)
    # Read again with the ETag: nothing changed, nothing downloaded.
    read_outcomes = op("patients", "patients_outcomes_retrieve").sync_detailed
    first_read = read_outcomes(patient_id, client=phone)
    etag = first_read.headers["etag"]
    unchanged = read_outcomes(patient_id, client=phone, if_none_match=etag)
    assert unchanged.status_code == HTTPStatus.NOT_MODIFIED and unchanged.content == b""

    # The chart is a typed binary answer (bytes), not dropped by the generator.
    chart = _ok(
        op("patients", "patients_chart_retrieve").sync_detailed(
            patient_id, m.PatientsChartRetrieveFmt.PNG, client=phone, scale=m.PatientsChartRetrieveScale.BDI2
        )
    )
    assert chart.payload.read().startswith(b"\x89PNG\r\n\x1a\n")

    # Progress in plain words, from the same numbers.
    progress = _ok(op("me", "me_progress_retrieve").sync_detailed(client=phone))
    assert isinstance(progress, m.Progress) and progress.patient_id == created.id
    [bdi_progress] = progress.scales
    assert bdi_progress.scale == m.ScaleProgressScaleEnum.BDI2
    assert bdi_progress.headline and bdi_progress.where_you_are and bdi_progress.what_it_means
    assert bdi_progress.next_step

    # A refused entry: every offending field at once, as a problem the client reads; nothing is stored.
    wrong_items = items_with_total("bdi2", 12)
    wrong_items[4] = 7
    refused = submit(
        client=phone,
        body=m.AssessmentCreateRequest(
            scale=m.ScaleEnum.BDI2,
            administered_on=today + timedelta(days=30),
            items=wrong_items,
            client_id=uuid.uuid4(),
        ),
    )
    assert refused.status_code == HTTPStatus.BAD_REQUEST
    assert refused.headers["content-type"].startswith("application/problem+json")
    problem = refused.parsed
    assert isinstance(problem, m.Problem)
    assert (problem.status, problem.code) == (400, "validation_error")
    assert problem.type_.endswith("validation_error") and problem.title and problem.detail
    fields = {e.field: e.code for e in problem.errors}
    assert fields.get("items[4]") == "out_of_range", fields
    assert "administered_on" in fields, fields
    entries = _ok(op("patients", "patients_assessments_list").sync_detailed(patient_id, client=phone))
    assert len(entries) == 2

    # Another phone signed in as the same patient; the first one changes the password.
    login = op("auth", "auth_token_create").sync_detailed
    other = _ok(login(client=client(), body=m.LoginRequest(username="phone-patient", password=PASSWORD)))
    assert isinstance(other, m.Token) and other.role == m.RoleEnum.PATIENT
    new_password = "another-Horse-battery-7"
    changed = op("auth", "auth_password_create").sync_detailed(
        client=phone, body=m.PasswordChangeRequest(old_password=PASSWORD, new_password=new_password)
    )
    assert changed.status_code == HTTPStatus.NO_CONTENT, changed.content
    # The token that changed it keeps working; the other phone's is revoked.
    assert _ok(op("me", "me_retrieve").sync_detailed(client=phone)).patient.id == created.id
    revoked = op("me", "me_retrieve").sync_detailed(client=client(other.token))
    assert revoked.status_code == HTTPStatus.UNAUTHORIZED
    assert isinstance(revoked.parsed, m.Problem) and revoked.parsed.code == "token_revoked"
    # The old password no longer signs in; the new one does.
    old = login(client=client(), body=m.LoginRequest(username="phone-patient", password=PASSWORD))
    assert old.status_code == HTTPStatus.BAD_REQUEST and old.parsed.code == "invalid_credentials"
    fresh = _ok(login(client=client(), body=m.LoginRequest(username="phone-patient", password=new_password)))
    assert fresh.role == m.RoleEnum.PATIENT
    again = _ok(op("me", "me_retrieve").sync_detailed(client=client(fresh.token)))
    assert again.patient.id == created.id
