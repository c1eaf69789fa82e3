"""A real `celery worker` process behind Redis: tasks arrive and run; an entry posted through the
API updates the patient's snapshot in the worker."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from projections.models import OutcomeSnapshot
from projections.tasks import drain_pending
from tests.tracker.helpers import client_for, make_clinic, submit
from tests.worker import celery_workers, wait_until
from tracker.records import outbox as pending

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _purge_queue() -> Any:
    from tracker.config.celery import app

    app.control.purge()
    yield
    app.control.purge()


def _messages() -> list[str]:
    """The task names of the messages waiting in the default queue."""
    import json

    import redis
    from django.conf import settings

    client = redis.Redis.from_url(str(settings.REDIS_URL))
    return [json.loads(raw)["headers"]["task"] for raw in client.lrange("celery", 0, -1)]


def test_worker_receives_and_runs_a_task_through_redis() -> None:
    from tracker.config.celery import app, ping

    assert not app.conf.task_always_eager and app.conf.broker_url.startswith("redis://")
    with celery_workers(1):
        assert ping.delay(41).get(timeout=30) == 42


def test_posted_entry_changes_the_snapshot_in_the_worker() -> None:
    world = make_clinic()
    today = date.today()
    staff = client_for(world.clinician)
    staff.post(
        f"/api/v1/patients/{world.patient.pk}/courses/",
        {"modality": "iv_ketamine", "start_date": (today - timedelta(days=14)).isoformat()},
        format="json",
    )
    phone = client_for(world.patient_user)
    with celery_workers(1, beat=True):  # the beat drains the outbox every few seconds
        assert submit(phone, "bdi2", today - timedelta(days=14), 40).status_code == 201
        assert wait_until(
            lambda: OutcomeSnapshot.objects.filter(patient=world.patient, scale="bdi2", latest_total=40).exists()
        )
        assert submit(phone, "bdi2", today, 18).status_code == 201
        assert wait_until(
            lambda: OutcomeSnapshot.objects.filter(patient=world.patient, scale="bdi2", latest_total=18).exists()
        )
    snap = OutcomeSnapshot.objects.get(patient=world.patient, scale="bdi2")
    assert snap.data["baseline"]["total"] == 40 and snap.data["latest"]["response"] == "response"


def test_entries_publish_nothing_and_the_drain_recomputes_each_waiting_patient_once() -> None:
    world = make_clinic()
    today = date.today()
    phones = [client_for(world.patient_user), client_for(world.other_patient_user)]
    for k in range(4):
        for phone in phones:
            assert submit(phone, "bdi2", today - timedelta(days=k), 30 - k).status_code == 201
    # Eight entries, two patients: no message at all, each patient waiting once in the outbox.
    assert _messages() == []
    assert pending.waiting() == {str(world.patient.pk), str(world.other_patient.pk)}

    recomputed: list[str] = []
    assert pending.drain(recomputed.append, batch_size=1) == 2
    assert sorted(recomputed) == sorted([str(world.patient.pk), str(world.other_patient.pk)])
    assert pending.waiting() == set()

    # A worker drains what the next entry leaves (the beat sends drain_pending every few seconds).
    assert submit(phones[0], "bdi2", today, 20).status_code == 201
    assert pending.waiting() == {str(world.patient.pk)}
    with celery_workers(1):
        drain_pending.delay()
        assert wait_until(
            lambda: OutcomeSnapshot.objects.filter(patient=world.patient, scale="bdi2", latest_total=20).exists()
        )
        assert wait_until(lambda: not pending.waiting())


def test_a_drain_failing_for_one_patient_goes_on_with_the_others(caplog: Any) -> None:
    world = make_clinic()
    for phone in (client_for(world.patient_user), client_for(world.other_patient_user)):
        assert submit(phone, "bdi2", date.today(), 30).status_code == 201
    done: list[str] = []

    def recompute(patient_id: str) -> None:
        if patient_id == str(world.patient.pk):
            raise RuntimeError("boom")
        done.append(patient_id)

    assert pending.drain(recompute) == 2
    assert done == [str(world.other_patient.pk)] and not pending.waiting()
    assert f"recomputation of patient {world.patient.pk} failed" in caplog.text


def test_a_worker_keeps_its_database_connection_from_task_to_task() -> None:
    """One connection per worker process, not one per task (CELERY_DB_REUSE_MAX): 100 workers need
    100 connections, whatever the number of chunks."""
    import redis
    from django.conf import settings
    from django.db import connection

    from projections.tasks import recompute_chunk_task

    world = make_clinic()
    ids = [str(world.patient.pk)]

    def sessions() -> int:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_stat_force_next_flush()")
            cursor.execute("SELECT sessions FROM pg_stat_database WHERE datname = current_database()")
            return int(cursor.fetchone()[0])

    client = redis.Redis.from_url(str(settings.REDIS_URL))
    with celery_workers(1):
        recompute_chunk_task.delay(ids)  # the worker's first task opens its connection
        assert wait_until(lambda: client.llen("celery") == 0 and client.hlen("unacked") == 0)
        before = sessions()
        for _ in range(8):
            recompute_chunk_task.delay(ids)
        assert wait_until(lambda: client.llen("celery") == 0 and client.hlen("unacked") == 0)
    # Closed connections report their session when they end: the worker's, stopped above.
    assert wait_until(lambda: sessions() - before <= 1, timeout=3) and sessions() - before <= 1
