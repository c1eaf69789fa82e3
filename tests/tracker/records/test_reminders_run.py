"""The reminder run on the beat, called at frozen times: the patient's local time and day decide, at most three
reminders of a due questionnaire, none after it is done, none twice, and no health data in any text."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
import time_machine
from django.conf import settings
from django.core import mail

from tests.tracker.helpers import PASSWORD, client_for, items_with_total, make_clinic
from tracker.records.delivery import FcmPushProvider, Message
from tracker.records.models import Device, PushOutboxMessage, ReminderDelivery, User
from tracker.records.services.patients import patient_create, patient_enroll
from tracker.records.tasks import send_due_reminders

pytestmark = pytest.mark.django_db

KIRITIMATI = "Pacific/Kiritimati"  # UTC+14
PAGO_PAGO = "Pacific/Pago_Pago"  # UTC-11


def at(*args: int) -> Any:
    return time_machine.travel(datetime(*args, tzinfo=UTC), tick=False)


@pytest.fixture
def world() -> Any:
    return make_clinic()


def patient_in(world: Any, zone: str, name: str) -> User:
    new = patient_create(actor=world.clinician, name=name, timezone_name=zone)
    patient, _ = patient_enroll(enrollment_code=new.enrollment_code, username=name, password=PASSWORD)
    assert patient.user is not None
    return patient.user


def prefer(user: User, local_time: str = "18:00", channels: tuple[str, ...] = ("email",), **headers: str) -> None:
    body = {
        "enabled": True,
        "local_time": local_time,
        "channels": list(channels),
        "email": f"{user.username}@example.org",
    }
    r = client_for(user).put("/api/v1/me/reminders/", body, format="json", **headers)
    assert r.status_code == 200, r.content


def run() -> int:
    return send_due_reminders.delay().get()


def days_reminded(user: User) -> list[str]:
    rows = ReminderDelivery.objects.filter(patient__user=user).order_by("local_date")
    return sorted({r.local_date.isoformat() for r in rows})


def emails_to(user: User) -> list[Any]:
    return [m for m in mail.outbox if m.to == [f"{user.username}@example.org"]]


def test_the_patients_own_clock_decides_across_the_date_line(world: Any) -> None:
    kiritimati = patient_in(world, KIRITIMATI, "kiritimati")
    pago = patient_in(world, PAGO_PAGO, "pago-pago")
    with at(2026, 3, 10, 3, 0):
        prefer(kiritimati)
        prefer(pago)
    # 04:30 UTC: 18:30 on 10 March in Kiritimati, 17:30 on 9 March in Pago Pago.
    with at(2026, 3, 10, 4, 30):
        run()
    assert days_reminded(kiritimati) == ["2026-03-10"] and days_reminded(pago) == []
    # 05:30 UTC: 18:30 on 9 March in Pago Pago; Kiritimati was reminded today already.
    with at(2026, 3, 10, 5, 30):
        run()
    assert days_reminded(kiritimati) == ["2026-03-10"] and days_reminded(pago) == ["2026-03-09"]
    # 10:30 UTC: 00:30 on 11 March in Kiritimati, a new day but not yet its time.
    with at(2026, 3, 10, 10, 30):
        run()
    assert days_reminded(kiritimati) == ["2026-03-10"]
    assert len(emails_to(kiritimati)) == 1 and len(emails_to(pago)) == 1


def test_a_reminder_just_before_midnight_is_the_days_reminder(world: Any) -> None:
    kiritimati = patient_in(world, KIRITIMATI, "kiritimati")
    pago = patient_in(world, PAGO_PAGO, "pago-pago")
    with at(2026, 3, 10, 0, 0):
        prefer(kiritimati, "23:50")
        prefer(pago, "23:50")
    with at(2026, 3, 10, 9, 55):  # 23:55 on 10 March in Kiritimati; 22:55 on 9 March in Pago Pago
        run()
    with at(2026, 3, 10, 10, 5):  # 00:05 on 11 March in Kiritimati; 23:05 in Pago Pago
        run()
    assert days_reminded(kiritimati) == ["2026-03-10"] and days_reminded(pago) == []
    with at(2026, 3, 11, 10, 55):  # 23:55 on 10 March in Pago Pago, after which it is the 11th
        run()
    with at(2026, 3, 11, 11, 5):
        run()
    assert days_reminded(pago) == ["2026-03-10"]
    assert days_reminded(kiritimati) == ["2026-03-10"]  # 00:55 and 01:05 on the 12th there: not yet


def test_three_reminders_at_most_then_silence_until_done(world: Any) -> None:
    user = patient_in(world, PAGO_PAGO, "pago-pago")
    with at(2026, 3, 10, 0, 0):
        prefer(user)
    for day in range(10, 16):
        with at(2026, 3, day, 6, 0):  # 19:00 the day before in Pago Pago
            run()
    assert days_reminded(user) == ["2026-03-09", "2026-03-10", "2026-03-11"]
    assert len(emails_to(user)) == 3
    # Both scheduled questionnaires were due: one email a day, one delivery per questionnaire.
    assert ReminderDelivery.objects.filter(patient__user=user).count() == 6


def test_a_submission_stops_the_reminders_of_that_questionnaire(world: Any) -> None:
    user = patient_in(world, KIRITIMATI, "kiritimati")
    with at(2026, 3, 10, 0, 0):
        prefer(user)
    with at(2026, 3, 10, 5, 0):  # 19:00 on 10 March
        run()
        entry = {
            "scale": "phq9",
            "administered_on": "2026-03-10",
            "items": items_with_total("phq9", 6),
            "client_id": str(uuid.uuid4()),
        }
        assert client_for(user).post("/api/v1/assessments/", entry, format="json").status_code == 201
    with at(2026, 3, 11, 5, 0):
        run()
    with at(2026, 3, 12, 5, 0):
        run()
    rows = ReminderDelivery.objects.filter(patient__user=user)
    by_scale = {scale: sorted(str(r.local_date) for r in rows if r.scale == scale) for scale in ("bdi2", "phq9")}
    assert by_scale == {"bdi2": ["2026-03-10", "2026-03-11", "2026-03-12"], "phq9": ["2026-03-10"]}
    assert [m.body.splitlines()[0] for m in emails_to(user)] == [
        "You have 2 questionnaires waiting in the app.",
        "You have a questionnaire waiting in the app.",
        "You have a questionnaire waiting in the app.",
    ]


def test_running_twice_sends_nothing_twice(world: Any) -> None:
    user = patient_in(world, KIRITIMATI, "kiritimati")
    with at(2026, 3, 10, 0, 0):
        prefer(user, channels=("email", "push"))
        client_for(user).post("/api/v1/me/devices/", {"platform": "ios", "push_token": "a" * 64}, format="json")
    with at(2026, 3, 10, 5, 0):
        first = run()
        second = run()
    assert (first, second) == (4, 0)
    assert len(mail.outbox) == 1 and PushOutboxMessage.objects.count() == 1
    statuses = dict(ReminderDelivery.objects.values_list("channel", "status").distinct())
    assert statuses == {"email": "sent", "push": "recorded"}


def test_no_health_data_in_any_reminder(world: Any) -> None:
    user = patient_in(world, KIRITIMATI, "kiritimati")
    with at(2026, 3, 10, 0, 0):
        prefer(user, channels=("email", "push"))
        client_for(user).post("/api/v1/me/devices/", {"platform": "android", "push_token": "b" * 64}, format="json")
    with at(2026, 3, 10, 5, 0):
        run()
    (email,) = mail.outbox
    push = PushOutboxMessage.objects.get()
    assert email.subject == "A reminder from your care team"
    assert email.body == (
        "You have 2 questionnaires waiting in the app.\n\nYou can change or turn off these reminders in the app."
    )
    assert (push.title, push.body) == (
        "A reminder from your care team",
        "You have 2 questionnaires waiting in the app.",
    )
    for text in (email.subject, email.body, push.title, push.body):
        assert not re.search(r"bdi|phq|beck|depress|ketamine|suicid|score|clinic a", text, re.IGNORECASE), text
    # Staff of the clinic see the recorded push; another clinic's do not.
    listed = client_for(world.clinician).get("/api/v1/push-outbox/").json()
    assert [m["body"] for m in listed["results"]] == [push.body]
    other = make_clinic("Clinic B", "b")
    assert client_for(other.clinician).get("/api/v1/push-outbox/").json()["count"] == 0


def test_a_spanish_patient_is_reminded_in_spanish(world: Any) -> None:
    user = patient_in(world, KIRITIMATI, "kiritimati")
    with at(2026, 3, 10, 0, 0):
        prefer(user, HTTP_ACCEPT_LANGUAGE="es")
    with at(2026, 3, 10, 5, 0):
        run()
    (email,) = mail.outbox
    assert email.subject == "Un recordatorio de su equipo de atención"
    assert email.body.startswith("Tiene 2 cuestionarios pendientes en la aplicación.")


def test_turned_off_means_no_reminder(world: Any) -> None:
    user = patient_in(world, KIRITIMATI, "kiritimati")
    with at(2026, 3, 10, 0, 0):
        r = client_for(user).put(
            "/api/v1/me/reminders/", {"enabled": False, "local_time": "18:00", "channels": ["push"]}, format="json"
        )
        assert r.status_code == 200
    with at(2026, 3, 10, 5, 0):
        run()
    assert days_reminded(user) == [] and mail.outbox == []


def test_without_preferences_the_default_is_a_push_at_six_in_the_evening(world: Any) -> None:
    user = patient_in(world, KIRITIMATI, "kiritimati")
    with at(2026, 3, 10, 3, 59):  # 17:59
        run()
    assert days_reminded(user) == []
    with at(2026, 3, 10, 4, 1):  # 18:01; no device: recorded as undeliverable
        run()
    assert set(ReminderDelivery.objects.filter(patient__user=user).values_list("channel", "status")) == {
        ("push", "no_address")
    }


def test_the_beat_sends_the_run() -> None:
    entry = settings.CELERY_BEAT_SCHEDULE["questionnaire-reminders"]
    assert entry["task"] == send_due_reminders.name


class FakeSession:
    def __init__(self, status: int, body: dict[str, Any]) -> None:
        self.status, self.body = status, body
        self.sent: list[dict[str, Any]] = []

    def post(self, url: str, json: dict[str, Any], timeout: float) -> Any:
        self.sent.append({"url": url, **json})
        status, body = self.status, self.body

        class Answer:
            status_code = status

            def json(self) -> dict[str, Any]:
                return body

        return Answer()


def test_fcm_sends_the_generic_text_and_drops_unregistered_tokens(world: Any) -> None:
    device = Device.objects.create(patient=world.patient, platform="android", push_token="c" * 64)
    message = Message(subject="A reminder", body="You have a questionnaire waiting in the app.")
    ok = FakeSession(200, {"name": "projects/p/messages/1"})
    assert FcmPushProvider("p", ok).push(device=device, message=message) == "sent"
    (sent,) = ok.sent
    assert sent["url"] == "https://fcm.googleapis.com/v1/projects/p/messages:send"
    assert sent["message"]["token"] == "c" * 64
    assert sent["message"]["notification"] == {"title": "A reminder", "body": message.body}
    gone = FakeSession(404, {"error": {"status": "NOT_FOUND", "details": [{"errorCode": "UNREGISTERED"}]}})
    assert FcmPushProvider("p", gone).push(device=device, message=message) == "failed"
    device.refresh_from_db()
    assert device.invalid_at is not None
