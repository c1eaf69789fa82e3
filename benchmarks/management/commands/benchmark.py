"""``python manage.py benchmark scoring|api|projections|nightly|exports``: figures printed, the ratio (or
speedup) last."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser


class Command(BaseCommand):
    help = "Run a benchmark and print its figures; the last line is ratio=<...>."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("suite", choices=["scoring", "api", "projections", "nightly", "exports"])
        parser.add_argument("--assessments", type=int, default=1_000_000, help="scoring: assessments")
        parser.add_argument("--trajectories", type=int, default=50_000, help="scoring: trajectories")
        parser.add_argument("--requests", type=int, default=4000, help="api: submissions (and as many bare inserts)")
        parser.add_argument("--clients", type=int, default=8, help="api: concurrent clients")
        parser.add_argument(
            "--workers",
            default=None,
            help="api: gunicorn workers (default: gunicorn.conf.py's, two per CPU); nightly: Celery worker counts"
            " to compare, e.g. 1,2 (the default)",
        )
        parser.add_argument("--rounds", type=int, default=4, help="api: the two loads alternate in this many rounds")
        parser.add_argument("--rows", type=int, default=100_000, help="exports: rows of the response CSV")
        parser.add_argument("--export-rounds", type=int, default=2, help="exports: the two sides alternate")
        parser.add_argument(
            "--patients", type=int, default=None, help="projections: synthetic patients (100,000); nightly: (20,000)"
        )
        parser.add_argument(
            "--chunk-size", type=int, default=None, help="projections: patients per chunk (5,000); nightly: (2,000)"
        )
        parser.add_argument(
            "--prepared",
            choices=["both", "on", "off"],
            default="both",
            help="projections: measure with prepared statements on (the settings' default), off, or both in turn",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        suite = options["suite"]
        if suite == "scoring":
            self._scoring(options)
        elif suite == "api":
            from benchmarks.api import run

            run(
                requests=options["requests"], clients=options["clients"],
                workers=int(options["workers"]) if options["workers"] else None,
                rounds=options["rounds"], out=self.stdout.write,
            )  # fmt: skip
        elif suite == "exports":
            from benchmarks.exports import run as run_exports

            run_exports(rows=options["rows"], rounds=options["export_rounds"], out=self.stdout.write)
        elif suite == "nightly":
            from benchmarks.nightly import run as run_nightly

            try:
                counts = [int(n) for n in (options["workers"] or "1,2").split(",")]
            except ValueError:
                raise CommandError("--workers: worker counts separated by commas, e.g. 1,2") from None
            run_nightly(
                workers=counts, patients=options["patients"] or 20_000, chunk_size=options["chunk_size"] or 2000,
                out=self.stdout.write,
            )  # fmt: skip
        else:
            from benchmarks.projections import run as run_projections

            run_projections(
                patients=options["patients"] or 100_000, chunk_size=options["chunk_size"] or 5000,
                prepared=options["prepared"],
                out=self.stdout.write,
            )  # fmt: skip

    def _scoring(self, options: dict[str, Any]) -> None:
        from benchmarks.scoring import benchmark

        r = benchmark(n_assessments=options["assessments"], n_trajectories=options["trajectories"])
        w = self.stdout.write
        w(f"assessments={r['assessments']} trajectories={r['trajectories']}")
        w(f"batch:  {r['batch_seconds']:.3f} s, {r['batch_per_second']:,.0f} assessments/s")
        w(
            f"scalar: {r['scalar_seconds']:.3f} s, {r['scalar_per_second']:,.0f} assessments/s"
            + (f" ({r['scalar_note']})" if r.get("scalar_note") else "")
        )
        w(f"ratio={r['ratio']:.1f}")
