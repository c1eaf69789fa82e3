"""The one error type of the scoring package."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

Params = Mapping[str, object]


class ScoringError(ValueError):
    """Invalid input to the clinical rules.

    ``field`` is a dotted path naming the offending value (``"items[4]"``,
    ``"scale"``, ``"total"``, ``"options.sustain_days"``,
    ``"assessments[3].date"``); ``message`` says what is wrong with it.
    ``str(error)`` is ``"field: message"``.

    ``code`` is a stable snake_case identifier of the kind of fault (``"out_of_range"``,
    ``"not_an_integer"``, ``"wrong_item_count"``, ...; ``"invalid"`` when nothing more specific is
    said) and ``params`` the values a caller needs to word its own message (``{"item": 5, "min": 0,
    "max": 3}``). ``errors`` is every fault found: one, or several for ``ScoringErrors``.
    """

    def __init__(self, field: str, message: str, code: str = "invalid", params: Params | None = None) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message
        self.code = code
        self.params: Params = dict(params or {})

    @property
    def errors(self) -> tuple[ScoringError, ...]:
        return (self,)

    def within(self, prefix: str) -> ScoringError:
        """The same error, its field nested under ``prefix`` (``assessments[3]``)."""
        if self.field.startswith("["):
            return ScoringError(f"{prefix}{self.field}", self.message, self.code, self.params)
        return ScoringError(f"{prefix}.{self.field}", self.message, self.code, self.params)


class ScoringErrors(ScoringError):
    """Several faults of one input, found in one pass (every bad item of an entry, not the first).

    It reads as its first fault (``field``, ``message``, ``code``, ``str``), so a caller that reports
    one line reports that one; ``errors`` holds them all, in input order."""

    def __init__(self, errors: Sequence[ScoringError]) -> None:
        flat = tuple(e for error in errors for e in error.errors)
        if not flat:
            raise ValueError("ScoringErrors needs at least one error")
        first = flat[0]
        super().__init__(first.field, first.message, first.code, first.params)
        self._errors = flat

    @property
    def errors(self) -> tuple[ScoringError, ...]:
        return self._errors

    def within(self, prefix: str) -> ScoringError:
        return ScoringErrors([error.within(prefix) for error in self._errors])


def raise_all(errors: Sequence[ScoringError]) -> None:
    """Raise the one error, or ``ScoringErrors`` for several; nothing for none."""
    if len(errors) == 1:
        raise errors[0]
    if errors:
        raise ScoringErrors(errors)
