"""One error shape under /api/: RFC 9457 problem details (``application/problem+json``).

Every 4xx and 5xx answer under /api/ has the body::

    {"type": "<PROBLEM_TYPE_BASE_URL><code>", "title": "...", "status": 400, "detail": "...",
     "code": "validation_error",
     "errors": [{"field": "items[4]", "code": "out_of_range", "message": "..."}],
     "items": ["..."]}

``code`` is a stable identifier a client switches on (``validation_error``, ``not_found``,
``token_expired``, ``rate_limited``, ...); ``errors`` names every offending field of the request at
once, each with its own stable code (``field`` is null for a fault of the request as a whole);
``title``, ``detail`` and each ``message`` are written for the person reading them, in the request's
language (``Accept-Language``; English where no translation exists).

Backward compatibility with API v1 ("errors are HTTP 4xx with a JSON body naming each offending
field"): the body also keeps, as RFC 9457 extension members, one top-level key per offending
top-level field with its list of messages (``"items": ["..."]`` for ``items[4]``,
``"item_directions"`` for ``item_directions.16``), except a field whose name is one of the problem
members above, which is listed in ``errors`` only.

The pieces: ``exception_handler`` (DRF's EXCEPTION_HANDLER: DRF's exceptions, Django's
ValidationError from the services, their Conflict, the login lockout, ``Problem``), ``not_found`` and
``server_error`` (Django's handler404 and handler500), and ``problem_response`` for everything else
that answers an error under /api/ (the body size limit, the database outage, the middleware that
turns any other error answer under /api/ into this shape: ``as_problem``).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import translation
from django.utils.cache import patch_vary_headers
from django.utils.functional import Promise
from django.views.defaults import page_not_found
from django.views.defaults import server_error as default_server_error
from rest_framework import exceptions
from rest_framework.settings import api_settings
from rest_framework.views import set_rollback

from tracker.api.messages import DETAILS, TITLES, errors_summary, field_message, stable_code
from tracker.records.services.auth import LoginFailed, LoginLocked
from tracker.records.services.errors import Conflict

PROBLEM_CONTENT_TYPE = "application/problem+json"
#: The members of a problem; a field of the same name is not repeated as an extension member.
PROBLEM_MEMBERS = frozenset({"type", "title", "status", "detail", "code", "errors", "instance"})

#: The problem code of an answer whose cause named none, by HTTP status.
STATUS_CODES = {
    400: "bad_request",
    401: "authentication_failed",
    403: "permission_denied",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
    500: "server_error",
    503: "service_unavailable",
}

#: DRF's exception codes, as problem codes.
_DRF_CODES = {"parse_error": "malformed_json", "throttled": "rate_limited", "invalid": "validation_error"}


@dataclass(frozen=True)
class FieldError:
    field: str | None
    code: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"field": self.field, "code": self.code, "message": self.message}


class Problem(exceptions.APIException):
    """An error answer a view raises with its own problem code (and field errors, headers)."""

    def __init__(
        self,
        status: int,
        code: str,
        detail: str | None = None,
        errors: Sequence[FieldError] = (),
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(detail=detail or str(DETAILS.get(code, TITLES.get(code, code))), code=code)
        self.status_code = status
        self.problem_code = code
        self.errors = list(errors)
        self.headers = dict(headers or {})


def problem_type(code: str) -> str:
    return f"{settings.PROBLEM_TYPE_BASE_URL}{code}"


def _top_level(field: str) -> str:
    for i, char in enumerate(field):
        if char in ".[":
            return field[:i]
    return field


def problem_body(
    status: int, code: str, detail: str | None = None, errors: Iterable[FieldError] = ()
) -> dict[str, Any]:
    """The problem's members (strings in the active language) and the v1 extension members."""
    errors = list(errors)
    if detail is None:
        if code == "validation_error" and len(errors) == 1:
            detail = errors[0].message
        elif code == "validation_error" and errors:
            detail = errors_summary(len(errors))
        else:
            detail = str(DETAILS.get(code, TITLES.get(code, "")))
    body: dict[str, Any] = {
        "type": problem_type(code),
        "title": str(TITLES.get(code, detail)),
        "status": status,
        "detail": str(detail),
        "code": code,
        "errors": [error.as_dict() for error in errors],
    }
    for error in errors:
        if error.field:
            name = _top_level(error.field)
            if name and name not in PROBLEM_MEMBERS:
                body.setdefault(name, []).append(error.message)
    return body


def _language(request: HttpRequest | None) -> str:
    # Past LocaleMiddleware the active language is the request's (or what a view chose); before it
    # (the body size limit), it is read from the request here.
    if request is None or hasattr(request, "LANGUAGE_CODE"):
        return translation.get_language() or settings.LANGUAGE_CODE
    return translation.get_language_from_request(request)


#: A problem's detail: a string, a lazy translation, or a function giving one (called in the
#: request's language, for a message built from a translation and values).
Detail = str | Promise | Callable[[], str] | None


def problem_response(
    request: HttpRequest | None,
    status: int,
    code: str | None = None,
    detail: Detail = None,
    errors: Iterable[FieldError] = (),
    headers: Mapping[str, str] | None = None,
) -> HttpResponse:
    """An ``application/problem+json`` answer (see the module's docstring)."""
    code = code or STATUS_CODES.get(status, "bad_request" if status < 500 else "server_error")
    with translation.override(_language(request)):
        if callable(detail):
            detail = detail()
        body = problem_body(status, code, None if detail is None else str(detail), errors)
        language = translation.get_language()
    response = HttpResponse(
        json.dumps(body, cls=DjangoJSONEncoder, ensure_ascii=False),
        status=status,
        content_type=f"{PROBLEM_CONTENT_TYPE}; charset=utf-8",
    )
    for name, value in (headers or {}).items():
        response[name] = value
    if language:
        response["Content-Language"] = language
    patch_vary_headers(response, ("Accept-Language",))  # caches keep one answer per language
    return response


# ------------------------------------------------------------------------------ field errors


def _join(path: str | None, key: object) -> str | None:
    if key in (NON_FIELD_ERRORS, api_settings.NON_FIELD_ERRORS_KEY):
        return path
    if isinstance(key, int):
        return f"{path or ''}[{key}]"
    return f"{path}.{key}" if path else str(key)


def drf_field_errors(detail: Any, path: str | None = None) -> Iterator[FieldError]:
    """DRF's nested error details, flattened: list positions as ``items[4]``, keys as ``a.b``."""
    if isinstance(detail, Mapping):
        for key, value in detail.items():
            yield from drf_field_errors(value, _join(path, key))
    elif isinstance(detail, (list, tuple)):
        for index, value in enumerate(detail):
            if isinstance(value, (Mapping, list, tuple)):
                yield from drf_field_errors(value, f"{path or ''}[{index}]")
            else:
                yield from drf_field_errors(value, path)
    else:
        code = stable_code(getattr(detail, "code", None))
        yield FieldError(path, code, field_message(code, None, str(detail)))


def django_field_errors(exc: DjangoValidationError) -> Iterator[FieldError]:
    """A Django ValidationError's errors (the services'), each worded by its code."""
    by_field = exc.error_dict if hasattr(exc, "error_dict") else {NON_FIELD_ERRORS: exc.error_list}
    for field, errors in by_field.items():
        for error in errors:
            for leaf in error.error_list:
                code = stable_code(leaf.code)
                fallback = str(leaf.message)
                yield FieldError(_join(None, field), code, field_message(code, leaf.params, fallback))


# ------------------------------------------------------------------------------ DRF's handler


def _retry_after(seconds: float | None) -> dict[str, str]:
    return {"Retry-After": str(max(1, math.ceil(seconds)))} if seconds else {}


def _api_exception(exc: exceptions.APIException) -> HttpResponse:
    headers: dict[str, str] = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = str(exc.auth_header)  # type: ignore[attr-defined]
    if isinstance(exc, Problem):
        return problem_response(None, exc.status_code, exc.problem_code, str(exc.detail), exc.errors, exc.headers)
    if isinstance(exc, exceptions.Throttled):
        headers.update(_retry_after(exc.wait))  # type: ignore[attr-defined]
    if isinstance(exc, exceptions.ValidationError):
        return problem_response(None, exc.status_code, "validation_error", errors=list(drf_field_errors(exc.detail)))
    raw = getattr(exc.detail, "code", None) or exc.default_code
    code = _DRF_CODES.get(str(raw), str(raw))
    if code not in TITLES:
        code = STATUS_CODES.get(exc.status_code, code)
    if exc.status_code == 403 and code in ("not_authenticated", "authentication_failed"):
        code = "permission_denied"  # DRF answers 403 when no scheme can challenge
    detail = exc.detail if isinstance(exc.detail, str) else None
    return problem_response(None, exc.status_code, code, detail, headers=headers)


def exception_handler(exc: Exception, context: dict[str, Any]) -> HttpResponse | None:
    """DRF's EXCEPTION_HANDLER: every exception it knows, as a problem (see the module's docstring)."""
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    response: HttpResponse
    if isinstance(exc, exceptions.APIException):
        response = _api_exception(exc)
    elif isinstance(exc, DjangoValidationError):
        response = problem_response(None, 400, "validation_error", errors=list(django_field_errors(exc)))
    elif isinstance(exc, Conflict):
        message = field_message(exc.code, None, exc.message)
        errors = [FieldError(exc.field, exc.code, message)]
        response = problem_response(None, 409, "conflict", message, errors)
    elif isinstance(exc, LoginFailed):
        response = problem_response(None, 400, "invalid_credentials")
    elif isinstance(exc, LoginLocked):
        response = problem_response(None, 429, "locked_out", headers=_retry_after(exc.retry_after))
    else:
        return None
    set_rollback()
    return response


# ------------------------------------------------------------------------------ Django's handlers


def is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """``handler404``: a problem under /api/, Django's page elsewhere."""
    if is_api(request):
        return problem_response(request, 404, "not_found")
    return page_not_found(request, exception or Http404())


def server_error(request: HttpRequest) -> HttpResponse:
    """``handler500``: a problem under /api/ that says nothing of the request (no health data in
    error reports), Django's page elsewhere."""
    if is_api(request):
        return problem_response(request, 500, "server_error")
    return default_server_error(request)


def as_problem(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    """Any other error answer under /api/ (Django's debug pages, a view's own JSON error body, a
    CSRF refusal) in the one shape, its status and headers kept; a JSON body's ``detail`` and
    offending fields are carried over."""
    detail: str | None = None
    errors: list[FieldError] = []
    if response.get("Content-Type", "").startswith("application/json") and not response.streaming:
        try:
            body = json.loads(response.content)
        except ValueError:
            body = None
        if isinstance(body, dict):
            if isinstance(body.get("detail"), str):
                detail = body.pop("detail")
            body.pop("code", None)
            errors = list(drf_field_errors(body))
    code = STATUS_CODES.get(response.status_code)
    if errors and response.status_code == 400:
        code = "validation_error"
    kept = {
        name: value
        for name, value in response.headers.items()
        if name.lower() not in {"content-type", "content-length", "content-language"}
    }
    return problem_response(request, response.status_code, code, detail, errors, kept)
