"""Load benchmark of assessment submission under gunicorn against PostgreSQL.

In one run: the real endpoint (bearer token, validation, scoring, flags, audit event, outbox row)
and a bare endpoint that inserts one row with no auth, validation or audit, under the same
concurrent load, served by the same gunicorn with the production settings (gunicorn.conf.py).
The bare endpoint is mounted only in the benchmark's own server (``benchmarks.settings``).

With ``REDIS_URL`` set, the server uses the Redis database it names as broker and cache, and only
if that database is empty: the run claims it with a marker key (``REDIS_MARKER``), its server
writes every key under a prefix of the run's own (``BENCHMARK_REDIS_PREFIX``), and at the end the
run deletes its own keys. It never flushes a database; if keys it did not write appear in it, it
leaves them and exits with a message saying so.
"""

from __future__ import annotations

import http.client
import json
import os
import runpy
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import redis

from benchmarks.database import create_database, drop_database, dsn_for

ROOT = Path(__file__).resolve().parents[1]
BARE_TABLE = "benchmark_bare_row"
REDIS_MARKER = "benchmark-api:owner"


@dataclass
class LoadResult:
    requests: int
    seconds: float
    latencies: list[float]
    statuses: dict[int, int]

    @classmethod
    def merged(cls, parts: list[LoadResult]) -> LoadResult:
        statuses: dict[int, int] = {}
        for part in parts:
            for k, v in part.statuses.items():
                statuses[k] = statuses.get(k, 0) + v
        return cls(
            sum(p.requests for p in parts),
            sum(p.seconds for p in parts),
            [x for p in parts for x in p.latencies],
            statuses,
        )

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    def pct(self, p: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] * 1000


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _load(
    port: int, clients: int, per_client: int, make: Callable[[int, int], tuple[str, bytes, dict[str, str]]]
) -> LoadResult:
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    lock = threading.Lock()

    def worker(cid: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        local: list[float] = []
        local_status: dict[int, int] = {}
        for i in range(per_client):
            path, body, headers = make(cid, i)
            t0 = time.perf_counter()
            conn.request("POST", path, body=body, headers={"Content-Type": "application/json", **headers})
            resp = conn.getresponse()
            resp.read()
            local.append(time.perf_counter() - t0)
            local_status[resp.status] = local_status.get(resp.status, 0) + 1
        conn.close()
        with lock:
            latencies.extend(local)
            for k, v in local_status.items():
                statuses[k] = statuses.get(k, 0) + v

    threads = [threading.Thread(target=worker, args=(c,)) for c in range(clients)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return LoadResult(clients * per_client, time.perf_counter() - start, latencies, statuses)


def _cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time of the given processes (Linux /proc); vanished processes count 0."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / tick


def server_pids(master: int) -> list[int]:
    try:
        children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    except OSError:
        children = []
    return [master, *map(int, children)]


def _postgres_pids() -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == "postgres":
                    pids.append(int(entry.name))
            except OSError:
                continue
    return pids


def wait_for(port: int, proc: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("gunicorn exited early")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("gunicorn did not start")


def run(
    *,
    requests: int = 4000,
    clients: int = 8,
    workers: int | None = None,
    retry_every: int = 20,
    rounds: int = 4,
    out: Callable[[str], None] = print,
) -> dict[str, Any]:
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        raise SystemExit("benchmark api needs PostgreSQL: set DATABASE_URL=postgres://user@127.0.0.1:5432/db")
    redis_url = os.environ.get("REDIS_URL", "")
    run_id = uuid.uuid4().hex
    redis_client = claim_redis(redis_url, run_id) if redis_url else None
    name = f"bench_api_{os.getpid()}"
    bench_url = create_database(url, name)
    env = {
        **os.environ,
        "DATABASE_URL": bench_url,
        "DJANGO_SETTINGS_MODULE": "benchmarks.settings",
        "DJANGO_DEBUG": "0",
        "LOG_LEVEL": "WARNING",
        "BENCHMARK_REDIS_PREFIX": f"bench-api-{run_id}",
    }
    py = sys.executable
    proc: subprocess.Popen[bytes] | None = None
    try:
        subprocess.run([py, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env, check=True)
        setup = subprocess.run(
            [py, "-c", SETUP_SCRIPT, str(clients)], cwd=ROOT, env=env, check=True, capture_output=True, text=True
        )
        tokens: list[str] = json.loads(setup.stdout.strip().splitlines()[-1])
        with psycopg.connect(dsn_for(bench_url, name), autocommit=True) as conn:
            conn.execute(f"CREATE TABLE {BARE_TABLE} (id uuid PRIMARY KEY, body jsonb NOT NULL)")
        port = free_port()
        # The production configuration (gunicorn.conf.py); ``workers`` overrides its worker count.
        config = ROOT / "gunicorn.conf.py"
        workers = workers or int(runpy.run_path(str(config))["workers"])
        proc = subprocess.Popen(
            [py, "-m", "gunicorn", "tracker.config.wsgi:application", "-c", str(config), "-b", f"127.0.0.1:{port}",
             "-w", str(workers), "--log-level", "warning"],
            cwd=ROOT, env=env,
        )  # fmt: skip
        wait_for(port, proc)
        per_client = requests // clients
        sent_ids: list[list[str]] = [[] for _ in range(clients)]

        def submission(cid: int, i: int) -> tuple[str, bytes, dict[str, str]]:
            # Every ``retry_every``-th request resends the previous client_id, as a phone retrying would.
            if i and i % retry_every == 0:
                client_id = sent_ids[cid][-1]
            else:
                client_id = str(uuid.uuid4())
                sent_ids[cid].append(client_id)
            items = [(i + k + cid) % 3 for k in range(21)]
            body = {
                "scale": "bdi2",
                "administered_on": time.strftime("%Y-%m-%d", time.gmtime(time.time() - 86400)),
                "items": items,
                "client_id": client_id,
            }
            return "/api/v1/assessments/", json.dumps(body).encode(), {"Authorization": f"Bearer {tokens[cid]}"}

        def bare(cid: int, i: int) -> tuple[str, bytes, dict[str, str]]:
            items = [(i + k + cid) % 3 for k in range(21)]
            return "/benchmark/bare/", json.dumps({"items": items}).encode(), {}

        cpu = {"bare": [0.0, 0.0], "submission": [0.0, 0.0]}  # app, postgres (seconds)
        results: dict[str, list[LoadResult]] = {"bare": [], "submission": []}

        def measured(label: str, make: Callable[[int, int], tuple[str, bytes, dict[str, str]]], count: int) -> None:
            """One round of a load, with the CPU time the app server and PostgreSQL spent on it."""
            app, pg = server_pids(proc.pid), _postgres_pids()
            app0, pg0 = _cpu_seconds(app), _cpu_seconds(pg)
            results[label].append(_load(port, clients, count, make))
            cpu[label][0] += _cpu_seconds(app) - app0
            cpu[label][1] += _cpu_seconds(pg) - pg0

        # Warm both paths in every worker (imports, URL conf, connections) before measuring.
        _load(port, clients, 3 * workers, bare)
        _load(port, clients, 3 * workers, submission)  # real entries: counted below like the rest
        # The two loads alternate in rounds, so a change of the machine's background load during
        # the run weighs on both alike.
        for round_no in range(rounds):
            count = per_client // rounds + (1 if round_no < per_client % rounds else 0)
            measured("bare", bare, count)
            measured("submission", submission, count)
        bare_result, real = (LoadResult.merged(results[k]) for k in ("bare", "submission"))
        bare_app_ms, bare_pg_ms = (x * 1000 / bare_result.requests for x in cpu["bare"])
        real_app_ms, real_pg_ms = (x * 1000 / real.requests for x in cpu["submission"])
        with psycopg.connect(dsn_for(bench_url, name)) as conn:
            stored = conn.execute("SELECT count(*), count(DISTINCT client_id) FROM tracker_assessment").fetchone()
            bare_rows = conn.execute(f"SELECT count(*) FROM {BARE_TABLE}").fetchone()  # noqa: S608 (a constant)
        expected = sum(len(ids) for ids in sent_ids)
        assert stored is not None and bare_rows is not None
        lost = expected - stored[1]
        duplicated = stored[0] - stored[1]
        for label, r in (("bare", bare_result), ("submission", real)):
            out(
                f"{label:>10}: {r.requests} requests, {r.rps:8.1f} req/s, p50 {r.pct(50):6.1f} ms, "
                f"p99 {r.pct(99):6.1f} ms, statuses {dict(sorted(r.statuses.items()))}"
            )
        out(
            f"CPU per request: bare app {bare_app_ms:.2f} ms + postgres {bare_pg_ms:.2f} ms; "
            f"submission app {real_app_ms:.2f} ms + postgres {real_pg_ms:.2f} ms"
        )
        out(
            f"entries: expected {expected}, stored {stored[0]}, lost {lost}, duplicated {duplicated}; "
            f"bare rows {bare_rows[0]}"
        )
        celery = "redis" if "REDIS_URL" in env else "eager"
        out(f"clients={clients} gunicorn_workers={workers} rounds={rounds} celery={celery}")
        ratio = real.rps / bare_result.rps
        out(f"ratio={ratio:.2f}")
        return {"ratio": ratio, "lost": lost, "duplicated": duplicated, "p99_ms": real.pct(99)}
    finally:
        if proc is not None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
        drop_database(url, name)
        if redis_client is not None:
            release_redis(redis_client, run_id, f"bench-api-{run_id}:")


def claim_redis(url: str, run_id: str, *, suite: str = "api") -> redis.Redis:
    """The Redis database that ``url`` names, claimed for this run: only if it holds no key at all.

    The marker is set only where it is absent, and then it must be the one key in the database:
    a second run, or anyone else's keys, make this one exit before it writes anything else."""
    client = redis.Redis.from_url(url)
    db = client.connection_pool.connection_kwargs.get("db", 0)
    if not client.set(REDIS_MARKER, run_id, nx=True):
        owner = client.get(REDIS_MARKER)
        raise SystemExit(
            f"benchmark {suite}: Redis database {db} is in use by another benchmark run ({REDIS_MARKER}={owner!r}); "
            "set REDIS_URL to an empty database"
        )
    if (size := client.dbsize()) != 1:
        _release_marker(client, run_id)
        raise SystemExit(
            f"benchmark {suite}: Redis database {db} holds {size - 1} keys the benchmark did not write; "
            "it uses only an empty database: set REDIS_URL to one (redis-cli -n N dbsize says 0)"
        )
    return client


def release_redis(client: redis.Redis, run_id: str, prefix: str, *, suite: str = "api") -> None:
    """Delete the keys this run wrote (its prefix, its marker); exit with a message, leaving them,
    if the database holds any other key or the marker is no longer this run's."""
    foreign = delete_prefixed(client, prefix)
    foreign = [key for key in foreign if key != REDIS_MARKER.encode()]
    _release_marker(client, run_id)
    if foreign:
        db = client.connection_pool.connection_kwargs.get("db", 0)
        raise SystemExit(
            f"benchmark {suite}: Redis database {db} holds {len(foreign)} keys the benchmark did not write "
            f"(such as {foreign[0]!r}); deleted only its own keys ({prefix}*) and left the rest"
        )


def delete_prefixed(client: redis.Redis, prefix: str) -> list[bytes]:
    """Delete the keys under ``prefix``; return the other keys found."""
    ours, others = [], []
    for key in client.scan_iter(count=1000):
        (ours if key.startswith(prefix.encode()) else others).append(key)
    for start in range(0, len(ours), 1000):
        client.delete(*ours[start : start + 1000])
    return others


def _release_marker(client: redis.Redis, run_id: str) -> None:
    if client.get(REDIS_MARKER) == run_id.encode():
        client.delete(REDIS_MARKER)


SETUP_SCRIPT = """
import json, sys, django
django.setup()
from tracker.records.models import Role
from tracker.records.services.auth import token_issue
from tracker.records.services.clinics import clinic_create, staff_create
from tracker.records.services.patients import patient_create, patient_enroll
clinic, admin = clinic_create(name="Bench", admin_username="bench-admin", admin_password="bench-Password-2026")
tokens = []
for i in range(int(sys.argv[1])):
    new = patient_create(actor=admin, name=f"bench {i}")
    patient, issued = patient_enroll(
        enrollment_code=new.enrollment_code, username=f"bench-{i}", password="bench-Password-2026"
    )
    tokens.append(issued.raw)
print(json.dumps(tokens))
"""
