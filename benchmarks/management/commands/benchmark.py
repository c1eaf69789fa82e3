"""``python manage.py benchmark scoring|api|projections|exports``: figures printed, ratio last."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Run a benchmark and print its figures; the last line is ratio=<...>."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("suite", choices=["scoring", "api", "projections", "exports"])
        parser.add_argument("--assessments", type=int, default=1_000_000, help="scoring: assessments")
        parser.add_argument("--trajectories", type=int, default=50_000, help="scoring: trajectories")
        parser.add_argument("--requests", type=int, default=4000, help="api: submissions (and as many bare inserts)")
        parser.add_argument("--clients", type=int, default=8, help="api: concurrent clients")
        parser.add_argument(
            "--workers", type=int, default=None, help="api: gunicorn workers (default: gunicorn.conf.py's, two per CPU)"
        )
        parser.add_argument("--rounds", type=int, default=4, help="api: the two loads alternate in this many rounds")
        parser.add_argument("--patients", type=int, default=100_000, help="projections: synthetic patients")
        parser.add_argument("--chunk-size", type=int, default=5000, help="projections: patients per chunk")
        parser.add_argument("--rows", type=int, default=100_000, help="exports: rows of the response CSV")
        parser.add_argument("--export-rounds", type=int, default=2, help="exports: the two sides alternate")

    def handle(self, *args: Any, **options: Any) -> None:
        suite = options["suite"]
        if suite == "scoring":
            self._scoring(options)
        elif suite == "api":
            from benchmarks.api import run

            run(
                requests=options["requests"], clients=options["clients"], workers=options["workers"],
                rounds=options["rounds"], out=self.stdout.write,
            )  # fmt: skip
        elif suite == "exports":
            from benchmarks.exports import run as run_exports

            run_exports(rows=options["rows"], rounds=options["export_rounds"], out=self.stdout.write)
        else:
            from benchmarks.projections import run as run_projections

            run_projections(patients=options["patients"], chunk_size=options["chunk_size"], out=self.stdout.write)

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
