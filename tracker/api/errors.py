"""One error shape: HTTP 4xx with a JSON body naming each offending field."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views.defaults import page_not_found
from django.views.defaults import server_error as default_server_error
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from tracker.records.services.auth import GENERIC_LOGIN_ERROR, LoginFailed, LoginLocked
from tracker.records.services.errors import Conflict


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DjangoValidationError):
        body = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        return Response(body, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, Conflict):
        return Response({exc.field: [exc.message]}, status=status.HTTP_409_CONFLICT)
    if isinstance(exc, LoginFailed):
        return Response({"detail": GENERIC_LOGIN_ERROR}, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, LoginLocked):
        return Response(
            {"detail": "Too many failed logins from this device. Try again later."},
            status=status.HTTP_429_TOO_MANY_REQUESTS,
            headers={"Retry-After": str(exc.retry_after)},
        )
    return drf_exception_handler(exc, context)


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """A JSON 404 under /api/, Django's page elsewhere."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Not found."}, status=404)
    return page_not_found(request, exception or Http404())


def server_error(request: HttpRequest) -> HttpResponse:
    """A JSON 500 under /api/ that says nothing of the request (no health data in error reports)."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Server error. It has been logged; please try again later."}, status=500)
    return default_server_error(request)
