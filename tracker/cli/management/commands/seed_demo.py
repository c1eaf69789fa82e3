"""Fill the database with a demo clinic, its staff and a few dozen patients with realistic
trajectories, through the services (so totals, flags and audit are real). Idempotent."""

from __future__ import annotations

import random
import uuid
from datetime import date, timedelta
from decimal import Decimal
from statistics import NormalDist
from typing import Any

import numpy as np
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction

import scoring
from projections.cohort_results import recompute_cohorts
from projections.compare import DEFAULT_REFERENCE_SET
from projections.math.model import from_latent, time_course
from projections.math.reference_sets import Curve, load_reference_sets
from projections.nightly import recompute_all
from tracker.records.models import Clinic, Patient, Role, Timing, User
from tracker.records.services.assessments import assessment_submit
from tracker.records.services.clinics import clinic_create, staff_create
from tracker.records.services.patients import (
    course_create,
    patient_create,
    patient_enroll,
    patient_local_today,
    session_create,
)
from tracker.records.services.scheduling import recompute_deferred

DEMO_CLINIC = "Demo Ketamine Clinic"
DEMO_PASSWORD = "demo-Password-2026"
ADMIN, CLINICIAN = "demo-admin", "demo-clinician"
DEMO_REFERENCE = load_reference_sets()[DEFAULT_REFERENCE_SET]
PATIENT_LOGINS = ["demo-patient-1", "demo-patient-2", "demo-patient-3"]

MODALITIES = ["iv_ketamine", "iv_ketamine", "iv_ketamine", "esketamine", "esketamine", "im_ketamine"]
FIRST_NAMES = [
    "Alex",
    "Sam",
    "Jordan",
    "Robin",
    "Casey",
    "Morgan",
    "Taylor",
    "Jamie",
    "Riley",
    "Avery",
    "Quinn",
    "Drew",
]
LAST_NAMES = ["Rivera", "Chen", "Okafor", "Müller", "Silva", "Kowalski", "Haddad", "Larsen", "Tanaka"]
#: Label doses. Esketamine: 56 mg at the first session, then 56 or 84 mg (the devices give 28 mg
#: each). IV and IM ketamine: 0.5 mg/kg (Phillips 2019, KetECT), recorded in mg for the patient's weight.
ESKETAMINE_DOSES_MG = (56, 84)
KETAMINE_MG_PER_KG = Decimal("0.5")
#: Sessions of the induction: esketamine twice weekly for four weeks; IV/IM ketamine thrice weekly, six.
SESSION_DAYS = {"esketamine": (0, 3, 7, 10, 14, 17, 21, 24), "iv_ketamine": (0, 2, 4, 7, 9, 11)}
#: Day-to-day wobble of a patient around their own expected course (SD on the model's latent scale,
#: in units of the population's SD): small enough that a patient keeps their rank, as patients do.
WOBBLE = 0.15
#: Share of remitting patients whose symptoms return in the later weeks (so the demo shows relapse).
RELAPSE_SHARE = 0.03


def items_for_total(scale: scoring.Scale, total: int, rng: random.Random, suicide_value: int = 0) -> list[int]:
    """Spread a total over the scale's items within each item's range (the suicide item set apart)."""
    items = [0] * scale.n_items
    s_idx = scale.suicide_item - 1
    items[s_idx] = min(suicide_value, scale.item_max[s_idx], total)
    others_max = scale.total_max - scale.item_max[s_idx]
    remaining = min(total - items[s_idx], others_max)
    order = [i for i in range(scale.n_items) if i != s_idx]
    while remaining > 0:
        i = rng.choice(order)
        if items[i] < scale.item_max[i]:
            items[i] += 1
            remaining -= 1
    return items


class Command(BaseCommand):
    help = "Create the demo clinic with staff and patients (idempotent) and print the demo logins."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--patients", type=int, default=36)
        parser.add_argument("--seed", type=int, default=7)
        parser.add_argument(
            "--address", default="127.0.0.1:8000", help="where the server will listen (printed with the logins)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not Clinic.objects.filter(name=DEMO_CLINIC).exists():
            with recompute_deferred():
                self._create(options["patients"], random.Random(options["seed"]))
            recompute_all(progress=False)
            recompute_cohorts()
        self.stdout.write(self.style.SUCCESS(f"Demo clinic: {DEMO_CLINIC}"))
        self.stdout.write(f"  clinic admin : {ADMIN} / {DEMO_PASSWORD}")
        self.stdout.write(f"  clinician    : {CLINICIAN} / {DEMO_PASSWORD}")
        for username in PATIENT_LOGINS:
            self.stdout.write(f"  patient      : {username} / {DEMO_PASSWORD}")
        base = f"http://{browser_address(options['address'])}"
        self.stdout.write(f"  dashboard    : {base}/   API docs: {base}/api/docs/")

    @transaction.atomic
    def _create(self, n_patients: int, rng: random.Random) -> None:
        _, admin = clinic_create(name=DEMO_CLINIC, admin_username=ADMIN, admin_password=DEMO_PASSWORD)
        clinician = staff_create(actor=admin, username=CLINICIAN, password=DEMO_PASSWORD, role=Role.CLINICIAN)
        names = [f"{first} {last}" for first in FIRST_NAMES for last in LAST_NAMES]
        rng.shuffle(names)
        # Each patient's place in the population: evenly spread quantiles, so that a small demo
        # clinic has the population's shape rather than a lucky or unlucky draw.
        ranks = [NormalDist().inv_cdf((k + 0.5) / n_patients) for k in range(n_patients)]
        rng.shuffle(ranks)
        for i in range(n_patients):
            name = names[i % len(names)] + (f" {i // len(names) + 1}" if i >= len(names) else "")
            new = patient_create(
                actor=clinician,
                name=name,
                date_of_birth=date(1960 + rng.randrange(40), rng.randrange(1, 13), rng.randrange(1, 28)),
                external_id=f"DEMO-{i + 1:04d}",
                timezone_name=rng.choice(["America/New_York", "America/Chicago", "Europe/London", "UTC"]),
            )
            patient = new.patient
            login = PATIENT_LOGINS[i] if i < len(PATIENT_LOGINS) else None
            if login:
                patient_enroll(enrollment_code=new.enrollment_code, username=login, password=DEMO_PASSWORD)
            self._treatment(patient, clinician, login, rng, ranks[i])

    def _treatment(self, patient: Patient, clinician: User, login: str | None, rng: random.Random, rank: float) -> None:
        """A course whose scores follow the published curve of its treatment: each patient keeps a
        rank in the population (a draw of the model's latent improvement) with a small wobble, so a
        clinic of such patients sees the calibrated share of amber and red, about a quarter."""
        # The patient's own date: the services refuse anything after it, and in the hours when
        # UTC has passed midnight and New York has not, the server's date is a day too late.
        today = patient_local_today(patient)
        modality = rng.choice(MODALITIES)
        with_therapy = rng.random() < 0.4
        weeks = rng.randint(1, 11)
        start = today - timedelta(days=7 * weeks + rng.randrange(0, 5))
        course = course_create(
            actor=clinician, patient=patient, modality=modality, with_therapy=with_therapy, start_date=start
        )
        weight_kg = rng.randint(55, 100)
        for k, offset in enumerate(SESSION_DAYS.get(modality, SESSION_DAYS["iv_ketamine"])):
            day = start + timedelta(days=offset)
            if day <= today:
                dose = (
                    Decimal(ESKETAMINE_DOSES_MG[0] if k == 0 else rng.choice(ESKETAMINE_DOSES_MG))
                    if modality == "esketamine"
                    else KETAMINE_MG_PER_KG * weight_kg
                )
                per_kg = None if modality == "esketamine" else KETAMINE_MG_PER_KG
                session_create(actor=clinician, course=course, date=day, dose_mg=dose, dose_mg_per_kg=per_kg)
        patient_user = User.objects.get(username=login) if login else None
        relapses = rng.random() < RELAPSE_SHARE
        for scale_key, base_lo, base_hi in (("bdi2", 29, 50), ("phq9", 15, 25), ("madrs", 28, 42)):
            scale = scoring.SCALES[scale_key]
            baseline = rng.randint(base_lo, base_hi)
            curve = DEMO_REFERENCE.curve(modality, scale_key, with_therapy, baseline=baseline)
            actor = patient_user if (patient_user and scale.rated_by == "patient") else clinician
            step = 7 if scale.rated_by == "patient" else 14
            for day_offset in range(-2, 7 * weeks + 1, step):
                on = min(today, start + timedelta(days=day_offset))
                week = max(0.0, day_offset / 7)
                improvement = expected_improvement(curve, week, rank + rng.gauss(0, WOBBLE))
                if relapses and week >= 6:
                    improvement = min(improvement, 0.3)
                total = max(0, min(scale.total_max, round(baseline * (1 - improvement) + rng.gauss(0, 1))))
                suicide = 1 if (improvement < 0.2 and day_offset > 0 and rng.random() < 0.12) else 0
                assessment_submit(
                    actor=actor,
                    patient=patient,
                    scale=scale_key,
                    administered_on=on,
                    items=items_for_total(scale, total, rng, suicide),
                    client_id=uuid.uuid4(),
                )
            if scale_key == "madrs" and start <= today:
                # The hour after the first dose: the acute effect, recorded as post-dose.
                acute = expected_improvement(curve, 1 / 7, rank)
                assessment_submit(
                    actor=clinician,
                    patient=patient,
                    scale=scale_key,
                    administered_on=start,
                    items=items_for_total(scale, round(baseline * (1 - acute)), rng),
                    client_id=uuid.uuid4(),
                    timing=Timing.POST_DOSE,
                )


def browser_address(address: str) -> str:
    """Where a browser reaches a server started as ``runserver <address>``: a bare port is 127.0.0.1's
    (runserver's default host), and a server on every interface is reached on this machine at 127.0.0.1."""
    host, sep, port = address.rpartition(":")
    if not sep:
        host, port = "", address
    if host in ("", "0", "0.0.0.0"):  # noqa: S104  (read, not bound)
        host = "127.0.0.1"
    elif host in ("::", "[::]"):
        host = "[::1]"
    return f"{host}:{port}"


def expected_improvement(curve: Curve, week: float, rank: float) -> float:
    """The improvement of a patient at ``rank`` (a standard normal draw) on the curve at ``week``."""
    params = curve.params
    latent = time_course(params, week) * (params.mu + rank * params.sigma)
    return float(from_latent(params, np.asarray(latent)))
