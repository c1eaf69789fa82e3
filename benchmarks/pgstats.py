"""What PostgreSQL spent on a benchmark's own database: the CPU time of the server processes
serving it, the pages its queries touched and the WAL its writes made.

- CPU: every server process whose title names the database (``postgres: user db host(port) ...``,
  autovacuum workers included),
  read from ``/proc`` (Linux), summed over the processes seen between ``start`` and ``stop`` (a
  process that appears later counts from zero; call ``sample`` before connections close);
- pages: ``blks_hit + blks_read`` of ``pg_stat_database`` (shared buffers hit or read in);
- WAL: with ``pg_walinspect`` (PostgreSQL 15+, superuser) the bytes of the WAL records that touch
  one of the database's relations, so other databases of a shared server do not count; without
  it, the whole server's ``pg_current_wal_lsn()`` difference, labelled so. The records are read
  at ``stop``, off the measured stretch (reading them takes the server's CPU from the measured
  work): a temporary physical replication slot keeps the stretch's WAL segments from being
  recycled meanwhile. Where no slot can be made, they are read every few seconds instead.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

WAL_EVERY_SECONDS = 5.0


def _cpu_of(pid: int, tick: int) -> float | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / tick


def backends_of(dbname: str, exclude: int | None = None) -> dict[int, bool]:
    """The server processes serving ``dbname`` (their process title names it), each with whether
    it serves a client connection (not an autovacuum worker)."""
    pids = {}
    needle = f" {dbname} ".encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == exclude:
            continue
        try:
            if (entry / "comm").read_bytes().strip() != b"postgres":
                continue
            title = (entry / "cmdline").read_bytes().replace(b"\0", b" ")
        except OSError:
            continue
        if needle in title:
            pids[int(entry.name)] = b"autovacuum" not in title
    return pids


@dataclass
class Spent:
    seconds: float
    cpu_seconds: float  # server processes of the database
    pages: int  # shared buffers hit or read
    pages_read: int  # of which read in from the operating system
    wal_bytes: int
    wal_scope: str  # "database" or "server"


class ServerMeter:
    """Measures a stretch of work on ``dbname``: ``start()``, then ``stop()``. Between the two a
    thread of its own samples every half second (off the measured code's thread)."""

    def __init__(self, dsn: str, dbname: str) -> None:
        self.dbname = dbname
        self._conn = psycopg.connect(dsn, autocommit=True)
        self._own_pid = self._conn.info.backend_pid
        self._tick = os.sysconf("SC_CLK_TCK")
        oid = self._conn.execute("SELECT oid FROM pg_database WHERE datname = %s", [dbname]).fetchone()
        assert oid is not None
        self._oid = int(oid[0])
        try:
            self._conn.execute("CREATE EXTENSION IF NOT EXISTS pg_walinspect")
            self.wal_scope = "database"
        except psycopg.Error:
            self.wal_scope = "server"
        self._slot: str | None = None
        self._slots_made = 0
        self._first: dict[int, float] = {}
        self._last: dict[int, float] = {}
        self._clients: set[int] = set()

    def close(self) -> None:
        self._conn.close()  # a temporary slot goes with the session

    def _keep_wal(self) -> None:
        """A temporary physical slot holding the WAL from now on (its restart point is at or
        before the current position), so the stretch's records can all be read at ``stop``."""
        self._slots_made += 1
        name = f"bench_meter_{os.getpid()}_{self._own_pid}_{self._slots_made}"
        try:
            self._conn.execute("SELECT pg_create_physical_replication_slot(%s, true, true)", [name])
        except psycopg.Error:  # no privilege or no slot left: read the WAL as it goes
            self._slot = None
            return
        self._slot = name

    def _release_wal(self) -> None:
        """Drop the slot, unless it is gone already (a temporary slot goes with any error of its
        session, such as a failed WAL read)."""
        if self._slot is not None:
            slot, self._slot = self._slot, None
            self._conn.execute(
                "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = %s", [slot]
            )

    def _stats(self) -> tuple[int, int]:
        self._conn.execute("SELECT pg_stat_clear_snapshot()")
        row = self._conn.execute(
            "SELECT blks_hit + blks_read, blks_read FROM pg_stat_database WHERE datid = %s", [self._oid]
        ).fetchone()
        assert row is not None
        return int(row[0]), int(row[1])

    def _lsn(self) -> str:
        # Flushed WAL only: pg_walinspect reads no further.
        row = self._conn.execute("SELECT pg_current_wal_flush_lsn()::text").fetchone()
        assert row is not None
        return str(row[0])

    def start(self) -> None:
        self._first, self._last, self._clients = {}, {}, set()
        self._sample_cpu()
        self._first = dict(self._last)
        self._pages0, self._read0 = self._stats()
        if self.wal_scope == "database":
            self._keep_wal()
        self._wal_lsn = self._lsn()
        self._wal_bytes = 0
        self._wal_at = time.perf_counter()
        self._scope = self.wal_scope
        self._t0 = time.perf_counter()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._sample_until_stopped, name="server-meter", daemon=True)
        self._thread.start()

    def _sample_until_stopped(self) -> None:
        while not self._stopping.wait(0.5):
            self.sample()

    def sample(self) -> None:
        """Note the CPU of the database's server processes now (before some of them exit), and,
        without a slot keeping the WAL, every few seconds (reading WAL takes CPU from the measured
        work) the WAL written since the last look, while its segments are still there."""
        self._sample_cpu()
        if self._slot is None and time.perf_counter() - self._wal_at >= WAL_EVERY_SECONDS:
            self._add_wal()

    def _sample_cpu(self) -> None:
        for pid, client in backends_of(self.dbname, exclude=self._own_pid).items():
            if client:
                self._clients.add(pid)
            cpu = _cpu_of(pid, self._tick)
            if cpu is not None:
                self._last[pid] = cpu
                self._first.setdefault(pid, 0.0)

    def connections(self) -> int:
        """Client connections seen on the database since ``start`` (one server process each)."""
        return len(self._clients)

    def stop(self, *, settle: float = 0.0) -> Spent:
        """The figures since ``start``; ``settle`` seconds are waited first for closed connections'
        statistics to arrive."""
        seconds = time.perf_counter() - self._t0
        self._stopping.set()
        self._thread.join()
        self._sample_cpu()
        cpu = sum(self._last[pid] - self._first.get(pid, 0.0) for pid in self._last)
        if settle:
            time.sleep(settle)
        pages, read = self._stats()
        try:
            self._add_wal()
        finally:
            self._release_wal()
        return Spent(
            seconds=seconds,
            cpu_seconds=cpu,
            pages=pages - self._pages0,
            pages_read=read - self._read0,
            wal_bytes=self._wal_bytes,
            wal_scope=self._scope,
        )

    def _add_wal(self) -> None:
        start, end = self._wal_lsn, self._lsn()
        self._wal_at = time.perf_counter()
        row: Any = self._conn.execute("SELECT pg_wal_lsn_diff(%s, %s)", [end, start]).fetchone()
        if int(row[0]) <= 0:  # nothing written (pg_walinspect refuses an empty range)
            return
        self._wal_lsn = end
        if self._scope == "database":
            try:
                row = self._conn.execute(
                    "SELECT coalesce(sum(record_length), 0) FROM pg_get_wal_records_info(%s, %s)"
                    " WHERE block_ref LIKE %s",
                    [start, end, f"%/{self._oid}/%"],
                ).fetchone()
            except psycopg.Error:  # a segment already recycled: the whole server's from here on
                self._scope = "server, in part"
        self._wal_bytes += int(row[0])


def mib(n_bytes: float) -> str:
    return f"{n_bytes / 2**20:.1f} MiB"
