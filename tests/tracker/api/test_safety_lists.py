"""Lists that never hide safety data: flags and notices come in pages, every one reachable, none twice,
urgent open flags first."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

import pytest
from django.utils import timezone

from tests.tracker.helpers import client_for, make_clinic, submit
from tracker.records.models import FlagLevel, Notice, SafetyFlag

pytestmark = pytest.mark.django_db

TODAY = date(2026, 3, 9)


@pytest.fixture
def world() -> Any:
    return make_clinic()


def _all_pages(client: Any, path: str) -> tuple[list[dict[str, Any]], list[int]]:
    items: list[dict[str, Any]] = []
    counts = []
    url: str | None = path
    while url:
        body = client.get(url).json()
        assert set(body) == {"count", "next", "previous", "results"}
        counts.append(body["count"])
        items += body["results"]
        url = body["next"]
    return items, counts


def _many_flags(world: Any, n: int) -> None:
    """``n`` flags of the patient (copies of one real flag), of both levels, half acknowledged, each
    with its own creation time and some with the same one."""
    r = submit(client_for(world.patient_user), "phq9", TODAY, 5, suicide=2)
    template = SafetyFlag.objects.get(pk=r.json()["flags"][0]["id"])
    base = timezone.now() - timedelta(days=30)
    flags = [
        SafetyFlag(
            id=uuid.uuid4(),
            assessment_id=template.assessment_id,
            patient_id=template.patient_id,
            scale="phq9",
            item=9,
            value=3 if i % 7 == 0 else 1,
            level=FlagLevel.URGENT if i % 7 == 0 else FlagLevel.REVIEW,
            acknowledged_at=base if i % 2 else None,
        )
        for i in range(n - 1)
    ]
    SafetyFlag.objects.bulk_create(flags)
    for i, flag in enumerate(flags):
        flag.created_at = base + timedelta(minutes=i // 3)  # ties broken by id
    SafetyFlag.objects.bulk_update(flags, ["created_at"])


def test_1200_flags_are_all_reachable_once_urgent_open_first(world: Any) -> None:
    _many_flags(world, 1200)
    staff = client_for(world.clinician)
    items, counts = _all_pages(staff, "/api/v1/flags/?page_size=200")
    assert set(counts) == {1200}
    ids = [f["id"] for f in items]
    assert len(ids) == 1200 and len(set(ids)) == 1200
    assert set(ids) == {str(pk) for pk in SafetyFlag.objects.values_list("pk", flat=True)}
    keys = [(f["acknowledged_at"] is not None, f["level"] != "urgent") for f in items]
    assert keys == sorted(keys)
    assert items[0]["level"] == "urgent" and items[0]["acknowledged_at"] is None
    group = [f["created_at"] for f in items if f["acknowledged_at"] is None and f["level"] == "urgent"]
    assert group == sorted(group, reverse=True)

    open_items, open_counts = _all_pages(staff, "/api/v1/flags/?open=true")  # the default page size
    expected_open = SafetyFlag.objects.filter(acknowledged_at__isnull=True).count()
    assert set(open_counts) == {expected_open} and expected_open > 500
    assert len({f["id"] for f in open_items}) == expected_open == len(open_items)
    assert all(f["acknowledged_at"] is None for f in open_items)


def test_page_two_is_not_page_one_and_past_the_end_is_a_404(world: Any) -> None:
    _many_flags(world, 120)
    staff = client_for(world.clinician)
    first = staff.get("/api/v1/flags/?open=true").json()
    second = staff.get("/api/v1/flags/?open=true&page=2").json()
    assert first["next"] and second["previous"]
    assert not {f["id"] for f in first["results"]} & {f["id"] for f in second["results"]}
    assert staff.get("/api/v1/flags/?page=99").status_code == 404
    assert client_for(make_clinic("Clinic B", "b").clinician).get("/api/v1/flags/").json()["count"] == 0


def test_notices_come_in_pages_too(world: Any) -> None:
    Notice.objects.bulk_create(
        Notice(clinic=world.clinic, patient=world.patient, kind="signal_off_track", message=f"n{i}") for i in range(130)
    )
    staff = client_for(world.clinician)
    items, counts = _all_pages(staff, "/api/v1/notices/?unread=true")
    assert set(counts) == {130} and len({n["id"] for n in items}) == 130 == len(items)
    assert client_for(make_clinic("Clinic B", "b").clinician).get("/api/v1/notices/").json()["count"] == 0
