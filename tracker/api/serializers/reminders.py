"""Reminder preferences, devices for push, and the push outbox staff read."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from tracker.api.serializers.base import ClockTimeField, StrictSerializer
from tracker.records.models import DevicePlatform, ReminderChannel


@extend_schema_field({"type": "string", "pattern": "^[!-~]+$"})
class PushTokenField(serializers.CharField):
    """A push token as a platform issues it: printable ASCII without spaces."""


class DistinctChoicesField(serializers.ListField):  # type: ignore[type-arg]
    """A list of distinct choices (the service refuses a repeated one)."""

    schema_overrides = {"uniqueItems": True}


class ReminderPreferenceSerializer(StrictSerializer):
    enabled = serializers.BooleanField()
    local_time = ClockTimeField(help_text="The patient's local time of day, HH:MM.")
    channels = DistinctChoicesField(
        child=serializers.ChoiceField(choices=ReminderChannel.choices), max_length=len(ReminderChannel.values)
    )
    email = serializers.EmailField(
        max_length=254,
        required=False,
        allow_blank=True,
        allow_null=True,
        help_text="Where email reminders go; omitted keeps the stored address, null or empty clears it.",
    )


class DeviceCreateSerializer(StrictSerializer):
    platform = serializers.ChoiceField(choices=DevicePlatform.choices)
    push_token = PushTokenField(min_length=16, max_length=1024, help_text="As the platform issued it.")


class DeviceSerializer(serializers.Serializer):  # type: ignore[type-arg]
    id = serializers.UUIDField()
    platform = serializers.ChoiceField(choices=DevicePlatform.choices)
    created_at = serializers.DateTimeField()


class PushOutboxMessageSerializer(serializers.Serializer):  # type: ignore[type-arg]
    id = serializers.IntegerField()
    patient = serializers.UUIDField(source="patient_id")
    device = serializers.UUIDField(source="device_id", allow_null=True)
    title = serializers.CharField()
    body = serializers.CharField()
    created_at = serializers.DateTimeField()
