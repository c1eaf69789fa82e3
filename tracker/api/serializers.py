"""Request validation and response shapes of API v1 (shared/API.md)."""

from __future__ import annotations

import functools
import uuid
from datetime import datetime
from typing import Any

from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

import scoring
from tracker.records.models import (
    SCALE_CHOICES,
    Assessment,
    Modality,
    Patient,
    SafetyFlag,
    TreatmentCourse,
    TreatmentSession,
)


class StrictSerializer(serializers.Serializer):  # type: ignore[type-arg]
    """Rejects fields it does not know, so a typo is an error rather than silently ignored."""

    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, dict):
            raise serializers.ValidationError({"non_field_errors": ["Expected a JSON object."]})
        unknown = {name: ["Unknown field."] for name in sorted(set(data) - set(self.fields))}
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as exc:
            raise serializers.ValidationError({**exc.detail, **unknown}) from None  # type: ignore[dict-item]
        if unknown:
            raise serializers.ValidationError(unknown)
        return value


@functools.cache
def _instance(serializer_class: type[serializers.Serializer]) -> serializers.Serializer:  # type: ignore[type-arg]
    return serializer_class()


def validated(serializer_class: type[serializers.Serializer], data: Any) -> dict[str, Any]:  # type: ignore[type-arg]
    """``is_valid(raise_exception=True)`` then ``validated_data``, through one instance of the
    serializer per process. DRF builds a serializer's fields anew for every instance (about 65 µs
    for an entry's); ``run_validation`` keeps no state on the instance, so one gives the same
    answers."""
    return dict(_instance(serializer_class).run_validation(data))


# --- auth -----------------------------------------------------------------------------------
class TokenRequestSerializer(StrictSerializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=1024, trim_whitespace=False)


class TokenSerializer(serializers.Serializer):  # type: ignore[type-arg]
    token = serializers.CharField()
    expires_at = serializers.DateTimeField()
    role = serializers.CharField()


class EnrollRequestSerializer(StrictSerializer):
    enrollment_code = serializers.CharField(max_length=64)
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=1024, trim_whitespace=False)


class EnrollResponseSerializer(serializers.Serializer):  # type: ignore[type-arg]
    token = serializers.CharField()
    expires_at = serializers.DateTimeField()
    patient_id = serializers.UUIDField()


# --- staff ----------------------------------------------------------------------------------
class StaffCreateSerializer(StrictSerializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=1024, trim_whitespace=False)
    role = serializers.ChoiceField(choices=["clinician", "admin"])


class StaffSerializer(serializers.Serializer):  # type: ignore[type-arg]
    id = serializers.UUIDField()
    username = serializers.CharField()
    role = serializers.CharField()


# --- patients -------------------------------------------------------------------------------
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
    scale = serializers.CharField()
    state = serializers.CharField()
    signal = serializers.CharField()
    latest_total = serializers.IntegerField(allow_null=True)
    latest_date = serializers.DateField(allow_null=True)
    improvement = serializers.FloatField(allow_null=True)
    response = serializers.CharField(allow_null=True)


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


class PatientListItemSerializer(PatientSerializer):
    outcomes = OutcomeSummarySerializer(many=True, read_only=True)
    open_flags = FlagSerializer(many=True, read_only=True)

    class Meta(PatientSerializer.Meta):
        fields = [*PatientSerializer.Meta.fields, "outcomes", "open_flags"]


# --- courses and sessions ---------------------------------------------------------------------
class CourseCreateSerializer(StrictSerializer):
    modality = serializers.ChoiceField(choices=Modality.values)
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


class SessionSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    class Meta:
        model = TreatmentSession
        fields = ["id", "course", "date", "dose_mg", "notes", "created_at"]


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


# --- assessments -----------------------------------------------------------------------------
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
    entered_by_role = serializers.CharField()

    class Meta:
        model = Assessment
        fields = [
            "id",
            "patient",
            "scale",
            "scale_version",
            "administered_on",
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
            "created_at",
        ]


def _datetime(value: datetime | None) -> str | None:
    """As DRF's DateTimeField answers it: ISO 8601 in the current time zone, UTC as "Z"."""
    if value is None:
        return None
    text = value.astimezone(timezone.get_current_timezone()).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _uuid(value: uuid.UUID | None) -> str | None:
    return None if value is None else str(value)


def assessment_body(assessment: Assessment) -> dict[str, Any]:
    """An entry as the API answers it: exactly what ``AssessmentSerializer`` (which describes it
    in the schema) renders, built directly. DRF's field-by-field rendering took about 35 µs more
    per entry (5% of the app's CPU on a submission, measured in-process); a test holds the two
    equal."""
    cached = getattr(assessment, "_prefetched_objects_cache", {}).get("flags")
    flags = cached if cached is not None else assessment.flags.all()
    return {
        "id": str(assessment.id),
        "patient": str(assessment.patient_id),
        "scale": assessment.scale,
        "scale_version": assessment.scale_version,
        "administered_on": assessment.administered_on.isoformat(),
        "items": list(assessment.items),
        "item_directions": dict(assessment.item_directions),
        "total": assessment.total,
        "severity": assessment.severity,
        "flags": [
            {
                "id": str(f.id),
                "item": f.item,
                "value": f.value,
                "level": f.level,
                "acknowledged_at": _datetime(f.acknowledged_at),
            }
            for f in flags
        ],
        "entered_by_role": assessment.entered_by_role,
        "client_id": _uuid(assessment.client_id),
        "supersedes": _uuid(assessment.supersedes_id),
        "is_superseded": assessment.is_superseded,
        "amend_reason": assessment.amend_reason,
        "is_baseline": assessment.is_baseline,
        "created_at": _datetime(assessment.created_at),
    }


class CrisisResourcesSerializer(serializers.Serializer):  # type: ignore[type-arg]
    message = serializers.CharField()
    phone = serializers.CharField()
    emergency = serializers.CharField()


class SubmittedAssessmentSerializer(AssessmentSerializer):
    crisis_resources = CrisisResourcesSerializer(required=False, allow_null=True)

    class Meta(AssessmentSerializer.Meta):
        fields = [*AssessmentSerializer.Meta.fields, "crisis_resources"]


# --- outcomes ----------------------------------------------------------------------------------
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


# --- me ----------------------------------------------------------------------------------------
class DueSerializer(serializers.Serializer):  # type: ignore[type-arg]
    scale = serializers.CharField()
    due = serializers.BooleanField()
    last_completed = serializers.DateField(allow_null=True)
    next_due = serializers.DateField()
    interval_days = serializers.IntegerField()


class MeSerializer(serializers.Serializer):  # type: ignore[type-arg]
    patient = PatientSerializer()
    course = CourseSerializer(allow_null=True)
    due = DueSerializer(many=True)


# --- clinic settings, reference sets, cohort --------------------------------------------------------
class ClinicSerializer(serializers.Serializer):  # type: ignore[type-arg]
    id = serializers.UUIDField(read_only=True)
    name = serializers.CharField(read_only=True)
    reference_set = serializers.CharField(max_length=100, required=False)
    scoring_options = serializers.DictField(
        child=serializers.DictField(),
        required=False,
        help_text='Per-scale overrides of the clinical defaults, e.g. {"madrs": {"remission_max": 12}}.',
    )
    payer_profile = serializers.CharField(
        required=False,
        allow_null=True,
        help_text="The id or key of the payer profile reports apply by default; null: the built-in one.",
    )


class PayerProfileCreateSerializer(StrictSerializer):
    key = serializers.CharField(max_length=60, help_text="The clinic's short name for it, e.g. 'acme-health'.")
    name = serializers.CharField(max_length=200, help_text="Printed on every report that applies it.")
    rules = serializers.JSONField(
        help_text=(
            "baseline {max_days_before_start, source}, severity_floors {minimum_baseline {scale: total}, source}, "
            "induction {by_treatment {modality: {sessions?, days?, source}}, score_window_days, source}, "
            "categories {non_response_max_percent, response_min_percent, source}: the shape of the built-in profile."
        )
    )


class PayerProfileSerializer(serializers.Serializer):  # type: ignore[type-arg]
    id = serializers.UUIDField(allow_null=True, help_text="null for the built-in profile")
    key = serializers.CharField()
    name = serializers.CharField()
    rules = serializers.JSONField()
    builtin = serializers.BooleanField()
    is_clinic_default = serializers.BooleanField()


class ReferenceSetSerializer(serializers.Serializer):  # type: ignore[type-arg]
    key = serializers.CharField()
    title = serializers.CharField()
    version = serializers.CharField()
    kind = serializers.CharField()


class CohortSerializer(serializers.Serializer):  # type: ignore[type-arg]
    modality = serializers.CharField()
    scale = serializers.CharField()
    courses = serializers.IntegerField()
    kaplan_meier = serializers.DictField(allow_null=True)
    references = serializers.ListField(child=serializers.DictField())
    computed_at = serializers.DateTimeField()


class NoticeSerializer(serializers.Serializer):  # type: ignore[type-arg]
    id = serializers.UUIDField()
    patient = serializers.UUIDField(source="patient_id")
    kind = serializers.CharField()
    message = serializers.CharField()
    created_at = serializers.DateTimeField()
    read_at = serializers.DateTimeField(allow_null=True)
