"""A clinic's staff accounts."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from tracker.api.permissions import IsAdmin
from tracker.api.serializers import staff as s
from tracker.api.serializers.base import validated
from tracker.api.views.base import Endpoint
from tracker.records.services import clinics as clinic_services


class StaffView(Endpoint):
    permission_classes = [IsAdmin]

    @extend_schema(request=s.StaffCreateSerializer, responses={201: s.StaffSerializer})
    def post(self, request: Request) -> Response:
        user = clinic_services.staff_create(actor=self.actor, **validated(s.StaffCreateSerializer, request.data))
        return Response({"id": user.pk, "username": user.username, "role": user.role}, status=201)
