"""``seed_demo``: the address a browser reaches, distinguishable patients, label doses, the demo notices."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from decimal import Decimal

import pytest
import time_machine
from django.core.management import call_command

from tracker.cli.management.commands.seed_demo import browser_address
from tracker.records.models import Notice, Patient, TreatmentSession

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("given", "reached"),
    [
        ("127.0.0.1:8000", "127.0.0.1:8000"),
        ("8001", "127.0.0.1:8001"),
        ("0.0.0.0:8000", "127.0.0.1:8000"),
        ("0:8000", "127.0.0.1:8000"),
        ("[::]:8000", "[::1]:8000"),
        ("demo.local:9000", "demo.local:9000"),
    ],
)
def test_the_printed_address_is_the_one_a_browser_reaches(given, reached):
    assert browser_address(given) == reached


def _seed(*args: str) -> str:
    out = io.StringIO()
    call_command("seed_demo", "--patients", "8", *args, stdout=out)
    return out.getvalue()


@pytest.mark.slow
def test_seed_demo_fills_a_readable_clinic_once():
    out = _seed("--address", "0.0.0.0:8123")
    assert "dashboard    : http://127.0.0.1:8123/" in out
    assert "demo-clinician / demo-Password-2026" in out
    names = list(Patient.objects.values_list("name", flat=True))
    assert len(names) == 8 and len(set(names)) == 8
    assert all(len(name.split()) >= 2 for name in names)  # first and last names, not "Patient 3"
    for modality, dose_mg, per_kg in TreatmentSession.objects.values_list(
        "course__modality", "dose_mg", "dose_mg_per_kg"
    ):
        if modality == "esketamine":
            assert dose_mg in (Decimal(56), Decimal(84)) and per_kg is None
        else:
            assert per_kg == Decimal("0.5") and Decimal(27) <= dose_mg <= Decimal(50)
    assert Notice.objects.exists()  # the inbox has something to show
    sessions = TreatmentSession.objects.count()
    assert "dashboard    : http://127.0.0.1:8000/" in _seed()  # again: nothing added
    assert Patient.objects.count() == 8 and TreatmentSession.objects.count() == sessions


@pytest.mark.slow
@time_machine.travel(datetime(2026, 12, 3, 2, 0, tzinfo=UTC), tick=False)
def test_seed_demo_dates_each_patient_on_their_own_day():
    # 02:00 UTC is still yesterday evening in New York and Chicago: a patient there has nothing
    # dated "today" by the server's clock, which their own services would refuse as the future.
    _seed("--patients", "24")
    assert Patient.objects.count() == 24
    assert Patient.objects.filter(timezone__startswith="America/").exists()
