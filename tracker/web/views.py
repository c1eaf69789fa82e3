"""The clinician dashboard: server-rendered pages over the same selectors and services as the API.

Reads are scoped by ``tracker.records.selectors`` (another clinic's patient is a 404) and audited; writes go
through ``tracker.records.services`` (a flag acknowledgement, a baseline mark). The notices inbox is in
``notices``, the clinic admin's pages in ``clinic_admin``.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

import qrcode
import qrcode.image.svg
from django import forms
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Prefetch, Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

import scoring
from projections.filters import PatientFilter
from tracker.records import selectors
from tracker.records.models import (
    DEFAULT_SCHEDULE,
    EnrollmentCode,
    FlagAcknowledgement,
    Patient,
    Role,
    SafetyFlag,
    Timing,
    User,
)
from tracker.records.selectors.schedule import questionnaires_due
from tracker.records.services import assessments as assessment_services
from tracker.records.services import patients as patient_services
from tracker.records.services.audit import audit_record, audit_record_many
from tracker.records.services.errors import Conflict
from tracker.records.services.patients import patient_local_today
from tracker.reports.charts import render_patient_chart
from tracker.reports.fhir import patient_bundle_json
from tracker.reports.pdf import render_response_report
from tracker.reports.progress import patient_progress
from tracker.reports.read_model import patient_outcomes
from tracker.web import display
from tracker.web.access import acting_user, clinician_required, staff_required
from tracker.web.forms import (
    AmendForm,
    ClinicianRatingForm,
    CourseCreateForm,
    FlagAcknowledgeForm,
    FlagsAcknowledgeForm,
    PatientCreateForm,
    PatientListFilterForm,
    ScheduleForm,
    SessionForm,
    StaffLoginForm,
    service_errors,
)
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
CLINICIAN_SCALES = [key for key, scale in scoring.SCALES.items() if scale.rated_by == "clinician"]


def _rating_form(patient: Patient, scale: str, today: date, session_today: bool) -> ClinicianRatingForm:
    # A new idempotency key per rendered form: a double submit stores one entry.
    return ClinicianRatingForm(
        scale=scale,
        initial={
            "administered_on": today,
            "timing": Timing.PRE_DOSE if session_today else "",
            "client_id": uuid.uuid4(),
        },
    )


def _patient_page(
    request: HttpRequest, patient: Patient, *, status: int = 200, open_form: str = "", **bound: forms.Form
) -> HttpResponse:
    """The patient page, with any form just posted (and refused) in place of its blank one."""
    actor = acting_user(request)
    _audit_patient(request, "web.patient.read", patient)
    view = patient_outcomes(patient)
    course = view.course
    today = patient_local_today(patient)
    flags = (
        selectors.flags_visible(actor=actor)
        .filter(patient=patient)
        .select_related("assessment")
        .prefetch_related(Prefetch("acknowledgements", queryset=FlagAcknowledgement.objects.select_related("by")))
    )
    open_flags = [f for f in flags if f.acknowledged_at is None]
    closed_flags = sorted(
        (f for f in flags if f.acknowledged_at is not None),
        key=lambda f: f.acknowledged_at or f.created_at,
        reverse=True,
    )
    entries = selectors.patient_assessments(patient=patient).select_related("entered_by").reverse()
    outcomes = [display.outcome_view(s.outcome) for s in view.scales]
    # One scale's chart at a time (three stacked are too tall to read), chosen with ?scale=.
    chart_keys = [s.scale for s in view.scales]
    chart_scale = request.GET.get("scale") if request.GET.get("scale") in chart_keys else next(iter(chart_keys), None)
    session_today = any(s.date == today for s in view.sessions)
    is_clinician = actor.role == Role.CLINICIAN
    rating_forms = [
        bound.get(f"rate_{key}") or _rating_form(patient, key, today, session_today) for key in CLINICIAN_SCALES
    ]
    context = {
        "patient": patient,
        "course": display.CourseInfo.of(course, today),
        "sessions": display.session_views(view.sessions),
        "flags": display.flag_views(open_flags),
        "flag_history": display.flag_views(closed_flags, newest_first=True),
        "can_acknowledge": is_clinician,
        "is_clinician": is_clinician,
        "ack_form": bound.get("ack") or FlagsAcknowledgeForm(flag_ids=[str(f.pk) for f in open_flags]),
        "rating_forms": rating_forms,
        "session_form": bound.get("session")
        or (SessionForm(modality=course.modality, initial={"date": today}) if course else None),
        "schedule_form": bound.get("schedule")
        or ScheduleForm(initial=ScheduleForm.initial_for(patient.questionnaire_schedule)),
        "open_form": open_form,
        "outcomes": outcomes,
        "chart_scale": chart_scale,
        "chart_label": display.short_name(chart_scale) if chart_scale else "",
        "chart_scales": [(key, display.short_name(key), key == chart_scale) for key in chart_keys],
        # The patient's /me/progress/ texts, in the clinician's language.
        "progress": [(display.short_name(p.scale), p) for p in patient_progress(view)],
        "entries": display.entry_views(entries),
        "due": [(display.short_name(d.scale), d) for d in questionnaires_due(patient=patient, today=today)],
        "today": today,
    }
    return render(request, "web/patient_detail.html", context, status=status)


@staff_required
@require_safe
def patient_detail(request: HttpRequest, patient_id: str) -> HttpResponse:
    patient = selectors.patient_get(actor=acting_user(request), patient_id=patient_id)
    return _patient_page(request, patient)


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
    scale = request.GET.get("scale") or None
    if scale is not None and scale not in scoring.SCALES:
        raise Http404("No such scale.")
    _audit_patient(request, "web.chart.svg", patient)
    chart = render_patient_chart(
        patient_outcomes(patient), fmt="svg", scale=scale, flags=selectors.flag_levels_of_entries(patient=patient)
    )
    return _private_file(chart, "image/svg+xml")


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
def _ack_message(request: HttpRequest, flags: list[SafetyFlag], already: int) -> None:
    done = len(flags) - already
    if done == 0:
        messages.info(request, _("This safety flag had already been acknowledged."))
    elif done == 1:
        messages.success(request, _("Safety flag acknowledged."))
    else:
        messages.success(request, _("%(count)d safety flags acknowledged.") % {"count": done})


@clinician_required
@require_POST
def flag_acknowledge(request: HttpRequest, flag_id: str) -> HttpResponse:
    """One flag, from a link or an older page: the same action and note as the patient page's form."""
    actor = acting_user(request)
    flag = selectors.flag_get(actor=actor, flag_id=flag_id)
    form = FlagAcknowledgeForm(request.POST)
    if form.is_valid():
        try:
            already = flag.acknowledged_at is not None
            flag = assessment_services.flag_acknowledge(actor=actor, flag=flag, **form.cleaned_data)
        except ValidationError as exc:
            service_errors(form, exc)
        else:
            _ack_message(request, [flag], int(already))
    if form.errors:
        for field, errors in form.errors.items():
            label = form.fields[field].label if field in form.fields else ""
            for error in errors:
                messages.error(request, f"{label}: {error}" if label else str(error))
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = reverse("web:patient_detail", args=[flag.patient_id])
    return HttpResponseRedirect(target)


@clinician_required
@require_POST
def patient_flags_acknowledge(request: HttpRequest, patient_id: str) -> HttpResponse:
    """The patient page's form: the checked open flags (or the one whose button was pressed) at once."""
    actor = acting_user(request)
    patient = selectors.patient_get(actor=actor, patient_id=patient_id)
    flags = {str(f.pk): f for f in selectors.flags_visible(actor=actor).filter(patient=patient)}
    data = request.POST.copy()
    only = data.get("only")
    if only:  # a flag's own "Acknowledge" button: that flag, whatever else is ticked
        data.setlist("ack-flags", [only])
    form = FlagsAcknowledgeForm(data, flag_ids=list(flags))
    if form.is_valid():
        chosen = [flags[i] for i in form.cleaned_data["flags"]]
        already = sum(1 for f in chosen if f.acknowledged_at is not None)
        try:
            assessment_services.flags_acknowledge(
                actor=actor, flags=chosen, note=form.cleaned_data["note"], action=form.cleaned_data["action"]
            )
        except ValidationError as exc:
            service_errors(form, exc)
        else:
            _ack_message(request, chosen, already)
            return HttpResponseRedirect(reverse("web:patient_detail", args=[patient.pk]) + "#safety-flags")
    return _patient_page(request, patient, status=400, ack=form)


# --- clinician ratings, sessions, amendments, schedule ---------------------------------------------------
def _saved(request: HttpRequest, patient: Patient, anchor: str = "") -> HttpResponse:
    return HttpResponseRedirect(reverse("web:patient_detail", args=[patient.pk]) + anchor)


@clinician_required
@require_POST
def patient_rate(request: HttpRequest, patient_id: str, scale: str) -> HttpResponse:
    """A MADRS or HAM-D entered item by item, through ``assessment_submit`` as the API's entries."""
    actor = acting_user(request)
    patient = selectors.patient_get(actor=actor, patient_id=patient_id)
    if scale not in CLINICIAN_SCALES:
        raise Http404
    form = ClinicianRatingForm(request.POST, scale=scale)
    if form.is_valid():
        data = form.cleaned_data
        try:
            entry = assessment_services.assessment_submit(
                actor=actor,
                patient=patient,
                scale=scale,
                administered_on=data["administered_on"],
                administered_time=data["administered_time"],
                items=form.items(),
                client_id=data["client_id"],
                timing=data["timing"] or None,
            ).assessment
        except ValidationError as exc:
            service_errors(form, exc)
        else:
            name = display.short_name(scale)
            messages.success(
                request,
                _("%(scale)s entry saved: total %(total)d (%(severity)s).")
                % {"scale": name, "total": entry.total, "severity": display.words(entry.severity)},
            )
            # The patient's crisis message is for a patient's own entry; staff see the flag itself.
            if entry.flags.all():
                messages.warning(request, _("Safety flag raised: see the open safety flags."))
            return _saved(request, patient)
    return _patient_page(request, patient, status=400, open_form=f"rate-{scale}", **{f"rate_{scale}": form})


@clinician_required
@require_POST
def patient_session_create(request: HttpRequest, patient_id: str) -> HttpResponse:
    actor = acting_user(request)
    patient = selectors.patient_get(actor=actor, patient_id=patient_id)
    course = selectors.current_course(patient=patient)
    if course is None:
        messages.error(request, _("Start a treatment course before recording its sessions."))
        return _saved(request, patient)
    form = SessionForm(request.POST, modality=course.modality)
    if form.is_valid():
        try:
            patient_services.session_create(actor=actor, course=course, **form.cleaned_data)
        except ValidationError as exc:
            service_errors(form, exc)
        else:
            messages.success(request, _("Treatment session recorded."))
            return _saved(request, patient, "#sessions")
    return _patient_page(request, patient, status=400, open_form="session", session=form)


@clinician_required
@require_POST
def patient_schedule(request: HttpRequest, patient_id: str) -> HttpResponse:
    actor = acting_user(request)
    patient = selectors.patient_get(actor=actor, patient_id=patient_id)
    form = ScheduleForm(request.POST)
    if form.is_valid():
        try:
            patient_services.patient_set_schedule(actor=actor, patient=patient, schedule=form.schedule())
        except ValidationError as exc:
            service_errors(form, exc)
        else:
            messages.success(request, _("Questionnaire schedule saved."))
            return _saved(request, patient, "#questionnaires")
    return _patient_page(request, patient, status=400, open_form="schedule", schedule=form)


@clinician_required
def assessment_amend(request: HttpRequest, assessment_id: str) -> HttpResponse:
    """Correct an entry: a new version with a reason; the original is kept and shown struck through."""
    actor = acting_user(request)
    entry = selectors.assessment_get(actor=actor, assessment_id=assessment_id)
    patient = entry.patient
    if request.method == "POST":
        form = AmendForm(request.POST, scale=entry.scale)
        if form.is_valid():
            try:
                assessment_services.assessment_amend(
                    actor=actor, assessment=entry, items=form.items(), reason=form.cleaned_data["reason"]
                )
            except ValidationError as exc:
                service_errors(form, exc)
            except Conflict as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, _("Entry corrected; the original is kept, struck through."))
                return _saved(request, patient, "#entries")
        status = 400
    elif request.method in ("GET", "HEAD"):
        form = AmendForm(scale=entry.scale, initial={f"item_{n}": v for n, v in enumerate(entry.items, start=1)})
        status = 200
    else:
        return HttpResponseNotAllowed(["GET", "HEAD", "POST"])
    audit_record(
        actor=actor, action="web.assessment.read", object_type="assessment", object_id=entry.pk,
        patient_id=patient.pk, clinic_id=patient.clinic_id,
    )  # fmt: skip
    context = {"patient": patient, "entry": display.entry_views([entry])[0], "form": form}
    return render(request, "web/assessment_amend.html", context, status=status)


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
            messages.success(request, _("Baseline mark removed: the course's baseline follows the rule again."))
        else:
            assessment_services.assessment_mark_baseline(actor=actor, assessment=entry)
            messages.success(request, _("Entry marked as the course's baseline."))
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    return HttpResponseRedirect(reverse("web:patient_detail", args=[entry.patient_id]))


# --- onboarding: a patient, a course, the enrollment code ------------------------------------------------
# The raw code exists only when it is issued (it is stored hashed): the session keeps it for the printable
# page until it expires or a newer one replaces it.
_CODE_KEY = "enrollment-code:{}"


def _remember_code(request: HttpRequest, patient: Patient, raw: str, expires_at: datetime) -> None:
    request.session[_CODE_KEY.format(patient.pk)] = {"code": raw, "expires_at": expires_at.isoformat()}


def _remembered_code(request: HttpRequest, patient: Patient) -> tuple[str, datetime] | None:
    kept = request.session.get(_CODE_KEY.format(patient.pk))
    if not kept:
        return None
    expires_at = datetime.fromisoformat(kept["expires_at"])
    if expires_at <= timezone.now() or patient.user_id is not None:
        del request.session[_CODE_KEY.format(patient.pk)]
        return None
    return kept["code"], expires_at


@staff_required
def patient_create(request: HttpRequest) -> HttpResponse:
    actor = acting_user(request)
    if request.method == "POST":
        form = PatientCreateForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                created = patient_services.patient_create(
                    actor=actor,
                    name=data["name"],
                    date_of_birth=data["date_of_birth"],
                    external_id=data["external_id"],
                    timezone_name=data["timezone"],
                    schedule=form.schedule(),
                )
            except ValidationError as exc:
                service_errors(form, exc)
            else:
                patient = created.patient
                _remember_code(request, patient, created.enrollment_code, created.enrollment_expires_at)  # type: ignore[arg-type]
                messages.success(request, _("Patient created. Start their treatment course, then hand them the code."))
                return HttpResponseRedirect(reverse("web:course_create", args=[patient.pk]))
        status = 400
    elif request.method in ("GET", "HEAD"):
        form = PatientCreateForm(initial=ScheduleForm.initial_for(DEFAULT_SCHEDULE))
        status = 200
    else:
        return HttpResponseNotAllowed(["GET", "HEAD", "POST"])
    return render(request, "web/patient_create.html", {"form": form}, status=status)


@staff_required
def course_create(request: HttpRequest, patient_id: str) -> HttpResponse:
    actor = acting_user(request)
    patient = selectors.patient_get(actor=actor, patient_id=patient_id)
    staff = list(
        User.objects.filter(
            clinic_id=patient.clinic_id, role__in=(Role.ADMIN, Role.CLINICIAN), is_active=True
        ).order_by("last_name", "first_name", "username")
    )
    if request.method == "POST":
        form = CourseCreateForm(request.POST, staff=staff)
        if form.is_valid():
            data = form.cleaned_data
            try:
                patient_services.course_create(
                    actor=actor,
                    patient=patient,
                    modality=data["modality"],
                    with_therapy=data["with_therapy"],
                    start_date=data["start_date"],
                    treating_clinician=data["treating_clinician"] or None,
                )
            except ValidationError as exc:
                service_errors(form, exc)
            else:
                messages.success(request, _("Treatment course started."))
                if _remembered_code(request, patient):
                    return HttpResponseRedirect(reverse("web:patient_enrollment", args=[patient.pk]))
                return _saved(request, patient)
        status = 400
    elif request.method in ("GET", "HEAD"):
        initial: dict[str, object] = {"start_date": patient_local_today(patient)}
        if actor.role == Role.CLINICIAN:
            initial["treating_clinician"] = str(actor.pk)
        form = CourseCreateForm(staff=staff, initial=initial)
        status = 200
    else:
        return HttpResponseNotAllowed(["GET", "HEAD", "POST"])
    _audit_patient(request, "web.patient.read", patient)
    return render(request, "web/course_create.html", {"patient": patient, "form": form}, status=status)


def _qr_svg(text: str) -> str:
    """The code as an inline SVG QR code (paths and attributes only: the CSP allows no inline style)."""
    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, box_size=10, border=4)
    svg = image.to_string(encoding="unicode")
    return svg.replace("<svg ", '<svg role="img" aria-label="QR code of the enrollment code" ', 1)


@staff_required
@require_safe
def patient_enrollment(request: HttpRequest, patient_id: str) -> HttpResponse:
    """The printable page a patient takes home: the code, its QR code and how to use it."""
    actor = acting_user(request)
    patient = selectors.patient_get(actor=actor, patient_id=patient_id)
    _audit_patient(request, "web.enrollment.read", patient)
    kept = _remembered_code(request, patient)
    latest = EnrollmentCode.objects.filter(patient=patient).order_by("-created_at").first()
    context = {
        "patient": patient,
        "code": kept[0] if kept else None,
        "code_display": "-".join(kept[0][i : i + 5] for i in range(0, len(kept[0]), 5)) if kept else None,
        "expires_at": kept[1] if kept else (latest.expires_at if latest else None),
        "expired": latest is not None and latest.used_at is None and latest.expires_at <= timezone.now(),
        "qr_svg": mark_safe(_qr_svg(kept[0])) if kept else "",  # noqa: S308  (built here from the code's alphabet)
        "enrolled": patient.user_id is not None,
    }
    return render(request, "web/patient_enrollment.html", context)


@staff_required
@require_POST
def patient_enrollment_renew(request: HttpRequest, patient_id: str) -> HttpResponse:
    actor = acting_user(request)
    patient = selectors.patient_get(actor=actor, patient_id=patient_id)
    if patient.user_id is not None:
        messages.error(request, _("This patient has already enrolled in the app; no code is needed."))
        return _saved(request, patient)
    raw, code = patient_services.patient_enrollment_code_renew(actor=actor, patient=patient)
    _remember_code(request, patient, raw, code.expires_at)
    messages.success(request, _("A new enrollment code was issued; earlier codes no longer work."))
    return HttpResponseRedirect(reverse("web:patient_enrollment", args=[patient.pk]))
