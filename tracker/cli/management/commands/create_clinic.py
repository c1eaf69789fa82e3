"""Operator command: onboard a clinic and its first admin (API.md, 'Onboarding a clinic')."""

from __future__ import annotations

import json
import os
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from tracker.records.services.clinics import clinic_create


class Command(BaseCommand):
    help = "Create a clinic and its admin. The admin's password is read from CLINIC_ADMIN_PASSWORD."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--name", required=True, help="The clinic's name.")
        parser.add_argument("--admin-username", required=True, help="The first admin's username.")

    def handle(self, *args: Any, **options: Any) -> None:
        password = os.environ.get("CLINIC_ADMIN_PASSWORD")
        if not password:
            raise CommandError("Set the admin's password in the environment variable CLINIC_ADMIN_PASSWORD.")
        try:
            clinic, admin = clinic_create(
                name=options["name"], admin_username=options["admin_username"], admin_password=password
            )
        except ValidationError as exc:
            problems = "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in exc.message_dict.items())
            raise CommandError(problems) from None
        self.stdout.write(json.dumps({"clinic_id": str(clinic.pk), "admin_username": admin.username}))
