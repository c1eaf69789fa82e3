from __future__ import annotations

import contextlib
from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.utils import timezone
from rest_framework.test import APIClient

from tests.tracker.helpers import PASSWORD, client_for, error_fields, make_clinic
from tracker.records.models import AuthToken

pytestmark = pytest.mark.django_db


def login(username: str, password: str) -> object:
    return APIClient().post("/api/v1/auth/token/", {"username": username, "password": password}, format="json")


def test_login_returns_token_expiry_and_role_and_the_token_works() -> None:
    make_clinic()
    r = login("a-clinician", PASSWORD)
    assert r.status_code == 200
    body = r.json()
    assert body["role"] == "clinician" and body["token"] and body["expires_at"]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {body['token']}")
    assert client.get("/api/v1/patients/").status_code == 200


def test_tokens_are_stored_hashed() -> None:
    make_clinic()
    raw = login("a-patient-1", PASSWORD).json()["token"]
    assert not AuthToken.objects.filter(digest=raw).exists()
    from tracker.records.services.auth import token_digest

    assert AuthToken.objects.get(digest=token_digest(raw)).user.username == "a-patient-1"


def test_wrong_password_and_unknown_user_get_one_generic_message() -> None:
    make_clinic()
    wrong = login("a-clinician", "not-the-password")
    unknown = login("nobody-here", PASSWORD)
    assert wrong.status_code == unknown.status_code == 400
    assert wrong.json() == unknown.json()
    assert wrong.json()["code"] == "invalid_credentials" and wrong.json()["detail"] == "Invalid username or password."
    assert error_fields(wrong) == set()


def test_repeated_failures_lock_the_username_even_for_the_right_password() -> None:
    make_clinic()
    for _ in range(django_settings.LOGIN_MAX_FAILURES):
        assert login("a-clinician", "wrong-password").status_code == 400
    assert login("a-clinician", PASSWORD).status_code == 429
    # Another user is not locked out.
    assert login("a-admin", PASSWORD).status_code == 200


def test_logout_revokes_the_token() -> None:
    world = make_clinic()
    client = client_for(world.clinician)
    assert client.post("/api/v1/auth/logout/").status_code == 204
    assert client.get("/api/v1/patients/").status_code == 401


def test_expired_and_malformed_tokens_are_refused() -> None:
    world = make_clinic()
    client = client_for(world.clinician)
    AuthToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert client.get("/api/v1/patients/").status_code == 401
    bad = APIClient()
    bad.credentials(HTTP_AUTHORIZATION="Bearer")
    assert bad.get("/api/v1/patients/").status_code == 401
    bad.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")
    r = bad.get("/api/v1/patients/")
    assert r.status_code == 401 and r["WWW-Authenticate"] == "Bearer"


def test_production_hasher_is_argon2() -> None:
    # The conftest swaps in a fast hasher for tests; the settings module itself names Argon2 first.
    from importlib import reload

    import tracker.config.settings as module

    assert reload(module).PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"


def test_unknown_api_path_answers_json_404() -> None:
    r = APIClient().get("/api/v1/no-such-thing/")
    assert r.status_code == 404 and r["Content-Type"].startswith("application/problem+json")
    assert r.json()["code"] == "not_found" and error_fields(r) == set()


def _field_values(obj: object) -> dict[str, object]:
    return {f.attname: getattr(obj, f.attname) for f in type(obj)._meta.concrete_fields}  # type: ignore[attr-defined]


def _plain_token_lookup(digest: str) -> AuthToken | None:
    """The ORM path that ``fastpath.token_with_user`` replaces."""
    return (
        AuthToken.objects.select_related("user", "user__patient__clinic")
        .filter(digest=digest, revoked_at__isnull=True, expires_at__gt=timezone.now())
        .first()
    )


@pytest.mark.parametrize("who", ["patient_user", "clinician", "admin"])
def test_token_with_user_loads_what_the_orm_loads(who: str, django_assert_num_queries: object) -> None:
    from tracker.records.models import Patient
    from tracker.records.services.auth import token_authenticate, token_digest, token_issue

    world = make_clinic()
    user = getattr(world, who)
    issued = token_issue(user=user)
    with django_assert_num_queries(1):  # type: ignore[operator]
        token = token_authenticate(raw=issued.raw)
        assert token is not None
        loaded = token.user
        patient = None
        with contextlib.suppress(Patient.DoesNotExist):
            patient = loaded.patient
        clinic = patient.clinic if patient is not None else None
    expected = _plain_token_lookup(token_digest(issued.raw))
    assert expected is not None
    assert _field_values(token) == _field_values(expected)
    assert _field_values(loaded) == _field_values(expected.user)
    if who == "patient_user":
        assert patient is not None and _field_values(patient) == _field_values(expected.user.patient)
        assert patient.user is loaded
        assert clinic is not None and _field_values(clinic) == _field_values(expected.user.patient.clinic)
    else:
        assert patient is None
        with pytest.raises(Patient.DoesNotExist):
            expected.user.patient  # noqa: B018 (the plain path raises too)


def test_token_with_user_finds_nothing_where_the_orm_finds_nothing() -> None:
    from tracker.records.fastpath import token_with_user
    from tracker.records.services.auth import token_digest, token_issue

    world = make_clinic()
    live, revoked, expired = (token_issue(user=world.patient_user) for _ in range(3))
    AuthToken.objects.filter(digest=token_digest(revoked.raw)).update(revoked_at=timezone.now())
    AuthToken.objects.filter(digest=token_digest(expired.raw)).update(expires_at=timezone.now() - timedelta(seconds=1))
    for raw in (live.raw, revoked.raw, expired.raw, "never-issued"):
        digest = token_digest(raw)
        ours, plain = token_with_user(digest), _plain_token_lookup(digest)
        assert (ours is None) is (plain is None)
        assert ours is None or ours.pk == plain.pk  # type: ignore[union-attr]
    assert token_with_user(token_digest(live.raw)) is not None


def test_revoked_tokens_and_inactive_users_are_refused() -> None:
    from tracker.records.models import User
    from tracker.records.services.auth import token_authenticate, token_issue

    world = make_clinic()
    issued = token_issue(user=world.patient_user)
    assert token_authenticate(raw=issued.raw) is not None
    User.objects.filter(pk=world.patient_user.pk).update(is_active=False)
    assert token_authenticate(raw=issued.raw) is None
    User.objects.filter(pk=world.patient_user.pk).update(is_active=True)
    AuthToken.objects.update(revoked_at=timezone.now())
    assert token_authenticate(raw=issued.raw) is None


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("dropped", [False, True])
def test_a_dropped_connection_is_replaced_at_the_next_request(dropped: bool) -> None:
    """On PostgreSQL with persistent connections, Django's health check (CONN_HEALTH_CHECKS) finds
    a connection the server dropped between requests: it is replaced and the token still found."""
    import psycopg
    from django.db import close_old_connections, connections

    from tracker.records.services.auth import token_authenticate, token_issue

    connection = connections["default"]
    assert connection.vendor == "postgresql"
    issued = token_issue(user=make_clinic().patient_user)
    connection.ensure_connection()
    backend = connection.connection.info.backend_pid
    if dropped:
        params = connection.get_connection_params()
        with psycopg.connect(host=params["host"], port=params.get("port") or 5432, user=params["user"],
                             dbname=params["dbname"], autocommit=True) as admin:  # fmt: skip
            admin.execute("SELECT pg_terminate_backend(%s)", [backend])
    close_old_connections()  # what Django does when a request starts
    token = token_authenticate(raw=issued.raw)
    assert token is not None and token.user.username == "a-patient-1"
    assert (connection.connection.info.backend_pid != backend) is dropped
