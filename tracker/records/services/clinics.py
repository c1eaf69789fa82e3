"""Onboarding clinics and their staff."""

from __future__ import annotations

import secrets

from django.contrib.auth.password_validation import validate_password
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from tracker.records.cleaning import check_timezone, check_username, clean_text, username_skeleton
from tracker.records.models import AuthToken, Clinic, Role, User
from tracker.records.services.audit import audit_record
from tracker.records.services.errors import invalid

STAFF_ROLES = (Role.ADMIN, Role.CLINICIAN)


USERNAME_UNAVAILABLE = "This username is not available; choose another."


def check_new_login(username: str, password: str) -> None:
    """A new login's username and password. Everything about the request is checked before
    whether the name is free, and a taken name, or one that looks like a taken one, gets one
    answer, wherever its holder is."""
    check_username(username)
    try:
        validate_password(password, User(username=username))
    except ValidationError as exc:
        raise ValidationError({"password": exc.error_list}) from exc
    if User.objects.filter(username_skeleton=username_skeleton(username)).exists():
        raise invalid("username", USERNAME_UNAVAILABLE, code="username_unavailable")


@transaction.atomic
def clinic_create(*, name: str, admin_username: str, admin_password: str) -> tuple[Clinic, User]:
    name = clean_text("name", name, max_length=200)
    check_new_login(admin_username, admin_password)
    clinic = Clinic.objects.create(name=name)
    admin = User.objects.create_user(username=admin_username, password=admin_password, clinic=clinic, role=Role.ADMIN)
    audit_record(actor=None, action="clinic.create", object_type="clinic", object_id=clinic.pk, clinic_id=clinic.pk)
    return clinic, admin


@transaction.atomic
def clinic_set_timezone(*, actor: User, timezone_name: str) -> Clinic:
    """The zone the clinic's staff read date-times in (dashboard, charts, payer PDF); outcomes do not
    depend on it, so nothing is recomputed."""
    assert actor.clinic_id is not None
    check_timezone(timezone_name)
    clinic = Clinic.objects.select_for_update().get(pk=actor.clinic_id)
    if clinic.timezone != timezone_name:
        clinic.timezone = timezone_name
        clinic.save(update_fields=["timezone"])
        audit_record(actor=actor, action="clinic.settings", object_type="clinic", object_id=clinic.pk)
    return clinic


@transaction.atomic
def staff_create(*, actor: User, username: str, password: str, role: str) -> User:
    if role not in STAFF_ROLES:
        raise invalid(
            "role",
            'Role must be "clinician" or "admin".',
            code="invalid_choice",
            params={"choices": "clinician, admin"},
        )
    check_new_login(username, password)
    user = User.objects.create_user(username=username, password=password, clinic_id=actor.clinic_id, role=role)
    audit_record(actor=actor, action="staff.create", object_type="user", object_id=user.pk)
    return user


def _end_sessions_and_tokens(user: User) -> None:
    """Revoke the user's bearer tokens and end their dashboard sessions (the database session store)."""
    now = timezone.now()
    AuthToken.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=now)
    key = str(user.pk)
    ended = [s.pk for s in Session.objects.filter(expire_date__gt=now) if s.get_decoded().get("_auth_user_id") == key]
    Session.objects.filter(pk__in=ended).delete()


def _check_staff_target(actor: User, user: User) -> None:
    if actor.role != Role.ADMIN or user.clinic_id != actor.clinic_id or user.role not in STAFF_ROLES:
        raise PermissionError("Only the clinic's admin manages its staff.")


@transaction.atomic
def staff_deactivate(*, actor: User, user: User) -> User:
    """The login can no longer sign in; its tokens are revoked and its sessions ended. Idempotent.
    An admin cannot deactivate their own login (the clinic would be left without one)."""
    _check_staff_target(actor, user)
    if user.pk == actor.pk:
        raise invalid("user", "You cannot deactivate your own login.")
    user = User.objects.select_for_update().get(pk=user.pk)
    if user.is_active:
        user.is_active = False
        user.save(update_fields=["is_active"])
        audit_record(actor=actor, action="staff.deactivate", object_type="user", object_id=user.pk)
    _end_sessions_and_tokens(user)
    return user


TEMPORARY_PASSWORD_BYTES = 12


@transaction.atomic
def staff_reset_password(*, actor: User, user: User) -> str:
    """A new random temporary password for a staff login (returned once, to hand over; never stored in
    clear or logged). Its tokens and sessions end, so the old password opens nothing."""
    _check_staff_target(actor, user)
    if user.pk == actor.pk:
        raise invalid("user", "Reset another staff member's password, not your own.")
    if not user.is_active:
        raise invalid("user", "This login is deactivated.")
    temporary = secrets.token_urlsafe(TEMPORARY_PASSWORD_BYTES)
    user.set_password(temporary)
    user.save(update_fields=["password"])
    _end_sessions_and_tokens(user)
    audit_record(actor=actor, action="staff.password_reset", object_type="user", object_id=user.pk)
    return temporary
