"""What every resource's serializers share: strict bodies, one instance per process, query parameters."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from django.contrib.auth import password_validation
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.exceptions import ErrorDetail

from tracker.api.messages import FIELD_MESSAGES
from tracker.records.cleaning import USERNAME, canonical_timezones

#: A local time of day as the app shows and sends it.
CLOCK_FORMAT = "%H:%M"


@extend_schema_field({"type": "string", "pattern": "^([01][0-9]|2[0-3]):[0-5][0-9]$", "example": "18:00"})
class ClockTimeField(serializers.TimeField):
    """A local time of day as the app shows it, "HH:MM" (OpenAPI's ``format: time`` means RFC 3339's
    "HH:MM:SS" with an offset, which these are not)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("format", CLOCK_FORMAT)
        kwargs.setdefault("input_formats", [CLOCK_FORMAT])
        super().__init__(**kwargs)


def _password_min_length() -> int:
    for validator in password_validation.get_default_password_validators():
        if isinstance(validator, password_validation.MinimumLengthValidator):
            return int(validator.min_length)
    return 1


@extend_schema_field({"type": "string", "enum": sorted(canonical_timezones())})
class TimezoneField(serializers.CharField):
    """A canonical IANA time zone (the zones of its ``zone.tab`` and UTC), listed in the schema; the
    service checks it and answers ``unknown_timezone``."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 64)
        super().__init__(**kwargs)


@extend_schema_field({"type": "string", "pattern": f"^{USERNAME.pattern}$", "example": "a.patient"})
class UsernameField(serializers.CharField):
    """A new username as the records accept it (tracker/records/cleaning.py); whether it is free the
    schema cannot say."""

    #: Applied by the schema (tracker/api/schema.py) over the bounds drf-spectacular reads off the field.
    schema_overrides = {"minLength": 3}

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 150)
        super().__init__(**kwargs)


@extend_schema_field(
    {
        "type": "string",
        # Not digits only (Django's NumericPasswordValidator); common passwords, ones like the username
        # and runs of one character are refused too, which no pattern states.
        "pattern": "[^0-9]",
        "format": "password",
    }
)
class NewPasswordField(serializers.CharField):
    """A password being set: at least the length the password validators ask for, not only digits."""

    schema_overrides = {"minLength": _password_min_length()}

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 1024)
        kwargs.setdefault("trim_whitespace", False)
        super().__init__(**kwargs)


class StrictSerializer(serializers.Serializer):  # type: ignore[type-arg]
    """Rejects fields it does not know, so a typo is an error rather than silently ignored."""

    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, dict):
            raise serializers.ValidationError(
                {"non_field_errors": [ErrorDetail(str(FIELD_MESSAGES["not_an_object"]), "not_an_object")]}
            )
        names = sorted(set(data) - set(self.fields))
        unknown: dict[str, list[ErrorDetail]] = {}
        if names:  # the message is translated only when a field is unknown
            unknown_field = ErrorDetail(str(FIELD_MESSAGES["unknown_field"]), "unknown_field")
            unknown = {name: [unknown_field] for name in names}
        # JSON's own types, as the schema states them: DRF would read 0 as false and 7 as the text "7".
        mistyped = {name: [error] for name, error in self._type_errors(data).items()}
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as exc:
            raise serializers.ValidationError({**exc.detail, **mistyped, **unknown}) from None  # type: ignore[dict-item]
        if mistyped or unknown:
            raise serializers.ValidationError({**mistyped, **unknown})
        return value

    def _type_errors(self, data: dict[str, Any]) -> dict[str, ErrorDetail]:
        errors = {}
        for name, field in self.fields.items():
            value = data.get(name)
            if value is None or field.read_only:
                continue
            if isinstance(field, serializers.BooleanField) and not isinstance(value, bool):
                errors[name] = ErrorDetail(str(FIELD_MESSAGES["not_a_boolean"]), "not_a_boolean")
            elif isinstance(field, serializers.CharField) and not isinstance(value, str):
                errors[name] = ErrorDetail(str(FIELD_MESSAGES["not_text"]), "not_text")
        return errors


@functools.cache
def _instance(serializer_class: type[serializers.Serializer]) -> serializers.Serializer:  # type: ignore[type-arg]
    return serializer_class()


def validated(serializer_class: type[serializers.Serializer], data: Any) -> dict[str, Any]:  # type: ignore[type-arg]
    """``is_valid(raise_exception=True)`` then ``validated_data``, through one instance of the
    serializer per process: DRF builds a serializer's fields anew for every instance, and
    ``run_validation`` keeps no state on the instance, so one gives the same answers."""
    return dict(_instance(serializer_class).run_validation(data))


def query(serializer_class: type[serializers.Serializer], params: Mapping[str, str]) -> dict[str, Any]:  # type: ignore[type-arg]
    """A request's query parameters validated by ``serializer_class``: a wrong value is a 400
    naming the parameter. An empty parameter (``?scale=``) counts as absent, and parameters the
    serializer does not declare are left to others (pagination, format)."""
    return validated(serializer_class, {name: value for name, value in params.items() if value != ""})
