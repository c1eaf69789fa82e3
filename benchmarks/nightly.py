"""``python manage.py benchmark nightly --workers 1,2``: the nightly job through Celery, scaled out.

In one run, in a fresh PostgreSQL database of its own (``bench_nightly_<pid>``, dropped at the
end, also on failure) and a Redis database it claims (``REDIS_URL``: only an empty one; every key
it writes is under a prefix of its own and deleted at the end, and nothing else is touched):

1. fill (untimed): the synthetic population of ``benchmark projections``, written with COPY;
2. for each worker count: that many real worker processes (``celery -A tracker.config.celery
   worker --concurrency 1``, the product's settings against the run's database and Redis), then
   (a) the full night: every snapshot deleted first, ``projections.tasks.nightly_recompute`` sent
   through the broker and timed end to end (from the send until no chunk task is queued or
   unacknowledged: ``acks_late`` keeps a running task's message unacknowledged, and then every
   worker answering that it holds no task: a message being taken is briefly in neither), and (b) the
   steady night: the same again over the snapshots (a) stored, nothing changed. For each: the
   workers' CPU time, the database's CPU time, pages and WAL (``benchmarks.pgstats``), per chunk;
   and the number of server connections the workers opened (persistent: one per worker process);
3. the workers are stopped before the next count.

The last line is ``speedup=<full night with the first count / with the last count>``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
import redis
from celery import Celery

from benchmarks.api import claim_redis, delete_prefixed, release_redis
from benchmarks.database import create_database, drop_database, dsn_for
from benchmarks.pgstats import ServerMeter, Spent, mib
from benchmarks.projections import _fill, synthetic_population
from projections.nightly import chunk_sizes

ROOT = Path(__file__).resolve().parents[1]
POLL_SECONDS = 0.05


def _tree_cpu(pid: int) -> float:
    """User + system CPU seconds of a process and its live children (a prefork worker's pool)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        children = []
    for p in [pid, *map(int, children)]:
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / tick
    return total


class Workers:
    """``count`` Celery worker processes (one task at a time each) against the run's database and broker."""

    def __init__(self, count: int, env: dict[str, str], run_id: str) -> None:
        self.procs: list[subprocess.Popen[bytes]] = []
        # The workers' own output (warnings, errors) goes to a file, shown if one fails to start.
        self.log = tempfile.TemporaryFile()  # noqa: SIM115  (closed by stop)
        for k in range(count):
            self.procs.append(
                subprocess.Popen(
                    [sys.executable, "-m", "celery", "-A", "tracker.config.celery", "worker", "--concurrency", "1",
                     "--pool", "prefork", "--loglevel", "WARNING", "--hostname", f"bench{k}-{run_id}@%h",
                     "--without-gossip", "--without-mingle", "--without-heartbeat"],
                    cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT,
                )
            )  # fmt: skip

    def _output(self) -> str:
        self.log.seek(0)
        return self.log.read().decode(errors="replace")[-4000:]

    def wait_ready(self, app: Celery, timeout: float = 120) -> None:
        deadline = time.time() + timeout
        while time.time() < deadline:
            if any(p.poll() is not None for p in self.procs):
                raise RuntimeError(f"a celery worker exited at start:\n{self._output()}")
            replies = app.control.ping(timeout=1.0)
            if len(replies) >= len(self.procs):
                return
        raise RuntimeError(f"the celery workers did not start:\n{self._output()}")

    def cpu(self) -> float:
        return sum(_tree_cpu(p.pid) for p in self.procs)

    def stop(self) -> None:
        for p in self.procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in self.procs:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        self.log.close()


def _queues_empty(client: redis.Redis, prefix: str) -> bool:
    """No task waiting in the default queue and none taken but unacknowledged (running)."""
    return client.llen(f"{prefix}celery") == 0 and client.hlen(f"{prefix}unacked") == 0


def _workers_idle(app: Celery, count: int) -> bool:
    """Every worker answers that it runs and holds no task. Asked once the queues look empty: a
    message a worker has just popped from the queue is in neither the queue nor the unacknowledged
    set until the worker has handled it (two round trips to Redis, not one atomic step), and a
    worker answers only after it has, so a task taken in that moment shows here."""
    inspect = app.control.inspect(timeout=5.0, limit=count)
    for replies in (inspect.active(), inspect.reserved()):
        if not replies or len(replies) < count or any(replies.values()):
            return False
    return True


def _night(
    app: Celery, client: redis.Redis, prefix: str, workers: Workers, meter: ServerMeter, chunk_size: int
) -> dict[str, Any]:
    """Send nightly_recompute and wait until every chunk task it scheduled has run."""
    meter.start()
    cpu0 = workers.cpu()
    started = time.perf_counter()
    app.send_task("projections.tasks.nightly_recompute", kwargs={"chunk_size": chunk_size})
    while client.llen(f"{prefix}celery") == 0 and client.hlen(f"{prefix}unacked") == 0:
        time.sleep(POLL_SECONDS / 10)  # until the message is in Redis (sent asynchronously)
    while True:
        while not _queues_empty(client, prefix):
            time.sleep(POLL_SECONDS)
        seconds = time.perf_counter() - started  # the queues' end, not the question's round trip
        if _workers_idle(app, len(workers.procs)) and _queues_empty(client, prefix):
            break
    worker_cpu = workers.cpu() - cpu0
    spent = meter.stop()
    return {"seconds": seconds, "worker_cpu": worker_cpu, "spent": spent, "connections": meter.connections()}


def _line(label: str, night: dict[str, Any], chunks: int, snapshots: int) -> str:
    spent: Spent = night["spent"]
    per = max(chunks, 1)
    return (
        f"{label}: {night['seconds']:.2f} s, {chunks} chunks, {snapshots:,} snapshots stored;"
        f" worker CPU {night['worker_cpu']:.2f} s ({night['worker_cpu'] / per:.3f} s per chunk),"
        f" database CPU {spent.cpu_seconds:.2f} s ({spent.cpu_seconds / per:.3f} s per chunk),"
        f" {spent.pages // per:,} pages touched per chunk, WAL {mib(spent.wal_bytes)} ({mib(spent.wal_bytes / per)}"
        f" per chunk, {spent.wal_scope}), {night['connections']} database connections"
    )


@contextmanager
def _database(url: str, name: str) -> Iterator[str]:
    try:
        yield create_database(url, name)
    finally:
        drop_database(url, name)


def run(
    *, workers: list[int], patients: int = 20_000, chunk_size: int = 2000, out: Callable[[str], None] = print
) -> dict[str, Any]:
    url = os.environ.get("DATABASE_URL", "")
    redis_url = os.environ.get("REDIS_URL", "")
    if not url.startswith(("postgres://", "postgresql://")) or not redis_url.startswith("redis://"):
        raise SystemExit(
            "benchmark nightly needs PostgreSQL and Redis: set DATABASE_URL=postgres://... and REDIS_URL=redis://.../N"
        )
    if not workers or min(workers) < 1 or patients < 2 or chunk_size < 2:
        raise SystemExit("benchmark nightly needs --workers like 1,2, at least 2 patients and a chunk size of 2")
    started = time.perf_counter()
    run_id = uuid.uuid4().hex[:12]
    prefix = f"bench-nightly-{run_id}:"
    client = claim_redis(redis_url, run_id, suite="nightly")
    name = f"bench_nightly_{os.getpid()}"
    try:
        with _database(url, name) as bench_url:
            env = {
                **os.environ,
                "DATABASE_URL": bench_url,
                "DJANGO_SETTINGS_MODULE": "benchmarks.settings",
                "BENCHMARK_REDIS_PREFIX": prefix.rstrip(":"),
                "DJANGO_DEBUG": "0",
                "LOG_LEVEL": "WARNING",
            }
            subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env, check=True)
            out(f"database {name} (created for this run, dropped at the end); Redis keys under {prefix}")
            fill_started = time.perf_counter()
            filled = _fill(dsn_for(url, name), synthetic_population(patients, today=dt.date.today()))
            sizes = chunk_sizes(filled["patients"], chunk_size)  # as nightly_recompute cuts them
            chunks = len(sizes)
            out(
                f"fill (untimed): {filled['patients']:,} patients, {filled['assessments']:,} assessments in"
                f" {time.perf_counter() - fill_started:.1f} s; {chunks} chunks of {min(sizes):,}-{max(sizes):,}"
                f" patients (at most {chunk_size:,})"
            )
            app = Celery(
                "bench-nightly",
                broker=redis_url,
                broker_transport_options={"global_keyprefix": prefix},
                task_ignore_result=True,
            )
            meter = ServerMeter(dsn_for(url, name), name)
            results: dict[int, dict[str, Any]] = {}
            try:
                for count in workers:
                    results[count] = _measure_count(count, app, client, prefix, env, run_id, meter, chunk_size,
                                                    chunks, name, url, out)  # fmt: skip
            finally:
                meter.close()
                with contextlib.suppress(Exception):
                    app.close()
        first, last = results[workers[0]], results[workers[-1]]
        speedup = first["full"]["seconds"] / last["full"]["seconds"]
        steady = first["steady"]["seconds"] / last["steady"]["seconds"]
        out(f"steady night: {workers[0]} -> {workers[-1]} workers {steady:.2f}x")
        out(f"whole job: {time.perf_counter() - started:.1f} s (database, fill, workers, nights, drop)")
        out(f"speedup={speedup:.2f}")
        return {"results": results, "speedup": speedup, "speedup_steady": steady}
    finally:
        release_redis(client, run_id, prefix, suite="nightly")


def _measure_count(
    count: int,
    app: Celery,
    client: redis.Redis,
    prefix: str,
    env: dict[str, str],
    run_id: str,
    meter: ServerMeter,
    chunk_size: int,
    chunks: int,
    name: str,
    url: str,
    out: Callable[[str], None],
) -> dict[str, Any]:
    with psycopg.connect(dsn_for(url, name), autocommit=True) as conn:
        conn.execute("TRUNCATE projections_outcomesnapshot, tracker_notice")
        conn.execute("VACUUM ANALYZE projections_outcomesnapshot")
    pool = Workers(count, env, run_id)
    try:
        pool.wait_ready(app)
        full = _night(app, client, prefix, pool, meter, chunk_size)
        snapshots = _count_snapshots(url, name)
        out(_line(f"{count} worker(s), full night (no snapshot stored)", full, chunks, snapshots))
        steady = _night(app, client, prefix, pool, meter, chunk_size)
        out(_line(f"{count} worker(s), steady night (nothing changed)", steady, chunks, _count_snapshots(url, name)))
    finally:
        pool.stop()
        delete_prefixed(client, prefix)  # the workers' pidbox and bindings: the next count starts clean
    return {"full": full, "steady": steady, "snapshots": snapshots}


def _count_snapshots(url: str, name: str) -> int:
    with psycopg.connect(dsn_for(url, name)) as conn:
        row = conn.execute("SELECT count(*) FROM projections_outcomesnapshot").fetchone()
    return int(row[0]) if row else 0
