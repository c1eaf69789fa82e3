"""Login protection: failures counted per username *and* client address, kept in the database.

An attacker guessing one patient's password from their own address locks out that address only:
the patient, signing in from their phone, is not locked out. Each address has its own allowance of
``LOGIN_MAX_FAILURES`` in ``LOGIN_LOCKOUT_SECONDS``; past it, the answer says when to try again.
The client address is the one the middleware took from the proxy hops the operator declared
(``TRUSTED_PROXY_HOPS``), so a forged ``X-Forwarded-For`` changes nothing. Failures and lockouts
are audited (the attempted username, never the password).
"""

from __future__ import annotations

import hashlib
import math
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from tracker.records.context import current_client_address
from tracker.records.models import AuditEvent, LoginFailure
from tracker.records.services.audit import audit_event


class LoginLocked(Exception):
    """Too many failed logins for this username from this address: try again in ``retry_after`` seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__("locked")
        self.retry_after = retry_after


def _key(username: str) -> str:
    material = f"{username.strip().lower()}\n{current_client_address()}"
    return hashlib.sha256(material.encode()).hexdigest()


def _window_start() -> datetime:
    return timezone.now() - timedelta(seconds=settings.LOGIN_LOCKOUT_SECONDS)


def seconds_locked(username: str) -> int:
    """0 when this username may try from this address; otherwise how long until it may."""
    if not username:
        return 0
    latest = list(
        LoginFailure.objects.filter(key=_key(username), at__gte=_window_start())
        .order_by("-at")
        .values_list("at", flat=True)[: settings.LOGIN_MAX_FAILURES]
    )
    if len(latest) < settings.LOGIN_MAX_FAILURES:
        return 0
    # The lock lifts when the oldest of the last LOGIN_MAX_FAILURES failures leaves the window.
    unlock_at = latest[-1] + timedelta(seconds=settings.LOGIN_LOCKOUT_SECONDS)
    return max(1, math.ceil((unlock_at - timezone.now()).total_seconds()))


def check(username: str) -> None:
    """Raise LoginLocked (with Retry-After seconds) if this username is locked from this address."""
    if retry_after := seconds_locked(username):
        raise LoginLocked(retry_after)


def record_failure(username: str, action: str = "auth.login_failed") -> None:
    """Count one failure (a wrong password, or a wrong password reset code: ``action`` names which in
    the audit trail); audit it, and the lockout it may start."""
    key = _key(username)
    LoginFailure.objects.filter(at__lt=_window_start()).delete()  # keep the table to the window
    LoginFailure.objects.create(key=key)
    events = [_event(action, username)]
    if LoginFailure.objects.filter(key=key, at__gte=_window_start()).count() == settings.LOGIN_MAX_FAILURES:
        events.append(_event("auth.lockout", username))
    AuditEvent.objects.bulk_create(events)


def clear(username: str) -> None:
    """A successful login forgets this address's failures for the username."""
    LoginFailure.objects.filter(key=_key(username)).delete()


def _event(action: str, username: str) -> AuditEvent:
    event = audit_event(actor=None, action=action, object_type="user")
    event.actor_username = username[:150]
    return event
