"""A patient's reminder preference and devices; the push outbox for staff."""

from __future__ import annotations

from typing import Any

from django.utils import translation
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from tracker.api.pagination import ListPagination
from tracker.api.permissions import IsPatient, IsStaff
from tracker.api.serializers import reminders as s
from tracker.api.serializers.base import validated
from tracker.api.views.base import Endpoint, audit_read
from tracker.records import selectors
from tracker.records.models import ReminderPreference
from tracker.records.selectors.reminders import device_get, push_outbox_visible, reminder_preference_of
from tracker.records.services import reminders as reminder_services


def _preference_body(pref: ReminderPreference) -> dict[str, Any]:
    return {
        "enabled": pref.enabled,
        "local_time": pref.local_time.strftime("%H:%M"),
        "channels": list(pref.channels),
        "email": pref.email or None,
    }


class MyRemindersView(Endpoint):
    permission_classes = [IsPatient]

    @extend_schema(responses={200: s.ReminderPreferenceSerializer})
    def get(self, request: Request) -> Response:
        patient = selectors.patient_of_user(actor=self.actor)
        audit_read(request, "reminder_preference.read", "patient", patient.pk, patient)
        return Response(_preference_body(reminder_preference_of(patient=patient)))

    @extend_schema(request=s.ReminderPreferenceSerializer, responses={200: s.ReminderPreferenceSerializer})
    def put(self, request: Request) -> Response:
        patient = selectors.patient_of_user(actor=self.actor)
        values = validated(s.ReminderPreferenceSerializer, request.data)
        # Reminders are written in the language the app asked in, until the patient sets their own locale.
        locale = translation.get_language() if request.META.get("HTTP_ACCEPT_LANGUAGE") else ""
        pref = reminder_services.reminder_preference_update(
            actor=self.actor, patient=patient, locale=locale or "", **values
        )
        return Response(_preference_body(pref))


class MyDevicesView(Endpoint):
    permission_classes = [IsPatient]

    @extend_schema(
        request=s.DeviceCreateSerializer,
        responses={
            201: s.DeviceSerializer,
            200: OpenApiResponse(s.DeviceSerializer, description="This token was registered already."),
        },
    )
    def post(self, request: Request) -> Response:
        patient = selectors.patient_of_user(actor=self.actor)
        values = validated(s.DeviceCreateSerializer, request.data)
        device, created = reminder_services.device_register(actor=self.actor, patient=patient, **values)
        return Response(s.DeviceSerializer(device).data, status=201 if created else 200)


class MyDeviceView(Endpoint):
    permission_classes = [IsPatient]

    @extend_schema(responses={204: None})
    def delete(self, request: Request, device_id: str) -> Response:
        device = device_get(actor=self.actor, device_id=device_id)
        reminder_services.device_delete(actor=self.actor, device=device)
        return Response(status=204)


class PushOutboxView(Endpoint):
    """The pushes recorded while no push provider is configured, newest first (staff of the clinic)."""

    permission_classes = [IsStaff]
    pagination_class = ListPagination

    @extend_schema(responses={200: s.PushOutboxMessageSerializer(many=True)})
    def get(self, request: Request) -> Response:
        return self.audited_page(
            push_outbox_visible(actor=self.actor), s.PushOutboxMessageSerializer, "push_outbox.list"
        )
