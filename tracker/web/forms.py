"""The dashboard's forms: staff login, the patient list's filters, a flag acknowledgement."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

import scoring
from projections.math.signals import SIGNALS
from scoring.anchors import HAMD17_ANCHORS
from tracker.records.cleaning import canonical_timezones
from tracker.records.models import FlagAction, Modality, Timing, User
from tracker.records.services import login_guard
from tracker.records.services.patients import self_report_scales
from tracker.web.display import words
from tracker.web.triage import SORTS

if TYPE_CHECKING:  # django-stubs is a development tool only
    from django_stubs_ext import StrOrPromise

PATIENTS_USE_THE_APP = _("This dashboard is for clinic staff. Patients sign in with the mobile app.")
LOCKED = _("Too many failed sign-ins for this username from this device. Try again later.")


def _label(value: str) -> str:
    return words(value).capitalize()


class StaffLoginForm(AuthenticationForm):
    """Django's login form, refusing patients and logins without a clinic, with the API's lockout
    counter (the same failures count for the app's token login and this form)."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "patient": PATIENTS_USE_THE_APP,
        "not_staff": _("This login has no clinic role; ask your clinic admin."),
        "locked": LOCKED,
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # An empty submit says what is missing, beside the field.
        self.fields["username"].error_messages["required"] = _("Enter your username.")
        self.fields["password"].error_messages["required"] = _("Enter your password.")

    def clean(self) -> dict[str, Any]:
        username = self.cleaned_data.get("username") or ""
        if login_guard.seconds_locked(username):
            raise forms.ValidationError(self.error_messages["locked"], code="locked")
        try:
            cleaned = super().clean()
        except forms.ValidationError as exc:
            if exc.code == "invalid_login":  # a wrong pair, not a refused role
                login_guard.record_failure(username)
            raise
        login_guard.clear(username)
        return cleaned

    def confirm_login_allowed(self, user: Any) -> None:
        super().confirm_login_allowed(user)
        if not isinstance(user, User) or user.is_patient:
            raise forms.ValidationError(self.error_messages["patient"], code="patient")
        if not user.is_clinic_staff:
            raise forms.ValidationError(self.error_messages["not_staff"], code="not_staff")


class PatientListFilterForm(forms.Form):
    """The query string of /patients/: every field optional; an unknown value is an error shown above the list."""

    q = forms.CharField(required=False, max_length=100, label=_("Search"))
    signal = forms.ChoiceField(
        required=False,
        choices=lambda: [("", gettext("Any signal")), *((s, _label(s)) for s in SIGNALS)],
        label=_("Projection"),
    )
    state = forms.ChoiceField(
        required=False,
        choices=lambda: [("", gettext("Any state")), *((s, _label(s)) for s in scoring.STATES)],
        label=_("State"),
    )
    flagged = forms.BooleanField(required=False, label=_("Open safety flags"))
    overdue = forms.BooleanField(required=False, label=_("Questionnaire overdue"))
    sort = forms.ChoiceField(required=False, choices=list(SORTS.items()), label=_("Order"))

    FILTERS = ("q", "signal", "state", "flagged", "overdue")

    def clean_sort(self) -> str:
        return self.cleaned_data.get("sort") or "urgency"


# --- the patient page's writes ---------------------------------------------------------------------------
# Each form only shapes the input; the service it feeds checks the rest and its errors are put beside
# the field they name (``service_errors``).


def service_errors(form: forms.Form, exc: ValidationError) -> None:
    """A service's ``ValidationError({field: [message]})`` beside the form's field of that name
    (the form's own name prefix is not part of it), else above the form."""
    for field, messages in exc.message_dict.items():
        form.add_error(field if field in form.fields else None, messages)


DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
TIME_INPUT = forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
TIMING_CHOICES = [
    (Timing.PRE_DOSE, _("Before the dose (or no dose that day)")),
    (Timing.POST_DOSE, _("Within 24 h after a dose")),
    ("", _("Not recorded")),
]


class ItemScoresForm(forms.Form):
    """One scale's items, a score each: the HAM-D's options carry their public-domain anchors, the
    others' only the scores (the MADRS's and BDI-II's wording is copyrighted)."""

    def __init__(self, *args: Any, scale: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.scale = scoring.SCALES[scale]
        for number, top in enumerate(self.scale.item_max, start=1):
            self.fields[f"item_{number}"] = forms.TypedChoiceField(
                label=item_label(scale, number),
                choices=item_choices(scale, number, top),
                coerce=int,
                widget=forms.RadioSelect(attrs={"class": "scores"}),
                error_messages={"required": _("Rate this item.")},
            )

    def item_fields(self) -> list[forms.BoundField]:
        return [self[f"item_{n}"] for n in range(1, self.scale.n_items + 1)]

    def items(self) -> list[int]:
        return [self.cleaned_data[f"item_{n}"] for n in range(1, self.scale.n_items + 1)]


class ClinicianRatingForm(ItemScoresForm):
    """A clinician-rated scale item by item, with its date, time and timing against the dose."""

    administered_on = forms.DateField(label=_("Date"), widget=DATE_INPUT)
    administered_time = forms.TimeField(label=_("Time"), required=False, widget=TIME_INPUT)
    timing = forms.ChoiceField(label=_("Timing against the dose"), choices=TIMING_CHOICES, required=False)
    client_id = forms.UUIDField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, scale: str, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", scale)
        super().__init__(*args, scale=scale, **kwargs)


def item_label(scale: str, number: int) -> str:
    definition = scoring.SCALES[scale]
    label = gettext("Item %(number)d") % {"number": number}
    text = definition.item_labels[number - 1]
    if text != f"Item {number}":  # a scale with item numbers only (BDI-II) has nothing to add
        label = f"{label}: {text}"
    if number == definition.suicide_item:
        label = gettext("%(label)s (suicide item)") % {"label": label}
    return label


def item_choices(scale: str, number: int, top: int) -> list[tuple[int, str]]:
    if scale == "hamd17":
        return [(score, f"{score} · {anchor}") for score, anchor in enumerate(HAMD17_ANCHORS[number])]
    return [(score, str(score)) for score in range(top + 1)]


class AmendForm(ItemScoresForm):
    """A corrected version of an entry, item by item (scores only), with the reason."""

    reason = forms.CharField(
        label=_("Reason for the correction"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )


ESKETAMINE_DOSES = [("", _("Choose")), ("56", "56 mg"), ("84", "84 mg")]


def _pressure(label: StrOrPromise, low: int, high: int) -> forms.IntegerField:
    return forms.IntegerField(
        label=label,
        required=False,
        min_value=low,
        max_value=high,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )


class SessionForm(forms.Form):
    """A treatment session's monitoring record; the dose field fits the course's modality."""

    date = forms.DateField(label=_("Date"), widget=DATE_INPUT)
    time = forms.TimeField(label=_("Time"), required=False, widget=TIME_INPUT)
    dose_mg = forms.DecimalField(label=_("Dose (mg)"), required=False, min_value=0, max_digits=7, decimal_places=2)
    dose_mg_per_kg = forms.DecimalField(
        label=_("Dose (mg/kg)"), required=False, min_value=0, max_digits=5, decimal_places=3
    )
    bp_systolic_before = _pressure(_("Systolic before (mmHg)"), 50, 300)
    bp_diastolic_before = _pressure(_("Diastolic before (mmHg)"), 20, 200)
    bp_systolic_after = _pressure(_("Systolic after (mmHg)"), 50, 300)
    bp_diastolic_after = _pressure(_("Diastolic after (mmHg)"), 20, 200)
    monitoring_minutes = forms.IntegerField(
        label=_("Monitoring (minutes)"), required=False, min_value=0, max_value=1440
    )
    notes = forms.CharField(label=_("Notes"), required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 2}))
    adverse_events = forms.CharField(
        label=_("Adverse events"), required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args: Any, modality: str, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "session")
        super().__init__(*args, **kwargs)
        self.modality = modality
        if modality == "esketamine":
            # The nasal spray comes in 28 mg devices: 56 mg (two) or 84 mg (three) a session.
            self.fields["dose_mg"] = forms.TypedChoiceField(
                label=_("Dose"), choices=ESKETAMINE_DOSES, coerce=Decimal, empty_value=None
            )
            del self.fields["dose_mg_per_kg"]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        is_ketamine = self.modality in ("iv_ketamine", "im_ketamine", "oral_ketamine")
        no_dose = cleaned.get("dose_mg") is None and cleaned.get("dose_mg_per_kg") is None
        if is_ketamine and no_dose and not {"dose_mg", "dose_mg_per_kg"} & set(self.errors):
            self.add_error("dose_mg", _("Give the dose in mg or in mg/kg."))
        return cleaned


class FlagsAcknowledgeForm(forms.Form):
    """One or several open flags of a patient, with what was done and a note."""

    flags = forms.MultipleChoiceField(
        label=_("Flags"),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one flag.")},
    )
    action = forms.ChoiceField(label=_("Action taken"), choices=[("", _("Choose…")), *FlagAction.choices])
    note = forms.CharField(label=_("Note"), required=False, max_length=2000)

    def __init__(self, *args: Any, flag_ids: list[str], **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "ack")
        super().__init__(*args, **kwargs)
        self.fields["flags"].choices = [(i, i) for i in flag_ids]  # type: ignore[attr-defined]


class FlagAcknowledgeForm(forms.Form):
    """One flag (``/flags/{id}/acknowledge/``): the same action and note."""

    action = forms.ChoiceField(label=_("Action taken"), choices=[("", _("Choose…")), *FlagAction.choices])
    note = forms.CharField(label=_("Note"), required=False, max_length=2000)


SCHEDULE_INTERVALS = [("", _("Not asked")), ("7", _("Weekly")), ("14", _("Every 2 weeks")), ("28", _("Every 4 weeks"))]


class ScheduleForm(forms.Form):
    """Which self-report questionnaires the app asks for, and how often."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for key, scale in scoring.SCALES.items():
            if scale.rated_by == "patient":
                self.fields[key] = forms.TypedChoiceField(
                    label=scale.short_name or scale.name,
                    choices=SCHEDULE_INTERVALS,
                    coerce=int,
                    empty_value=None,
                    required=False,
                    initial="7",
                )

    def schedule(self) -> dict[str, int]:
        return {key: days for key in self_report_scales() if (days := self.cleaned_data.get(key))}

    @staticmethod
    def initial_for(schedule: dict[str, int]) -> dict[str, str]:
        return {key: str(schedule[key]) if key in schedule else "" for key in self_report_scales()}


def _timezone_choices() -> list[tuple[str, str]]:
    return [(z, z) for z in sorted(canonical_timezones())]


class PatientCreateForm(ScheduleForm):
    name = forms.CharField(label=_("Name"), max_length=200)
    date_of_birth = forms.DateField(label=_("Date of birth"), required=False, widget=DATE_INPUT)
    external_id = forms.CharField(label=_("External id"), required=False, max_length=100)
    timezone = forms.ChoiceField(label=_("Time zone"), choices=_timezone_choices, initial="UTC")

    field_order = ["name", "date_of_birth", "external_id", "timezone"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.order_fields(self.field_order)


class CourseCreateForm(forms.Form):
    modality = forms.ChoiceField(label=_("Modality"), choices=Modality.choices)
    with_therapy = forms.BooleanField(label=_("With psychotherapy"), required=False)
    start_date = forms.DateField(label=_("Start date"), widget=DATE_INPUT)
    treating_clinician = forms.ChoiceField(label=_("Treating clinician"), required=False)

    def __init__(self, *args: Any, staff: list[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["treating_clinician"].choices = [  # type: ignore[attr-defined]
            ("", _("Not chosen")),
            *((str(u.pk), u.get_full_name() or u.username) for u in staff),
        ]
