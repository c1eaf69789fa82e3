"""Query counts of the dashboard's pages at 20 and at 2,000 patients: they do not grow with the clinic.

The clinic is filled fast (``tests/tracker/bulk.py``); the patient whose page is read is made through the
services, with what the page shows: entries of two scales, an amendment, flags (one acknowledged), a
session, notices."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from projections.cohort_results import recompute_cohorts
from projections.nightly import recompute_all
from tests.tracker.bulk import bulk_patients, rich_patient
from tests.tracker.helpers import ClinicWorld, make_clinic, web_client
from tests.tracker.web.test_triage import QUERIES
from tracker.records.models import Notice, Patient, User

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


def warm_client(user: User) -> Client:
    client = web_client(user)
    client.get("/patients/")  # the session's first request loads what later ones reuse
    return client


def _count(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        r = client.get(url)
    assert r.status_code == 200, (url, r.status_code)
    return len(ctx.captured_queries)


def _pages(world: ClinicWorld, probe: Patient) -> dict[str, int]:
    recompute_all(clinic_id=world.clinic.pk)
    recompute_cohorts(world.clinic.pk)
    clinician, admin = warm_client(world.clinician), warm_client(world.admin)
    counts = {f"/patients/{query}": _count(clinician, f"/patients/{query}") for query in QUERIES}
    counts["patient page"] = _count(clinician, f"/patients/{probe.pk}/")
    counts["patient page (admin)"] = _count(admin, f"/patients/{probe.pk}/")
    counts["patient page, MADRS chart"] = _count(clinician, f"/patients/{probe.pk}/?scale=madrs")
    counts["notices"] = _count(clinician, "/notices/")
    counts["notices, all"] = _count(clinician, "/notices/?show=all")
    counts["clinic outcomes"] = _count(admin, "/clinic/outcomes/")
    return counts


def test_query_counts_at_20_and_2000_patients():
    world = make_clinic()
    probe = rich_patient(world)
    bulk_patients(world, 18, 0, recompute=False)  # with make_clinic's two: 20
    assert Patient.objects.filter(clinic=world.clinic).count() == 20
    at_20 = _pages(world, probe)
    bulk_patients(world, 1980, 18, recompute=False)
    assert Patient.objects.filter(clinic=world.clinic).count() == 2000
    at_2000 = _pages(world, probe)
    # The pages have something to show at both sizes (the inbox more than one page of notices at 2,000).
    assert Notice.objects.filter(clinic=world.clinic).count() > 100
    print("queries at 20 patients:", at_20, "\nqueries at 2,000 patients:", at_2000)
    assert at_2000 == at_20
    assert max(at_2000[f"/patients/{q}"] for q in QUERIES) <= 12, at_2000
