"""Crisis resources: what a patient is shown, and the clinic's settings behind it."""

from __future__ import annotations

from rest_framework import serializers

from tracker.api.serializers.base import StrictSerializer


class CrisisLineSerializer(serializers.Serializer):  # type: ignore[type-arg]
    # A field named like DRF's Field.label attribute, which the serializer's metaclass replaces.
    label = serializers.CharField(max_length=120)  # type: ignore[assignment]
    phone = serializers.CharField(max_length=32, help_text="As dialled: digits, spaces, ( ) . - and a leading +.")
    sms = serializers.CharField(max_length=32, required=False, allow_blank=True, help_text="A number to text, if any.")
    url = serializers.URLField(max_length=300, required=False, allow_blank=True, help_text="https only.")


class CrisisResourcesSerializer(serializers.Serializer):  # type: ignore[type-arg]
    message = serializers.CharField(help_text="What to do now, in the patient's language.")
    phone = serializers.CharField(help_text="The first line's number (or the emergency number when there is none).")
    emergency = serializers.CharField(help_text='The emergency numbers, e.g. "112 / 999"; empty when unknown.')
    emergency_numbers = serializers.ListField(child=serializers.CharField())
    lines = CrisisLineSerializer(many=True, help_text="Crisis lines in order; the clinic's own line last.")
    country = serializers.CharField(help_text="ISO 3166-1 alpha-2 code whose defaults apply; empty: none known.")
    locale = serializers.CharField()


class CrisisLocaleTextsSerializer(serializers.Serializer):  # type: ignore[type-arg]
    message = serializers.CharField(max_length=1000, required=False, help_text="Replaces the default message.")
    emergency = serializers.ListField(
        child=serializers.CharField(max_length=32), min_length=1, max_length=3, required=False
    )
    lines = CrisisLineSerializer(many=True, required=False, help_text="Replaces the country's lines (at most 5).")


class CrisisSettingsSerializer(serializers.Serializer):  # type: ignore[type-arg]
    country = serializers.CharField(
        max_length=2,
        required=False,
        allow_blank=True,
        allow_null=True,
        help_text="ISO 3166-1 alpha-2 (UK is read as GB); empty: taken from the patient's time zone where known.",
    )
    clinic_line = CrisisLineSerializer(
        required=False, allow_null=True, help_text="The clinic's own line, listed after the others; null: none."
    )
    locales = serializers.DictField(
        child=CrisisLocaleTextsSerializer(), required=False, help_text='Texts per language, e.g. {"es": {...}}.'
    )


class CrisisSettingsAnswerSerializer(CrisisSettingsSerializer):
    effective = serializers.DictField(
        child=CrisisResourcesSerializer(), help_text="What a patient is shown, per language (for the clinic's country)."
    )


class CrisisSettingsInputSerializer(StrictSerializer):
    """The request's top level; the service checks every nested field and reports them all at once."""

    country = serializers.JSONField(required=False, allow_null=True)
    clinic_line = serializers.JSONField(required=False, allow_null=True)
    locales = serializers.JSONField(required=False, allow_null=True)
