"""The response CSV is streamed: a fixed number of queries whatever the clinic's size, and the same
bytes as the whole-file export it replaced."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import scoring
from projections.models import OutcomeSnapshot
from projections.outcomes import recompute_patient_outcomes
from tests.tracker.helpers import client_for, make_clinic, weekly_entries
from tests.tracker.reports.test_reports_support import worked_example
from tracker.records.models import AuditEvent, Patient, TreatmentSession
from tracker.records.services.patients import course_create, patient_create, session_create
from tracker.reports import csv_export, read_model
from tracker.reports.read_model import outcomes_of_courses

pytestmark = pytest.mark.django_db


def add_patients(world, n: int, *, first: int = 0) -> None:
    """``n`` patients with a course, sessions and entries on two scales (through the services)."""
    for i in range(first, first + n):
        patient = patient_create(actor=world.clinician, name=f"p{i}", external_id=f"X-{i}").patient
        start = date.today() - timedelta(days=60 + i % 7)
        course = course_create(
            actor=world.clinician, patient=patient, modality="iv_ketamine", with_therapy=i % 2 == 0, start_date=start
        )
        if i % 3:
            session_create(actor=world.clinician, course=course, date=start, dose_mg=None, notes="")
        for scale in ("bdi2", "madrs")[: 1 + i % 2]:
            weekly_entries(world.clinician, patient, scale, start, (30 - i % 5, 24, 18 - i % 4, 10))


def whole_file(admin) -> bytes:
    """The export as it was built before streaming: every course in memory at once, then one text."""
    courses = list(csv_export.response_courses(actor=admin, date_from=None, date_to=None))
    outcomes = outcomes_of_courses(courses)
    sessions = {c.pk: TreatmentSession.objects.filter(course=c).count() for c in courses}
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=csv_export.COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    for course in courses:
        common = {
            "patient_id": course.patient_id,
            "external_id": course.patient.external_id,
            "course_id": course.pk,
            "modality": course.modality,
            "with_therapy": "true" if course.with_therapy else "false",
            "course_start": course.start_date.isoformat(),
            "sessions": sessions[course.pk],
        }
        for row in [common | csv_export._scale_columns(s) for s in outcomes.get(course.pk, ())] or [common]:
            writer.writerow({name: csv_export.safe_cell(row.get(name)) for name in csv_export.COLUMNS})
    return buffer.getvalue().encode()


def export_queries(admin) -> tuple[int, bytes]:
    client = client_for(admin)
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/api/v1/reports/response.csv")
        assert response.status_code == 200
        assert response.streaming
        body = b"".join(response.streaming_content)
    return len(queries), body


def test_query_count_does_not_grow_with_the_clinic():
    world = make_clinic()
    add_patients(world, 5)
    small, body = export_queries(world.admin)
    assert body.count(b"\r\n") == 1 + 5 + 5 // 2  # header, a row per course and scale
    add_patients(world, 45, first=5)
    large, body = export_queries(world.admin)
    assert body.count(b"\r\n") == 1 + 50 + 50 // 2
    assert large == small


def test_streamed_bytes_equal_the_whole_file_export(monkeypatch):
    world = make_clinic()
    worked_example(world)
    add_patients(world, 12)
    # An empty course: one row with the scale empty.
    course_create(
        actor=world.clinician,
        patient=world.other_patient,
        modality="esketamine",
        with_therapy=True,
        start_date=date.today() - timedelta(days=3),
    )
    for patient in Patient.objects.select_related("clinic"):  # as the workers store them (a broker has none here)
        recompute_patient_outcomes(patient)
    expected = whole_file(world.admin)
    with CaptureQueriesContext(connection) as queries:
        assert client_for(world.admin).get("/api/v1/reports/response.csv").content == expected
    if connection.vendor == "postgresql":  # fresh snapshots are checked by the server, entries never loaded
        assert not [q for q in queries.captured_queries if 'FROM "tracker_assessment"' in q["sql"]]
    # A snapshot out of date (here: tampered with) is never served: the outcome is computed.
    tampered = OutcomeSnapshot.objects.filter(patient=world.patient).first()
    assert tampered is not None
    OutcomeSnapshot.objects.filter(pk=tampered.pk).update(fingerprint="0" * 64, data={**tampered.data, "state": "x"})
    assert client_for(world.admin).get("/api/v1/reports/response.csv").content == expected
    # In batches smaller than the clinic, with a patient's courses split across batches.
    monkeypatch.setattr(csv_export, "STREAM_CHUNK", 4)
    before = AuditEvent.objects.filter(action="report.csv").count()
    assert client_for(world.admin).get("/api/v1/reports/response.csv").content == expected
    audited = list(AuditEvent.objects.filter(action="report.csv").values_list("patient_id", flat=True))[before:]
    assert len(audited) == len(set(audited)) == 14  # each patient once per export


# ---------------------------------------------------------------- the fast path held equal to the plain one

_dates = st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 1, 1)).map(date.isoformat)
# Any characters a JSON text stored by PostgreSQL holds (no NUL, no lone surrogate): quotes,
# backslashes, formula starts, non-ASCII.
_texts = st.text(st.characters(exclude_characters="\x00", exclude_categories=("Cs",)), max_size=12)
_numbers = st.one_of(st.integers(-(10**6), 10**6), st.floats(-1e12, 1e12), st.floats(-1e-6, 1e-6))


def _maybe(strategy):
    return st.one_of(st.none(), strategy)


_event = st.one_of(
    st.fixed_dictionaries({"type": st.sampled_from(["remission", "relapse"]), "onset": _dates, "confirmed": _dates}),
    st.fixed_dictionaries({"type": st.just("recovery"), "date": _dates}),
)
_outcome = st.fixed_dictionaries(
    {
        "state": _texts,
        "rules": st.fixed_dictionaries(
            {
                "remission_max": st.integers(0, 60),
                "sustain_days": st.integers(0, 60),
                "relapse_min": st.integers(0, 60),
                "response_min_improvement": _numbers,
                "partial_above_improvement": _numbers,
            },
            optional={"sources": st.dictionaries(_texts, _texts, max_size=2)},
        ),
    },
    optional={
        "baseline": _maybe(st.fixed_dictionaries({"date": _maybe(_dates), "total": st.integers(0, 63)})),
        "latest": _maybe(
            st.fixed_dictionaries(
                {"date": _maybe(_dates), "total": st.integers(0, 63)},
                optional={"response": _maybe(_texts), "improvement": _maybe(_numbers)},
            )
        ),
        "first_response_date": _maybe(_dates),
        "projection": _maybe(
            st.fixed_dictionaries(
                {}, optional={"signal": _maybe(_texts), "reference": _maybe(_texts), "week": _numbers}
            )
        ),
        "events": st.lists(_event, max_size=3),
        "warnings": st.lists(_texts, max_size=2),
    },
)


def _leaves_of(data) -> tuple:
    """The fast path's reading of an outcome as the server stores it: (typed, leaves)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT l.* FROM (SELECT %(data)s::jsonb AS data) s, LATERAL ({read_model.leaves_select(LEAVES)}) l",
            {"data": json.dumps(data)} | read_model.leaf_params(LEAVES),
        )
        typed, *texts = cursor.fetchone()
    return typed, read_model.leaf_values(LEAVES, texts)


def _stored(data) -> dict:
    """The outcome as the plain way reads it back (through the server's JSON text)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT %s::jsonb::text", [json.dumps(data)])
        return json.loads(cursor.fetchone()[0])


LEAVES = csv_export.OUTCOME_LEAVES


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(outcome=_outcome, scale=st.sampled_from(list(scoring.SCALES)))
def test_the_outcome_values_read_by_the_server_make_the_same_columns(outcome, scale):
    if connection.vendor != "postgresql":
        pytest.skip("the fast path is PostgreSQL's")
    typed, leaves = _leaves_of(outcome)
    assert typed
    plain = read_model.ScaleOutcome(scale=scale, rows=(), outcome=_stored(outcome), fingerprint="", stale=False)
    assert csv_export._leaf_columns(scale, leaves) == csv_export._scale_columns(plain)


@pytest.mark.parametrize(
    "odd",
    [
        {"state": 5},
        {"latest": {"date": "2026-01-01", "total": "12"}},
        {"events": "none"},
        {"projection": {"signal": []}},
    ],
)
def test_a_value_of_another_json_type_is_not_read_by_the_fast_path(odd):
    if connection.vendor != "postgresql":
        pytest.skip("the fast path is PostgreSQL's")
    outcome = {"state": "not_remitted", "rules": {"remission_max": 13}} | odd
    assert _leaves_of(outcome)[0] is False


@given(values=st.lists(st.one_of(st.none(), _texts, st.integers(), st.floats(allow_nan=False)), max_size=30))
def test_safe_cells_is_safe_cell_of_each(values):
    assert csv_export.safe_cells(values) == [csv_export.safe_cell(v) for v in values]


def test_a_snapshot_of_an_unexpected_shape_is_exported_the_plain_way():
    """A stored outcome the fast path does not read (a value of another JSON type) is answered the
    plain way, with the same bytes as the whole-file export."""
    world = make_clinic()
    add_patients(world, 4)
    for patient in Patient.objects.select_related("clinic"):
        recompute_patient_outcomes(patient)
    odd = OutcomeSnapshot.objects.filter(patient__external_id="X-1").first()
    assert odd is not None
    OutcomeSnapshot.objects.filter(pk=odd.pk).update(data={**odd.data, "state": 7})
    expected = whole_file(world.admin)
    assert b",7," in expected
    assert client_for(world.admin).get("/api/v1/reports/response.csv").content == expected


def test_the_courses_and_snapshots_are_probed_by_key_without_statistics():
    """No scan of a whole table per batch (quadratic in the clinic), and no JIT compilation, even
    when the planner knows nothing of the tables' sizes (as after a first nightly run)."""
    if connection.vendor != "postgresql":
        pytest.skip("the fast path is PostgreSQL's")
    world = make_clinic()
    add_patients(world, 3)
    courses = list(csv_export.response_courses(actor=world.admin, date_from=None, date_to=None))
    clinic = world.clinic
    params = {
        "courses": [c.pk for c in courses],
        "heads": [b"" for _ in courses],
        "scales": list(scoring.SCALES),
        "n_scales": len(scoring.SCALES),
        "windows": [clinic.baseline_window_days(k) for k in scoring.SCALES],
        "clinic_heads": [b"" for _ in scoring.SCALES],
        "timings": read_model._TIMINGS,
    } | read_model.leaf_params(LEAVES)
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (FORMAT TEXT) " + read_model._fresh_sql(LEAVES), params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "Seq Scan on tracker_treatmentcourse" not in plan
    assert "Seq Scan on projections_outcomesnapshot" not in plan
    assert "JIT" not in plan
