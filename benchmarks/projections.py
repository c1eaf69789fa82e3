"""``python manage.py benchmark projections``: the nightly recomputation against a plain read.

In one run, in a fresh PostgreSQL database of its own (``bench_proj_<pid>``, dropped at the end,
also on failure):

1. fill (untimed): a synthetic population drawn from the reference model, written with COPY;
2. then, with prepared statements on (the settings' default with ``DATABASE_URL``) and then off
   (``DB_PREPARED_STATEMENTS=0``; ``--prepared on|off`` measures one mode only), each mode from no
   snapshot at all:

   (a) a plain ``SELECT`` of every assessment row, the columns the nightly reads, into Python
       tuples through Django's connection cursor, before (b) and again after (c): the nights are
       compared with the mean of the two, so a change of the machine's load weighs on both sides;
   (b) the first night: ``projections.nightly.recompute_all(chunk_size=...)`` in this process (each
       chunk the code a Celery chunk task runs) over an empty snapshot table, writing every snapshot;
   (c) the second night over the snapshots (b) stored, nothing changed in between: the steady
       state, run on the same connections (so a statement prepared in (b) is reused, and
       PostgreSQL's generic plans are in use from a statement's sixth run on).

   For (b) and (c): the server's CPU time, pages touched and WAL written for this database
   (``benchmarks.pgstats``), in total and per chunk;
3. memory: the resident-set high-water mark of the first (b), reset before it, after each chunk
   (so the growth after half the population can be compared with the growth after all of it);
   then, untimed, the peak traced Python memory (``tracemalloc``) of one chunk re-run at the chunk
   size and at half of it (tracing makes Python many times slower, so it is kept out of (b)).

The last lines are ``ratio_first=<b / a>`` and ``ratio_steady=<c / a>``, each the higher of the
modes measured.

The population: every patient has a latent asymptote ``H ~ Normal(mu, sigma)`` of the ``trials``
reference model for their course's modality (with psychotherapy where the course has it), and
each score is ``baseline * (1 - I(week)) + noise``, clipped to the scale (``projections.math.model``).
Rows are stored in date order across the population, as a live table grows, not patient by patient.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import json
import os
import re
import subprocess
import sys
import time
import tracemalloc
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import psycopg
from django.test.utils import override_settings

import scoring
from benchmarks.database import create_database, drop_database, dsn_for
from benchmarks.pgstats import ServerMeter, Spent, mib
from projections.math.model import ModelParams, from_latent
from projections.math.reference_sets import MODALITIES, load_reference_sets

ROOT = Path(__file__).resolve().parents[1]
MODEL_SET = "trials"

# Share of each modality among the synthetic courses (MODALITIES order).
MODALITY_SHARES = (0.40, 0.15, 0.25, 0.10, 0.10)
WITH_THERAPY_SHARE = 0.3
NO_COURSE_SHARE = 0.02  # patients with entries but no course (no projection)
MARKED_BASELINE_SHARE = 0.01  # a clinician marked the first entry as the baseline
ASSESSMENTS_PER_PATIENT = 20
# The second scale of each patient besides the weekly BDI-II, and its share.
SECOND_SCALES = (("phq9", 0.6), ("madrs", 0.4))
# Baseline totals per scale: mean, sd (clipped to the scale).
BASELINES = {"bdi2": (32.0, 7.0), "phq9": (19.0, 3.5), "madrs": (34.0, 6.0)}
NOISE_SD = {"bdi2": 2.5, "phq9": 1.5, "madrs": 2.5}
# The second clinic compares with another reference set and moves MADRS remission to 12 (CLINICAL §1).
CLINICS: tuple[tuple[str, str, dict[str, Any]], ...] = (
    ("Bench clinic A", "trials", {}),
    ("Bench clinic B", "real_world", {"madrs": {"remission_max": 12}}),
)
FILL_ROWS_PER_COPY_BLOCK = 50_000


# ---------------------------------------------------------------------------- database


@contextmanager
def _django_database(name: str) -> Iterator[None]:
    """Point Django's default connection at ``name`` (as Django's test runner does for its test database)."""
    from django.db import connection

    if connection.in_atomic_block:
        raise RuntimeError("the projections benchmark cannot run inside a transaction")
    connection.close()
    previous = connection.settings_dict["NAME"]
    connection.settings_dict["NAME"] = name
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict["NAME"] = previous


# ---------------------------------------------------------------------------- memory


def _status_kib(field: str) -> int | None:
    try:
        text = Path("/proc/self/status").read_text()
    except OSError:
        return None
    match = re.search(rf"^{field}:\s+(\d+) kB", text, re.MULTILINE)
    return int(match.group(1)) if match else None


def _reset_peak_rss() -> bool:
    """Reset the kernel's resident-set high-water mark of this process (Linux >= 4.0)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def _mib(n_bytes: float) -> str:
    return f"{n_bytes / 2**20:.1f} MiB"


# ---------------------------------------------------------------------------- the population


def _items_table(scale_key: str) -> list[str]:
    """JSON items summing to each total: spread over the items (rotated by the total), the suicide
    item only once every other item is full."""
    scale = scoring.get_scale(scale_key)
    suicide = scale.suicide_item - 1
    others = [i for i in range(scale.n_items) if i != suicide]
    table = []
    for total in range(scale.total_max + 1):
        shift = total % len(others)
        order = others[shift:] + others[:shift]
        items = [0] * scale.n_items
        left = total
        while left and any(items[i] < scale.item_max[i] for i in order):
            for i in order:
                if left and items[i] < scale.item_max[i]:
                    items[i] += 1
                    left -= 1
        items[suicide] = left
        assert sum(items) == total and items[suicide] <= scale.item_max[suicide]
        table.append(json.dumps(items))
    return table


@dataclass
class Population:
    """The synthetic population as arrays: per patient, and per assessment row in date order."""

    clinic: npt.NDArray[np.int64]
    has_course: npt.NDArray[np.bool_]
    modality: npt.NDArray[np.int64]
    with_therapy: npt.NDArray[np.bool_]
    start: npt.NDArray[np.int64]  # course start, proleptic ordinal
    patient: npt.NDArray[np.int64]  # per row
    scale: npt.NDArray[np.int64]  # index into SCALES_USED
    day: npt.NDArray[np.int64]  # proleptic ordinal
    total: npt.NDArray[np.int64]
    is_baseline: npt.NDArray[np.bool_]

    @property
    def n_patients(self) -> int:
        return int(self.clinic.size)

    @property
    def n_rows(self) -> int:
        return int(self.patient.size)


SCALES_USED = ("bdi2", *(s for s, _ in SECOND_SCALES))


def synthetic_population(patients: int, *, today: dt.date, seed: int = 0) -> Population:
    """Patients, courses and assessments drawn from the ``trials`` reference model."""
    rng = np.random.default_rng(seed)
    reference = load_reference_sets()[MODEL_SET]
    clinic = rng.integers(0, len(CLINICS), size=patients)
    has_course = rng.random(patients) >= NO_COURSE_SHARE
    modality = rng.choice(len(MODALITIES), size=patients, p=MODALITY_SHARES)
    therapy = rng.random(patients) < WITH_THERAPY_SHARE
    # Courses started 130 days to 16 months ago, so every weekly BDI-II entry is in the past.
    start = today.toordinal() - 130 - rng.integers(0, 365, size=patients)

    # Each patient's latent asymptote H ~ Normal(mu, sigma) under the model of their treatment.
    mu, sigma, tau, shape = (np.empty(patients) for _ in range(4))
    for m, name in enumerate(MODALITIES):
        for t in (False, True):
            params = reference.curve(name, "bdi2", with_therapy=t).params
            hit = (modality == m) & (therapy == t)
            mu[hit], sigma[hit], tau[hit], shape[hit] = params.mu, params.sigma, params.tau, params.shape
    latent = rng.normal(mu, sigma)

    # BDI-II weekly from start - 3 days (10 to 18 entries); the rest of the patient's 20 on the
    # second scale every two weeks from start - 2 days; now and then a day early or late.
    n_bdi = rng.integers(10, 19, size=patients)
    second = rng.choice(len(SECOND_SCALES), size=patients, p=[p for _, p in SECOND_SCALES])
    parts = []
    for counts, first, step, code in (
        (n_bdi, -3, 7, np.zeros(patients, dtype=np.int64)),
        (ASSESSMENTS_PER_PATIENT - n_bdi, -2, 14, second + 1),
    ):
        who = np.repeat(np.arange(patients), counts)
        offsets = np.concatenate([[0], np.cumsum(counts)])
        position = np.arange(who.size) - offsets[:-1][who]
        jitter = rng.choice([-1, 0, 0, 0, 0, 0, 0, 1], size=who.size)
        jitter[position == 0] = 0
        parts.append((who, code[who], start[who] + first + step * position + jitter))
    patient, scale, day = (np.concatenate([part[k] for part in parts]) for k in range(3))

    # score = baseline * (1 - I(week)) + noise, I(w) = h^-1(H * g(w)) (projections.math.model), clipped.
    total = np.zeros(patient.size, dtype=np.int64)
    for scale_code, name in enumerate(SCALES_USED):
        rows = np.flatnonzero(scale == scale_code)
        top = scoring.get_scale(name).total_max
        mean, sd = BASELINES[name]
        baseline = np.clip(np.rint(rng.normal(mean, sd, size=patients)), 1, top)
        who = patient[rows]
        weeks = np.maximum(day[rows] - start[who], 0) / 7.0
        g = -np.expm1(-weeks / tau[who])
        improvement = np.empty(rows.size)
        for lam in np.unique(shape[who]):
            same = shape[who] == lam
            improvement[same] = from_latent(ModelParams(0.0, 1.0, 1.0, float(lam)), latent[who[same]] * g[same])
        noisy = baseline[who] * (1.0 - improvement) + rng.normal(0.0, NOISE_SD[name], size=rows.size)
        total[rows] = np.clip(np.rint(noisy), 0, top)

    # A live table grows in date order: every patient's rows interleaved.
    order = np.lexsort((scale, patient, day))
    patient, scale, day, total = patient[order], scale[order], day[order], total[order]
    first_row = np.full(patients, -1)
    first_row[patient[::-1]] = np.arange(patient.size)[::-1]
    is_baseline = np.zeros(patient.size, dtype=bool)
    is_baseline[first_row[rng.random(patients) < MARKED_BASELINE_SHARE]] = True
    return Population(clinic, has_course, modality, therapy, start, patient, scale, day, total, is_baseline)


# ---------------------------------------------------------------------------- the fill


_COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + (0).to_bytes(4, "big") + (0).to_bytes(4, "big")
_COPY_TRAILER = (-1).to_bytes(2, "big", signed=True)
_PG_DATE_EPOCH = dt.date(2000, 1, 1).toordinal()
_BINARY_TYPES = {"int2": ">i2", "int4": ">i4", "int8": ">i8", "bool": "u1", "date": ">i4", "uuid": "V16"}


def _random_uuids(rng: np.random.Generator, n: int) -> npt.NDArray[np.void]:
    """``n`` random version-4 UUIDs as 16-byte values (PostgreSQL's binary form)."""
    raw = np.frombuffer(rng.bytes(16 * n), dtype=np.uint8).reshape(n, 16).copy()
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80
    return raw.view("V16").ravel()


def _binary_copy(columns: list[tuple[str, npt.NDArray[Any]]], *, first: bool = True, last: bool = True) -> bytes:
    """Rows of fixed-width columns in PostgreSQL's binary COPY format, built with numpy (the header
    only in the first block of a COPY, the trailer only in the last)."""
    fields: list[tuple[str, str]] = [("n", ">i2")]
    for k, (kind, _) in enumerate(columns):
        fields += [(f"len{k}", ">i4"), (f"v{k}", _BINARY_TYPES[kind])]
    records = np.empty(len(columns[0][1]), dtype=np.dtype(fields))
    records["n"] = len(columns)
    for k, (kind, values) in enumerate(columns):
        records[f"len{k}"] = np.dtype(_BINARY_TYPES[kind]).itemsize
        records[f"v{k}"] = values - _PG_DATE_EPOCH if kind == "date" else values
    return (_COPY_HEADER if first else b"") + records.tobytes() + (_COPY_TRAILER if last else b"")


def _drop_indexes(conn: psycopg.Connection[Any], table: str) -> list[tuple[str, str]]:
    """Drop ``table``'s indexes, its primary and unique keys and the foreign keys that point at
    them; return ``(referencing table, statement)`` pairs that put them back (building an index
    once is much faster than updating it row by row)."""
    fks = conn.execute(
        "SELECT conrelid::regclass::text, quote_ident(conname), pg_get_constraintdef(oid) FROM pg_constraint"
        " WHERE contype = 'f' AND confrelid = %s::regclass",
        [table],
    ).fetchall()
    keys = conn.execute(
        "SELECT quote_ident(conname), pg_get_constraintdef(oid) FROM pg_constraint"
        " WHERE contype IN ('p', 'u') AND conrelid = %s::regclass",
        [table],
    ).fetchall()
    plain = conn.execute(
        "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i"
        " WHERE i.indrelid = %s::regclass"
        " AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid AND c.conrelid = i.indrelid)",
        [table],
    ).fetchall()
    for rel, name, _ in fks:
        conn.execute(f"ALTER TABLE {rel} DROP CONSTRAINT {name}")
    for name, _ in keys:
        conn.execute(f"ALTER TABLE {table} DROP CONSTRAINT {name}")
    for name, _ in plain:
        conn.execute(f"DROP INDEX {name}")
    return (
        [(table, f"ALTER TABLE {table} ADD CONSTRAINT {name} {definition}") for name, definition in keys]
        + [(table, definition) for _, definition in plain]
        + [(rel, f"ALTER TABLE {rel} ADD CONSTRAINT {name} {definition}") for rel, name, definition in fks]
    )


@contextmanager
def _bulk_load(conn: psycopg.Connection[Any], table: str, *, unlogged: bool = False) -> Iterator[None]:
    """Load ``table`` without its indexes, then build them; ``unlogged`` also skips the WAL (and
    leaves out the foreign keys of other, logged tables that point at it, which PostgreSQL forbids)."""
    restore = _drop_indexes(conn, table)
    if unlogged:
        conn.execute(f"ALTER TABLE {table} SET UNLOGGED")
    yield
    for referencing, statement in restore:
        if not (unlogged and referencing != table):
            conn.execute(statement)


def _fill(dsn: str, population: Population, *, seed: int = 1) -> dict[str, int]:
    """Clinics, patients, courses and assessments: numbers and ids COPYed in binary, rows built by the server."""
    pop = population
    rng = np.random.default_rng(seed)
    items = {name: _items_table(name) for name in SCALES_USED}
    patient_ids = _random_uuids(rng, pop.n_patients)
    with psycopg.connect(dsn) as conn:
        conn.execute("SET synchronous_commit = off")
        conn.execute("SET maintenance_work_mem = '256MB'")
        try:  # skip the per-row foreign-key triggers while loading (every id is generated here); superuser only
            with conn.transaction():
                conn.execute("SET session_replication_role = replica")
        except psycopg.errors.InsufficientPrivilege:
            pass
        conn.execute("CREATE TEMP TABLE bench_clinic (k int2, id uuid)")
        for k, (name, reference, options) in enumerate(CLINICS):
            conn.execute(
                "WITH c AS (INSERT INTO tracker_clinic"
                " (id, name, reference_set, scoring_options, country, crisis_resources, timezone, created_at)"
                " VALUES (%s, %s, %s, %s, '', '{}', 'UTC', now()) RETURNING id)"
                " INSERT INTO bench_clinic SELECT %s, id FROM c",
                [uuid.uuid4(), name, reference, json.dumps(options), k],
            )
        conn.execute(
            "CREATE TEMP TABLE bench_patient (i int4, clinic int2, has_course bool, modality int2, therapy bool,"
            " start date, id uuid, course_id uuid)"
        )
        with conn.cursor().copy("COPY bench_patient FROM STDIN (FORMAT binary)") as copy:
            copy.write(
                _binary_copy(
                    [
                        ("int4", np.arange(pop.n_patients)),
                        ("int2", pop.clinic),
                        ("bool", pop.has_course),
                        ("int2", pop.modality),
                        ("bool", pop.with_therapy),
                        ("date", pop.start),
                        ("uuid", patient_ids),
                        ("uuid", _random_uuids(rng, pop.n_patients)),
                    ]
                )
            )
        with _bulk_load(conn, "tracker_patient"):
            conn.execute(
                "INSERT INTO tracker_patient (id, clinic_id, name, external_id, timezone, locale, created_at)"
                " SELECT p.id, c.id, 'bench ' || p.i, '', 'UTC', '', now()"
                " FROM bench_patient p JOIN bench_clinic c ON c.k = p.clinic"
            )
        with _bulk_load(conn, "tracker_treatmentcourse"):
            conn.execute(
                "INSERT INTO tracker_treatmentcourse"
                " (id, patient_id, clinic_id, modality, with_therapy, start_date, reference_set, created_at)"
                " SELECT p.course_id, p.id, c.id, (%s::text[])[p.modality + 1], p.therapy, p.start, '', now()"
                " FROM bench_patient p JOIN bench_clinic c ON c.k = p.clinic WHERE p.has_course",
                [list(MODALITIES)],
            )
        conn.execute(
            "CREATE TEMP TABLE bench_item"
            " (s int2, t int2, scale text, version text, items jsonb, item_count int2, severity text)"
        )
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO bench_item VALUES (%s, %s, %s, %s, %s, %s, %s)",
                [
                    (code, total, name, scale.version, items[name][total], scale.n_items, scale.severity(total))
                    for code, name in enumerate(SCALES_USED)
                    for scale in [scoring.get_scale(name)]
                    for total in range(scale.total_max + 1)
                ],
            )
        conn.execute(
            "CREATE TEMP TABLE bench_row (n int8, p uuid, s int2, d date, t int2, b bool, id uuid, client_id uuid)"
        )
        with conn.cursor().copy("COPY bench_row FROM STDIN (FORMAT binary)") as copy:
            for lo in range(0, pop.n_rows, FILL_ROWS_PER_COPY_BLOCK):
                hi = min(lo + FILL_ROWS_PER_COPY_BLOCK, pop.n_rows)
                copy.write(
                    _binary_copy(
                        [
                            ("int8", np.arange(lo, hi)),
                            ("uuid", patient_ids[pop.patient[lo:hi]]),
                            ("int2", pop.scale[lo:hi]),
                            ("date", pop.day[lo:hi]),
                            ("int2", pop.total[lo:hi]),
                            ("bool", pop.is_baseline[lo:hi]),
                            ("uuid", _random_uuids(rng, hi - lo)),
                            ("uuid", _random_uuids(rng, hi - lo)),
                        ],
                        first=lo == 0,
                        last=hi == pop.n_rows,
                    )
                )
        conn.execute("ANALYZE bench_row")
        with _bulk_load(conn, "tracker_assessment", unlogged=True):
            # The item lookup is hashed, so rows go in as staged: in date order.
            conn.execute(
                "INSERT INTO tracker_assessment (id, patient_id, scale, scale_version, administered_on, items,"
                " item_count, item_directions, total, severity, entered_by_role, client_id, is_superseded,"
                " amend_reason, is_baseline, created_at, seq)"
                " SELECT r.id, r.p, k.scale, k.version, r.d, k.items, k.item_count, '{}', r.t, k.severity, 'patient',"
                " r.client_id, false, '', r.b, (r.d + time '12:00') AT TIME ZONE 'UTC', %s + r.n"
                " FROM bench_row r JOIN bench_item k ON k.s = r.s AND k.t = r.t",
                [time.time_ns()],
            )
        conn.commit()
    with psycopg.connect(dsn, autocommit=True) as conn:
        for table in ("tracker_clinic", "tracker_patient", "tracker_treatmentcourse", "tracker_assessment"):
            conn.execute(f"VACUUM ANALYZE {table}")
        with contextlib.suppress(psycopg.errors.InsufficientPrivilege):  # the fill's dirty pages out now, not in (b)
            conn.execute("CHECKPOINT")
    return {"patients": pop.n_patients, "courses": int(pop.has_course.sum()), "assessments": pop.n_rows}


# ---------------------------------------------------------------------------- the measurements


def plain_read() -> tuple[int, float]:
    """(a): every assessment row the nightly reads, as tuples, through Django's cursor."""
    from django.db import connection

    from projections.storage import ENTRY_COLUMNS, FETCH_BATCH
    from tracker.records.models import Assessment

    sql, params = (
        Assessment.objects.filter(is_superseded=False).order_by().values_list(*ENTRY_COLUMNS).query.sql_with_params()
    )
    rows = 0
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        while batch := cursor.fetchmany(FETCH_BATCH):
            rows += len(batch)
    return rows, time.perf_counter() - started


def _trim_heap() -> None:
    """Hand freed heap back to the system (glibc), so resident-set growth is (b)'s own."""
    gc.collect()
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def _traced_chunk_peak(patient_ids: list[str]) -> int:
    """Peak traced Python memory (bytes) of recomputing one chunk."""
    from projections.nightly import recompute_chunk

    tracemalloc.start()
    try:
        recompute_chunk(patient_ids)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


PREPARED_MODES: dict[str, dict[str, Any]] = {
    # The settings' default with DATABASE_URL: server-side binding, a statement prepared on its
    # connection once it has run 5 times (PostgreSQL then plans it generically from its 6th run).
    "on": {"server_side_binding": True, "prepare_threshold": 5},
    # DB_PREPARED_STATEMENTS=0 (e.g. behind a transaction-pooling PgBouncer).
    "off": {"server_side_binding": False, "prepare_threshold": None},
}


def run(
    *, patients: int = 100_000, chunk_size: int = 5000, prepared: str = "both", out: Callable[[str], None] = print
) -> dict[str, Any]:
    """Fill, measure (a), (b) and (c) with prepared statements on and/or off, report; the database
    is dropped at the end, whatever happens."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        raise SystemExit("benchmark projections needs PostgreSQL: set DATABASE_URL=postgres://user@127.0.0.1:5432/db")
    if patients < 2 or chunk_size < 2:
        raise SystemExit("benchmark projections needs at least 2 patients and a chunk size of at least 2")
    modes = list(PREPARED_MODES) if prepared == "both" else [prepared]
    if not set(modes) <= set(PREPARED_MODES):
        raise SystemExit("benchmark projections: --prepared is on, off or both")
    started = time.perf_counter()
    name = f"bench_proj_{os.getpid()}"
    bench_url = create_database(url, name)
    try:
        env = {**os.environ, "DATABASE_URL": bench_url}
        subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env, check=True)
        out(f"database {name} (created for this run, dropped at the end)")
        population = synthetic_population(patients, today=dt.date.today())
        fill_started = time.perf_counter()
        filled = _fill(dsn_for(url, name), population)
        out(
            f"fill (untimed): {filled['patients']:,} patients, {filled['courses']:,} courses,"
            f" {filled['assessments']:,} assessments in {time.perf_counter() - fill_started:.1f} s (COPY; the"
            " assessments table is UNLOGGED, which only spares writing it)"
        )
        del population
        # Measured as in production: with DEBUG on, Django would keep the text of every query.
        meter = ServerMeter(dsn_for(url, name), name)
        try:
            with _django_database(name), override_settings(DEBUG=False):
                result = _measure(chunk_size=chunk_size, modes=modes, meter=meter, out=out)
        finally:
            meter.close()
        result["seconds_total"] = time.perf_counter() - started
        out(
            f"whole job: {result['seconds_total']:.1f} s"
            " (create and migrate the database, fill, (a), (b), (c) per mode, memory, drop)"
        )
        # The worst of the modes measured: the first night, then (last) the second.
        out(f"ratio_first={result['ratio_first']:.2f}")
        out(f"ratio_steady={result['ratio_steady']:.2f}")
        return result
    finally:
        drop_database(url, name)


@contextmanager
def _prepared_statements(mode: str) -> Iterator[None]:
    """Django's connections (every thread's: they share the settings) with prepared statements on
    or off, as the settings would make them."""
    from django.db import connection

    options = connection.settings_dict.setdefault("OPTIONS", {})
    saved = {key: options[key] for key in PREPARED_MODES[mode] if key in options}
    connection.close()
    options.update(PREPARED_MODES[mode])
    try:
        yield
    finally:
        connection.close()
        for key in PREPARED_MODES[mode]:
            options.pop(key, None)
        options.update(saved)


def _server_figures(spent: Spent, chunks: int) -> str:
    per = max(chunks, 1)
    where = "this database's" if spent.wal_scope == "database" else "the whole server's (pg_walinspect unavailable)"
    return (
        f"database CPU {spent.cpu_seconds:.2f} s ({spent.cpu_seconds / per:.3f} s per chunk),"
        f" {spent.pages:,} pages touched ({spent.pages // per:,} per chunk, {spent.pages_read:,} read in),"
        f" WAL {mib(spent.wal_bytes)} ({mib(spent.wal_bytes / per)} per chunk; {where} records)"
    )


def _night(
    label: str, *, chunk_size: int, meter: ServerMeter, after_chunk: Callable[[dict[str, int]], None] | None = None
) -> dict[str, Any]:
    from projections.nightly import recompute_all

    chunks = 0

    def on_chunk(stats: dict[str, int]) -> None:
        nonlocal chunks
        chunks += 1
        if after_chunk is not None:
            after_chunk(stats)

    meter.start()
    started = time.perf_counter()
    stats = recompute_all(chunk_size=chunk_size, on_chunk=on_chunk)
    seconds = time.perf_counter() - started
    spent = meter.stop(settle=0.6)
    return {**stats, "label": label, "seconds": seconds, "chunks": chunks, "spent": spent}


def _measure(*, chunk_size: int, modes: list[str], meter: ServerMeter, out: Callable[[str], None]) -> dict[str, Any]:
    from django.db import connection

    from projections.models import OutcomeSnapshot
    from projections.nightly import patient_chunks
    from tracker.records.models import Notice

    result: dict[str, Any] = {"modes": {}}
    for n, mode in enumerate(modes):
        if n:  # the first night again: no snapshot, no notice (and no dead row left behind)
            with connection.cursor() as cursor:
                cursor.execute(f"TRUNCATE {OutcomeSnapshot._meta.db_table}, {Notice._meta.db_table}")
        out(f"-- prepared statements {mode} ({PREPARED_MODES[mode]})")
        with _prepared_statements(mode):
            rows, seconds_a = plain_read()
            out(
                f"(a) plain SELECT of every assessment row (9 columns) into Python tuples: {rows:,} rows in"
                f" {seconds_a:.2f} s, {rows / seconds_a:,.0f} rows/s"
            )
            _trim_heap()
            rss_before = _status_kib("VmRSS") or 0
            tracked = _reset_peak_rss()
            chunks_done: list[int] = []
            peaks: list[int] = []

            def after_chunk(
                stats: dict[str, int], chunks_done: list[int] = chunks_done, peaks: list[int] = peaks
            ) -> None:
                chunks_done.append(stats["patients"])
                peaks.append(_status_kib("VmHWM") or 0)

            first = _night("first", chunk_size=chunk_size, meter=meter, after_chunk=after_chunk)
            stored = OutcomeSnapshot.objects.count()
            out(
                f"(b) first night, recompute_all(chunk_size={chunk_size:,}) over no snapshot: {first['patients']:,}"
                f" patients, {first['chunks']} chunks, {first['written']:,} snapshots written ({stored:,} stored) in"
                f" {first['seconds']:.2f} s, {rows / first['seconds']:,.0f} assessment rows/s;"
                f" {_server_figures(first['spent'], first['chunks'])}"
            )
            steady = _night("steady", chunk_size=chunk_size, meter=meter)
            out(
                f"(c) second night over the stored snapshots, nothing changed: {steady['patients']:,} patients,"
                f" {steady['chunks']} chunks, {steady['written']:,} snapshots written ({steady['snapshots']:,}"
                f" current) in {steady['seconds']:.2f} s; {_server_figures(steady['spent'], steady['chunks'])}"
            )
            # (a) again after the nights: the machine's load may have changed meanwhile, and the
            # nights are compared with the mean of the two plain reads around them.
            _, seconds_a2 = plain_read()
            out(f"(a) again after (c): {seconds_a2:.2f} s; (b) and (c) are compared with the mean of both")
            seconds_a = (seconds_a + seconds_a2) / 2
        ratios = (first["seconds"] / seconds_a, steady["seconds"] / seconds_a)
        out(f"prepared statements {mode}: first night {ratios[0]:.2f} x (a), second night {ratios[1]:.2f} x (a)")
        result["modes"][mode] = {"seconds_a": seconds_a, "first": first, "steady": steady, "ratios": ratios}
        if n == 0:
            result.update(
                patients=first["patients"], rows=rows, snapshots=first["snapshots"], chunks=first["chunks"],
                seconds_a=seconds_a, seconds_b=first["seconds"], seconds_c=steady["seconds"],
            )  # fmt: skip
            _report_memory(result, tracked, peaks, chunks_done, rss_before, out)
    result["ratio_first"] = max(m["ratios"][0] for m in result["modes"].values())
    result["ratio_steady"] = max(m["ratios"][1] for m in result["modes"].values())

    # Traced Python memory of single chunks (untimed: tracemalloc slows Python down many times over).
    first_ids = next(patient_chunks(chunk_size=chunk_size))
    OutcomeSnapshot.objects.filter(patient_id__in=first_ids)._raw_delete(OutcomeSnapshot.objects.db)
    full = _traced_chunk_peak(first_ids)
    OutcomeSnapshot.objects.filter(patient_id__in=first_ids)._raw_delete(OutcomeSnapshot.objects.db)
    half_chunk = _traced_chunk_peak(first_ids[: max(len(first_ids) // 2, 1)])
    out(
        f"traced Python memory (tracemalloc, untimed re-run of one chunk without its snapshots): {len(first_ids):,}"
        f" patients {_mib(full)} peak, {max(len(first_ids) // 2, 1):,} patients {_mib(half_chunk)} peak (it follows"
        " the chunk size)"
    )
    result.update(traced_chunk_peak=full, traced_half_chunk_peak=half_chunk)
    return result


def _report_memory(
    result: dict[str, Any],
    tracked: bool,
    peaks: list[int],
    chunks_done: list[int],
    rss_before: int,
    out: Callable[[str], None],
) -> None:
    if not (tracked and peaks):
        out("memory of (b), resident set: not measured (needs Linux /proc/self/status and clear_refs)")
        return
    half = next(i for i, done in enumerate(np.cumsum(chunks_done)) if done * 2 >= result["patients"])
    growth_half, growth_all = (peaks[half] - rss_before) * 1024, (peaks[-1] - rss_before) * 1024
    out(
        f"memory of (b), resident set: {_mib(rss_before * 1024)} before; high-water mark +{_mib(growth_half)} after"
        f" half the population (chunk {half + 1}), +{_mib(growth_all)} after all of it (chunk {len(peaks)})."
        " recompute_all holds three chunks at a time (one read, one computed, one written); a peak that stops"
        " growing once the first chunks are done is bounded by the chunk size, not by the population"
    )
    result.update(rss_before=rss_before * 1024, rss_growth_half=growth_half, rss_growth=growth_all)
