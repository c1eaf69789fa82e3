"""A database outage answers 503 with ``Retry-After``, not a 500 with a traceback: a JSON body under
/api/, a short page elsewhere, and one compact log line per failure, at most one every
``DB_OUTAGE_LOG_INTERVAL_SECONDS`` per process (with the count of those left out). The line names the
exception's class only: never the SQL, its parameters or the traceback."""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Callable

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse

from tracker.api.errors import is_api, problem_response
from tracker.api.errors import server_error as plain_server_error

logger = logging.getLogger("tracker.outage")

OUTAGE_ERRORS = (OperationalError, InterfaceError)

PAGE = (
    "<!doctype html><html lang=en><head><meta charset=utf-8><title>Briefly unavailable</title></head>"
    "<body><h1>Briefly unavailable</h1><p>The service cannot reach its database. "
    "Nothing you entered was lost; please try again in a few seconds.</p></body></html>"
)


class _RateLimitedLog:
    """One line per interval; the failures in between are counted and reported with the next line."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._last: float | None = None
        self._suppressed = 0

    def failure(self, exc: BaseException) -> None:
        now = self._clock()
        with self._lock:
            if self._last is not None and now - self._last < settings.DB_OUTAGE_LOG_INTERVAL_SECONDS:
                self._suppressed += 1
                return
            suppressed, self._suppressed, self._last = self._suppressed, 0, now
        logger.error(
            "database unavailable (%s.%s): answered 503; %d more since the last line",
            type(exc).__module__,
            type(exc).__name__,
            suppressed,
        )


outage_log = _RateLimitedLog()


def outage_response(request: HttpRequest, exc: BaseException) -> HttpResponse:
    outage_log.failure(exc)
    response: HttpResponse
    if is_api(request):
        response = problem_response(request, 503, "service_unavailable")
    else:
        response = HttpResponse(PAGE, status=503, content_type="text/html; charset=utf-8")
    response["Retry-After"] = str(settings.DB_OUTAGE_RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    # Reported above in one line: Django's request logger must not add the traceback.
    response._has_been_logged = True  # type: ignore[attr-defined]
    return response


class DatabaseOutageMiddleware:
    """A view (DRF's too: its exception handler leaves these to us) that fails to reach the database."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, OUTAGE_ERRORS):
            return outage_response(request, exception)
        return None


def server_error(request: HttpRequest) -> HttpResponse:
    """``handler500``: a failure outside the views (a middleware loading the session or the user)
    that is a database outage is a 503 too; anything else is the plain 500."""
    exc = sys.exc_info()[1]
    if isinstance(exc, OUTAGE_ERRORS):
        return outage_response(request, exc)
    return plain_server_error(request)
