"""Logins, bearer tokens (stored as SHA-256 digests), lockout after repeated failures."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import authenticate
from django.db import transaction
from django.utils import timezone

from tracker.records import fastpath
from tracker.records.models import AuthToken, Role, User
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


def token_refusal(*, raw: str) -> str:
    """Why a bearer value that ``token_authenticate`` refused is refused: ``token_revoked`` (signed
    out, or ended by a password change), ``token_expired``, else ``authentication_failed`` (unknown,
    or its user deactivated). Read only on a refusal, so the accepted path keeps its one query."""
    token = AuthToken.objects.filter(digest=token_digest(raw)).select_related("user").first()
    if token is None or not token.user.is_active:
        return "authentication_failed"
    if token.revoked_at is not None:
        return "token_revoked"
    if token.expires_at <= timezone.now():
        return "token_expired"
    return "authentication_failed"


def token_authenticate(*, raw: str) -> AuthToken | None:
    """The live token for a raw bearer value (its user and patient loaded), or None."""
    token = fastpath.token_with_user(token_digest(raw))
    if token is None or not token.user.is_active:
        return None
    return token
