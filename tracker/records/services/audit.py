"""The audit trail: who read or wrote which patient data. Ids and actions only, never values."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from tracker.records.context import current_client_request_id, current_request_id
from tracker.records.fastpath import insert_per_patient
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
    """One event per patient whose data a list read returned (in the order given): each is
    ``audit_event(..., object_id=patient, patient_id=patient)``, written in one statement on
    PostgreSQL (``fastpath.insert_per_patient``: an export audits tens of thousands)."""
    ids = list(patient_ids)
    if ids:
        insert_per_patient(audit_event(actor=actor, action=action, object_type=object_type), ids)
