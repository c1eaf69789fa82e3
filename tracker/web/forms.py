"""The dashboard's forms: staff login, the patient list's filters, a flag acknowledgement."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

import scoring
from projections.math.signals import SIGNALS
from tracker.records.models import User
from tracker.records.services import login_guard
from tracker.web.triage import SORTS

PATIENTS_USE_THE_APP = "This dashboard is for clinic staff. Patients sign in with the mobile app."
LOCKED = "Too many failed sign-ins for this username from this device. Try again later."


def _label(value: str) -> str:
    return value.replace("_", " ").capitalize()


class StaffLoginForm(AuthenticationForm):
    """Django's login form, refusing patients and logins without a clinic, with the API's lockout
    counter (the same failures count for the app's token login and this form)."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "patient": PATIENTS_USE_THE_APP,
        "not_staff": "This login has no clinic role; ask your clinic admin.",
        "locked": LOCKED,
    }

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

    q = forms.CharField(required=False, max_length=100, label="Search")
    signal = forms.ChoiceField(
        required=False, choices=[("", "Any signal"), *((s, _label(s)) for s in SIGNALS)], label="Projection"
    )
    state = forms.ChoiceField(
        required=False, choices=[("", "Any state"), *((s, _label(s)) for s in scoring.STATES)], label="State"
    )
    flagged = forms.BooleanField(required=False, label="Open safety flags")
    overdue = forms.BooleanField(required=False, label="Questionnaire overdue")
    sort = forms.ChoiceField(required=False, choices=list(SORTS.items()), label=_("Order"))

    FILTERS = ("q", "signal", "state", "flagged", "overdue")

    def clean_sort(self) -> str:
        return self.cleaned_data.get("sort") or "urgency"


class FlagAcknowledgeForm(forms.Form):
    note = forms.CharField(
        required=False, max_length=1000, widget=forms.TextInput(attrs={"placeholder": "Note (optional)"})
    )
