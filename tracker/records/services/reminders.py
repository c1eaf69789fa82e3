"""Reminders of due questionnaires: the patient's preference, their devices, and the run on the beat.

For each questionnaire due (``selectors.schedule``), a patient is reminded once a day at their chosen local
time, in their time zone, on at most ``MAX_REMINDERS`` days until they complete it (a submission starts a new
schedule). Each delivery is written before it is sent and is unique per patient, scale, channel and local day,
so a run that is repeated, or two runs at once, send nothing twice. The text says only that a questionnaire
waits in the app.
"""

from __future__ import annotations

import logging
import uuid
import zoneinfo
from datetime import date, datetime, time
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from tracker.records.crisis import supported_locale
from tracker.records.delivery import Channel, Message, channels
from tracker.records.models import (
    DEFAULT_REMINDER_TIME,
    Assessment,
    DeliveryStatus,
    Device,
    DevicePlatform,
    Patient,
    ReminderChannel,
    ReminderDelivery,
    ReminderPreference,
    User,
)
from tracker.records.selectors.reminders import reminder_preference_of
from tracker.records.selectors.schedule import DEFAULT_SCHEDULE, questionnaires_due
from tracker.records.services.audit import audit_record

logger = logging.getLogger(__name__)

#: Reminders of one due questionnaire, one a day, before the app stops asking until it is done.
MAX_REMINDERS = 3
PUSH_TOKEN_MAX_LENGTH = 1024
EMAIL_MAX_LENGTH = 254

SUBJECT = _("A reminder from your care team")
FOOTER = _("You can change or turn off these reminders in the app.")

_email = EmailValidator()

_UNSET: Any = object()


def _channel_list(errors: dict[str, list[str]], value: Any, enabled: bool) -> list[str]:
    known = list(ReminderChannel.values)
    if not isinstance(value, list) or any(c not in known for c in value) or len(set(value)) != len(value):
        errors["channels"] = [f"A list of distinct channels among: {', '.join(known)}."]
        return []
    if enabled and not value:
        errors["channels"] = ["Choose at least one channel, or turn reminders off."]
    return list(value)


@transaction.atomic
def reminder_preference_update(
    *,
    actor: User,
    patient: Patient,
    enabled: bool,
    local_time: time,
    channels: Any,
    email: Any = _UNSET,
    locale: str = "",
) -> ReminderPreference:
    """Replace the patient's reminder preference; ``email`` omitted keeps the stored address (null or ""
    clears it). ``locale``: the language reminders are written in until the patient sets their own."""
    errors: dict[str, list[str]] = {}
    if not isinstance(enabled, bool):
        errors["enabled"] = ["true or false."]
    if not isinstance(local_time, time):
        errors["local_time"] = ["A local time of day, HH:MM."]
    chosen = _channel_list(errors, channels, enabled is True)
    pref = ReminderPreference.objects.select_for_update().filter(patient=patient).first()
    address: str | None = pref.email if pref is not None else ""
    if email is not _UNSET:
        address = (email or "").strip() if isinstance(email, str | None) else None
        try:
            if address is None or len(address) > EMAIL_MAX_LENGTH:
                raise ValidationError("invalid")
            if address:
                _email(address)
        except ValidationError:
            errors["email"] = [f"An email address of at most {EMAIL_MAX_LENGTH} characters."]
    if ReminderChannel.EMAIL in chosen and not address and "email" not in errors:
        errors["email"] = ["Reminders by email need an email address."]
    if errors:
        raise ValidationError(errors)
    pref = pref or ReminderPreference(patient=patient)
    pref.enabled = enabled
    pref.local_time = local_time.replace(second=0, microsecond=0)
    pref.channels = chosen
    pref.email = address or ""
    if locale:
        pref.locale = supported_locale(locale)
    pref.save()
    audit_record(
        actor=actor, action="reminder_preference.update", object_type="patient", object_id=patient.pk,
        patient_id=patient.pk, clinic_id=patient.clinic_id,
    )  # fmt: skip
    return pref


def _check_device(platform: Any, push_token: Any) -> str:
    errors: dict[str, list[str]] = {}
    if platform not in DevicePlatform.values:
        errors["platform"] = [f"One of {', '.join(DevicePlatform.values)}."]
    token = push_token.strip() if isinstance(push_token, str) else ""
    if not 16 <= len(token) <= PUSH_TOKEN_MAX_LENGTH or not token.isascii() or not token.isprintable() or " " in token:
        errors["push_token"] = [f"The push token as the platform issued it (16 to {PUSH_TOKEN_MAX_LENGTH} characters)."]
    if errors:
        raise ValidationError(errors)
    return token


def device_register(*, actor: User, patient: Patient, platform: Any, push_token: Any) -> tuple[Device, bool]:
    """Register a device for push reminders; the same token again answers the same device (``created``
    False). A token registered by another patient's login is moved to this patient: a token is one app
    install, and it belongs to whoever signed in on it last."""
    token = _check_device(platform, push_token)
    for _attempt in range(2):
        try:
            with transaction.atomic():
                device = Device.objects.select_for_update().filter(push_token=token).first()
                created = device is None or device.patient_id != patient.pk
                if device is None:
                    device = Device.objects.create(patient=patient, platform=platform, push_token=token)
                elif created or device.platform != platform or device.invalid_at is not None:
                    device.patient, device.platform, device.invalid_at = patient, platform, None
                    device.save(update_fields=["patient", "platform", "invalid_at"])
                if created:
                    audit_record(
                        actor=actor, action="device.register", object_type="device", object_id=device.pk,
                        patient_id=patient.pk, clinic_id=patient.clinic_id,
                    )  # fmt: skip
                return device, created
        except IntegrityError:
            continue  # the same token registered at the same moment: the second pass finds it
    raise RuntimeError("device registration raced twice")


@transaction.atomic
def device_delete(*, actor: User, device: Device) -> None:
    patient, device_id = device.patient, device.pk
    device.delete()  # which clears device.pk
    audit_record(
        actor=actor, action="device.delete", object_type="device", object_id=device_id,
        patient_id=patient.pk, clinic_id=patient.clinic_id,
    )  # fmt: skip


def reminder_message(count: int, locale: str) -> Message:
    with translation.override(supported_locale(locale)):
        body = ngettext(
            "You have a questionnaire waiting in the app.",
            "You have %(count)d questionnaires waiting in the app.",
            count,
        ) % {"count": count}
        return Message(subject=str(SUBJECT), body=body, footer=str(FOOTER))


def _something_due(today: date) -> Q:
    """Patients who may have a questionnaire due on ``today``: a self-report scale not yet completed
    today. A superset, since schedules differ per patient (``questionnaires_due`` decides)."""
    due: Any = Q()
    for scale in DEFAULT_SCHEDULE:
        done_today = Assessment.objects.filter(
            patient=OuterRef("pk"), scale=scale, is_superseded=False, administered_on__gte=today
        )
        due |= ~Exists(done_today)
    return due


def _candidates(zone: str, today: date, now_local: time) -> list[uuid.UUID]:
    """Patients in ``zone`` whose reminder time has passed today, not yet reminded today, with something due."""
    time_passed = Q(reminder_preference__enabled=True, reminder_preference__local_time__lte=now_local)
    if now_local >= DEFAULT_REMINDER_TIME:
        time_passed |= Q(reminder_preference__isnull=True)
    reminded = ReminderDelivery.objects.filter(local_date=today, patient=OuterRef("pk"))
    return list(
        Patient.objects.filter(timezone=zone, user__isnull=False, user__is_active=True)
        .filter(time_passed)
        .filter(_something_due(today))
        .exclude(Exists(reminded))
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def _scales_to_remind(patient: Patient, today: date) -> list[str]:
    scales = []
    for due in questionnaires_due(patient=patient, today=today):
        if not due.due:
            continue
        # This round of reminders began when the questionnaire fell due (never completed: ever).
        since = due.next_due if due.last_completed else date.min
        days = (
            ReminderDelivery.objects.filter(patient=patient, scale=due.scale, local_date__gte=since)
            .values("local_date")
            .distinct()
            .count()
        )
        if days < MAX_REMINDERS:
            scales.append(due.scale)
    return scales


def _claim(patient: Patient, scales: list[str], channel: str, today: date, now: datetime) -> list[int]:
    """Write the deliveries before sending; empty when another run wrote them first."""
    rows = [
        ReminderDelivery(patient=patient, scale=scale, channel=channel, local_date=today, sent_at=now)
        for scale in scales
    ]
    try:
        with transaction.atomic():
            return [row.pk for row in ReminderDelivery.objects.bulk_create(rows)]
    except IntegrityError:
        return []


def _deliver(channel: Channel, patient: Patient, address: str, message: Message) -> str:
    try:
        return channel.send(patient=patient, address=address, message=message)
    except Exception:  # one patient's failure must not stop the others' reminders
        logger.exception("reminder to patient %s on %s failed", patient.pk, channel.name)
        return DeliveryStatus.FAILED


def remind_patient(patient: Patient, *, today: date, now: datetime, by: dict[str, Channel]) -> int:
    """Remind one patient of what is due today; the number of deliveries written."""
    scales = _scales_to_remind(patient, today)
    if not scales:
        return 0
    pref = reminder_preference_of(patient=patient)
    locale = patient.locale or pref.locale or settings.LANGUAGE_CODE
    message = reminder_message(len(scales), locale)
    written = 0
    for name in pref.channels:
        claimed = _claim(patient, scales, name, today, now)
        if not claimed:
            continue
        address = pref.email if name == ReminderChannel.EMAIL else ""
        status = _deliver(by[name], patient, address, message)
        ReminderDelivery.objects.filter(pk__in=claimed).update(status=status)
        written += len(claimed)
    if written:
        audit_record(
            actor=None, action="reminder.send", object_type="patient", object_id=patient.pk,
            patient_id=patient.pk, clinic_id=patient.clinic_id,
        )  # fmt: skip
    return written


def reminders_send_due(*, now: datetime | None = None, by: dict[str, Channel] | None = None) -> int:
    """The beat's run: every patient whose local reminder time has passed today and who has not been
    reminded today is reminded of what is due. Safe to run twice or concurrently; returns deliveries written."""
    now = now or timezone.now()
    by = by or channels()
    written = 0
    zones = (
        Patient.objects.filter(user__isnull=False, user__is_active=True)
        .order_by()
        .values_list("timezone", flat=True)
        .distinct()
    )
    for zone in list(zones):
        local = now.astimezone(zoneinfo.ZoneInfo(zone))
        for patient_id in _candidates(zone, local.date(), local.time()):
            patient = Patient.objects.select_related("clinic").get(pk=patient_id)
            written += remind_patient(patient, today=local.date(), now=now, by=by)
    return written
