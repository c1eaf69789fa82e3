"""Settings from the environment: embedded defaults, and production that fails fast."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.tracker.helpers import run_manage

ROOT = Path(__file__).resolve().parents[3]


def test_defaults_are_sqlite_and_eager_celery() -> None:
    done = run_manage(
        "shell",
        "-c",
        "from django.conf import settings as s; print(s.DATABASES['default']['ENGINE'], s.CELERY_TASK_ALWAYS_EAGER)",
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1].split() == ["django.db.backends.sqlite3", "True"]


def test_database_and_redis_urls_switch_backends() -> None:
    done = run_manage(
        "shell",
        "-c",
        "from django.conf import settings as s; print(s.DATABASES['default']['ENGINE'], s.CELERY_TASK_ALWAYS_EAGER,"
        " s.CELERY_BROKER_URL, s.CACHES['default']['BACKEND'])",
        DATABASE_URL="postgres://u@db.example:5432/x",
        REDIS_URL="redis://cache.example:6379/0",
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1].split() == [
        "django.db.backends.postgresql",
        "False",
        "redis://cache.example:6379/0",
        "django.core.cache.backends.redis.RedisCache",
    ]


def test_production_without_secret_or_hosts_fails_with_a_clear_message() -> None:
    done = run_manage("check", DJANGO_ENV="production")
    assert done.returncode != 0 and "DJANGO_SECRET_KEY must be set" in done.stderr
    done = run_manage("check", DJANGO_ENV="production", DJANGO_SECRET_KEY="k" * 60)
    assert done.returncode != 0 and "DJANGO_ALLOWED_HOSTS must be set" in done.stderr


def test_deploy_check_with_production_settings_reports_nothing() -> None:
    done = run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DJANGO_ENV="production",
        DJANGO_SECRET_KEY="prod-" + "s3cr3t-" * 8,
        DJANGO_ALLOWED_HOSTS="clinic.example",
        DATABASE_URL="postgres://u@127.0.0.1:5432/x",
    )
    assert done.returncode == 0, done.stderr
    assert "no issues" in done.stdout


def test_gunicorn_serves_with_the_production_config(tmp_path: Path) -> None:
    """``gunicorn.conf.py``: WEB_CONCURRENCY workers forked from a preloaded app, which answers."""
    import http.client
    import runpy
    import time

    from benchmarks.api import free_port, server_pids, wait_for

    assert runpy.run_path(str(ROOT / "gunicorn.conf.py"))["workers"] == 2 * (os.cpu_count() or 1)
    port = free_port()
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_URL", "REDIS_URL"))}
    env = {**clean, "WEB_CONCURRENCY": "2", "SQLITE_PATH": str(tmp_path / "db.sqlite3")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "tracker.config.wsgi:application", "-c", "gunicorn.conf.py",
         "-b", f"127.0.0.1:{port}"],
        cwd=ROOT, env=env, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        wait_for(port, proc)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.request("GET", "/api/v1/patients/")
        response = conn.getresponse()
        assert response.status == 401
        assert response.getheader("Content-Type") == "application/problem+json; charset=utf-8"
        deadline = time.time() + 10
        while len(server_pids(proc.pid)) < 3 and time.time() < deadline:  # the master and its workers
            time.sleep(0.1)
        assert len(server_pids(proc.pid)) == 3
    finally:
        proc.terminate()
        proc.wait(timeout=30)
