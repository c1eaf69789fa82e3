"""A patient's outcomes per scale (shared/API.md, "Outcomes, per scale") and the chart's choices."""

from __future__ import annotations

from rest_framework import serializers

import scoring
from projections.math.signals import SIGNALS
from tracker.records.models import SCALE_CHOICES


class ExpectedImprovementSerializer(serializers.Serializer):  # type: ignore[type-arg]
    p10 = serializers.FloatField()
    p25 = serializers.FloatField()
    p50 = serializers.FloatField()
    p75 = serializers.FloatField()
    p90 = serializers.FloatField()


class ProjectionSerializer(serializers.Serializer):  # type: ignore[type-arg]
    reference = serializers.CharField()
    reference_label = serializers.CharField(
        required=False, help_text='Who the curve comes from, e.g. "Published prior (TRANSFORM-2 2019, ...)".'
    )
    reference_kind = serializers.ChoiceField(
        choices=["published_prior", "clinic"],
        required=False,
        help_text="published_prior until the clinic has fitted curves of its own.",
    )
    week = serializers.IntegerField(allow_null=True)
    percentile = serializers.IntegerField(allow_null=True)
    signal = serializers.ChoiceField(choices=list(SIGNALS))
    expected_improvement = ExpectedImprovementSerializer(allow_null=True)


class PointSerializer(serializers.Serializer):  # type: ignore[type-arg]
    date = serializers.DateField()
    total = serializers.IntegerField()


class LatestSerializer(PointSerializer):
    improvement = serializers.FloatField(allow_null=True)
    response = serializers.ChoiceField(choices=list(scoring.RESPONSES), allow_null=True)


class EventSerializer(serializers.Serializer):  # type: ignore[type-arg]
    type = serializers.ChoiceField(choices=list(scoring.EVENT_TYPES))
    onset = serializers.DateField(required=False)
    confirmed = serializers.DateField(required=False)
    date = serializers.DateField(required=False)


class OutcomeSerializer(serializers.Serializer):  # type: ignore[type-arg]
    scale = serializers.ChoiceField(choices=SCALE_CHOICES)
    baseline = PointSerializer(allow_null=True)
    latest = LatestSerializer(allow_null=True)
    first_response_date = serializers.DateField(allow_null=True)
    state = serializers.ChoiceField(choices=list(scoring.STATES))
    events = EventSerializer(many=True)
    baseline_in_remission_range = serializers.BooleanField(
        required=False, help_text="The baseline was already in remission range: only a later run counts."
    )
    assessable = serializers.BooleanField(
        required=False, help_text="False while the course has only its baseline (no response can be judged)."
    )
    projection = ProjectionSerializer(allow_null=True)


class OutcomesByScaleSerializer(serializers.Serializer):  # type: ignore[type-arg]
    """The outcome of the current course per scale the patient has entries for, keyed by scale."""

    def get_fields(self) -> dict[str, serializers.Field]:  # type: ignore[type-arg]
        return {key: OutcomeSerializer(required=False) for key in scoring.SCALES}


class ChartQuerySerializer(serializers.Serializer):  # type: ignore[type-arg]
    scale = serializers.ChoiceField(choices=SCALE_CHOICES, required=False, help_text="One panel only.")
