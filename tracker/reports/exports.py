"""Exports a worker builds instead of a request: a large response CSV and the clinic's FHIR bulk
export (the FHIR Bulk Data ``$export`` shape: one NDJSON file per resource type).

Design: the request creates an ``ExportJob`` row (ids and parameters only) and hands its id to
Celery (``tracker.reports.tasks.run_export``), answering 202 with the job's URL. The worker streams
the export into files under ``settings.EXPORT_DIR``/<job id>/ (a directory the web servers and the
workers share) with the same code and the same constant memory as the streamed download, auditing
each patient as the download would, as the admin who asked; then marks the job done with its file
names. The admin polls the job and downloads each file (streamed from disk, audited). Jobs and
their files are removed when they expire (``EXPORT_TTL_HOURS``; the hourly ``exports_purge``).
A worker that dies mid-job leaves the message to another (acks late), which starts the job again.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

from tracker.records import selectors
from tracker.records.models import ExportJob, ExportKind, User
from tracker.records.services.audit import audit_record_many
from tracker.records.services.exports import export_dir
from tracker.reports.csv_export import response_csv_stream
from tracker.reports.fhir import BULK_TYPES, bulk_resources

CSV_NAME = "response-report.csv"
FHIR_AUDIT_ACTION = "fhir.bulk"


def _write_lines(path: Path, lines: Iterable[str]) -> None:
    with path.open("w", encoding="utf-8", newline="") as out:
        for line in lines:
            out.write(line)


def _audited(actor: User, items: Iterator[tuple[str, Any]], seen: set[int], batch: int = 2000) -> Iterator[str]:
    """The lines of ``items`` (``(line, patient id)``), each patient's first one in the export
    (``seen``: the ids already audited) audited before it is written (``fhir.bulk``)."""
    pending_lines: list[str] = []
    pending_ids: list[Any] = []
    for line, patient_id in items:
        if patient_id.int not in seen:
            seen.add(patient_id.int)
            pending_ids.append(patient_id)
        pending_lines.append(line)
        if len(pending_lines) >= batch:
            audit_record_many(actor=actor, action=FHIR_AUDIT_ACTION, object_type="patient", patient_ids=pending_ids)
            yield from pending_lines
            pending_lines, pending_ids = [], []
    audit_record_many(actor=actor, action=FHIR_AUDIT_ACTION, object_type="patient", patient_ids=pending_ids)
    yield from pending_lines


def build_export(job: ExportJob) -> list[dict[str, Any]]:
    """Write the job's files; return their descriptions (type, name, count)."""
    actor = job.requested_by
    if actor is None or actor.clinic_id != job.clinic_id:
        raise PermissionError("the admin who asked for this export is no longer on the clinic's staff")
    folder = export_dir(job)
    folder.mkdir(parents=True, exist_ok=True)
    if job.kind == ExportKind.RESPONSE_CSV:
        params = job.params
        stream = response_csv_stream(
            actor=actor,
            date_from=date.fromisoformat(params["from"]) if params.get("from") else None,
            date_to=date.fromisoformat(params["to"]) if params.get("to") else None,
        )
        _write_lines(folder / CSV_NAME, stream)
        return [{"type": "text/csv", "name": CSV_NAME}]
    files = []
    patients = selectors.patients_visible(actor=actor)
    entries = selectors.assessments_visible(actor=actor)
    seen: set[int] = set()  # one event per patient for the whole export
    for resource_type in job.params.get("types") or BULK_TYPES:
        count = 0

        def counted(items: Iterator[tuple[str, Any]]) -> Iterator[tuple[str, Any]]:
            nonlocal count
            for item in items:
                count += 1
                yield item

        name = f"{resource_type}.ndjson"
        resources = bulk_resources(resource_type, patients=patients, entries=entries)
        _write_lines(folder / name, _audited(actor, counted(resources), seen))
        files.append({"type": resource_type, "name": name, "count": count})
    return files
