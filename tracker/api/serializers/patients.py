"""Patients, the patient list's summaries, and a patient's own profile (``me``)."""

from __future__ import annotations

from rest_framework import serializers

import scoring
from projections.math.signals import SIGNALS
from tracker.api.serializers.base import StrictSerializer
from tracker.api.serializers.courses import CourseSerializer
from tracker.api.serializers.flags import FlagSerializer
from tracker.records.models import SCALE_CHOICES, Patient


class PatientCreateSerializer(StrictSerializer):
    name = serializers.CharField(max_length=200)
    date_of_birth = serializers.DateField(required=False, allow_null=True)
    external_id = serializers.CharField(max_length=100, required=False, allow_blank=True)
    timezone = serializers.CharField(max_length=64, required=False)


class PatientSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    enrolled = serializers.SerializerMethodField()

    class Meta:
        model = Patient
        fields = ["id", "name", "date_of_birth", "external_id", "timezone", "created_at", "enrolled"]

    def get_enrolled(self, obj: Patient) -> bool:
        return obj.user_id is not None


class PatientCreatedSerializer(PatientSerializer):
    enrollment_code = serializers.CharField()
    enrollment_code_expires_at = serializers.DateTimeField()

    class Meta(PatientSerializer.Meta):
        fields = [*PatientSerializer.Meta.fields, "enrollment_code", "enrollment_code_expires_at"]


class OutcomeSummarySerializer(serializers.Serializer):  # type: ignore[type-arg]
    scale = serializers.ChoiceField(choices=SCALE_CHOICES)
    state = serializers.ChoiceField(choices=list(scoring.STATES))
    signal = serializers.ChoiceField(choices=list(SIGNALS))
    latest_total = serializers.IntegerField(allow_null=True)
    latest_date = serializers.DateField(allow_null=True)
    improvement = serializers.FloatField(allow_null=True)
    response = serializers.ChoiceField(choices=list(scoring.RESPONSES), allow_null=True)


class PatientListItemSerializer(PatientSerializer):
    outcomes = OutcomeSummarySerializer(many=True, read_only=True)
    open_flags = FlagSerializer(many=True, read_only=True)

    class Meta(PatientSerializer.Meta):
        fields = [*PatientSerializer.Meta.fields, "outcomes", "open_flags"]


class DueSerializer(serializers.Serializer):  # type: ignore[type-arg]
    scale = serializers.ChoiceField(choices=SCALE_CHOICES)
    due = serializers.BooleanField()
    last_completed = serializers.DateField(allow_null=True)
    next_due = serializers.DateField()
    interval_days = serializers.IntegerField()


class MeSerializer(serializers.Serializer):  # type: ignore[type-arg]
    patient = PatientSerializer()
    course = CourseSerializer(allow_null=True)
    due = DueSerializer(many=True)
