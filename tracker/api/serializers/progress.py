"""The patient's progress in plain words (API.md 1.1, ``GET /api/v1/me/progress/``)."""

from __future__ import annotations

from rest_framework import serializers

import scoring
from projections.math.signals import SIGNALS
from tracker.api.serializers.courses import CourseSerializer
from tracker.reports.progress import CHANGES, STATUSES


class ProgressNumbersSerializer(serializers.Serializer):  # type: ignore[type-arg]
    baseline_total = serializers.IntegerField(allow_null=True)
    baseline_date = serializers.DateField(allow_null=True)
    latest_total = serializers.IntegerField(allow_null=True, help_text="The latest score taken before a session.")
    latest_date = serializers.DateField(allow_null=True)
    improvement = serializers.FloatField(allow_null=True, help_text="(baseline − latest) / baseline.")
    response = serializers.ChoiceField(choices=list(scoring.RESPONSES), allow_null=True)
    state = serializers.ChoiceField(choices=list(scoring.STATES))
    assessable = serializers.BooleanField(help_text="False until a score after the baseline exists.")
    baseline_in_remission_range = serializers.BooleanField()
    latest_in_remission_range = serializers.BooleanField(allow_null=True)
    remission_max = serializers.IntegerField(help_text="Scores at or below this are in the remission range.")
    relapse_min = serializers.IntegerField(help_text="After remission, scores at or above this open a watch.")
    remission_range_since = serializers.DateField(
        allow_null=True, help_text="Start of the current run in the remission range (remission pending only)."
    )
    days_in_remission_range = serializers.IntegerField(allow_null=True)
    weeks_in_remission_range = serializers.IntegerField(allow_null=True)
    days_until_confirmation = serializers.IntegerField(
        allow_null=True, help_text="Days until a score in range can confirm remission (remission pending only)."
    )
    remission_onset = serializers.DateField(allow_null=True)
    remission_confirmed = serializers.DateField(allow_null=True)
    recovery_date = serializers.DateField(allow_null=True)
    relapse_watch = serializers.BooleanField(help_text="After remission, the latest score is at the relapse level.")
    signal = serializers.ChoiceField(choices=list(SIGNALS), allow_null=True)
    post_dose_excluded = serializers.IntegerField(
        help_text="Entries taken after a treatment session: shown, never used by the rules."
    )


class ScaleProgressSerializer(serializers.Serializer):  # type: ignore[type-arg]
    scale = serializers.ChoiceField(choices=list(scoring.SCALES))
    status = serializers.ChoiceField(choices=list(STATUSES), help_text="Which text variant the words describe.")
    change = serializers.ChoiceField(choices=list(CHANGES), help_text="What the headline says about the change.")
    headline = serializers.CharField()
    where_you_are = serializers.CharField()
    what_it_means = serializers.CharField()
    next_step = serializers.CharField()
    numbers = ProgressNumbersSerializer()


class ProgressSerializer(serializers.Serializer):  # type: ignore[type-arg]
    patient_id = serializers.UUIDField()
    course = CourseSerializer(allow_null=True)
    scales = ScaleProgressSerializer(many=True)
