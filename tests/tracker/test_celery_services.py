"""A real `celery worker` process behind Redis: tasks arrive and run; an entry posted through the
API updates the patient's snapshot in the worker."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from projections import pending
from projections.models import OutcomeSnapshot
from projections.tasks import drain_pending
from tests.tracker.helpers import client_for, make_clinic, submit
from tests.worker import celery_workers, wait_until

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _purge_queue() -> Any:
    from tracker.celery import app

    def purge() -> None:
        app.control.purge()
        pending._client().delete(pending.PENDING_KEY, pending.CLAIM_KEY)

    purge()
    yield
    purge()


def _messages() -> list[str]:
    """The task names of the messages waiting in the default queue."""
    import json

    return [json.loads(raw)["headers"]["task"] for raw in pending._client().lrange("celery", 0, -1)]


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


def test_a_burst_of_entries_costs_one_drain_message_and_every_patient_is_recomputed() -> None:
    world = make_clinic()
    today = date.today()
    phones = [client_for(world.patient_user), client_for(world.other_patient_user)]
    for k in range(4):
        for phone in phones:
            assert submit(phone, "bdi2", today - timedelta(days=k), 30 - k).status_code == 201
    # Eight entries, two patients: one drain message, both patients waiting once.
    assert _messages() == ["projections.tasks.drain_pending"]
    assert pending.waiting() == {str(world.patient.pk), str(world.other_patient.pk)}

    # The drain releases the claim before it pops: the next entry schedules the next drain.
    assert drain_pending(batch_size=1) == 2
    assert pending.waiting() == set()
    assert _messages().count("projections.tasks.recompute_patients") == 2
    assert submit(phones[0], "bdi2", today, 20).status_code == 201
    assert _messages().count("projections.tasks.drain_pending") == 2

    with celery_workers(1):
        assert wait_until(
            lambda: OutcomeSnapshot.objects.filter(patient=world.patient, scale="bdi2", latest_total=20).exists()
        )
        assert wait_until(lambda: OutcomeSnapshot.objects.filter(patient=world.other_patient, scale="bdi2").exists())
        assert wait_until(lambda: not pending.waiting() and not _messages())
