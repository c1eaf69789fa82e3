"""A real `celery worker` process behind Redis: tasks arrive and run; an entry posted through the
API updates the patient's snapshot in the worker."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from projections.models import OutcomeSnapshot
from tests.tracker.helpers import client_for, make_clinic, submit
from tests.worker import celery_workers, wait_until

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _purge_queue() -> Any:
    from tracker.celery import app

    app.control.purge()
    yield
    app.control.purge()


def test_worker_receives_and_runs_a_task_through_redis() -> None:
    from tracker.celery import app, ping

    assert not app.conf.task_always_eager and app.conf.broker_url.startswith("redis://")
    with celery_workers(1):
        assert ping.delay(41).get(timeout=30) == 42


def test_posted_entry_changes_the_snapshot_in_the_worker() -> None:
    world = make_clinic()
    today = date.today()
    staff = client_for(world.clinician)
    staff.post(f"/api/v1/patients/{world.patient.pk}/courses/", {"modality": "iv_ketamine", "start_date": (today - timedelta(days=14)).isoformat()}, format="json")
    phone = client_for(world.patient_user)
    with celery_workers(1):
        assert submit(phone, "bdi2", today - timedelta(days=14), 40).status_code == 201
        assert wait_until(lambda: OutcomeSnapshot.objects.filter(patient=world.patient, scale="bdi2", latest_total=40).exists())
        assert submit(phone, "bdi2", today, 18).status_code == 201
        assert wait_until(lambda: OutcomeSnapshot.objects.filter(patient=world.patient, scale="bdi2", latest_total=18).exists())
    snap = OutcomeSnapshot.objects.get(patient=world.patient, scale="bdi2")
    assert snap.data["baseline"]["total"] == 40 and snap.data["latest"]["response"] == "response"
