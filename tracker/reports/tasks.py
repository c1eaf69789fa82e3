"""Celery tasks of the reports layer: exports built by a worker. Ids only in the messages."""

from __future__ import annotations

import logging
from typing import Any

from celery import shared_task
from django.db import transaction

from tracker.records.models import ExportJob, User
from tracker.records.services.exports import (
    export_job_claim,
    export_job_create,
    export_job_fail,
    export_job_finish,
    exports_purge,
)
from tracker.reports.exports import build_export

logger = logging.getLogger(__name__)


@shared_task(name="tracker.reports.tasks.run_export")
def run_export(job_id: str) -> str:
    """Build one export job's files; returns its final status. Run twice, it builds them again
    (a job already done or failed is left as it is)."""
    job = export_job_claim(job_id=job_id)
    if job is None:
        return "skipped"
    try:
        files = build_export(job)
    except Exception:
        logger.exception("export job %s failed", job_id)
        export_job_fail(job=job)
        return "failed"
    export_job_finish(job=job, files=files)
    return "done"


@shared_task(name="tracker.reports.tasks.exports_purge")
def exports_purge_task() -> int:
    """Remove expired export jobs and their files (on the beat, hourly)."""
    return exports_purge()


def export_start(*, actor: User, kind: str, params: dict[str, Any], request_url: str = "") -> ExportJob:
    """Create the job (``export_job_create``) and hand its id to the workers once it is committed."""
    job = export_job_create(actor=actor, kind=kind, params=params, request_url=request_url)
    transaction.on_commit(lambda: run_export.delay(str(job.pk)))
    return job
