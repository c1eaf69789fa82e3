"""Reminder preferences, devices for push, and the push outbox staff read."""

from __future__ import annotations

from rest_framework import serializers

from tracker.api.serializers.base import ClockTimeField, StrictSerializer
from tracker.records.models import DevicePlatform, ReminderChannel


class ReminderPreferenceSerializer(StrictSerializer):
    enabled = serializers.BooleanField()
    local_time = ClockTimeField(help_text="The patient's local time of day, HH:MM.")
    channels = serializers.ListField(
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
    push_token = serializers.CharField(min_length=16, max_length=1024, help_text="As the platform issued it.")


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
