"""Safety flags and their acknowledgement history."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from tracker.api.serializers.base import StrictSerializer
from tracker.records.models import FlagAcknowledgement, FlagAction, SafetyFlag

#: One of the actions, or empty when none was given.
ACTION_OR_EMPTY = {"oneOf": [{"type": "string", "enum": list(FlagAction.values)}, {"type": "string", "maxLength": 0}]}


@extend_schema_field(ACTION_OR_EMPTY)
class RecordedActionField(serializers.CharField):
    """The action recorded with an acknowledgement: one of the actions, or empty when none was given."""


@extend_schema_field(ACTION_OR_EMPTY)
class ActionChoiceField(serializers.ChoiceField):
    """The action an acknowledgement records: one of the actions, or empty for none (as the API accepts)."""


class FlagAcknowledgementSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    by = serializers.UUIDField(source="by_id", allow_null=True, read_only=True)
    action = RecordedActionField(read_only=True)

    class Meta:
        model = FlagAcknowledgement
        fields = ["at", "by", "action", "note"]


class FlagSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    acknowledged_by = serializers.UUIDField(source="acknowledged_by_id", allow_null=True, read_only=True)
    history = FlagAcknowledgementSerializer(
        source="acknowledgements",
        many=True,
        read_only=True,
        help_text="The acknowledgement, then any follow-ups, oldest first.",
    )

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
            "history",
        ]


class FlagAcknowledgeSerializer(StrictSerializer):
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True)
    action = ActionChoiceField(
        choices=FlagAction.choices, required=False, allow_blank=True, help_text="What was done about the flag."
    )


class FlagListQuerySerializer(serializers.Serializer):  # type: ignore[type-arg]
    open = serializers.BooleanField(required=False, default=False, help_text="Only flags not yet acknowledged.")
