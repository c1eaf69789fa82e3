"""Crisis resources: what a patient is shown, and the clinic's settings behind it."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from tracker.api.serializers.base import StrictSerializer
from tracker.records.crisis import COUNTRY_ALIASES
from tracker.records.services.crisis import HTTPS_URL, PHONE_MAX_LENGTH, iso_countries

#: ``tracker.records.services.crisis.PHONE`` with its three digits at least: a digit first and last, one between.
PHONE_PATTERN = r"^\+?[0-9][0-9 ().-]*[0-9][0-9 ().-]*[0-9]$"
#: An https address the service accepts (a host name with a top-level domain; a path).
HTTPS_PATTERN = f"^{HTTPS_URL.pattern}$"


@extend_schema_field({"type": "string", "pattern": PHONE_PATTERN, "minLength": 3, "maxLength": PHONE_MAX_LENGTH})
class PhoneField(serializers.CharField):
    """A number as dialled (documentation: the service checks it)."""


@extend_schema_field(
    {
        "oneOf": [
            {"type": "string", "pattern": PHONE_PATTERN, "maxLength": PHONE_MAX_LENGTH},
            {"type": "string", "nullable": True, "maxLength": 0},
        ]
    }
)
class OptionalPhoneField(serializers.CharField):
    """A number as dialled, or empty (null reads as empty)."""


@extend_schema_field(
    {
        "oneOf": [
            {"type": "string", "format": "uri", "pattern": HTTPS_PATTERN, "maxLength": 300},
            {"type": "string", "nullable": True, "maxLength": 0},
        ]
    }
)
class HttpsUrlField(serializers.CharField):
    """An https address, or empty (null reads as empty)."""


@extend_schema_field(
    {
        "type": "string",
        "nullable": True,
        "oneOf": [{"enum": sorted(iso_countries() | set(COUNTRY_ALIASES))}, {"maxLength": 0}],
    }
)
class CountryField(serializers.CharField):
    """An ISO 3166-1 alpha-2 code (its aliases too), or empty."""


class CrisisLineSerializer(StrictSerializer):
    # A field named like DRF's Field.label attribute, which the serializer's metaclass replaces.
    label = serializers.CharField(max_length=120)  # type: ignore[assignment]
    phone = PhoneField(max_length=32, help_text="As dialled: digits, spaces, ( ) . - and a leading +.")
    sms = OptionalPhoneField(max_length=32, required=False, allow_blank=True, help_text="A number to text, if any.")
    url = HttpsUrlField(max_length=300, required=False, allow_blank=True, help_text="https only.")


class ClinicLineSerializer(CrisisLineSerializer):
    """The clinic's own line: its label may be left out, empty or null (the patient is shown "Your clinic")."""

    label = serializers.CharField(  # type: ignore[assignment]
        max_length=120, required=False, allow_blank=True, allow_null=True
    )


class CrisisResourcesSerializer(serializers.Serializer):  # type: ignore[type-arg]
    message = serializers.CharField(help_text="What to do now, in the patient's language.")
    phone = serializers.CharField(help_text="The first line's number (or the emergency number when there is none).")
    emergency = serializers.CharField(help_text='The emergency numbers, e.g. "112 / 999"; empty when unknown.')
    emergency_numbers = serializers.ListField(child=serializers.CharField())
    lines = CrisisLineSerializer(many=True, help_text="Crisis lines in order; the clinic's own line last.")
    country = serializers.CharField(help_text="ISO 3166-1 alpha-2 code whose defaults apply; empty: none known.")
    locale = serializers.CharField()


class CrisisLocaleTextsSerializer(StrictSerializer):
    # Null (and an empty message) reads as not given: the country's default stays.
    message = serializers.CharField(
        max_length=1000,
        required=False,
        allow_blank=True,
        allow_null=True,
        help_text="Replaces the default message.",
    )
    emergency = serializers.ListField(
        child=PhoneField(max_length=32), min_length=1, max_length=3, required=False, allow_null=True
    )
    lines = CrisisLineSerializer(
        many=True,
        required=False,
        allow_null=True,
        help_text="Replaces the country's lines (at most 5).",
    )


class CrisisSettingsSerializer(StrictSerializer):
    country = CountryField(
        max_length=2,
        required=False,
        allow_blank=True,
        allow_null=True,
        help_text="ISO 3166-1 alpha-2 (UK is read as GB); empty: taken from the patient's time zone where known.",
    )
    clinic_line = ClinicLineSerializer(
        required=False, allow_null=True, help_text="The clinic's own line, listed after the others; null: none."
    )
    locales = serializers.DictField(
        child=CrisisLocaleTextsSerializer(),
        required=False,
        allow_null=True,
        help_text='Texts per language, e.g. {"es": {...}}; null: none.',
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
