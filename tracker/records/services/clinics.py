"""Onboarding clinics and their staff."""

from __future__ import annotations

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction

from tracker.records.cleaning import check_username, clean_text, username_skeleton
from tracker.records.models import Clinic, Role, User
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
