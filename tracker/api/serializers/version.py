"""The API's version and the oldest app version the operator supports."""

from __future__ import annotations

from rest_framework import serializers


class ApiVersionSerializer(serializers.Serializer):  # type: ignore[type-arg]
    api_version = serializers.CharField(help_text="The version of this API's contract (API.md), e.g. '1.1'.")
    min_supported_app_version = serializers.CharField(
        help_text="The oldest app version the operator supports; an older app asks its user to update."
    )
