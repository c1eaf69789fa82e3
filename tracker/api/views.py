"""API v1 views: thin. Validate with a serializer, scope with a selector, write with a service,
audit every read of patient data."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db import transaction
from django.db.models import Prefetch, QuerySet
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from projections import services as projection_services
from projections.filters import PatientFilter
from projections.models import OutcomeSnapshot
from projections.outcomes import current_outcomes
from tracker.api import serializers as s
from tracker.api.permissions import IsAdmin, IsClinician, IsPatient, IsStaff, IsStaffOrPatient
from tracker.records import selectors
from tracker.records.models import AuthToken, Clinic, Patient, Role, SafetyFlag, User
from tracker.records.selectors.schedule import questionnaires_due
from tracker.records.services import assessments as assessment_services
from tracker.records.services import auth as auth_services
from tracker.records.services import clinics as clinic_services
from tracker.records.services import patients as patient_services
from tracker.records.services.audit import audit_record, audit_record_many
from tracker.records.services.errors import invalid


def _actor(request: Request) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


def _clinic(request: Request) -> Clinic:
    clinic = _actor(request).clinic
    assert clinic is not None, "staff endpoints are only reached by clinic staff"
    return clinic


def audit_read(request: Request, action: str, object_type: str, object_id: Any, patient: Patient) -> None:
    audit_record(
        actor=_actor(request),
        action=action,
        object_type=object_type,
        object_id=object_id,
        patient_id=patient.pk,
        clinic_id=patient.clinic_id,
    )


# --- auth -------------------------------------------------------------------------------------------
class TokenView(APIView):
    authentication_classes: list[type] = []
    permission_classes = [AllowAny]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "login"

    @extend_schema(request=s.TokenRequestSerializer, responses={200: s.TokenSerializer}, auth=[])
    def post(self, request: Request) -> Response:
        data = s.TokenRequestSerializer(data=request.data)
        if not data.is_valid():
            # Missing or malformed fields get the same generic answer as a wrong pair.
            return Response({"detail": auth_services.GENERIC_LOGIN_ERROR, **data.errors}, status=400)
        issued = auth_services.login_with_password(
            username=data.validated_data["username"], password=data.validated_data["password"]
        )
        return Response({"token": issued.raw, "expires_at": issued.expires_at, "role": issued.user.role})


class LogoutView(APIView):
    @extend_schema(request=None, responses={204: None})
    def post(self, request: Request) -> Response:
        assert isinstance(request.auth, AuthToken)
        auth_services.token_revoke(token=request.auth)
        return Response(status=status.HTTP_204_NO_CONTENT)


class EnrollView(APIView):
    authentication_classes: list[type] = []
    permission_classes = [AllowAny]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "enroll"

    @extend_schema(request=s.EnrollRequestSerializer, responses={201: s.EnrollResponseSerializer}, auth=[])
    def post(self, request: Request) -> Response:
        data = s.EnrollRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        patient, issued = patient_services.patient_enroll(**data.validated_data)
        return Response({"token": issued.raw, "expires_at": issued.expires_at, "patient_id": patient.pk}, status=201)


# --- staff ------------------------------------------------------------------------------------------
class StaffView(APIView):
    permission_classes = [IsAdmin]

    @extend_schema(request=s.StaffCreateSerializer, responses={201: s.StaffSerializer})
    def post(self, request: Request) -> Response:
        data = s.StaffCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = clinic_services.staff_create(actor=_actor(request), **data.validated_data)
        return Response({"id": user.pk, "username": user.username, "role": user.role}, status=201)


# --- patients ---------------------------------------------------------------------------------------
class PatientListCreateView(generics.GenericAPIView):  # type: ignore[type-arg]
    permission_classes = [IsStaff]
    filterset_class = PatientFilter
    serializer_class = s.PatientListItemSerializer

    def get_queryset(self) -> QuerySet[Patient]:
        if getattr(self, "swagger_fake_view", False):  # schema generation
            return Patient.objects.none()
        return (
            selectors.patients_visible(actor=_actor(self.request))
            .order_by("name", "id")
            .prefetch_related(
                Prefetch(
                    "flags", queryset=SafetyFlag.objects.filter(acknowledged_at__isnull=True), to_attr="open_flags"
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
            actor=_actor(request), action="patient.list", object_type="patient", patient_ids=[p.pk for p in patients]
        )
        data = s.PatientListItemSerializer(patients, many=True).data
        return self.get_paginated_response(data) if page is not None else Response(data)

    @extend_schema(request=s.PatientCreateSerializer, responses={201: s.PatientCreatedSerializer})
    def post(self, request: Request) -> Response:
        data = s.PatientCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        created = patient_services.patient_create(
            actor=_actor(request),
            name=values["name"],
            date_of_birth=values.get("date_of_birth"),
            external_id=values.get("external_id", ""),
            timezone_name=values.get("timezone") or "UTC",
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


class PatientDetailView(APIView):
    permission_classes = [IsStaffOrPatient]

    @extend_schema(responses={200: s.PatientSerializer})
    def get(self, request: Request, patient_id: str) -> Response:
        patient = selectors.patient_get(actor=_actor(request), patient_id=patient_id)
        audit_read(request, "patient.read", "patient", patient.pk, patient)
        return Response(s.PatientSerializer(patient).data)


class MeView(APIView):
    permission_classes = [IsPatient]

    @extend_schema(responses={200: s.MeSerializer})
    def get(self, request: Request) -> Response:
        patient = selectors.patient_of_user(actor=_actor(request))
        audit_read(request, "patient.me", "patient", patient.pk, patient)
        course = selectors.current_course(patient=patient)
        return Response(
            {
                "patient": s.PatientSerializer(patient).data,
                "course": s.CourseSerializer(course).data if course else None,
                "due": [d.__dict__ for d in questionnaires_due(patient=patient)],
            }
        )


# --- courses and sessions -----------------------------------------------------------------------------
class PatientCoursesView(APIView):
    permission_classes = [IsStaff]

    @extend_schema(responses={200: s.CourseSerializer(many=True)})
    def get(self, request: Request, patient_id: str) -> Response:
        patient = selectors.patient_get(actor=_actor(request), patient_id=patient_id)
        audit_read(request, "course.list", "patient", patient.pk, patient)
        return Response(s.CourseSerializer(patient.courses.all(), many=True).data)

    @extend_schema(request=s.CourseCreateSerializer, responses={201: s.CourseSerializer})
    def post(self, request: Request, patient_id: str) -> Response:
        patient = selectors.patient_get(actor=_actor(request), patient_id=patient_id)
        data = s.CourseCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        course = patient_services.course_create(actor=_actor(request), patient=patient, **data.validated_data)
        return Response(s.CourseSerializer(course).data, status=201)


class CourseDetailView(APIView):
    permission_classes = [IsStaff]

    @extend_schema(responses={200: s.CourseSerializer})
    def get(self, request: Request, course_id: str) -> Response:
        course = selectors.course_get(actor=_actor(request), course_id=course_id)
        audit_read(request, "course.read", "course", course.pk, course.patient)
        return Response(s.CourseSerializer(course).data)

    @extend_schema(request=s.CourseUpdateSerializer, responses={200: s.CourseSerializer})
    def patch(self, request: Request, course_id: str) -> Response:
        course = selectors.course_get(actor=_actor(request), course_id=course_id)
        values = s.validated(s.CourseUpdateSerializer, request.data)
        course = patient_services.course_set_treating_clinician(actor=_actor(request), course=course, **values)
        return Response(s.CourseSerializer(course).data)


class CourseSessionsView(APIView):
    permission_classes = [IsStaff]

    @extend_schema(responses={200: s.SessionSerializer(many=True)})
    def get(self, request: Request, course_id: str) -> Response:
        course = selectors.course_get(actor=_actor(request), course_id=course_id)
        audit_read(request, "session.list", "course", course.pk, course.patient)
        return Response(s.SessionSerializer(course.sessions.all(), many=True).data)

    @extend_schema(request=s.SessionCreateSerializer, responses={201: s.SessionSerializer})
    def post(self, request: Request, course_id: str) -> Response:
        course = selectors.course_get(actor=_actor(request), course_id=course_id)
        data = s.SessionCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        session = patient_services.session_create(actor=_actor(request), course=course, **data.validated_data)
        return Response(s.SessionSerializer(session).data, status=201)


# --- assessments -------------------------------------------------------------------------------------
def _assessment_body(assessment: Any, crisis: bool = False) -> dict[str, Any]:
    body = s.assessment_body(assessment)
    if crisis:
        body["crisis_resources"] = assessment_services.CRISIS_RESOURCES if body["flags"] else None
    return body


class AssessmentCreateView(APIView):
    permission_classes = [IsStaffOrPatient]

    @extend_schema(
        request=s.AssessmentCreateSerializer,
        responses={
            201: s.SubmittedAssessmentSerializer,
            200: OpenApiResponse(s.SubmittedAssessmentSerializer, description="The same client_id was seen before."),
        },
    )
    def post(self, request: Request) -> Response:
        actor = _actor(request)
        values = s.validated(s.AssessmentCreateSerializer, request.data)
        patient_id = values.pop("patient", None)
        if actor.role == Role.PATIENT:
            patient = selectors.patient_of_user(actor=actor)
            if patient_id is not None and patient_id != patient.pk:
                raise invalid("patient", "Patients submit only their own entries.")
        else:
            if patient_id is None:
                raise invalid("patient", "This field is required for staff.")
            found = selectors.patients_visible(actor=actor).filter(pk=patient_id).first()
            if found is None:
                raise invalid("patient", "Unknown patient.")
            patient = found
        result = assessment_services.assessment_submit(actor=actor, patient=patient, **values)
        body = _assessment_body(result.assessment, crisis=True)
        return Response(body, status=201 if result.created else 200)


class AssessmentDetailView(APIView):
    permission_classes = [IsStaffOrPatient]

    @extend_schema(responses={200: s.AssessmentSerializer})
    def get(self, request: Request, assessment_id: str) -> Response:
        assessment = selectors.assessment_get(actor=_actor(request), assessment_id=assessment_id)
        audit_read(request, "assessment.read", "assessment", assessment.pk, assessment.patient)
        return Response(_assessment_body(assessment))


class PatientAssessmentsView(APIView):
    permission_classes = [IsStaffOrPatient]

    @extend_schema(
        parameters=[
            OpenApiParameter("scale", OpenApiTypes.STR, enum=list(s.scoring.SCALES), required=False),
            OpenApiParameter("include_superseded", OpenApiTypes.BOOL, required=False),
        ],
        responses={200: s.AssessmentSerializer(many=True)},
    )
    def get(self, request: Request, patient_id: str) -> Response:
        patient = selectors.patient_get(actor=_actor(request), patient_id=patient_id)
        scale = request.query_params.get("scale")
        if scale and scale not in s.scoring.SCALES:
            raise invalid("scale", f"Unknown scale; one of {', '.join(s.scoring.SCALES)}.")
        include = request.query_params.get("include_superseded", "true").lower() not in ("false", "0", "no")
        entries = selectors.patient_assessments(patient=patient, scale=scale, include_superseded=include)
        audit_read(request, "assessment.list", "patient", patient.pk, patient)
        return Response([s.assessment_body(a) for a in entries])


class AssessmentAmendView(APIView):
    permission_classes = [IsStaff]

    @extend_schema(request=s.AmendSerializer, responses={201: s.AssessmentSerializer})
    def post(self, request: Request, assessment_id: str) -> Response:
        assessment = selectors.assessment_get(actor=_actor(request), assessment_id=assessment_id)
        data = s.AmendSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        amended = assessment_services.assessment_amend(
            actor=_actor(request), assessment=assessment, **data.validated_data
        )
        return Response(_assessment_body(amended), status=201)


# --- outcomes and flags ---------------------------------------------------------------------------------
class PatientOutcomesView(APIView):
    permission_classes = [IsStaffOrPatient]

    @extend_schema(responses={200: s.OutcomesByScaleSerializer})
    def get(self, request: Request, patient_id: str) -> Response:
        patient = selectors.patient_get(actor=_actor(request), patient_id=patient_id)
        audit_read(request, "outcome.read", "patient", patient.pk, patient)
        return Response({o["scale"]: o for o in current_outcomes(patient)})


class FlagListView(APIView):
    permission_classes = [IsStaff]

    @extend_schema(
        parameters=[OpenApiParameter("open", OpenApiTypes.BOOL, required=False)],
        responses={200: s.FlagSerializer(many=True)},
    )
    def get(self, request: Request) -> Response:
        flags = selectors.flags_visible(actor=_actor(request)).order_by("-created_at")
        if request.query_params.get("open", "").lower() in ("true", "1", "yes"):
            flags = flags.filter(acknowledged_at__isnull=True)
        flags = flags[:500]
        audit_record_many(
            actor=_actor(request),
            action="flag.list",
            object_type="patient",
            patient_ids=sorted({f.patient_id for f in flags}),
        )
        return Response(s.FlagSerializer(flags, many=True).data)


class FlagAcknowledgeView(APIView):
    permission_classes = [IsClinician]

    @extend_schema(request=None, responses={200: s.FlagSerializer})
    def post(self, request: Request, flag_id: str) -> Response:
        flag = selectors.flag_get(actor=_actor(request), flag_id=flag_id)
        flag = assessment_services.flag_acknowledge(actor=_actor(request), flag=flag)
        return Response(s.FlagSerializer(flag).data)


# --- charts, reports, exports -----------------------------------------------------------------------
class PatientChartView(APIView):
    permission_classes = [IsStaffOrPatient]

    @extend_schema(
        parameters=[OpenApiParameter("scale", OpenApiTypes.STR, enum=list(s.scoring.SCALES), required=False)],
        responses={(200, "image/png"): OpenApiTypes.BINARY, (200, "image/svg+xml"): OpenApiTypes.BINARY},
    )
    def get(self, request: Request, patient_id: str, fmt: str) -> HttpResponse:
        from tracker.reports.charts import render_patient_chart

        patient = selectors.patient_get(actor=_actor(request), patient_id=patient_id)
        scale = request.query_params.get("scale") or None
        if scale and scale not in s.scoring.SCALES:
            raise invalid("scale", f"Unknown scale; one of {', '.join(s.scoring.SCALES)}.")
        audit_read(request, f"chart.{fmt}", "patient", patient.pk, patient)
        content = render_patient_chart(patient, fmt=fmt, scale=scale)
        return HttpResponse(content, content_type="image/png" if fmt == "png" else "image/svg+xml")


class PatientReportView(APIView):
    permission_classes = [IsStaff]

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "profile",
                OpenApiTypes.STR,
                required=False,
                description="A payer profile's id or key (GET payer-profiles).",
            )
        ],
        responses={(200, "application/pdf"): OpenApiTypes.BINARY},
    )
    def get(self, request: Request, patient_id: str) -> HttpResponse:
        from tracker.reports.pdf import render_response_report
        from tracker.reports.profiles import payer_profile_for

        patient = selectors.patient_get(actor=_actor(request), patient_id=patient_id)
        profile = payer_profile_for(patient.clinic, request.query_params.get("profile") or None)
        audit_read(request, "report.pdf", "patient", patient.pk, patient)
        content = render_response_report(patient, actor=_actor(request), profile=profile)
        response = HttpResponse(content, content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="response-report-{patient.pk}.pdf"'
        return response


class ResponseCsvView(APIView):
    permission_classes = [IsAdmin]

    @extend_schema(
        parameters=[
            OpenApiParameter("from", OpenApiTypes.DATE, required=False),
            OpenApiParameter("to", OpenApiTypes.DATE, required=False),
        ],
        responses={(200, "text/csv"): OpenApiTypes.STR},
    )
    def get(self, request: Request) -> HttpResponse:
        from tracker.reports.csv_export import response_rows_csv

        bounds: dict[str, date | None] = {}
        for name in ("from", "to"):
            raw = request.query_params.get(name)
            try:
                bounds[name] = date.fromisoformat(raw) if raw else None
            except ValueError:
                raise invalid(name, "Use a date as YYYY-MM-DD.") from None
        if bounds["from"] and bounds["to"] and bounds["from"] > bounds["to"]:
            raise invalid("from", "'from' is after 'to'.")
        actor = _actor(request)
        content, patient_ids = response_rows_csv(actor=actor, date_from=bounds["from"], date_to=bounds["to"])
        audit_record_many(actor=actor, action="report.csv", object_type="patient", patient_ids=patient_ids)
        response = HttpResponse(content, content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="response-report.csv"'
        return response


class PatientFhirView(APIView):
    permission_classes = [IsStaff]

    @extend_schema(responses={(200, "application/fhir+json"): OpenApiTypes.OBJECT})
    def get(self, request: Request, patient_id: str) -> HttpResponse:
        from tracker.reports.fhir import patient_bundle_json

        patient = selectors.patient_get(actor=_actor(request), patient_id=patient_id)
        audit_read(request, "fhir.export", "patient", patient.pk, patient)
        return HttpResponse(patient_bundle_json(patient), content_type="application/fhir+json")


# --- clinic settings, reference sets, cohort ------------------------------------------------------
class ClinicView(APIView):
    permission_classes = [IsStaff]

    def _body(self, clinic: Any) -> dict[str, Any]:
        return {
            "id": clinic.pk,
            "name": clinic.name,
            "reference_set": clinic.reference_set,
            "scoring_options": clinic.scoring_options,
            "payer_profile": str(clinic.payer_profile_id) if clinic.payer_profile_id else None,
        }

    @extend_schema(responses={200: s.ClinicSerializer})
    def get(self, request: Request) -> Response:
        return Response(self._body(_clinic(request)))

    @extend_schema(request=s.ClinicSerializer, responses={200: s.ClinicSerializer})
    def patch(self, request: Request) -> Response:
        actor = _actor(request)
        if actor.role != Role.ADMIN:
            return Response({"detail": "Only a clinic admin changes the clinic's settings."}, status=403)
        data = s.ClinicSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        with transaction.atomic():
            clinic = _clinic(request)
            if "payer_profile" in values:
                clinic = clinic_payer_profile_update(actor, values.pop("payer_profile"))
            if values or not data.validated_data:
                clinic = projection_services.clinic_update_settings(actor=actor, **values)
        return Response(self._body(clinic))


# --- payer profiles (the payer's response report) ------------------------------------------------
def clinic_payer_profile_update(actor: User, profile: str | None) -> Clinic:
    """PATCH /clinic/ with ``payer_profile``: the clinic's default payer profile (id, key or null)."""
    from tracker.reports.profiles import clinic_set_payer_profile

    return clinic_set_payer_profile(actor=actor, profile=profile)


class PayerProfileListView(APIView):
    permission_classes = [IsStaff]

    @extend_schema(responses={200: s.PayerProfileSerializer(many=True)})
    def get(self, request: Request) -> Response:
        from tracker.reports.profiles import payer_profiles_list

        return Response(payer_profiles_list(clinic=_clinic(request)))

    @extend_schema(request=s.PayerProfileCreateSerializer, responses={201: s.PayerProfileSerializer})
    def post(self, request: Request) -> Response:
        from tracker.reports.profiles import payer_profile_create, payer_profiles_list

        actor = _actor(request)
        if actor.role != Role.ADMIN:
            return Response({"detail": "Only a clinic admin adds payer profiles."}, status=403)
        values = s.validated(s.PayerProfileCreateSerializer, request.data)
        stored = payer_profile_create(actor=actor, **values)
        body = next(p for p in payer_profiles_list(clinic=_clinic(request)) if p["id"] == str(stored.pk))
        return Response(body, status=201)


class ReferenceSetListView(APIView):
    permission_classes = [IsStaff]

    @extend_schema(responses={200: s.ReferenceSetSerializer(many=True)})
    def get(self, request: Request) -> Response:
        from projections.selectors import reference_sets_for

        return Response(reference_sets_for(clinic=_clinic(request)))


class CohortView(APIView):
    permission_classes = [IsStaff]

    @extend_schema(
        parameters=[
            OpenApiParameter("modality", OpenApiTypes.STR, required=False),
            OpenApiParameter("scale", OpenApiTypes.STR, required=False),
        ],
        responses={200: s.CohortSerializer(many=True)},
    )
    def get(self, request: Request) -> Response:
        from projections.selectors import cohort_results

        actor = _actor(request)
        results = cohort_results(
            clinic=_clinic(request),
            modality=request.query_params.get("modality"),
            scale=request.query_params.get("scale"),
        )
        audit_record(actor=actor, action="cohort.read", object_type="clinic", object_id=actor.clinic_id)
        return Response(results)


# --- notices -------------------------------------------------------------------------------------------
class NoticeListView(APIView):
    permission_classes = [IsStaff]

    @extend_schema(
        parameters=[OpenApiParameter("unread", OpenApiTypes.BOOL, required=False)],
        responses={200: s.NoticeSerializer(many=True)},
    )
    def get(self, request: Request) -> Response:
        actor = _actor(request)
        notices = selectors.notices_visible(actor=actor)
        if request.query_params.get("unread", "").lower() in ("true", "1", "yes"):
            notices = notices.filter(read_at__isnull=True)
        page = list(notices[:500])
        audit_record_many(
            actor=actor, action="notice.list", object_type="patient", patient_ids=sorted({n.patient_id for n in page})
        )
        return Response(s.NoticeSerializer(page, many=True).data)


class NoticeReadView(APIView):
    permission_classes = [IsStaff]

    @extend_schema(request=None, responses={200: s.NoticeSerializer})
    def post(self, request: Request, notice_id: str) -> Response:
        from tracker.records.services.notices import notice_mark_read

        notice = selectors.notice_get(actor=_actor(request), notice_id=notice_id)
        return Response(s.NoticeSerializer(notice_mark_read(actor=_actor(request), notice=notice)).data)
