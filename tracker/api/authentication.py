"""``Authorization: Bearer <token>``: tokens are stored as digests, expire, and are revoked at logout.

Written by hand rather than DRF's TokenAuthentication because that stores tokens in clear,
never expires them and allows one token per user.

The language of a patient's messages: a request with an ``Accept-Language`` header is answered in
that language (Django's ``LocaleMiddleware`` chose it); one without is answered in the patient's own
``locale`` (``PATCH /me/``), activated here once the token names the patient. Errors raised before
authentication (a malformed header, an unknown token) are in the request's language.
"""

from __future__ import annotations

from typing import Any

from django.utils import translation
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from tracker.api.messages import DETAILS, TOKEN_HEADER
from tracker.records.models import Role
from tracker.records.services.auth import token_authenticate, token_refusal


class BearerTokenAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(str(TOKEN_HEADER), code="authentication_failed")
        try:
            raw = header[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed(code="authentication_failed") from None
        token = token_authenticate(raw=raw)
        if token is None:
            # The app switches on the code: an expired or revoked session asks to sign in again.
            code = token_refusal(raw=raw)
            raise exceptions.AuthenticationFailed(str(DETAILS[code]), code=code)
        _activate_patient_locale(request, token.user)
        return token.user, token

    def authenticate_header(self, request: Request) -> str:
        return self.keyword


def _activate_patient_locale(request: Request, user: Any) -> None:
    if request.headers.get("Accept-Language"):  # an empty header names no language
        return
    # The token lookup loaded the patient with the user (None for staff): no query here.
    patient = getattr(user, "patient", None) if user.role == Role.PATIENT else None
    if patient is not None and patient.locale:
        translation.activate(patient.locale)
        request._request.LANGUAGE_CODE = patient.locale


class BearerTokenScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]
    target_class = "tracker.api.authentication.BearerTokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {"type": "http", "scheme": "bearer"}
