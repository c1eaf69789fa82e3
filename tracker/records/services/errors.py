from __future__ import annotations

from django.core.exceptions import ValidationError


def invalid(field: str, message: str) -> ValidationError:
    """A validation error naming its field; the API answers it 400 as ``{field: [message]}``."""
    return ValidationError({field: [message]})


class Conflict(Exception):
    """The request is valid but conflicts with the current state (answered 409)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message
