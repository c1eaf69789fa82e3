"""The tests' fast fill (``tests/tracker/bulk.py``) stores what the services store for the same patients."""

from __future__ import annotations

import pytest

from projections.models import OutcomeSnapshot
from projections.nightly import recompute_all
from tests.tracker.bulk import bulk_patients
from tests.tracker.helpers import make_clinic
from tests.tracker.web.test_triage import _bulk_patients
from tracker.records.models import Assessment, Notice, Patient, SafetyFlag

pytestmark = pytest.mark.django_db

N = 7  # every combination of flagged (i % 3) and overdue (i % 2), and more
ENTRY_FIELDS = (
    "scale", "scale_version", "administered_on", "administered_time", "timing", "items", "item_count",
    "item_directions", "total", "severity", "entered_by_role", "is_baseline", "is_superseded",
)  # fmt: skip
SNAPSHOT_FIELDS = (
    "scale", "state", "signal", "percentile", "week", "latest_total", "latest_date", "improvement", "response",
)  # fmt: skip


def _stored(clinic_id: object) -> dict[str, object]:
    patients = Patient.objects.filter(clinic_id=clinic_id, name__startswith="Bulk ")
    by_name = {}
    for p in patients.order_by("name"):
        by_name[p.name] = {
            "patient": (p.timezone, p.first_course_start, p.schedule, p.date_of_birth, p.external_id),
            "courses": list(p.courses.values_list("modality", "with_therapy", "start_date")),
            "entries": list(
                Assessment.objects.filter(patient=p)
                .order_by("scale", "administered_on")
                .values_list(
                    "scale",
                    "scale_version",
                    "administered_on",
                    "administered_time",
                    "timing",
                    "items",
                    "item_count",
                    "item_directions",
                    "total",
                    "severity",
                    "entered_by_role",
                    "is_baseline",
                    "is_superseded",
                )
            ),
            "flags": list(
                SafetyFlag.objects.filter(patient=p).values_list("scale", "item", "value", "level", "acknowledged_at")
            ),
            "snapshots": list(
                OutcomeSnapshot.objects.filter(patient=p)
                .order_by("scale")
                .values_list(
                    "scale",
                    "state",
                    "signal",
                    "percentile",
                    "week",
                    "latest_total",
                    "latest_date",
                    "improvement",
                    "response",
                )
            ),
            "notices": sorted(Notice.objects.filter(patient=p).values_list("kind", "message")),
        }
    return by_name


def test_the_fast_fill_equals_the_services():
    plain = make_clinic("Plain", prefix="p")
    _bulk_patients(plain, N, 0)
    recompute_all(clinic_id=plain.clinic.pk)
    fast = make_clinic("Fast", prefix="f")
    bulk_patients(fast, N, 0)
    expected = _stored(plain.clinic.pk)
    assert len(expected) == N
    assert _stored(fast.clinic.pk) == expected
