"""The projection block of the outcome (API.md): a course's latest improvement against the
expected curve of its reference set."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import scoring
from projections.math.reference_sets import Curve, ReferenceSet, load_reference_sets
from projections.math.signals import compare_to_reference, day_of_treatment
from projections.models import FittedReferenceSet
from tracker.records.models import DEFAULT_REFERENCE_SET, Clinic, TreatmentCourse


@lru_cache(maxsize=128)
def fitted_reference_set(key: str, clinic_id: Any) -> ReferenceSet | None:
    """A clinic's own fitted set. Keys are never reused (each fit gets a new one), so caching is safe."""
    fitted = FittedReferenceSet.objects.filter(key=key, clinic_id=clinic_id).first()
    return ReferenceSet.from_dict(fitted.data) if fitted is not None else None


def reference_set_for(course: TreatmentCourse | None, clinic: Clinic) -> ReferenceSet:
    """The course's own choice, else the clinic's default, else the trial-based set."""
    key = (course.reference_set if course else "") or clinic.reference_set or DEFAULT_REFERENCE_SET
    published = load_reference_sets()
    if key in published:
        return published[key]
    return fitted_reference_set(key, clinic.pk) or published[DEFAULT_REFERENCE_SET]


def expected_curve(
    reference: ReferenceSet,
    course: TreatmentCourse,
    scale: str,
    rules: scoring.Rules,
    *,
    severity: str | None,
    baseline: float | None,
) -> Curve:
    """The curve a course is compared with, under the clinic's remission rules (the per-patient
    and the nightly paths both take it from here, so they compare alike). ``baseline``: the
    baseline total when above the remission level, else None."""
    return reference.curve(
        course.modality,
        scale,
        with_therapy=course.with_therapy,
        severity=severity,
        remission_max=rules.remission_max,
        sustain_weeks=rules.sustain_days / 7,
        baseline=baseline,
    )


def projection_block(
    course: TreatmentCourse | None, clinic: Clinic, scale: str, classification: scoring.Classification
) -> dict[str, Any] | None:
    """None without a course (no treatment, no expected curve)."""
    if course is None:
        return None
    reference = reference_set_for(course, clinic)
    baseline = classification.baseline
    severity = scoring.get_scale(scale).severity(baseline.total) if baseline is not None else None
    rules = classification.rules
    curve = expected_curve(
        reference, course, scale, rules, severity=severity,
        baseline=baseline.total if baseline is not None and baseline.total > rules.remission_max else None,
    )  # fmt: skip
    latest = classification.latest
    # The comparison is made at the exact day; the block reports the whole week.
    day = day_of_treatment(course.start_date, latest.date) if latest is not None else None
    points = comparable_points(classification, course.start_date)
    improvement = points[-1][1] if points else None
    previous = points[-2] if len(points) >= 2 else None
    return compare_to_reference(curve, day=day, improvement=improvement, previous=previous).as_dict()


def comparable_points(classification: scoring.Classification, course_start: Any) -> list[tuple[int, float]]:
    """``(day of the course, improvement)`` of the assessments that can be compared with the curve
    (CLINICAL §4): after the baseline, on the same scale, ``pre_dose`` or of unknown timing (a
    ``post_dose`` score carries the dose's acute effect; scoring gives it no improvement), with an
    improvement (none when the baseline is 0), in scoring's order."""
    baseline = classification.baseline
    if baseline is None:
        return []
    rows = classification.rows
    start = next((i for i, row in enumerate(rows) if row.key == baseline.key), None)
    if start is None:
        return []
    return [
        (day_of_treatment(course_start, row.date), float(row.improvement))
        for row in rows[start + 1 :]
        if row.timing != scoring.POST_DOSE and row.improvement is not None
    ]
