"""The clinic's settings and the reference sets it may choose."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from drf_spectacular.utils import extend_schema
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response

from projections import services as projection_services
from projections.selectors import reference_sets_for
from tracker.api.messages import ADMIN_ONLY
from tracker.api.permissions import IsStaff
from tracker.api.serializers import clinic as s
from tracker.api.serializers.base import validated
from tracker.api.views.base import Endpoint, clinic_of
from tracker.records.models import Clinic, Role
from tracker.records.services import clinics as clinic_services
from tracker.reports.profiles import clinic_set_payer_profile, payer_profile_create, payer_profiles_list


def _clinic_body(clinic: Clinic) -> dict[str, Any]:
    return {
        "id": clinic.pk,
        "name": clinic.name,
        "reference_set": clinic.reference_set,
        "scoring_options": clinic.scoring_options,
        "payer_profile": str(clinic.payer_profile_id) if clinic.payer_profile_id else None,
        "timezone": clinic.timezone,
    }


class ClinicView(Endpoint):
    permission_classes = [IsStaff]

    @extend_schema(responses={200: s.ClinicSerializer})
    def get(self, request: Request) -> Response:
        return Response(_clinic_body(clinic_of(request)))

    @extend_schema(request=s.ClinicSerializer, responses={200: s.ClinicSerializer})
    def patch(self, request: Request) -> Response:
        if self.actor.role != Role.ADMIN:
            raise PermissionDenied(ADMIN_ONLY)
        data = s.ClinicSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        with transaction.atomic():
            clinic = clinic_of(request)
            if "payer_profile" in values:
                clinic = clinic_set_payer_profile(actor=self.actor, profile=values.pop("payer_profile"))
            if "timezone" in values:
                clinic = clinic_services.clinic_set_timezone(actor=self.actor, timezone_name=values.pop("timezone"))
            if values or not data.validated_data:
                clinic = projection_services.clinic_update_settings(actor=self.actor, **values)
        return Response(_clinic_body(clinic))


class PayerProfileListView(Endpoint):
    """The payer profiles a report may apply: the built-in one and the clinic's own."""

    permission_classes = [IsStaff]

    @extend_schema(responses={200: s.PayerProfileSerializer(many=True)})
    def get(self, request: Request) -> Response:
        return Response(payer_profiles_list(clinic=clinic_of(request)))

    @extend_schema(request=s.PayerProfileCreateSerializer, responses={201: s.PayerProfileSerializer})
    def post(self, request: Request) -> Response:
        if self.actor.role != Role.ADMIN:
            raise PermissionDenied(ADMIN_ONLY)
        values = validated(s.PayerProfileCreateSerializer, request.data)
        stored = payer_profile_create(actor=self.actor, **values)
        body = next(p for p in payer_profiles_list(clinic=clinic_of(request)) if p["id"] == str(stored.pk))
        return Response(body, status=201)


class ReferenceSetListView(Endpoint):
    permission_classes = [IsStaff]

    @extend_schema(responses={200: s.ReferenceSetSerializer(many=True)})
    def get(self, request: Request) -> Response:
        return Response(reference_sets_for(clinic=clinic_of(request)))
