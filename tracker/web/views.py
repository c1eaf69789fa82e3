"""The clinician dashboard: server-rendered pages over the same selectors and services as the API.

Reads are scoped by ``tracker.records.selectors`` (another clinic's patient is a 404) and audited; writes go
through ``tracker.records.services`` (a flag acknowledgement, a baseline mark). The notices inbox is in
``notices``, the clinic admin's pages in ``clinic_admin``.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST, require_safe

from projections.filters import PatientFilter
from tracker.records import selectors
from tracker.records.models import Patient, Role
from tracker.records.selectors.schedule import questionnaires_due
from tracker.records.services import assessments as assessment_services
from tracker.records.services.audit import audit_record, audit_record_many
from tracker.records.services.patients import patient_local_today
from tracker.reports.charts import render_patient_chart
from tracker.reports.fhir import patient_bundle_json
from tracker.reports.pdf import render_response_report
from tracker.reports.read_model import patient_outcomes
from tracker.web import display
from tracker.web.access import acting_user, clinician_required, staff_required
from tracker.web.forms import FlagAcknowledgeForm, PatientListFilterForm, StaffLoginForm
from tracker.web.triage import Triage

PAGE_SIZE = 50


def _audit_patient(request: HttpRequest, action: str, patient: Patient, object_type: str = "patient") -> None:
    audit_record(
        actor=acting_user(request),
        action=action,
        object_type=object_type,
        object_id=patient.pk,
        patient_id=patient.pk,
        clinic_id=patient.clinic_id,
    )


# --- login, logout, home ------------------------------------------------------------------------------
class LoginView(auth_views.LoginView):
    template_name = "web/login.html"
    authentication_form = StaffLoginForm
    redirect_authenticated_user = True
    next_page = "web:patient_list"

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        user = form.get_user()
        audit_record(actor=user, action="web.login", object_type="user", object_id=user.pk)
        return response


class LogoutView(auth_views.LogoutView):
    next_page = "web:login"

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = request.user
        if user.is_authenticated:
            audit_record(actor=acting_user(request), action="web.logout", object_type="user", object_id=user.pk)
        return super().post(request, *args, **kwargs)


@require_safe
def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    if user.is_authenticated and getattr(user, "is_clinic_staff", False):
        return redirect("web:patient_list")
    return render(request, "home.html")


# --- patient list ------------------------------------------------------------------------------------
def _filtered_patients(request: HttpRequest, form: PatientListFilterForm) -> QuerySet[Patient]:
    actor = acting_user(request)
    qs = selectors.patients_visible(actor=actor)
    if not form.is_valid():
        return qs
    data = form.cleaned_data
    # The API's own filters (signal, state, flagged), so the list and GET /patients/ agree.
    api_filters = {k: v for k, v in (("signal", data["signal"]), ("state", data["state"])) if v}
    if data["flagged"]:
        api_filters["flagged"] = "true"
    if api_filters:
        qs = PatientFilter(api_filters, queryset=qs).qs
    if data["q"]:
        qs = qs.filter(Q(name__icontains=data["q"]) | Q(external_id__icontains=data["q"]))
    return qs


def _query_without_page(request: HttpRequest) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


@staff_required
@require_safe
def patient_list(request: HttpRequest) -> HttpResponse:
    """The morning triage list: urgency first by default; a constant number of queries (``triage``)."""
    actor = acting_user(request)
    form = PatientListFilterForm(request.GET)
    valid = form.is_valid()
    triage = Triage(
        patients=_filtered_patients(request, form),
        overdue_only=valid and form.cleaned_data["overdue"],
        sort=form.cleaned_data["sort"] if valid else "urgency",
    )
    page = Paginator(triage.rows, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = triage.detail(list(page.object_list))
    audit_record_many(actor=actor, action="web.patient.list", object_type="patient", patient_ids=[r.pk for r in rows])
    filtered = valid and any(form.cleaned_data[name] for name in form.FILTERS)
    return render(
        request,
        "web/patient_list.html",
        {"form": form, "page": page, "rows": rows, "filtered": filtered, "query": _query_without_page(request)},
    )


# --- patient detail ----------------------------------------------------------------------------------
@staff_required
@require_safe
def patient_detail(request: HttpRequest, patient_id: str) -> HttpResponse:
    actor = acting_user(request)
    patient = selectors.patient_get(actor=actor, patient_id=patient_id)
    _audit_patient(request, "web.patient.read", patient)
    view = patient_outcomes(patient)
    course = view.course
    today = patient_local_today(patient)
    open_flags = (
        selectors.flags_visible(actor=actor)
        .filter(patient=patient, acknowledged_at__isnull=True)
        .select_related("assessment")
    )
    entries = selectors.patient_assessments(patient=patient).reverse()
    outcomes = [display.outcome_view(s.outcome) for s in view.scales]
    context = {
        "patient": patient,
        "course": display.CourseInfo.of(course, today),
        "sessions": [(s, display.dose_text(s.dose_mg)) for s in view.sessions],
        "flags": display.flag_views(open_flags),
        "can_acknowledge": actor.role == Role.CLINICIAN,
        "ack_form": FlagAcknowledgeForm(),
        "outcomes": outcomes,
        "entries": display.entry_views(entries),
        "due": [(display.short_name(d.scale), d) for d in questionnaires_due(patient=patient, today=today)],
        "today": today,
    }
    return render(request, "web/patient_detail.html", context)


def _private_file(content: str | bytes, content_type: str, filename: str | None = None) -> HttpResponse:
    """A patient's chart or export: never cached; a download when it has a file name."""
    response = HttpResponse(content, content_type=content_type)
    if filename:
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response


@staff_required
@require_safe
def patient_chart_svg(request: HttpRequest, patient_id: str) -> HttpResponse:
    patient = selectors.patient_get(actor=acting_user(request), patient_id=patient_id)
    _audit_patient(request, "web.chart.svg", patient)
    return _private_file(render_patient_chart(patient_outcomes(patient), fmt="svg", scale=None), "image/svg+xml")


@staff_required
@require_safe
def patient_report_pdf(request: HttpRequest, patient_id: str) -> HttpResponse:
    actor = acting_user(request)
    patient = selectors.patient_get(actor=actor, patient_id=patient_id)
    _audit_patient(request, "web.report.pdf", patient)
    return _private_file(
        render_response_report(patient_outcomes(patient), actor=actor),
        "application/pdf",
        f"response-report-{patient.pk}.pdf",
    )


@staff_required
@require_safe
def patient_fhir(request: HttpRequest, patient_id: str) -> HttpResponse:
    patient = selectors.patient_get(actor=acting_user(request), patient_id=patient_id)
    _audit_patient(request, "web.fhir.export", patient)
    return _private_file(patient_bundle_json(patient), "application/fhir+json", f"patient-{patient.pk}.fhir.json")


# --- safety flags --------------------------------------------------------------------------------------
@clinician_required
@require_POST
def flag_acknowledge(request: HttpRequest, flag_id: str) -> HttpResponse:
    actor = acting_user(request)
    flag = selectors.flag_get(actor=actor, flag_id=flag_id)
    form = FlagAcknowledgeForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    already = flag.acknowledged_at is not None
    flag = assessment_services.flag_acknowledge(actor=actor, flag=flag, note=note)
    if already:
        messages.info(request, "This safety flag had already been acknowledged.")
    else:
        messages.success(request, "Safety flag acknowledged.")
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = reverse("web:patient_detail", args=[flag.patient_id])
    return HttpResponseRedirect(target)


# --- baseline mark ---------------------------------------------------------------------------------
@clinician_required
@require_POST
def assessment_baseline(request: HttpRequest, assessment_id: str) -> HttpResponse:
    """Mark an entry as its course's baseline, or undo the mark (``action=unmark``)."""
    actor = acting_user(request)
    entry = selectors.assessment_get(actor=actor, assessment_id=assessment_id)
    try:
        if request.POST.get("action") == "unmark":
            assessment_services.assessment_unmark_baseline(actor=actor, assessment=entry)
            messages.success(request, "Baseline mark removed: the course's baseline follows the rule again.")
        else:
            assessment_services.assessment_mark_baseline(actor=actor, assessment=entry)
            messages.success(request, "Entry marked as the course's baseline.")
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    return HttpResponseRedirect(reverse("web:patient_detail", args=[entry.patient_id]))
