"""Projections as a clinic sees them: signals, notices, cohort curves, own reference sets, faults."""

from __future__ import annotations

import json
import uuid
from datetime import date, timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import TestCase

from projections.models import CohortResult, OutcomeSnapshot
from projections.tasks import recompute_cohorts_task, recompute_patient
from tests.tracker.helpers import client_for, error_fields, make_clinic, submit, weekly_course
from tracker.records.models import Assessment, AuditEvent, Notice
from tracker.records.services.scheduling import recompute_deferred

pytestmark = pytest.mark.django_db
TODAY = date.today()


def _course(world: Any, days_ago: int, modality: str = "iv_ketamine") -> Any:
    r = client_for(world.clinician).post(
        f"/api/v1/patients/{world.patient.pk}/courses/",
        {"modality": modality, "start_date": (TODAY - timedelta(days=days_ago)).isoformat()},
        format="json",
    )
    assert r.status_code == 201
    return r.json()


def _falling_behind() -> Any:
    """A clinic whose patient's BDI-II has not moved in six weeks of IV ketamine, its snapshots
    stored by the recomputation each entry schedules at its commit (the workers' job)."""
    world = make_clinic()
    _course(world, 42)
    phone = client_for(world.patient_user)
    with TestCase.captureOnCommitCallbacks(execute=True):
        for k, total in enumerate([40, 40, 39, 41, 40, 40, 39]):
            submit(phone, "bdi2", TODAY - timedelta(days=42 - 7 * k), total)
    return world


def test_a_patient_falling_behind_is_flagged_in_the_list_and_noticed() -> None:
    world = _falling_behind()
    phone = client_for(world.patient_user)
    outcome = phone.get(f"/api/v1/patients/{world.patient.pk}/outcomes/").json()["bdi2"]
    assert outcome["projection"]["signal"] == "off_track" and outcome["projection"]["week"] == 6
    staff = client_for(world.clinician)
    listed = staff.get("/api/v1/patients/?signal=off_track").json()["results"]
    assert [p["id"] for p in listed] == [str(world.patient.pk)]
    assert listed[0]["outcomes"][0]["signal"] == "off_track"
    assert staff.get("/api/v1/patients/?signal=ahead").json()["count"] == 0
    notices = Notice.objects.filter(patient=world.patient)
    assert notices.count() == 1 and "off track" in notices.get().message


def test_insufficient_data_with_only_a_baseline() -> None:
    world = make_clinic()
    _course(world, 0)
    submit(client_for(world.patient_user), "bdi2", TODAY, 35)
    projection = (
        client_for(world.clinician).get(f"/api/v1/patients/{world.patient.pk}/outcomes/").json()["bdi2"]["projection"]
    )
    assert projection["signal"] == "insufficient_data" and projection["percentile"] is None


def test_clinic_threshold_override_changes_the_verdict() -> None:
    world = make_clinic()
    _course(world, 28)
    staff = client_for(world.clinician)
    for k, total in enumerate([36, 12, 12, 12, 12]):
        submit(staff, "madrs", TODAY - timedelta(days=28 - 7 * k), total, patient=world.patient)
    assert staff.get(f"/api/v1/patients/{world.patient.pk}/outcomes/").json()["madrs"]["state"] == "not_remitted"
    admin = client_for(world.admin)
    r = admin.patch("/api/v1/clinic/", {"scoring_options": {"madrs": {"remission_max": 12}}}, format="json")
    assert r.status_code == 200, r.content
    outcome = staff.get(f"/api/v1/patients/{world.patient.pk}/outcomes/").json()["madrs"]
    assert outcome["state"] == "remission" and outcome["rules"]["remission_max"] == 12
    bad = admin.patch("/api/v1/clinic/", {"scoring_options": {"madrs": {"remission_max": "lots"}}}, format="json")
    assert bad.status_code == 400 and "scoring_options" in bad.json()
    assert admin.patch("/api/v1/clinic/", {"reference_set": "nope"}, format="json").status_code == 400


def test_saving_unchanged_rules_recomputes_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only a change of the clinic's rules recomputes its patients (the dashboard's settings form sends
    every field at each save, e.g. when only the time zone changed)."""
    from projections import tasks

    sent: list[str] = []
    monkeypatch.setattr(tasks.recompute_clinic, "delay", lambda clinic_id, *a, **kw: sent.append(clinic_id))
    world = make_clinic()
    admin = client_for(world.admin)
    settings = {"scoring_options": {"madrs": {"remission_max": 12}}}
    with TestCase.captureOnCommitCallbacks(execute=True):
        assert admin.patch("/api/v1/clinic/", settings, format="json").status_code == 200
    assert sent == [str(world.clinic.pk)]
    current = admin.get("/api/v1/clinic/").json()
    with TestCase.captureOnCommitCallbacks(execute=True):
        r = admin.patch(
            "/api/v1/clinic/",
            {"reference_set": current["reference_set"], **settings},
            format="json",
        )
        assert r.status_code == 200
    assert sent == [str(world.clinic.pk)]
    with TestCase.captureOnCommitCallbacks(execute=True):
        assert admin.patch("/api/v1/clinic/", {"scoring_options": {}}, format="json").status_code == 200
    assert len(sent) == 2


def test_a_remission_level_in_the_moderate_band_is_refused_and_an_old_one_still_answers() -> None:
    world = make_clinic()
    _course(world, 28)
    admin = client_for(world.admin)
    high = {"scoring_options": {"bdi2": {"remission_max": 40, "relapse_min": 50}}}
    r = admin.patch("/api/v1/clinic/", high, format="json")
    assert r.status_code == 400 and "scoring_options" in error_fields(r)
    world.clinic.refresh_from_db()
    assert world.clinic.scoring_options == {}
    # A level stored before this check (or by an operator) is above the reference population's
    # typical baseline: the outcomes still answer, with a projection.
    world.clinic.scoring_options = high["scoring_options"]
    world.clinic.save(update_fields=["scoring_options"])
    staff = client_for(world.clinician)
    for k, total in enumerate([35, 30, 20]):
        entry = submit(staff, "bdi2", TODAY - timedelta(days=28 - 7 * k), total, patient=world.patient)
        assert entry.status_code == 201
    r = staff.get(f"/api/v1/patients/{world.patient.pk}/outcomes/")
    assert r.status_code == 200 and r.json()["bdi2"]["baseline_in_remission_range"] is True


def test_course_can_choose_another_reference_set() -> None:
    world = make_clinic()
    staff = client_for(world.clinician)
    staff.post(
        f"/api/v1/patients/{world.patient.pk}/courses/",
        {
            "modality": "iv_ketamine",
            "start_date": (TODAY - timedelta(days=21)).isoformat(),
            "reference_set": "real_world",
        },
        format="json",
    )
    submit(staff, "phq9", TODAY - timedelta(days=21), 20, patient=world.patient)
    submit(staff, "phq9", TODAY, 9, patient=world.patient)
    assert (
        staff.get(f"/api/v1/patients/{world.patient.pk}/outcomes/").json()["phq9"]["projection"]["reference"]
        == "real_world"
    )
    keys = {r["key"] for r in staff.get("/api/v1/reference-sets/").json()}
    assert {"seed_projection", "trials", "real_world"} <= keys


def test_cohort_curve_beside_the_references(django_capture_on_commit_callbacks: Any) -> None:
    world = make_clinic()
    _course(world, 63)
    phone = client_for(world.patient_user)
    with django_capture_on_commit_callbacks(execute=True):  # the recomputation each entry schedules
        for k, total in enumerate([48, 47, 46, 44, 30, 12, 4, 3, 4, 3]):
            submit(phone, "bdi2", TODAY - timedelta(days=63 - 7 * k), total)
    # The read computes nothing: until the workers' cohort run, the answer is "not yet computed".
    pending = client_for(world.clinician).get("/api/v1/reports/cohort/?scale=bdi2")
    assert pending.status_code == 202 and pending.json() == []
    assert 0 < int(pending["Retry-After"]) <= 24 * 3600
    assert not CohortResult.objects.exists()
    recompute_cohorts_task()
    r = client_for(world.clinician).get("/api/v1/reports/cohort/?scale=bdi2")
    assert r.status_code == 200
    [cohort] = r.json()
    km = cohort["kaplan_meier"]
    assert cohort["modality"] == "iv_ketamine" and km["n"] == 1 and km["n_events"] == 1
    assert km["times_days"] == [56] and km["cumulative_incidence"] == [1.0]
    assert {ref["reference"] for ref in cohort["references"]} >= {"seed_projection", "trials", "real_world"}
    assert client_for(world.clinician).get("/api/v1/reports/cohort/?scale=bad").status_code == 400


def test_a_clinic_without_courses_has_an_empty_cohort_not_a_pending_one() -> None:
    world = make_clinic()
    r = client_for(world.clinician).get("/api/v1/reports/cohort/")
    assert r.status_code == 200 and r.json() == [] and "Retry-After" not in r


def test_fit_reference_needs_thirty_completed_courses_then_is_choosable(
    capsys: pytest.CaptureFixture[str], django_capture_on_commit_callbacks: Any
) -> None:
    world = make_clinic()
    with pytest.raises(CommandError, match="at least 30"):
        call_command("fit_reference", "--clinic", str(world.clinic.pk))
    start = TODAY - timedelta(days=90)
    with recompute_deferred():
        for i in range(36):
            baseline = 30 + i % 15
            totals = [max(0, round(baseline * (1 - (0.2 + 0.6 * (i % 7) / 6) * (1 - 0.6**week)))) for week in range(12)]
            patient = weekly_course(world, f"c{i}", "iv_ketamine", "bdi2", start, totals)
    with django_capture_on_commit_callbacks() as callbacks:
        call_command("fit_reference", "--clinic", str(world.clinic.pk), "--activate")
    out = json.loads(capsys.readouterr().out)
    # Audited, and the clinic's recomputation is scheduled for the workers once the new set commits.
    [fit] = AuditEvent.objects.filter(action="reference_set.fit", clinic_id=world.clinic.pk)
    assert fit.actor is None
    assert AuditEvent.objects.filter(action="clinic.settings", object_id=str(world.clinic.pk)).count() == 1
    assert len(callbacks) == 1 and not OutcomeSnapshot.objects.exists()
    callbacks[0]()
    stored = OutcomeSnapshot.objects.filter(patient__clinic=world.clinic, scale="bdi2")
    assert stored.count() == 36 and {s.data["projection"]["reference"] for s in stored} == {out["reference_set"]}
    assert out["courses"] == 36 and out["reference_set"].startswith(f"clinic:{world.clinic.pk}")
    staff = client_for(world.clinician)
    assert out["reference_set"] in {r["key"] for r in staff.get("/api/v1/reference-sets/").json()}
    outcome = staff.get(f"/api/v1/patients/{patient.pk}/outcomes/").json()["bdi2"]
    assert outcome["projection"]["reference"] == out["reference_set"]


def test_broker_down_at_save_time_still_saves(
    monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks: Any, caplog: Any
) -> None:
    from kombu.exceptions import OperationalError

    from projections import tasks

    def broker_down(*args: Any, **kwargs: Any) -> None:
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(tasks.recompute_patient, "delay", broker_down)
    world = make_clinic()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        r = submit(client_for(world.patient_user), "bdi2", TODAY, 25)
    assert r.status_code == 201
    assert Assessment.objects.count() == 1
    assert len(callbacks) == 1 and "nightly run will catch up" in caplog.text
    assert not OutcomeSnapshot.objects.exists()
    # The next read answers from the entry all the same; the nightly run stores it.
    assert (
        client_for(world.patient_user)
        .get(f"/api/v1/patients/{world.patient.pk}/outcomes/")
        .json()["bdi2"]["latest"]["total"]
        == 25
    )
    assert not OutcomeSnapshot.objects.exists()


def test_the_task_run_twice_changes_nothing() -> None:
    world = make_clinic()
    _course(world, 14)
    submit(client_for(world.patient_user), "bdi2", TODAY - timedelta(days=14), 30)
    submit(client_for(world.patient_user), "bdi2", TODAY, 14)
    recompute_patient(str(world.patient.pk))
    first = {s.pk: (s.data, s.fingerprint, s.computed_at) for s in OutcomeSnapshot.objects.all()}
    recompute_patient(str(world.patient.pk))
    assert {s.pk: (s.data, s.fingerprint, s.computed_at) for s in OutcomeSnapshot.objects.all()} == first
    assert recompute_patient(str(uuid.uuid4())) == 0


def test_clinicians_read_and_clear_the_notice() -> None:
    world = _falling_behind()
    phone = client_for(world.patient_user)
    phone.get(f"/api/v1/patients/{world.patient.pk}/outcomes/")
    staff = client_for(world.clinician)
    [notice] = staff.get("/api/v1/notices/?unread=true").json()["results"]
    assert notice["patient"] == str(world.patient.pk) and notice["kind"] == "signal_off_track"
    assert staff.post(f"/api/v1/notices/{notice['id']}/read/").json()["read_at"]
    assert staff.get("/api/v1/notices/?unread=true").json()["count"] == 0
    assert client_for(make_clinic("Clinic B", "b").clinician).get("/api/v1/notices/").json()["results"] == []
