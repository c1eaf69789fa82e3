"""The OpenAPI document: valid without warnings, served, and honoured by the API (schemathesis)."""

from __future__ import annotations

import contextlib
import re
from typing import Any

import pytest
import schemathesis
from django.core.management import call_command
from django.core.wsgi import get_wsgi_application
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from rest_framework.test import APIClient
from schemathesis import GenerationMode

from tests.tracker.helpers import make_clinic
from tracker.records.services.auth import token_issue


def test_schema_validates_without_warnings(tmp_path: Any) -> None:
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml"))
    assert "/api/v1/assessments/" in (tmp_path / "schema.yaml").read_text()


def _document() -> dict[str, Any]:
    return SchemaGenerator().get_schema(request=None, public=True)  # type: ignore[no-any-return]


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(path, method, op) for path, item in document["paths"].items() for method, op in item.items()]


def test_every_operation_documents_its_errors_as_problems() -> None:
    document = _document()
    problem = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    assert {"type", "title", "status", "detail", "code", "errors"} <= set(
        document["components"]["schemas"]["Problem"]["required"]
    )
    for path, method, op in _operations(document):
        errors = {status: r for status, r in op["responses"].items() if int(status) >= 400}
        assert {"405", "414", "500", "503"} <= set(errors), (method, path)
        # 414 comes from the web server in front of the app (an address longer than it reads): no body.
        assert "content" not in errors.pop("414"), (method, path)
        assert all(r["content"] == problem for r in errors.values()), (method, path)
        if method in ("post", "put", "patch"):
            assert {"400", "413", "415"} <= set(errors), (method, path)
        if "{" in path:
            assert "404" in errors, (method, path)
        if op.get("security") not in (None, [{}]):  # a public operation answers no 401
            assert "401" in errors, (method, path)
    for public in ("/api/v1/auth/token/", "/api/v1/enroll/", "/api/v1/auth/password-reset/", "/api/v1/"):
        assert all(op.get("security") is None for op in document["paths"][public].values()), public
    assert all(op.get("security") for path, _, op in _operations(document) if path.startswith("/api/v1/me/"))
    token = document["paths"]["/api/v1/auth/token/"]["post"]["responses"]
    assert "401" not in token and "Retry-After" in token["429"]["headers"]
    assert "403" in document["paths"]["/api/v1/flags/"]["get"]["responses"]


def test_operation_ids_enums_and_binary_answers_suit_code_generators() -> None:
    document = _document()
    ids = [op["operationId"] for _, _, op in _operations(document)]
    assert len(ids) == len(set(ids)) and all(re.fullmatch(r"[a-z][a-z0-9_]*", i) for i in ids), ids
    chart = document["paths"]["/api/v1/patients/{patient_id}/chart.{fmt}"]["get"]
    assert chart["operationId"] == "patients_chart_retrieve"
    [fmt] = [p for p in chart["parameters"] if p["name"] == "fmt"]
    assert fmt["schema"]["enum"] == ["png", "svg"] and "pattern" not in fmt["schema"]
    binary = {"type": "string", "format": "binary"}
    assert chart["responses"]["200"]["content"] == {
        "image/png": {"schema": binary},
        "image/svg+xml": {"schema": binary},
    }
    pdf = document["paths"]["/api/v1/patients/{patient_id}/report.pdf"]["get"]["responses"]["200"]["content"]
    csv = document["paths"]["/api/v1/reports/response.csv"]["get"]["responses"]["200"]["content"]
    assert pdf == {"application/pdf": {"schema": binary}} and csv == {"text/csv": {"schema": binary}}
    schemas = document["components"]["schemas"]
    for name in ("StateEnum", "SignalEnum", "RoleEnum", "SeverityEnum", "ModalityEnum", "ScaleEnum"):
        assert name in schemas, name
    assert not [name for name in schemas if name.endswith("ModalityEnum") and name != "ModalityEnum"]
    # Request bodies are named once (COMPONENT_SPLIT_REQUEST adds "Request" to the serializer's name).
    assert not [name for name in schemas if name.endswith("RequestRequest")]
    assert {"LoginRequest", "EnrollRequest", "PasswordChangeRequest", "PasswordResetRequest"} <= set(schemas)
    # A literal "$" in a route (FHIR's bulk export) stays in the documented address.
    assert "/api/v1/fhir/$export" in document["paths"] and "/api/v1/fhir/export" not in document["paths"]
    assert document["components"]["securitySchemes"] == {"bearerAuth": {"type": "http", "scheme": "bearer"}}
    me = document["paths"]["/api/v1/me/"]["get"]
    assert me["security"] == [{"bearerAuth": []}]
    # Fields always sent are required (null where they may be null).
    assert {"timing", "client_id", "is_superseded", "crisis_resources"} <= set(
        schemas["SubmittedAssessment"]["required"]
    )
    assert {"count", "next", "previous", "results"} <= set(schemas["PaginatedFlagList"]["required"])


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
# One failure per operation is enough to report: no shrinking.
NO_SHRINK = [Phase.explicit, Phase.reuse, Phase.generate]


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


def _all_checks() -> list[Any]:
    from schemathesis.checks import CHECKS, load_all_checks

    load_all_checks()
    # Functions only: the checks that span a whole run (classes) need the runner, not one case.
    return [check for check in CHECKS.get_all() if not isinstance(check, type)]


#: What ``--checks all`` still reports, and why; anything else fails the test. The requests the schema
#: allows and the API refuses for a rule no schema can state are listed in ``schemathesis.toml`` (which
#: schemathesis reads here as in the live run, tests/tracker/api/test_schemathesis_live.py).
KNOWN: set[tuple[str, str, str]] = {
    # The export job's query parameters are read as the GET's: one it does not declare is ignored, as on
    # every list (KNOWN_ON_ANY_GET); schemathesis adds one only now and then.
    ("ST201", "POST", "/api/v1/reports/response.csv"),
}
#: Lists accept query parameters they do not declare (ignored) and an empty value as absent (?scale=).
KNOWN_ON_ANY_GET = {"ST201"}


@pytest.mark.slow
@pytest.mark.django_db
@pytest.mark.parametrize("role", ["patient", "clinician", "admin"])
def test_every_answer_conforms_to_the_schema_with_all_checks(
    role: str, role_tokens: dict[str, str], keep_test_connection: None
) -> None:
    """Schemathesis' ``--checks all`` for each role, on valid and invalid requests: documented statuses,
    content types, headers and bodies; invalid data refused; valid data accepted; no 5xx; the app
    served through WSGI (the schema loaded from it). Findings listed in ``KNOWN`` are allowed."""
    headers = {"Authorization": f"Bearer {role_tokens[role]}"}
    checks = _all_checks()
    found: list[tuple[str, str, str, str]] = []
    schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", WSGI)
    for operation in [result.ok() for result in schema.get_all_operations()]:
        if operation.path == "/api/v1/auth/logout/":
            continue  # would revoke the token the other cases need; covered in test_auth
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            found += _run_all_checks(operation, mode, headers, checks)
    unexpected = [
        f"{code} {method} {path}: {text}"
        for code, method, path, text in found
        if (code, method, path) not in KNOWN and not (method == "GET" and code in KNOWN_ON_ANY_GET)
    ]
    assert not unexpected, "\n\n".join(unexpected)


def _run_all_checks(
    operation: Any, mode: Any, headers: dict[str, str], checks: list[Any]
) -> list[tuple[str, str, str, str]]:
    found: list[tuple[str, str, str, str]] = []

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=8,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
        phases=NO_SHRINK,
        derandomize=True,  # the same cases each run: a new finding is a change's, not the dice's
    )
    def check(case: Any) -> None:
        response = case.call(headers=headers)
        try:
            case.validate_response(response, checks=checks, headers=headers)
        except BaseExceptionGroup as group:  # schemathesis' FailureGroup: one Failure per check
            for failure in group.exceptions:
                code = getattr(failure, "code", type(failure).__name__)
                found.append((code, operation.method.upper(), operation.path, str(failure)[:600]))
            raise
        except AssertionError as error:
            found.append(("assertion", operation.method.upper(), operation.path, str(error)[:600]))
            raise

    # Unsatisfiable: an operation with nothing to send (no body, no parameter) has no invalid request.
    with contextlib.suppress(AssertionError, BaseExceptionGroup, Unsatisfiable):
        check()
    return found
