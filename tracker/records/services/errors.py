"""How services refuse a request: Django ``ValidationError`` naming each field, each with a stable code.

The code (``date_in_future``, ``unknown_patient``, ...) is what a client switches on and what the API
words (and translates) its message by; the message given here is the English fallback, for callers
that show it as it is (the dashboard, the command line). A service that checks several fields
collects them with ``FieldErrors`` and refuses once, naming every offending field.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError

import scoring


def invalid(
    field: str, message: str, *, code: str = "invalid", params: Mapping[str, Any] | None = None
) -> ValidationError:
    """A validation error naming its field (the API answers it 400, the field listed in ``errors``)."""
    return ValidationError({field: [ValidationError(message, code=code, params=dict(params) if params else None)]})


def from_scoring(exc: scoring.ScoringError) -> ValidationError:
    """Each fault ``scoring`` found, on its own field (``items[4]``), with its code and params."""
    errors = FieldErrors()
    for error in exc.errors:
        errors.add(error.field or "items", error.message, code=error.code, params=error.params)
    return errors.error()


class FieldErrors:
    """Every offending field of one request, refused at once (``raise_if_any``)."""

    def __init__(self) -> None:
        self._errors: dict[str, list[ValidationError]] = {}

    def add(self, field: str, message: str, *, code: str = "invalid", params: Mapping[str, Any] | None = None) -> None:
        self.add_error(invalid(field, message, code=code, params=params))

    def add_error(self, error: ValidationError) -> None:
        if hasattr(error, "error_dict"):
            for field, errors in error.error_dict.items():
                self._errors.setdefault(field, []).extend(errors)
        else:
            self._errors.setdefault(NON_FIELD_ERRORS, []).extend(error.error_list)

    @contextmanager
    def collect(self) -> Iterator[None]:
        """Run a check; its ValidationError is noted here instead of raised."""
        try:
            yield
        except ValidationError as error:
            self.add_error(error)

    def __bool__(self) -> bool:
        return bool(self._errors)

    def error(self) -> ValidationError:
        return ValidationError(dict(self._errors))

    def raise_if_any(self) -> None:
        if self._errors:
            raise self.error()


class Conflict(Exception):
    """The request is valid but conflicts with the current state (answered 409)."""

    def __init__(self, field: str, message: str, *, code: str = "conflict") -> None:
        super().__init__(message)
        self.field = field
        self.message = message
        self.code = code
