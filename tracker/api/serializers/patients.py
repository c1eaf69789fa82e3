"""Patients, the patient list's summaries, and a patient's own profile (``me``)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

import scoring
from projections.math.signals import SIGNALS
from tracker.api.serializers.base import StrictSerializer, TimezoneField
from tracker.api.serializers.courses import CourseSerializer
from tracker.api.serializers.flags import FlagSerializer
from tracker.records.cleaning import check_timezone
from tracker.records.models import SCALE_CHOICES, Patient
from tracker.records.services.patients import SCHEDULE_INTERVAL_DAYS, self_report_scales


@extend_schema_field(
    {
        "type": "object",
        "nullable": True,
        "properties": {
            scale: {"type": "integer", "minimum": SCHEDULE_INTERVAL_DAYS[0], "maximum": SCHEDULE_INTERVAL_DAYS[1]}
            for scale in self_report_scales()
        },
        "additionalProperties": False,
        "example": {"phq9": 14},
    }
)
class ScheduleField(serializers.Field):  # type: ignore[type-arg]
    """``{scale: days}`` of self-report scales, or null for the default; checked by the service."""

    def to_internal_value(self, data: Any) -> Any:
        return data

    def to_representation(self, value: Any) -> Any:
        return value


class PatientCreateSerializer(StrictSerializer):
    name = serializers.CharField(max_length=200)
    date_of_birth = serializers.DateField(required=False, allow_null=True)
    external_id = serializers.CharField(max_length=100, required=False, allow_blank=True)
    timezone = TimezoneField(required=False)
    schedule = ScheduleField(required=False, allow_null=True)


class PatientSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    enrolled = serializers.SerializerMethodField()
    schedule = serializers.SerializerMethodField(
        help_text="Which self-report questionnaires the app asks for, every how many days."
    )

    class Meta:
        model = Patient
        fields = [
            "id", "name", "date_of_birth", "external_id", "timezone", "locale", "created_at", "enrolled", "schedule"
        ]  # fmt: skip

    def get_enrolled(self, obj: Patient) -> bool:
        return obj.user_id is not None

    @extend_schema_field({"type": "object", "additionalProperties": {"type": "integer"}})
    def get_schedule(self, obj: Patient) -> dict[str, int]:
        return obj.questionnaire_schedule


class EnrollmentCodeSerializer(serializers.Serializer):  # type: ignore[type-arg]
    enrollment_code = serializers.CharField(help_text="Single use; earlier unused codes of the patient no longer work.")
    expires_at = serializers.DateTimeField()


_LOCALES = [code for code, _name in settings.LANGUAGES]


@extend_schema_field({"oneOf": [{"type": "string", "enum": _LOCALES}, {"type": "string", "maxLength": 0}]})
class LocaleOrEmptyField(serializers.ChoiceField):
    """One of the server's languages, or empty for the phone's (as the API accepts)."""


class MeUpdateSerializer(StrictSerializer):
    timezone = TimezoneField(required=False, help_text="A canonical IANA time zone, e.g. 'Asia/Tokyo'.")
    locale = LocaleOrEmptyField(
        choices=_LOCALES,
        required=False,
        allow_blank=True,
        help_text="The language of the patient's messages (one of the server's languages); empty: the phone's.",
    )

    def validate_timezone(self, value: str) -> str:
        # Here rather than only in the service, so that a wrong locale and a wrong zone are named together.
        try:
            return check_timezone(value)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.message_dict["timezone"]) from None


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
