"""The audit trail: who read or wrote which patient data. Ids and actions only, never values."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from django.db import connection
from django.utils import timezone

from tracker.records.context import current_client_request_id, current_request_id
from tracker.records.models import AuditEvent, User


def audit_event(
    *,
    actor: User | None,
    action: str,
    object_type: str,
    object_id: object = "",
    patient_id: uuid.UUID | None = None,
    clinic_id: uuid.UUID | None = None,
) -> AuditEvent:
    """The event, not yet saved (for a service that writes it with its other rows)."""
    return AuditEvent(
        actor=actor if actor is not None and actor.pk else None,
        actor_username=getattr(actor, "username", "") or "",
        actor_role=getattr(actor, "role", "") or "",
        clinic_id=clinic_id if clinic_id is not None else getattr(actor, "clinic_id", None),
        action=action,
        object_type=object_type,
        object_id=str(object_id or ""),
        patient_id=patient_id,
        request_id=current_request_id(),
        client_request_id=current_client_request_id(),
    )


def audit_record(**fields: Any) -> AuditEvent:
    """An event as ``audit_event`` builds it, saved now."""
    event = audit_event(**fields)
    event.save(force_insert=True)
    return event


def audit_record_many(*, actor: User, action: str, object_type: str, patient_ids: Iterable[uuid.UUID]) -> None:
    """One event per patient whose data a list read returned (in the order given).

    On PostgreSQL one ``INSERT ... SELECT`` over the ids as an array: the rows ``bulk_create`` would
    write, without building a model instance per patient (an export audits tens of thousands)."""
    ids = list(patient_ids)
    if not ids:
        return
    if connection.vendor != "postgresql":
        AuditEvent.objects.bulk_create(
            audit_event(actor=actor, action=action, object_type=object_type, object_id=pid, patient_id=pid)
            for pid in ids
        )
        return
    one = audit_event(actor=actor, action=action, object_type=object_type)
    with connection.cursor() as cursor:
        cursor.execute(
            _INSERT_MANY,
            {
                "at": timezone.now(),
                "actor": one.actor_id,
                "username": one.actor_username,
                "role": one.actor_role,
                "clinic": one.clinic_id,
                "action": action,
                "object_type": object_type,
                "request_id": one.request_id,
                "client_request_id": one.client_request_id,
                "ids": ids,
            },
        )


_INSERT_MANY = """
INSERT INTO tracker_auditevent (at, actor_id, actor_username, actor_role, clinic_id, action, object_type,
    object_id, patient_id, request_id, client_request_id)
SELECT %(at)s, %(actor)s, %(username)s, %(role)s, %(clinic)s, %(action)s, %(object_type)s, u.p::text, u.p,
    %(request_id)s, %(client_request_id)s
FROM unnest(%(ids)s::uuid[]) WITH ORDINALITY AS u(p, n) ORDER BY u.n
"""
