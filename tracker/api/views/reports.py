"""Exports: a patient's payer PDF and FHIR bundle, the clinic's response CSV and its cohort."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from django.conf import settings
from django.http import HttpResponse, HttpResponseBase, StreamingHttpResponse
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
from tracker.api.views.exports import accepted
from tracker.records.models import ExportKind
from tracker.records.services.audit import audit_record
from tracker.reports.csv_export import response_csv_stream, response_rows_estimate
from tracker.reports.fhir import patient_bundle_json
from tracker.reports.pdf import render_response_report
from tracker.reports.profiles import payer_profile_for
from tracker.reports.read_model import patient_outcomes
from tracker.reports.tasks import export_start


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


class StreamedFile(StreamingHttpResponse):
    """A streamed download that can also be read whole as ``content`` (as a client library or the
    test client reads it): reading it drains the stream once and keeps the bytes."""

    _whole: bytes | None = None

    @property
    def content(self) -> bytes:  # type: ignore[override]
        if self._whole is None:
            self._whole = b"".join(self.streaming_content)  # type: ignore[arg-type]
        return self._whole


class ResponseCsvView(Endpoint):
    """The clinic's response CSV. Streamed in the request while it is small enough to finish well
    inside the web server's timeout; above ``EXPORT_SYNC_MAX_ROWS`` estimated rows, with
    ``?async=1``, or on POST, a worker builds it: 202 with the job's URL (``/exports/{id}/``)."""

    permission_classes = [IsAdmin]
    renderer_classes = file_renderers(("text/csv", "csv"))

    @extend_schema(
        parameters=[s.ResponseCsvQuerySerializer],
        responses={
            (200, "text/csv"): OpenApiTypes.BINARY,
            202: OpenApiResponse(s.ExportJobSerializer, description="Built by a worker: poll the job's URL."),
        },
    )
    def get(self, request: Request) -> HttpResponseBase:
        params = self.query(s.ResponseCsvQuerySerializer)
        date_from, date_to = params.get("from"), params.get("to")
        if params["async"] or response_rows_estimate(actor=self.actor, date_from=date_from, date_to=date_to) > (
            settings.EXPORT_SYNC_MAX_ROWS
        ):
            return self._start(request, params)
        # Streamed: each batch of courses is read, audited and written out as the client takes it.
        chunks = response_csv_stream(actor=self.actor, date_from=date_from, date_to=date_to)
        response = StreamedFile((chunk.encode() for chunk in chunks), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="response-report.csv"'
        return response

    @extend_schema(
        parameters=[s.ResponseCsvQuerySerializer],
        request=None,
        responses={202: OpenApiResponse(s.ExportJobSerializer, description="Built by a worker: poll the job's URL.")},
    )
    def post(self, request: Request) -> Response:
        return self._start(request, self.query(s.ResponseCsvQuerySerializer))

    def _start(self, request: Request, params: dict[str, Any]) -> Response:
        job = export_start(
            actor=self.actor,
            kind=ExportKind.RESPONSE_CSV,
            params={k: params[k].isoformat() for k in ("from", "to") if params.get(k)},
            request_url=request.build_absolute_uri(),
        )
        return accepted(request, job)


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
