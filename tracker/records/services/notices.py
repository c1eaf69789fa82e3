"""Clinicians reading the notices raised for their patients."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from tracker.records.models import Notice, User
from tracker.records.services.audit import audit_record


@transaction.atomic
def notice_mark_read(*, actor: User, notice: Notice) -> Notice:
    if notice.read_at is None:
        notice.read_at = timezone.now()
        notice.save(update_fields=["read_at"])
        audit_record(
            actor=actor, action="notice.read", object_type="notice", object_id=notice.pk, patient_id=notice.patient_id
        )
    return notice
