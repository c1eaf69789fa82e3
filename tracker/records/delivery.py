"""How a reminder reaches a patient: a delivery interface with two channels.

- ``email``: Django's email backend (the console by default; SMTP when ``EMAIL_HOST`` is set).
- ``push``: a provider. Firebase Cloud Messaging HTTP v1 when ``FCM_PROJECT_ID`` and a service-account
  file are configured; otherwise each push is recorded in ``PushOutboxMessage`` for staff to see.

A message is the generic reminder text only: no scale name, no score, no clinic name.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import cache
from typing import Any, Protocol

from django.conf import settings
from django.core.mail import send_mail
from django.utils import timezone
from google.auth.transport.requests import AuthorizedSession
from google.oauth2 import service_account

from tracker.records.models import DeliveryStatus, Device, Patient, PushOutboxMessage

logger = logging.getLogger(__name__)

FCM_SCOPE = "https://www.googleapis.com/auth/firebase.messaging"
FCM_TIMEOUT_SECONDS = 10
# FCM's answers for a token that will never work again: the device is marked invalid.
FCM_GONE = {"UNREGISTERED", "INVALID_ARGUMENT"}


@dataclass(frozen=True)
class Message:
    """A reminder as the patient reads it, already in their language."""

    subject: str
    body: str
    footer: str = ""  # email only: how to change or stop the reminders


class Channel(Protocol):
    name: str

    def send(self, *, patient: Patient, address: str, message: Message) -> str:
        """Deliver ``message``; answer a ``DeliveryStatus`` value."""
        ...


class PushProvider(Protocol):
    def push(self, *, device: Device, message: Message) -> str:
        """Push to one device; answer a ``DeliveryStatus`` value."""
        ...


class EmailChannel:
    name = "email"

    def send(self, *, patient: Patient, address: str, message: Message) -> str:
        if not address:
            return DeliveryStatus.NO_ADDRESS
        try:
            send_mail(
                message.subject, f"{message.body}\n\n{message.footer}".strip(), settings.DEFAULT_FROM_EMAIL, [address]
            )
        except OSError:  # smtplib's errors are OSErrors: the server is down or refused
            logger.warning("reminder email to patient %s failed", patient.pk)
            return DeliveryStatus.FAILED
        return DeliveryStatus.SENT


class OutboxPushProvider:
    """No provider configured: the push is kept in a table staff can read."""

    def push(self, *, device: Device, message: Message) -> str:
        PushOutboxMessage.objects.create(
            patient_id=device.patient_id, device=device, title=message.subject, body=message.body
        )
        return DeliveryStatus.RECORDED


class FcmPushProvider:
    """Firebase Cloud Messaging HTTP v1: one authorised POST per device token."""

    def __init__(self, project_id: str, session: Any) -> None:
        self.url = f"https://fcm.googleapis.com/v1/projects/{project_id}/messages:send"
        self.session = session  # google.auth's AuthorizedSession (a requests.Session that adds the token)

    def push(self, *, device: Device, message: Message) -> str:
        payload = {
            "message": {
                "token": device.push_token,
                "notification": {"title": message.subject, "body": message.body},
                "data": {"kind": "questionnaire_reminder"},
            }
        }
        try:
            response = self.session.post(self.url, json=payload, timeout=FCM_TIMEOUT_SECONDS)
        except OSError:  # requests' connection errors are OSErrors
            logger.warning("push to device %s failed: no connection", device.pk)
            return DeliveryStatus.FAILED
        if response.status_code == 200:
            return DeliveryStatus.SENT
        if _fcm_error_code(response) in FCM_GONE or response.status_code == 404:
            Device.objects.filter(pk=device.pk).update(invalid_at=timezone.now())
        logger.warning("push to device %s failed: HTTP %s", device.pk, response.status_code)
        return DeliveryStatus.FAILED


def _fcm_error_code(response: Any) -> str:
    try:
        details = response.json().get("error", {}).get("details", [])
    except ValueError:
        return ""
    return next((d.get("errorCode", "") for d in details if isinstance(d, dict) and d.get("errorCode")), "")


@cache
def _fcm_provider(project_id: str, credentials_file: str) -> FcmPushProvider:
    credentials = service_account.Credentials.from_service_account_file(credentials_file, scopes=[FCM_SCOPE])
    return FcmPushProvider(project_id, AuthorizedSession(credentials))


def push_provider() -> PushProvider:
    if settings.FCM_PROJECT_ID and settings.FCM_CREDENTIALS_FILE:
        return _fcm_provider(settings.FCM_PROJECT_ID, settings.FCM_CREDENTIALS_FILE)
    return OutboxPushProvider()


class PushChannel:
    name = "push"

    def __init__(self, provider: PushProvider | None = None) -> None:
        self.provider = provider

    def send(self, *, patient: Patient, address: str, message: Message) -> str:
        devices = list(Device.objects.filter(patient=patient, invalid_at__isnull=True))
        if not devices:
            return DeliveryStatus.NO_ADDRESS
        provider = self.provider or push_provider()
        statuses = [provider.push(device=d, message=message) for d in devices]
        # One device reached is the reminder delivered.
        for status in (DeliveryStatus.SENT, DeliveryStatus.RECORDED):
            if status in statuses:
                return status
        return DeliveryStatus.FAILED


def channels() -> dict[str, Channel]:
    return {"email": EmailChannel(), "push": PushChannel()}
