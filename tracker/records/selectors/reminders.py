"""A patient's reminder preference and devices, scoped to the patient's own login."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from tracker.records.models import Device, Patient, PushOutboxMessage, ReminderPreference, User
from tracker.records.selectors import _get_or_404, patients_visible


def reminder_preference_of(*, patient: Patient) -> ReminderPreference:
    """The stored preference, or the defaults (unsaved) for a patient who never set one."""
    return ReminderPreference.objects.filter(patient=patient).first() or ReminderPreference(patient=patient)


def devices_visible(*, actor: User) -> QuerySet[Device]:
    return Device.objects.filter(patient__in=patients_visible(actor=actor))


def device_get(*, actor: User, device_id: Any) -> Device:
    return _get_or_404(devices_visible(actor=actor), device_id, actor=actor)


def push_outbox_visible(*, actor: User) -> QuerySet[PushOutboxMessage]:
    """The pushes recorded for the actor's clinic (staff), newest first."""
    if not actor.is_clinic_staff or actor.clinic_id is None:
        return PushOutboxMessage.objects.none()
    return PushOutboxMessage.objects.filter(patient__clinic_id=actor.clinic_id).select_related("device")
