"""The admin's response export: GET /reports/response.csv?from=&to=."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import pytest

import scoring
from tests.tracker.helpers import client_for, make_clinic
from tests.tracker.reports.test_reports_support import add_entries, add_sessions, make_course, worked_example
from tracker.records.models import AuditEvent, Patient
from tracker.reports.csv_export import COLUMNS

pytestmark = pytest.mark.django_db


def read_csv(response) -> list[dict[str, str]]:
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/csv")
    reader = csv.DictReader(io.StringIO(response.content.decode("utf-8")))
    assert tuple(reader.fieldnames or ()) == COLUMNS
    return list(reader)


def test_one_row_per_course_and_scale():
    world = make_clinic()
    course = worked_example(world)
    staff = client_for(world.clinician)
    add_entries(staff, course, "madrs", [(-2, 30), (21, 12)], patient=world.patient)
    # A second patient: an esketamine course without any entry yet.
    later = date.today() - timedelta(days=10)
    empty = make_course(staff, world.other_patient.pk, "esketamine", later, with_therapy=True)
    other = make_clinic("Clinic B", prefix="b")
    worked_example(other)  # never exported to clinic A

    rows = read_csv(client_for(world.admin).get("/api/v1/reports/response.csv"))
    assert [(r["course_id"], r["scale"]) for r in rows] == [(course.id, "bdi2"), (course.id, "madrs"), (empty.id, "")]
    day = lambda n: (course.start + timedelta(days=n)).isoformat()  # noqa: E731
    bdi2 = rows[0]
    assert bdi2 == {
        "patient_id": str(world.patient.pk),
        "external_id": "",
        "course_id": course.id,
        "modality": "iv_ketamine",
        "with_therapy": "false",
        "course_start": course.start.isoformat(),
        "scale": "bdi2",
        "rated_by": "patient",
        "baseline_date": day(0),
        "baseline_total": "48",  # the amended value, not the superseded 50
        "latest_date": day(63),
        "latest_total": "3",
        "points_change": "-45",
        "percent_change": "-93.8",
        "response": "response",
        "state": "remission",
        "remission_onset": day(35),
        "remission_confirmed": day(56),
        "first_response_date": day(35),
        "sessions": "6",
        "signal": bdi2["signal"],
        "reference": "trials",
        "rules": (
            f"remission<={scoring.SCALES['bdi2'].remission_max} sustained 21d; relapse>=20; response>=50%; partial>25%"
        ),
        "events": f"remission {day(35)}/{day(56)}",
    }
    assert bdi2["signal"] in ("ahead", "on_track", "at_risk", "off_track")
    madrs = rows[1]
    assert (madrs["rated_by"], madrs["baseline_total"], madrs["latest_total"], madrs["percent_change"]) == (
        "clinician",
        "30",
        "12",
        "-60.0",
    )
    assert (madrs["response"], madrs["state"], madrs["remission_onset"]) == ("response", "not_remitted", "")
    assert madrs["rules"].startswith(f"remission<={scoring.SCALES['madrs'].remission_max} ")
    assert (rows[2]["patient_id"], rows[2]["modality"], rows[2]["with_therapy"], rows[2]["sessions"]) == (
        str(world.other_patient.pk),
        "esketamine",
        "true",
        "0",
    )
    # The export is audited, one event per patient included, and never across clinics.
    audited = set(AuditEvent.objects.filter(action="report.csv").values_list("patient_id", flat=True))
    assert audited == {world.patient.pk, world.other_patient.pk}


def test_a_relapse_after_remission_shows_in_state_and_events():
    world = make_clinic()
    course = worked_example(world)
    add_entries(client_for(world.patient_user), course, "bdi2", [(70, 22), (77, 25)])
    (row,) = read_csv(client_for(world.admin).get("/api/v1/reports/response.csv"))
    day = lambda n: (course.start + timedelta(days=n)).isoformat()  # noqa: E731
    assert (row["state"], row["remission_onset"], row["remission_confirmed"]) == ("not_remitted", day(35), day(56))
    assert row["events"] == f"remission {day(35)}/{day(56)}; relapse {day(70)}/{day(77)}"
    assert (row["latest_total"], row["points_change"], row["percent_change"]) == ("25", "-23", "-47.9")


def test_date_range_selects_courses_by_start():
    world = make_clinic()
    course = worked_example(world)
    staff = client_for(world.clinician)
    late = make_course(staff, world.other_patient.pk, "iv_ketamine", date.today() - timedelta(days=5))
    add_sessions(staff, late, [0])
    admin = client_for(world.admin)
    start = course.start.isoformat()
    assert {r["course_id"] for r in read_csv(admin.get(f"/api/v1/reports/response.csv?from={start}&to={start}"))} == {
        course.id
    }
    after = (course.start + timedelta(days=1)).isoformat()
    assert [r["course_id"] for r in read_csv(admin.get(f"/api/v1/reports/response.csv?from={after}"))] == [late.id]
    before = (course.start - timedelta(days=1)).isoformat()
    assert read_csv(admin.get(f"/api/v1/reports/response.csv?to={before}")) == []
    assert admin.get("/api/v1/reports/response.csv?from=2026-13-01").status_code == 400
    assert admin.get(f"/api/v1/reports/response.csv?from={after}&to={start}").status_code == 400


def test_cells_cannot_become_spreadsheet_formulas():
    world = make_clinic()
    staff = client_for(world.clinician)
    r = staff.post("/api/v1/patients/", {"name": "Eve", "external_id": '=HYPERLINK("http://x")'}, format="json")
    assert r.status_code == 201, r.content
    patient_id = r.json()["id"]
    course = make_course(staff, patient_id, "iv_ketamine", date.today() - timedelta(days=30))
    add_entries(staff, course, "madrs", [(0, 30), (14, 36)], patient=Patient.objects.get(pk=patient_id))
    rows = read_csv(client_for(world.admin).get("/api/v1/reports/response.csv"))
    row = next(r for r in rows if r["patient_id"] == patient_id)
    assert row["external_id"] == '\'=HYPERLINK("http://x")'
    assert row["points_change"] == "6" and row["percent_change"] == "20.0"
    improved = make_course(staff, world.patient.pk, "iv_ketamine", date.today() - timedelta(days=30))
    add_entries(staff, improved, "madrs", [(0, 30), (14, 20)], patient=world.patient)
    rows = read_csv(client_for(world.admin).get("/api/v1/reports/response.csv"))
    row = next(r for r in rows if r["course_id"] == improved.id)
    assert row["points_change"] == "-10" and row["percent_change"] == "-33.3"  # numbers stay numbers


def test_only_admins_export():
    world = make_clinic()
    worked_example(world)
    assert client_for(world.clinician).get("/api/v1/reports/response.csv").status_code == 403
    assert client_for(world.patient_user).get("/api/v1/reports/response.csv").status_code == 403
    assert client_for(None).get("/api/v1/reports/response.csv").status_code in (401, 403)
    assert not AuditEvent.objects.filter(action="report.csv").exists()
