"""Notices for a clinic's clinicians."""

from __future__ import annotations

from rest_framework import serializers


class NoticeSerializer(serializers.Serializer):  # type: ignore[type-arg]
    id = serializers.UUIDField()
    patient = serializers.UUIDField(source="patient_id")
    kind = serializers.CharField()
    message = serializers.CharField()
    created_at = serializers.DateTimeField()
    read_at = serializers.DateTimeField(allow_null=True)


class NoticeListQuerySerializer(serializers.Serializer):  # type: ignore[type-arg]
    unread = serializers.BooleanField(required=False, default=False, help_text="Only notices not yet read.")
