"""Real Celery worker processes for the service-bound tests (PostgreSQL + Redis)."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.db import connection

ROOT = Path(__file__).resolve().parents[1]


def worker_database_url() -> str:
    s = connection.settings_dict
    auth = s["USER"] + (f":{s['PASSWORD']}" if s.get("PASSWORD") else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


@contextmanager
def celery_workers(
    count: int = 1,
    *,
    concurrency: int = 1,
    name: str = "w",
    beat: bool = False,
    environment: dict[str, str] | None = None,
) -> Iterator[list[subprocess.Popen[bytes]]]:
    """Start ``count`` real ``celery worker`` processes on the test database; stop them after.
    ``beat``: the first also runs the beat (its schedule file in a temporary directory);
    ``environment``: settings of the workers' own (say, a short broker visibility timeout)."""
    assert connection.vendor == "postgresql", "real workers need the shared PostgreSQL test database"
    env = {
        **os.environ,
        "DATABASE_URL": worker_database_url(),
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "LOG_LEVEL": "WARNING",
        **(environment or {}),
    }
    schedule_dir = tempfile.TemporaryDirectory()
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "tracker",
                "worker",
                "--loglevel=WARNING",
                f"--concurrency={concurrency}",
                "--pool=prefork",
                f"--hostname={name}{i}@%h",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                *(["-B", f"--schedule={schedule_dir.name}/beat-schedule"] if beat and i == 0 else []),
            ],
            cwd=ROOT,
            env=env,
        )
        for i in range(count)
    ]
    try:
        from tracker.config.celery import app

        deadline = time.time() + 60
        while time.time() < deadline:
            replies = app.control.ping(timeout=1.0) or []
            if len(replies) >= count:
                break
            if any(p.poll() is not None for p in procs):
                raise RuntimeError("a celery worker exited at start")
        else:
            raise RuntimeError("celery workers did not answer a ping within 60 s")
        yield procs
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
        schedule_dir.cleanup()


def wait_until(predicate: object, timeout: float = 30.0, interval: float = 0.2) -> bool:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():  # type: ignore[operator]
            return True
        time.sleep(interval)
    return False
