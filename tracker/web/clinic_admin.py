"""The clinic admin's pages: staff, clinic settings, exports (response CSV, payer reports), clinic outcomes.

Admins only: a clinician is answered 403, as the API's ``IsAdmin`` does; another clinic's staff login
is a 404 (``selectors.staff_get``). Every write goes through the services the API uses, every export
of patient data is audited once per patient.
"""

from __future__ import annotations

import io
import zipfile
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseBase, HttpResponseRedirect, StreamingHttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

import scoring
from projections import services as projection_services
from projections.selectors import cohort_results, reference_sets_for
from tracker.records import selectors
from tracker.records.models import Clinic, User
from tracker.records.services import clinics as clinic_services
from tracker.records.services.audit import audit_record, audit_record_many
from tracker.records.services.crisis import clinic_set_crisis_resources
from tracker.reports.clinic_outcomes import (
    cohort_chart,
    cohort_table,
    completion_rates,
    outcome_shares,
    patients_off_track,
)
from tracker.reports.csv_export import response_csv_stream, response_rows_estimate
from tracker.reports.pdf import render_response_report, render_response_reports
from tracker.reports.profiles import clinic_set_payer_profile, payer_profile_for, payer_profiles_list
from tracker.reports.read_model import patient_outcomes
from tracker.web.access import acting_user, admin_required
from tracker.web.admin_forms import (
    LAYOUT_COMBINED,
    ClinicSettingsForm,
    CrisisResourcesForm,
    DateRangeForm,
    PayerReportsForm,
    StaffCreateForm,
    apply_service_errors,
)


def _clinic(actor: User) -> Clinic:
    assert actor.clinic_id is not None  # admin_required: staff of a clinic
    return Clinic.objects.get(pk=actor.clinic_id)


# --- staff ----------------------------------------------------------------------------------------------
def _staff_page(request: HttpRequest, form: StaffCreateForm, **extra: Any) -> HttpResponse:
    actor = acting_user(request)
    staff = list(selectors.staff_visible(actor=actor))
    audit_record(actor=actor, action="web.staff.list", object_type="clinic", object_id=actor.clinic_id)
    return render(request, "web/admin_staff.html", {"staff": staff, "form": form, **extra})


@admin_required
@require_http_methods(["GET", "HEAD", "POST"])
def staff(request: HttpRequest) -> HttpResponse:
    """The clinic's staff logins; POST adds one (``staff_create``, as ``POST /api/v1/staff/``)."""
    actor = acting_user(request)
    if request.method != "POST":
        return _staff_page(request, StaffCreateForm())
    form = StaffCreateForm(request.POST)
    if form.is_valid():
        try:
            user = clinic_services.staff_create(actor=actor, **form.cleaned_data)
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, _("Login %(username)s added.") % {"username": user.username})
            return HttpResponseRedirect(reverse("web:admin_staff"))
    return _staff_page(request, form)


@admin_required
@require_POST
def staff_deactivate(request: HttpRequest, user_id: str) -> HttpResponse:
    actor = acting_user(request)
    user = selectors.staff_get(actor=actor, user_id=user_id)
    try:
        clinic_services.staff_deactivate(actor=actor, user=user)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(
            request, _("%(username)s can no longer sign in; their sessions have ended.") % {"username": user.username}
        )
    return HttpResponseRedirect(reverse("web:admin_staff"))


@admin_required
@require_POST
def staff_password_reset(request: HttpRequest, user_id: str) -> HttpResponse:
    """A temporary password, shown once on this answer (never put in the session or a message)."""
    actor = acting_user(request)
    user = selectors.staff_get(actor=actor, user_id=user_id)
    try:
        temporary = clinic_services.staff_reset_password(actor=actor, user=user)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
        return HttpResponseRedirect(reverse("web:admin_staff"))
    response = _staff_page(request, StaffCreateForm(), reset_user=user, temporary_password=temporary)
    response["Cache-Control"] = "no-store"
    return response


# --- clinic settings ------------------------------------------------------------------------------------
def _payer_key(profiles: list[dict[str, Any]]) -> str:
    return next(p["key"] for p in profiles if p["is_clinic_default"])


@admin_required
@require_http_methods(["GET", "HEAD", "POST"])
def clinic_settings(request: HttpRequest) -> HttpResponse:
    """Reference set, per-scale thresholds, payer profile, time zone: the services behind ``PATCH /api/v1/clinic/``."""
    actor = acting_user(request)
    clinic = _clinic(actor)
    refs = reference_sets_for(clinic=clinic)
    profiles = payer_profiles_list(clinic=clinic)
    kwargs: dict[str, Any] = {"reference_sets": refs, "payer_profiles": profiles}
    if request.method != "POST":
        form = ClinicSettingsForm(initial=ClinicSettingsForm.initial_for(clinic, _payer_key(profiles)), **kwargs)
        return _settings_page(request, clinic, form=form)
    form = ClinicSettingsForm(request.POST, **kwargs)
    if form.is_valid():
        try:
            with transaction.atomic():
                if form.cleaned_data["payer_profile"] != _payer_key(profiles):
                    clinic_set_payer_profile(actor=actor, profile=form.cleaned_data["payer_profile"])
                if form.cleaned_data["timezone"]:
                    clinic_services.clinic_set_timezone(actor=actor, timezone_name=form.cleaned_data["timezone"])
                updated = projection_services.clinic_update_settings(
                    actor=actor,
                    reference_set=form.cleaned_data["reference_set"],
                    scoring_options=form.scoring_options(clinic.scoring_options or {}),
                )
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            # Only new rules recompute the outcomes (the service schedules nothing otherwise).
            if (updated.reference_set, updated.scoring_options) != (clinic.reference_set, clinic.scoring_options):
                messages.success(request, _("Clinic settings saved; the patients' outcomes are being recomputed."))
            else:
                messages.success(request, _("Clinic settings saved."))
            return HttpResponseRedirect(reverse("web:admin_settings"))
    return _settings_page(request, clinic, form=form)


def _settings_page(
    request: HttpRequest,
    clinic: Clinic,
    *,
    form: ClinicSettingsForm | None = None,
    crisis_form: CrisisResourcesForm | None = None,
) -> HttpResponse:
    if form is None:
        refs, profiles = reference_sets_for(clinic=clinic), payer_profiles_list(clinic=clinic)
        form = ClinicSettingsForm(
            initial=ClinicSettingsForm.initial_for(clinic, _payer_key(profiles)),
            reference_sets=refs,
            payer_profiles=profiles,
        )
    if crisis_form is None:
        crisis_form = CrisisResourcesForm(
            initial=CrisisResourcesForm.initial_for(clinic.country, clinic.crisis_resources or {})
        )
    return render(request, "web/admin_settings.html", {"form": form, "crisis_form": crisis_form, "clinic": clinic})


@admin_required
@require_POST
def clinic_crisis_resources(request: HttpRequest) -> HttpResponse:
    """The crisis resources a flagged patient is shown: the service behind ``PUT /api/v1/clinic/crisis-resources/``."""
    actor = acting_user(request)
    clinic = _clinic(actor)
    form = CrisisResourcesForm(request.POST)
    if form.is_valid():
        try:
            clinic_set_crisis_resources(actor=actor, **form.service_arguments())
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, _("Crisis resources saved."))
            return HttpResponseRedirect(reverse("web:admin_settings") + "#crisis")
    return _settings_page(request, clinic, crisis_form=form)


# --- exports --------------------------------------------------------------------------------------------
def _patient_choices(actor: User) -> list[tuple[str, str]]:
    rows = selectors.patients_visible(actor=actor).order_by("name", "id").values_list("pk", "name", "date_of_birth")
    return [(str(pk), f"{name} ({born:%Y-%m-%d})" if born else name) for pk, name, born in rows]


def _reports_page(
    request: HttpRequest,
    *,
    csv_form: DateRangeForm | None = None,
    zip_form: PayerReportsForm | None = None,
    status: int = 200,
) -> HttpResponse:
    actor = acting_user(request)
    clinic = _clinic(actor)
    choices = _patient_choices(actor)
    profiles = payer_profiles_list(clinic=clinic)
    zip_form = zip_form or PayerReportsForm(patients=choices, payer_profiles=profiles)
    chosen = set(zip_form["patients"].value() or ())
    context = {
        "csv_form": csv_form or DateRangeForm(),
        "zip_form": zip_form,
        "patients": [(pk, label, pk in chosen) for pk, label in choices],
    }
    return render(request, "web/admin_reports.html", context, status=status)


@admin_required
@require_safe
def reports(request: HttpRequest) -> HttpResponse:
    return _reports_page(request)


@admin_required
@require_safe
def response_csv(request: HttpRequest) -> HttpResponseBase:
    """The response CSV of ``GET /api/v1/reports/response.csv`` (same builder), for a date range."""
    actor = acting_user(request)
    form = DateRangeForm(request.GET)
    if not form.is_valid():
        return _reports_page(request, csv_form=form, status=400)
    period = {"date_from": form.cleaned_data["date_from"], "date_to": form.cleaned_data["date_to"]}
    if response_rows_estimate(actor=actor, **period) > settings.EXPORT_SYNC_MAX_ROWS:
        # Streamed past the web server's timeout it would break off: a worker builds exports this large.
        form.add_error(
            None,
            _(
                "This period has too many rows for a download in the browser. Choose a shorter period, or "
                "have it built in the background through the API (POST /api/v1/reports/response.csv)."
            ),
        )
        return _reports_page(request, csv_form=form, status=400)
    chunks = response_csv_stream(actor=actor, audit_action="web.report.csv", **period)
    response = StreamingHttpResponse((chunk.encode() for chunk in chunks), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="response-report.csv"'
    response["Cache-Control"] = "private, no-store"
    return response


@admin_required
@require_POST
def payer_reports(request: HttpRequest) -> HttpResponse:
    """The selected patients' payer reports (the PDF builder of ``report.pdf``): one PDF each in a zip, or one
    combined PDF with a cover listing them; audited per patient, scoped to the clinic."""
    actor = acting_user(request)
    clinic = _clinic(actor)
    profiles = payer_profiles_list(clinic=clinic)
    form = PayerReportsForm(request.POST, patients=_patient_choices(actor), payer_profiles=profiles)
    if not form.is_valid():
        return _reports_page(request, zip_form=form, status=400)
    profile = payer_profile_for(clinic, form.cleaned_data["profile"])
    patients = list(
        selectors.patients_visible(actor=actor)
        .filter(pk__in=form.cleaned_data["patients"])
        .select_related("clinic")
        .order_by("name", "id")
    )
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    if form.cleaned_data["layout"] == LAYOUT_COMBINED:
        content = render_response_reports([patient_outcomes(p) for p in patients], actor=actor, profile=profile)
        content_type, filename = "application/pdf", f"payer-reports-{stamp}.pdf"
    else:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for patient in patients:
                pdf = render_response_report(patient_outcomes(patient), actor=actor, profile=profile)
                archive.writestr(f"response-report-{patient.pk}.pdf", pdf)
        content, content_type, filename = buffer.getvalue(), "application/zip", f"payer-reports-{stamp}.zip"
    audit_record_many(actor=actor, action="web.report.pdf", object_type="patient", patient_ids=[p.pk for p in patients])
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response


# --- clinic outcomes ------------------------------------------------------------------------------------
def _cohort_scales(results: list[dict[str, Any]]) -> list[str]:
    present = {r["scale"] for r in results}
    return [key for key in scoring.SCALES if key in present]


@admin_required
@require_safe
def clinic_outcomes(request: HttpRequest) -> HttpResponse:
    """Does the promised remission rate hold here? The stored cohort (never computed by this read) beside
    the reference curves, response and remission shares, completion, and the patients off track."""
    actor = acting_user(request)
    clinic = _clinic(actor)
    answer = cohort_results(clinic=clinic)
    audit_record(actor=actor, action="web.cohort.read", object_type="clinic", object_id=clinic.pk)
    off_track = patients_off_track(clinic)
    audit_record_many(
        actor=actor, action="web.outcomes.off_track", object_type="patient", patient_ids=[p["id"] for p in off_track]
    )
    scales = _cohort_scales(answer.results)
    context = {
        "clinic": clinic,
        "pending": answer.pending,
        "next_run_at": answer.next_run_at,
        "computed_at": max((r["computed_at"] for r in answer.results), default=None),
        "scales": [(key, scoring.SCALES[key].short_name or key) for key in scales],
        "cohort": cohort_table(answer.results, reference=clinic.reference_set),
        "weeks": (4, 8, 12, 26),
        "shares": outcome_shares(clinic),
        "completion": completion_rates(clinic),
        "off_track": off_track,
    }
    return render(request, "web/admin_outcomes.html", context)


@admin_required
@require_safe
def clinic_outcomes_chart(request: HttpRequest, scale: str) -> HttpResponse:
    actor = acting_user(request)
    clinic = _clinic(actor)
    if scale not in scoring.SCALES:
        return HttpResponse(status=404)
    answer = cohort_results(clinic=clinic, scale=scale)
    audit_record(actor=actor, action="web.cohort.chart", object_type="clinic", object_id=clinic.pk)
    response = HttpResponse(
        cohort_chart(answer.results, clinic_id=clinic.pk, scale=scale, reference=clinic.reference_set),
        content_type="image/svg+xml",
    )
    response["Cache-Control"] = "private, no-store"
    return response
