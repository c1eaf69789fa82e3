"""Patients whose outcomes wait to be recomputed after a new or amended entry (Redis).

An entry costs its request one Redis round trip instead of one Celery message: the patient's id
goes into a set, and the request claims a single "a drain is scheduled" key. Only the request that
wins the claim publishes a message (``drain_pending``, a second later). The drain releases the claim
*first*, then pops the set in batches and hands each batch to ``recompute_patients``. So:

- an entry is committed before its patient's id is added (``transaction.on_commit``); the id is
  popped either by a drain already scheduled (it pops after it released the claim, hence after the
  add) or, when no drain is pending, by the one this request schedules — no entry is missed;
- a patient with several entries in the window is recomputed once, and a burst of entries from
  many patients costs one message per batch, not one per entry;
- the claim expires (``CLAIM_SECONDS``): a lost drain message is replaced by the next entry, and
  the beat runs a drain every minute as well. What Redis itself loses (it keeps nothing on disk
  here) the nightly run and the read-time fingerprint check catch up.

Without Redis (the embedded defaults, Celery eager) this queue is not used: the recomputation runs
in-process at commit, as before. Messages and the set hold patient ids only, never health data.
"""

from __future__ import annotations

import functools
import uuid
from typing import TYPE_CHECKING, Any

from django.conf import settings

if TYPE_CHECKING:
    import redis

PENDING_KEY = "tracker:recompute:pending"
CLAIM_KEY = "tracker:recompute:drain-scheduled"
CLAIM_SECONDS = 60
DRAIN_DELAY_SECONDS = 1.0  # gathers the entries of a burst into one drain
BATCH_SIZE = 50  # patients per ``recompute_patients`` message


def enabled() -> bool:
    """True when tasks go through a Redis broker (not run eagerly in-process)."""
    from tracker.celery import app

    return bool(settings.REDIS_URL) and not app.conf.task_always_eager


@functools.cache
def _client() -> redis.Redis:
    import redis

    # One pool per process; redis-py resets it after a fork (gunicorn and Celery prefork workers).
    return redis.Redis.from_url(str(settings.REDIS_URL), socket_connect_timeout=2, socket_timeout=2)


# Both steps in one command (a pipeline of two costs the request three times as much CPU).
_ADD = """
redis.call('SADD', KEYS[1], ARGV[1])
if redis.call('SET', KEYS[2], '1', 'NX', 'EX', ARGV[2]) then return 1 end
return 0
"""


@functools.cache
def _add_script() -> Any:
    return _client().register_script(_ADD)


def add(patient_id: uuid.UUID | str) -> bool:
    """Mark the patient pending; True when the caller won the claim and must schedule a drain."""
    return bool(_add_script()(keys=[PENDING_KEY, CLAIM_KEY], args=[str(patient_id), CLAIM_SECONDS]))


def release_claim() -> None:
    _client().delete(CLAIM_KEY)


def pop(count: int = BATCH_SIZE) -> list[str]:
    return sorted(v.decode() for v in _client().spop(PENDING_KEY, count) or [])  # type: ignore[union-attr]


def put_back(patient_ids: list[str]) -> None:
    if patient_ids:
        _client().sadd(PENDING_KEY, *patient_ids)


def waiting() -> set[str]:
    """The ids waiting now (for tests and operators)."""
    return {v.decode() for v in _client().smembers(PENDING_KEY)}  # type: ignore[union-attr]
