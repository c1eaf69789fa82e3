"""The nightly batch recomputation stores exactly what the per-patient path stores, and can run twice."""

from __future__ import annotations

import random
import uuid
from datetime import date, time, timedelta
from typing import Any

import pytest
from django.core.management import call_command

from projections.models import OutcomeSnapshot
from projections.nightly import recompute_all
from projections.outcomes import recompute_patient_outcomes
from tests.tracker.helpers import items_with_total, make_clinic
from tracker.records.models import Notice, Patient
from tracker.records.services.assessments import assessment_amend, assessment_mark_baseline, assessment_submit
from tracker.records.services.patients import course_create, patient_create
from tracker.records.services.scheduling import recompute_deferred

pytestmark = pytest.mark.django_db
TODAY = date.today()


def _population(n: int = 25, seed: int = 3) -> Any:
    """Random courses with CLINICAL v2's inputs: entries of unknown, pre_dose and post_dose timing,
    with and without a time of day, several on one day, clinician-marked baselines, and a clinic's
    baseline window above the default (MADRS: 45 days)."""
    rng = random.Random(seed)
    world = make_clinic()
    world.clinic.scoring_options = {"madrs": {"remission_max": 12, "baseline_window_days": 45}}
    world.clinic.save()
    with recompute_deferred():
        for i in range(n):
            patient = patient_create(actor=world.clinician, name=f"p{i}").patient
            start = TODAY - timedelta(days=rng.randint(20, 200))
            if i % 5:  # every fifth patient has no course
                course_create(
                    actor=world.clinician,
                    patient=patient,
                    modality=rng.choice(["iv_ketamine", "esketamine", "other"]),
                    with_therapy=bool(i % 2),
                    start_date=start,
                )
            for scale in ("bdi2", "madrs"):
                total = rng.randint(20, 45)
                day = start - timedelta(days=rng.randint(0, 44 if scale == "madrs" else 30))
                entries = []
                while day <= TODAY:
                    timing = rng.choice([None, None, "pre_dose", "pre_dose", "post_dose"])
                    entries.append(
                        assessment_submit(
                            actor=world.clinician,
                            patient=patient,
                            scale=scale,
                            administered_on=day,
                            items=items_with_total(scale, total),
                            client_id=uuid.uuid4(),
                            timing=timing,
                            administered_time=rng.choice([None, time(rng.randint(7, 19), rng.choice([0, 30]))]),
                        ).assessment
                    )
                    total = max(0, min(48, total + rng.randint(-8, 5)))
                    day += timedelta(days=rng.choice([0, 0, 3, 7, 7, 14, 16]))
                marks = [e for e in entries if e.timing != "post_dose"]
                if marks and i % 3 == 0:
                    assessment_mark_baseline(actor=world.clinician, assessment=rng.choice(marks))
                if entries and i % 7 == 0:
                    assessment_amend(
                        actor=world.clinician, assessment=entries[-1], items=items_with_total(scale, 2), reason="typo"
                    )
    return world


def _stored() -> dict[tuple[Any, Any, str], tuple[dict[str, Any], str, str]]:
    return {
        (s.patient_id, s.course_id, s.scale): (s.data, s.fingerprint, s.signal) for s in OutcomeSnapshot.objects.all()
    }


def test_nightly_equals_per_patient_and_is_idempotent() -> None:
    _population()
    stats = recompute_all(chunk_size=7)
    assert stats["patients"] == 27  # 25 + the 2 enrolled patients of make_clinic
    nightly = _stored()
    assert len(nightly) == 50
    notices = Notice.objects.count()

    recompute_all(chunk_size=4)
    assert _stored() == nightly
    assert Notice.objects.count() == notices  # an unchanged signal raises no new notice

    OutcomeSnapshot.objects.all().delete()
    for patient in Patient.objects.all():
        recompute_patient_outcomes(patient)
    assert _stored() == nightly


def test_recompute_outcomes_command(capsys: pytest.CaptureFixture[str]) -> None:
    _population(n=6)
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
