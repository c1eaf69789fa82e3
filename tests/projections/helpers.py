"""Populations for the nightly tests: patients with courses and random entries, built through the services."""

from __future__ import annotations

import random
import uuid
from datetime import date, time, timedelta
from typing import Any

from projections.models import OutcomeSnapshot
from tests.tracker.helpers import items_with_total, make_clinic
from tracker.records.services.assessments import assessment_amend, assessment_mark_baseline, assessment_submit
from tracker.records.services.patients import course_create, patient_create
from tracker.records.services.scheduling import recompute_deferred

TODAY = date.today()


def population(n: int = 25, seed: int = 3) -> Any:
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


def stored_snapshots() -> dict[tuple[Any, Any, str], tuple[dict[str, Any], str, str]]:
    return {
        (s.patient_id, s.course_id, s.scale): (s.data, s.fingerprint, s.signal) for s in OutcomeSnapshot.objects.all()
    }
