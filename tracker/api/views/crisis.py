"""Crisis resources: the patient's (also embedded in a flagged entry's answer) and the clinic's settings."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils import translation
from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from tracker.api.permissions import IsAdmin, IsPatient, IsStaff
from tracker.api.serializers import crisis as s
from tracker.api.serializers.base import validated
from tracker.api.views.base import Endpoint, audit_read, clinic_of
from tracker.records import crisis, selectors
from tracker.records.models import Clinic, Patient
from tracker.records.services.crisis import clinic_set_crisis_resources


def request_locale(request: Request, patient: Patient) -> str:
    """The language the patient reads: the request's ``Accept-Language`` when it sent one, else the
    patient's own locale where known, else the active (default) language."""
    if request.META.get("HTTP_ACCEPT_LANGUAGE"):
        return translation.get_language() or settings.LANGUAGE_CODE
    return getattr(patient, "locale", "") or translation.get_language() or settings.LANGUAGE_CODE


def patient_crisis_resources(request: Request, patient: Patient) -> dict[str, Any]:
    return crisis.resources_for(patient.clinic, request_locale(request, patient), patient)


class MyCrisisResourcesView(Endpoint):
    permission_classes = [IsPatient]

    @extend_schema(responses={200: s.CrisisResourcesSerializer})
    def get(self, request: Request) -> Response:
        patient = selectors.patient_of_user(actor=self.actor)
        audit_read(request, "crisis_resources.read", "patient", patient.pk, patient)
        return Response(patient_crisis_resources(request, patient))


def _settings_body(clinic: Clinic) -> dict[str, Any]:
    stored = clinic.crisis_resources or {}
    return {
        "country": clinic.country,
        "clinic_line": stored.get("clinic_line"),
        "locales": stored.get("locales", {}),
        "effective": {code: crisis.resources_for(clinic, code) for code, _name in settings.LANGUAGES},
    }


class ClinicCrisisResourcesView(Endpoint):
    """Staff read the clinic's crisis settings and what patients are shown; a clinic admin replaces them."""

    def get_permissions(self) -> list[Any]:
        return [IsAdmin()] if self.request.method == "PUT" else [IsStaff()]

    @extend_schema(responses={200: s.CrisisSettingsAnswerSerializer})
    def get(self, request: Request) -> Response:
        return Response(_settings_body(clinic_of(request)))

    @extend_schema(request=s.CrisisSettingsSerializer, responses={200: s.CrisisSettingsAnswerSerializer})
    def put(self, request: Request) -> Response:
        values = validated(s.CrisisSettingsInputSerializer, request.data)
        clinic = clinic_set_crisis_resources(actor=self.actor, **values)
        return Response(_settings_body(clinic))
