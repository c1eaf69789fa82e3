"""Export jobs: a clinic admin's export that a worker builds (a large response CSV, a FHIR bulk
export). The job row holds ids, parameters and state only; the files live under
``settings.EXPORT_DIR``/<job id>/ until the job expires."""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from tracker.records.models import ExportJob, ExportStatus, User
from tracker.records.services.audit import audit_record


def export_dir(job: ExportJob) -> Path:
    """The directory of the job's files."""
    return Path(settings.EXPORT_DIR) / str(job.pk)


@transaction.atomic
def export_job_create(*, actor: User, kind: str, params: dict[str, Any], request_url: str = "") -> ExportJob:
    """A new pending job of the actor's clinic (audited as ``export.start``)."""
    assert actor.clinic_id is not None, "only clinic staff export"
    job = ExportJob.objects.create(
        clinic_id=actor.clinic_id,
        requested_by=actor,
        kind=kind,
        params=params,
        request_url=request_url[:500],
        expires_at=timezone.now() + timedelta(hours=settings.EXPORT_TTL_HOURS),
    )
    audit_record(actor=actor, action="export.start", object_type="export_job", object_id=job.pk)
    return job


def export_job_claim(*, job_id: str) -> ExportJob | None:
    """The job, marked running, if it is still pending or was left running by a worker that died
    (a task can run twice); None if it is done, failed or gone."""
    with transaction.atomic():
        job = ExportJob.objects.select_for_update().filter(pk=job_id).first()
        if job is None or job.status in (ExportStatus.DONE, ExportStatus.FAILED):
            return None
        job.status = ExportStatus.RUNNING
        job.save(update_fields=["status"])
    shutil.rmtree(export_dir(job), ignore_errors=True)  # a previous, interrupted run's files
    return job


def export_job_finish(*, job: ExportJob, files: list[dict[str, Any]]) -> ExportJob:
    job.status = ExportStatus.DONE
    job.files = files
    job.finished_at = timezone.now()
    job.save(update_fields=["status", "files", "finished_at"])
    return job


def export_job_fail(*, job: ExportJob) -> ExportJob:
    job.status = ExportStatus.FAILED
    job.finished_at = timezone.now()
    job.save(update_fields=["status", "finished_at"])
    shutil.rmtree(export_dir(job), ignore_errors=True)
    return job


def export_file_download(*, actor: User, job: ExportJob, name: str) -> Path | None:
    """The path of one of the job's files (audited as ``export.download``), or None if the job is
    not done or has no such file."""
    if job.status != ExportStatus.DONE or name not in {f["name"] for f in job.files}:
        return None
    path = export_dir(job) / name
    if not path.is_file():
        return None
    audit_record(actor=actor, action="export.download", object_type="export_job", object_id=job.pk)
    return path


def exports_purge() -> int:
    """Delete the expired jobs and their files; returns how many."""
    expired = list(ExportJob.objects.filter(expires_at__lte=timezone.now()))
    for job in expired:
        shutil.rmtree(export_dir(job), ignore_errors=True)
    ExportJob.objects.filter(pk__in=[j.pk for j in expired]).delete()
    return len(expired)
