"""Settings of the benchmark's own web server: the product's, plus the bare endpoint's URL.

``BENCHMARK_REDIS_PREFIX`` (set by ``benchmark api``) puts every Redis key the server writes, as
cache or as Celery broker, under that prefix, so that the run can tell its keys from anyone else's.
"""

import os

from tracker.config.settings import *  # noqa: F403
from tracker.config.settings import CACHES, CELERY_BROKER_TRANSPORT_OPTIONS

ROOT_URLCONF = "benchmarks.urls"

if prefix := os.environ.get("BENCHMARK_REDIS_PREFIX", ""):
    CACHES = {**CACHES, "default": {**CACHES["default"], "KEY_PREFIX": prefix}}  # keys "<prefix>:1:<key>"
    CELERY_BROKER_TRANSPORT_OPTIONS = {**CELERY_BROKER_TRANSPORT_OPTIONS, "global_keyprefix": f"{prefix}:"}
