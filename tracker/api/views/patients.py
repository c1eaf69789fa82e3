"""Patients: the clinic's list, creation, one patient, and a patient's own profile."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics
from rest_framework.request import Request
from rest_framework.response import Response

from projections.filters import PatientFilter
from projections.models import OutcomeSnapshot
from tracker.api.permissions import IsPatient, IsStaff, IsStaffOrPatient
from tracker.api.serializers import auth as auth_s
from tracker.api.serializers import courses as course_s
from tracker.api.serializers import patients as s
from tracker.api.serializers.base import validated
from tracker.api.views.base import IF_NONE_MATCH, NOT_MODIFIED, Endpoint, PatientEndpoint, actor_of, audit_read
from tracker.records import selectors
from tracker.records.models import Patient, SafetyFlag
from tracker.records.selectors.schedule import questionnaires_due
from tracker.records.services import passwords as password_services
from tracker.records.services import patients as patient_services
from tracker.records.services.audit import audit_record_many


class PatientListCreateView(generics.GenericAPIView):  # type: ignore[type-arg]
    # The clinic's patients with their current outcome summaries (the stored snapshots) and open
    # flags; ``?signal=``, ``?state=``, ``?flagged=`` are validated by ``PatientFilter``.
    permission_classes = [IsStaff]
    filterset_class = PatientFilter
    serializer_class = s.PatientListItemSerializer

    def get_queryset(self) -> QuerySet[Patient]:
        if getattr(self, "swagger_fake_view", False):  # schema generation
            return Patient.objects.none()
        return (
            selectors.patients_visible(actor=actor_of(self.request))
            .order_by("name", "id")
            .prefetch_related(
                Prefetch(
                    "flags",
                    queryset=SafetyFlag.objects.filter(acknowledged_at__isnull=True).prefetch_related(
                        "acknowledgements"
                    ),
                    to_attr="open_flags",
                ),
                Prefetch(
                    "snapshots", queryset=OutcomeSnapshot.objects.select_related("course"), to_attr="all_snapshots"
                ),
            )
        )

    @extend_schema(responses={200: s.PatientListItemSerializer(many=True)})
    def get(self, request: Request) -> Response:
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        patients = list(page if page is not None else queryset)
        for patient in patients:
            patient.outcomes = _current_snapshots(patient)  # type: ignore[attr-defined]
        audit_record_many(
            actor=actor_of(request),
            action="patient.list",
            object_type="patient",
            patient_ids=[p.pk for p in patients],
        )
        data = s.PatientListItemSerializer(patients, many=True).data
        return self.get_paginated_response(data) if page is not None else Response(data)

    @extend_schema(request=s.PatientCreateSerializer, responses={201: s.PatientCreatedSerializer})
    def post(self, request: Request) -> Response:
        values = validated(s.PatientCreateSerializer, request.data)
        created = patient_services.patient_create(
            actor=actor_of(request),
            name=values["name"],
            date_of_birth=values.get("date_of_birth"),
            external_id=values.get("external_id", ""),
            timezone_name=values.get("timezone") or "UTC",
            schedule=values.get("schedule"),
        )
        patient = created.patient
        patient.enrollment_code = created.enrollment_code  # type: ignore[attr-defined]
        patient.enrollment_code_expires_at = created.enrollment_expires_at  # type: ignore[attr-defined]
        return Response(s.PatientCreatedSerializer(patient).data, status=201)


def _current_snapshots(patient: Patient) -> list[OutcomeSnapshot]:
    """The snapshots of the patient's latest course (or of entries without a course)."""
    snaps: list[OutcomeSnapshot] = getattr(patient, "all_snapshots", [])
    if not snaps:
        return []
    latest_course = max((x.course for x in snaps if x.course), key=lambda c: (c.start_date, c.created_at), default=None)
    return [x for x in snaps if x.course == latest_course]


class PatientDetailView(PatientEndpoint):
    permission_classes = [IsStaffOrPatient]
    read_action = "patient.read"

    @extend_schema(responses={200: s.PatientSerializer})
    def get(self, request: Request, patient_id: str) -> Response:
        return Response(s.PatientSerializer(self.patient).data)


class PatientEnrollmentCodeView(PatientEndpoint):
    """A new enrollment code for a patient who lost theirs or let it expire (earlier unused codes stop
    working); a patient who has enrolled already is answered 409."""

    permission_classes = [IsStaff]

    @extend_schema(
        request=None,
        responses={
            201: s.EnrollmentCodeSerializer,
            409: OpenApiResponse(description="The patient has enrolled already."),
        },
    )
    def post(self, request: Request, patient_id: str) -> Response:
        raw, code = patient_services.patient_enrollment_code_renew(actor=self.actor, patient=self.patient)
        return Response({"enrollment_code": raw, "expires_at": code.expires_at}, status=201)


class PatientPasswordResetCodeView(PatientEndpoint):
    """A single-use, short-lived password reset code for an enrolled patient (earlier unused codes
    stop working); a patient not enrolled yet is answered 409 (they need an enrollment code)."""

    permission_classes = [IsStaff]

    @extend_schema(
        request=None,
        responses={
            201: auth_s.ResetCodeSerializer,
            409: OpenApiResponse(description="The patient has not enrolled yet: renew the enrollment code."),
        },
    )
    def post(self, request: Request, patient_id: str) -> Response:
        issued = password_services.patient_password_reset_code_issue(actor=self.actor, patient=self.patient)
        return Response({"reset_code": issued.raw, "expires_at": issued.expires_at}, status=201)


class MeView(Endpoint):
    permission_classes = [IsPatient]
    conditional_get = True

    def _profile(self, request: Request) -> Response:
        patient = selectors.patient_of_user(actor=self.actor)
        audit_read(request, "patient.me", "patient", patient.pk, patient)
        course = selectors.current_course(patient=patient)
        return Response(
            {
                "patient": s.PatientSerializer(patient).data,
                "course": course_s.CourseSerializer(course).data if course else None,
                "due": [d.__dict__ for d in questionnaires_due(patient=patient)],
            }
        )

    @extend_schema(parameters=[IF_NONE_MATCH], responses={200: s.MeSerializer, 304: NOT_MODIFIED})
    def get(self, request: Request) -> Response:
        return self._profile(request)

    @extend_schema(request=s.MeUpdateSerializer, responses={200: s.MeSerializer})
    def patch(self, request: Request) -> Response:
        """The patient's own time zone and language; answers the profile as ``GET`` does."""
        values = validated(s.MeUpdateSerializer, request.data)
        if "timezone" in values:
            values["timezone_name"] = values.pop("timezone")
        patient_services.patient_update_preferences(
            actor=self.actor, patient=selectors.patient_of_user(actor=self.actor), **values
        )
        return self._profile(request)
