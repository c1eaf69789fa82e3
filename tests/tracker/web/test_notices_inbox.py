"""The notices inbox: the clinic's signal changes, marked read one by one or all at once, counted in the nav."""

from __future__ import annotations

import re
import uuid
from datetime import date, timedelta

import pytest
from django.test import Client

from projections.nightly import recompute_all
from tests.tracker.helpers import ClinicWorld, items_with_total, make_clinic, web_client
from tracker.records.models import AuditEvent, Notice, Patient
from tracker.records.services.assessments import assessment_submit
from tracker.records.services.patients import course_create, patient_create

pytestmark = pytest.mark.django_db

FLAT = [(0, 32), (7, 33), (14, 32), (21, 33), (28, 32), (35, 33)]


def _off_track(world: ClinicWorld, name: str) -> Patient:
    patient = patient_create(actor=world.clinician, name=name).patient
    start = date.today() - timedelta(days=35)
    course_create(actor=world.clinician, patient=patient, modality="iv_ketamine", with_therapy=False, start_date=start)
    for day, total in FLAT:
        assessment_submit(
            actor=world.clinician,
            patient=patient,
            scale="bdi2",
            administered_on=start + timedelta(days=day),
            items=items_with_total("bdi2", total),
            client_id=uuid.uuid4(),
        )
    return patient


def notice_rows(html: str) -> list[str]:
    return re.findall(r'<tr data-notice="([0-9a-f-]+)"', html)


@pytest.fixture
def inbox() -> tuple[ClinicWorld, ClinicWorld]:
    world = make_clinic()
    other = make_clinic("Clinic B", prefix="b")
    _off_track(world, "Noa Flat")
    _off_track(world, "Kim Flat")
    _off_track(other, "Other Flat")
    recompute_all()
    assert Notice.objects.filter(clinic=world.clinic).count() == 2
    return world, other


def test_inbox_lists_the_clinics_unread_notices_and_the_nav_counts_them(inbox):
    world, _other = inbox
    client = web_client(world.clinician)
    html = client.get("/notices/").content.decode()
    assert len(notice_rows(html)) == 2
    assert "Noa Flat" in html and "Kim Flat" in html and "Other Flat" not in html
    assert "off track" in html
    nav = client.get("/patients/").content.decode()
    assert re.search(r'Notices <span class="nav-count">2<', nav)
    listed = set(
        AuditEvent.objects.filter(action="web.notice.list", actor=world.clinician).values_list("patient_id", flat=True)
    )
    assert listed == set(Notice.objects.filter(clinic=world.clinic).values_list("patient_id", flat=True))


def test_mark_one_read(inbox):
    world, _ = inbox
    client = web_client(world.clinician)
    notice = Notice.objects.filter(clinic=world.clinic).first()
    r = client.post(f"/notices/{notice.pk}/read/")
    assert r.status_code == 302 and r["Location"] == "/notices/"
    notice.refresh_from_db()
    assert notice.read_at is not None
    assert AuditEvent.objects.filter(action="notice.read", object_id=str(notice.pk), actor=world.clinician).exists()
    html = client.get("/notices/").content.decode()
    assert notice_rows(html) == [str(n.pk) for n in Notice.objects.filter(clinic=world.clinic, read_at__isnull=True)]
    assert str(notice.pk) in notice_rows(client.get("/notices/?show=all").content.decode())
    # Again: nothing changes, no second audit event.
    client.post(f"/notices/{notice.pk}/read/")
    assert AuditEvent.objects.filter(action="notice.read", object_id=str(notice.pk)).count() == 1


def test_mark_all_read_touches_only_the_own_clinic(inbox):
    world, other = inbox
    client = web_client(world.admin)
    r = client.post("/notices/read-all/", follow=True)
    assert "2 notices marked read." in r.content.decode()
    assert not Notice.objects.filter(clinic=world.clinic, read_at__isnull=True).exists()
    assert Notice.objects.filter(clinic=other.clinic, read_at__isnull=True).count() == 1
    assert AuditEvent.objects.filter(action="notice.read", actor=world.admin).count() == 2
    assert 'class="nav-count"' not in client.get("/notices/").content.decode()


def test_another_clinics_notice_is_a_404_and_unchanged(inbox):
    world, other = inbox
    theirs = Notice.objects.get(clinic=other.clinic)
    r = web_client(world.clinician).post(f"/notices/{theirs.pk}/read/")
    assert r.status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None
    assert AuditEvent.objects.filter(action="access.refused", object_id=str(theirs.pk)).exists()


def test_marking_read_needs_post_and_csrf(inbox):
    world, _ = inbox
    notice = Notice.objects.filter(clinic=world.clinic).first()
    client = web_client(world.clinician)
    assert client.get(f"/notices/{notice.pk}/read/").status_code == 405
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(world.clinician)
    assert strict.post(f"/notices/{notice.pk}/read/").status_code == 403
    notice.refresh_from_db()
    assert notice.read_at is None


def test_patients_cannot_see_the_inbox(inbox):
    world, _ = inbox
    client = Client()
    client.force_login(world.patient_user)
    assert client.get("/notices/").status_code == 403
    assert Client().get("/notices/").status_code == 302
