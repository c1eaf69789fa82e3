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


def patient_crisis_resources(patient: Patient) -> dict[str, Any]:
    """In the active language: Accept-Language, else the patient's locale (the bearer authentication)."""
    return crisis.resources_for(patient.clinic, translation.get_language() or settings.LANGUAGE_CODE, patient)


class MyCrisisResourcesView(Endpoint):
    permission_classes = [IsPatient]

    @extend_schema(responses={200: s.CrisisResourcesSerializer})
    def get(self, request: Request) -> Response:
        patient = selectors.patient_of_user(actor=self.actor)
        audit_read(request, "crisis_resources.read", "patient", patient.pk, patient)
        return Response(patient_crisis_resources(patient))


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
