"""Fill the database with a demo clinic, its staff and a few dozen patients with realistic
trajectories, through the services (so totals, flags and audit are real). Idempotent."""

from __future__ import annotations

import random
import uuid
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction
from django.utils import timezone

import scoring
from projections.cohort_results import recompute_cohorts
from projections.nightly import recompute_all
from tracker.records.models import Clinic, Patient, Role, User
from tracker.records.services.assessments import assessment_submit
from tracker.records.services.clinics import clinic_create, staff_create
from tracker.records.services.patients import course_create, patient_create, patient_enroll, session_create
from tracker.records.services.scheduling import recompute_deferred

DEMO_CLINIC = "Demo Ketamine Clinic"
DEMO_PASSWORD = "demo-Password-2026"
ADMIN, CLINICIAN = "demo-admin", "demo-clinician"
PATIENT_LOGINS = ["demo-patient-1", "demo-patient-2", "demo-patient-3"]

# Trajectory archetypes: fraction of the baseline left at each week (before noise).
ARCHETYPES: dict[str, list[float]] = {
    "fast_remitter": [1.0, 0.8, 0.55, 0.35, 0.25, 0.2, 0.18, 0.15, 0.15, 0.12, 0.12, 0.1],
    "slow_responder": [1.0, 0.95, 0.9, 0.8, 0.7, 0.62, 0.55, 0.5, 0.45, 0.42, 0.4, 0.38],
    "partial": [1.0, 0.92, 0.85, 0.8, 0.75, 0.7, 0.7, 0.68, 0.66, 0.65, 0.65, 0.64],
    "non_responder": [1.0, 1.0, 0.98, 0.97, 0.99, 0.96, 0.98, 0.97, 0.95, 0.97, 0.96, 0.98],
    "relapser": [1.0, 0.7, 0.4, 0.25, 0.2, 0.2, 0.22, 0.5, 0.75, 0.85, 0.85, 0.8],
}
MODALITIES = ["iv_ketamine", "iv_ketamine", "esketamine", "im_ketamine", "oral_ketamine"]
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
        self.stdout.write("  dashboard    : http://127.0.0.1:8000/   API docs: http://127.0.0.1:8000/api/docs/")

    @transaction.atomic
    def _create(self, n_patients: int, rng: random.Random) -> None:
        _, admin = clinic_create(name=DEMO_CLINIC, admin_username=ADMIN, admin_password=DEMO_PASSWORD)
        clinician = staff_create(actor=admin, username=CLINICIAN, password=DEMO_PASSWORD, role=Role.CLINICIAN)
        today = timezone.now().date()
        for i in range(n_patients):
            name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
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
            self._treatment(patient, clinician, login, rng, today)

    def _treatment(self, patient: Patient, clinician: User, login: str | None, rng: random.Random, today: date) -> None:
        modality = rng.choice(MODALITIES)
        weeks = rng.randint(2, 11)
        start = today - timedelta(days=7 * weeks + rng.randrange(0, 5))
        course = course_create(
            actor=clinician, patient=patient, modality=modality, with_therapy=rng.random() < 0.4, start_date=start
        )
        for k in range(6 if modality.endswith("ketamine") else 8):
            day = start + timedelta(days=2 * k + (k // 3))
            if day <= today:
                session_create(
                    actor=clinician, course=course, date=day, dose_mg=Decimal(rng.choice([35, 40, 50, 56, 84]))
                )
        curve = ARCHETYPES[rng.choice(list(ARCHETYPES))]
        patient_user = User.objects.get(username=login) if login else None
        for scale_key, base_lo, base_hi in (("bdi2", 29, 50), ("phq9", 15, 25), ("madrs", 28, 42)):
            scale = scoring.SCALES[scale_key]
            baseline = rng.randint(base_lo, base_hi)
            step = 14 if scale_key == "madrs" else 7
            for w, day_offset in enumerate(range(-2, 7 * weeks + 1, step)):
                frac = curve[min(w * step // 7, len(curve) - 1)]
                total = max(0, min(scale.total_max, round(baseline * frac + rng.gauss(0, 1.5))))
                suicide = 1 if (frac > 0.9 and rng.random() < 0.15) else 0
                actor = patient_user if (patient_user and scale.rated_by == "patient") else clinician
                assessment_submit(
                    actor=actor,
                    patient=patient,
                    scale=scale_key,
                    administered_on=min(today, start + timedelta(days=day_offset)),
                    items=items_for_total(scale, total, rng, suicide),
                    client_id=uuid.uuid4(),
                )
