"""Logins, logouts and enrolment."""

from __future__ import annotations

from rest_framework import serializers

from tracker.api.serializers.base import NewPasswordField, StrictSerializer, UsernameField
from tracker.records.models import Role


class LoginSerializer(StrictSerializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=1024, trim_whitespace=False)


class TokenSerializer(serializers.Serializer):  # type: ignore[type-arg]
    token = serializers.CharField()
    expires_at = serializers.DateTimeField()
    role = serializers.ChoiceField(choices=Role.choices)


class EnrollSerializer(StrictSerializer):
    enrollment_code = serializers.CharField(max_length=64)
    username = UsernameField()
    password = NewPasswordField()


class EnrollResponseSerializer(serializers.Serializer):  # type: ignore[type-arg]
    token = serializers.CharField()
    expires_at = serializers.DateTimeField()
    patient_id = serializers.UUIDField()


class PasswordResetSerializer(StrictSerializer):
    reset_code = serializers.CharField(max_length=64, help_text="The code clinic staff issued.")
    username = serializers.CharField(max_length=150)
    new_password = NewPasswordField()


class PasswordChangeSerializer(StrictSerializer):
    old_password = serializers.CharField(max_length=1024, trim_whitespace=False)
    new_password = NewPasswordField()


class ResetCodeSerializer(serializers.Serializer):  # type: ignore[type-arg]
    reset_code = serializers.CharField(help_text="Single use; give it to the person only (it is never shown again).")
    expires_at = serializers.DateTimeField()
