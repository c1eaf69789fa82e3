"""Operator command: recompute every outcome snapshot synchronously, with a progress bar."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from projections.cohort_results import recompute_cohorts
from projections.nightly import recompute_all


class Command(BaseCommand):
    help = "Recompute the outcome snapshots of every active course, then the cohort results (the nightly jobs, now)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--clinic", help="Only this clinic's patients (its id).")
        parser.add_argument("--chunk-size", type=int, default=2000)
        parser.add_argument("--no-progress", action="store_true", help="Hide the progress bar.")

    def handle(self, *args: Any, **options: Any) -> None:
        stats = recompute_all(
            clinic_id=options.get("clinic"), chunk_size=options["chunk_size"], progress=not options["no_progress"]
        )
        cohorts = recompute_cohorts(options.get("clinic"))
        self.stdout.write(
            f"recomputed {stats['patients']} patients, {stats['snapshots']} snapshots, {cohorts} cohort results"
        )
