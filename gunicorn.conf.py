"""The web server's production settings. ``gunicorn tracker.config.wsgi`` reads this file from the working
directory (the repository root); ``benchmark api`` serves with it too, so it measures what is deployed.

- ``workers``: ``WEB_CONCURRENCY`` or two sync workers per CPU. A request spends a fraction of its
  time waiting on PostgreSQL, so one worker per core leaves cores idle. Many more workers than
  that make every request dearer: on the 2-core reference machine 8 workers served about 30% fewer
  entry submissions per second than 4 (each worker's code and data compete for the same CPU caches).
- ``preload_app``: Django and the app are imported once in the master and the workers are forked
  from it, so they share those memory pages instead of each importing its own copy.
  ``gc.freeze()`` keeps the objects loaded at startup out of the garbage collector's scans (and
  off the pages it would otherwise copy in every worker). Nothing opens a database connection at
  import; ``when_ready`` closes any anyway, so no worker inherits one.
- no access log (gunicorn's default): request lines hold patient ids. Errors go to stderr.
"""

from __future__ import annotations

import gc
import os

workers = int(os.environ.get("WEB_CONCURRENCY") or 2 * (os.cpu_count() or 1))
worker_class = "sync"
preload_app = True
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 20
# Behind a TLS-terminating proxy, set FORWARDED_ALLOW_IPS to its address.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")


def when_ready(server: object) -> None:
    """In the master, after the app is loaded and before the first fork."""
    from django.db import connections

    connections.close_all()
    gc.collect()
    gc.freeze()
