"""The nightly recomputation: every active course, in chunks of patients, through scoring's
numpy batch path with bulk reads and writes (a fixed number of queries per chunk, none per patient).

A chunk is one transaction: a worker killed mid-chunk leaves the previous snapshots in place and
the chunk's message unacknowledged (``acks_late``), so another worker redoes it. Running a chunk
twice stores the same snapshots.

"Active course" is each patient's latest course (or, for a patient without one, all their entries).
Earlier courses keep the snapshots written when their entries last changed.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from django.db import transaction
from django.db.models import Q
from tqdm import tqdm

import scoring
from projections.models import OutcomeSnapshot
from projections.notices import notice_if_signal_worsened
from projections.outcomes import EntryRow, fingerprint, outcome_from_classification, scoring_options, snapshot_fields
from tracker.models import Assessment, Patient, TreatmentCourse

COLUMNS = ("patient_id", "scale", "id", "administered_on", "total", "seq", "is_baseline")


def patient_chunks(*, clinic_id: Any = None, chunk_size: int = 2000) -> Iterator[list[str]]:
    """Patient ids in chunks, read in id order page by page (memory bounded by the chunk)."""
    qs = Patient.objects.order_by("id")
    if clinic_id:
        qs = qs.filter(clinic_id=clinic_id)
    last = None
    while True:
        page = qs.filter(id__gt=last) if last is not None else qs
        ids = list(page.values_list("id", flat=True)[:chunk_size])
        if not ids:
            return
        yield [str(pk) for pk in ids]
        last = ids[-1]


@dataclass
class _Trajectory:
    patient: Patient
    course: TreatmentCourse | None
    scale: str
    rows: list[EntryRow]


def _active_courses(patient_ids: Sequence[str]) -> dict[Any, TreatmentCourse]:
    latest: dict[Any, TreatmentCourse] = {}
    for course in TreatmentCourse.objects.filter(patient_id__in=patient_ids).order_by("patient_id", "start_date", "created_at"):
        latest[course.patient_id] = course
    return latest


def _trajectories(patient_ids: Sequence[str], courses: dict[Any, TreatmentCourse]) -> list[_Trajectory]:
    patients = {p.pk: p for p in Patient.objects.filter(pk__in=patient_ids).select_related("clinic")}
    window = dt.timedelta(days=scoring.Options().baseline_window_days)
    rows = (
        Assessment.objects.filter(patient_id__in=patient_ids, is_superseded=False)
        .order_by("patient_id", "scale", "administered_on", "seq")
        .values_list(*COLUMNS)
    )
    result: list[_Trajectory] = []
    current: _Trajectory | None = None
    for patient_id, scale, *entry in rows.iterator(chunk_size=20_000):
        course = courses.get(patient_id)
        if course is not None and entry[1] < course.start_date - window:
            continue
        if current is None or current.patient.pk != patient_id or current.scale != scale:
            current = _Trajectory(patients[patient_id], course, scale, [])
            result.append(current)
        current.rows.append(EntryRow(entry[0], scale, *entry[1:]))
    return result


def _classify(trajectories: list[_Trajectory]) -> list[scoring.Classification]:
    """scoring's batch path, one call per scale and rule set (clinics may override thresholds)."""
    out: list[scoring.Classification | None] = [None] * len(trajectories)
    groups: dict[tuple[str, str], list[int]] = defaultdict(list)
    for i, t in enumerate(trajectories):
        options = scoring_options(t.patient.clinic, t.scale)
        groups[(t.scale, repr(options))].append(i)
    for (scale, _), members in groups.items():
        options = scoring_options(trajectories[members[0]].patient.clinic, scale)
        lengths = np.fromiter((len(trajectories[i].rows) for i in members), dtype=np.int64, count=len(members))
        offsets = np.concatenate([[0], np.cumsum(lengths)])
        n = int(offsets[-1])
        epoch = scoring.batch.EPOCH.toordinal()
        days = np.fromiter((r.administered_on.toordinal() - epoch for i in members for r in trajectories[i].rows), dtype=np.int64, count=n)
        totals = np.fromiter((r.total for i in members for r in trajectories[i].rows), dtype=np.int64, count=n)
        keys = [r.id for i in members for r in trajectories[i].rows]
        starts = np.fromiter(
            (
                trajectories[i].course.start_date.toordinal() - epoch if trajectories[i].course else scoring.batch.NO_DAY  # type: ignore[union-attr]
                for i in members
            ),
            dtype=np.int64,
            count=len(members),
        )
        baseline = np.full(len(members), -1, dtype=np.int64)
        for k, i in enumerate(members):
            for j, r in enumerate(trajectories[i].rows):
                if r.is_baseline:
                    baseline[k] = offsets[k] + j
                    break
        result = scoring.classify_batch(scale, offsets, days, totals, course_start=starts, baseline=baseline, options=options)
        for k, i in enumerate(members):
            out[i] = result.classification(k, keys)
    return out  # type: ignore[return-value]


def recompute_chunk(patient_ids: Sequence[str]) -> dict[str, int]:
    """Recompute and store the active-course snapshots of these patients. Idempotent."""
    courses = _active_courses(patient_ids)
    trajectories = _trajectories(patient_ids, courses)
    classifications = _classify(trajectories)
    snapshots = []
    for t, classification in zip(trajectories, classifications, strict=True):
        data = outcome_from_classification(t.course, t.patient.clinic, t.scale, classification)
        snapshots.append(
            OutcomeSnapshot(
                clinic=t.patient.clinic,
                patient=t.patient,
                course=t.course,
                scale=t.scale,
                data=data,
                fingerprint=fingerprint(t.course, t.patient.clinic, t.scale, t.rows),
                **snapshot_fields(data),
            )
        )
    with transaction.atomic():
        # The active course's snapshots (and any from before the patient had a course) are replaced.
        stale = OutcomeSnapshot.objects.filter(patient_id__in=patient_ids).filter(
            Q(course_id__in=[c.pk for c in courses.values()]) | Q(course__isnull=True)
        )
        previous = {
            (pid, cid, scale): signal
            for pid, cid, scale, signal in stale.values_list("patient_id", "course_id", "scale", "signal")
        }
        stale.delete()
        OutcomeSnapshot.objects.bulk_create(snapshots, batch_size=2000)
        for snap in snapshots:
            notice_if_signal_worsened(snap, previous_signal=previous.get((snap.patient_id, snap.course_id, snap.scale)))
    return {"patients": len(patient_ids), "snapshots": len(snapshots)}


def recompute_all(*, clinic_id: Any = None, chunk_size: int = 2000, progress: bool = False) -> dict[str, int]:
    """The nightly job in this process (the ``recompute_outcomes`` command and ``seed_demo``)."""
    qs = Patient.objects.all()
    if clinic_id:
        qs = qs.filter(clinic_id=clinic_id)
    totals = {"patients": 0, "snapshots": 0}
    with tqdm(total=qs.count(), unit="patient", disable=not progress) as bar:
        for chunk in patient_chunks(clinic_id=clinic_id, chunk_size=chunk_size):
            stats = recompute_chunk(chunk)
            totals["patients"] += stats["patients"]
            totals["snapshots"] += stats["snapshots"]
            bar.update(len(chunk))
    return totals

