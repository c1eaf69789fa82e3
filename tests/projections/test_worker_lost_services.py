"""A worker process killed in the middle of a chunk loses nothing: the chunk is redone."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from datetime import date, timedelta

import psycopg
import pytest

from projections.models import OutcomeSnapshot
from projections.tasks import recompute_chunk_task
from tests.tracker.helpers import make_clinic, weekly_course
from tests.worker import celery_workers, wait_until, worker_database_url
from tracker.records.models import Patient
from tracker.records.services.scheduling import recompute_deferred

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]
TODAY = date.today()


def _pool_children(pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True)
    return [int(x) for x in out.stdout.split()]


def test_a_chunk_whose_worker_process_dies_is_redone() -> None:
    from tracker.config.celery import app

    app.control.purge()
    world = make_clinic()
    with recompute_deferred():
        for i in range(120):
            weekly_course(
                world,
                f"k{i}",
                "iv_ketamine",
                "bdi2",
                TODAY - timedelta(days=60),
                [max(0, 40 - 4 * k) for k in range(9)],
            )
    ids = [str(pk) for pk in Patient.objects.values_list("id", flat=True)]
    # Another session holds the snapshot table, so the chunk is caught in the middle of its work.
    blocker = psycopg.connect(worker_database_url(), autocommit=False)
    blocker.execute(f"LOCK TABLE {OutcomeSnapshot._meta.db_table} IN ACCESS EXCLUSIVE MODE")
    with celery_workers(1, name="victim") as (worker,):
        recompute_chunk_task.delay(ids)
        assert wait_until(
            lambda: any((app.control.inspect(timeout=0.5).active() or {}).values()), timeout=30, interval=0.05
        )
        time.sleep(1.0)
        killed = _pool_children(worker.pid)
        assert killed, "the worker's pool process was not found"
        for pid in killed:
            os.kill(pid, signal.SIGKILL)  # as the kernel's OOM killer would
        blocker.rollback()
        blocker.close()
        # The worker hands the message back (acks_late, reject_on_worker_lost): the chunk is redone.
        assert wait_until(
            lambda: OutcomeSnapshot.objects.count() == len(ids) - 2, timeout=120
        )  # make_clinic's 2 patients have no entries
        time.sleep(1)
    assert OutcomeSnapshot.objects.filter(state="remission_pending").count() == 120


def test_a_chunk_whose_whole_worker_dies_is_redone_by_another() -> None:
    """The worker itself is lost (its machine, say): nobody hands the message back, so it waits in
    the broker's unacknowledged set until the visibility timeout, and another worker takes it."""
    from tracker.config.celery import app

    app.control.purge()
    world = make_clinic()
    with recompute_deferred():
        for i in range(40):
            weekly_course(
                world,
                f"w{i}",
                "iv_ketamine",
                "bdi2",
                TODAY - timedelta(days=60),
                [max(0, 40 - 4 * k) for k in range(9)],
            )
    ids = [str(pk) for pk in Patient.objects.values_list("id", flat=True)]
    # Short timeout and sweep, so the test waits seconds rather than the production minutes.
    short = {"BROKER_VISIBILITY_TIMEOUT": "4", "BROKER_RESTORE_INTERVAL": "1"}
    blocker = psycopg.connect(worker_database_url(), autocommit=False)
    blocker.execute(f"LOCK TABLE {OutcomeSnapshot._meta.db_table} IN ACCESS EXCLUSIVE MODE")
    with celery_workers(1, name="lost", environment=short) as (worker,):
        recompute_chunk_task.delay(ids)
        assert wait_until(
            lambda: any((app.control.inspect(timeout=0.5).active() or {}).values()), timeout=30, interval=0.05
        )
        for pid in [*_pool_children(worker.pid), worker.pid]:
            os.kill(pid, signal.SIGKILL)
        worker.wait(timeout=10)
    blocker.rollback()
    blocker.close()
    assert OutcomeSnapshot.objects.count() == 0
    with celery_workers(1, name="rescuer", environment=short):
        assert wait_until(lambda: OutcomeSnapshot.objects.count() == len(ids) - 2, timeout=90)
    assert OutcomeSnapshot.objects.filter(state="remission_pending").count() == 40
