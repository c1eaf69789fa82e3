"""A patient's access log: who saw or changed the patient's data, when (ids and actions, never values)."""

from __future__ import annotations

from rest_framework import serializers

ACCESS_LOG_FIELDS = ["at", "actor_username", "actor_role", "action", "object_type", "object_id", "request_id"]


class AccessLogEntrySerializer(serializers.Serializer):  # type: ignore[type-arg]
    at = serializers.DateTimeField()
    actor_username = serializers.CharField()
    actor_role = serializers.CharField()
    action = serializers.CharField()
    object_type = serializers.CharField()
    object_id = serializers.CharField()
    request_id = serializers.CharField()
