"""Passwords: staff-issued reset codes, resetting with one, and changing one's own password.

A reset code is single-use, short-lived (``PASSWORD_RESET_CODE_TTL_MINUTES``) and stored as its
SHA-256 digest only, like enrollment codes and bearer tokens; issuing one makes the user's earlier
unused codes stop working. Clinic staff issue codes for their clinic's patients, and a clinic admin
for the clinic's staff (an admin's own password is changed, not reset). Wrong guesses at a code are
counted by the login guard with failed logins (per username and client address), so neither path
gives an attacker more tries than the other. Setting a new password runs the project's password
validators (``AUTH_PASSWORD_VALIDATORS``) and ends the user's other sessions: after a reset every
bearer token stops working, after a change every token but the one that made it.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tracker.records.models import AuthToken, PasswordResetCode, Patient, Role, User
from tracker.records.services import login_guard
from tracker.records.services.audit import audit_record
from tracker.records.services.auth import token_digest
from tracker.records.services.errors import Conflict, invalid

# Read off a screen or over the phone as enrollment codes are: their alphabet (no 0/O, 1/I/L) and length.
from tracker.records.services.patients import CODE_ALPHABET, CODE_LENGTH


@dataclass(frozen=True)
class IssuedResetCode:
    raw: str
    expires_at: datetime


def normalized_code(raw: object) -> str:
    """A code as typed (any case, with spaces or dashes) in the form its digest was taken of."""
    return str(raw or "").strip().upper().replace("-", "").replace(" ", "")


def check_new_password(password: str, user: User, field: str = "new_password") -> None:
    """The project's password validators, their messages under ``field``."""
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise ValidationError({field: exc.messages}) from exc


def tokens_revoke_all(*, user: User, keep: AuthToken | None = None) -> int:
    """Revoke every live token of ``user`` but ``keep``; how many were revoked."""
    live = AuthToken.objects.filter(user=user, revoked_at__isnull=True)
    if keep is not None:
        live = live.exclude(pk=keep.pk)
    return live.update(revoked_at=timezone.now())


def _check_may_issue(actor: User, user: User) -> Patient | None:
    """Clinic staff for their clinic's enrolled patients, an admin for the clinic's other staff.
    The selectors have scoped the target already; this is the invariant itself. Returns the
    patient record when the target is a patient (the audit event names it)."""
    if not actor.is_clinic_staff or user.clinic_id != actor.clinic_id or not user.is_active:
        raise invalid("user", _("Unknown user."))
    if user.role == Role.PATIENT:
        return Patient.objects.filter(user=user).first()
    if actor.role != Role.ADMIN:
        raise invalid("user", _("Only a clinic admin issues reset codes for staff."))
    if user.pk == actor.pk:
        raise Conflict("user", _("Change your own password instead: you know the current one."))
    return None


@transaction.atomic
def password_reset_code_issue(*, actor: User, user: User) -> IssuedResetCode:
    """A fresh reset code for ``user``; their earlier unused codes stop working."""
    locked = User.objects.select_for_update().get(pk=user.pk)  # one issue at a time per user
    patient = _check_may_issue(actor, locked)
    now = timezone.now()
    PasswordResetCode.objects.filter(user=locked, used_at__isnull=True, expires_at__gt=now).update(expires_at=now)
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    code = PasswordResetCode.objects.create(
        user=locked,
        digest=token_digest(raw),
        created_by=actor,
        expires_at=now + timedelta(minutes=settings.PASSWORD_RESET_CODE_TTL_MINUTES),
    )
    audit_record(
        actor=actor,
        action="auth.password_reset_code",
        object_type="user",
        object_id=locked.pk,
        patient_id=patient.pk if patient else None,
        clinic_id=locked.clinic_id,
    )
    return IssuedResetCode(raw=raw, expires_at=code.expires_at)


def patient_password_reset_code_issue(*, actor: User, patient: Patient) -> IssuedResetCode:
    """A reset code for a patient's login; a patient who has not enrolled yet needs an enrollment
    code instead (409)."""
    if patient.user_id is None:
        raise Conflict(
            "patient", _("This patient has not enrolled in the app yet: issue a new enrollment code instead.")
        )
    user = User.objects.get(pk=patient.user_id)
    return password_reset_code_issue(actor=actor, user=user)


def generic_reset_error() -> ValidationError:
    """One answer for a wrong code, a used or expired one, and a code of another username."""
    return invalid("reset_code", _("This reset code is invalid, used or expired, or is not for this username."))


def _usable_code(username: str, reset_code: str) -> PasswordResetCode | None:
    code = (
        PasswordResetCode.objects.select_for_update(of=("self",))
        .select_related("user")
        .filter(digest=token_digest(normalized_code(reset_code)))
        .first()
    )
    if code is None or code.used_at is not None or code.expires_at <= timezone.now():
        return None
    if code.user.username != username or not code.user.is_active:
        return None
    return code


def password_reset(*, reset_code: str, username: str, new_password: str) -> User:
    """Set a new password with a reset code. Raises LoginLocked (429) while the username is locked
    from this address, a generic 400 for a wrong code or username (counted as a failed login), and
    400 naming ``new_password`` when the validators refuse it (the code stays usable)."""
    login_guard.check(username)
    with transaction.atomic():
        code = _usable_code(username, reset_code)
        if code is not None:
            _reset_with(code, new_password)
    if code is None:
        # Outside the transaction above, so the failure is counted even though nothing else is stored.
        login_guard.record_failure(username, action="auth.password_reset_failed")
        raise generic_reset_error()
    login_guard.clear(username)
    return code.user


def _reset_with(code: PasswordResetCode, new_password: str) -> None:
    user = code.user
    check_new_password(new_password, user)
    user.set_password(new_password)
    user.save(update_fields=["password"])
    now = timezone.now()
    code.used_at = now
    code.save(update_fields=["used_at"])
    PasswordResetCode.objects.filter(user=user, used_at__isnull=True).exclude(pk=code.pk).update(expires_at=now)
    tokens_revoke_all(user=user)
    patient = Patient.objects.filter(user=user).first()
    audit_record(
        actor=user,
        action="auth.password_reset",
        object_type="user",
        object_id=user.pk,
        patient_id=patient.pk if patient else None,
    )


def password_change(*, actor: User, token: AuthToken | None, old_password: str, new_password: str) -> None:
    """Change one's own password knowing the current one; every other token of the user stops
    working (``token``, the one the request came with, stays valid). A wrong current password is a
    400 naming ``old_password`` and counts as a failed login (a stolen token cannot guess freely)."""
    login_guard.check(actor.username)
    if not actor.check_password(old_password):
        login_guard.record_failure(actor.username, action="auth.password_change_failed")
        raise invalid("old_password", _("The current password is not correct."))
    check_new_password(new_password, actor)
    if old_password == new_password:
        raise invalid("new_password", _("The new password must differ from the current one."))
    with transaction.atomic():
        actor.set_password(new_password)
        actor.save(update_fields=["password"])
        tokens_revoke_all(user=actor, keep=token)
        patient = Patient.objects.filter(user=actor).first() if actor.role == Role.PATIENT else None
        audit_record(
            actor=actor,
            action="auth.password_change",
            object_type="user",
            object_id=actor.pk,
            patient_id=patient.pk if patient else None,
        )
    login_guard.clear(actor.username)


__all__ = [
    "IssuedResetCode",
    "check_new_password",
    "password_change",
    "password_reset",
    "password_reset_code_issue",
    "patient_password_reset_code_issue",
    "tokens_revoke_all",
]
