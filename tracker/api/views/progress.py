"""The patient's own progress in plain words (API.md 1.1, ``GET /api/v1/me/progress/``)."""

from __future__ import annotations

from typing import Any

from django.utils import translation
from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from tracker.api.permissions import IsPatient
from tracker.api.serializers import progress as s
from tracker.api.views.base import IF_NONE_MATCH, NOT_MODIFIED, Endpoint, audit_read
from tracker.records import selectors
from tracker.reports.progress import patient_progress
from tracker.reports.read_model import patient_outcomes


class MeProgressView(Endpoint):
    # Staff have no "own" progress: like /me/, the role check answers 403.
    permission_classes = [IsPatient]
    # ETag (API.md 1.1): the digest of the body, which is in the patient's language.
    conditional_get = True

    @extend_schema(parameters=[IF_NONE_MATCH], responses={200: s.ProgressSerializer, 304: NOT_MODIFIED})
    def get(self, request: Request) -> Response:
        patient = selectors.patient_of_user(actor=self.actor)
        audit_read(request, "progress.read", "patient", patient.pk, patient)
        view = patient_outcomes(patient)
        # In the active language: Accept-Language, else the patient's locale (the bearer authentication).
        body: dict[str, Any] = {
            "patient_id": patient.pk,
            "course": view.course,
            "scales": [p.as_dict() for p in patient_progress(view)],
        }
        response = Response(s.ProgressSerializer(body).data)
        response["Content-Language"] = translation.get_language()
        return response
