"""One error shape: HTTP 4xx with a JSON body naming each offending field."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from tracker.services.auth import GENERIC_LOGIN_ERROR, LoginFailed, LoginLocked
from tracker.services.errors import Conflict


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
            {"detail": "Too many failed logins. Try again later."},
            status=status.HTTP_429_TOO_MANY_REQUESTS,
        )
    return drf_exception_handler(exc, context)
