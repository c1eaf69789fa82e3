"""The clinic admin's response export: one CSV row per patient course and scale.

Outcomes come from the read model (``tracker.reports.read_model``): the stored snapshots, computed
in memory where stale, exactly what the API and dashboard show; nothing here re-applies an outcome
rule. A course without any assessment still gets one row (scale empty), so missing measurement
is visible rather than silently dropped.

The export is streamed (``response_csv_stream``): the courses are walked by one query, a batch at a
time, so its memory follows the batch size, not the clinic's size.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator, Mapping
from datetime import date
from itertools import islice
from typing import Any

from django.db import connection
from django.db.models import Count, QuerySet
from django.db.models.expressions import RawSQL

import scoring
from projections.models import OutcomeSnapshot
from tracker.records import selectors
from tracker.records.models import Clinic, TreatmentCourse, TreatmentSession, User
from tracker.records.services.audit import audit_record_many
from tracker.reports.read_model import BULK_CHUNK, ScaleOutcome, outcomes_of_courses

COLUMNS = (
    "patient_id",
    "external_id",
    "course_id",
    "modality",
    "with_therapy",
    "course_start",
    "scale",
    "rated_by",
    "baseline_date",
    "baseline_total",
    "latest_date",
    "latest_total",
    "points_change",
    "percent_change",
    "response",
    "state",
    "remission_onset",
    "remission_confirmed",
    "first_response_date",
    "sessions",
    "signal",
    "reference",
    "rules",
    # Beyond the columns above: every event of the course in order, e.g. a relapse after the
    # remission of remission_onset/remission_confirmed (onset/confirmed, or a recovery's date).
    "events",
)

AUDIT_ACTION = "report.csv"
# Courses per batch of the stream: under ``BULK_CHUNK`` patients, so each batch's reads are one query each.
STREAM_CHUNK = BULK_CHUNK

# Spreadsheet formula injection (OWASP "CSV Injection"): a cell starting with one of these is
# prefixed with a quote, unless it is a plain number (a negative change such as -12 stays numeric).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
PLAIN_NUMBER = re.compile(r"-?\d+(\.\d+)?")


def safe_cell(value: object) -> str:
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_STARTS) and not PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text


def _pct(value: float) -> str:
    return f"{value * 100:g}%"


def rules_text(rules: Mapping[str, Any]) -> str:
    """The rules an outcome was classified with, compactly: "remission<=13; relapse>=20; ..."."""
    return (
        f"remission<={rules['remission_max']} sustained {rules['sustain_days']}d; "
        f"relapse>={rules['relapse_min']}; "
        f"response>={_pct(rules['response_min_improvement'])}; "
        f"partial>{_pct(rules['partial_above_improvement'])}"
    )


def events_text(events: list[dict[str, Any]]) -> str:
    """ "remission 2026-02-09/2026-03-02; relapse 2026-04-06/2026-04-13; recovery 2026-07-01"."""
    parts = []
    for event in events:
        when = event["date"] if event["type"] == "recovery" else f"{event['onset']}/{event['confirmed']}"
        parts.append(f"{event['type']} {when}")
    return "; ".join(parts)


def _scale_columns(scale_data: ScaleOutcome) -> dict[str, object]:
    outcome = scale_data.outcome
    baseline = outcome.get("baseline") or {}
    latest = outcome.get("latest") or {}
    projection = outcome.get("projection") or {}
    remissions = [e for e in outcome.get("events", []) if e["type"] == "remission"]
    last_remission = remissions[-1] if remissions else {}
    improvement = latest.get("improvement")
    has_change = bool(baseline) and bool(latest)
    return {
        "scale": scale_data.scale,
        "rated_by": scoring.SCALES[scale_data.scale].rated_by,
        "baseline_date": baseline.get("date"),
        "baseline_total": baseline.get("total"),
        "latest_date": latest.get("date"),
        "latest_total": latest.get("total"),
        "points_change": latest["total"] - baseline["total"] if has_change else None,
        # Signed change of the score, in percent of the baseline: -improvement x 100.
        "percent_change": f"{-improvement * 100:.1f}" if improvement is not None else None,
        "response": latest.get("response"),
        "state": outcome.get("state"),
        "remission_onset": last_remission.get("onset"),
        "remission_confirmed": last_remission.get("confirmed"),
        "first_response_date": outcome.get("first_response_date"),
        "signal": projection.get("signal"),
        "reference": projection.get("reference"),
        "rules": rules_text(outcome["rules"]),
        "events": events_text(outcome.get("events", [])),
    }


def response_courses(*, actor: User, date_from: date | None, date_to: date | None) -> QuerySet[TreatmentCourse]:
    """The courses the export covers: the actor's clinic's whose start date lies in
    ``[date_from, date_to]`` (either bound optional), in the export's order (start date, patient,
    course), with their patient (its clinic is set by ``response_csv_stream``)."""
    courses = (
        selectors.courses_visible(actor=actor)
        .select_related("patient")
        .only(*_COURSE_FIELDS, "patient__external_id", "patient__clinic_id")
    )
    if date_from is not None:
        courses = courses.filter(start_date__gte=date_from)
    if date_to is not None:
        courses = courses.filter(start_date__lte=date_to)
    return courses.order_by("start_date", "patient_id", "created_at", "id")


_COURSE_FIELDS = (
    "id",
    "patient_id",
    "clinic_id",
    "modality",
    "with_therapy",
    "start_date",
    "reference_set",
    "created_at",
)


def response_rows_estimate(*, actor: User, date_from: date | None, date_to: date | None) -> int:
    """About how many rows the export has: its courses' stored snapshots, or one per course
    where there are more courses (two counts, no entry read)."""
    courses = response_courses(actor=actor, date_from=date_from, date_to=date_to).order_by()
    snapshots = OutcomeSnapshot.objects.filter(course__in=courses.values("id")).count()
    return max(courses.count(), snapshots)


def _batches(courses: Iterable[TreatmentCourse], size: int) -> Iterator[list[TreatmentCourse]]:
    it = iter(courses)
    while batch := list(islice(it, size)):
        yield batch


def response_csv_stream(
    *,
    actor: User,
    date_from: date | None,
    date_to: date | None,
    chunk_size: int | None = None,
    audit_action: str = AUDIT_ACTION,
) -> Iterator[str]:
    """The CSV text piece by piece: the header, then the rows of ``chunk_size`` courses at a time.

    One query walks the courses (a server-side cursor on PostgreSQL); each batch of courses costs
    a fixed handful more (their patients' courses, entries and snapshots, their session counts,
    the audit insert), so memory follows ``chunk_size``, not the clinic. Each patient's first
    appearance is audited (``report.csv``, one event per patient) before their rows are handed out.
    Scales in ``scoring.SCALES`` order.
    """
    chunk_size = chunk_size or STREAM_CHUNK
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    yield _take(buffer)
    audited: set[int] = set()  # patient ids (as ints) already audited by this export
    courses = response_courses(actor=actor, date_from=date_from, date_to=date_to)
    clinics = {c.pk: c for c in Clinic.objects.filter(users=actor)}  # the actor's: one
    for batch in _batches(courses.iterator(chunk_size=chunk_size), chunk_size):
        for course in batch:
            course.patient.clinic = clinics[course.patient.clinic_id]
        new = [c.patient_id for c in batch if c.patient_id.int not in audited]
        fresh = list(dict.fromkeys(new))
        audited.update(pid.int for pid in fresh)
        audit_record_many(actor=actor, action=audit_action, object_type="patient", patient_ids=fresh)
        outcomes = outcomes_of_courses(batch, with_rows=False)
        session_counts = _session_counts(batch)
        for course in batch:
            common: dict[str, object] = {
                "patient_id": course.patient_id,
                "external_id": course.patient.external_id,
                "course_id": course.pk,
                "modality": course.modality,
                "with_therapy": "true" if course.with_therapy else "false",
                "course_start": course.start_date.isoformat(),
                "sessions": session_counts.get(course.pk, 0),
            }
            scales = outcomes.get(course.pk, ())
            for row in [common | _scale_columns(s) for s in scales] or [common]:
                writer.writerow([safe_cell(row.get(name)) for name in COLUMNS])
        yield _take(buffer)


def _take(buffer: io.StringIO) -> str:
    """The buffer's text, leaving it empty."""
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text


def _session_counts(courses: list[TreatmentCourse]) -> dict[Any, int]:
    ids: Any = [c.pk for c in courses]
    if connection.vendor == "postgresql":  # one array parameter rather than one per course
        ids = RawSQL("SELECT unnest(%s::uuid[])", (ids,))
    return dict(
        TreatmentSession.objects.filter(course_id__in=ids)
        .values("course_id")
        .annotate(n=Count("id"))
        .values_list("course_id", "n")
    )
