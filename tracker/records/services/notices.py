"""Clinicians reading the notices raised for their patients."""

from __future__ import annotations

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from tracker.records.models import AuditEvent, Notice, User
from tracker.records.services.audit import audit_event, audit_record


@transaction.atomic
def notice_mark_read(*, actor: User, notice: Notice) -> Notice:
    if notice.read_at is None:
        notice.read_at = timezone.now()
        notice.save(update_fields=["read_at"])
        audit_record(
            actor=actor, action="notice.read", object_type="notice", object_id=notice.pk, patient_id=notice.patient_id
        )
    return notice


@transaction.atomic
def notice_mark_all_read(*, actor: User, notices: QuerySet[Notice]) -> int:
    """Mark every unread notice of ``notices`` (already scoped to ``actor``) read; one audit event each."""
    unread = list(notices.filter(read_at__isnull=True).select_for_update().values_list("id", "patient_id"))
    if not unread:
        return 0
    Notice.objects.filter(pk__in=[pk for pk, _ in unread]).update(read_at=timezone.now())
    AuditEvent.objects.bulk_create(
        audit_event(actor=actor, action="notice.read", object_type="notice", object_id=pk, patient_id=patient_id)
        for pk, patient_id in unread
    )
    return len(unread)
