"""Exports across patients: the response CSV and the clinic's cohort."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.exceptions import ErrorDetail

from tracker.api.messages import FIELD_MESSAGES
from tracker.records.models import SCALE_CHOICES, Modality
from tracker.reports.fhir import BULK_TYPES


class ReportQuerySerializer(serializers.Serializer):  # type: ignore[type-arg]
    """``?profile=``: the payer profile the report applies (an id or key; default: the clinic's)."""

    profile = serializers.CharField(required=False, max_length=100, help_text="A payer profile's id or key.")


class ResponseCsvQuerySerializer(serializers.Serializer):  # type: ignore[type-arg]
    """``?from=&to=``: courses that started between the two dates (either optional)."""

    def get_fields(self) -> dict[str, serializers.Field]:  # type: ignore[type-arg]
        # "from" and "async" are Python keywords: declared here rather than as class attributes.
        return {
            "from": serializers.DateField(required=False),
            "to": serializers.DateField(required=False),
            "async": serializers.BooleanField(
                required=False, default=False, help_text="Build the file in a worker (answered 202 with the job)."
            ),
        }

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


class ExportJobSerializer(serializers.Serializer):  # type: ignore[type-arg]
    """An export job as its admin sees it; ``files`` once it is done."""

    id = serializers.UUIDField()
    kind = serializers.CharField()
    status = serializers.CharField()
    created_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)
    expires_at = serializers.DateTimeField()
    files = serializers.ListField(child=serializers.DictField())


_FHIR_TYPE = "(" + "|".join(BULK_TYPES) + ")"


@extend_schema_field({"type": "string", "pattern": f"^{_FHIR_TYPE}(,{_FHIR_TYPE})*$"})
class FhirTypesField(serializers.CharField):
    """Resource types of the bulk export, comma-separated."""


class FhirExportQuerySerializer(serializers.Serializer):  # type: ignore[type-arg]
    """The FHIR Bulk Data kick-off's parameters this server supports: ``_type`` and ``_outputFormat``."""

    def get_fields(self) -> dict[str, serializers.Field]:  # type: ignore[type-arg]
        return {
            "_type": FhirTypesField(required=False, help_text="Comma-separated resource types."),
            "_outputFormat": serializers.ChoiceField(
                choices=["application/fhir+ndjson", "application/ndjson", "ndjson"], required=False
            ),
        }


class FhirManifestOutputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    type = serializers.ChoiceField(choices=list(BULK_TYPES))
    url = serializers.URLField()
    count = serializers.IntegerField()


class FhirManifestSerializer(serializers.Serializer):  # type: ignore[type-arg]
    """The FHIR Bulk Data completion manifest of a finished FHIR export job."""

    transactionTime = serializers.DateTimeField()
    request = serializers.URLField()
    requiresAccessToken = serializers.BooleanField()
    output = FhirManifestOutputSerializer(many=True)
    error = serializers.ListField(child=serializers.DictField())
