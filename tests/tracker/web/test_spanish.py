"""The patient list and a patient's page in Spanish (Accept-Language: es): no English left of the words
checked here (headers, buttons, labels, badges), and the Spanish ones shown."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from projections.nightly import recompute_all
from tests.tracker.bulk import rich_patient
from tests.tracker.helpers import PASSWORD, make_clinic
from tracker.records.models import User

pytestmark = pytest.mark.django_db

LIST_ENGLISH = [
    "Patients", "New patient", "Name or external id", "Projection", "Open safety flags", "Questionnaire overdue",
    "Apply", "Current course", "Outcomes (latest total", "Last entry", "Safety flags", "Questionnaires",
    "up to date", "overdue:", "no external id", "Log out", "Notices", "Any signal", "Any state", "On track",
    "Off track", "Urgency", "Times in", "matching", "most urgent first", "week ", "urgent<", "review<",
]  # fmt: skip
LIST_SPANISH = ["Pacientes", "Nuevo paciente", "Aplicar", "Alertas de seguridad", "Cerrar sesión", "Horas en UTC."]
PAGE_ENGLISH = [
    "All patients", "Response report (PDF)", "FHIR export", "Open safety flags", "(suicide item) answered",
    "Acknowledge<", "Current course", "Modality<", "Psychotherapy", "Started", "Sessions<", "Questionnaires",
    "Last completed", "Next due", "Due dates are", "Progress<", "Outcomes of the current course", "Baseline<",
    "Improvement", "Events", "Projection<", "Rules applied", "percentile", "expected improvement", "Entries",
    "Timing", "Severity", "Items (number", "Entered by", "before dose", "after dose", "superseded", "amended",
    "Mark as baseline", "URGENT", "REVIEW", "raised", "Log out", "Times in", "week ", " items<", "Item 1:",
    "Contacted the patient", "Clinician<",
]  # fmt: skip
PAGE_SPANISH = [
    "Todos los pacientes", "Tratamiento actual", "Línea base", "Registros", "URGENTE", "Ítem 1:",
    "Se contactó con el paciente", "Clínico<",
]  # fmt: skip


def _text(html: str) -> str:
    """What a reader sees or hears: the text, titles, labels and alternatives (no markup, no URLs)."""
    body = html.split("<body>", 1)[1]
    attributes = " ".join(re.findall(r'(?:title|aria-label|alt|placeholder)="([^"]*)"', body))
    text = re.sub(r"<script.*?</script>|<style.*?</style>", " ", body, flags=re.S)
    text = re.sub(r"<[^>]+>", "<", text)
    return text + " " + attributes


def _found(word: str, text: str) -> bool:
    """``word`` in ``text`` as a whole word (URGENT is not found in URGENTE)."""
    return (
        re.search(rf"(?<!\w){re.escape(word)}(?!\w)" if word[-1].isalnum() else rf"(?<!\w){re.escape(word)}", text)
        is not None
    )


@pytest.fixture
def spanish() -> tuple[Client, str]:
    world = make_clinic()
    patient = rich_patient(world)
    recompute_all(clinic_id=world.clinic.pk)
    clinician: User = world.clinician
    client = Client(HTTP_ACCEPT_LANGUAGE="es")
    assert client.login(username=clinician.username, password=PASSWORD)
    return client, str(patient.pk)


@pytest.mark.parametrize(("url", "english", "spanish_words"), [
    ("/patients/", LIST_ENGLISH, LIST_SPANISH),
    ("/patients/?overdue=on", LIST_ENGLISH, LIST_SPANISH),
    ("/patients/{pk}/", PAGE_ENGLISH, PAGE_SPANISH),
])  # fmt: skip
def test_no_english_left_in_spanish(spanish, url, english, spanish_words):
    client, pk = spanish
    r = client.get(url.format(pk=pk))
    assert r.status_code == 200
    html = r.content.decode()
    assert '<html lang="es">' in html
    text = _text(html)
    left = [word for word in english if _found(word, text)]
    assert not left, left
    missing = [word for word in spanish_words if word not in text]
    assert not missing, missing


def test_english_is_unchanged_without_accept_language(spanish):
    client, pk = spanish
    english = Client()
    english.cookies = client.cookies
    text = _text(english.get(f"/patients/{pk}/").content.decode())
    for word in ("All patients", "Current course", "Mark as baseline", "URGENT", "Times in UTC."):
        assert word in text


ADMIN_PAGES = {
    "/notices/": (["Mark all read", "Show all, read ones too", "When<", "Notice<"], ["Avisos", "Mostrar todos"]),
    "/clinic/staff/": (["Username<", "Last sign-in", "Reset password", "Deactivate<", "Add login"], ["Personal"]),
    "/clinic/settings/": (["Clinic settings", "Thresholds per scale", "Save settings", "Time zone"], ["Guardar"]),
    "/clinic/reports/": (["Download CSV", "Download reports", "one combined PDF", "Payer reports"], ["Descargar"]),
    "/clinic/outcomes/": (
        ["Clinic outcomes", "Questionnaire completion", "Patients off track", "Courses<"],
        ["Resultados de la clínica", "Pacientes fuera de la trayectoria"],
    ),
}


@pytest.mark.parametrize("url", list(ADMIN_PAGES))
def test_the_admin_pages_and_the_inbox_in_spanish(url):
    world = make_clinic()
    client = Client(HTTP_ACCEPT_LANGUAGE="es")
    assert client.login(username=world.admin.username, password=PASSWORD)
    r = client.get(url)
    assert r.status_code == 200
    text = _text(r.content.decode())
    english, spanish_words = ADMIN_PAGES[url]
    left = [word for word in english if _found(word, text)]
    assert not left, left
    assert all(word in text for word in spanish_words)
