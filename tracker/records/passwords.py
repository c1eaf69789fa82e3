"""A password validator beside Django's own: long runs of one character are refused."""

from __future__ import annotations

import re
from typing import Any

from django.core.exceptions import ValidationError


class RepeatedCharacterValidator:
    """Refuses a password with a run of more than ``max_run`` of the same character, or made of
    fewer than ``min_distinct`` different characters (``ppppppppppp``, ``abababababab``)."""

    def __init__(self, max_run: int = 4, min_distinct: int = 4) -> None:
        self.max_run = max_run
        self.min_distinct = min_distinct
        self._run = re.compile(r"(.)\1{" + str(max_run) + ",}", re.DOTALL)

    def validate(self, password: str, user: Any = None) -> None:
        if self._run.search(password):
            raise ValidationError(
                f"This password repeats one character more than {self.max_run} times in a row.",
                code="password_repeated_characters",
            )
        if len(set(password)) < self.min_distinct:
            raise ValidationError(
                f"This password needs at least {self.min_distinct} different characters.",
                code="password_too_few_characters",
            )

    def get_help_text(self) -> str:
        return (
            f"Your password can't repeat a character more than {self.max_run} times in a row "
            f"and needs at least {self.min_distinct} different characters."
        )
