"""A clinic's settings and the reference sets it may choose."""

from __future__ import annotations

from rest_framework import serializers


class ClinicSerializer(serializers.Serializer):  # type: ignore[type-arg]
    id = serializers.UUIDField(read_only=True)
    name = serializers.CharField(read_only=True)
    reference_set = serializers.CharField(max_length=100, required=False)
    scoring_options = serializers.DictField(
        child=serializers.DictField(),
        required=False,
        help_text='Per-scale overrides of the clinical defaults, e.g. {"madrs": {"remission_max": 12}}.',
    )


class ReferenceSetSerializer(serializers.Serializer):  # type: ignore[type-arg]
    key = serializers.CharField()
    title = serializers.CharField()
    version = serializers.CharField()
    kind = serializers.CharField()
