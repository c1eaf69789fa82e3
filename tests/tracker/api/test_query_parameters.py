"""Query parameters are validated: a wrong value is a 400 naming the parameter, never ignored."""

from __future__ import annotations

from typing import Any

import pytest

from tests.tracker.helpers import client_for, error_fields, make_clinic

pytestmark = pytest.mark.django_db


@pytest.fixture
def world() -> Any:
    return make_clinic()


@pytest.mark.parametrize(
    ("who", "path", "parameter"),
    [
        ("clinician", "/api/v1/patients/?flagged=maybe", "flagged"),
        ("clinician", "/api/v1/patients/?signal=bogus", "signal"),
        ("clinician", "/api/v1/patients/?state=bogus", "state"),
        ("clinician", "/api/v1/flags/?open=garbage", "open"),
        ("clinician", "/api/v1/notices/?unread=perhaps", "unread"),
        ("clinician", "/api/v1/notices/?page_size=false", "page_size"),
        ("clinician", "/api/v1/flags/?page_size=1.5", "page_size"),
        ("clinician", "/api/v1/patients/{pid}/assessments/?scale=bdi3", "scale"),
        ("clinician", "/api/v1/patients/{pid}/assessments/?include_superseded=sometimes", "include_superseded"),
        ("clinician", "/api/v1/patients/{pid}/chart.png?scale=bdi3", "scale"),
        ("admin", "/api/v1/reports/response.csv?from=2026-13-01", "from"),
        ("admin", "/api/v1/reports/response.csv?from=2026-03-01&to=2026-02-01", "from"),
        ("clinician", "/api/v1/reports/cohort/?scale=bad", "scale"),
        ("clinician", "/api/v1/reports/cohort/?modality=lsd", "modality"),
    ],
)
def test_a_wrong_value_is_a_400_naming_the_parameter(world: Any, who: str, path: str, parameter: str) -> None:
    r = client_for(getattr(world, who)).get(path.format(pid=world.patient.pk))
    assert r.status_code == 400, r.content[:200]
    assert error_fields(r) == {parameter}


def test_valid_and_empty_values_are_accepted(world: Any) -> None:
    staff = client_for(world.clinician)
    pid = world.patient.pk
    for path in (
        "/api/v1/patients/?flagged=false",
        "/api/v1/patients/?flagged=",
        "/api/v1/flags/?open=true",
        "/api/v1/flags/?open=",
        "/api/v1/notices/?unread=1",
        f"/api/v1/patients/{pid}/assessments/?scale=phq9&include_superseded=no",
        f"/api/v1/patients/{pid}/assessments/?scale=",
        "/api/v1/reports/cohort/?modality=esketamine&scale=madrs",
    ):
        assert staff.get(path).status_code == 200, path
    assert client_for(world.admin).get("/api/v1/reports/response.csv?from=2026-01-01&to=").status_code == 200
