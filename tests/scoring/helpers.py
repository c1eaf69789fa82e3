"""Builders shared by the scoring tests."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from scoring import Entry

REPO = Path(__file__).resolve().parents[2]
DAY0 = dt.date(2026, 1, 5)


def day(n: int) -> dt.date:
    """The date ``n`` days after DAY0."""
    return DAY0 + dt.timedelta(days=n)


def entries(*pairs: tuple[int, int]) -> list[Entry]:
    """Entries from ``(day, total)`` pairs, keyed by their input index."""
    return [Entry(day(d), total, key=i) for i, (d, total) in enumerate(pairs)]


def weekly(*totals: int, start: int = 0) -> list[tuple[int, int]]:
    """``(day, total)`` pairs a week apart from day ``start``."""
    return [(start + 7 * i, total) for i, total in enumerate(totals)]


WORKED_EXAMPLE = weekly(48, 47, 46, 44, 30, 12, 4, 3, 4, 3)


@dataclass
class CliRun:
    status: int
    stdout: str
    stderr: str

    def json(self) -> dict:  # type: ignore[type-arg]
        return json.loads(self.stdout)  # type: ignore[no-any-return]


def run_cli(payload: object = None, *, text: str | None = None, args: Sequence[str] = ()) -> CliRun:
    """``python -m scoring classify`` with ``payload`` (as JSON) or ``text`` on stdin."""
    stdin = text if text is not None else json.dumps(payload)
    done = subprocess.run(
        [sys.executable, "-m", "scoring", "classify", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=60,
    )
    return CliRun(done.returncode, done.stdout, done.stderr)


def assessment(d: int, total: int) -> dict[str, object]:
    return {"date": day(d).isoformat(), "total": total}
