"""Schemathesis' CLI, ``--checks all``, against the real server as a mobile team would run it: gunicorn with
the project's ``gunicorn.conf.py`` and production settings (DEBUG off) on a free local port, on PostgreSQL
(this test's own database), for the patient, the clinician and the clinic admin, each with its bearer token.
Every run must end with exit status 0: no failure of any check.

Each role works in a clinic of its own, with data to find (a course with weekly BDI-II entries, the last
one raising a safety flag), so that the three runs go side by side without one changing what another
tests (an admin deactivating the clinician, a clinician issuing the patient a code). ``/api/v1/auth/logout/``
revokes the token it is sent with, so it runs last for each role with a token of its own. The sign-in
throttles are raised for the run so that the operations behind them (sign-in, enrolment, password reset)
are tested rather than answered 429; the 429 itself is tested in test_auth. The exceptions schemathesis
is told about are in ``schemathesis.toml`` (repository root), each with the rule the schema cannot state.
Schemathesis runs in a directory of its own without its example database, so runs are independent.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from tests.server import ROOT, gunicorn_server
from tests.tracker.helpers import PASSWORD, items_with_total
from tests.worker import worker_database_url
from tracker.records.models import Role
from tracker.records.services.assessments import assessment_submit
from tracker.records.services.auth import token_issue
from tracker.records.services.clinics import clinic_create, staff_create
from tracker.records.services.patients import course_create, patient_create, patient_enroll

pytestmark = [pytest.mark.services, pytest.mark.slow]

ROLES = ("patient", "clinician", "admin")
#: Test cases per operation in the fuzzing phase (the coverage phase's cases are derived from the schema).
MAX_EXAMPLES = os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "8")
#: A fixed seed: CI draws the same cases each run (a new finding is a change's, not the dice's); set
#: SCHEMATHESIS_SEED to explore other cases.
SEED = os.environ.get("SCHEMATHESIS_SEED", "20261202")


def _world(role: str) -> dict[str, Any]:
    """A clinic of the role's own with an admin, a clinician and an enrolled patient whose course has
    entries and a flag; the user whose role runs, and two tokens of theirs (the second for the logout)."""
    prefix = f"live-{role}"
    _clinic, admin = clinic_create(
        name=f"Clinic of the {role}", admin_username=f"{prefix}-admin", admin_password=PASSWORD
    )
    clinician = staff_create(actor=admin, username=f"{prefix}-clinician", password=PASSWORD, role=Role.CLINICIAN)
    new = patient_create(actor=clinician, name="Live patient", timezone_name="Europe/Madrid")
    patient, _ = patient_enroll(enrollment_code=new.enrollment_code, username=f"{prefix}-patient", password=PASSWORD)
    start = timezone.localdate() - timedelta(days=35)
    course_create(actor=clinician, patient=patient, modality="iv_ketamine", with_therapy=False, start_date=start)
    for week, total in enumerate([38, 31, 24, 17, 12]):
        assessment_submit(
            actor=clinician,
            patient=patient,
            scale="bdi2",
            administered_on=start + timedelta(days=7 * week),
            items=items_with_total("bdi2", total, suicide=2 if week == 4 else 0),
            client_id=uuid.uuid4(),
        )
    assert patient.flags.exists()
    user = {"patient": patient.user, "clinician": clinician, "admin": admin}[role]
    assert user is not None
    return {"token": token_issue(user=user).raw, "logout_token": token_issue(user=user).raw}


@pytest.fixture
def gunicorn(transactional_db: Any, tmp_path: Path) -> Iterator[str]:
    """The server's base URL; the server is stopped before the test database is flushed."""
    if connection.vendor != "postgresql":
        pytest.skip("runs against PostgreSQL (DATABASE_URL=postgres://…)")
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")},
        "DJANGO_ENV": "production",
        "DJANGO_SECRET_KEY": f"schemathesis-{uuid.uuid4().hex}{uuid.uuid4().hex}",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "0",  # plain HTTP on the loopback: no TLS proxy in front
        "DATABASE_URL": worker_database_url(),
        # No worker runs beside this server: tasks run in the request instead of waiting in the broker.
        "CELERY_TASK_ALWAYS_EAGER": "1",
        "EXPORT_DIR": str(tmp_path / "exports"),
        "WEB_CONCURRENCY": "3",  # one per role's run
        "LOG_LEVEL": "WARNING",
        "LOGIN_RATE": "100000/min",
        "ENROLL_RATE": "100000/min",
        "PASSWORD_RESET_RATE": "100000/min",
        "GUNICORN_LOG_LEVEL": "warning",
    }
    with (tmp_path / "gunicorn.log").open("wb") as log:
        try:
            with gunicorn_server(env, log=log) as base:
                yield base
        except RuntimeError as error:
            raise RuntimeError(f"{error}: {(tmp_path / 'gunicorn.log').read_text()}") from None


def _schemathesis() -> list[str]:
    found = shutil.which("schemathesis", path=str(Path(sys.executable).parent))
    return [found] if found else [sys.executable, "-m", "schemathesis.cli"]


def _run(base: str, schema: Path, token: str, cwd: Path, *selection: str) -> subprocess.CompletedProcess[str]:
    cwd.mkdir()
    return subprocess.run(
        [
            *_schemathesis(),
            "--config-file",
            str(ROOT / "schemathesis.toml"),
            "run",
            str(schema),
            "--url",
            base,
            "--header",
            f"Authorization: Bearer {token}",
            "--checks",
            "all",
            "--max-examples",
            MAX_EXAMPLES,
            "--seed",
            SEED,
            "--generation-database",
            "none",
            "--no-color",
            *selection,
        ],
        cwd=cwd,  # schemathesis keeps a cache of the API's capabilities in its working directory
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def _role(base: str, schema: Path, world: dict[str, Any], role: str, tmp_path: Path) -> list[str]:
    """The role's run, then its logout; a line per run (cases, seconds) and the output of any that failed."""
    runs = [
        ("main", world["token"], ("--exclude-path", "/api/v1/auth/logout/")),
        ("logout", world["logout_token"], ("--include-path", "/api/v1/auth/logout/")),
    ]
    lines, failures = [], []
    for name, token, selection in runs:
        started = time.monotonic()
        done = _run(base, schema, token, tmp_path / f"{role}-{name}", *selection)
        cases = [line.strip() for line in done.stdout.splitlines() if " generated" in line]
        lines.append(
            f"{role} {name}: exit {done.returncode}, {cases[-1] if cases else '?'}, {time.monotonic() - started:.0f} s"
        )
        if done.returncode != 0:
            failures.append(f"---- {role} {' '.join(selection)}: exit {done.returncode}\n{done.stdout}{done.stderr}")
    print(*lines, sep="\n")
    return failures


def test_schemathesis_all_checks_against_gunicorn_for_each_role(gunicorn: str, tmp_path: Path) -> None:
    worlds = {role: _world(role) for role in ROLES}
    # In production the schema is for staff; the team reads it once, as the admin, and runs it for each role.
    request = urllib.request.Request(
        f"{gunicorn}/api/schema/?format=json", headers={"Authorization": f"Bearer {worlds['admin']['token']}"}
    )
    with urllib.request.urlopen(request, timeout=30) as answer:
        document = json.loads(answer.read())
    assert document["openapi"].startswith("3.") and "/api/v1/auth/logout/" in document["paths"]
    schema = tmp_path / "schema.json"
    schema.write_text(json.dumps(document))
    # The roles' clinics are apart: their runs go side by side.
    with ThreadPoolExecutor(max_workers=len(ROLES)) as pool:
        results = pool.map(lambda role: _role(gunicorn, schema, worlds[role], role, tmp_path), ROLES)
        failures = [failure for result in results for failure in result]
    assert not failures, "\n".join(failures)
