"""``assessment_body``, the API's answer for an entry written out by hand (a bypass listed in
``tracker/records/fastpath.py``), renders what ``AssessmentSerializer``, the schema's description of
that answer, renders: for any entry, in any active time zone.

The entries are drawn unsaved, so every combination of the fields is reached without a database;
``tests/tracker/records/test_assessments.py`` holds the same for entries stored and read back
through the API.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st
from rest_framework.renderers import JSONRenderer

import scoring
from tracker.api.serializers.assessments import AssessmentSerializer, assessment_body
from tracker.records.models import Assessment, FlagLevel, Role, SafetyFlag, Timing

moments = st.datetimes(
    min_value=datetime(2000, 1, 1),
    max_value=datetime(2100, 1, 1),
    timezones=st.sampled_from([UTC, ZoneInfo("Asia/Kolkata")]),
)
maybe_moment = st.none() | moments


@st.composite
def entries(draw: st.DrawFn) -> Assessment:
    scale = draw(st.sampled_from(sorted(scoring.SCALES)))
    count = scoring.SCALES[scale].n_items
    items = draw(st.lists(st.integers(0, 3), min_size=count, max_size=count))
    entry = Assessment(
        id=draw(st.uuids()),
        patient_id=draw(st.uuids()),
        scale=scale,
        scale_version=draw(st.sampled_from(["1", "2021"])),
        administered_on=draw(st.dates(date(2000, 1, 1), date(2100, 1, 1))),
        administered_time=draw(st.none() | st.times().map(lambda t: t.replace(microsecond=0))),
        timing=draw(st.none() | st.sampled_from(Timing.values)),
        items=items,
        item_count=count,
        item_directions=draw(
            st.dictionaries(st.sampled_from(["16", "18"]), st.sampled_from(["increase", "decrease"]), max_size=2)
        ),
        total=sum(items),
        severity=draw(st.sampled_from(sorted(scoring.SEVERITIES))),
        entered_by_role=draw(st.sampled_from(Role.values)),
        client_id=draw(st.none() | st.uuids()),
        supersedes_id=draw(st.none() | st.uuids()),
        is_superseded=draw(st.booleans()),
        amend_reason=draw(st.sampled_from(["", "typo", "Ü ß 日本"])),
        is_baseline=draw(st.booleans()),
        baseline_marked_at=draw(maybe_moment),
        created_at=draw(moments),
    )
    flags = [
        SafetyFlag(
            id=draw(st.uuids()),
            assessment=entry,
            patient_id=entry.patient_id,
            scale=scale,
            item=item,
            value=draw(st.integers(1, 3)),
            level=draw(st.sampled_from(FlagLevel.values)),
            acknowledged_at=draw(maybe_moment),
        )
        for item in draw(st.lists(st.integers(1, count), unique=True, max_size=2))
    ]
    entry._prefetched_objects_cache = {"flags": flags}  # type: ignore[attr-defined]
    return entry


def rendered(data: Any) -> Any:
    return json.loads(JSONRenderer().render(data))


@settings(max_examples=300, deadline=None)
@given(entry=entries(), zone=st.sampled_from([None, "UTC", "America/New_York", "Asia/Kolkata"]))
def test_the_hand_written_answer_is_what_the_serializer_renders(entry: Assessment, zone: str | None) -> None:
    with timezone.override(zone):
        expected = AssessmentSerializer(entry).data
        body = assessment_body(entry)
    assert rendered(body) == rendered(expected)
    assert list(body) == list(expected)  # the same keys in the same order: the same bytes, the same ETag
    assert json.dumps(body)  # plain JSON types, as the renderer needs none of its encoders


def test_the_clock_time_is_hours_and_minutes() -> None:
    entry = Assessment(
        id=uuid.uuid4(), patient_id=uuid.uuid4(), scale="phq9", scale_version="1", administered_on=date(2026, 1, 2),
        administered_time=time(7, 5), items=[0] * 9, item_count=9, total=0, severity="minimal",
        entered_by_role=Role.PATIENT, created_at=datetime(2026, 1, 2, 7, 6, tzinfo=UTC),
    )  # fmt: skip
    entry._prefetched_objects_cache = {"flags": []}  # type: ignore[attr-defined]
    body = assessment_body(entry)
    assert body["administered_time"] == "07:05" and body["created_at"] == "2026-01-02T07:06:00Z"
