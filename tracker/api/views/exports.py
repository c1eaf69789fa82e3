"""Exports a worker builds: the job's state, its files, and the FHIR Bulk Data kick-off
(``GET /fhir/$export``). See tracker/reports/exports.py for the design."""

from __future__ import annotations

from typing import Any

from django.http import FileResponse, Http404, HttpResponseBase
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, PolymorphicProxySerializer, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from tracker.api.permissions import IsAdmin
from tracker.api.serializers import reports as s
from tracker.api.views.base import Endpoint
from tracker.records import selectors
from tracker.records.models import ExportJob, ExportKind, ExportStatus
from tracker.records.services.errors import invalid
from tracker.records.services.exports import export_file_download
from tracker.reports.fhir import BULK_TYPES
from tracker.reports.tasks import export_start

RETRY_AFTER_SECONDS = 5
CONTENT_TYPES = {".csv": "text/csv; charset=utf-8", ".ndjson": "application/fhir+ndjson"}


def job_url(request: Request, job: ExportJob) -> str:
    return request.build_absolute_uri(reverse("api:export-job", args=[job.pk]))


def file_url(request: Request, job: ExportJob, name: str) -> str:
    return request.build_absolute_uri(reverse("api:export-file", args=[job.pk, name]))


def accepted(request: Request, job: ExportJob) -> Response:
    """202 Accepted: the job's state and where to poll it (``Content-Location``, as FHIR Bulk Data
    says, and ``Location``)."""
    url = job_url(request, job)
    return Response(job_state(request, job), status=202, headers={"Content-Location": url, "Location": url})


def job_state(request: Request, job: ExportJob) -> dict[str, Any]:
    return {
        "id": job.pk,
        "kind": job.kind,
        "status": job.status,
        "created_at": job.created_at,
        "finished_at": job.finished_at,
        "expires_at": job.expires_at,
        "files": [{**f, "url": file_url(request, job, f["name"])} for f in job.files],
    }


def fhir_manifest(request: Request, job: ExportJob) -> dict[str, Any]:
    """The FHIR Bulk Data completion manifest."""
    return {
        "transactionTime": job.created_at.isoformat(),
        "request": job.request_url,
        "requiresAccessToken": True,
        "output": [
            {"type": f["type"], "url": file_url(request, job, f["name"]), "count": f["count"]} for f in job.files
        ],
        "error": [],
    }


def _operation_outcome(text: str) -> dict[str, Any]:
    return {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": "exception", "diagnostics": text}],
    }


class ExportJobView(Endpoint):
    """An export job of the admin's clinic: 202 while it runs, 200 once its files are ready (for a
    FHIR bulk export, the Bulk Data manifest), 500 if it failed. Another clinic's job is a 404."""

    permission_classes = [IsAdmin]

    @extend_schema(
        responses={
            200: OpenApiResponse(
                PolymorphicProxySerializer(
                    component_name="FinishedExport",
                    serializers=[s.ExportJobSerializer, s.FhirManifestSerializer],
                    resource_type_field_name=None,
                ),
                description="Done: the files (a FHIR job: its Bulk Data manifest).",
            ),
            202: OpenApiResponse(
                s.ExportJobSerializer, description="Pending or running; poll again after Retry-After."
            ),
            500: OpenApiResponse(description="The job failed."),
        }
    )
    def get(self, request: Request, job_id: str) -> Response:
        job = selectors.export_job_get(actor=self.actor, job_id=job_id)
        fhir = job.kind == ExportKind.FHIR_BULK
        if job.status in (ExportStatus.PENDING, ExportStatus.RUNNING):
            return Response(
                job_state(request, job),
                status=202,
                headers={"Retry-After": str(RETRY_AFTER_SECONDS), "X-Progress": job.status},
            )
        if job.status == ExportStatus.FAILED:
            body = _operation_outcome("The export failed.") if fhir else job_state(request, job)
            return Response(body, status=500)
        return Response(fhir_manifest(request, job) if fhir else job_state(request, job))


class ExportFileView(Endpoint):
    """One file of a finished export job, streamed from disk (audited as ``export.download``)."""

    permission_classes = [IsAdmin]

    @extend_schema(
        responses={
            (200, "text/csv"): OpenApiTypes.STR,
            (200, "application/fhir+ndjson"): OpenApiTypes.STR,
        }
    )
    def get(self, request: Request, job_id: str, name: str) -> HttpResponseBase:
        job = selectors.export_job_get(actor=self.actor, job_id=job_id)
        path = export_file_download(actor=self.actor, job=job, name=name)
        if path is None:
            raise Http404
        return FileResponse(
            path.open("rb"),
            as_attachment=path.suffix == ".csv",
            filename=name,
            content_type=CONTENT_TYPES.get(path.suffix, "application/octet-stream"),
        )


class FhirExportView(Endpoint):
    """FHIR Bulk Data kick-off for the admin's clinic (``GET /fhir/$export``, ``Prefer: respond-async``):
    202 with ``Content-Location`` of the job; the job's manifest lists one NDJSON file per type."""

    permission_classes = [IsAdmin]

    @extend_schema(
        operation_id="fhir_bulk_export",
        parameters=[
            s.FhirExportQuerySerializer,
            OpenApiParameter(
                "Prefer",
                {"type": "string", "pattern": "respond-async"},
                location=OpenApiParameter.HEADER,
                required=True,
                description="respond-async",
            ),
        ],
        responses={202: OpenApiResponse(s.ExportJobSerializer, description="Started; poll Content-Location.")},
    )
    def get(self, request: Request) -> Response:
        if "respond-async" not in request.headers.get("Prefer", ""):
            raise invalid("Prefer", "A bulk export needs the header Prefer: respond-async.")
        unsupported = sorted(k for k in request.query_params if k not in ("_type", "_outputFormat"))
        if unsupported:
            raise invalid(unsupported[0], "This parameter is not supported by this server.")
        params = self.query(s.FhirExportQuerySerializer)
        types = [t.strip() for t in params.get("_type", "").split(",") if t.strip()]
        if unknown := [t for t in types if t not in BULK_TYPES]:
            raise invalid("_type", f"Unsupported resource type {unknown[0]!r}; supported: {', '.join(BULK_TYPES)}.")
        job = export_start(
            actor=self.actor,
            kind=ExportKind.FHIR_BULK,
            params={"types": [t for t in BULK_TYPES if t in types] if types else list(BULK_TYPES)},
            request_url=request.build_absolute_uri(),
        )
        return accepted(request, job)
