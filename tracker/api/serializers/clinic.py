"""A clinic's settings and the reference sets it may choose."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers

from tracker.api.serializers.base import StrictSerializer
from tracker.records.cleaning import check_timezone


class ClinicSerializer(serializers.Serializer):  # type: ignore[type-arg]
    id = serializers.UUIDField(read_only=True)
    name = serializers.CharField(read_only=True)
    reference_set = serializers.CharField(max_length=100, required=False)
    scoring_options = serializers.DictField(
        child=serializers.DictField(),
        required=False,
        help_text='Per-scale overrides of the clinical defaults, e.g. {"madrs": {"remission_max": 12}}.',
    )
    payer_profile = serializers.CharField(
        required=False,
        allow_null=True,
        help_text="The id or key of the payer profile reports apply by default; null: the built-in one.",
    )
    timezone = serializers.CharField(
        max_length=64,
        required=False,
        help_text=(
            "A canonical IANA time zone, e.g. 'Europe/Berlin' (default 'UTC'): the dashboard, charts and payer "
            "PDF show date-times in it; the API's date-times stay ISO 8601 in UTC."
        ),
    )

    def validate_timezone(self, value: str) -> str:
        try:
            return check_timezone(value)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.messages[0], code="unknown_timezone") from None


class PayerProfileCreateSerializer(StrictSerializer):
    key = serializers.CharField(max_length=60, help_text="The clinic's short name for it, e.g. 'acme-health'.")
    name = serializers.CharField(max_length=200, help_text="Printed on every report that applies it.")
    rules = serializers.JSONField(
        help_text=(
            "baseline {max_days_before_start, source}, severity_floors {minimum_baseline {scale: total}, source}, "
            "induction {by_treatment {modality: {sessions?, days?, source}}, score_window_days, source}, "
            "categories {non_response_max_percent, response_min_percent, source}: the shape of the built-in profile."
        )
    )


class PayerProfileSerializer(serializers.Serializer):  # type: ignore[type-arg]
    id = serializers.UUIDField(allow_null=True, help_text="null for the built-in profile")
    key = serializers.CharField()
    name = serializers.CharField()
    rules = serializers.JSONField()
    builtin = serializers.BooleanField()
    is_clinic_default = serializers.BooleanField()


class ReferenceSetSerializer(serializers.Serializer):  # type: ignore[type-arg]
    key = serializers.CharField()
    title = serializers.CharField()
    version = serializers.CharField()
    kind = serializers.CharField()
