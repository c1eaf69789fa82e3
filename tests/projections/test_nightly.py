"""The nightly batch recomputation stores exactly what the per-patient path stores, and can run twice."""

from __future__ import annotations

import uuid
from datetime import date, time, timedelta
from typing import Any

import pytest
from django.core.management import call_command

from projections.models import OutcomeSnapshot
from projections.nightly import recompute_all
from projections.outcomes import recompute_patient_outcomes
from tests.projections.helpers import population, stored_snapshots
from tests.tracker.helpers import items_with_total, make_clinic
from tracker.records.models import Notice, Patient
from tracker.records.services.assessments import assessment_submit
from tracker.records.services.patients import course_create, patient_create
from tracker.records.services.scheduling import recompute_deferred

pytestmark = pytest.mark.django_db
TODAY = date.today()


def test_nightly_equals_per_patient_and_is_idempotent() -> None:
    population()
    stats = recompute_all(chunk_size=7)
    assert stats["patients"] == 27  # 25 + the 2 enrolled patients of make_clinic
    nightly = stored_snapshots()
    assert len(nightly) == 50
    notices = Notice.objects.count()

    recompute_all(chunk_size=4)
    assert stored_snapshots() == nightly
    assert Notice.objects.count() == notices  # an unchanged signal raises no new notice

    OutcomeSnapshot.objects.all().delete()
    for patient in Patient.objects.all():
        recompute_patient_outcomes(patient)
    assert stored_snapshots() == nightly


def test_recompute_outcomes_command(capsys: pytest.CaptureFixture[str]) -> None:
    population(n=6)
    call_command("recompute_outcomes", "--no-progress", "--chunk-size", "2")
    assert "recomputed 8 patients, 12 snapshots" in capsys.readouterr().out
    assert OutcomeSnapshot.objects.count() == 12


def test_a_post_dose_entry_on_the_start_day_is_not_the_baseline_on_either_path() -> None:
    world = make_clinic()
    patient = patient_create(actor=world.clinician, name="post-dose").patient
    start = TODAY - timedelta(days=40)
    course_create(actor=world.clinician, patient=patient, modality="iv_ketamine", with_therapy=False, start_date=start)
    for offset, total, timing in [(-3, 30, "pre_dose"), (0, 8, "post_dose"), (21, 20, "pre_dose"), (35, 14, None)]:
        assessment_submit(
            actor=world.clinician,
            patient=patient,
            scale="madrs",
            administered_on=start + timedelta(days=offset),
            items=items_with_total("madrs", total),
            client_id=uuid.uuid4(),
            timing=timing,
            administered_time=time(10, 0) if timing == "post_dose" else None,
        )

    def stored() -> dict[str, Any]:
        snapshot = OutcomeSnapshot.objects.get(patient=patient, scale="madrs")
        return {"data": snapshot.data, "fingerprint": snapshot.fingerprint, "signal": snapshot.signal}

    recompute_all(chunk_size=5)
    nightly = stored()
    assert nightly["data"]["baseline"] == {"date": (start - timedelta(days=3)).isoformat(), "total": 30}
    assert nightly["data"]["latest"]["total"] == 14
    assert nightly["data"]["latest"]["improvement"] == (30 - 14) / 30
    OutcomeSnapshot.objects.all().delete()
    recompute_patient_outcomes(patient)
    assert stored() == nightly


def test_a_second_night_rewrites_only_the_snapshots_whose_entries_changed() -> None:
    world = population(n=10, seed=4)
    first = recompute_all(chunk_size=4)
    assert first["written"] == first["snapshots"] == 20
    before = {(s.patient_id, s.course_id, s.scale): (s.pk, s.computed_at) for s in OutcomeSnapshot.objects.all()}

    unchanged = recompute_all(chunk_size=3)
    assert (unchanged["snapshots"], unchanged["written"]) == (20, 0)
    after = {(s.patient_id, s.course_id, s.scale): (s.pk, s.computed_at) for s in OutcomeSnapshot.objects.all()}
    assert after == before  # not deleted and written again: same ids, same time of writing

    with_entry = Patient.objects.filter(courses__isnull=False).first()
    without_course = Patient.objects.filter(courses__isnull=True, assessments__isnull=False).first()
    assert with_entry is not None and without_course is not None
    with recompute_deferred():  # left for the nightly run
        assessment_submit(
            actor=world.clinician,
            patient=with_entry,
            scale="bdi2",
            administered_on=TODAY,
            items=items_with_total("bdi2", 3),
            client_id=uuid.uuid4(),
        )
        course_create(
            actor=world.clinician,
            patient=without_course,
            modality="esketamine",
            with_therapy=False,
            start_date=TODAY - timedelta(days=30),
        )
    changed = recompute_all(chunk_size=4)
    current = {(s.patient_id, s.course_id, s.scale): (s.pk, s.computed_at) for s in OutcomeSnapshot.objects.all()}
    rewritten = {key for key, value in current.items() if before.get(key) != value}
    assert {(p, scale) for p, _, scale in rewritten} == {
        (with_entry.pk, "bdi2"),
        (without_course.pk, "bdi2"),
        (without_course.pk, "madrs"),
    }
    assert changed["written"] == 3
    # The snapshots without a course of the patient who now has one are gone, as on the per-patient path.
    assert not OutcomeSnapshot.objects.filter(patient=without_course, course__isnull=True).exists()
    nightly = stored_snapshots()
    OutcomeSnapshot.objects.all().delete()
    for patient in Patient.objects.all():
        recompute_patient_outcomes(patient)
    assert stored_snapshots() == nightly
