"""The Django project and core app: records, API, dashboard and reports."""

from tracker.celery import app as celery_app

__all__ = ["celery_app"]
