"""A clinic's payer profiles: which one a report applies, and the audited writes that add one or
choose the clinic's default. The profile's shape and meaning are ``tracker.reports.payer``'s."""

from __future__ import annotations

import uuid
from functools import cache
from typing import Any

from django.db import IntegrityError, transaction

from tracker.records.models import Clinic, Modality, PayerProfile, Role, User
from tracker.records.services.audit import audit_record
from tracker.records.services.errors import invalid
from tracker.reports.payer import Profile, ProfileError, default_document, parse_profile


@cache
def builtin_profile() -> Profile:
    """The built-in profile (``payer_profiles/default.json``), read once."""
    return parse_profile(default_document(), treatments=Modality.values)


def _parse_stored(stored: PayerProfile) -> Profile:
    document = {"key": stored.key, "name": stored.name, "rules": stored.rules}
    return parse_profile(document, treatments=Modality.values, profile_id=str(stored.pk))


def _find(clinic: Clinic, wanted: str) -> PayerProfile | None:
    profiles = PayerProfile.objects.filter(clinic=clinic)
    try:
        by_id = profiles.filter(pk=uuid.UUID(wanted)).first()
    except ValueError:
        by_id = None
    return by_id or profiles.filter(key=wanted).first()


def payer_profile_for(clinic: Clinic, requested: str | None = None, *, field: str = "profile") -> Profile:
    """The profile a report applies: ``requested`` (an id or key of the clinic's own profiles, or the
    built-in key) if given, else the clinic's default, else the built-in one. An unknown or another
    clinic's profile is a validation error naming ``field``."""
    if requested:
        if requested == builtin_profile().key:
            return builtin_profile()
        found = _find(clinic, requested)
        if found is None:
            raise invalid(
                field,
                "Unknown payer profile: use the id or key of one of the clinic's profiles.",
                code="unknown_payer_profile",
            )
        return _parse_stored(found)
    if clinic.payer_profile_id is not None:
        stored = PayerProfile.objects.filter(pk=clinic.payer_profile_id, clinic=clinic).first()
        if stored is not None:
            return _parse_stored(stored)
    return builtin_profile()


def payer_profiles_list(*, clinic: Clinic) -> list[dict[str, Any]]:
    """The built-in profile and the clinic's own, each with whether reports apply it by default."""
    default = clinic.payer_profile_id
    builtin = builtin_profile()
    rows = [
        {
            "id": None,
            "key": builtin.key,
            "name": builtin.name,
            "rules": builtin.document["rules"],
            "builtin": True,
            "is_clinic_default": default is None,
        }
    ]
    for stored in PayerProfile.objects.filter(clinic=clinic):
        rows.append(
            {
                "id": str(stored.pk),
                "key": stored.key,
                "name": stored.name,
                "rules": stored.rules,
                "builtin": False,
                "is_clinic_default": stored.pk == default,
            }
        )
    return rows


def _require_admin(actor: User) -> Clinic:
    if actor.role != Role.ADMIN or actor.clinic is None:
        raise PermissionError("Only a clinic admin changes the clinic's payer profiles.")
    return actor.clinic


@transaction.atomic
def payer_profile_create(*, actor: User, key: str, name: str, rules: Any) -> PayerProfile:
    """A new payer profile of the actor's clinic, validated against the built-in profile's shape."""
    clinic = _require_admin(actor)
    try:
        profile = parse_profile({"key": key, "name": name, "rules": rules}, treatments=Modality.values)
    except ProfileError as exc:
        raise invalid(exc.field, exc.message, code="invalid_profile") from None
    if profile.key == builtin_profile().key or PayerProfile.objects.filter(clinic=clinic, key=profile.key).exists():
        raise invalid("key", "This key is taken.", code="key_taken")
    try:
        with transaction.atomic():
            stored = PayerProfile.objects.create(
                clinic=clinic, key=profile.key, name=profile.name, rules=profile.document["rules"], created_by=actor
            )
    except IntegrityError:
        raise invalid("key", "This key is taken.", code="key_taken") from None
    audit_record(actor=actor, action="payer_profile.create", object_type="payer_profile", object_id=stored.pk)
    return stored


@transaction.atomic
def clinic_set_payer_profile(*, actor: User, profile: str | None) -> Clinic:
    """Choose the clinic's default payer profile by id or key; None or the built-in key: the built-in one."""
    clinic = _require_admin(actor)
    clinic = Clinic.objects.select_for_update().get(pk=clinic.pk)
    chosen = None
    if profile and profile != builtin_profile().key:
        chosen = _find(clinic, profile)
        if chosen is None:
            raise invalid(
                "payer_profile",
                "Unknown payer profile: use the id or key of one of the clinic's profiles.",
                code="unknown_payer_profile",
            )
    clinic.payer_profile = chosen
    clinic.save(update_fields=["payer_profile"])
    audit_record(
        actor=actor, action="clinic.payer_profile", object_type="clinic", object_id=clinic.pk, clinic_id=clinic.pk
    )
    return clinic
