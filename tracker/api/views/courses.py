"""Treatment courses and their sessions."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from projections.selectors import reference_set_exists
from tracker.api.permissions import IsStaff
from tracker.api.serializers import courses as s
from tracker.api.serializers.base import validated
from tracker.api.views.base import Endpoint, PatientEndpoint, audit_read
from tracker.records import selectors
from tracker.records.services import patients as patient_services
from tracker.records.services.errors import invalid


class PatientCoursesView(PatientEndpoint):
    permission_classes = [IsStaff]
    read_action = "course.list"

    @extend_schema(responses={200: s.CourseSerializer(many=True)})
    def get(self, request: Request, patient_id: str) -> Response:
        return Response(s.CourseSerializer(self.patient.courses.all(), many=True).data)

    @extend_schema(request=s.CourseCreateSerializer, responses={201: s.CourseSerializer})
    def post(self, request: Request, patient_id: str) -> Response:
        values = validated(s.CourseCreateSerializer, request.data)
        if values.get("reference_set") and not reference_set_exists(
            clinic=self.patient.clinic, key=values["reference_set"]
        ):
            raise invalid(
                "reference_set", "Unknown reference set; see /api/v1/reference-sets/.", code="unknown_reference_set"
            )
        course = patient_services.course_create(actor=self.actor, patient=self.patient, **values)
        return Response(s.CourseSerializer(course).data, status=201)


class CourseDetailView(Endpoint):
    permission_classes = [IsStaff]

    @extend_schema(responses={200: s.CourseSerializer})
    def get(self, request: Request, course_id: str) -> Response:
        course = selectors.course_get(actor=self.actor, course_id=course_id)
        audit_read(request, "course.read", "course", course.pk, course.patient)
        return Response(s.CourseSerializer(course).data)

    @extend_schema(request=s.CourseUpdateSerializer, responses={200: s.CourseSerializer})
    def patch(self, request: Request, course_id: str) -> Response:
        course = selectors.course_get(actor=self.actor, course_id=course_id)
        values = validated(s.CourseUpdateSerializer, request.data)
        course = patient_services.course_set_treating_clinician(actor=self.actor, course=course, **values)
        return Response(s.CourseSerializer(course).data)


class CourseSessionsView(Endpoint):
    permission_classes = [IsStaff]

    @extend_schema(responses={200: s.SessionSerializer(many=True)})
    def get(self, request: Request, course_id: str) -> Response:
        course = selectors.course_get(actor=self.actor, course_id=course_id)
        audit_read(request, "session.list", "course", course.pk, course.patient)
        return Response(s.SessionSerializer(course.sessions.all(), many=True).data)

    @extend_schema(request=s.SessionCreateSerializer, responses={201: s.SessionSerializer})
    def post(self, request: Request, course_id: str) -> Response:
        course = selectors.course_get(actor=self.actor, course_id=course_id)
        values = validated(s.SessionCreateSerializer, request.data)
        session = patient_services.session_create(actor=self.actor, course=course, **values)
        return Response(s.SessionSerializer(session).data, status=201)
