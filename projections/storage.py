"""The nightly job's reads and writes: a chunk of patients' entries and courses in, its snapshots
and notices out. Everything the nightly job says to the database is here, and so is every way it
goes around the ORM (each held equal to the plain path by ``tests/projections/test_nightly.py``
and, on PostgreSQL, ``test_pipelined_nightly_equals_per_patient_on_postgresql``; the volume they
are for is measured by ``python manage.py benchmark projections``):

- the chunk's patient ids reach PostgreSQL as one ``uuid[]`` parameter, not one parameter each
  (an array, never text the server splits: a prepared statement's generic plan would split it
  again for every row), written as the array's text in one join (``uuid_array``): psycopg would
  adapt a list of ``UUID`` element by element for every query that takes it;
- the entry rows are read straight from the cursor, batch by batch, into numpy arrays (no model
  instance, no ORM work per row);
- a snapshot is replaced only when its fingerprint changed (``replace_snapshots``): the stored
  fingerprints are read with the chunk, and read again under the chunk's lock before the write;
  the replaced ones are deleted by id in one statement;
- snapshots and notices are written with ``COPY``. Its column lists are the models' concrete
  columns (``SNAPSHOT_COLUMNS``, ``NOTICE_COLUMNS``): a snapshot column is filled by the write (a
  new id, the time), by the patient (clinic, patient, course) or by the field of ``Outcome`` of
  the same name, so a new model field fails loudly until the nightly job computes it.

Other databases take the ORM way (``values_list``, ``bulk_create``, ``QuerySet.delete``).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import islice, repeat
from operator import attrgetter
from typing import Any

import numpy as np
import numpy.typing as npt
from django.db import connection, models, transaction
from django.db.models.expressions import RawSQL
from django.utils import timezone

import scoring
from projections.models import OutcomeSnapshot
from projections.outcomes import ENTRY_RECORD, TIMING_CODE, course_fingerprint_key, seconds_of_day
from tracker.records.models import Assessment, Clinic, Notice, Patient, TreatmentCourse

# The columns of an entry a chunk reads, in this order.
ENTRY_COLUMNS = (
    "patient_id", "scale", "id", "administered_on", "total", "seq", "is_baseline", "timing", "administered_time"
)  # fmt: skip
SCALE_KEYS: tuple[str, ...] = tuple(scoring.SCALES)  # a trajectory's scale is its index here
_SCALE_CODE = {key: code for code, key in enumerate(SCALE_KEYS)}
_NO_COURSE = np.iinfo(np.int64).min // 2  # "no course start" as an ordinal: every entry is after it
FETCH_BATCH = 10_000  # entry rows turned into arrays at a time
_COPY_BLOCK = 500  # rows per COPY write

IntArray = npt.NDArray[np.int64]


def model_columns(model: type[models.Model]) -> tuple[str, ...]:
    """The model's concrete columns, in the model's order."""
    return tuple(field.column for field in model._meta.concrete_fields)


SNAPSHOT_COLUMNS = model_columns(OutcomeSnapshot)
NOTICE_COLUMNS = model_columns(Notice)
# Where the snapshot columns come from besides the outcome: the write itself and the patient.
_OF_THE_WRITE = ("id", "computed_at")
_OF_THE_PATIENT = ("clinic_id", "patient_id", "course_id")
# The rest: each the field of Outcome with the column's name.
OUTCOME_COLUMNS = tuple(c for c in SNAPSHOT_COLUMNS if c not in _OF_THE_WRITE + _OF_THE_PATIENT)
_outcome_values = attrgetter(*OUTCOME_COLUMNS)


# ---------------------------------------------------------------------------- one chunk, read


@dataclass
class Course:
    """The fields of a course the outcome needs (read as values, not model instances)."""

    pk: Any
    start_date: dt.date
    modality: str
    with_therapy: bool
    reference_set: str
    fingerprint_key: str = ""
    text_id: str = ""

    def __post_init__(self) -> None:
        self.fingerprint_key = course_fingerprint_key(self)
        self.text_id = str(self.pk)


@dataclass
class Chunk:
    """A chunk's entries as arrays ordered by patient, scale, date and entry order, split into
    trajectories (one patient and scale over the active course)."""

    patients: list[Any]  # patient id per patient index
    clinics: list[Clinic]  # clinic per patient index
    courses: list[Course | None]  # active course per patient index
    clinic_index: IntArray  # per patient: index into distinct_clinics
    distinct_clinics: list[Clinic]
    patient_text: list[str]  # per patient: its id as text
    day: IntArray  # per entry: proleptic ordinal
    total: IntArray
    is_baseline: npt.NDArray[np.bool_]
    timing: IntArray  # per entry: code of scoring.TIMINGS
    time_of_day: IntArray  # per entry: minutes after midnight, -1 for none
    records: bytes  # per entry: its fingerprint record (outcomes.ENTRY_RECORD)
    offsets: IntArray  # trajectory k is entries offsets[k]:offsets[k + 1]
    patient: IntArray  # per trajectory: patient index
    scale: IntArray  # per trajectory: index into SCALE_KEYS
    # (patient index, scale index) -> fingerprint of the stored snapshot of the active course (or,
    # without one, of the entries without a course), as read with the chunk.
    stored: dict[tuple[int, int], str]
    # Whether a stored snapshot the chunk replaces has no trajectory of the chunk any more (one
    # without a course for a patient who has one now, a scale no longer in the active course).
    obsolete: bool


_UUID = "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
_UUID_ARRAY = re.compile(rf"\{{(?:{_UUID}(?:,{_UUID})*)?\}}")


def uuid_array(ids: Iterable[Any]) -> str:
    """Ids (``UUID`` or their text) as the text of one ``uuid[]`` parameter, ``{id,id,...}``, for
    ``%s::uuid[]``: the parameter is then typed ``uuid[]`` and read once, when bound (never a text
    the server splits per row). Made in one join, checked with one match: a list of ``UUID`` would
    be adapted element by element, with a quoting check each, for every query that takes it."""
    parts = list(map(str, ids))
    text = "{" + ",".join(parts) + "}"
    if len(text) != 37 * len(parts) + (1 if parts else 2) or not _UUID_ARRAY.fullmatch(text):  # 36 + comma each
        raise ValueError("not a list of UUIDs")
    return text


def _any_of(ids: Sequence[Any]) -> Any:
    """The right-hand side of an ``__in`` filter on a uuid column: on PostgreSQL one parameter
    (a uuid array), not thousands (cheaper to build, quote and parse). An array parameter, not text
    split by the server: a prepared statement's generic plan keeps it a value computed once."""
    if connection.vendor == "postgresql":
        return RawSQL("SELECT unnest(%s::uuid[])", (uuid_array(ids),))
    return list(ids)


def _as_uuid(value: Any) -> uuid.UUID:
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


def _fetch(entries: Any) -> Iterator[Sequence[tuple[Any, ...]]]:
    """The rows of a values_list query in batches; on PostgreSQL straight from the cursor (psycopg
    already returns the columns as Python values: no ORM work per row)."""
    if connection.vendor != "postgresql":
        rows = list(entries)
        for lo in range(0, len(rows), FETCH_BATCH):
            yield rows[lo : lo + FETCH_BATCH]
        return
    sql, params = entries.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(FETCH_BATCH):
            yield rows


_uuid_int = attrgetter("int")


# Set in each transaction of a chunk (its read, its write) on PostgreSQL: no JIT compilation. Every
# statement of a chunk is bounded by its patients, but the planner's estimate for the lateral read
# of the stored snapshots follows the snapshot table's statistics (stale after a bulk write, as on
# a first night) and passed the JIT thresholds, up to inlining and optimisation: compiling cost the
# server more CPU than running the statement.
_NO_JIT = "set_config('jit', 'off', true)"


def read_chunk(patient_ids: Sequence[str]) -> Chunk:
    """The chunk of these patients: their clinics, active courses and entries, as arrays. One
    transaction, without JIT (``_NO_JIT``)."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(f"SELECT {_NO_JIT}")
        return _read_chunk(patient_ids)


def _read_chunk(patient_ids: Sequence[str]) -> Chunk:
    ids = _any_of(patient_ids)
    patient_clinic = dict(Patient.objects.filter(pk__in=ids).values_list("id", "clinic_id"))
    clinics = {c.pk: c for c in Clinic.objects.filter(pk__in=set(patient_clinic.values()))}
    patients = list(patient_clinic)
    position = {pk.int: k for k, pk in enumerate(patients)}
    courses: list[Course | None] = [None] * len(patients)
    for patient_id, pk, start_date, modality, with_therapy, reference_set in (
        TreatmentCourse.objects.filter(patient_id__in=ids)
        .order_by("patient_id", "start_date", "created_at")
        .values_list("patient_id", "id", "start_date", "modality", "with_therapy", "reference_set")
    ):  # the latest one wins
        courses[position[patient_id.int]] = Course(pk, start_date, modality, with_therapy, reference_set)

    entries = Assessment.objects.filter(patient_id__in=ids, is_superseded=False).order_by().values_list(*ENTRY_COLUMNS)
    if len(patients) > 1:  # chunks are id ranges: lets PostgreSQL walk one index range
        entries = entries.filter(patient_id__gte=min(patients), patient_id__lte=max(patients))
    parts: list[tuple[IntArray, ...]] = []
    id_bytes: list[bytes] = []
    for rows in _fetch(entries):  # batch by batch: no row object outlives its batch
        n = len(rows)
        patient_col, scale_col, id_col, date_col, total_col, seq_col, baseline_col, timing_col, time_col = zip(
            *rows, strict=True
        )
        parts.append(
            (
                np.fromiter(map(position.__getitem__, map(_uuid_int, patient_col)), dtype=np.int64, count=n),
                np.fromiter(map(_SCALE_CODE.__getitem__, scale_col), dtype=np.int64, count=n),
                np.fromiter(map(dt.date.toordinal, date_col), dtype=np.int64, count=n),
                np.fromiter(total_col, dtype=np.int64, count=n),
                np.fromiter(seq_col, dtype=np.int64, count=n),
                np.fromiter(baseline_col, dtype=np.int64, count=n),
                np.fromiter(map(TIMING_CODE.__getitem__, timing_col), dtype=np.int64, count=n),
                np.fromiter(map(seconds_of_day, time_col), dtype=np.int64, count=n),
            )
        )
        id_bytes.append(b"".join(map(int.to_bytes, map(_uuid_int, id_col), repeat(16))))  # == UUID.bytes
    patient, scale, day, total, seq, flag, timing, seconds = (
        np.concatenate([part[c] for part in parts]) if parts else np.zeros(0, dtype=np.int64) for c in range(8)
    )
    distinct = list(clinics.values())
    index_of = {c.pk: i for i, c in enumerate(distinct)}
    clinic_index = np.array([index_of[patient_clinic[pk]] for pk in patients], dtype=np.int64)

    # An entry belongs to the active course from the clinic's baseline_window_days (for its scale)
    # before its start.
    window = np.array([[c.baseline_window_days(key) for key in SCALE_KEYS] for c in distinct], dtype=np.int64)
    start = np.array([c.start_date.toordinal() if c else _NO_COURSE for c in courses], dtype=np.int64)
    kept = np.flatnonzero(day >= start[patient] - window.reshape(-1)[clinic_index[patient] * len(SCALE_KEYS) + scale])
    order = kept[np.lexsort((seq[kept], day[kept], scale[kept], patient[kept]))]
    patient, scale, day, total, seq, is_baseline, timing, seconds = (
        a[order] for a in (patient, scale, day, total, seq, flag.astype(bool), timing, seconds)
    )

    records = np.empty(order.size, dtype=ENTRY_RECORD)
    records["id"] = np.frombuffer(b"".join(id_bytes), dtype="V16")[order]
    records["day"] = day
    records["total"] = total
    records["seq"] = seq
    records["baseline"] = is_baseline
    records["timing"] = timing
    records["time"] = seconds

    new = np.ones(order.size, dtype=bool)
    new[1:] = (patient[1:] != patient[:-1]) | (scale[1:] != scale[:-1])
    starts = np.flatnonzero(new)
    trajectories = set(zip(patient[starts].tolist(), scale[starts].tolist(), strict=True))
    stored: dict[tuple[int, int], str] = {}
    obsolete = False
    patient_text = [str(pk) for pk in patients]
    for _, p, s, current, fp, _ in _stored_snapshots(patient_text, position, courses):
        if current and (p, s) in trajectories:
            stored[p, s] = fp
        else:
            obsolete = True
    return Chunk(
        patients=patients,
        clinics=[clinics[patient_clinic[pk]] for pk in patients],
        courses=courses,
        clinic_index=clinic_index,
        distinct_clinics=distinct,
        patient_text=patient_text,
        day=day,
        total=total,
        is_baseline=is_baseline,
        timing=timing,
        time_of_day=np.where(seconds < 0, -1, seconds // 60),
        records=records.tobytes(),
        offsets=np.append(starts, order.size).astype(np.int64),
        patient=patient[starts],
        scale=scale[starts],
        stored=stored,
        obsolete=obsolete,
    )


_SNAPSHOT_KEYS = ("id", "patient_id", "course_id", "scale", "fingerprint", "signal")
# One index lookup per patient, whatever the table's statistics say: the lateral subquery (kept
# apart by OFFSET 0) can only be run per patient id. Planned freely, a table whose statistics
# predate a bulk write (the first night) was read whole, ~1 s per chunk at 200,000 snapshots.
_STORED_SNAPSHOTS = (
    f"SELECT s.* FROM unnest(%s::uuid[]) AS chunk(patient_id) CROSS JOIN LATERAL"  # noqa: S608
    f" (SELECT {', '.join(_SNAPSHOT_KEYS)} FROM {OutcomeSnapshot._meta.db_table}"
    " WHERE patient_id = chunk.patient_id OFFSET 0) AS s"
)


def _stored_snapshots(
    patients: Sequence[Any], position: dict[int, int], courses: Sequence[Course | None]
) -> Iterator[tuple[Any, int, int, bool, str, str]]:
    """The stored snapshots the chunk's recomputation replaces: of each patient's active course and
    of their entries without a course, as ``(id, patient index, scale index, current, fingerprint,
    signal)``; ``current``: of the active course (or, for a patient without one, without a course),
    where a recomputed trajectory goes."""
    rows: Iterable[tuple[Any, ...]]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(_STORED_SNAPSHOTS, [uuid_array(patients)])
            rows = cursor.fetchall()
    else:
        rows = OutcomeSnapshot.objects.filter(patient_id__in=list(patients)).values_list(*_SNAPSHOT_KEYS)
    for pk, patient_id, course_id, scale, fp, signal in rows:
        p = position[patient_id.int]
        course = courses[p]
        active = None if course is None else course.pk
        if course_id is None or course_id == active:
            yield pk, p, _SCALE_CODE[scale], course_id == active, fp, signal


# ---------------------------------------------------------------------------- one chunk, write


@dataclass(slots=True)
class Outcome:
    """One snapshot to store: its trajectory's and patient's indexes in the chunk and the
    snapshot's columns that the outcome gives (``OUTCOME_COLUMNS``, by name), ``data`` as JSON text."""

    trajectory: int
    patient: int
    scale: str
    state: str
    signal: str
    percentile: int | None
    week: int | None
    latest_total: int | None
    latest_date: str | None
    improvement: float | None
    response: str | None
    data: str
    fingerprint: str


_HEX_POSITIONS = [i for i in range(36) if i not in (8, 13, 18, 23)]


def _random_uuids(n: int) -> list[str]:
    """``n`` random (version 4) UUIDs as text, made in bulk."""
    raw = np.frombuffer(os.urandom(16 * n), dtype=np.uint8).reshape(n, 16).copy()
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80
    chars = np.full((n, 36), ord("-"), dtype=np.uint8)
    hexdigits = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
    chars[:, _HEX_POSITIONS] = hexdigits[np.stack([raw >> 4, raw & 0x0F], axis=2).reshape(n, 32)]
    text = chars.tobytes().decode("ascii")
    return [text[i : i + 36] for i in range(0, 36 * n, 36)]


_NULL = "\\N"


def _copy_text(value: object) -> str:
    """A value in COPY's text format."""
    if value is None:
        return _NULL
    text = str(value)
    if "\\" in text or "\t" in text or "\n" in text or "\r" in text:
        text = text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    return text


def _copy_column(values: Sequence[object]) -> list[str]:
    """A column's values in COPY's text format. Only text can hold a character to escape: the
    column's text is searched at once, and escaped value by value only if it holds one."""
    text = "".join([v for v in values if type(v) is str])
    if "\\" in text or "\t" in text or "\n" in text or "\r" in text:
        return [_copy_text(v) for v in values]
    return [_NULL if v is None else str(v) for v in values]


def _copy_lines(columns: Iterable[Sequence[str]]) -> str:
    """Rows given column by column (each in COPY's text format), as COPY's text lines."""
    return "\n".join(map("\t".join, zip(*columns, strict=True))) + "\n"


@contextmanager
def _copy_into(model: type[models.Model], columns: Sequence[str]) -> Iterator[Any]:
    """A COPY (text format) of ``columns`` into the model's table."""
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY {model._meta.db_table} ({', '.join(columns)}) FROM STDIN") as copy,
    ):
        yield copy


def _blocks(items: Iterable[Outcome], size: int) -> Iterator[list[Outcome]]:
    items = iter(items)
    while block := list(islice(items, size)):
        yield block


def _copy_snapshots(chunk: Chunk, outcomes: Iterable[Outcome]) -> list[Outcome]:
    """PostgreSQL: the snapshots in one COPY (text format), written in blocks: the server parses one
    while the next is computed."""
    now = timezone.now().isoformat()
    clinic_text = [str(c.pk) for c in chunk.distinct_clinics]
    # Per patient index, the columns that are the same for all their snapshots.
    of_the_patient = {
        "clinic_id": [clinic_text[c] for c in chunk.clinic_index.tolist()],
        "patient_id": chunk.patient_text,
        "course_id": [_NULL if c is None else c.text_id for c in chunk.courses],
    }
    written: list[Outcome] = []
    with _copy_into(OutcomeSnapshot, SNAPSHOT_COLUMNS) as copy:
        for block in _blocks(outcomes, _COPY_BLOCK):
            written += block
            patients = [o.patient for o in block]
            by_column = zip(*map(_outcome_values, block), strict=True)
            columns = dict(zip(OUTCOME_COLUMNS, map(_copy_column, by_column), strict=True))
            columns.update({column: [of[p] for p in patients] for column, of in of_the_patient.items()})
            columns.update(id=_random_uuids(len(block)), computed_at=[now] * len(block))
            copy.write(_copy_lines(columns[c] for c in SNAPSHOT_COLUMNS))
    return written


def _create_snapshots(chunk: Chunk, outcomes: Iterable[Outcome]) -> list[Outcome]:
    """Other databases: bulk_create."""
    written = list(outcomes)
    snapshots = []
    for o in written:
        course = chunk.courses[o.patient]
        values = dict(zip(OUTCOME_COLUMNS, _outcome_values(o), strict=True))
        values["data"] = json.loads(o.data)
        snapshots.append(
            OutcomeSnapshot(
                clinic=chunk.clinics[o.patient],
                patient_id=chunk.patients[o.patient],
                course_id=course.pk if course else None,
                **values,
            )
        )
    OutcomeSnapshot.objects.bulk_create(snapshots, batch_size=2000)
    return written


def write_snapshots(chunk: Chunk, outcomes: Iterable[Outcome]) -> list[Outcome]:
    """Store the chunk's outcomes as snapshots, taking them as they come; return them."""
    write = _copy_snapshots if connection.vendor == "postgresql" else _create_snapshots
    return write(chunk, outcomes)


def write_notices(notices: Sequence[Notice]) -> None:
    """Store these (unsaved) notices, each column as ``bulk_create`` would set it."""
    if connection.vendor != "postgresql":
        Notice.objects.bulk_create(notices, batch_size=2000)
        return
    if not notices:
        return
    fields = Notice._meta.concrete_fields
    columns = [[_copy_text(f.get_db_prep_save(f.pre_save(n, True), connection)) for n in notices] for f in fields]
    with _copy_into(Notice, NOTICE_COLUMNS) as copy:
        copy.write(_copy_lines(columns))


def lock_chunk(chunk: Chunk) -> None:
    """Serialise two runs over the same chunk: a transaction-scoped advisory lock keyed on the
    chunk's lowest patient id (runs cut the same id-ordered population into the same chunks), so a
    second nightly run waits, then replaces what the first wrote, instead of failing on the
    snapshot table's unique key. A lock in memory, unlike row locks, writes nothing to the patient
    table. The same statement turns JIT off for the transaction (``_NO_JIT``). A no-op on SQLite
    (one writer at a time)."""
    if connection.vendor != "postgresql" or not chunk.patients:
        return
    key = min(uuid.UUID(str(p)).int for p in chunk.patients) >> 65  # the lowest id, as a signed 64-bit key
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT pg_advisory_xact_lock(%s), {_NO_JIT}", [key])


def replace_snapshots(
    chunk: Chunk, outcomes: Iterable[Outcome], *, fingerprints: Sequence[str], computed: npt.NDArray[np.bool_]
) -> tuple[list[Outcome], dict[int, str]]:
    """Store the recomputed trajectories whose content changed; call it under ``lock_chunk``.

    The stored snapshots the chunk replaces are read again (another run may have written since the
    chunk was read): one is deleted when no trajectory of the chunk is its any more, or when its
    trajectory was recomputed (``computed``) to another fingerprint; then each outcome is written
    unless a snapshot with its fingerprint is stored. An unchanged snapshot is left as it is (its
    id and ``computed_at`` too): no row, index entry or WAL written for it. Returns the outcomes
    written and the signals of the snapshots they replace, by trajectory."""
    trajectory_of = {key: k for k, key in enumerate(zip(chunk.patient.tolist(), chunk.scale.tolist(), strict=True))}
    stale: list[Any] = []
    previous: dict[int, str] = {}
    kept: set[int] = set()
    for pk, p, s, current, fp, signal in _stored_snapshots(chunk.patient_text, _positions(chunk), chunk.courses):
        k = trajectory_of.get((p, s)) if current else None
        if k is None:
            stale.append(pk)
        elif computed[k] and fp != fingerprints[k]:
            stale.append(pk)
            previous[k] = signal
        else:  # the same content, or left as another run stored it
            kept.add(k)
    if stale:
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(_DELETE_BY_ID, [uuid_array(stale)])
        else:
            OutcomeSnapshot.objects.filter(pk__in=stale).delete()
    written = write_snapshots(chunk, (o for o in outcomes if o.trajectory not in kept))
    return written, previous


_DELETE_BY_ID = f"DELETE FROM {OutcomeSnapshot._meta.db_table} WHERE id = ANY(%s::uuid[])"  # noqa: S608


def _positions(chunk: Chunk) -> dict[int, int]:
    return {_as_uuid(pk).int: k for k, pk in enumerate(chunk.patients)}
