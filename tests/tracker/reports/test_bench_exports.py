"""``python manage.py benchmark exports`` on a small population: every figure, ``peak_memory`` and the
ratio last, and no database left behind. Speed is never asserted."""

from __future__ import annotations

import os
import re
from typing import Any

import psycopg
import pytest

from benchmarks.database import dsn_for
from benchmarks.exports import run


@pytest.mark.services
def test_small_run_prints_every_figure_and_drops_its_database(django_db_blocker: Any) -> None:
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        pytest.skip("the exports benchmark needs DATABASE_URL set to PostgreSQL")
    lines: list[str] = []
    with django_db_blocker.unblock():
        result = run(rows=400, rounds=1, out=lines.append)
    text = "\n".join(lines)
    assert re.search(r"^fill \(untimed\): 204 patients, \d+ courses, 4,080 assessments, \d+ snapshots", text, re.M)
    assert re.search(r"^round 1 \(a\) plain SELECT \+ csv.writer: [\d,]+ rows in [\d.]+ s$", text, re.M)
    assert re.search(r"^round 1 \(b\) GET /api/v1/reports/response.csv \(streamed\): [\d,]+ rows", text, re.M)
    assert re.fullmatch(r"peak_memory=\d+ MB", lines[-2])
    assert re.fullmatch(r"ratio=\d+\.\d\d", lines[-1])
    assert result["rows"] > 300 and result["ratio"] > 0
    with psycopg.connect(dsn_for(url, "postgres")) as conn:
        left = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [f"bench_exp_{os.getpid()}"]).fetchall()
    assert left == []
