"""Exports: a patient's payer PDF and FHIR bundle, the clinic's response CSV and its cohort."""

from __future__ import annotations

import math
from datetime import datetime

from django.http import HttpResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from projections.selectors import cohort_results
from tracker.api.permissions import IsAdmin, IsStaff
from tracker.api.renderers import file_renderers
from tracker.api.serializers import reports as s
from tracker.api.views.base import Endpoint, PatientEndpoint, clinic_of
from tracker.records.services.audit import audit_record, audit_record_many
from tracker.reports.csv_export import response_rows_csv
from tracker.reports.fhir import patient_bundle_json
from tracker.reports.pdf import render_response_report
from tracker.reports.profiles import payer_profile_for
from tracker.reports.read_model import patient_outcomes


class PatientReportView(PatientEndpoint):
    permission_classes = [IsStaff]
    renderer_classes = file_renderers(("application/pdf", "pdf"))
    read_action = "report.pdf"

    @extend_schema(parameters=[s.ReportQuerySerializer], responses={(200, "application/pdf"): OpenApiTypes.BINARY})
    def get(self, request: Request, patient_id: str) -> HttpResponse:
        params = self.query(s.ReportQuerySerializer)
        profile = payer_profile_for(self.patient.clinic, params.get("profile"))
        content = render_response_report(patient_outcomes(self.patient), actor=self.actor, profile=profile)
        response = HttpResponse(content, content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="response-report-{self.patient.pk}.pdf"'
        return response


class PatientFhirView(PatientEndpoint):
    permission_classes = [IsStaff]
    renderer_classes = file_renderers(("application/fhir+json", "fhir"))
    read_action = "fhir.export"

    @extend_schema(responses={(200, "application/fhir+json"): OpenApiTypes.OBJECT})
    def get(self, request: Request, patient_id: str) -> HttpResponse:
        return HttpResponse(patient_bundle_json(self.patient), content_type="application/fhir+json")


class ResponseCsvView(Endpoint):
    permission_classes = [IsAdmin]
    renderer_classes = file_renderers(("text/csv", "csv"))

    @extend_schema(parameters=[s.ResponseCsvQuerySerializer], responses={(200, "text/csv"): OpenApiTypes.BINARY})
    def get(self, request: Request) -> HttpResponse:
        params = self.query(s.ResponseCsvQuerySerializer)
        content, patient_ids = response_rows_csv(
            actor=self.actor, date_from=params.get("from"), date_to=params.get("to")
        )
        audit_record_many(actor=self.actor, action="report.csv", object_type="patient", patient_ids=patient_ids)
        response = HttpResponse(content, content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="response-report.csv"'
        return response


def _retry_after(when: datetime | None) -> dict[str, str]:
    if when is None:
        return {}
    return {"Retry-After": str(max(1, math.ceil((when - timezone.now()).total_seconds())))}


class CohortView(Endpoint):
    # The clinic's cohort as the workers last computed it; never computed by the read.
    permission_classes = [IsStaff]

    @extend_schema(
        parameters=[
            s.CohortQuerySerializer,
            OpenApiParameter(
                "Retry-After",
                OpenApiTypes.INT,
                location=OpenApiParameter.HEADER,
                response=[202],
                description="Seconds until the workers' next cohort computation.",
            ),
        ],
        responses={
            200: s.CohortSerializer(many=True),
            202: OpenApiResponse(
                s.CohortSerializer(many=True),
                description=(
                    "Not yet computed: the clinic has courses with outcomes but the workers have not computed its "
                    "cohort yet. The body is an empty list; Retry-After gives the seconds until their next run."
                ),
            ),
        },
    )
    def get(self, request: Request) -> Response:
        params = self.query(s.CohortQuerySerializer)
        answer = cohort_results(clinic=clinic_of(request), modality=params.get("modality"), scale=params.get("scale"))
        audit_record(actor=self.actor, action="cohort.read", object_type="clinic", object_id=self.actor.clinic_id)
        if answer.pending:
            return Response([], status=202, headers=_retry_after(answer.next_run_at))
        return Response(answer.results)
