"""``python manage.py benchmark exports``: the streamed response CSV against a plain SELECT.

In one run, in a fresh PostgreSQL database of its own (``bench_exp_<pid>``, dropped at the end, also on
failure), isolated as ``benchmark projections`` is (its population and COPY fill are reused):

1. fill (untimed): a synthetic population with one course per patient and two scales per course,
   all in one clinic, about ``rows / 2`` patients so the export has about ``rows`` rows; then the
   nightly job stores every snapshot, as a clinic's database holds them on an ordinary day;
2. (a) a plain ``SELECT`` of the same rows (each course with its patient, its snapshots' columns and
   outcome JSON, its session count) in the export's order, written with ``csv.writer``;
3. (b) the export end to end: ``GET /api/v1/reports/response.csv`` as the clinic's admin, through
   Django's middleware, authentication, the view and its ``StreamingHttpResponse``, every streamed
   piece taken in turn (Django's test client, in this process: no network between the two), with
   ``EXPORT_SYNC_MAX_ROWS`` above the row count so that the view streams rather than hands the
   export to a worker (which runs the same stream into a file);
4. (a) and (b) alternate for ``rounds`` rounds; each side's best time is compared.

Memory: ``peak_memory`` is the growth of this process's resident-set high-water mark (``VmHWM``,
reset through ``/proc/self/clear_refs`` before each run of (b)) over its resident set before it, the
largest over the rounds: what the export adds to a web worker, everything included (Python objects,
the database driver's buffers, the C heap). Not ``tracemalloc``, which sees Python allocations only
and slows the code down many times over.

The last line is ``ratio=<b / a>``.
"""

from __future__ import annotations

import csv
import datetime as dt
import os
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

import psycopg
from django.test.utils import override_settings

from benchmarks.database import create_database, drop_database, dsn_for
from benchmarks.projections import (
    ROOT,
    _django_database,
    _fill,
    _reset_peak_rss,
    _status_kib,
    _trim_heap,
    synthetic_population,
)

ROWS_PER_PATIENT = 2  # the population's patients have a course with two scales


class _Sink:
    """A file that forgets what is written to it (both sides write their CSV here)."""

    def write(self, text: str) -> int:
        return len(text)


_PLAIN_SQL = """
SELECT c.patient_id, p.external_id, c.id, c.modality, c.with_therapy, c.start_date, s.scale,
       s.state, s.signal, s.latest_total, s.latest_date, s.improvement, s.response, s.data::text,
       (SELECT count(*) FROM tracker_treatmentsession t WHERE t.course_id = c.id)
FROM tracker_treatmentcourse c
JOIN tracker_patient p ON p.id = c.patient_id
LEFT JOIN projections_outcomesnapshot s ON s.course_id = c.id
WHERE p.clinic_id = %s
ORDER BY c.start_date, c.patient_id, c.created_at, c.id, s.scale
"""


def plain_select(clinic_id: Any) -> tuple[int, float]:
    """(a): the export's rows by one SELECT, straight from the cursor into ``csv.writer``."""
    from django.db import connection

    started = time.perf_counter()
    writer = csv.writer(_Sink(), lineterminator="\r\n")
    rows = 0
    with connection.cursor() as cursor:
        cursor.execute(_PLAIN_SQL, [clinic_id])
        while batch := cursor.fetchmany(2000):
            writer.writerows(batch)
            rows += len(batch)
    return rows, time.perf_counter() - started


def streamed_export(client: Any, token: str) -> tuple[int, int, float]:
    """(b): the export through the view; (rows, bytes, seconds)."""
    started = time.perf_counter()
    response = client.get("/api/v1/reports/response.csv", HTTP_AUTHORIZATION=f"Bearer {token}")
    if response.status_code != 200 or not response.streaming:
        raise RuntimeError(f"the export answered {response.status_code}")
    rows = n_bytes = 0
    for piece in response.streaming_content:
        rows += piece.count(b"\r\n")
        n_bytes += len(piece)
    response.close()
    return rows - 1, n_bytes, time.perf_counter() - started


def _one_clinic(dsn: str) -> None:
    """The fill's patients in its first clinic (an export is one clinic's)."""
    with psycopg.connect(dsn) as conn:
        (first,) = conn.execute("SELECT id FROM tracker_clinic ORDER BY name LIMIT 1").fetchone() or (None,)
        # One statement: the course's (patient, clinic) key is checked once both have moved.
        conn.execute(
            "WITH moved AS (UPDATE tracker_patient SET clinic_id = %(c)s WHERE clinic_id <> %(c)s RETURNING id)"
            " UPDATE tracker_treatmentcourse SET clinic_id = %(c)s WHERE patient_id IN (SELECT id FROM moved)",
            {"c": first},
        )
        conn.execute("DELETE FROM tracker_clinic WHERE id <> %s", [first])
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE tracker_patient")
        conn.execute("VACUUM ANALYZE tracker_treatmentcourse")


def run(*, rows: int = 100_000, rounds: int = 2, out: Callable[[str], None] = print) -> dict[str, Any]:
    """Fill, measure (a) and (b), report; the database is dropped at the end, whatever happens."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        raise SystemExit("benchmark exports needs PostgreSQL: set DATABASE_URL=postgres://user@127.0.0.1:5432/db")
    if rows < 10 or rounds < 1:
        raise SystemExit("benchmark exports needs at least 10 rows and 1 round")
    started = time.perf_counter()
    name = f"bench_exp_{os.getpid()}"
    bench_url = create_database(url, name)
    try:
        env = {**os.environ, "DATABASE_URL": bench_url}
        subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env, check=True)
        out(f"database {name} (created for this run, dropped at the end)")
        # 2% of the synthetic patients have no course (and no row in the export).
        patients = max(5, round(rows / ROWS_PER_PATIENT / 0.98))
        fill_started = time.perf_counter()
        filled = _fill(dsn_for(url, name), synthetic_population(patients, today=dt.date.today()))
        _one_clinic(dsn_for(url, name))
        # The streamed path at any size: above EXPORT_SYNC_MAX_ROWS the view would hand the export
        # to a worker (what is measured here is the streaming a worker and the view share).
        with _django_database(name), override_settings(DEBUG=False, EXPORT_SYNC_MAX_ROWS=rows * 10):
            from projections.nightly import recompute_all

            snapshots = recompute_all(chunk_size=5000)["snapshots"]
            out(
                f"fill (untimed): {filled['patients']:,} patients, {filled['courses']:,} courses,"
                f" {filled['assessments']:,} assessments, {snapshots:,} snapshots (the nightly job) in"
                f" {time.perf_counter() - fill_started:.1f} s"
            )
            result = _measure(rounds=rounds, out=out)
        result["seconds_total"] = time.perf_counter() - started
        out(f"whole job: {result['seconds_total']:.1f} s (create and migrate the database, fill, measure, drop)")
        out(f"peak_memory={result['peak_memory_mb']:.0f} MB")
        out(f"ratio={result['ratio']:.2f}")
        return result
    finally:
        drop_database(url, name)


def _measure(*, rounds: int, out: Callable[[str], None]) -> dict[str, Any]:
    from django.test import Client

    from tracker.records.models import Clinic, Role, User
    from tracker.records.services.auth import token_issue

    clinic = Clinic.objects.get()
    admin = User.objects.create(username="bench-admin", role=Role.ADMIN, clinic=clinic)
    token = token_issue(user=admin).raw
    client = Client()
    plain_times: list[float] = []
    export_times: list[float] = []
    growths: list[int] = []
    plain_rows = export_rows = n_bytes = 0
    for k in range(rounds):
        plain_rows, seconds = plain_select(clinic.pk)
        plain_times.append(seconds)
        out(f"round {k + 1} (a) plain SELECT + csv.writer: {plain_rows:,} rows in {seconds:.2f} s")
        _trim_heap()
        before = _status_kib("VmRSS") or 0
        tracked = _reset_peak_rss()
        export_rows, n_bytes, seconds = streamed_export(client, token)
        export_times.append(seconds)
        if tracked:
            growths.append(((_status_kib("VmHWM") or 0) - before) * 1024)
        out(
            f"round {k + 1} (b) GET /api/v1/reports/response.csv (streamed): {export_rows:,} rows,"
            f" {n_bytes / 2**20:.1f} MiB in {seconds:.2f} s"
        )
    if export_rows != plain_rows:
        raise RuntimeError(f"the export has {export_rows} rows, the plain SELECT {plain_rows}")
    a, b = min(plain_times), min(export_times)
    out(f"best of {rounds}: (a) {a:.2f} s, (b) csv {b:.2f} s, {export_rows / b:,.0f} rows/s")
    peak = max(growths) if growths else 0
    if not growths:
        out("memory: not measured (needs Linux /proc/self/status and clear_refs)")
    return {
        "rows": export_rows,
        "bytes": n_bytes,
        "seconds_plain": a,
        "seconds_csv": b,
        "peak_memory_mb": peak / 2**20,
        "ratio": b / a,
    }
