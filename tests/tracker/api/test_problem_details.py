"""Every error answer under /api/ is one RFC 9457 problem (API.md 1.1, "Errors, one shape for all"):
``application/problem+json``, a stable ``code``, every offending field at once, words for people, in
Spanish when asked."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from tests.tracker.helpers import PASSWORD, client_for, error_fields, items_with_total, make_clinic
from tracker.api.throttles import ScopedRateThrottle
from tracker.records.models import AuthToken
from tracker.records.services.auth import token_issue

pytestmark = pytest.mark.django_db

TODAY = timezone.now().date()


@pytest.fixture
def world() -> Any:
    return make_clinic()


def problem(response: Any, status: int, code: str) -> dict[str, Any]:
    """The body of ``response``, checked to be a problem of ``status`` and ``code``."""
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/problem+json"), response["Content-Type"]
    body = json.loads(response.content)
    assert body["status"] == status and body["code"] == code, body
    assert body["type"] == f"{settings.PROBLEM_TYPE_BASE_URL}{code}"
    assert body["title"] and body["detail"] and isinstance(body["errors"], list)
    return body


def codes(body: dict[str, Any]) -> dict[str, str]:
    return {error["field"]: error["code"] for error in body["errors"]}


def entry(**fields: Any) -> dict[str, Any]:
    body = {
        "scale": "phq9",
        "administered_on": TODAY.isoformat(),
        "items": items_with_total("phq9", 5),
        "client_id": str(uuid.uuid4()),
    }
    body.update(fields)
    return {k: v for k, v in body.items() if v is not None}


def test_a_bad_scale_a_bad_date_and_a_missing_client_id_are_named_together(world: Any) -> None:
    r = client_for(world.patient_user).post(
        "/api/v1/assessments/", entry(scale="gad7", administered_on="yesterday", client_id=None), format="json"
    )
    body = problem(r, 400, "validation_error")
    assert codes(body) == {"scale": "invalid_choice", "administered_on": "invalid", "client_id": "required"}
    # API v1's shape is kept beside it: each offending top-level field with its messages.
    assert {"scale", "administered_on", "client_id"} <= set(body)
    assert body["client_id"] == [e["message"] for e in body["errors"] if e["field"] == "client_id"]


def test_every_bad_item_is_named_with_its_own_code(world: Any) -> None:
    items: list[Any] = [0] * 9
    items[1], items[4], items[6] = 4, None, "x"
    r = client_for(world.patient_user).post("/api/v1/assessments/", entry(items=items), format="json")
    body = problem(r, 400, "validation_error")
    assert codes(body) == {"items[1]": "out_of_range", "items[4]": "null", "items[6]": "not_an_integer"}
    assert error_fields(r) == {"items[1]", "items[4]", "items[6]"}
    messages = {e["field"]: e["message"] for e in body["errors"]}
    assert messages["items[1]"] == "Item 2 needs a score from 0 to 3."
    assert messages["items[4]"].startswith("Item 5 has no answer")
    assert not any("None" in message or "integer" in message for message in messages.values())
    assert len(body["items"]) == 3  # the v1 key names the top-level field


def test_item_errors_come_with_the_other_fields_errors(world: Any) -> None:
    items = items_with_total("phq9", 5)
    items[8] = 7
    r = client_for(world.patient_user).post(
        "/api/v1/assessments/", {**entry(items=items), "client_id": "not-a-uuid"}, format="json"
    )
    assert codes(problem(r, 400, "validation_error")) == {"items[8]": "out_of_range", "client_id": "invalid"}


def test_the_service_names_every_offending_field_too(world: Any) -> None:
    items = items_with_total("phq9", 5)
    items[0], items[2] = 9, -1
    future = (TODAY + timedelta(days=3)).isoformat()
    r = client_for(world.patient_user).post(
        "/api/v1/assessments/", entry(items=items, administered_on=future), format="json"
    )
    body = problem(r, 400, "validation_error")
    assert codes(body) == {"items[0]": "out_of_range", "items[2]": "out_of_range", "administered_on": "date_in_future"}
    assert body["detail"] == "3 fields need correcting: see errors."
    r = client_for(world.clinician).post(
        "/api/v1/patients/", {"name": "Ana\u202e", "timezone": "Mars/Olympus", "date_of_birth": future}, format="json"
    )
    assert codes(problem(r, 400, "validation_error")) == {
        "name": "invisible_characters",
        "timezone": "unknown_timezone",
        "date_of_birth": "date_in_future",
    }


def test_directions_are_named_by_item(world: Any) -> None:
    items = items_with_total("bdi2", 0)
    r = client_for(world.patient_user).post(
        "/api/v1/assessments/",
        entry(scale="bdi2", items=items, item_directions={"16": "increase", "3": "decrease"}),
        format="json",
    )
    assert codes(problem(r, 400, "validation_error")) == {
        "item_directions.16": "direction_without_score",
        "item_directions.3": "not_directional",
    }


def test_unknown_fields_and_non_objects(world: Any) -> None:
    patient = client_for(world.patient_user)
    r = patient.post("/api/v1/assessments/", {**entry(), "colour": "blue"}, format="json")
    assert codes(problem(r, 400, "validation_error")) == {"colour": "unknown_field"}
    r = patient.post("/api/v1/assessments/", [1, 2], format="json")
    body = problem(r, 400, "validation_error")
    assert [(e["field"], e["code"]) for e in body["errors"]] == [(None, "not_an_object")]


def test_a_field_named_like_a_problem_member_is_listed_in_errors_only(world: Any) -> None:
    r = client_for(world.patient_user).post("/api/v1/assessments/", {**entry(), "status": 1}, format="json")
    body = problem(r, 400, "validation_error")
    assert body["status"] == 400 and codes(body) == {"status": "unknown_field"}


def test_a_conflict(world: Any) -> None:
    staff = client_for(world.clinician)
    created = staff.post(
        "/api/v1/assessments/", entry(scale="madrs", items=[1] * 10, patient=str(world.patient.pk)), format="json"
    ).json()
    amend = {"items": [2] * 10, "reason": "typo"}
    assert staff.post(f"/api/v1/assessments/{created['id']}/amend/", amend, format="json").status_code == 201
    r = staff.post(f"/api/v1/assessments/{created['id']}/amend/", amend, format="json")
    assert codes(problem(r, 409, "conflict")) == {"assessment": "already_amended"}


def test_wrong_login_and_lockout(world: Any) -> None:
    client = APIClient()
    wrong = client.post("/api/v1/auth/token/", {"username": "a-clinician", "password": "nope"}, format="json")
    unknown = client.post("/api/v1/auth/token/", {"username": "nobody", "password": "nope"}, format="json")
    assert problem(wrong, 400, "invalid_credentials") == problem(unknown, 400, "invalid_credentials")
    missing = client.post("/api/v1/auth/token/", {"username": "a-clinician"}, format="json")
    assert codes(problem(missing, 400, "invalid_credentials")) == {"password": "required"}
    for _ in range(settings.LOGIN_MAX_FAILURES):
        client.post("/api/v1/auth/token/", {"username": "a-patient-1", "password": "nope"}, format="json")
    locked = client.post("/api/v1/auth/token/", {"username": "a-patient-1", "password": PASSWORD}, format="json")
    problem(locked, 429, "locked_out")
    assert int(locked["Retry-After"]) > 0


def test_the_throttle(world: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", {"login": "2/min", "enroll": "2/min"})
    client = APIClient()
    answers = [
        client.post("/api/v1/enroll/", {"enrollment_code": "X", "username": "u", "password": "p"}, format="json")
        for _ in range(3)
    ]
    problem(answers[0], 400, "validation_error")
    throttled = answers[-1]
    problem(throttled, 429, "rate_limited")
    assert int(throttled["Retry-After"]) > 0


def test_tokens_missing_unknown_expired_and_revoked(world: Any) -> None:
    url = "/api/v1/me/"
    problem(APIClient().get(url), 401, "not_authenticated")
    r = APIClient().get(url, HTTP_AUTHORIZATION="Bearer nonsense")
    problem(r, 401, "authentication_failed")
    assert r["WWW-Authenticate"] == "Bearer"
    problem(APIClient().get(url, HTTP_AUTHORIZATION="Bearer a b"), 401, "authentication_failed")

    expired = token_issue(user=world.patient_user)
    AuthToken.objects.filter(expires_at=expired.expires_at).update(expires_at=timezone.now() - timedelta(seconds=1))
    problem(APIClient().get(url, HTTP_AUTHORIZATION=f"Bearer {expired.raw}"), 401, "token_expired")

    phone = client_for(world.patient_user)
    raw = phone._credentials["HTTP_AUTHORIZATION"]  # type: ignore[attr-defined]
    assert phone.post("/api/v1/auth/logout/").status_code == 204
    problem(APIClient().get(url, HTTP_AUTHORIZATION=raw), 401, "token_revoked")


def test_wrong_role_is_permission_denied(world: Any) -> None:
    problem(client_for(world.patient_user).get("/api/v1/flags/"), 403, "permission_denied")
    r = client_for(world.clinician).patch("/api/v1/clinic/", {}, format="json")
    problem(r, 403, "permission_denied")


def test_not_found_method_media_type_and_accept(world: Any) -> None:
    staff = client_for(world.clinician)
    problem(staff.get("/api/v1/no-such-thing/"), 404, "not_found")
    problem(staff.get(f"/api/v1/patients/{uuid.uuid4()}/"), 404, "not_found")
    put = staff.put("/api/v1/flags/", {}, format="json")
    problem(put, 405, "method_not_allowed")
    assert "GET" in put["Allow"]
    problem(staff.post("/api/v1/patients/", "name=x", content_type="text/plain"), 415, "unsupported_media_type")
    problem(staff.get("/api/v1/flags/", HTTP_ACCEPT="application/xml"), 406, "not_acceptable")


def test_not_found_and_server_errors_are_problems_in_debug_too(
    world: Any, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.DEBUG = True
    client = Client(raise_request_exception=False)
    problem(client.get("/api/v1/no-such-thing/", HTTP_ACCEPT="text/html"), 404, "not_found")
    problem(client.get("/api/nothing-here"), 404, "not_found")

    def broken(**kwargs: Any) -> None:
        raise RuntimeError("boom with Jane Roe's data")

    monkeypatch.setattr("tracker.api.views.clinic.reference_sets_for", broken)
    token = token_issue(user=world.clinician).raw
    r = client.get("/api/v1/reference-sets/", HTTP_AUTHORIZATION=f"Bearer {token}", HTTP_ACCEPT="text/html")
    problem(r, 500, "server_error")
    assert b"Jane" not in r.content and b"Traceback" not in r.content


def test_server_error_without_debug(world: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(**kwargs: Any) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr("tracker.api.views.clinic.reference_sets_for", broken)
    token = token_issue(user=world.clinician).raw
    r = Client(raise_request_exception=False).get("/api/v1/reference-sets/", HTTP_AUTHORIZATION=f"Bearer {token}")
    problem(r, 500, "server_error")


def test_bodies_too_large_malformed_or_too_deep(world: Any, settings: Any) -> None:
    staff = client_for(world.clinician)
    big = "x" * (settings.MAX_REQUEST_BODY_BYTES + 1)
    r = staff.post("/api/v1/patients/", json.dumps({"name": big}), content_type="application/json")
    body = problem(r, 413, "payload_too_large")
    assert str(settings.MAX_REQUEST_BODY_BYTES) in body["detail"]
    problem(staff.post("/api/v1/patients/", "{nope", content_type="application/json"), 400, "malformed_json")
    deep = "[" * (settings.MAX_JSON_DEPTH + 1) + "]" * (settings.MAX_JSON_DEPTH + 1)
    body = problem(staff.post("/api/v1/patients/", deep, content_type="application/json"), 400, "json_too_deep")
    assert str(settings.MAX_JSON_DEPTH) in body["detail"]


def test_a_view_s_own_error_body_is_turned_into_a_problem(rf: Any) -> None:
    from django.http import JsonResponse

    from tracker.api.errors import as_problem

    request = rf.get("/api/v1/anything/")
    response = JsonResponse({"detail": "No.", "name": ["Too short."]}, status=400)
    response["Retry-After"] = "3"
    converted = as_problem(request, response)
    body = problem(converted, 400, "validation_error")
    assert codes(body) == {"name": "invalid"} and body["detail"] == "No." and converted["Retry-After"] == "3"


# ------------------------------------------------------------------------------ Spanish


def test_a_spanish_validation_error(world: Any) -> None:
    items: list[Any] = [0] * 9
    items[3] = 5
    r = client_for(world.patient_user).post(
        "/api/v1/assessments/", entry(items=items, client_id=None), format="json", HTTP_ACCEPT_LANGUAGE="es"
    )
    body = problem(r, 400, "validation_error")
    assert r["Content-Language"] == "es"
    messages = {e["field"]: e["message"] for e in body["errors"]}
    assert messages["items[3]"] == "El ítem 4 necesita una puntuación de 0 a 3."
    assert messages["client_id"] == "Este campo es obligatorio."
    assert body["title"] == "Parte de la información enviada no es válida."
    assert body["detail"] == "2 campos necesitan corrección: vea errors."
    assert codes(body) == {"items[3]": "out_of_range", "client_id": "required"}  # codes are never translated


def test_a_spanish_service_error_and_a_spanish_404(world: Any) -> None:
    staff = client_for(world.clinician)
    future = (TODAY + timedelta(days=30)).isoformat()
    r = staff.post(
        "/api/v1/patients/", {"name": "Ana", "date_of_birth": future}, format="json", HTTP_ACCEPT_LANGUAGE="es-ES"
    )
    body = problem(r, 400, "validation_error")
    assert body["detail"] == "Esta fecha está en el futuro."
    r = staff.get(f"/api/v1/patients/{uuid.uuid4()}/", HTTP_ACCEPT_LANGUAGE="es")
    body = problem(r, 404, "not_found")
    assert body["title"] == "No encontrado."
    r = Client().get("/api/v1/no-such-thing/", HTTP_ACCEPT_LANGUAGE="es")
    assert problem(r, 404, "not_found")["title"] == "No encontrado."


def test_english_when_the_language_is_not_offered(world: Any) -> None:
    r = Client().get("/api/v1/no-such-thing/", HTTP_ACCEPT_LANGUAGE="fr")
    assert problem(r, 404, "not_found")["title"] == "Not found."
    too_big = "x" * (settings.MAX_REQUEST_BODY_BYTES + 1)
    r = client_for(world.clinician).post(
        "/api/v1/patients/", too_big, content_type="application/json", HTTP_ACCEPT_LANGUAGE="es"
    )
    assert problem(r, 413, "payload_too_large")["title"] == "La solicitud es demasiado grande."
    assert r["Content-Language"] == "es" and "Accept-Language" in r["Vary"]


def test_files_are_answered_to_clients_that_ask_for_their_type(world: Any) -> None:
    staff = client_for(world.clinician)
    pid = world.patient.pk
    for path, media_type in (
        (f"/api/v1/patients/{pid}/chart.png", "image/png"),
        (f"/api/v1/patients/{pid}/chart.svg", "image/svg+xml"),
        (f"/api/v1/patients/{pid}/report.pdf", "application/pdf"),
        (f"/api/v1/patients/{pid}/fhir/", "application/fhir+json"),
    ):
        r = staff.get(path, HTTP_ACCEPT=media_type)
        assert r.status_code == 200 and r["Content-Type"].startswith(media_type), (path, r.status_code)
    r = client_for(world.admin).get("/api/v1/reports/response.csv", HTTP_ACCEPT="text/csv")
    assert r.status_code == 200 and r["Content-Type"].startswith("text/csv")
    # An error of such a view is a problem all the same.
    problem(staff.get(f"/api/v1/patients/{uuid.uuid4()}/chart.png", HTTP_ACCEPT="image/png"), 404, "not_found")
    problem(staff.get(f"/api/v1/patients/{pid}/chart.png", HTTP_ACCEPT="application/pdf"), 406, "not_acceptable")
