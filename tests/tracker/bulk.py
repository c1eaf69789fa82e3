"""A fast fill for tests of large clinics: patients, courses and entries written with ``bulk_create``
(the columns the services write, flags from ``scoring.safety_flags``), then the nightly recompute.

Through the services 2,000 patients take minutes on SQLite (an audit event, a recompute and several
checks per entry); tests that only need a large clinic to read use this. ``test_bulk`` holds its
result equal to the services' for the same patients.
"""

from __future__ import annotations

import time
import uuid
from datetime import date, timedelta

import scoring
from projections.nightly import recompute_all
from tests.tracker.helpers import ClinicWorld, items_with_total
from tracker.records.models import Assessment, Patient, SafetyFlag, TreatmentCourse
from tracker.records.services.assessments import assessment_amend, assessment_submit, flag_acknowledge
from tracker.records.services.patients import course_create, session_create


def bulk_shape(i: int) -> list[tuple[str, int, int, int]]:
    """Patient ``i``'s entries as (scale, day of the course or -1 for today, total, suicide item): two
    BDI-II entries (every third with a review flag) and, for every other patient, a PHQ-9 today (the
    others are overdue). The same shape as ``test_triage``'s service fill."""
    entries = [("bdi2", 0, 30, 0), ("bdi2", 14, 20 + i % 10, 1 if i % 3 == 0 else 0)]
    if i % 2:
        entries.append(("phq9", -1, 8, 0))
    return entries


def bulk_patients(world: ClinicWorld, n: int, offset: int = 0, *, recompute: bool = True) -> list[Patient]:
    """``n`` patients named ``Bulk 0000`` … in ``world``'s clinic (Europe/Berlin), each in an esketamine
    course started 21 days ago, entries as ``bulk_shape``; then the clinic's nightly recompute."""
    start = date.today() - timedelta(days=21)
    clinician = world.clinician
    patients = [
        Patient(
            clinic_id=world.clinic.pk,
            name=f"Bulk {i:04d}",
            timezone="Europe/Berlin",
            first_course_start=start,
            created_by=clinician,
        )
        for i in range(offset, offset + n)
    ]
    Patient.objects.bulk_create(patients, batch_size=500)
    TreatmentCourse.objects.bulk_create(
        [
            TreatmentCourse(
                patient=p, clinic_id=world.clinic.pk, modality="esketamine", start_date=start, created_by=clinician
            )
            for p in patients
        ],
        batch_size=500,
    )
    entries: list[Assessment] = []
    flags: list[SafetyFlag] = []
    seq = time.time_ns()
    for i, patient in zip(range(offset, offset + n), patients, strict=True):
        for scale_key, day, total, suicide in bulk_shape(i):
            scale = scoring.get_scale(scale_key)
            items = items_with_total(scale_key, total, suicide)
            seq += 1
            entry = Assessment(
                id=uuid.uuid4(),
                patient=patient,
                scale=scale_key,
                scale_version=scale.version,
                administered_on=date.today() if day < 0 else start + timedelta(days=day),
                items=items,
                item_count=len(items),
                item_directions={},
                total=total,
                severity=scale.severity(total),
                entered_by=clinician,
                entered_by_role=clinician.role,
                client_id=uuid.uuid4(),
                seq=seq,
            )
            entries.append(entry)
            flags += [
                SafetyFlag(
                    assessment=entry, patient=patient, scale=scale_key, item=f.item, value=f.value, level=f.level
                )
                for f in scoring.safety_flags(scale_key, items)
            ]
    Assessment.objects.bulk_create(entries, batch_size=500)
    SafetyFlag.objects.bulk_create(flags, batch_size=500)
    if recompute:
        recompute_all(clinic_id=world.clinic.pk)
    return patients


def rich_patient(world: ClinicWorld) -> Patient:
    """The patient whose page is read: everything the page lists, through the services."""
    patient = world.patient
    start = date.today() - timedelta(days=28)
    course = course_create(
        actor=world.clinician, patient=patient, modality="iv_ketamine", with_therapy=False, start_date=start
    )
    for day in (0, 3, 7, 10):
        session_create(actor=world.clinician, course=course, date=start + timedelta(days=day), dose_mg=35)
    entries = []
    for day, total, suicide in ((0, 34, 0), (7, 26, 2), (14, 20, 1), (21, 12, 0)):
        for scale in ("bdi2", "madrs"):
            entries.append(
                assessment_submit(
                    actor=world.clinician,
                    patient=patient,
                    scale=scale,
                    administered_on=start + timedelta(days=day),
                    items=items_with_total(scale, total, suicide),
                    client_id=uuid.uuid4(),
                ).assessment
            )
    assessment_amend(
        actor=world.clinician, assessment=entries[-1], items=items_with_total("madrs", 14), reason="miscounted"
    )
    flag = SafetyFlag.objects.filter(patient=patient).order_by("created_at").first()
    assert flag is not None
    flag_acknowledge(actor=world.clinician, flag=flag, note="called", action="contacted_patient")
    return patient
