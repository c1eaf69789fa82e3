"""The nightly job across two real worker processes: every course exactly once."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from projections.models import OutcomeSnapshot
from projections.tasks import nightly_recompute, recompute_chunk_task
from tests.tracker.helpers import make_clinic, weekly_course
from tests.worker import celery_workers, wait_until
from tracker.records.services.scheduling import recompute_deferred

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]
TODAY = date.today()


def _chunk_tasks_done(app: Any) -> dict[str, int]:
    stats = app.control.inspect(timeout=2.0).stats() or {}
    return {name: s.get("total", {}).get("projections.tasks.recompute_chunk", 0) for name, s in stats.items()}


def test_nightly_group_shared_by_two_workers_covers_every_course_once() -> None:
    from tracker.config.celery import app

    app.control.purge()
    world = make_clinic()
    with recompute_deferred():
        for i in range(40):
            weekly_course(world, f"n{i}", "esketamine", "madrs", TODAY - timedelta(days=28), (35, 30, 22, 15, 9))
    assert not OutcomeSnapshot.objects.exists()
    with celery_workers(2, name="nightly"):
        assert nightly_recompute(chunk_size=5) == {"chunks": 9}  # 42 patients in chunks of 5
        assert wait_until(lambda: sum(_chunk_tasks_done(app).values()) >= 9, timeout=90)
        done = _chunk_tasks_done(app)
    assert sum(done.values()) == 9, done  # each chunk exactly once
    assert all(n > 0 for n in done.values()) and len(done) == 2, done  # both workers shared the work
    assert OutcomeSnapshot.objects.filter(scale="madrs").count() == 40
    assert set(OutcomeSnapshot.objects.values_list("state", flat=True)) == {"remission_pending"}


@pytest.mark.django_db(transaction=True)
def test_two_nightly_runs_at_once_both_finish_and_agree() -> None:
    """Two runs over the same patients at the same time (two threads, two connections): neither fails
    on the snapshot table's unique key, and what is stored is what one run alone stores."""
    import threading

    from django.db import connection

    from projections.nightly import recompute_all
    from tests.projections.helpers import population, stored_snapshots

    assert connection.vendor == "postgresql"
    population(40, seed=5)
    recompute_all(chunk_size=10)
    alone = stored_snapshots()
    errors: list[BaseException] = []

    def run() -> None:
        try:
            recompute_all(chunk_size=10)
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert errors == []
    assert stored_snapshots() == alone


def test_every_chunk_twice_at_once_on_two_real_workers_fails_nowhere() -> None:
    """Two nightly runs over the same patients in real worker processes (each chunk sent twice,
    two workers taking them together): no task fails, and what is stored is one run's result."""
    from projections.nightly import patient_chunks, recompute_all
    from tests.projections.helpers import population, stored_snapshots
    from tracker.config.celery import app

    app.control.purge()
    population(40, seed=7)
    recompute_all(chunk_size=10)
    alone = stored_snapshots()
    chunks = list(patient_chunks(chunk_size=10))
    with celery_workers(2, name="twice"):
        sent = [recompute_chunk_task.apply_async((chunk,), ignore_result=False) for chunk in chunks for _ in (1, 2)]
        for result in sent:
            result.get(timeout=120)  # raises the task's error if it failed
            result.forget()
        done = _chunk_tasks_done(app)
    assert sum(done.values()) == 2 * len(chunks)
    assert stored_snapshots() == alone
