"""The submission path's query budget: the queries a patient's entry and its retry cost.

A new query on this path (an N+1, a lookup the token already loaded) fails here; raising a
budget is a decision made in review, with the reason in the commit.
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.tracker.helpers import client_for, items_with_total, make_clinic
from tracker.records.models import Assessment, AuditEvent
from tracker.records.services.patients import course_create

pytestmark = pytest.mark.django_db

# Per database vendor. The test runs inside a transaction, so ``insert_together`` adds a
# SAVEPOINT and its RELEASE around its rows.
# The entry here raises a safety flag, so its answer also carries the crisis resources of the
# patient's clinic: the token's query loaded that clinic with the patient (no query of its own).
NEW_ENTRY = {
    # the token with its user, patient and clinic; the savepoint; the assessment, its flag, its
    # audit event, one INSERT each; the release
    "sqlite": 6,
    # the token with its user, patient and clinic; the savepoint; one statement for all rows; the
    # release
    "postgresql": 4,
}
RETRY = {
    # the token; the savepoint; the INSERT the unique constraint refuses; the rollback to the
    # savepoint and its release; the stored entry; its flags; the replay's audit event
    "sqlite": 8,
    # the same, the refused rows being one statement here as in NEW_ENTRY
    "postgresql": 8,
}


def _post(client: Any, payload: dict[str, Any]) -> tuple[Any, list[str]]:
    with CaptureQueriesContext(connection) as queries:
        response = client.post("/api/v1/assessments/", payload, format="json")
    return response, [q["sql"] for q in queries.captured_queries]


@pytest.mark.parametrize("in_a_course", [False, True], ids=["no course", "in a course"])
def test_a_new_entry_and_its_retry_stay_within_their_query_budgets(in_a_course: bool) -> None:
    world = make_clinic()
    if in_a_course:  # the entry's date is checked against the course's baseline window
        course_create(
            actor=world.clinician, patient=world.patient, modality="esketamine", with_therapy=False,
            start_date=date.today() - timedelta(days=10),
        )  # fmt: skip
    client = client_for(world.patient_user)
    payload = {
        "scale": "bdi2",
        "administered_on": date.today().isoformat(),
        "items": items_with_total("bdi2", 20, suicide=2),  # one safety flag
        "client_id": str(uuid.uuid4()),
    }
    first, first_queries = _post(client, payload)
    assert first.status_code == 201, first.content
    assert len(first.json()["flags"]) == 1
    assert len(first_queries) == NEW_ENTRY[connection.vendor], "\n".join(first_queries)

    again, again_queries = _post(client, payload)
    assert again.status_code == 200 and again.json() == first.json()
    assert len(again_queries) == RETRY[connection.vendor], "\n".join(again_queries)
    assert Assessment.objects.count() == 1
    assert AuditEvent.objects.filter(action="assessment.replay").count() == 1
