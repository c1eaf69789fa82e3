"""Every endpoint × every role × every method, with the exact status.

The grid is checked against the URL conf: an endpoint or method added without a row here fails
``test_grid_covers_every_endpoint_and_method``.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import pytest
from django.urls import URLPattern, reverse

from tests.tracker.helpers import PASSWORD, client_for, items_with_total, make_clinic
from tracker.api import urls as api_urls
from tracker.records.models import ExportKind, Notice, SafetyFlag
from tracker.records.services.assessments import assessment_submit
from tracker.records.services.clinics import staff_create
from tracker.records.services.exports import export_dir, export_job_create, export_job_finish
from tracker.records.services.passwords import password_reset_code_issue
from tracker.records.services.patients import course_create, patient_create
from tracker.records.services.reminders import device_register
from tracker.reports.payer import default_document

ROLES = ("anonymous", "patient", "other_patient", "clinician", "other_clinic", "admin")
TODAY = date.today()


@dataclass
class World:
    a: Any
    b: Any
    course: Any
    assessment: Any
    flag: Any
    notice: Any = None

    def user(self, role: str) -> Any:
        return {
            "anonymous": None,
            "patient": self.a.patient_user,
            "other_patient": self.a.other_patient_user,
            "clinician": self.a.clinician,
            "other_clinic": self.b.clinician,
            "admin": self.a.admin,
        }[role]


def _new_assessment(w: World, suicide: int = 0) -> Any:
    return assessment_submit(
        actor=w.a.clinician,
        patient=w.a.patient,
        scale="phq9",
        administered_on=TODAY,
        items=items_with_total("phq9", 12, suicide),
        client_id=uuid.uuid4(),
    ).assessment


@pytest.fixture
def world(db: Any, settings: Any, tmp_path: Any) -> World:
    settings.EXPORT_DIR = tmp_path / "exports"
    a = make_clinic("Clinic A", "a")
    b = make_clinic("Clinic B", "b")
    course = course_create(
        actor=a.clinician,
        patient=a.patient,
        modality="iv_ketamine",
        with_therapy=False,
        start_date=TODAY - timedelta(days=14),
    )
    w = World(a=a, b=b, course=course, assessment=None, flag=None)
    w.assessment = _new_assessment(w, suicide=2)
    w.flag = SafetyFlag.objects.get(assessment=w.assessment)
    w.notice = Notice.objects.create(clinic=a.clinic, patient=a.patient, kind="signal_off_track", message="off track")
    return w


@dataclass
class Row:
    expect: dict[str, int]
    kwargs: Callable[[World], dict[str, Any]] = lambda w: {}
    body: Callable[[World, str], Any] = lambda w, role: None
    headers: dict[str, str] = field(default_factory=dict)  # request headers, as the test client's extra


def roles(
    anonymous: int, patient: int, other_patient: int, clinician: int, other_clinic: int, admin: int
) -> dict[str, int]:
    return dict(zip(ROLES, (anonymous, patient, other_patient, clinician, other_clinic, admin), strict=True))


def _export_job(w: World) -> dict[str, Any]:
    return {"job_id": export_job_create(actor=w.a.admin, kind=ExportKind.RESPONSE_CSV, params={}).pk}


def _export_file(w: World) -> dict[str, Any]:
    job = export_job_create(actor=w.a.admin, kind=ExportKind.RESPONSE_CSV, params={})
    export_dir(job).mkdir(parents=True)
    (export_dir(job) / "response-report.csv").write_text("patient_id\r\n")
    export_job_finish(job=job, files=[{"type": "text/csv", "name": "response-report.csv"}])
    return {"job_id": job.pk, "name": "response-report.csv"}


def patient_kw(w: World) -> dict[str, Any]:
    return {"patient_id": w.a.patient.pk}


# Reading one patient's data: that patient and the clinic's staff; others 404.
PATIENT_READ = roles(401, 200, 404, 200, 404, 200)
STAFF_READ = roles(401, 403, 403, 200, 404, 200)


def _enroll_body(w: World, role: str) -> dict[str, str]:
    new = patient_create(actor=w.a.clinician, name="New patient")
    return {
        "enrollment_code": new.enrollment_code,
        "username": f"enrolled-{uuid.uuid4().hex[:8]}",
        "password": PASSWORD,
    }


def _new_device(w: World) -> Any:
    device, _ = device_register(
        actor=w.a.patient_user, patient=w.a.patient, platform="ios", push_token=f"token-{uuid.uuid4().hex}"
    )
    return device


def _assessment_body(w: World, role: str) -> dict[str, Any]:
    body: dict[str, Any] = {
        "scale": "bdi2",
        "administered_on": TODAY.isoformat(),
        "items": items_with_total("bdi2", 20),
        "client_id": str(uuid.uuid4()),
    }
    if role in ("clinician", "other_clinic", "admin"):
        body["patient"] = str(w.a.patient.pk)
    return body


def _reset_body(w: World, role: str) -> dict[str, str]:
    issued = password_reset_code_issue(actor=w.a.clinician, user=w.a.patient_user)
    return {"reset_code": issued.raw, "username": w.a.patient_user.username, "new_password": "another-Secret-2031"}


def _new_staff(w: World) -> Any:
    return staff_create(actor=w.a.admin, username=f"staff-{uuid.uuid4().hex[:8]}", password=PASSWORD, role="clinician")


GRID: dict[tuple[str, str], Row] = {
    ("version", "get"): Row(roles(200, 200, 200, 200, 200, 200)),
    ("password-change", "post"): Row(
        roles(401, 204, 204, 204, 204, 204),
        body=lambda w, r: {"old_password": PASSWORD, "new_password": "another-Secret-2031"},
    ),
    ("password-reset", "post"): Row(roles(204, 204, 204, 204, 204, 204), body=_reset_body),
    ("patient-enrollment-code", "post"): Row(
        roles(401, 403, 403, 201, 404, 201),
        lambda w: {"patient_id": patient_create(actor=w.a.clinician, name="Not enrolled").patient.pk},
    ),
    ("patient-password-reset-code", "post"): Row(roles(401, 403, 403, 201, 404, 201), patient_kw),
    ("staff-password-reset-code", "post"): Row(
        roles(401, 403, 403, 403, 403, 201), lambda w: {"staff_id": w.a.clinician.pk}
    ),
    ("me", "patch"): Row(roles(401, 200, 200, 403, 403, 403), body=lambda w, r: {"timezone": "Asia/Tokyo"}),
    ("token", "post"): Row(
        roles(200, 200, 200, 200, 200, 200), body=lambda w, r: {"username": "a-clinician", "password": PASSWORD}
    ),
    ("logout", "post"): Row(roles(401, 204, 204, 204, 204, 204)),
    ("enroll", "post"): Row(roles(201, 201, 201, 201, 201, 201), body=_enroll_body),
    ("me", "get"): Row(roles(401, 200, 200, 403, 403, 403)),
    ("me-progress", "get"): Row(roles(401, 200, 200, 403, 403, 403)),
    ("staff", "post"): Row(
        roles(401, 403, 403, 403, 403, 201),
        body=lambda w, r: {"username": f"staff-{uuid.uuid4().hex[:8]}", "password": PASSWORD, "role": "clinician"},
    ),
    ("staff-deactivate", "post"): Row(roles(401, 403, 403, 403, 403, 200), lambda w: {"user_id": _new_staff(w).pk}),
    ("patients", "get"): Row(roles(401, 403, 403, 200, 200, 200)),
    ("patients", "post"): Row(roles(401, 403, 403, 201, 201, 201), body=lambda w, r: {"name": "Someone New"}),
    ("patient", "get"): Row(PATIENT_READ, patient_kw),
    ("patient-courses", "get"): Row(STAFF_READ, patient_kw),
    ("patient-courses", "post"): Row(
        roles(401, 403, 403, 201, 404, 201),
        patient_kw,
        body=lambda w, r: {"modality": "esketamine", "with_therapy": True, "start_date": TODAY.isoformat()},
    ),
    ("patient-assessments", "get"): Row(PATIENT_READ, patient_kw),
    ("patient-outcomes", "get"): Row(PATIENT_READ, patient_kw),
    ("patient-chart", "get"): Row(PATIENT_READ, lambda w: {"patient_id": w.a.patient.pk, "fmt": "png"}),
    ("patient-report", "get"): Row(STAFF_READ, patient_kw),
    ("patient-fhir", "get"): Row(STAFF_READ, patient_kw),
    ("patient-access-log", "get"): Row(roles(401, 403, 403, 403, 403, 200), patient_kw),
    ("course", "get"): Row(STAFF_READ, lambda w: {"course_id": w.course.pk}),
    ("course", "patch"): Row(
        roles(401, 403, 403, 200, 404, 200),
        lambda w: {"course_id": w.course.pk},
        body=lambda w, r: {"treating_clinician": str(w.a.clinician.pk)},
    ),
    ("course-sessions", "get"): Row(STAFF_READ, lambda w: {"course_id": w.course.pk}),
    ("course-sessions", "post"): Row(
        roles(401, 403, 403, 201, 404, 201),
        lambda w: {"course_id": w.course.pk},
        body=lambda w, r: {"date": TODAY.isoformat(), "dose_mg": "35.00"},
    ),
    # Another clinic's clinician naming clinic A's patient: that patient is unknown to them (400, nothing stored).
    ("assessments", "post"): Row(roles(401, 201, 201, 201, 400, 201), body=_assessment_body),
    ("assessment", "get"): Row(PATIENT_READ, lambda w: {"assessment_id": w.assessment.pk}),
    ("assessment-amend", "post"): Row(
        roles(401, 403, 403, 201, 404, 201),
        lambda w: {"assessment_id": _new_assessment(w).pk},
        body=lambda w, r: {"items": items_with_total("phq9", 10), "reason": "Transcription error"},
    ),
    ("assessment-baseline", "post"): Row(
        roles(401, 403, 403, 200, 404, 403), lambda w: {"assessment_id": _new_assessment(w).pk}
    ),
    ("assessment-baseline", "delete"): Row(
        roles(401, 403, 403, 200, 404, 403), lambda w: {"assessment_id": _new_assessment(w).pk}
    ),
    ("flags", "get"): Row(roles(401, 403, 403, 200, 200, 200)),
    ("flag-acknowledge", "post"): Row(roles(401, 403, 403, 200, 404, 403), lambda w: {"flag_id": w.flag.pk}),
    ("response-csv", "get"): Row(roles(401, 403, 403, 403, 403, 200)),
    ("response-csv", "post"): Row(roles(401, 403, 403, 403, 403, 202)),
    ("export-job", "get"): Row(roles(401, 403, 403, 403, 403, 202), _export_job),
    ("export-file", "get"): Row(roles(401, 403, 403, 403, 403, 200), _export_file),
    ("fhir-export", "get"): Row(roles(401, 403, 403, 403, 403, 202), headers={"HTTP_PREFER": "respond-async"}),
    ("notices", "get"): Row(roles(401, 403, 403, 200, 200, 200)),
    ("notice-read", "post"): Row(roles(401, 403, 403, 200, 404, 200), lambda w: {"notice_id": w.notice.pk}),
    ("cohort", "get"): Row(roles(401, 403, 403, 200, 200, 200)),
    ("reference-sets", "get"): Row(roles(401, 403, 403, 200, 200, 200)),
    ("payer-profiles", "get"): Row(roles(401, 403, 403, 200, 200, 200)),
    ("payer-profiles", "post"): Row(
        roles(401, 403, 403, 403, 403, 201),
        body=lambda w, r: {"key": f"p-{uuid.uuid4().hex[:8]}", "name": "A payer", "rules": default_document()["rules"]},
    ),
    ("clinic", "get"): Row(roles(401, 403, 403, 200, 200, 200)),
    ("clinic", "patch"): Row(roles(401, 403, 403, 403, 403, 200), body=lambda w, r: {"reference_set": "real_world"}),
    ("clinic-crisis-resources", "get"): Row(roles(401, 403, 403, 200, 200, 200)),
    ("clinic-crisis-resources", "put"): Row(roles(401, 403, 403, 403, 403, 200), body=lambda w, r: {"country": "GB"}),
    ("me-crisis-resources", "get"): Row(roles(401, 200, 200, 403, 403, 403)),
    ("me-reminders", "get"): Row(roles(401, 200, 200, 403, 403, 403)),
    ("me-reminders", "put"): Row(
        roles(401, 200, 200, 403, 403, 403),
        body=lambda w, r: {"enabled": True, "local_time": "19:30", "channels": ["push"]},
    ),
    ("me-devices", "post"): Row(
        roles(401, 201, 201, 403, 403, 403),
        body=lambda w, r: {"platform": "android", "push_token": f"token-{uuid.uuid4().hex}"},
    ),
    # Another patient's device is unknown to them.
    ("me-device", "delete"): Row(roles(401, 204, 404, 403, 403, 403), lambda w: {"device_id": _new_device(w).pk}),
    ("push-outbox", "get"): Row(roles(401, 403, 403, 200, 200, 200)),
}

METHODS = ("get", "post", "put", "patch", "delete")


def _api_patterns() -> list[URLPattern]:
    return [p for p in api_urls.urlpatterns if isinstance(p, URLPattern)]


def _view_methods(pattern: URLPattern) -> set[str]:
    view_class = pattern.callback.view_class  # type: ignore[attr-defined]
    return {m for m in METHODS if hasattr(view_class, m)}


def test_grid_covers_every_endpoint_and_method() -> None:
    declared = {(p.name, m) for p in _api_patterns() for m in _view_methods(p)}
    assert declared == set(GRID), f"missing rows: {declared - set(GRID)}; stale rows: {set(GRID) - declared}"


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("name", "method"), sorted(GRID), ids=[f"{n}-{m}" for n, m in sorted(GRID)])
def test_status(world: World, name: str, method: str, role: str) -> None:
    row = GRID[(name, method)]
    url = reverse(f"api:{name}", kwargs=row.kwargs(world))
    client = client_for(world.user(role))
    body = row.body(world, role)
    if method in ("post", "put", "patch"):
        response = getattr(client, method)(url, body, format="json", **row.headers)
    else:
        response = getattr(client, method)(url, **row.headers)
    assert response.status_code == row.expect[role], response.content[:300]


@pytest.mark.parametrize(("name"), sorted({n for n, _ in GRID}))
def test_undeclared_methods_are_405_for_an_authorised_user(world: World, name: str) -> None:
    pattern = next(p for p in _api_patterns() if p.name == name)
    allowed = _view_methods(pattern)
    row = next(GRID[(name, m)] for m in sorted(allowed))
    # A role the endpoint admits, so the answer is about the method, not the permission.
    role = next(r for r in ("admin", "clinician", "patient") if row.expect[r] < 400)
    url = reverse(f"api:{name}", kwargs=row.kwargs(world))
    client = client_for(world.user(role))
    for method in set(METHODS) - allowed:
        assert getattr(client, method)(url, **row.headers).status_code == 405, (name, method)
