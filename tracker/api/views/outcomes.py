"""A patient's outcomes and progress chart, from the one read model of the current course."""

from __future__ import annotations

from django.http import HttpResponse, HttpResponseBase
from django.utils.translation import get_language
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from tracker.api.permissions import IsStaffOrPatient
from tracker.api.renderers import file_renderers
from tracker.api.serializers import outcomes as s
from tracker.api.views.base import IF_NONE_MATCH, NOT_MODIFIED, PatientEndpoint
from tracker.records.selectors import flag_levels_of_entries
from tracker.reports.charts import CHART_VERSION, render_patient_chart
from tracker.reports.read_model import patient_outcomes


class PatientOutcomesView(PatientEndpoint):
    # The ETag is the digest of the answer: the read model is needed to know whether anything changed
    # (its fingerprints), and the answer is a few kilobytes of JSON built from it.
    permission_classes = [IsStaffOrPatient]
    read_action = "outcome.read"
    conditional_get = True

    @extend_schema(parameters=[IF_NONE_MATCH], responses={200: s.OutcomesByScaleSerializer, 304: NOT_MODIFIED})
    def get(self, request: Request, patient_id: str) -> Response:
        return Response(patient_outcomes(self.patient).by_scale())


class PatientChartView(PatientEndpoint):
    permission_classes = [IsStaffOrPatient]
    renderer_classes = file_renderers(("image/png", "png"), ("image/svg+xml", "svg"))

    def audit_action(self) -> str:
        return f"chart.{self.kwargs['fmt']}"

    @extend_schema(
        parameters=[s.ChartQuerySerializer, IF_NONE_MATCH],
        responses={
            (200, "image/png"): OpenApiTypes.BINARY,
            (200, "image/svg+xml"): OpenApiTypes.BINARY,
            304: NOT_MODIFIED,
        },
    )
    def get(self, request: Request, patient_id: str, fmt: str) -> HttpResponseBase:
        scale = self.query(s.ChartQuerySerializer).get("scale")
        outcomes = patient_outcomes(self.patient)
        # Safety flags are marked for the clinic's staff, not on the patient's own chart.
        flags = {} if self.actor.is_patient else flag_levels_of_entries(patient=self.patient)
        # The drawing is the cost (and 150-200 KB the answer): its ETag comes from what it is drawn
        # from (the entries, course and clinic settings through the snapshot fingerprints, the session
        # dates), the format, the scale, the language and the chart's version, before anything is drawn.
        course = outcomes.only(scale)
        parts = (
            CHART_VERSION,
            fmt,
            scale,
            get_language(),
            course.course.pk if course.course else None,
            [(x.scale, x.fingerprint) for x in course.scales],
            [x.date for x in course.sessions],
            sorted((str(entry), level) for entry, level in flags.items()),
        )
        return self.conditional(
            parts,
            lambda: HttpResponse(
                render_patient_chart(outcomes, fmt=fmt, scale=scale, flags=flags),
                content_type="image/png" if fmt == "png" else "image/svg+xml",
            ),
        )
