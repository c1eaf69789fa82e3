"""Schemathesis' CLI, ``--checks all``, against the real server as a mobile team would run it: gunicorn with
the project's ``gunicorn.conf.py`` and production settings (DEBUG off) on a free local port, on PostgreSQL
(this test's own database), for the patient, the clinician and the clinic admin, each with its bearer token.
Every run must end with exit status 0: no failure of any check.

The clinic has data to find: a course with weekly BDI-II entries, the last one raising a safety flag.
``/api/v1/auth/logout/`` revokes the token it is sent with, so it runs last for each role with a token of
its own. The sign-in throttles are raised for the run so that the operations behind them (sign-in,
enrolment, password reset) are tested rather than answered 429; the 429 itself is tested in test_auth.
The exceptions schemathesis is told about are in ``schemathesis.toml`` (repository root), each with the
rule the schema cannot state.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from tests.tracker.helpers import PASSWORD, items_with_total
from tracker.records.models import Role
from tracker.records.services.assessments import assessment_submit
from tracker.records.services.auth import token_issue
from tracker.records.services.clinics import clinic_create, staff_create
from tracker.records.services.patients import course_create, patient_create, patient_enroll

pytestmark = [pytest.mark.services, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[3]
ROLES = ("patient", "clinician", "admin")  # the admin last: it may deactivate staff
#: Test cases per operation and phase; the three roles' runs together stay within a few minutes in CI.
MAX_EXAMPLES = os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "8")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _database_url() -> str:
    """The URL of this test's own database (pytest-django's ``test_…`` copy)."""
    cfg = connection.settings_dict
    auth = cfg["USER"] + (f":{cfg['PASSWORD']}" if cfg.get("PASSWORD") else "")
    return f"postgres://{auth}@{cfg['HOST'] or '127.0.0.1'}:{cfg['PORT'] or 5432}/{cfg['NAME']}"


def _world() -> dict[str, Any]:
    """A clinic with an admin, a clinician and an enrolled patient whose course has entries and a flag."""
    _clinic, admin = clinic_create(name="Live clinic", admin_username="live-admin", admin_password=PASSWORD)
    clinician = staff_create(actor=admin, username="live-clinician", password=PASSWORD, role=Role.CLINICIAN)
    new = patient_create(actor=clinician, name="Live patient", timezone_name="Europe/Madrid")
    patient, _ = patient_enroll(enrollment_code=new.enrollment_code, username="live-patient", password=PASSWORD)
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
    users = {"patient": patient.user, "clinician": clinician, "admin": admin}
    return {"users": users, "tokens": {role: token_issue(user=user).raw for role, user in users.items()}}


@pytest.fixture
def gunicorn(transactional_db: Any, tmp_path: Path) -> Iterator[str]:
    """The server's base URL; the server is stopped before the test database is flushed."""
    if connection.vendor != "postgresql":
        pytest.skip("runs against PostgreSQL (DATABASE_URL=postgres://…)")
    port = _free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")},
        "DJANGO_ENV": "production",
        "DJANGO_SECRET_KEY": f"schemathesis-{uuid.uuid4().hex}{uuid.uuid4().hex}",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "0",  # plain HTTP on the loopback: no TLS proxy in front
        "DATABASE_URL": _database_url(),
        # No worker runs beside this server: tasks run in the request instead of waiting in the broker.
        "CELERY_TASK_ALWAYS_EAGER": "1",
        "EXPORT_DIR": str(tmp_path / "exports"),
        "WEB_CONCURRENCY": "2",
        "LOG_LEVEL": "WARNING",
        "LOGIN_RATE": "100000/min",
        "ENROLL_RATE": "100000/min",
        "PASSWORD_RESET_RATE": "100000/min",
    }
    command = [sys.executable, "-m", "gunicorn", "tracker.config.wsgi:application", "-c", "gunicorn.conf.py"]
    log = (tmp_path / "gunicorn.log").open("wb")
    server = subprocess.Popen(
        [*command, "-b", f"127.0.0.1:{port}", "--log-level", "warning"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, (tmp_path / "gunicorn.log").read_text()
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):
                    break
            except OSError:
                assert time.monotonic() < deadline, "gunicorn did not start"
                time.sleep(0.3)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


def _schemathesis() -> list[str]:
    found = shutil.which("schemathesis", path=str(Path(sys.executable).parent))
    return [found] if found else [sys.executable, "-m", "schemathesis.cli"]


def _run(base: str, schema: Path, token: str, *selection: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            *_schemathesis(),
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
            "--no-color",
            *selection,
        ],
        cwd=ROOT,  # schemathesis.toml
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def test_schemathesis_all_checks_against_gunicorn_for_each_role(gunicorn: str, tmp_path: Path) -> None:
    world = _world()
    tokens = world["tokens"]
    # In production the schema is for staff; the team reads it once, as the admin, and runs it for each role.
    request = urllib.request.Request(
        f"{gunicorn}/api/schema/?format=json", headers={"Authorization": f"Bearer {tokens['admin']}"}
    )
    with urllib.request.urlopen(request, timeout=30) as answer:
        document = json.loads(answer.read())
    assert document["openapi"].startswith("3.") and "/api/v1/auth/logout/" in document["paths"]
    schema = tmp_path / "schema.json"
    schema.write_text(json.dumps(document))
    failures = []
    for role in ROLES:
        runs = [
            (tokens[role], ("--exclude-path", "/api/v1/auth/logout/")),
            (token_issue(user=world["users"][role]).raw, ("--include-path", "/api/v1/auth/logout/")),
        ]
        for token, selection in runs:
            done = _run(gunicorn, schema, token, *selection)
            summary = [line for line in done.stdout.splitlines() if "generated" in line or "passed" in line]
            print(role, selection, done.returncode, *summary[-2:], sep=" | ")
            if done.returncode != 0:
                failures.append(
                    f"---- {role} {' '.join(selection)}: exit {done.returncode}\n{done.stdout}{done.stderr}"
                )
    assert not failures, "\n".join(failures)
