"""Fit a clinic's own expected curves from its completed courses (Finch, Lambert & Schaalje 2001).

A course counts as completed when a later course of the same patient has started, or when its
entries reach at least ``COMPLETED_AFTER_DAYS`` past its start (8 weeks: the end of esketamine
induction, well past a ketamine induction).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from typing import Any

from django.utils import timezone

import scoring
from projections.math.fitting import ClinicCourse, fit_clinic_reference
from projections.math.reference_sets import ReferenceSet
from projections.outcomes import ENTRY_COLUMNS, EntryRow, classify_rows, split_by_course
from tracker.records.models import Assessment, Clinic, TreatmentCourse

COMPLETED_AFTER_DAYS = 56


def completed_courses(clinic: Clinic) -> list[ClinicCourse]:
    courses_by_patient: dict[Any, list[TreatmentCourse]] = defaultdict(list)
    for course in TreatmentCourse.objects.filter(clinic=clinic):
        courses_by_patient[course.patient_id].append(course)
    rows_by_patient: dict[Any, list[EntryRow]] = defaultdict(list)
    entries = (
        Assessment.objects.filter(patient__clinic=clinic, is_superseded=False)
        .order_by("administered_on", "seq")
        .values_list("patient_id", *ENTRY_COLUMNS)
    )
    for patient_id, *values in entries.iterator(chunk_size=10_000):
        rows_by_patient[patient_id].append(EntryRow(*values))
    result: list[ClinicCourse] = []
    for patient_id, courses in courses_by_patient.items():
        ordered = sorted(courses, key=lambda c: (c.start_date, c.created_at))
        for maybe_course, course_rows in split_by_course(
            ordered, rows_by_patient.get(patient_id, []), clinic.baseline_window_days
        ).items():
            if maybe_course is None:
                continue
            course = maybe_course
            followed = ordered.index(course) < len(ordered) - 1
            by_scale: dict[str, list[EntryRow]] = defaultdict(list)
            for row in course_rows:
                by_scale[row.scale].append(row)
            for scale, rows in by_scale.items():
                last = max(r.administered_on for r in rows)
                if not followed and last < course.start_date + timedelta(days=COMPLETED_AFTER_DAYS):
                    continue
                c = classify_rows(course, clinic, scale, rows)
                if c.baseline is None or c.baseline.total == 0:
                    continue
                confirmed = next((e.confirmed for e in c.events if e.type == "remission"), None)
                result.append(
                    ClinicCourse(
                        modality=course.modality,
                        with_therapy=course.with_therapy,
                        scale=scale,
                        baseline_total=c.baseline.total,
                        severity=scoring.get_scale(scale).severity(c.baseline.total),
                        improvements=[
                            ((r.date - course.start_date).days / 7, float(r.improvement))
                            for r in c.rows
                            if r.improvement is not None and r.date >= course.start_date
                        ],
                        remission_confirmed_week=(confirmed - course.start_date).days / 7 if confirmed else None,
                    )
                )
    return result


def fit_clinic(clinic: Clinic, *, min_courses: int = 30) -> tuple[ReferenceSet, int]:
    """The clinic's own reference set fitted from its completed courses (not stored) and how many
    courses it was fitted from; ``NotEnoughData`` below ``min_courses``. Storing and activating it
    is ``projections.services.reference_set_fit``."""
    courses = completed_courses(clinic)
    key = f"clinic:{clinic.pk}:{timezone.now():%Y%m%dT%H%M%S}"
    ref = fit_clinic_reference(courses, key=key, title=f"{clinic.name}: own courses", min_courses=min_courses)
    return ref, len(courses)
