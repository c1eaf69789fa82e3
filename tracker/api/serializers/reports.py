"""Exports across patients: the response CSV and the clinic's cohort."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers
from rest_framework.exceptions import ErrorDetail

from tracker.api.messages import FIELD_MESSAGES
from tracker.records.models import SCALE_CHOICES, Modality


class ReportQuerySerializer(serializers.Serializer):  # type: ignore[type-arg]
    """``?profile=``: the payer profile the report applies (an id or key; default: the clinic's)."""

    profile = serializers.CharField(required=False, max_length=100, help_text="A payer profile's id or key.")


class ResponseCsvQuerySerializer(serializers.Serializer):  # type: ignore[type-arg]
    """``?from=&to=``: courses that started between the two dates (either optional)."""

    def get_fields(self) -> dict[str, serializers.Field]:  # type: ignore[type-arg]
        # "from" is a Python keyword: declared here rather than as a class attribute.
        return {"from": serializers.DateField(required=False), "to": serializers.DateField(required=False)}

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs.get("from") and attrs.get("to") and attrs["from"] > attrs["to"]:
            order = ErrorDetail(str(FIELD_MESSAGES["date_order"]), "date_order")
            raise serializers.ValidationError({"from": [order]})
        return attrs


class CohortSerializer(serializers.Serializer):  # type: ignore[type-arg]
    modality = serializers.ChoiceField(choices=Modality.choices)
    scale = serializers.ChoiceField(choices=SCALE_CHOICES)
    courses = serializers.IntegerField()
    kaplan_meier = serializers.DictField(allow_null=True)
    references = serializers.ListField(child=serializers.DictField())
    computed_at = serializers.DateTimeField()


class CohortQuerySerializer(serializers.Serializer):  # type: ignore[type-arg]
    modality = serializers.ChoiceField(choices=Modality.choices, required=False)
    scale = serializers.ChoiceField(choices=SCALE_CHOICES, required=False)
