"""The Celery application. Tasks take ids only, never health data."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tracker.config.settings")

app = Celery("tracker")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(["projections", "tracker", "tracker.records", "tracker.reports"])


@app.task(name="tracker.ping", ignore_result=False)
def ping(value: int) -> int:
    """A health-check task: the CI smoke test sends it through Redis to a real worker."""
    return value + 1
