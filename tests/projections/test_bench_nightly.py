"""``python manage.py benchmark nightly`` on a small population: real Celery workers, every figure
reported, ``speedup=`` last; it leaves no database behind and deletes only its own Redis keys.
Speed is never asserted."""

from __future__ import annotations

import os
import re
from typing import Any

import psycopg
import pytest
import redis

from benchmarks.database import dsn_for
from benchmarks.nightly import run


def _bench_databases(url: str) -> list[str]:
    with psycopg.connect(dsn_for(url, "postgres")) as conn:
        rows = conn.execute(
            "SELECT datname FROM pg_database WHERE datname = %s", [f"bench_nightly_{os.getpid()}"]
        ).fetchall()
    return [name for (name,) in rows]


@pytest.mark.services
def test_a_non_empty_redis_database_is_refused_and_left_as_it_was() -> None:
    url, redis_url = os.environ.get("DATABASE_URL", ""), os.environ.get("REDIS_URL", "")
    if not url.startswith("postgres") or not redis_url:
        pytest.skip("needs DATABASE_URL (PostgreSQL) and REDIS_URL")
    client = redis.Redis.from_url(redis_url)
    key = f"someone-elses-key-{os.getpid()}"
    client.set(key, "theirs")
    try:
        with pytest.raises(SystemExit, match="keys the benchmark did not write"):
            run(workers=[1], patients=10, chunk_size=5, out=lambda line: None)
        assert client.get(key) == b"theirs"
        assert _bench_databases(url) == []  # refused before creating anything
    finally:
        client.delete(key)


@pytest.mark.services
def test_small_run_through_real_workers(monkeypatch: pytest.MonkeyPatch, django_db_blocker: Any) -> None:
    """Needs an empty Redis database of its own: BENCHMARK_REDIS_URL (.ci/run sets one)."""
    url, redis_url = os.environ.get("DATABASE_URL", ""), os.environ.get("BENCHMARK_REDIS_URL", "")
    if not url.startswith("postgres") or not redis_url:
        pytest.skip("needs DATABASE_URL (PostgreSQL) and BENCHMARK_REDIS_URL (an empty Redis database)")
    monkeypatch.setenv("REDIS_URL", redis_url)
    lines: list[str] = []
    with django_db_blocker.unblock():
        result = run(workers=[1, 2], patients=200, chunk_size=50, out=lines.append)
    text = "\n".join(lines)
    for count in (1, 2):
        for night in ("full night", "steady night"):
            assert re.search(
                rf"^{count} worker\(s\), {night} .*: [\d.]+ s, 4 chunks, 400 snapshots stored; worker CPU [\d.]+ s"
                rf" \([\d.]+ s per chunk\), database CPU [\d.]+ s \([\d.]+ s per chunk\), [\d,]+ pages touched per"
                rf" chunk, WAL [\d.]+ MiB .*, \d+ database connections$",
                text,
                re.MULTILINE,
            ), (count, night, text)
    assert re.fullmatch(r"speedup=\d+\.\d\d", lines[-1])
    assert float(lines[-1].removeprefix("speedup=")) == pytest.approx(result["speedup"], abs=0.005)
    assert _bench_databases(url) == []
    assert redis.Redis.from_url(redis_url).dbsize() == 0
