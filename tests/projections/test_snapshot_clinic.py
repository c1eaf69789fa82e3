"""A snapshot's clinic is its patient's (and its course's) on every path that stores one: the
database does not check the key (``projections.models.OutcomeSnapshot.clinic``), the code does."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.db import connection

from projections.models import OutcomeSnapshot
from projections.nightly import recompute_all
from projections.outcomes import recompute_patient_outcomes
from tests.projections.helpers import population
from tests.tracker.helpers import make_clinic, weekly_entries
from tracker.records.models import Patient
from tracker.records.services.patients import course_create, patient_create
from tracker.records.services.scheduling import recompute_deferred

pytestmark = pytest.mark.django_db
TODAY = date.today()


def _second_clinic(n: int = 4) -> None:
    world = make_clinic(name="Clinic B", prefix="b")
    with recompute_deferred():
        for i in range(n):
            patient = patient_create(actor=world.clinician, name=f"b{i}").patient
            start = TODAY - timedelta(days=30 + 10 * i)
            if i % 2:  # half of them without a course
                course_create(
                    actor=world.clinician, patient=patient, modality="esketamine", with_therapy=False, start_date=start
                )
            for scale in ("bdi2", "madrs"):
                weekly_entries(world.clinician, patient, scale, start, (34, 28, 22))


def _assert_each_snapshot_has_its_patients_clinic() -> None:
    snapshots = list(OutcomeSnapshot.objects.select_related("patient", "course"))
    assert snapshots
    for s in snapshots:
        assert s.clinic_id == s.patient.clinic_id
        if s.course is not None:
            assert s.course.clinic_id == s.clinic_id
    assert len({s.clinic_id for s in snapshots}) == 2


def test_every_path_stores_each_snapshot_with_its_patients_clinic() -> None:
    population(n=8)
    _second_clinic()
    recompute_all(chunk_size=5)  # chunks mixing both clinics (COPY on PostgreSQL)
    _assert_each_snapshot_has_its_patients_clinic()

    OutcomeSnapshot.objects.all().delete()
    for patient in Patient.objects.all():
        recompute_patient_outcomes(patient)
    _assert_each_snapshot_has_its_patients_clinic()


def test_only_the_clinic_key_goes_unchecked_by_the_database() -> None:
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, OutcomeSnapshot._meta.db_table)
    checked = {c["columns"][0] for c in constraints.values() if c["foreign_key"]}
    assert checked == {"patient_id", "course_id"}
    indexed = {tuple(c["columns"]) for c in constraints.values() if c["index"]}
    assert ("clinic_id",) in indexed  # a clinic's snapshots (its cohorts) are still read by index
