"""Outcome snapshots (one per patient course and scale), clinic-fitted reference sets, cohort results."""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q

from tracker.records.models import Clinic, Patient, TreatmentCourse


class OutcomeSnapshot(models.Model):
    """The classification and projection comparison of one course and scale, recomputed from entries."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # Always the clinic of the snapshot's patient (and so of its course): both paths that store a
    # snapshot set it from the patient (``projections.outcomes.store_snapshot``, the nightly job's
    # ``projections.storage``; ``tests/projections/test_snapshot_clinic.py``). The database does
    # not check it (no foreign-key constraint: one check less per snapshot written, and the patient
    # and course keys are still checked); a clinic is never deleted while it has patients
    # (``Patient.clinic`` protects it), and deleting one still deletes its snapshots here.
    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="+", db_constraint=False)
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="snapshots")
    # No index of its own: the unique key (course, scale) leads with it (one index less per write).
    course = models.ForeignKey(
        TreatmentCourse, null=True, on_delete=models.CASCADE, related_name="snapshots", db_index=False
    )
    scale = models.CharField(max_length=10)
    state = models.CharField(max_length=30)
    signal = models.CharField(max_length=30)
    percentile = models.SmallIntegerField(null=True)
    week = models.SmallIntegerField(null=True)
    latest_total = models.SmallIntegerField(null=True)
    latest_date = models.DateField(null=True)
    improvement = models.FloatField(null=True)
    response = models.CharField(max_length=20, null=True)  # noqa: DJ001  (None: undefined, baseline 0)
    data = models.JSONField()
    fingerprint = models.CharField(max_length=64)
    computed_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["course", "scale"], condition=Q(course__isnull=False), name="snapshot_course_scale"
            ),
            models.UniqueConstraint(
                fields=["patient", "scale"], condition=Q(course__isnull=True), name="snapshot_nocourse_scale"
            ),
        ]
        # Indexes only where a query uses them (the nightly job writes every changed snapshot through
        # each): the primary key, the two unique keys, clinic (its cohort and a clinic's deletion) and
        # patient (a patient's snapshots, the nightly chunk's).


class FittedReferenceSet(models.Model):
    """A clinic's own expected curves, fitted from its completed courses (``fit_reference``)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="fitted_reference_sets")
    key = models.CharField(max_length=100, unique=True)
    data = models.JSONField()
    n_courses = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)


class CohortResult(models.Model):
    """Kaplan–Meier time to confirmed remission for one clinic, modality and scale."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="cohort_results")
    modality = models.CharField(max_length=20)
    scale = models.CharField(max_length=10)
    data = models.JSONField()
    computed_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["clinic", "modality", "scale"], name="cohort_clinic_modality_scale")
        ]
