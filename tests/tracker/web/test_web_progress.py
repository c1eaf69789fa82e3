"""The dashboard's patient page shows what the patient sees at /me/progress/, in the clinician's language."""

from __future__ import annotations

import html
from datetime import date, timedelta

import pytest

from tests.tracker.helpers import ClinicWorld, client_for, make_clinic, submit, web_client
from tracker.records.services.patients import course_create

pytestmark = pytest.mark.django_db

SEED = [48, 47, 46, 44, 30, 12, 4, 3]


@pytest.fixture
def world() -> ClinicWorld:
    world = make_clinic()
    start = date.today() - timedelta(days=7 * (len(SEED) - 1))
    course_create(
        actor=world.clinician, patient=world.patient, modality="iv_ketamine", with_therapy=False, start_date=start
    )
    patient_api = client_for(world.patient_user)
    for week, total in enumerate(SEED):
        assert submit(patient_api, "bdi2", start + timedelta(days=7 * week), total).status_code == 201
    return world


def _section(page: str) -> str:
    start = page.index('id="patient-sees"')
    return html.unescape(page[start : page.index("</section>", start)])


def test_clinician_sees_the_patients_texts(world: ClinicWorld) -> None:
    [bdi] = client_for(world.patient_user).get("/api/v1/me/progress/").json()["scales"]
    page = web_client(world.clinician).get(f"/patients/{world.patient.pk}/").content.decode()
    section = _section(page)
    assert "What the patient sees" in section
    for key in ("headline", "where_you_are", "what_it_means", "next_step"):
        assert bdi[key] in section, key


def test_texts_follow_the_clinicians_language(world: ClinicWorld) -> None:
    page = web_client(world.clinician).get(f"/patients/{world.patient.pk}/", HTTP_ACCEPT_LANGUAGE="es")
    assert "Tus puntuaciones han bajado la mitad o más desde que empezaste" in _section(page.content.decode())


def test_no_section_without_entries(world: ClinicWorld) -> None:
    page = web_client(world.clinician).get(f"/patients/{world.other_patient.pk}/").content.decode()
    assert 'id="patient-sees"' not in page
