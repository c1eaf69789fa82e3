"""The reminder run in real workers on PostgreSQL: runs racing each other send each reminder once."""

from __future__ import annotations

from typing import Any

import pytest

from tests.tracker.helpers import client_for, make_clinic
from tests.worker import celery_workers
from tracker.records.models import PushOutboxMessage, ReminderDelivery
from tracker.records.tasks import send_due_reminders

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _purge_queue() -> Any:
    from tracker.config.celery import app

    app.control.purge()
    yield
    app.control.purge()


def test_racing_runs_in_workers_remind_once() -> None:
    world = make_clinic()
    phone = client_for(world.patient_user)
    # 00:00: whenever the test runs, the patient's reminder time has passed today.
    body = {"enabled": True, "local_time": "00:00", "channels": ["push"]}
    assert phone.put("/api/v1/me/reminders/", body, format="json").status_code == 200
    assert (
        phone.post("/api/v1/me/devices/", {"platform": "ios", "push_token": "d" * 64}, format="json").status_code == 201
    )
    with celery_workers(2, concurrency=2):
        results = [send_due_reminders.apply_async(ignore_result=False) for _ in range(6)]
        for result in results:
            result.get(timeout=60)
    rows = ReminderDelivery.objects.filter(patient=world.patient)
    assert sorted(rows.values_list("scale", "channel", "status")) == [
        ("bdi2", "push", "recorded"),
        ("phq9", "push", "recorded"),
    ]
    assert PushOutboxMessage.objects.filter(patient=world.patient).count() == 1
