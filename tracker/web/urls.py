from django.urls import path

from tracker.web import clinic_admin, notices, views

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
    path("notices/", notices.notice_list, name="notice_list"),
    path("notices/read-all/", notices.notice_read_all, name="notice_read_all"),
    path("notices/<str:notice_id>/read/", notices.notice_read, name="notice_read"),
    path("clinic/staff/", clinic_admin.staff, name="admin_staff"),
    path("clinic/staff/<str:user_id>/deactivate/", clinic_admin.staff_deactivate, name="admin_staff_deactivate"),
    path("clinic/staff/<str:user_id>/password/", clinic_admin.staff_password_reset, name="admin_staff_password"),
    path("clinic/settings/", clinic_admin.clinic_settings, name="admin_settings"),
    path("clinic/settings/crisis/", clinic_admin.clinic_crisis_resources, name="admin_crisis_resources"),
    path("clinic/reports/", clinic_admin.reports, name="admin_reports"),
    path("clinic/reports/response.csv", clinic_admin.response_csv, name="admin_response_csv"),
    path("clinic/reports/payer-reports/", clinic_admin.payer_reports, name="admin_payer_reports"),
    # The earlier address of the same form (a zip unless ``layout`` says otherwise).
    path("clinic/reports/payer-reports.zip", clinic_admin.payer_reports, name="admin_payer_zip"),
    path("clinic/outcomes/", clinic_admin.clinic_outcomes, name="admin_outcomes"),
    path("clinic/outcomes/<str:scale>.svg", clinic_admin.clinic_outcomes_chart, name="admin_outcomes_chart"),
]
