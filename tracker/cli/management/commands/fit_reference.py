"""Operator command: fit a clinic's own expected curves from its completed courses."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from projections.math.fitting import NotEnoughData
from projections.services import reference_set_fit
from tracker.records.models import Clinic


class Command(BaseCommand):
    help = "Fit a clinic's own reference curves (needs --min-courses completed courses, default 30)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--clinic", required=True, help="The clinic's id.")
        parser.add_argument("--min-courses", type=int, default=30)
        parser.add_argument("--activate", action="store_true", help="Make it the clinic's default reference set.")

    def handle(self, *args: Any, **options: Any) -> None:
        clinic = Clinic.objects.filter(pk=options["clinic"]).first() if _is_uuid(options["clinic"]) else None
        if clinic is None:
            raise CommandError(f"No clinic with id {options['clinic']!r}.")
        try:
            fitted = reference_set_fit(
                actor=None, clinic=clinic, min_courses=options["min_courses"], activate=options["activate"]
            )
        except NotEnoughData as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(
            json.dumps({"reference_set": fitted.key, "courses": fitted.n_courses, "active": options["activate"]})
        )


def _is_uuid(value: str) -> bool:
    import uuid

    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True
