"""Safety flags."""

from __future__ import annotations

from rest_framework import serializers

from tracker.records.models import SafetyFlag


class FlagSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    acknowledged_by = serializers.UUIDField(source="acknowledged_by_id", allow_null=True, read_only=True)

    class Meta:
        model = SafetyFlag
        fields = [
            "id",
            "patient",
            "assessment",
            "scale",
            "item",
            "value",
            "level",
            "created_at",
            "acknowledged_at",
            "acknowledged_by",
        ]


class FlagListQuerySerializer(serializers.Serializer):  # type: ignore[type-arg]
    open = serializers.BooleanField(required=False, default=False, help_text="Only flags not yet acknowledged.")
