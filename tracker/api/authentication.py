"""``Authorization: Bearer <token>``: tokens are stored as digests, expire, and are revoked at logout.

Written by hand rather than DRF's TokenAuthentication because that stores tokens in clear,
never expires them and allows one token per user.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from tracker.api.messages import DETAILS, TOKEN_HEADER
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
        return token.user, token

    def authenticate_header(self, request: Request) -> str:
        return self.keyword


class BearerTokenScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]
    target_class = "tracker.api.authentication.BearerTokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {"type": "http", "scheme": "bearer"}
