from django.urls import path, re_path

from tracker.api import views

app_name = "api"

urlpatterns = [
    path("auth/token/", views.TokenView.as_view(), name="token"),
    path("auth/logout/", views.LogoutView.as_view(), name="logout"),
    path("enroll/", views.EnrollView.as_view(), name="enroll"),
    path("me/", views.MeView.as_view(), name="me"),
    path("staff/", views.StaffView.as_view(), name="staff"),
    path("patients/", views.PatientListCreateView.as_view(), name="patients"),
    path("patients/<str:patient_id>/", views.PatientDetailView.as_view(), name="patient"),
    path("patients/<str:patient_id>/courses/", views.PatientCoursesView.as_view(), name="patient-courses"),
    path("patients/<str:patient_id>/assessments/", views.PatientAssessmentsView.as_view(), name="patient-assessments"),
    path("patients/<str:patient_id>/outcomes/", views.PatientOutcomesView.as_view(), name="patient-outcomes"),
    re_path(
        r"^patients/(?P<patient_id>[^/]+)/chart\.(?P<fmt>png|svg)$",
        views.PatientChartView.as_view(),
        name="patient-chart",
    ),
    path("patients/<str:patient_id>/report.pdf", views.PatientReportView.as_view(), name="patient-report"),
    path("patients/<str:patient_id>/fhir/", views.PatientFhirView.as_view(), name="patient-fhir"),
    path("courses/<str:course_id>/", views.CourseDetailView.as_view(), name="course"),
    path("courses/<str:course_id>/sessions/", views.CourseSessionsView.as_view(), name="course-sessions"),
    path("assessments/", views.AssessmentCreateView.as_view(), name="assessments"),
    path("assessments/<str:assessment_id>/", views.AssessmentDetailView.as_view(), name="assessment"),
    path("assessments/<str:assessment_id>/amend/", views.AssessmentAmendView.as_view(), name="assessment-amend"),
    path("flags/", views.FlagListView.as_view(), name="flags"),
    path("flags/<str:flag_id>/acknowledge/", views.FlagAcknowledgeView.as_view(), name="flag-acknowledge"),
    path("notices/", views.NoticeListView.as_view(), name="notices"),
    path("notices/<str:notice_id>/read/", views.NoticeReadView.as_view(), name="notice-read"),
    path("clinic/", views.ClinicView.as_view(), name="clinic"),
    path("payer-profiles/", views.PayerProfileListView.as_view(), name="payer-profiles"),
    path("reference-sets/", views.ReferenceSetListView.as_view(), name="reference-sets"),
    path("reports/cohort/", views.CohortView.as_view(), name="cohort"),
    path("reports/response.csv", views.ResponseCsvView.as_view(), name="response-csv"),
]
