"""A patient's access log for the clinic's admin, as JSON pages or (``?format=csv``) one CSV file."""

from __future__ import annotations

import csv
import io
from typing import Any

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from tracker.api.pagination import ListPagination
from tracker.api.permissions import IsAdmin
from tracker.api.serializers.access_log import ACCESS_LOG_FIELDS, AccessLogEntrySerializer
from tracker.api.views.base import PatientEndpoint
from tracker.records import selectors
from tracker.reports.csv_export import safe_cell


class CsvRenderer(BaseRenderer):
    # Lets ``?format=csv`` (DRF's format override) choose the CSV answer; the view writes the file.
    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None) -> Any:
        # Only an error reaches here (the view answers the log itself): one ``field,message`` row each.
        out = io.StringIO()
        writer = csv.writer(out)
        for key, value in (data or {}).items():
            writer.writerow([safe_cell(key), safe_cell(value)])
        return out.getvalue().encode()


class PatientAccessLogView(PatientEndpoint):
    # Admin only (a patient or clinician is refused, another clinic's patient is a 404). The export is
    # itself audited on the patient, so it shows in the next one.
    permission_classes = [IsAdmin]
    pagination_class = ListPagination
    renderer_classes = [JSONRenderer, CsvRenderer]
    read_action = "patient.access_log"

    @extend_schema(
        parameters=[OpenApiParameter("format", OpenApiTypes.STR, enum=["json", "csv"], required=False)],
        responses={200: AccessLogEntrySerializer(many=True), (200, "text/csv"): OpenApiTypes.BINARY},
    )
    def get(self, request: Request, patient_id: str) -> Response | HttpResponse:
        events = selectors.patient_access_log(actor=self.actor, patient=self.patient)
        if request.accepted_renderer.format == "csv":
            return self._csv(events.values_list(*ACCESS_LOG_FIELDS).iterator())
        page, paginator = self.page_of(events)
        return self.paged(paginator, AccessLogEntrySerializer(page, many=True).data)

    def _csv(self, rows: Any) -> HttpResponse:
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(ACCESS_LOG_FIELDS)
        for at, *rest in rows:
            writer.writerow([at.isoformat(), *(safe_cell(v) for v in rest)])
        response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="access-log-{self.patient.pk}.csv"'
        return response
