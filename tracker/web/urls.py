from django.urls import path

from tracker.web import views

app_name = "web"

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("patients/", views.patient_list, name="patient_list"),
    path("patients/new/", views.patient_create, name="patient_create"),
    path("patients/<str:patient_id>/", views.patient_detail, name="patient_detail"),
    path("patients/<str:patient_id>/rate/<str:scale>/", views.patient_rate, name="patient_rate"),
    path("patients/<str:patient_id>/sessions/", views.patient_session_create, name="patient_session_create"),
    path("patients/<str:patient_id>/schedule/", views.patient_schedule, name="patient_schedule"),
    path("patients/<str:patient_id>/flags/", views.patient_flags_acknowledge, name="patient_flags_acknowledge"),
    path("patients/<str:patient_id>/courses/new/", views.course_create, name="course_create"),
    path("patients/<str:patient_id>/enrollment/", views.patient_enrollment, name="patient_enrollment"),
    path(
        "patients/<str:patient_id>/enrollment/renew/",
        views.patient_enrollment_renew,
        name="patient_enrollment_renew",
    ),
    path("patients/<str:patient_id>/chart.svg", views.patient_chart_svg, name="patient_chart_svg"),
    path("patients/<str:patient_id>/report.pdf", views.patient_report_pdf, name="patient_report_pdf"),
    path("patients/<str:patient_id>/fhir.json", views.patient_fhir, name="patient_fhir"),
    path("entries/<str:assessment_id>/amend/", views.assessment_amend, name="assessment_amend"),
    path("entries/<str:assessment_id>/baseline/", views.assessment_baseline, name="assessment_baseline"),
    path("flags/<str:flag_id>/acknowledge/", views.flag_acknowledge, name="flag_acknowledge"),
]
