"""The OpenAPI document: valid without warnings, served, and honoured by the API (schemathesis)."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from django.core.management import call_command
from django.core.wsgi import get_wsgi_application
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, given, settings
from rest_framework.test import APIClient

from tests.tracker.helpers import make_clinic
from tracker.records.services.auth import token_issue


def test_schema_validates_without_warnings(tmp_path: Any) -> None:
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml"))
    assert "/api/v1/assessments/" in (tmp_path / "schema.yaml").read_text()


@pytest.mark.django_db
def test_schema_and_docs_are_served_without_auth() -> None:
    client = APIClient()
    assert client.get("/api/schema/").status_code == 200
    docs = client.get("/api/docs/")
    assert docs.status_code == 200 and b"swagger" in docs.content.lower()


def _schema() -> Any:
    return schemathesis.openapi.from_dict(SchemaGenerator().get_schema(request=None, public=True))


@pytest.fixture
def role_tokens(db: Any) -> dict[str, str]:
    world = make_clinic()
    return {
        "patient": token_issue(user=world.patient_user).raw,
        "clinician": token_issue(user=world.clinician).raw,
        "admin": token_issue(user=world.admin).raw,
    }


WSGI = get_wsgi_application()


@pytest.fixture
def keep_test_connection() -> Any:
    """Called straight through WSGI, Django would close the test's database connection at the end of
    each request (as a real server does); the test client prevents that the same way."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.mark.slow
@pytest.mark.django_db
@pytest.mark.parametrize("role", ["patient", "clinician", "admin"])
def test_no_server_error_for_any_generated_input(
    role: str, role_tokens: dict[str, str], keep_test_connection: None
) -> None:
    """Schemathesis generates requests for every operation; none may answer 5xx."""
    headers = {"Authorization": f"Bearer {role_tokens[role]}"}
    operations = [result.ok() for result in _schema().get_all_operations()]
    assert len(operations) >= 20
    for operation in operations:
        if operation.path == "/api/v1/auth/logout/":
            continue  # would revoke the token the other cases need; covered in test_auth

        @given(case=operation.as_strategy())
        @settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def check(case: Any) -> None:
            response = case.call(app=WSGI, headers=headers)
            assert response.status_code < 500, (case.method, case.path, response.status_code, response.text[:500])

        check()
