"""One patient's outcomes: classify each course and scale with ``scoring`` and compare with the
expected curve. The per-patient task and the nightly batch job store what this module computes, and
a read whose snapshot is out of date computes the same in memory (``tracker.reports.read_model``),
so an outcome is the same whichever path produced it.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, time
from functools import lru_cache
from typing import Any, Protocol

import numpy as np
from django.db import transaction

import scoring
from projections.compare import projection_block
from projections.models import OutcomeSnapshot
from projections.notices import notice_if_signal_worsened
from scoring.outcomes import TimingName
from tracker.records.courses import in_course_window
from tracker.records.models import Assessment, Clinic, Patient, TreatmentCourse

# Bump when the meaning of a stored snapshot changes, so every snapshot is recomputed.
SNAPSHOT_VERSION = "3"


@dataclass(frozen=True)
class EntryRow:
    """The columns of an assessment the outcome rules need (cheap to read in bulk)."""

    id: Any
    scale: str
    administered_on: date
    total: int
    seq: int
    is_baseline: bool
    timing: TimingName | None = None  # None: unknown, read as pre-dose
    administered_time: time | None = None


ENTRY_COLUMNS = ("id", "scale", "administered_on", "total", "seq", "is_baseline", "timing", "administered_time")


def split_by_course(
    courses: Sequence[TreatmentCourse], rows: Iterable[EntryRow], window_days: int | Callable[[str], int]
) -> dict[TreatmentCourse | None, list[EntryRow]]:
    """Assign each entry to the course window it falls in (``tracker.records.courses``); without
    courses, to ``None``. ``window_days``: the baseline window, or per scale (the clinic's
    ``baseline_window_days``)."""
    ordered = sorted(courses, key=lambda c: (c.start_date, c.created_at))
    result: dict[TreatmentCourse | None, list[EntryRow]] = defaultdict(list)
    if not ordered:
        result[None] = list(rows)
        return result
    window_of = window_days if callable(window_days) else (lambda _scale: window_days)
    windows: dict[str, int] = {}
    for row in rows:
        if row.scale not in windows:
            windows[row.scale] = window_of(row.scale)
        for i, course in enumerate(ordered):
            if in_course_window(ordered, i, row.administered_on, windows[row.scale]):
                result[course].append(row)
    return result


# The fingerprint of a snapshot: SHA-256 of a head (the version, the course's fields, the clinic's
# reference set and scoring options for the scale, each as JSON on its own line) followed by the
# entries as fixed-width records, in order. Any change of an entry's id, date, total, entry order,
# baseline mark, timing (a code of ``scoring.TIMINGS``) or time of day (seconds after midnight, -1
# without), of the course, or of the clinic's settings changes it. The nightly job hashes the same
# bytes straight from its arrays (``projections.storage.read_chunk``).
ENTRY_RECORD = np.dtype(
    [
        ("id", "V16"),
        ("day", ">i4"),
        ("total", ">i2"),
        ("seq", ">i8"),
        ("baseline", "u1"),
        ("timing", "u1"),
        ("time", ">i4"),
    ]
)
TIMING_CODE = {name: code for code, name in enumerate(scoring.TIMINGS)}


def seconds_of_day(value: time | None) -> int:
    """A time of day as seconds after midnight; -1 for none."""
    return -1 if value is None else value.hour * 3600 + value.minute * 60 + value.second


class CourseFields(Protocol):
    @property
    def pk(self) -> Any: ...
    @property
    def start_date(self) -> date: ...
    @property
    def modality(self) -> str: ...
    @property
    def with_therapy(self) -> bool: ...
    @property
    def reference_set(self) -> str: ...


@lru_cache(maxsize=1024)
def _json_string(value: str) -> str:
    return json.dumps(value)


def course_fingerprint_key(course: CourseFields | None) -> str:
    if course is None:
        return "null"
    return (
        f"{course.pk}|{course.start_date.isoformat()}|{int(course.with_therapy)}|"
        f"{_json_string(course.modality)}|{_json_string(course.reference_set)}"
    )


def clinic_fingerprint_key(clinic: Clinic, scale: str) -> str:
    options = (clinic.scoring_options or {}).get(scale, {})
    return json.dumps([clinic.reference_set, options, scale], sort_keys=True, default=str)


def fingerprint_head(course_key: str, clinic_key: str) -> bytes:
    return f"{SNAPSHOT_VERSION}\n{course_key}\n{clinic_key}\n".encode()


def fingerprint_head_parts(course_key: str, clinic_key: str) -> tuple[bytes, bytes]:
    """``fingerprint_head`` in two pieces whose concatenation it is: the course's (with the version)
    and the clinic's, for a caller that joins them elsewhere (the CSV export's SQL)."""
    return f"{SNAPSHOT_VERSION}\n{course_key}\n".encode(), f"{clinic_key}\n".encode()


def _id_bytes(value: Any) -> bytes:
    return value.bytes if isinstance(value, uuid.UUID) else uuid.UUID(str(value)).bytes


def fingerprint(course: TreatmentCourse | None, clinic: Clinic, scale: str, rows: Sequence[EntryRow]) -> str:
    records = np.array(
        [
            (
                _id_bytes(r.id),
                r.administered_on.toordinal(),
                r.total,
                r.seq,
                r.is_baseline,
                TIMING_CODE[r.timing],
                seconds_of_day(r.administered_time),
            )
            for r in rows
        ],
        dtype=ENTRY_RECORD,
    )
    head = fingerprint_head(course_fingerprint_key(course), clinic_fingerprint_key(clinic, scale))
    return hashlib.sha256(head + records.tobytes()).hexdigest()


def classify_rows(
    course: TreatmentCourse | None, clinic: Clinic, scale: str, rows: Sequence[EntryRow]
) -> scoring.Classification:
    """Scoring's classification of one course and scale. The entries go in date and entry order;
    scoring puts same-day entries in its own order (pre_dose before post_dose, untimed before
    timed, time of day), ties kept in entry order."""
    baseline = next((r.id for r in rows if r.is_baseline), None)
    return scoring.classify_trajectory(
        scale,
        [
            scoring.Entry(date=r.administered_on, total=r.total, key=r.id, timing=r.timing, time=r.administered_time)
            for r in sorted(rows, key=lambda r: (r.administered_on, r.seq))
        ],
        course_start=course.start_date if course else None,
        baseline_key=baseline,
        options=clinic.options_for(scale),
    )


def outcome_from_classification(
    course: TreatmentCourse | None, clinic: Clinic, scale: str, classification: scoring.Classification
) -> dict[str, Any]:
    """The stored outcome: scoring's classification, the projection block and the course id."""
    data = classification.as_dict()
    data["projection"] = projection_block(course, clinic, scale, classification)
    data["course_id"] = str(course.pk) if course else None
    return data


def outcome_data(
    course: TreatmentCourse | None, clinic: Clinic, scale: str, rows: Sequence[EntryRow]
) -> dict[str, Any]:
    return outcome_from_classification(course, clinic, scale, classify_rows(course, clinic, scale, rows))


def snapshot_fields(data: dict[str, Any]) -> dict[str, Any]:
    latest = data.get("latest") or {}
    projection = data.get("projection") or {}
    return {
        "state": data["state"],
        "signal": projection.get("signal", "insufficient_data"),
        "percentile": projection.get("percentile"),
        "week": projection.get("week"),
        "latest_total": latest.get("total"),
        "latest_date": latest.get("date"),
        "improvement": latest.get("improvement"),
        "response": latest.get("response"),
    }


def patient_rows(patient: Patient) -> list[EntryRow]:
    return [
        EntryRow(*values)
        for values in Assessment.objects.filter(patient=patient, is_superseded=False)
        .order_by("administered_on", "seq")
        .values_list(*ENTRY_COLUMNS)
    ]


def recompute_patient_outcomes(patient: Patient) -> list[OutcomeSnapshot]:
    """Recompute and store every course × scale snapshot of one patient. Idempotent."""
    clinic = patient.clinic
    courses = list(TreatmentCourse.objects.filter(patient=patient))
    rows = patient_rows(patient)
    by_course = split_by_course(courses, rows, clinic.baseline_window_days)
    stored: list[OutcomeSnapshot] = []
    with transaction.atomic():
        for course, course_rows in by_course.items():
            by_scale: dict[str, list[EntryRow]] = defaultdict(list)
            for row in course_rows:
                by_scale[row.scale].append(row)
            for scale, scale_rows in by_scale.items():
                stored.append(store_snapshot(patient, clinic, course, scale, scale_rows))
        # Snapshots of scales or courses that no longer have entries (e.g. after an amendment) are dropped.
        keep = [s.pk for s in stored]
        OutcomeSnapshot.objects.filter(patient=patient).exclude(pk__in=keep).delete()
    return stored


def store_snapshot(
    patient: Patient, clinic: Clinic, course: TreatmentCourse | None, scale: str, rows: Sequence[EntryRow]
) -> OutcomeSnapshot:
    fp = fingerprint(course, clinic, scale, rows)
    lookup: dict[str, Any] = {"patient": patient, "scale": scale, "course": course}
    existing = OutcomeSnapshot.objects.filter(**lookup).first()
    if existing is not None and existing.fingerprint == fp:
        return existing
    data = outcome_data(course, clinic, scale, rows)
    fields = snapshot_fields(data) | {"data": data, "fingerprint": fp, "clinic": clinic}
    if existing is None:
        snapshot = OutcomeSnapshot.objects.create(**lookup, **fields)
        notice_if_signal_worsened(snapshot, previous_signal=None)
        return snapshot
    previous = existing.signal
    for name, value in fields.items():
        setattr(existing, name, value)
    existing.save()
    notice_if_signal_worsened(existing, previous_signal=previous)
    return existing
