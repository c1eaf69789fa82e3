"""Logins, logouts, enrolment, and passwords (reset with a staff-issued code, or changed)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from tracker.api.errors import Problem, drf_field_errors
from tracker.api.serializers import auth as s
from tracker.api.serializers.base import validated
from tracker.api.throttles import ScopedRateThrottle
from tracker.api.views.base import Endpoint
from tracker.records.models import AuthToken
from tracker.records.services import auth as auth_services
from tracker.records.services import passwords as password_services
from tracker.records.services import patients as patient_services


class TokenView(Endpoint):
    authentication_classes: list[type] = []
    permission_classes = [AllowAny]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "login"

    @extend_schema(request=s.LoginSerializer, responses={200: s.TokenSerializer}, auth=[])
    def post(self, request: Request) -> Response:
        data = s.LoginSerializer(data=request.data)
        if not data.is_valid():
            # Missing or malformed fields get the same generic answer as a wrong pair, naming the fields.
            raise Problem(400, "invalid_credentials", errors=list(drf_field_errors(data.errors)))
        issued = auth_services.login_with_password(
            username=data.validated_data["username"], password=data.validated_data["password"]
        )
        return Response({"token": issued.raw, "expires_at": issued.expires_at, "role": issued.user.role})


class LogoutView(Endpoint):
    @extend_schema(request=None, responses={204: None})
    def post(self, request: Request) -> Response:
        assert isinstance(request.auth, AuthToken)
        auth_services.token_revoke(token=request.auth)
        return Response(status=status.HTTP_204_NO_CONTENT)


class EnrollView(Endpoint):
    authentication_classes: list[type] = []
    permission_classes = [AllowAny]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "enroll"

    @extend_schema(request=s.EnrollSerializer, responses={201: s.EnrollResponseSerializer}, auth=[])
    def post(self, request: Request) -> Response:
        patient, issued = patient_services.patient_enroll(**validated(s.EnrollSerializer, request.data))
        return Response({"token": issued.raw, "expires_at": issued.expires_at, "patient_id": patient.pk}, status=201)


class PasswordResetView(Endpoint):
    """A new password with a reset code from clinic staff; every token of the user stops working.
    Throttled per address like logins, and wrong codes count towards the login lockout."""

    authentication_classes: list[type] = []
    permission_classes = [AllowAny]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "password_reset"

    @extend_schema(request=s.PasswordResetSerializer, responses={204: None}, auth=[])
    def post(self, request: Request) -> Response:
        password_services.password_reset(**validated(s.PasswordResetSerializer, request.data))
        return Response(status=status.HTTP_204_NO_CONTENT)


class PasswordChangeView(Endpoint):
    """Change one's own password; every other token of the user stops working, this one stays."""

    # A wrong current password counts towards the sign-in lockout, which answers 429.
    counts_failed_sign_ins = True

    @extend_schema(request=s.PasswordChangeSerializer, responses={204: None})
    def post(self, request: Request) -> Response:
        assert isinstance(request.auth, AuthToken)
        password_services.password_change(
            actor=self.actor, token=request.auth, **validated(s.PasswordChangeSerializer, request.data)
        )
        return Response(status=status.HTTP_204_NO_CONTENT)
