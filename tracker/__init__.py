"""The Django project: wiring (``config``), records, reports and the interfaces (``api``, ``web``, ``cli``).

The Celery app is loaded with Django so that ``shared_task`` binds to it and ``celery -A tracker`` finds it.
"""

from tracker.config.celery import app as celery_app

__all__ = ["celery_app"]
