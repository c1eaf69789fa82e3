"""The Celery application. Tasks take ids only, never health data."""

import os
from typing import Any

from celery import Celery
from celery.signals import task_prerun
from django.db import close_old_connections

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tracker.config.settings")

app = Celery("tracker")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(["projections", "tracker", "tracker.records", "tracker.reports"])


@app.task(name="tracker.ping", ignore_result=False)
def ping(value: int) -> int:
    """A health-check task: the CI smoke test sends it through Redis to a real worker."""
    return value + 1


@task_prerun.connect
def _recycle_old_connections(sender: Any = None, **kwargs: Any) -> None:
    """Workers reuse their connection (``CELERY_DB_REUSE_MAX``): before each task, one past
    ``CONN_MAX_AGE`` or unusable is closed, as Django does between requests. Never in an eager
    task, whose caller may be inside a transaction."""
    if not getattr(getattr(sender, "request", None), "is_eager", False):
        close_old_connections()
