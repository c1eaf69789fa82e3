"""Reminder preferences, devices for push, and the push outbox, through the API."""

from __future__ import annotations

from typing import Any

import pytest

from tests.tracker.helpers import client_for, error_fields, make_clinic
from tracker.records.models import AuditEvent, Device

pytestmark = pytest.mark.django_db
URL = "/api/v1/me/reminders/"
DEVICES = "/api/v1/me/devices/"
TOKEN = "fcm-token-0123456789abcdef:APA91b"


@pytest.fixture
def world() -> Any:
    return make_clinic()


def test_defaults_before_any_choice(world: Any) -> None:
    r = client_for(world.patient_user).get(URL)
    assert r.status_code == 200
    assert r.json() == {"enabled": True, "local_time": "18:00", "channels": ["push"], "email": None}


def test_a_patient_sets_time_channels_and_email(world: Any) -> None:
    patient = client_for(world.patient_user)
    body = {"enabled": True, "local_time": "07:45", "channels": ["push", "email"], "email": "me@example.org"}
    r = patient.put(URL, body, format="json")
    assert r.status_code == 200, r.content
    assert r.json() == body
    assert patient.get(URL).json() == body
    # Omitting the address keeps it; turning reminders off keeps the rest.
    off = patient.put(URL, {"enabled": False, "local_time": "07:45", "channels": []}, format="json")
    assert off.json() == {"enabled": False, "local_time": "07:45", "channels": [], "email": "me@example.org"}
    assert client_for(world.other_patient_user).get(URL).json()["local_time"] == "18:00"
    changes = AuditEvent.objects.filter(action="reminder_preference.update", patient_id=world.patient.pk)
    assert changes.count() == 2


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"enabled": True, "local_time": "25:00", "channels": ["push"]}, {"local_time"}),
        ({"enabled": True, "local_time": "7:5pm", "channels": ["push"]}, {"local_time"}),
        ({"enabled": True, "local_time": "18:00", "channels": ["sms"]}, {"channels"}),
        ({"enabled": True, "local_time": "18:00", "channels": "push"}, {"channels"}),
        ({"enabled": True, "local_time": "18:00", "channels": ["push", "push"]}, {"channels"}),
        ({"enabled": True, "local_time": "18:00", "channels": []}, {"channels"}),
        ({"enabled": True, "local_time": "18:00", "channels": ["email"]}, {"email"}),
        ({"enabled": True, "local_time": "18:00", "channels": ["email"], "email": "not-an-address"}, {"email"}),
        ({"enabled": "maybe", "local_time": "18:00", "channels": ["push"]}, {"enabled"}),
        ({"local_time": "18:00", "channels": ["push"]}, {"enabled"}),
        ({"enabled": True, "local_time": "18:00", "channels": ["push"], "surprise": 1}, {"surprise"}),
        ({"enabled": "x", "local_time": "x", "channels": ["x"]}, {"enabled", "local_time", "channels"}),
    ],
)
def test_bad_preferences_name_every_field_and_change_nothing(
    world: Any, body: dict[str, Any], fields: set[str]
) -> None:
    patient = client_for(world.patient_user)
    r = patient.put(URL, body, format="json")
    assert r.status_code == 400
    assert {f.split("[")[0].split(".")[0] for f in error_fields(r)} == fields, r.json()
    assert patient.get(URL).json()["local_time"] == "18:00"
    assert not AuditEvent.objects.filter(action="reminder_preference.update").exists()


def test_registering_the_same_token_twice_keeps_one_device(world: Any) -> None:
    patient = client_for(world.patient_user)
    first = patient.post(DEVICES, {"platform": "android", "push_token": TOKEN}, format="json")
    again = patient.post(DEVICES, {"platform": "android", "push_token": TOKEN}, format="json")
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"] and first.json()["platform"] == "android"
    assert Device.objects.count() == 1
    assert AuditEvent.objects.filter(action="device.register").count() == 1


def test_a_token_signed_in_by_another_patient_moves_to_them(world: Any) -> None:
    client_for(world.patient_user).post(DEVICES, {"platform": "ios", "push_token": TOKEN}, format="json")
    moved = client_for(world.other_patient_user).post(DEVICES, {"platform": "ios", "push_token": TOKEN}, format="json")
    assert moved.status_code == 201
    assert list(Device.objects.values_list("patient_id", flat=True)) == [world.other_patient.pk]


def test_deleting_a_device_and_another_patients_is_unknown(world: Any) -> None:
    mine = client_for(world.patient_user).post(DEVICES, {"platform": "web", "push_token": TOKEN}, format="json").json()
    other = make_clinic("Clinic B", "b")
    assert client_for(world.other_patient_user).delete(f"{DEVICES}{mine['id']}/").status_code == 404
    assert client_for(other.patient_user).delete(f"{DEVICES}{mine['id']}/").status_code == 404
    assert client_for(world.patient_user).delete(f"{DEVICES}not-an-id/").status_code == 404
    assert Device.objects.count() == 1
    assert client_for(world.patient_user).delete(f"{DEVICES}{mine['id']}/").status_code == 204
    assert client_for(world.patient_user).delete(f"{DEVICES}{mine['id']}/").status_code == 404
    assert Device.objects.count() == 0
    assert AuditEvent.objects.filter(action="device.delete", object_id=mine["id"]).count() == 1


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"platform": "symbian", "push_token": TOKEN}, {"platform"}),
        ({"platform": "ios", "push_token": "short"}, {"push_token"}),
        ({"platform": "ios", "push_token": "x" * 1025}, {"push_token"}),
        ({"platform": "ios", "push_token": "with a space in the token"}, {"push_token"}),
        ({"platform": "ios"}, {"push_token"}),
        ({"platform": "blackberry", "push_token": 5}, {"platform", "push_token"}),
    ],
)
def test_bad_devices_are_refused(world: Any, body: dict[str, Any], fields: set[str]) -> None:
    r = client_for(world.patient_user).post(DEVICES, body, format="json")
    assert r.status_code == 400 and error_fields(r) == fields, r.json()
    assert Device.objects.count() == 0
