"""Logins, bearer tokens (stored as SHA-256 digests), lockout after repeated failures."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import authenticate
from django.core.cache import cache
from django.db import InterfaceError, OperationalError, connections, router, transaction
from django.db.models import Model
from django.utils import timezone

from tracker.db import hot_cursor
from tracker.models import AuthToken, Patient, Role, User
from tracker.services.audit import audit_record

GENERIC_LOGIN_ERROR = "Invalid username or password."


def token_digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class LoginLocked(Exception):
    """Too many failed logins for this username: try again later."""


class LoginFailed(Exception):
    """Any wrong username/password pair; one generic message."""


@dataclass(frozen=True)
class IssuedToken:
    raw: str
    expires_at: datetime
    user: User


def _failures_key(username: str) -> str:
    return "login-failures:" + hashlib.sha256(username.lower().encode()).hexdigest()


def login_locked(username: str) -> bool:
    """Too many recent failures for this username (the app's and the dashboard's logins count alike)."""
    return bool(username) and (cache.get(_failures_key(username)) or 0) >= settings.LOGIN_MAX_FAILURES


def login_failure_record(username: str) -> None:
    key = _failures_key(username)
    try:
        cache.incr(key)
    except ValueError:
        cache.set(key, 1, timeout=settings.LOGIN_LOCKOUT_SECONDS)


def login_failures_clear(username: str) -> None:
    cache.delete(_failures_key(username))


def token_issue(*, user: User) -> IssuedToken:
    ttl = settings.TOKEN_TTL_HOURS["patient" if user.role == Role.PATIENT else "staff"]
    raw = secrets.token_urlsafe(32)
    expires_at = timezone.now() + timedelta(hours=ttl)
    AuthToken.objects.create(user=user, digest=token_digest(raw), expires_at=expires_at)
    return IssuedToken(raw=raw, expires_at=expires_at, user=user)


def login_with_password(*, username: str, password: str) -> IssuedToken:
    """Check a username and password; raise LoginLocked (429) or LoginFailed (400)."""
    if login_locked(username):
        raise LoginLocked()
    user = authenticate(username=username, password=password)
    if not isinstance(user, User) or not user.role or (user.role != Role.PATIENT and not user.clinic_id):
        login_failure_record(username)
        raise LoginFailed()
    login_failures_clear(username)
    with transaction.atomic():
        issued = token_issue(user=user)
        audit_record(actor=user, action="auth.login", object_type="user", object_id=user.pk)
    return issued


def token_revoke(*, token: AuthToken) -> None:
    with transaction.atomic():
        AuthToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
        audit_record(actor=token.user, action="auth.logout", object_type="user", object_id=token.user_id)


class _TokenLookup:
    """The token, its user and the user's patient record in one query, written by hand.

    It does what ``AuthToken.objects.select_related("user", "user__patient").filter(...)`` does,
    with the SQL built once per process instead of on every request: on each authenticated request
    the ORM spent about 0.9 ms compiling that query and building its models, the largest single
    cost of an entry submission. Columns and value converters come from the models' ``_meta``, as
    the ORM's compiler takes them, so a new field needs nothing here.
    """

    MODELS: tuple[type[Model], ...] = (AuthToken, User, Patient)

    def __init__(self) -> None:
        self.fields = [list(m._meta.concrete_fields) for m in self.MODELS]
        self.attnames = [[f.attname for f in fields] for fields in self.fields]
        self.patient_pk = self.attnames[2].index(Patient._meta.pk.attname)  # type: ignore[union-attr]
        self._prepared: dict[str, tuple[str, list[tuple[int, list[Any], Any]]]] = {}

    def _prepare(self, conn: Any) -> tuple[str, list[tuple[int, list[Any], Any]]]:
        q = conn.ops.quote_name
        columns, converters = [], []
        for alias, fields in zip(("t", "u", "p"), self.fields, strict=True):
            for f in fields:
                columns.append(f"{alias}.{q(f.column)}")
                col = f.get_col(alias)
                funcs = conn.ops.get_db_converters(col) + col.get_db_converters(conn)
                if funcs:
                    converters.append((len(columns) - 1, funcs, col))
        t, u, p = (q(m._meta.db_table) for m in self.MODELS)
        user_pk = q(User._meta.pk.column)  # type: ignore[union-attr]
        token_user, patient_user = (q(m._meta.get_field("user").column) for m in (AuthToken, Patient))  # type: ignore[union-attr]
        digest, revoked, expires = (q(AuthToken._meta.get_field(n).column) for n in ("digest", "revoked_at", "expires_at"))  # type: ignore[union-attr]
        sql = (
            f"SELECT {', '.join(columns)} FROM {t} t INNER JOIN {u} u ON u.{user_pk} = t.{token_user} "  # noqa: S608 (names from _meta)
            f"LEFT OUTER JOIN {p} p ON p.{patient_user} = u.{user_pk} "
            f"WHERE t.{digest} = %s AND t.{revoked} IS NULL AND t.{expires} > %s"
        )
        self._prepared[conn.alias] = (sql, converters)
        return sql, converters

    def _fetch(self, conn: Any, sql: str, digest: str) -> tuple[Any, ...] | None:
        with hot_cursor(conn) as cursor:
            cursor.execute(sql, [digest, conn.ops.adapt_datetimefield_value(timezone.now())])
            return cursor.fetchone()  # type: ignore[no-any-return]

    def _fetch_checked(self, conn: Any, sql: str, digest: str) -> tuple[Any, ...] | None:
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
            return self._fetch(conn, sql, digest)
        conn.health_check_done = True
        try:
            return self._fetch(conn, sql, digest)
        except (OperationalError, InterfaceError):
            conn.close()
            return self._fetch(conn, sql, digest)

    def __call__(self, digest: str) -> AuthToken | None:
        conn = connections[router.db_for_read(AuthToken)]
        sql, converters = self._prepared.get(conn.alias) or self._prepare(conn)
        row = self._fetch_checked(conn, sql, digest)
        if row is None:
            return None
        values = list(row)
        for i, funcs, col in converters:
            for func in funcs:
                values[i] = func(values[i], col, conn)
        token_names, user_names, patient_names = self.attnames
        n_token, n_user = len(token_names), len(user_names)
        parts = (values[:n_token], values[n_token : n_token + n_user], values[n_token + n_user :])
        token = AuthToken.from_db(conn.alias, token_names, parts[0])
        user = User.from_db(conn.alias, user_names, parts[1])
        patient = None
        if parts[2][self.patient_pk] is not None:  # the LEFT JOIN found a patient record
            patient = Patient.from_db(conn.alias, patient_names, parts[2])
            patient.user = user
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
