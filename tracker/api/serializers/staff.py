"""A clinic's staff accounts."""

from __future__ import annotations

from rest_framework import serializers

from tracker.api.serializers.base import NewPasswordField, StrictSerializer, UsernameField
from tracker.records.models import STAFF_ROLE_CHOICES


class StaffCreateSerializer(StrictSerializer):
    username = UsernameField()
    password = NewPasswordField()
    role = serializers.ChoiceField(choices=STAFF_ROLE_CHOICES)


class StaffSerializer(serializers.Serializer):  # type: ignore[type-arg]
    id = serializers.UUIDField()
    username = serializers.CharField()
    role = serializers.ChoiceField(choices=STAFF_ROLE_CHOICES)
    is_active = serializers.BooleanField(required=False)
