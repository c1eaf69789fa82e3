"""Logins, bearer tokens (stored as SHA-256 digests), lockout after repeated failures."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import authenticate
from django.db import InterfaceError, OperationalError, connections, router, transaction
from django.utils import timezone

from tracker.records.fastpath import JoinedSelect, hot_cursor, quoted_columns
from tracker.records.models import AuthToken, Patient, Role, User
from tracker.records.services import login_guard
from tracker.records.services.audit import audit_record
from tracker.records.services.login_guard import LoginLocked

__all__ = ["GENERIC_LOGIN_ERROR", "IssuedToken", "LoginFailed", "LoginLocked", "login_with_password"]

GENERIC_LOGIN_ERROR = "Invalid username or password."


def token_digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class LoginFailed(Exception):
    """Any wrong username/password pair; one generic message."""


@dataclass(frozen=True)
class IssuedToken:
    raw: str
    expires_at: datetime
    user: User


def token_issue(*, user: User) -> IssuedToken:
    ttl = settings.TOKEN_TTL_HOURS["patient" if user.role == Role.PATIENT else "staff"]
    raw = secrets.token_urlsafe(32)
    expires_at = timezone.now() + timedelta(hours=ttl)
    AuthToken.objects.create(user=user, digest=token_digest(raw), expires_at=expires_at)
    return IssuedToken(raw=raw, expires_at=expires_at, user=user)


def login_with_password(*, username: str, password: str) -> IssuedToken:
    """Check a username and password; raise LoginLocked (429) or LoginFailed (400)."""
    login_guard.check(username)
    user = authenticate(username=username, password=password)
    if not isinstance(user, User) or not user.role or (user.role != Role.PATIENT and not user.clinic_id):
        login_guard.record_failure(username)
        raise LoginFailed()
    login_guard.clear(username)
    with transaction.atomic():
        issued = token_issue(user=user)
        audit_record(actor=user, action="auth.login", object_type="user", object_id=user.pk)
    return issued


def token_revoke(*, token: AuthToken) -> None:
    with transaction.atomic():
        AuthToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
        audit_record(actor=token.user, action="auth.logout", object_type="user", object_id=token.user_id)


def _token_tail(q: Callable[[str], str]) -> str:
    t, u, p = (q(m._meta.db_table) for m in (AuthToken, User, Patient))
    [user_pk], [patient_user] = quoted_columns(q, User, "pk"), quoted_columns(q, Patient, "user")
    token_user, digest, revoked, expires = quoted_columns(q, AuthToken, "user", "digest", "revoked_at", "expires_at")
    return (
        f"FROM {t} t INNER JOIN {u} u ON u.{user_pk} = t.{token_user} "
        f"LEFT OUTER JOIN {p} p ON p.{patient_user} = u.{user_pk} "
        f"WHERE t.{digest} = %s AND t.{revoked} IS NULL AND t.{expires} > %s"
    )


class _TokenLookup:
    """The token, its user and the user's patient record in one query, written by hand.

    It does what ``AuthToken.objects.select_related("user", "user__patient").filter(...)`` does,
    with the SQL built once per process (``JoinedSelect``) instead of on every request: on each
    authenticated request the ORM spent about 0.9 ms compiling that query and building its
    models, the largest single cost of an entry submission.
    """

    select = JoinedSelect([(AuthToken, "t"), (User, "u"), (Patient, "p")], _token_tail)

    def _fetch(self, conn: Any, digest: str) -> tuple[Any, ...] | None:
        with hot_cursor(conn) as cursor:
            cursor.execute(self.select.sql(conn), [digest, conn.ops.adapt_datetimefield_value(timezone.now())])
            return cursor.fetchone()  # type: ignore[no-any-return]

    def _fetch_checked(self, conn: Any, digest: str) -> tuple[Any, ...] | None:
        """The lookup, standing in for the connection's health check (``CONN_HEALTH_CHECKS``).

        The token is the first query of an authenticated request. On a persistent connection's
        first use in a request, Django would first send ``SELECT 1`` to find out whether the
        connection still works: a round trip of its own. The lookup itself answers that
        question: if it fails on a connection error, the connection is closed and the lookup
        run once more on a new one, as Django would have done after a failed check. A read can
        safely run twice. Inside a transaction Django's own rules apply (no check is due there).
        """
        due = conn.health_check_enabled and not conn.health_check_done and conn.connection is not None
        if not due or conn.in_atomic_block:
            return self._fetch(conn, digest)
        conn.health_check_done = True
        try:
            return self._fetch(conn, digest)
        except (OperationalError, InterfaceError):
            conn.close()
            return self._fetch(conn, digest)

    def __call__(self, digest: str) -> AuthToken | None:
        conn = connections[router.db_for_read(AuthToken)]
        row = self._fetch_checked(conn, digest)
        if row is None:
            return None
        token, user, patient = self.select.load(conn, row)
        assert isinstance(token, AuthToken) and isinstance(user, User)
        if patient is not None:
            patient.user = user  # type: ignore[attr-defined]
        token.user = user
        User.patient.related.set_cached_value(user, patient)  # staff: user.patient raises, no query
        return token


_token_lookup = _TokenLookup()


def token_authenticate(*, raw: str) -> AuthToken | None:
    """The live token for a raw bearer value, or None."""
    token = _token_lookup(token_digest(raw))
    if token is None or not token.user.is_active:
        return None
    return token
