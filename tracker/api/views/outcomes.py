"""A patient's outcomes and progress chart, from the one read model of the current course."""

from __future__ import annotations

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from tracker.api.permissions import IsStaffOrPatient
from tracker.api.renderers import file_renderers
from tracker.api.serializers import outcomes as s
from tracker.api.views.base import PatientEndpoint
from tracker.reports.charts import render_patient_chart
from tracker.reports.read_model import patient_outcomes


class PatientOutcomesView(PatientEndpoint):
    permission_classes = [IsStaffOrPatient]
    read_action = "outcome.read"

    @extend_schema(responses={200: s.OutcomesByScaleSerializer})
    def get(self, request: Request, patient_id: str) -> Response:
        return Response(patient_outcomes(self.patient).by_scale())


class PatientChartView(PatientEndpoint):
    permission_classes = [IsStaffOrPatient]
    renderer_classes = file_renderers(("image/png", "png"), ("image/svg+xml", "svg"))

    def audit_action(self) -> str:
        return f"chart.{self.kwargs['fmt']}"

    @extend_schema(
        parameters=[s.ChartQuerySerializer],
        responses={(200, "image/png"): OpenApiTypes.BINARY, (200, "image/svg+xml"): OpenApiTypes.BINARY},
    )
    def get(self, request: Request, patient_id: str, fmt: str) -> HttpResponse:
        scale = self.query(s.ChartQuerySerializer).get("scale")
        content = render_patient_chart(patient_outcomes(self.patient), fmt=fmt, scale=scale)
        return HttpResponse(content, content_type="image/png" if fmt == "png" else "image/svg+xml")
