"""A patient's outcomes per scale (shared/API.md, "Outcomes, per scale") and the chart's choices."""

from __future__ import annotations

from rest_framework import serializers

import scoring


class ExpectedImprovementSerializer(serializers.Serializer):  # type: ignore[type-arg]
    p10 = serializers.FloatField()
    p25 = serializers.FloatField()
    p50 = serializers.FloatField()
    p75 = serializers.FloatField()
    p90 = serializers.FloatField()


class ProjectionSerializer(serializers.Serializer):  # type: ignore[type-arg]
    reference = serializers.CharField()
    week = serializers.IntegerField(allow_null=True)
    percentile = serializers.IntegerField(allow_null=True)
    signal = serializers.ChoiceField(choices=["ahead", "on_track", "at_risk", "off_track", "insufficient_data"])
    expected_improvement = ExpectedImprovementSerializer(allow_null=True)


class PointSerializer(serializers.Serializer):  # type: ignore[type-arg]
    date = serializers.DateField()
    total = serializers.IntegerField()


class LatestSerializer(PointSerializer):
    improvement = serializers.FloatField(allow_null=True)
    response = serializers.CharField(allow_null=True)


class EventSerializer(serializers.Serializer):  # type: ignore[type-arg]
    type = serializers.ChoiceField(choices=["remission", "relapse", "recovery", "recurrence"])
    onset = serializers.DateField(required=False)
    confirmed = serializers.DateField(required=False)
    date = serializers.DateField(required=False)


class OutcomeSerializer(serializers.Serializer):  # type: ignore[type-arg]
    scale = serializers.CharField()
    baseline = PointSerializer(allow_null=True)
    latest = LatestSerializer(allow_null=True)
    first_response_date = serializers.DateField(allow_null=True)
    state = serializers.ChoiceField(choices=["not_remitted", "remission_pending", "remission", "recovered"])
    events = EventSerializer(many=True)
    projection = ProjectionSerializer(allow_null=True)


class OutcomesByScaleSerializer(serializers.Serializer):  # type: ignore[type-arg]
    """The outcome of the current course per scale the patient has entries for, keyed by scale."""

    def get_fields(self) -> dict[str, serializers.Field]:  # type: ignore[type-arg]
        return {key: OutcomeSerializer(required=False) for key in scoring.SCALES}


class ChartQuerySerializer(serializers.Serializer):  # type: ignore[type-arg]
    scale = serializers.ChoiceField(choices=list(scoring.SCALES), required=False, help_text="One panel only.")
