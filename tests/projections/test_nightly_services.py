"""The nightly job across two real worker processes: every course exactly once."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from projections.models import OutcomeSnapshot
from projections.tasks import nightly_recompute
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
