"""A clinic on its first day: every dashboard page answers, as each staff role, before any entry,
course or nightly run exists (no 5xx; a clinician is refused the clinic admin's pages)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.tracker.helpers import PASSWORD, web_client
from tracker.records.models import Role
from tracker.records.services.clinics import clinic_create, staff_create
from tracker.records.services.patients import patient_create

pytestmark = pytest.mark.django_db

CLINIC_PAGES = [
    "patient_list", "patient_create", "notice_list", "admin_staff", "admin_settings", "admin_reports", "admin_outcomes",
]  # fmt: skip
PATIENT_PAGES = [
    "patient_detail", "patient_enrollment", "course_create", "patient_chart_svg", "patient_report_pdf", "patient_fhir",
]  # fmt: skip


@pytest.mark.parametrize("role", [Role.ADMIN, Role.CLINICIAN])
def test_every_page_of_a_new_clinic_answers(role):
    _, admin = clinic_create(name="Opened today", admin_username="first-admin", admin_password=PASSWORD)
    user = admin if role == Role.ADMIN else staff_create(actor=admin, username="first-md", password=PASSWORD, role=role)
    patient = patient_create(actor=admin, name="First Patient").patient  # no course, no entry yet
    client = web_client(user)
    pages = [reverse(f"web:{name}") for name in CLINIC_PAGES]
    pages += [reverse(f"web:{name}", args=[patient.pk]) for name in PATIENT_PAGES]
    pages += [reverse("web:admin_outcomes_chart", args=["bdi2"])]
    answers = {url: client.get(url).status_code for url in pages}
    expected = {url: 403 if role == Role.CLINICIAN and url.startswith("/clinic/") else 200 for url in pages}
    assert answers == expected
