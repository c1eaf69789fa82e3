"""Migration 0014 gives each flag acknowledged before the history existed its acknowledgement as a first step."""

from __future__ import annotations

import importlib
from datetime import date, timedelta

import pytest
from django.apps import apps
from django.utils import timezone

from tests.tracker.helpers import client_for, make_clinic, submit
from tracker.records.models import FlagAcknowledgement, SafetyFlag

pytestmark = pytest.mark.django_db

migration = importlib.import_module("tracker.records.migrations.0014_flag_actions_patient_schedule")


def test_acknowledged_flags_get_their_first_history_step():
    world = make_clinic()
    api = client_for(world.clinician)
    for suicide in (2, 1):
        assert submit(api, "phq9", date.today(), 12, patient=world.patient, suicide=suicide).status_code == 201
    closed, still_open = SafetyFlag.objects.filter(patient=world.patient).order_by("value").reverse()
    when = timezone.now() - timedelta(days=3)
    # As the acknowledgement was stored before the history: on the flag only.
    SafetyFlag.objects.filter(pk=closed.pk).update(
        acknowledged_by=world.clinician, acknowledged_at=when, acknowledgement_note="called"
    )
    migration.acknowledgements_from_flags(apps, None)
    step = FlagAcknowledgement.objects.get()
    assert (step.flag_id, step.by, step.note, step.action, step.at) == (closed.pk, world.clinician, "called", "", when)
    assert not FlagAcknowledgement.objects.filter(flag=still_open).exists()
