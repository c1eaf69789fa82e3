"""Logins, bearer tokens (stored as SHA-256 digests), lockout after repeated failures."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import authenticate
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from tracker.records import fastpath
from tracker.records.models import AuthToken, Role, User
from tracker.records.services.audit import audit_record

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


def token_authenticate(*, raw: str) -> AuthToken | None:
    """The live token for a raw bearer value (its user and patient loaded), or None."""
    token = fastpath.token_with_user(token_digest(raw))
    if token is None or not token.user.is_active:
        return None
    return token
