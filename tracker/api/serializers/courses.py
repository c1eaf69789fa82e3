"""Treatment courses and their sessions."""

from __future__ import annotations

from rest_framework import serializers

from tracker.api.serializers.base import ClockTimeField, StrictSerializer
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


def _optional_int(help_text: str) -> serializers.IntegerField:
    return serializers.IntegerField(required=False, allow_null=True, help_text=help_text)


class SessionCreateSerializer(StrictSerializer):
    """Every field but the date is optional; ranges are checked by the service (errors name the field)."""

    date = serializers.DateField()
    time = ClockTimeField(required=False, allow_null=True, help_text="Local time, HH:MM.")
    dose_mg = serializers.DecimalField(max_digits=7, decimal_places=2, required=False, allow_null=True, min_value=0)
    dose_mg_per_kg = serializers.DecimalField(
        max_digits=5, decimal_places=3, required=False, allow_null=True, min_value=0, help_text="Ketamine by weight."
    )
    bp_systolic_before = _optional_int("mmHg, before the dose.")
    bp_diastolic_before = _optional_int("mmHg, before the dose.")
    bp_systolic_after = _optional_int("mmHg, at the end of monitoring.")
    bp_diastolic_after = _optional_int("mmHg, at the end of monitoring.")
    monitoring_minutes = _optional_int("How long the patient was monitored after the dose.")
    notes = serializers.CharField(max_length=5000, required=False, allow_blank=True)
    adverse_events = serializers.CharField(max_length=5000, required=False, allow_blank=True)


class SessionSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    time = ClockTimeField(allow_null=True, read_only=True)

    class Meta:
        model = TreatmentSession
        fields = [
            "id",
            "course",
            "date",
            "time",
            "dose_mg",
            "dose_mg_per_kg",
            "bp_systolic_before",
            "bp_diastolic_before",
            "bp_systolic_after",
            "bp_diastolic_after",
            "monitoring_minutes",
            "notes",
            "adverse_events",
            "created_at",
        ]
