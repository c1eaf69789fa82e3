"""Settings from the environment: embedded defaults, and production that fails fast."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_URL", "REDIS_URL"))}
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env={**clean, **env}, capture_output=True, text=True, timeout=120)


def test_defaults_are_sqlite_and_eager_celery() -> None:
    done = _manage("shell", "-c", "from django.conf import settings as s; print(s.DATABASES['default']['ENGINE'], s.CELERY_TASK_ALWAYS_EAGER)")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1].split() == ["django.db.backends.sqlite3", "True"]


def test_database_and_redis_urls_switch_backends() -> None:
    done = _manage(
        "shell", "-c",
        "from django.conf import settings as s; print(s.DATABASES['default']['ENGINE'], s.CELERY_TASK_ALWAYS_EAGER, s.CELERY_BROKER_URL, s.CACHES['default']['BACKEND'])",
        DATABASE_URL="postgres://u@db.example:5432/x", REDIS_URL="redis://cache.example:6379/0",
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1].split() == [
        "django.db.backends.postgresql", "False", "redis://cache.example:6379/0", "django.core.cache.backends.redis.RedisCache",
    ]


def test_production_without_secret_or_hosts_fails_with_a_clear_message() -> None:
    done = _manage("check", DJANGO_ENV="production")
    assert done.returncode != 0 and "DJANGO_SECRET_KEY must be set" in done.stderr
    done = _manage("check", DJANGO_ENV="production", DJANGO_SECRET_KEY="k" * 60)
    assert done.returncode != 0 and "DJANGO_ALLOWED_HOSTS must be set" in done.stderr


def test_deploy_check_with_production_settings_reports_nothing() -> None:
    done = _manage(
        "check", "--deploy", "--fail-level", "WARNING",
        DJANGO_ENV="production", DJANGO_SECRET_KEY="prod-" + "s3cr3t-" * 8, DJANGO_ALLOWED_HOSTS="clinic.example",
        DATABASE_URL="postgres://u@127.0.0.1:5432/x",
    )
    assert done.returncode == 0, done.stderr
    assert "no issues" in done.stdout
