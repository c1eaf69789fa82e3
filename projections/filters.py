"""Filters of the patient list, shared by the API and the dashboard."""

from __future__ import annotations

from django.db.models import QuerySet
from django_filters import rest_framework as filters

from projections.math.signals import SIGNALS
from projections.models import OutcomeSnapshot
from tracker.records.models import Patient, SafetyFlag


class PatientFilter(filters.FilterSet):
    signal = filters.ChoiceFilter(
        choices=[(x, x) for x in SIGNALS],
        method="filter_signal",
        help_text="Patients with any current outcome carrying this projection signal.",
    )
    state = filters.ChoiceFilter(
        choices=[(x, x) for x in ("not_remitted", "remission_pending", "remission", "recovered")],
        method="filter_state",
    )
    flagged = filters.BooleanFilter(method="filter_flagged", help_text="Patients with open safety flags.")

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
