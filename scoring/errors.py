"""The one error type of the scoring package."""

from __future__ import annotations


class ScoringError(ValueError):
    """Invalid input to the clinical rules.

    ``field`` is a dotted path naming the offending value (``"items[4]"``,
    ``"scale"``, ``"total"``, ``"options.sustain_days"``,
    ``"assessments[3].date"``); ``message`` says what is wrong with it.
    ``str(error)`` is ``"field: message"``.
    """

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message

    def within(self, prefix: str) -> ScoringError:
        """The same error, its field nested under ``prefix`` (``assessments[3]``)."""
        if self.field.startswith("["):
            return ScoringError(f"{prefix}{self.field}", self.message)
        return ScoringError(f"{prefix}.{self.field}", self.message)
