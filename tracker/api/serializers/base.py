"""What every resource's serializers share: strict bodies, one instance per process, query parameters."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.exceptions import ErrorDetail

from tracker.api.messages import FIELD_MESSAGES


@extend_schema_field({"type": "string", "pattern": "^([01][0-9]|2[0-3]):[0-5][0-9]$", "example": "18:00"})
class ClockTimeField(serializers.TimeField):
    """A local time of day as the app shows it, "HH:MM" (OpenAPI's ``format: time`` means RFC 3339's
    "HH:MM:SS" with an offset, which these are not)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("format", "%H:%M")
        kwargs.setdefault("input_formats", ["%H:%M"])
        super().__init__(**kwargs)


class StrictSerializer(serializers.Serializer):  # type: ignore[type-arg]
    """Rejects fields it does not know, so a typo is an error rather than silently ignored."""

    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, dict):
            raise serializers.ValidationError(
                {"non_field_errors": [ErrorDetail(str(FIELD_MESSAGES["not_an_object"]), "not_an_object")]}
            )
        unknown_field = ErrorDetail(str(FIELD_MESSAGES["unknown_field"]), "unknown_field")
        unknown = {name: [unknown_field] for name in sorted(set(data) - set(self.fields))}
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as exc:
            raise serializers.ValidationError({**exc.detail, **unknown}) from None  # type: ignore[dict-item]
        if unknown:
            raise serializers.ValidationError(unknown)
        return value


@functools.cache
def _instance(serializer_class: type[serializers.Serializer]) -> serializers.Serializer:  # type: ignore[type-arg]
    return serializer_class()


def validated(serializer_class: type[serializers.Serializer], data: Any) -> dict[str, Any]:  # type: ignore[type-arg]
    """``is_valid(raise_exception=True)`` then ``validated_data``, through one instance of the
    serializer per process: DRF builds a serializer's fields anew for every instance, and
    ``run_validation`` keeps no state on the instance, so one gives the same answers."""
    return dict(_instance(serializer_class).run_validation(data))


def represent(serializer_class: type[serializers.Serializer], instance: Any) -> dict[str, Any]:  # type: ignore[type-arg]
    """``serializer_class(instance).data`` through the same one instance per process
    (``to_representation`` keeps no state on the instance either)."""
    return dict(_instance(serializer_class).to_representation(instance))


def query(serializer_class: type[serializers.Serializer], params: Mapping[str, str]) -> dict[str, Any]:  # type: ignore[type-arg]
    """A request's query parameters validated by ``serializer_class``: a wrong value is a 400
    naming the parameter. An empty parameter (``?scale=``) counts as absent, and parameters the
    serializer does not declare are left to others (pagination, format)."""
    return validated(serializer_class, {name: value for name, value in params.items() if value != ""})
