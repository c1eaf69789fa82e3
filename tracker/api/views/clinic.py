"""The clinic's settings and the reference sets it may choose."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from projections import services as projection_services
from projections.selectors import reference_sets_for
from tracker.api.permissions import IsStaff
from tracker.api.serializers import clinic as s
from tracker.api.views.base import Endpoint, clinic_of
from tracker.records.models import Clinic, Role


def _clinic_body(clinic: Clinic) -> dict[str, Any]:
    return {
        "id": clinic.pk,
        "name": clinic.name,
        "reference_set": clinic.reference_set,
        "scoring_options": clinic.scoring_options,
    }


class ClinicView(Endpoint):
    permission_classes = [IsStaff]

    @extend_schema(responses={200: s.ClinicSerializer})
    def get(self, request: Request) -> Response:
        return Response(_clinic_body(clinic_of(request)))

    @extend_schema(request=s.ClinicSerializer, responses={200: s.ClinicSerializer})
    def patch(self, request: Request) -> Response:
        if self.actor.role != Role.ADMIN:
            return Response({"detail": "Only a clinic admin changes the clinic's settings."}, status=403)
        data = s.ClinicSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        clinic = projection_services.clinic_update_settings(actor=self.actor, **data.validated_data)
        return Response(_clinic_body(clinic))


class ReferenceSetListView(Endpoint):
    permission_classes = [IsStaff]

    @extend_schema(responses={200: s.ReferenceSetSerializer(many=True)})
    def get(self, request: Request) -> Response:
        return Response(reference_sets_for(clinic=clinic_of(request)))
