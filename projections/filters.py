"""Filters of the patient list, shared by the API and the dashboard."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django_filters import rest_framework as filters

import scoring
from projections.math.signals import SIGNALS
from projections.models import OutcomeSnapshot
from tracker.records.models import Patient, SafetyFlag


class StrictBooleanField(forms.NullBooleanField):
    """``true``/``false`` (or ``1``/``0``, ``yes``/``no``); any other value is an error naming the
    parameter, where Django's ``NullBooleanField`` would read it as "no filter"."""

    TRUE = ("true", "1", "yes")
    FALSE = ("false", "0", "no")

    def to_python(self, value: Any) -> bool | None:  # type: ignore[override]
        if value in (None, ""):
            return None
        if isinstance(value, bool):
            return value
        text = str(value).lower()
        if text in self.TRUE:
            return True
        if text in self.FALSE:
            return False
        raise forms.ValidationError("Must be true or false.", code="invalid")


class StrictBooleanFilter(filters.BooleanFilter):
    field_class = StrictBooleanField

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # The value as sent: django-filter's BooleanWidget would read an unknown one as None.
        kwargs.setdefault("widget", forms.TextInput)
        super().__init__(*args, **kwargs)


class PatientFilter(filters.FilterSet):
    signal = filters.ChoiceFilter(
        choices=[(x, x) for x in SIGNALS],
        method="filter_signal",
        help_text="Patients with any current outcome carrying this projection signal.",
    )
    state = filters.ChoiceFilter(
        choices=[(x, x) for x in scoring.STATES],
        method="filter_state",
    )
    flagged = StrictBooleanFilter(method="filter_flagged", help_text="Patients with open safety flags.")

    class Meta:
        model = Patient
        fields: list[str] = []

    def filter_signal(self, qs: QuerySet[Patient], name: str, value: str) -> QuerySet[Patient]:
        return qs.filter(pk__in=OutcomeSnapshot.objects.filter(signal=value).values("patient_id"))

    def filter_state(self, qs: QuerySet[Patient], name: str, value: str) -> QuerySet[Patient]:
        return qs.filter(pk__in=OutcomeSnapshot.objects.filter(state=value).values("patient_id"))

    def filter_flagged(self, qs: QuerySet[Patient], name: str, value: bool) -> QuerySet[Patient]:
        open_flags = SafetyFlag.objects.filter(acknowledged_at__isnull=True).values("patient_id")
        return qs.filter(pk__in=open_flags) if value else qs.exclude(pk__in=open_flags)
