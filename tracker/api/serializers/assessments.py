"""Questionnaire entries: submission, amendment, and the entry as the API answers it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

import scoring
from tracker.api.messages import scoring_details
from tracker.api.serializers.base import CLOCK_FORMAT, ClockTimeField, StrictSerializer
from tracker.api.serializers.crisis import CrisisResourcesSerializer
from tracker.records.models import SCALE_CHOICES, Assessment, Role, SafetyFlag, Timing


@extend_schema_field(
    {"oneOf": [{"type": "integer", "minimum": 0}, {"type": "string", "pattern": "^(0|[1-9][0-9]*[ab])$"}]}
)
class ItemValueField(serializers.Field):  # type: ignore[type-arg]
    """One item as sent, passed through: ``scoring`` checks it and names the item in its message.
    (DRF's JSONField would re-encode every item to check it is JSON, which it already is.)"""

    def to_internal_value(self, data: Any) -> Any:
        return data

    def to_representation(self, value: Any) -> Any:
        return value


class ItemsField(serializers.ListField):  # type: ignore[type-arg]
    """Item scores in item order. Integers; BDI-II items 16 and 18 may also be "1a", "2b", ...

    The values are checked by ``scoring`` (count, range, direction) with messages naming the item.
    """

    child = ItemValueField()

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", max(s.n_items for s in scoring.SCALES.values()))
        kwargs.setdefault("min_length", 1)  # also tells the schema: minItems 1
        kwargs.setdefault("allow_empty", False)
        super().__init__(**kwargs)

    def run_child_validation(self, data: Any) -> list[Any]:
        """Items pass to ``scoring`` as sent, without a validation call per item (the child
        converts nothing), a null item included: ``scoring`` names it in its message."""
        return list(data)


class AssessmentCreateSerializer(StrictSerializer):
    patient = serializers.UUIDField(required=False, help_text="Staff only: whose entry this is.")
    scale = serializers.ChoiceField(choices=SCALE_CHOICES)
    administered_on = serializers.DateField()
    items = ItemsField()
    item_directions = serializers.DictField(
        child=serializers.ChoiceField(choices=["increase", "decrease"]), required=False
    )
    client_id = serializers.UUIDField(
        help_text="The client's idempotency key: the same id again returns the first entry."
    )
    timing = serializers.ChoiceField(
        choices=Timing.choices,
        required=False,
        allow_null=True,
        help_text="Taken before that day's dose (or on a day without one) or within 24 h after it; null: unknown.",
    )
    administered_time = ClockTimeField(
        required=False,
        allow_null=True,
        help_text="The patient's local time of day, HH:MM.",
    )

    def to_internal_value(self, data: Any) -> Any:
        try:
            return super().to_internal_value(data)
        except serializers.ValidationError as exc:
            # Another field is wrong: the items are checked all the same, so that one answer names
            # every offending field (the service checks them again once the rest is valid).
            raise serializers.ValidationError({**_item_errors(data, exc.detail), **exc.detail}) from None  # type: ignore[dict-item]


def _item_errors(data: Any, detail: Any) -> dict[str, Any]:
    """The faults ``scoring`` finds in the items of a body refused for other reasons (none when the
    scale or the items themselves were refused already)."""
    if (
        not isinstance(data, dict)
        or not isinstance(detail, dict)
        or {"scale", "items", "item_directions"} & set(detail)
    ):
        return {}
    if data.get("scale") not in scoring.SCALES or not isinstance(data.get("items"), list):
        return {}
    try:
        scoring.read_entry(data["scale"], data["items"], data.get("item_directions"))
    except scoring.ScoringError as error:
        return scoring_details(error)
    return {}


class AmendSerializer(StrictSerializer):
    items = ItemsField()
    item_directions = serializers.DictField(
        child=serializers.ChoiceField(choices=["increase", "decrease"]), required=False
    )
    reason = serializers.CharField(max_length=2000)


class AssessmentFlagSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    class Meta:
        model = SafetyFlag
        fields = ["id", "item", "value", "level", "acknowledged_at"]


class AssessmentSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    flags = AssessmentFlagSerializer(many=True, read_only=True)
    items = serializers.ListField(child=serializers.IntegerField())
    item_directions = serializers.DictField(child=serializers.CharField())
    supersedes = serializers.UUIDField(source="supersedes_id", allow_null=True, read_only=True)
    entered_by_role = serializers.ChoiceField(choices=Role.choices)
    severity = serializers.ChoiceField(choices=list(scoring.SEVERITIES))
    administered_time = ClockTimeField(allow_null=True)

    class Meta:
        model = Assessment
        fields = [
            "id",
            "patient",
            "scale",
            "scale_version",
            "administered_on",
            "administered_time",
            "timing",
            "items",
            "item_directions",
            "total",
            "severity",
            "flags",
            "entered_by_role",
            "client_id",
            "supersedes",
            "is_superseded",
            "amend_reason",
            "is_baseline",
            "baseline_marked_at",
            "created_at",
        ]


class SubmittedAssessmentSerializer(AssessmentSerializer):
    crisis_resources = CrisisResourcesSerializer(
        allow_null=True, help_text="Set when a patient's own entry raised a safety flag; null otherwise."
    )
    original_id = serializers.UUIDField(
        required=False,
        help_text=(
            "Only on the replay (200) of a client_id whose entry was amended since: the id of the entry "
            "stored under that client_id. The answer is then the entry's current version."
        ),
    )

    class Meta(AssessmentSerializer.Meta):
        fields = [*AssessmentSerializer.Meta.fields, "crisis_resources", "original_id"]


class BaselineMarkSerializer(StrictSerializer):
    course = serializers.UUIDField(
        required=False, help_text="The course whose baseline this entry becomes (checked: it must be the entry's)."
    )


class AssessmentListQuerySerializer(serializers.Serializer):  # type: ignore[type-arg]
    scale = serializers.ChoiceField(choices=SCALE_CHOICES, required=False)
    include_superseded = serializers.BooleanField(required=False, default=True)


def assessment_body(assessment: Assessment) -> dict[str, Any]:
    """An entry as the API answers it: what ``AssessmentSerializer`` (which describes it in the
    schema) renders, written out field by field. A bypass of DRF's rendering, listed with its
    benchmark and its test in ``tracker/records/fastpath.py``; the test holds the two equal. The
    entry's flags are read from a ``prefetch_related("flags")`` when there is one."""
    cached = getattr(assessment, "_prefetched_objects_cache", {}).get("flags")
    flags = cached if cached is not None else assessment.flags.all()
    return {
        "id": str(assessment.pk),
        "patient": str(assessment.patient_id),
        "scale": assessment.scale,
        "scale_version": str(assessment.scale_version),
        "administered_on": assessment.administered_on.isoformat(),
        "administered_time": (
            None if assessment.administered_time is None else assessment.administered_time.strftime(CLOCK_FORMAT)
        ),
        "timing": assessment.timing,
        "items": [int(x) for x in assessment.items],
        "item_directions": {str(k): str(v) for k, v in assessment.item_directions.items()},
        "total": int(assessment.total),
        "severity": assessment.severity,
        "flags": [
            {
                "id": str(f.pk),
                "item": int(f.item),
                "value": int(f.value),
                "level": f.level,
                "acknowledged_at": _instant(f.acknowledged_at),
            }
            for f in flags
        ],
        "entered_by_role": assessment.entered_by_role,
        "client_id": None if assessment.client_id is None else str(assessment.client_id),
        "supersedes": None if assessment.supersedes_id is None else str(assessment.supersedes_id),
        "is_superseded": bool(assessment.is_superseded),
        "amend_reason": str(assessment.amend_reason),
        "is_baseline": bool(assessment.is_baseline),
        "baseline_marked_at": _instant(assessment.baseline_marked_at),
        "created_at": _instant(assessment.created_at),
    }


def _instant(value: datetime | None) -> str | None:
    """A moment as DRF's ``DateTimeField`` renders it: in the active time zone, ISO 8601, UTC as "Z"."""
    if value is None:
        return None
    text = timezone.localtime(value).isoformat()
    return text.removesuffix("+00:00") + "Z" if text.endswith("+00:00") else text
