"""The web server as deployed (gunicorn with ``gunicorn.conf.py``) for the tests that talk to it over HTTP."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def gunicorn_server(env: dict[str, str], *, log: IO[bytes] | None = None, timeout: float = 60) -> Iterator[str]:
    """Start gunicorn with the project's config on a free local port, with exactly the environment ``env``;
    yield its base URL once ``/healthz`` answers; stop it after (killed if it does not stop in 30 s)."""
    port = free_port()
    command = [sys.executable, "-m", "gunicorn", "tracker.config.wsgi:application", "-c", "gunicorn.conf.py"]
    server = subprocess.Popen(
        [*command, "-b", f"127.0.0.1:{port}"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT if log else None
    )
    try:
        deadline = time.monotonic() + timeout
        while True:
            if server.poll() is not None:
                raise RuntimeError(f"gunicorn exited at start (status {server.returncode})")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"gunicorn did not answer within {timeout:.0f} s") from None
                time.sleep(0.3)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
