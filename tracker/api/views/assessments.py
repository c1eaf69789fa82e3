"""Questionnaire entries: submit, read, list a patient's, amend."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from tracker.api.permissions import IsClinician, IsStaff, IsStaffOrPatient
from tracker.api.serializers import assessments as s
from tracker.api.serializers.base import validated
from tracker.api.serializers.outcomes import OutcomeSerializer
from tracker.api.views.base import Endpoint, PatientEndpoint, actor_of, audit_read
from tracker.api.views.crisis import patient_crisis_resources
from tracker.records import selectors
from tracker.records.models import Assessment, Patient, Role, TreatmentCourse
from tracker.records.services import assessments as assessment_services
from tracker.records.services.errors import invalid
from tracker.reports.read_model import outcomes_of_courses, patient_outcomes


def _submitted_body(
    request: Request, assessment: Assessment, patient: Patient, original: Assessment | None = None
) -> dict[str, Any]:
    """A submitted entry's answer: the entry, and, when a patient's own entry raised a flag, the crisis
    resources for the patient's clinic and language (staff entering an entry are not sent the patient's
    message). The replay of an entry amended since is answered with its current version and
    ``original_id``, the id of the entry the client_id was stored under (absent otherwise)."""
    body = s.assessment_body(assessment)
    flagged = bool(body["flags"]) and actor_of(request).role == Role.PATIENT
    body["crisis_resources"] = patient_crisis_resources(patient) if flagged else None
    if original is not None:
        body["original_id"] = original.pk
    return body


class AssessmentCreateView(Endpoint):
    permission_classes = [IsStaffOrPatient]

    @extend_schema(
        request=s.AssessmentCreateSerializer,
        responses={
            201: s.SubmittedAssessmentSerializer,
            200: OpenApiResponse(s.SubmittedAssessmentSerializer, description="The same client_id was seen before."),
        },
    )
    def post(self, request: Request) -> Response:
        actor = self.actor
        values = validated(s.AssessmentCreateSerializer, request.data)
        patient_id = values.pop("patient", None)
        if actor.role == Role.PATIENT:
            patient = selectors.patient_of_user(actor=actor)
            if patient_id is not None and patient_id != patient.pk:
                raise invalid("patient", "Patients submit only their own entries.", code="not_own_patient")
        else:
            if patient_id is None:
                raise invalid("patient", "This field is required for staff.", code="required")
            found = selectors.patients_visible(actor=actor).filter(pk=patient_id).first()
            if found is None:
                raise invalid("patient", "Unknown patient.", code="unknown_patient")
            patient = found
        result = assessment_services.assessment_submit(actor=actor, patient=patient, **values)
        body = _submitted_body(request, result.assessment, patient, result.original)
        return Response(body, status=201 if result.created else 200)


class AssessmentDetailView(Endpoint):
    permission_classes = [IsStaffOrPatient]

    @extend_schema(responses={200: s.AssessmentSerializer})
    def get(self, request: Request, assessment_id: str) -> Response:
        assessment = selectors.assessment_get(actor=self.actor, assessment_id=assessment_id)
        audit_read(request, "assessment.read", "assessment", assessment.pk, assessment.patient)
        return Response(s.assessment_body(assessment))


class PatientAssessmentsView(PatientEndpoint):
    permission_classes = [IsStaffOrPatient]
    read_action = "assessment.list"

    @extend_schema(parameters=[s.AssessmentListQuerySerializer], responses={200: s.AssessmentSerializer(many=True)})
    def get(self, request: Request, patient_id: str) -> Response:
        params = self.query(s.AssessmentListQuerySerializer)
        entries = selectors.patient_assessments(
            patient=self.patient, scale=params.get("scale"), include_superseded=params["include_superseded"]
        )
        return Response([s.assessment_body(a) for a in entries])


class AssessmentAmendView(Endpoint):
    permission_classes = [IsStaff]

    @extend_schema(request=s.AmendSerializer, responses={201: s.AssessmentSerializer})
    def post(self, request: Request, assessment_id: str) -> Response:
        assessment = selectors.assessment_get(actor=self.actor, assessment_id=assessment_id)
        values = validated(s.AmendSerializer, request.data)
        amended = assessment_services.assessment_amend(actor=self.actor, assessment=assessment, **values)
        return Response(s.assessment_body(amended), status=201)


class AssessmentBaselineView(Endpoint):
    """A clinician marks an entry as its course's baseline (CLINICAL §2), or undoes the mark; the
    answer is the scale's outcome under the new baseline."""

    permission_classes = [IsClinician]

    def _answer(self, entry: Assessment, course: TreatmentCourse | None) -> Response:
        patient = entry.patient
        if course is None:
            scales = patient_outcomes(patient).scales
        else:
            course.patient = patient
            scales = outcomes_of_courses([course]).get(course.pk, ())
        outcome = next((s.outcome for s in scales if s.scale == entry.scale), None)
        return Response(outcome)

    @extend_schema(request=s.BaselineMarkSerializer, responses={200: OutcomeSerializer})
    def post(self, request: Request, assessment_id: str) -> Response:
        entry = selectors.assessment_get(actor=self.actor, assessment_id=assessment_id)
        values = validated(s.BaselineMarkSerializer, request.data or {})
        course = None
        if "course" in values:
            course = selectors.courses_visible(actor=self.actor).filter(pk=values["course"]).first()
            if course is None:
                raise invalid("course", "Unknown course.", code="unknown_course")
        entry, own_course = assessment_services.assessment_mark_baseline(
            actor=self.actor, assessment=entry, course=course
        )
        return self._answer(entry, own_course)

    @extend_schema(request=None, responses={200: OutcomeSerializer})
    def delete(self, request: Request, assessment_id: str) -> Response:
        entry = selectors.assessment_get(actor=self.actor, assessment_id=assessment_id)
        entry, own_course = assessment_services.assessment_unmark_baseline(actor=self.actor, assessment=entry)
        return self._answer(entry, own_course)
