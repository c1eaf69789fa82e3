from django.urls import path, re_path

from tracker.api.views import (
    access_log,
    assessments,
    auth,
    clinic,
    courses,
    exports,
    flags,
    notices,
    outcomes,
    patients,
    reports,
    staff,
)

app_name = "api"

urlpatterns = [
    path("auth/token/", auth.TokenView.as_view(), name="token"),
    path("auth/logout/", auth.LogoutView.as_view(), name="logout"),
    path("enroll/", auth.EnrollView.as_view(), name="enroll"),
    path("me/", patients.MeView.as_view(), name="me"),
    path("staff/", staff.StaffView.as_view(), name="staff"),
    path("patients/", patients.PatientListCreateView.as_view(), name="patients"),
    path("patients/<str:patient_id>/", patients.PatientDetailView.as_view(), name="patient"),
    path("patients/<str:patient_id>/courses/", courses.PatientCoursesView.as_view(), name="patient-courses"),
    path(
        "patients/<str:patient_id>/assessments/",
        assessments.PatientAssessmentsView.as_view(),
        name="patient-assessments",
    ),
    path("patients/<str:patient_id>/outcomes/", outcomes.PatientOutcomesView.as_view(), name="patient-outcomes"),
    re_path(
        r"^patients/(?P<patient_id>[^/]+)/chart\.(?P<fmt>png|svg)$",
        outcomes.PatientChartView.as_view(),
        name="patient-chart",
    ),
    path("patients/<str:patient_id>/report.pdf", reports.PatientReportView.as_view(), name="patient-report"),
    path(
        "patients/<str:patient_id>/access-log/",
        access_log.PatientAccessLogView.as_view(),
        name="patient-access-log",
    ),
    path("patients/<str:patient_id>/fhir/", reports.PatientFhirView.as_view(), name="patient-fhir"),
    path("courses/<str:course_id>/", courses.CourseDetailView.as_view(), name="course"),
    path("courses/<str:course_id>/sessions/", courses.CourseSessionsView.as_view(), name="course-sessions"),
    path("assessments/", assessments.AssessmentCreateView.as_view(), name="assessments"),
    path("assessments/<str:assessment_id>/", assessments.AssessmentDetailView.as_view(), name="assessment"),
    path(
        "assessments/<str:assessment_id>/baseline/",
        assessments.AssessmentBaselineView.as_view(),
        name="assessment-baseline",
    ),
    path("assessments/<str:assessment_id>/amend/", assessments.AssessmentAmendView.as_view(), name="assessment-amend"),
    path("flags/", flags.FlagListView.as_view(), name="flags"),
    path("flags/<str:flag_id>/acknowledge/", flags.FlagAcknowledgeView.as_view(), name="flag-acknowledge"),
    path("notices/", notices.NoticeListView.as_view(), name="notices"),
    path("notices/<str:notice_id>/read/", notices.NoticeReadView.as_view(), name="notice-read"),
    path("clinic/", clinic.ClinicView.as_view(), name="clinic"),
    path("payer-profiles/", clinic.PayerProfileListView.as_view(), name="payer-profiles"),
    path("reference-sets/", clinic.ReferenceSetListView.as_view(), name="reference-sets"),
    path("reports/cohort/", reports.CohortView.as_view(), name="cohort"),
    path("reports/response.csv", reports.ResponseCsvView.as_view(), name="response-csv"),
    path("exports/<str:job_id>/", exports.ExportJobView.as_view(), name="export-job"),
    path("exports/<str:job_id>/files/<str:name>", exports.ExportFileView.as_view(), name="export-file"),
    path("fhir/$export", exports.FhirExportView.as_view(), name="fhir-export"),
]
