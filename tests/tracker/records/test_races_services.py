"""Concurrent requests on PostgreSQL: a retried or racing submission is stored once."""

from __future__ import annotations

import threading
import uuid
from datetime import date

import pytest
from django.db import connection

from tests.tracker.helpers import client_for, items_with_total, make_clinic
from tracker.records.models import Assessment

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def test_racing_submissions_with_one_client_id_store_one_entry() -> None:
    assert connection.vendor == "postgresql"
    world = make_clinic()
    body = {
        "scale": "phq9",
        "administered_on": date.today().isoformat(),
        "items": items_with_total("phq9", 11),
        "client_id": str(uuid.uuid4()),
    }
    clients = [client_for(world.patient_user) for _ in range(6)]
    barrier = threading.Barrier(len(clients))
    results: list[tuple[int, str]] = []
    lock = threading.Lock()

    def post(client: object) -> None:
        from django.db import connections

        barrier.wait()
        r = client.post("/api/v1/assessments/", body, format="json")  # type: ignore[attr-defined]
        with lock:
            results.append((r.status_code, r.json()["id"]))
        connections.close_all()

    threads = [threading.Thread(target=post, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    statuses = sorted(s for s, _ in results)
    assert statuses == [200] * 5 + [201], statuses
    assert len({i for _, i in results}) == 1
    assert Assessment.objects.filter(client_id=body["client_id"]).count() == 1
