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
import json
import operator
import re
from collections.abc import Iterable, Iterator, Mapping
from datetime import date
from itertools import islice
from typing import Any, TypeVar

from django.db import connection
from django.db.models import Count, QuerySet
from django.db.models.expressions import RawSQL

import scoring
from projections.models import OutcomeSnapshot
from tracker.records import selectors
from tracker.records.models import Clinic, TreatmentCourse, TreatmentSession, User
from tracker.records.services.audit import audit_record_many
from tracker.reports.read_model import BULK_CHUNK, CourseRef, Leaf, ScaleOutcome, outcomes_of_course_refs

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

# A row's values in column order, from a dict holding every column (``_BLANK_ROW`` | ...).
_ROW_VALUES = operator.itemgetter(*COLUMNS)
_BLANK_ROW: dict[str, object] = dict.fromkeys(COLUMNS)

_T = TypeVar("_T")

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


def safe_cells(values: Iterable[object]) -> list[str]:
    """``[safe_cell(v) for v in values]`` without a call per cell (a row of the export is 24)."""
    texts = ["" if v is None else str(v) for v in values]
    return [("'" + t) if t.startswith(FORMULA_STARTS) and not PLAIN_NUMBER.fullmatch(t) else t for t in texts]


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


def _columns_of(scale_data: ScaleOutcome) -> dict[str, object]:
    if scale_data.leaves is not None:
        return _leaf_columns(scale_data.scale, scale_data.leaves)
    return _scale_columns(scale_data)


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


# What ``_scale_columns`` reads of an outcome, for the bulk read to hand over in its place
# (``outcomes_of_courses(leaves=...)``); ``_leaf_columns`` makes the same columns of them.
OUTCOME_LEAVES: tuple[Leaf, ...] = (
    (("baseline", "date"), "text"),
    (("baseline", "total"), "number"),
    (("latest", "date"), "text"),
    (("latest", "total"), "number"),
    (("latest", "improvement"), "number"),
    (("latest", "response"), "text"),
    (("state",), "text"),
    (("first_response_date",), "text"),
    (("projection", "signal"), "text"),
    (("projection", "reference"), "text"),
    (("rules", "remission_max"), "number"),
    (("rules", "sustain_days"), "number"),
    (("rules", "relapse_min"), "number"),
    (("rules", "response_min_improvement"), "number"),
    (("rules", "partial_above_improvement"), "number"),
    (("events",), "json"),
)


def _leaf_columns(scale: str, leaves: tuple[Any, ...]) -> dict[str, object]:
    """``_scale_columns`` of an outcome given as its ``OUTCOME_LEAVES``: the outcome's parts the columns
    read, rebuilt (a missing value left out, as in the stored outcome)."""
    outcome: dict[str, Any] = {}
    for (path, kind), value in zip(OUTCOME_LEAVES, leaves, strict=True):
        if value is None:
            continue
        *parents, key = path
        node = outcome
        for parent in parents:
            node = node.setdefault(parent, {})
        node[key] = json.loads(value) if kind == "json" else value
    return _scale_columns(ScaleOutcome(scale=scale, rows=(), outcome=outcome, fingerprint="", stale=False))


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


def _batches(courses: Iterable[_T], size: int) -> Iterator[list[_T]]:
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
    courses = response_courses(actor=actor, date_from=date_from, date_to=date_to).values_list(*_REF_FIELDS)
    clinics = {c.pk: c for c in Clinic.objects.filter(users=actor)}  # the actor's: one
    for batch in _batches(courses.iterator(chunk_size=chunk_size), chunk_size):
        refs = [
            CourseRef(pk, patient_id, clinics[clinic_id], start, modality, therapy, reference_set)
            for pk, patient_id, clinic_id, start, modality, therapy, reference_set, _ in batch
        ]
        new = [r.patient_id for r in refs if r.patient_id.int not in audited]
        fresh = list(dict.fromkeys(new))
        audited.update(pid.int for pid in fresh)
        audit_record_many(actor=actor, action=audit_action, object_type="patient", patient_ids=fresh)
        outcomes = outcomes_of_course_refs(refs, leaves=OUTCOME_LEAVES)
        session_counts = _session_counts([r.pk for r in refs])
        for ref, (*_, external_id) in zip(refs, batch, strict=True):
            common = _BLANK_ROW | {
                "patient_id": ref.patient_id,
                "external_id": external_id,
                "course_id": ref.pk,
                "modality": ref.modality,
                "with_therapy": "true" if ref.with_therapy else "false",
                "course_start": ref.start_date.isoformat(),
                "sessions": session_counts.get(ref.pk, 0),
            }
            scales = outcomes.get(ref.pk, ())
            for row in [common | _columns_of(s) for s in scales] or [common]:
                writer.writerow(safe_cells(_ROW_VALUES(row)))
        yield _take(buffer)


# What a row reads of its course (``values_list``: no model built per course).
_REF_FIELDS = (
    "id",
    "patient_id",
    "patient__clinic_id",
    "start_date",
    "modality",
    "with_therapy",
    "reference_set",
    "patient__external_id",
)


def _take(buffer: io.StringIO) -> str:
    """The buffer's text, leaving it empty."""
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text


def _session_counts(course_ids: list[Any]) -> dict[Any, int]:
    ids: Any = course_ids
    if connection.vendor == "postgresql":  # one array parameter rather than one per course
        ids = RawSQL("SELECT unnest(%s::uuid[])", (ids,))
    return dict(
        TreatmentSession.objects.filter(course_id__in=ids)
        .values("course_id")
        .annotate(n=Count("id"))
        .values_list("course_id", "n")
    )
