"""The nightly recomputation: every active course, in chunks of patients, through scoring's
numpy batch path with bulk reads and writes (a fixed number of queries per chunk, none per patient).

A chunk is one transaction: a worker killed mid-chunk leaves the previous snapshots in place and
the chunk's message unacknowledged (``acks_late``), so another worker redoes it. Running a chunk
twice stores the same snapshots. A trajectory whose fingerprint (its entries, course and clinic
settings) matches its stored snapshot's is neither classified nor written again: a night where
little changed reads the entries and writes little.

"Active course" is each patient's latest course (or, for a patient without one, all their entries).
Earlier courses keep the snapshots written when their entries last changed.

A snapshot stored here equals the one ``projections.outcomes`` stores for the patient, field for
field (``tests/projections/test_nightly.py``); only the way there is built for volume, in three
modules:

- ``projections.storage`` reads a chunk (its clinics, active courses and entries, as numpy arrays
  ordered and split into trajectories) and writes its snapshots and notices (``COPY`` on
  PostgreSQL); every way around the ORM is listed there;
- ``projections.batch`` computes a chunk's snapshots at once (classification, projection block,
  outcome JSON, fingerprint);
- this module: the chunks, one transaction each, and the notices a worsened signal raises. On
  PostgreSQL ``recompute_all`` runs the chunks as a pipeline on three connections (read chunk
  i + 1, compute chunk i, write chunk i - 1, each write its own transaction), so the database's
  work and this process's overlap. The cyclic garbage collector is paused while a chunk is read and
  computed (nothing there makes reference cycles; the pause saves walking every live object again
  and again).
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from django.db import connection, transaction
from tqdm import tqdm

from projections.batch import changed_trajectories, chunk_outcomes, load_reference_sets_of, trajectory_fingerprints
from projections.notices import WORRYING_SIGNALS, signal_notice
from projections.storage import Chunk, Outcome, lock_chunk, read_chunk, replace_snapshots, write_notices
from tracker.records.models import Patient

# A night shared out among workers: while its chunks are few, their number is rounded up to a
# multiple of EVEN_SHARE and the patients split evenly between them, so 1, 2, 3, 4, 6 or 12
# workers each get as many chunks of the same size and none is left running a last chunk alone
# while the others wait. From MANY_CHUNKS on, the last round is a small part of the night and the
# chunks stay at the largest size. No chunk is made smaller than MIN_CHUNK_PATIENTS for it (each
# chunk has a fixed cost: a task, a transaction, a dozen queries).
EVEN_SHARE = 12
MANY_CHUNKS = 4 * EVEN_SHARE
MIN_CHUNK_PATIENTS = 100


def _patients(clinic_id: Any) -> Any:
    qs = Patient.objects.order_by("id")
    return qs.filter(clinic_id=clinic_id) if clinic_id else qs


def _id_pages(qs: Any, sizes: Iterable[int]) -> Iterator[list[str]]:
    """The ids of ``qs`` (ordered by id) in consecutive pages of these sizes, read page by page
    (memory bounded by the page); the last size repeats until every id is read."""
    last = None
    size = 0
    sizes = iter(sizes)
    while True:
        size = next(sizes, size)
        page = qs.filter(id__gt=last) if last is not None else qs
        ids = list(page.values_list("id", flat=True)[:size])
        if not ids:
            return
        yield [str(pk) for pk in ids]
        last = ids[-1]


def patient_chunks(*, clinic_id: Any = None, chunk_size: int = 2000) -> Iterator[list[str]]:
    """Patient ids in chunks of ``chunk_size`` (the last one smaller), in id order."""
    return _id_pages(_patients(clinic_id), [chunk_size])


def chunk_sizes(patients: int, max_size: int) -> list[int]:
    """The sizes of the chunks a night cuts ``patients`` into, none over ``max_size``: as many as
    needed, rounded up to a multiple of ``EVEN_SHARE`` while they are fewer than ``MANY_CHUNKS``
    (unless that takes chunks under ``MIN_CHUNK_PATIENTS``), the patients split evenly (sizes
    differ by one at most, the larger first)."""
    if patients <= 0:
        return []
    count = -(-patients // max_size)
    if count < MANY_CHUNKS:
        even = -(-count // EVEN_SHARE) * EVEN_SHARE
        count = max(count, min(even, patients // MIN_CHUNK_PATIENTS))
    base, extra = divmod(patients, count)
    return [base + 1] * extra + [base] * (count - extra)


def night_chunks(*, clinic_id: Any = None, max_size: int = 2000) -> Iterator[list[str]]:
    """Patient ids in the chunks of ``chunk_sizes`` (counted first; patients added since are read
    too, in chunks of the last size), in id order, one page at a time: a chunk can be sent to the
    workers while the next is read."""
    qs = _patients(clinic_id)
    return _id_pages(qs, chunk_sizes(qs.count(), max_size) or [max_size])


class _GcPause:
    """Pauses of the cyclic garbage collector, nestable and shared between threads (reference
    counting still frees everything; nothing in a chunk's work makes reference cycles)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._depth = 0
        self._was_enabled = False

    @contextmanager
    def __call__(self) -> Iterator[None]:
        with self._lock:
            if self._depth == 0:
                self._was_enabled = gc.isenabled()
                gc.disable()
            self._depth += 1
        try:
            yield
        finally:
            with self._lock:
                self._depth -= 1
                if self._depth == 0 and self._was_enabled:
                    gc.enable()


_gc_paused = _GcPause()


# ---------------------------------------------------------------------------- one chunk


def _read_chunk(patient_ids: Sequence[str]) -> Chunk:
    with _gc_paused():
        chunk = read_chunk(patient_ids)
        load_reference_sets_of(chunk)  # before the write, whose connection is busy copying
        return chunk


@dataclass
class _Plan:
    """A chunk read, with each trajectory's fingerprint and whether its snapshot is to be recomputed."""

    chunk: Chunk
    fingerprints: list[str]
    changed: npt.NDArray[np.bool_]


def _plan(chunk: Chunk) -> _Plan:
    fingerprints = trajectory_fingerprints(chunk)
    return _Plan(chunk, fingerprints, changed_trajectories(chunk, fingerprints))


def recompute_chunk(patient_ids: Sequence[str]) -> dict[str, int]:
    """Recompute and store the active-course snapshots of these patients. Idempotent."""
    plan = _plan(_read_chunk(patient_ids))
    outcomes = chunk_outcomes(plan.chunk, plan.fingerprints, plan.changed)
    return _store_chunk(plan, outcomes, len(patient_ids))  # written while computed


def _store_chunk(plan: _Plan, outcomes: Iterable[Outcome], n_patients: int) -> dict[str, int]:
    """One transaction: the chunk's changed snapshots replaced, notices. None when the chunk was
    read with every snapshot current (another run writing since would have stored what is newer)."""
    chunk = plan.chunk
    if not plan.changed.any() and not chunk.obsolete:
        return {"patients": n_patients, "snapshots": len(plan.fingerprints), "written": 0}
    with transaction.atomic(), _gc_paused():
        lock_chunk(chunk)  # a concurrent run over the same chunk waits, then sees what it wrote
        written, previous = replace_snapshots(chunk, outcomes, fingerprints=plan.fingerprints, computed=plan.changed)
        # A notice when the signal turns at_risk or off_track (the rule of projections.notices), in bulk.
        notices = []
        for o in written:
            if o.signal not in WORRYING_SIGNALS:
                continue
            notice = signal_notice(
                clinic_id=chunk.clinics[o.patient].pk,
                patient_id=chunk.patients[o.patient],
                scale=o.scale,
                signal=o.signal,
                previous_signal=previous.get(o.trajectory),
            )
            if notice is not None:
                notices.append(notice)
        write_notices(notices)
    return {"patients": n_patients, "snapshots": len(plan.fingerprints), "written": len(written)}


# ---------------------------------------------------------------------------- every chunk


def _close_connection() -> None:
    connection.close()  # the calling thread's own


def _read_ahead(chunks: Iterator[list[str]], reader: ThreadPoolExecutor) -> Iterator[tuple[list[str], Chunk]]:
    """Each chunk's ids and entries, the next chunk's read already under way."""
    pending: tuple[list[str], Future[Chunk]] | None = None
    for ids in chunks:
        future = reader.submit(_read_chunk, ids)
        if pending is not None:
            yield pending[0], pending[1].result()
        pending = (ids, future)
    if pending is not None:
        yield pending[0], pending[1].result()


def _computed(chunk: Chunk) -> tuple[_Plan, list[Outcome]]:
    with _gc_paused():
        plan = _plan(chunk)
        return plan, list(chunk_outcomes(chunk, plan.fingerprints, plan.changed))


def recompute_all(
    *,
    clinic_id: Any = None,
    chunk_size: int = 2000,
    progress: bool = False,
    on_chunk: Callable[[dict[str, int]], None] | None = None,
) -> dict[str, int]:
    """The nightly job in this process (the ``recompute_outcomes`` command and ``seed_demo``), chunk
    by chunk with the functions of ``recompute_chunk``. On PostgreSQL, outside a transaction, as a
    pipeline on three connections: chunk i + 1 is read while chunk i is computed and chunk i - 1 is
    written (its own transaction, as always), so the server's work overlaps this process's.
    ``on_chunk`` is called with each chunk's figures once it is stored."""
    qs = Patient.objects.all()
    if clinic_id:
        qs = qs.filter(clinic_id=clinic_id)
    totals = {"patients": 0, "snapshots": 0, "written": 0}

    def stored(stats: dict[str, int]) -> None:
        for key in totals:
            totals[key] += stats[key]
        bar.update(stats["patients"])
        if on_chunk is not None:
            on_chunk(stats)

    chunks = patient_chunks(clinic_id=clinic_id, chunk_size=chunk_size)
    with tqdm(total=qs.count(), unit="patient", disable=not progress) as bar:
        # A second connection would not see the rows of an open transaction: then, one at a time.
        if connection.vendor != "postgresql" or connection.in_atomic_block:
            for ids in chunks:
                stored(recompute_chunk(ids))
            return totals
        with ThreadPoolExecutor(1, "nightly-read") as reader, ThreadPoolExecutor(1, "nightly-write") as writer:
            try:
                writing: Future[dict[str, int]] | None = None
                for ids, chunk in _read_ahead(chunks, reader):
                    plan, outcomes = _computed(chunk)
                    if writing is not None:
                        stored(writing.result())
                    writing = writer.submit(_store_chunk, plan, outcomes, len(ids))
                if writing is not None:
                    stored(writing.result())
            finally:
                reader.submit(_close_connection).result()
                writer.submit(_close_connection).result()
    return totals
