"""Request ids (for the audit trail and logs), the body size limit, error answers under /api/ as problem
details, session lifetimes, no-store caching."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_cache_control

from tracker.api.errors import PROBLEM_CONTENT_TYPE, as_problem, is_api, problem_response
from tracker.api.messages import BAD_CONTENT_LENGTH, BODY_TOO_LARGE
from tracker.records.context import client_address_var, client_request_id_var, request_id_var


def client_address(request: HttpRequest) -> str:
    """The client's address: the socket's peer, or with ``TRUSTED_PROXY_HOPS`` = N proxies in front,
    the address the outermost trusted proxy saw (N-th from the right of ``X-Forwarded-For``). Entries
    further left are the client's own claims and are never trusted. DRF's throttles use the same rule
    (``NUM_PROXIES``)."""
    hops = settings.TRUSTED_PROXY_HOPS
    remote = str(request.META.get("REMOTE_ADDR", ""))
    if hops <= 0:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    return forwarded[-hops] if len(forwarded) >= hops else (forwarded[0] if forwarded else remote)


CLIENT_REQUEST_ID_MAX = 64


def client_request_id(request: HttpRequest) -> str:
    """The client's ``X-Request-ID`` if it is 1 to 64 printable ASCII characters, else ""."""
    supplied = request.headers.get("X-Request-ID", "")
    if 0 < len(supplied) <= CLIENT_REQUEST_ID_MAX and all(" " <= ch <= "~" for ch in supplied):
        return supplied
    return ""


class RequestIdMiddleware:
    """Give every request a new id of the server's (the audit trail's ``request_id``, the logs' and
    the response's ``X-Request-ID``); keep a well-formed client ``X-Request-ID`` beside it (the audit
    trail's ``client_request_id``), never in its place; note the client's address for the login
    lockout."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        rid = str(uuid.uuid4())
        token = request_id_var.set(rid)
        client_token = client_request_id_var.set(client_request_id(request))
        address = client_address_var.set(client_address(request))
        request.request_id = rid  # type: ignore[attr-defined]
        try:
            response = self.get_response(request)
        finally:
            request_id_var.reset(token)
            client_request_id_var.reset(client_token)
            client_address_var.reset(address)
        response["X-Request-ID"] = rid
        return response


class BodySizeLimitMiddleware:
    """Answer 413 to a body larger than ``MAX_REQUEST_BODY_BYTES`` before anything reads it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return problem_response(request, 400, "bad_request", BAD_CONTENT_LENGTH)
        if length > settings.MAX_REQUEST_BODY_BYTES:
            limit = {"limit": settings.MAX_REQUEST_BODY_BYTES}
            return problem_response(request, 413, "payload_too_large", lambda: BODY_TOO_LARGE % limit)
        return self.get_response(request)


class ProblemDetailsMiddleware:
    """Every error answer under /api/ is a problem (tracker/api/errors.py), whatever produced it: DRF's
    views answer one already; Django's own 404, 405 and 500 (its debug pages in DEBUG too), a view's
    own JSON error body and anything else are turned into one here, status and headers kept."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            response.status_code >= 400
            and is_api(request)
            and not response.get("Content-Type", "").startswith(PROBLEM_CONTENT_TYPE)
        ):
            return as_problem(request, response)
        return response


def stamp_session(sender: object, request: HttpRequest, user: object, **kwargs: object) -> None:
    """At login: when the session started and was last seen (no write on the requests that follow)."""
    now = time.time()
    request.session["started_at"] = now
    request.session["seen_at"] = now


class SessionLifetimeMiddleware:
    """Dashboard sessions end ``SESSION_MAX_AGE_SECONDS`` after login and after
    ``SESSION_IDLE_SECONDS`` without a request, like the staff's bearer tokens (the cookie itself
    also ends with the browser)."""

    # Refresh the last-seen time at most this often, so that not every request writes the session.
    TOUCH_EVERY_SECONDS = 60

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            now = time.time()
            session = request.session
            started = session.get("started_at", 0.0)  # a session from before these rules: ended
            seen = session.get("seen_at", 0.0)
            if now - started > settings.SESSION_MAX_AGE_SECONDS or now - seen > settings.SESSION_IDLE_SECONDS:
                logout(request)
            elif now - seen >= self.TOUCH_EVERY_SECONDS:
                session["seen_at"] = now
        return self.get_response(request)


class NoStoreMiddleware:
    """Health data is never kept by a browser's or a proxy's cache: every response the app builds
    says ``Cache-Control: no-store`` unless its view chose a policy (static files are not served here
    in production)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if not response.has_header("Cache-Control"):
            patch_cache_control(response, no_store=True, private=True)
        return response
