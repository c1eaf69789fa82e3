"""Concurrent account requests on PostgreSQL: renewals leave one working enrollment code, a renewal
racing an enrolment never deadlocks, and a reset code is spent once."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection, connections
from django.utils import timezone
from rest_framework.test import APIClient

from tests.tracker.helpers import PASSWORD, client_for, make_clinic
from tracker.records.models import EnrollmentCode
from tracker.records.services.passwords import password_reset_code_issue
from tracker.records.services.patients import patient_create

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def together(calls: list[Callable[[], Any]]) -> list[Any]:
    """Run ``calls`` at once, each in its own thread and database connection; their answers in order."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = calls[i]()
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_racing_renewals_leave_one_working_code() -> None:
    assert connection.vendor == "postgresql"
    world = make_clinic()
    patient = patient_create(actor=world.clinician, name="Racing").patient
    clients = [client_for(world.clinician) for _ in range(6)]
    answers = together([lambda c=c: c.post(f"/api/v1/patients/{patient.pk}/enrollment-code/") for c in clients])
    assert [a.status_code for a in answers] == [201] * 6
    live = EnrollmentCode.objects.filter(patient=patient, used_at__isnull=True, expires_at__gt=timezone.now())
    assert live.count() == 1


def test_a_renewal_racing_the_enrolment_never_fails_with_a_server_error() -> None:
    world = make_clinic()
    for i in range(5):
        new = patient_create(actor=world.clinician, name=f"Race {i}")
        staff = client_for(world.clinician)
        enroll, renew = together(
            [
                lambda new=new, i=i: APIClient().post(
                    "/api/v1/enroll/",
                    {"enrollment_code": new.enrollment_code, "username": f"racer-{i}", "password": PASSWORD},
                    format="json",
                ),
                lambda new=new, staff=staff: staff.post(f"/api/v1/patients/{new.patient.pk}/enrollment-code/"),
            ]
        )
        assert (enroll.status_code, renew.status_code) in {(201, 409), (400, 201)}


def test_a_reset_code_is_spent_once() -> None:
    world = make_clinic()
    code = password_reset_code_issue(actor=world.clinician, user=world.patient_user).raw
    body = {"reset_code": code, "username": "a-patient-1", "new_password": "fresh-Meadow-2031"}
    answers = together(
        [lambda i=i: APIClient(REMOTE_ADDR=f"198.51.100.{i + 1}").post(
            "/api/v1/auth/password-reset/", body, format="json"
        ) for i in range(4)]
    )  # fmt: skip
    assert sorted(a.status_code for a in answers) == [204, 400, 400, 400]
