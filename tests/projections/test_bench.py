"""``python manage.py benchmark projections`` on a small population: it reports every figure, ends
with the ratio, and leaves no database behind. Speed is never asserted."""

from __future__ import annotations

import os
import re
from typing import Any

import psycopg
import pytest

from benchmarks.database import dsn_for
from benchmarks.projections import run


@pytest.fixture
def database_url() -> str:
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        pytest.skip("the projections benchmark needs DATABASE_URL set to PostgreSQL")
    return url


def _bench_databases(url: str) -> list[str]:
    with psycopg.connect(dsn_for(url, "postgres")) as conn:
        rows = conn.execute(
            "SELECT datname FROM pg_database WHERE datname = %s", [f"bench_proj_{os.getpid()}"]
        ).fetchall()
    return [name for (name,) in rows]


@pytest.mark.services
def test_small_run_prints_every_figure_and_drops_its_database(database_url: str, django_db_blocker: Any) -> None:
    lines: list[str] = []
    with django_db_blocker.unblock():
        result = run(patients=300, chunk_size=40, out=lines.append)

    text = "\n".join(lines)
    assert re.search(r"^database bench_proj_\d+ ", text, re.MULTILINE)
    assert re.search(r"^fill \(untimed\): 300 patients, \d+ courses, 6,000 assessments in ", text, re.MULTILINE)
    assert re.search(r"^\(a\) plain SELECT .*: 6,000 rows in [\d.]+ s, [\d,]+ rows/s$", text, re.MULTILINE)
    for mode in ("on", "off"):
        assert re.search(rf"^-- prepared statements {mode} ", text, re.MULTILINE)
        assert re.search(rf"^prepared statements {mode}: first night [\d.]+ x \(a\), second night [\d.]+ x", text, re.M)
    assert len(re.findall(r"^\(a\) plain SELECT", text, re.MULTILINE)) == 2
    assert (
        len(
            re.findall(
                r"^\(b\) first night, recompute_all\(chunk_size=40\) over no snapshot: 300 patients, 8 chunks,"
                r" 600 snapshots written \(600 stored\) in [\d.]+ s, .*; database CPU [\d.]+ s \([\d.]+ s per chunk\),"
                r" [\d,]+ pages touched .*, WAL [\d.]+ MiB",
                text,
                re.MULTILINE,
            )
        )
        == 2
    )
    assert (
        len(
            re.findall(
                r"^\(c\) second night over the stored snapshots, nothing changed: 300 patients, 8 chunks,"
                r" 0 snapshots written \(600 current\)",
                text,
                re.MULTILINE,
            )
        )
        == 2
    )
    assert re.search(
        r"^memory of \(b\), resident set: [\d.]+ MiB before; high-water mark \+[\d.]+ MiB after half",
        text,
        re.MULTILINE,
    )
    assert re.search(
        r"^traced Python memory \(tracemalloc.*: 40 patients [\d.]+ MiB peak, 20 patients [\d.]+ MiB peak",
        text,
        re.MULTILINE,
    )
    assert re.fullmatch(r"ratio_first=\d+\.\d\d", lines[-2])
    assert re.fullmatch(r"ratio_steady=\d+\.\d\d", lines[-1])
    assert float(lines[-2].removeprefix("ratio_first=")) == pytest.approx(result["ratio_first"], abs=0.005)
    assert float(lines[-1].removeprefix("ratio_steady=")) == pytest.approx(result["ratio_steady"], abs=0.005)
    assert result["ratio_first"] == max(m["ratios"][0] for m in result["modes"].values())
    assert result["rows"] == 6000 and result["snapshots"] == 600 and result["chunks"] == 8
    assert _bench_databases(database_url) == []


@pytest.mark.services
def test_the_database_is_dropped_after_a_failure(
    database_url: str, django_db_blocker: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    def failing_read() -> tuple[int, float]:
        assert _bench_databases(database_url) == [f"bench_proj_{os.getpid()}"]  # it exists while the run lasts
        raise RuntimeError("read failed")

    monkeypatch.setattr("benchmarks.projections.plain_read", failing_read)
    with django_db_blocker.unblock(), pytest.raises(RuntimeError, match="read failed"):
        run(patients=20, chunk_size=10, out=lambda line: None)
    assert _bench_databases(database_url) == []


def test_needs_postgresql(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "sqlite:///db.sqlite3")
    with pytest.raises(SystemExit, match="needs PostgreSQL"):
        run(patients=10, chunk_size=5, out=lambda line: None)
