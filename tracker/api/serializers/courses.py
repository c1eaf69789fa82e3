"""Treatment courses and their sessions."""

from __future__ import annotations

from rest_framework import serializers

from tracker.api.serializers.base import StrictSerializer
from tracker.records.models import Modality, TreatmentCourse, TreatmentSession


class CourseCreateSerializer(StrictSerializer):
    modality = serializers.ChoiceField(choices=Modality.choices)
    with_therapy = serializers.BooleanField(default=False)
    start_date = serializers.DateField()
    reference_set = serializers.CharField(max_length=100, required=False, allow_blank=True)
    treating_clinician = serializers.UUIDField(
        required=False, allow_null=True, help_text="A staff id of the clinic: who attests the payer's report."
    )


class CourseUpdateSerializer(StrictSerializer):
    treating_clinician = serializers.UUIDField(
        allow_null=True, help_text="A staff id of the clinic: who attests the payer's report; null clears it."
    )


class CourseSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    class Meta:
        model = TreatmentCourse
        fields = [
            "id",
            "patient",
            "modality",
            "with_therapy",
            "start_date",
            "reference_set",
            "treating_clinician",
            "created_at",
        ]


class SessionCreateSerializer(StrictSerializer):
    date = serializers.DateField()
    dose_mg = serializers.DecimalField(max_digits=7, decimal_places=2, required=False, allow_null=True, min_value=0)
    notes = serializers.CharField(max_length=5000, required=False, allow_blank=True)


class SessionSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    class Meta:
        model = TreatmentSession
        fields = ["id", "course", "date", "dose_mg", "notes", "created_at"]
