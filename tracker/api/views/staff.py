"""A clinic's staff accounts, and password reset codes for them (from the clinic's admin)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from tracker.api.permissions import IsAdmin
from tracker.api.serializers import auth as auth_s
from tracker.api.serializers import staff as s
from tracker.api.serializers.base import validated
from tracker.api.views.base import Endpoint
from tracker.records import selectors
from tracker.records.services import clinics as clinic_services
from tracker.records.services import passwords as password_services


class StaffView(Endpoint):
    permission_classes = [IsAdmin]

    @extend_schema(request=s.StaffCreateSerializer, responses={201: s.StaffSerializer})
    def post(self, request: Request) -> Response:
        user = clinic_services.staff_create(actor=self.actor, **validated(s.StaffCreateSerializer, request.data))
        return Response({"id": user.pk, "username": user.username, "role": user.role}, status=201)


class StaffPasswordResetCodeView(Endpoint):
    """A password reset code for a clinician or another admin of the clinic, from its admin (an
    admin's own password is changed with ``auth/password/``, which needs the current one)."""

    permission_classes = [IsAdmin]

    @extend_schema(request=None, responses={201: auth_s.ResetCodeSerializer})
    def post(self, request: Request, staff_id: str) -> Response:
        user = selectors.staff_get(actor=self.actor, user_id=staff_id)
        issued = password_services.password_reset_code_issue(actor=self.actor, user=user)
        return Response({"reset_code": issued.raw, "expires_at": issued.expires_at}, status=201)


class StaffDeactivateView(Endpoint):
    """A staff login can no longer sign in; its tokens and dashboard sessions end. Idempotent."""

    permission_classes = [IsAdmin]

    @extend_schema(request=None, responses={200: s.StaffSerializer})
    def post(self, request: Request, user_id: str) -> Response:
        user = selectors.staff_get(actor=self.actor, user_id=user_id)
        user = clinic_services.staff_deactivate(actor=self.actor, user=user)
        return Response({"id": user.pk, "username": user.username, "role": user.role, "is_active": user.is_active})
