"""``GET /api/v1/``: which version of the contract this server speaks, and the oldest app it supports."""

from __future__ import annotations

from django.conf import settings
from drf_spectacular.utils import extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from tracker.api.serializers import version as s
from tracker.api.views.base import Endpoint

#: The contract's version (API.md): additions within /api/v1/ raise the minor number.
API_VERSION = "1.1"


class ApiVersionView(Endpoint):
    authentication_classes: list[type] = []
    permission_classes = [AllowAny]

    @extend_schema(responses={200: s.ApiVersionSerializer}, auth=[])
    def get(self, request: Request) -> Response:
        return Response({"api_version": API_VERSION, "min_supported_app_version": settings.MIN_SUPPORTED_APP_VERSION})
