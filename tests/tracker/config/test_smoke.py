from datetime import date, timedelta

import pytest

from tests.tracker.helpers import client_for, make_clinic, submit

pytestmark = pytest.mark.django_db


def test_patient_submits_and_sees_outcome():
    world = make_clinic()
    staff = client_for(world.clinician)
    today = date.today()
    r = staff.post(
        f"/api/v1/patients/{world.patient.pk}/courses/",
        {"modality": "iv_ketamine", "with_therapy": False, "start_date": (today - timedelta(days=63)).isoformat()},
        format="json",
    )
    assert r.status_code == 201, r.content
    me = client_for(world.patient_user)
    for k, total in enumerate([48, 47, 46, 44, 30, 12, 4, 3, 4, 3]):
        r = submit(me, "bdi2", today - timedelta(days=63 - 7 * k), total)
        assert r.status_code == 201, r.content
    r = me.get(f"/api/v1/patients/{world.patient.pk}/outcomes/")
    assert r.status_code == 200, r.content
    print(r.json())
