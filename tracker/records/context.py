"""The request being served, as the records layer needs it: its id (for the audit trail and the logs),
the id the client supplied (kept beside it in the audit trail), and the client's address (for the
login lockout). All are set by the middleware."""

from __future__ import annotations

import contextvars

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")


def current_request_id() -> str:
    return request_id_var.get()


client_request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("client_request_id", default="")


def current_client_request_id() -> str:
    return client_request_id_var.get()


client_address_var: contextvars.ContextVar[str] = contextvars.ContextVar("client_address", default="")


def current_client_address() -> str:
    return client_address_var.get()
