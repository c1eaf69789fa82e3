"""A clinic's crisis resources: its country, its own line, its texts per locale (tracker/records/crisis.py
reads them). Every field is checked and every error reported at once; nothing is stored otherwise."""

from __future__ import annotations

import re
from functools import cache
from importlib import resources
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction

from tracker.records.cleaning import clean_text
from tracker.records.crisis import COUNTRY_ALIASES
from tracker.records.models import Clinic, User
from tracker.records.services.audit import audit_record

# A number as people dial it: digits, spaces and the usual separators, an optional leading +.
PHONE = re.compile(r"\+?[0-9][0-9 ().-]*[0-9]")
PHONE_MAX_LENGTH = 32
LABEL_MAX_LENGTH = 120
URL_MAX_LENGTH = 300
MESSAGE_MAX_LENGTH = 1000
MAX_LINES = 5
MAX_EMERGENCY_NUMBERS = 3
LINE_FIELDS = {"label", "phone", "sms", "url"}
LOCALE_FIELDS = {"message", "emergency", "lines"}

_https = URLValidator(schemes=["https"])
#: The https addresses accepted (the API's schema states this pattern): a host name with a top-level
#: domain and a path of unreserved characters and percent-escapes; no query, fragment, port or user.
HTTPS_URL = re.compile(
    r"https://([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}(/([A-Za-z0-9._~/-]|%[0-9A-Fa-f]{2})*)?"
)


@cache
def iso_countries() -> frozenset[str]:
    table = resources.files("tzdata").joinpath("zoneinfo", "iso3166.tab").read_text(encoding="utf-8")
    return frozenset(line.split("\t")[0] for line in table.splitlines() if line and not line.startswith("#"))


class _Errors:
    """Collects every offending field of one request."""

    def __init__(self) -> None:
        self.by_field: dict[str, list[str]] = {}

    def add(self, field: str, message: str) -> None:
        self.by_field.setdefault(field, []).append(message)

    def text(self, field: str, value: Any, *, max_length: int, required: bool) -> str:
        try:
            return clean_text(field, value, max_length=max_length, required=required)
        except ValidationError as exc:
            for message in exc.message_dict.get(field, exc.messages):
                self.add(field, message)
            return ""

    def phone(self, field: str, value: Any, *, required: bool = True) -> str:
        if value in (None, "") and not required:
            return ""
        text = value.strip() if isinstance(value, str) else None
        digits = sum(c.isdigit() for c in text or "")
        if text is None or len(text) > PHONE_MAX_LENGTH or not PHONE.fullmatch(text) or digits < 3:
            self.add(
                field,
                f"A phone number of 3 to {PHONE_MAX_LENGTH} characters: digits, spaces, ( ) . - and an optional "
                "leading +.",
            )
            return ""
        return text

    def url(self, field: str, value: Any) -> str:
        if value in (None, ""):
            return ""
        if not isinstance(value, str) or len(value) > URL_MAX_LENGTH:
            self.add(field, f"A web address (https://…) of at most {URL_MAX_LENGTH} characters.")
            return ""
        try:
            _https(value)
            if not HTTPS_URL.fullmatch(value):
                raise ValidationError("")
        except ValidationError:
            self.add(field, "A web address starting with https://.")
            return ""
        return value

    def mapping(self, field: str, value: Any, allowed: set[str]) -> dict[str, Any] | None:
        if not isinstance(value, dict):
            self.add(field, "Expected an object.")
            return None
        for key in sorted(set(value) - allowed):
            self.add(f"{field}.{key}", "Unknown field.")
        return value


def _line(errors: _Errors, field: str, value: Any, *, label_required: bool) -> dict[str, str] | None:
    data = errors.mapping(field, value, LINE_FIELDS)
    if data is None:
        return None
    return {
        "label": errors.text(f"{field}.label", data.get("label"), max_length=LABEL_MAX_LENGTH, required=label_required),
        "phone": errors.phone(f"{field}.phone", data.get("phone")),
        "sms": errors.phone(f"{field}.sms", data.get("sms"), required=False),
        "url": errors.url(f"{field}.url", data.get("url")),
    }


def _locale_texts(errors: _Errors, field: str, value: Any) -> dict[str, Any]:
    data = errors.mapping(field, value, LOCALE_FIELDS)
    if data is None:
        return {}
    texts: dict[str, Any] = {}
    if data.get("message") not in (None, ""):
        texts["message"] = errors.text(
            f"{field}.message", data["message"], max_length=MESSAGE_MAX_LENGTH, required=False
        )
    if data.get("emergency") is not None:
        numbers = data["emergency"]
        if not isinstance(numbers, list) or not 1 <= len(numbers) <= MAX_EMERGENCY_NUMBERS:
            errors.add(f"{field}.emergency", f"A list of 1 to {MAX_EMERGENCY_NUMBERS} emergency numbers.")
        else:
            texts["emergency"] = [errors.phone(f"{field}.emergency[{i}]", n) for i, n in enumerate(numbers)]
    if data.get("lines") is not None:
        lines = data["lines"]
        if not isinstance(lines, list) or len(lines) > MAX_LINES:
            errors.add(f"{field}.lines", f"A list of at most {MAX_LINES} crisis lines.")
        else:
            texts["lines"] = [_line(errors, f"{field}.lines[{i}]", x, label_required=True) for i, x in enumerate(lines)]
    return texts


def _country(errors: _Errors, value: Any) -> str:
    if value in (None, ""):
        return ""
    code = COUNTRY_ALIASES.get(value.strip().upper(), value.strip().upper()) if isinstance(value, str) else None
    if code not in iso_countries():
        errors.add("country", "A two-letter country code (ISO 3166-1), e.g. US, GB, ES, MX; empty when unknown.")
        return ""
    return code


@transaction.atomic
def clinic_set_crisis_resources(
    *, actor: User, country: Any = "", clinic_line: Any = None, locales: Any = None
) -> Clinic:
    """Replace the clinic's crisis settings (a PUT): its country, its own line (null: none) and its texts per
    locale (only the languages the product ships). Audited; the values are not (no health data, but kept short)."""
    assert actor.clinic_id is not None, "only clinic staff set a clinic's crisis resources"
    errors = _Errors()
    code = _country(errors, country)
    line = None if clinic_line is None else _line(errors, "clinic_line", clinic_line, label_required=False)
    texts: dict[str, Any] = {}
    if locales is not None:
        languages = dict(settings.LANGUAGES)
        if not isinstance(locales, dict):
            errors.add("locales", "Expected an object keyed by language code.")
            locales = {}
        for locale, value in locales.items():
            if locale in languages:
                texts[locale] = _locale_texts(errors, f"locales.{locale}", value)
            else:
                errors.add(f"locales.{locale}", f"Texts can be set for these languages: {', '.join(languages)}.")
    if errors.by_field:
        raise ValidationError(errors.by_field)
    clinic = Clinic.objects.select_for_update().get(pk=actor.clinic_id)
    clinic.country = code
    clinic.crisis_resources = {"clinic_line": line, "locales": {k: v for k, v in texts.items() if v}}
    clinic.save(update_fields=["country", "crisis_resources"])
    audit_record(
        actor=actor, action="clinic.crisis_resources_update", object_type="clinic", object_id=clinic.pk,
        clinic_id=clinic.pk,
    )  # fmt: skip
    return clinic
