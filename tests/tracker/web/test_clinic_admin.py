"""The clinic admin's pages: staff, settings, exports and clinic outcomes (Django's test client, session login)."""

from __future__ import annotations

import csv
import io
import uuid
import xml.etree.ElementTree as ET
import zipfile
from datetime import date, timedelta

import pytest
from django.contrib.sessions.models import Session
from django.test import Client

from projections.cohort_results import recompute_cohorts
from projections.nightly import recompute_all
from tests.tracker.helpers import (
    PASSWORD,
    ClinicWorld,
    client_for,
    error_fields,
    make_clinic,
    web_client,
    weekly_course,
)
from tracker.records.models import AuditEvent, AuthToken, Clinic, Patient, Role, User
from tracker.records.services.auth import token_issue
from tracker.reports.profiles import builtin_profile

pytestmark = pytest.mark.django_db

BUILTIN = builtin_profile().key
ADMIN_PAGES = ["/clinic/staff/", "/clinic/settings/", "/clinic/reports/", "/clinic/outcomes/"]


def audits(action: str, **filters: object) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action, **filters))


@pytest.fixture
def world() -> ClinicWorld:
    return make_clinic()


@pytest.fixture
def other() -> ClinicWorld:
    return make_clinic("Clinic B", prefix="b")


# --- access ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("url", ADMIN_PAGES)
def test_admin_pages_answer_the_admin_and_refuse_a_clinician(world, url):
    assert web_client(world.admin).get(url).status_code == 200
    assert web_client(world.clinician).get(url).status_code == 403
    assert Client().get(url).status_code == 302


def test_nav_links_admin_pages_for_the_admin_only(world):
    admin_nav = web_client(world.admin).get("/patients/").content.decode()
    clinician_nav = web_client(world.clinician).get("/patients/").content.decode()
    for url in ADMIN_PAGES:
        assert f'href="{url}"' in admin_nav
        assert f'href="{url}"' not in clinician_nav


# --- staff ----------------------------------------------------------------------------------------------
def test_admin_adds_a_clinician(world):
    client = web_client(world.admin)
    r = client.post("/clinic/staff/", {"username": "dr-new", "role": "clinician", "password": "a-Long-pass-phrase-7"})
    assert r.status_code == 302
    new = User.objects.get(username="dr-new")
    assert new.role == Role.CLINICIAN and new.clinic_id == world.clinic.pk
    assert audits("staff.create", actor=world.admin, object_id=str(new.pk))
    assert "dr-new" in client.get("/clinic/staff/").content.decode()
    fresh = Client()
    assert fresh.login(username="dr-new", password="a-Long-pass-phrase-7")
    assert fresh.get("/patients/").status_code == 200


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"username": "dr-x", "role": "clinician", "password": "short"}, "password"),
        ({"username": "a-clinician", "role": "clinician", "password": "a-Long-pass-phrase-7"}, "username"),
        ({"username": "dr-x", "role": "patient", "password": "a-Long-pass-phrase-7"}, "role"),
        ({"username": "", "role": "clinician", "password": "a-Long-pass-phrase-7"}, "username"),
    ],
)
def test_a_bad_new_login_shows_the_error_beside_its_field_and_saves_nothing(world, data, field):
    before = User.objects.count()
    r = web_client(world.admin).post("/clinic/staff/", data)
    assert r.status_code == 200
    assert field in r.context["form"].errors
    assert f'id="id_{field}_error"' in r.content.decode()
    assert User.objects.count() == before


def test_deactivate_ends_tokens_and_sessions(world):
    clinician_web = web_client(world.clinician)
    token = token_issue(user=world.clinician)
    api = client_for(None)
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token.raw}")
    assert api.get("/api/v1/patients/").status_code == 200
    r = web_client(world.admin).post(f"/clinic/staff/{world.clinician.pk}/deactivate/")
    assert r.status_code == 302
    world.clinician.refresh_from_db()
    assert not world.clinician.is_active
    assert not AuthToken.objects.filter(user=world.clinician, revoked_at__isnull=True).exists()
    assert api.get("/api/v1/patients/").status_code == 401
    assert clinician_web.get("/patients/").status_code == 302
    assert not [s for s in Session.objects.all() if s.get_decoded().get("_auth_user_id") == str(world.clinician.pk)]
    assert Client().login(username=world.clinician.username, password=PASSWORD) is False
    assert audits("staff.deactivate", actor=world.admin, object_id=str(world.clinician.pk))


def test_admin_cannot_deactivate_themselves(world):
    r = web_client(world.admin).post(f"/clinic/staff/{world.admin.pk}/deactivate/", follow=True)
    assert "cannot deactivate your own login" in r.content.decode()
    world.admin.refresh_from_db()
    assert world.admin.is_active


def test_another_clinics_staff_is_a_404(world, other):
    client = web_client(world.admin)
    assert client.post(f"/clinic/staff/{other.clinician.pk}/deactivate/").status_code == 404
    assert client.post(f"/clinic/staff/{other.clinician.pk}/password/").status_code == 404
    other.clinician.refresh_from_db()
    assert other.clinician.is_active and other.clinician.check_password(PASSWORD)
    assert other.clinician.username not in client.get("/clinic/staff/").content.decode()


def test_a_clinician_cannot_deactivate_anyone(world):
    r = web_client(world.clinician).post(f"/clinic/staff/{world.admin.pk}/deactivate/")
    assert r.status_code == 403
    world.admin.refresh_from_db()
    assert world.admin.is_active


def test_password_reset_shows_a_temporary_password_once(world):
    old = web_client(world.clinician)
    r = web_client(world.admin).post(f"/clinic/staff/{world.clinician.pk}/password/")
    assert r.status_code == 200 and r["Cache-Control"] == "no-store"
    temporary = r.context["temporary_password"]
    assert temporary in r.content.decode()
    world.clinician.refresh_from_db()
    assert world.clinician.check_password(temporary) and not world.clinician.check_password(PASSWORD)
    assert old.get("/patients/").status_code == 302
    assert Client().login(username=world.clinician.username, password=temporary)
    assert audits("staff.password_reset", actor=world.admin, object_id=str(world.clinician.pk))
    assert temporary not in "".join(str(e.__dict__) for e in AuditEvent.objects.all())


def test_admin_pages_need_csrf(world):
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(world.admin)
    assert strict.post(f"/clinic/staff/{world.clinician.pk}/deactivate/").status_code == 403
    world.clinician.refresh_from_db()
    assert world.clinician.is_active


# --- API: staff deactivation ----------------------------------------------------------------------------
def test_api_deactivates_a_staff_login(world, other):
    api = client_for(world.admin)
    r = api.post(f"/api/v1/staff/{world.clinician.pk}/deactivate/")
    assert r.status_code == 200 and r.json()["is_active"] is False
    assert api.post(f"/api/v1/staff/{world.clinician.pk}/deactivate/").status_code == 200  # again: no change
    assert len(audits("staff.deactivate", object_id=str(world.clinician.pk))) == 1
    assert api.post(f"/api/v1/staff/{other.clinician.pk}/deactivate/").status_code == 404
    r = api.post(f"/api/v1/staff/{world.admin.pk}/deactivate/")
    assert r.status_code == 400 and "user" in error_fields(r)
    assert api.post(f"/api/v1/staff/{world.patient_user.pk}/deactivate/").status_code == 404


def test_api_deactivation_is_for_admins(world):
    r = client_for(world.clinician).post(f"/api/v1/staff/{world.admin.pk}/deactivate/")
    assert r.status_code == 403
    world.admin.refresh_from_db()
    assert world.admin.is_active


# --- clinic settings ------------------------------------------------------------------------------------
def _settings(**over: object) -> dict[str, object]:
    data: dict[str, object] = {"reference_set": "trials", "payer_profile": BUILTIN}
    data.update(over)
    return data


def test_settings_form_shows_the_current_values(world):
    r = web_client(world.admin).get("/clinic/settings/")
    html = r.content.decode()
    assert 'name="madrs__remission_max"' in html
    assert r.context["form"].initial["reference_set"] == world.clinic.reference_set


def test_admin_sets_a_madrs_remission_threshold(world):
    client = web_client(world.admin)
    form = client.get("/clinic/settings/").context["form"]
    data = _settings(reference_set=form.initial["reference_set"], payer_profile=form.initial["payer_profile"])
    data["madrs__remission_max"] = 12
    r = client.post("/clinic/settings/", data)
    assert r.status_code == 302, r.context["form"].errors if r.context else r
    clinic = Clinic.objects.get(pk=world.clinic.pk)
    assert clinic.scoring_options == {"madrs": {"remission_max": 12}}
    assert audits("clinic.settings", actor=world.admin)
    # Clearing the box returns to the scale's own level.
    data["madrs__remission_max"] = ""
    client.post("/clinic/settings/", data)
    assert Clinic.objects.get(pk=world.clinic.pk).scoring_options == {}


def test_the_saved_message_says_recomputed_only_when_the_rules_changed(world):
    client = web_client(world.admin)
    form = client.get("/clinic/settings/").context["form"]
    data = _settings(reference_set=form.initial["reference_set"], payer_profile=form.initial["payer_profile"])
    saved = client.post("/clinic/settings/", {**data, "timezone": "Europe/Madrid"}, follow=True).content.decode()
    assert "Clinic settings saved." in saved and "recomputed" not in saved
    saved = client.post("/clinic/settings/", {**data, "madrs__remission_max": 12}, follow=True).content.decode()
    assert "the patients&#x27; outcomes are being recomputed" in saved


def test_other_scoring_options_set_through_the_api_are_kept(world):
    r = client_for(world.admin).patch(
        "/api/v1/clinic/", {"scoring_options": {"bdi2": {"sustain_days": 28}}}, format="json"
    )
    assert r.status_code == 200
    client = web_client(world.admin)
    form = client.get("/clinic/settings/").context["form"]
    data = _settings(reference_set=form.initial["reference_set"], payer_profile=form.initial["payer_profile"])
    data["bdi2__remission_max"] = 10
    assert client.post("/clinic/settings/", data).status_code == 302
    assert Clinic.objects.get(pk=world.clinic.pk).scoring_options == {"bdi2": {"sustain_days": 28, "remission_max": 10}}


@pytest.mark.parametrize(
    ("over", "field"),
    [
        ({"madrs__remission_max": 61}, "madrs__remission_max"),  # above the scale's maximum
        ({"madrs__remission_max": 30, "madrs__relapse_min": 20}, "madrs__relapse_min"),  # relapse below remission
        ({"madrs__remission_max": 40}, "madrs__remission_max"),  # above the scale's own relapse level
        ({"reference_set": "no-such-set"}, "reference_set"),
        ({"payer_profile": "nope"}, "payer_profile"),
        ({"phq9__remission_max": "abc"}, "phq9__remission_max"),
    ],
)
def test_bad_settings_show_errors_beside_the_field_and_change_nothing(world, over, field):
    client = web_client(world.admin)
    form = client.get("/clinic/settings/").context["form"]
    data = _settings(reference_set=form.initial["reference_set"], payer_profile=form.initial["payer_profile"])
    data.update(over)
    before = Clinic.objects.filter(pk=world.clinic.pk).values().get()
    r = client.post("/clinic/settings/", data)
    assert r.status_code == 200
    assert field in r.context["form"].errors, r.context["form"].errors
    assert f'id="id_{field}_error"' in r.content.decode()
    assert Clinic.objects.filter(pk=world.clinic.pk).values().get() == before
    assert not audits("clinic.settings")


def test_a_clinician_cannot_change_settings(world):
    r = web_client(world.clinician).post("/clinic/settings/", _settings(madrs__remission_max=12))
    assert r.status_code == 403
    assert Clinic.objects.get(pk=world.clinic.pk).scoring_options == {}


# --- crisis resources ------------------------------------------------------------------------------------
CRISIS = "/clinic/settings/crisis/"


def _crisis(**values: str) -> dict[str, str]:
    boxes = ["country", "line_label", "line_phone", "line_sms", "line_url"]
    boxes += [f"{code}_{part}" for code in ("en", "es") for part in ("message", "emergency", "lines")]
    return {box: values.get(box, "") for box in boxes}


def test_admin_sets_the_crisis_resources_a_flagged_patient_is_shown(world):
    form = _crisis(
        country="us",
        line_label="Clinic on-call",
        line_phone="+1 555 010 0200",
        es_message="Llame a la clínica o al 988.",
        es_emergency="911, 112",
        es_lines="Línea 988 | 988 | 988 | https://988lifeline.org/es/\nLínea de la clínica | 555 010 0200",
    )
    r = web_client(world.admin).post(CRISIS, form)
    assert r.status_code == 302 and r["Location"] == "/clinic/settings/#crisis"
    clinic = Clinic.objects.get(pk=world.clinic.pk)
    assert clinic.country == "US"
    assert clinic.crisis_resources == {
        "clinic_line": {"label": "Clinic on-call", "phone": "+1 555 010 0200", "sms": "", "url": ""},
        "locales": {
            "es": {
                "message": "Llame a la clínica o al 988.",
                "emergency": ["911", "112"],
                "lines": [
                    {"label": "Línea 988", "phone": "988", "sms": "988", "url": "https://988lifeline.org/es/"},
                    {"label": "Línea de la clínica", "phone": "555 010 0200", "sms": "", "url": ""},
                ],
            }
        },
    }
    assert len(audits("clinic.crisis_resources_update", clinic_id=world.clinic.pk)) == 1
    # The page shows what is stored, ready to edit; the patient's app shows it in Spanish.
    page = web_client(world.admin).get("/clinic/settings/").content.decode()
    assert "Línea 988 | 988 | 988 | https://988lifeline.org/es/" in page and 'value="Clinic on-call"' in page
    shown = client_for(world.patient_user).get("/api/v1/me/crisis-resources/", HTTP_ACCEPT_LANGUAGE="es").json()
    assert shown["message"] == "Llame a la clínica o al 988."
    assert [x["label"] for x in shown["lines"]] == ["Línea 988", "Línea de la clínica", "Clinic on-call"]


@pytest.mark.parametrize(
    ("values", "field", "text"),
    [
        ({"country": "ZZ"}, "country", "two-letter country code"),
        ({"line_label": "On call"}, "line_phone", "phone number"),
        ({"en_lines": "Line A | 988\nLine B | call us"}, "en_lines", "Row 2: A phone number"),
        ({"en_lines": "Line A | 988 | 988 | https://a.example/ | extra"}, "en_lines", "Row 1: at most 4 parts"),
        ({"es_emergency": "112, 911, 061, 999"}, "es_emergency", "1 to 3 emergency numbers"),
        ({"en_lines": "Line A | 988 | | http://insecure.example/"}, "en_lines", "Row 1: A web address starting"),
    ],
)
def test_bad_crisis_resources_show_the_error_beside_the_box_and_change_nothing(world, values, field, text):
    before = Clinic.objects.filter(pk=world.clinic.pk).values().get()
    r = web_client(world.admin).post(CRISIS, _crisis(**values))
    assert r.status_code == 200
    errors = r.context["crisis_form"].errors
    assert field in errors and any(text in message for message in errors[field]), errors
    assert text in r.content.decode()
    assert Clinic.objects.filter(pk=world.clinic.pk).values().get() == before
    assert not audits("clinic.crisis_resources_update")


def test_a_clinician_cannot_change_the_crisis_resources(world):
    r = web_client(world.clinician).post(CRISIS, _crisis(country="US"))
    assert r.status_code == 403
    assert Clinic.objects.get(pk=world.clinic.pk).country == ""


# --- exports --------------------------------------------------------------------------------------------
@pytest.fixture
def treated(world: ClinicWorld) -> list[Patient]:
    start = date.today() - timedelta(days=42)
    patients = [
        weekly_course(world, "Rae Responder", "iv_ketamine", "bdi2", start, [32, 24, 16, 10, 8, 6, 5]),
        weekly_course(world, "Sol Flat", "esketamine", "bdi2", start, [30, 31, 30, 31, 30, 31, 30]),
        weekly_course(world, "Tal Late", "iv_ketamine", "bdi2", start + timedelta(days=30), [28, 20]),
    ]
    recompute_all(clinic_id=world.clinic.pk)
    return patients


def test_response_csv_for_a_date_range(world, treated, other):
    start = date.today() - timedelta(days=42)
    client = web_client(world.admin)
    r = client.get("/clinic/reports/response.csv", {"date_from": start.isoformat(), "date_to": start.isoformat()})
    assert r.status_code == 200 and r["Content-Type"].startswith("text/csv")
    content = b"".join(r.streaming_content)
    rows = list(csv.DictReader(io.StringIO(content.decode())))
    assert {row["patient_id"] for row in rows} == {str(treated[0].pk), str(treated[1].pk)}
    assert {e.patient_id for e in audits("web.report.csv", actor=world.admin)} == {treated[0].pk, treated[1].pk}
    # The same builder as the API's CSV.
    api = client_for(world.admin).get("/api/v1/reports/response.csv", {"from": start, "to": start})
    assert api.content == content


def test_a_response_csv_too_large_for_the_browser_is_refused_with_a_way_out(world, treated, settings):
    settings.EXPORT_SYNC_MAX_ROWS = 1
    start = date.today() - timedelta(days=60)
    r = web_client(world.admin).get("/clinic/reports/response.csv", {"date_from": start.isoformat()})
    assert r.status_code == 400 and "too many rows" in r.content.decode()
    assert not audits("web.report.csv")


def test_response_csv_with_a_reversed_range_is_an_error_beside_the_field(world, treated):
    r = web_client(world.admin).get(
        "/clinic/reports/response.csv", {"date_from": "2026-05-01", "date_to": "2026-04-01"}
    )
    assert r.status_code == 400
    assert "date_from" in r.context["csv_form"].errors
    assert 'id="id_date_from_error"' in r.content.decode()
    assert not audits("web.report.csv")


def test_payer_reports_zip_one_pdf_per_patient(world, treated, other):
    client = web_client(world.admin)
    page = client.get("/clinic/reports/").content.decode()
    assert "Rae Responder" in page and other.patient.name not in page
    # The third: a patient without any course (their report says so).
    chosen = [str(treated[0].pk), str(treated[1].pk), str(world.patient.pk)]
    r = client.post("/clinic/reports/payer-reports.zip", {"patients": chosen, "profile": BUILTIN})
    assert r.status_code == 200 and r["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(r.content))
    assert sorted(archive.namelist()) == sorted(f"response-report-{pk}.pdf" for pk in chosen)
    for name in archive.namelist():
        assert archive.read(name).startswith(b"%PDF")
    assert {e.patient_id for e in audits("web.report.pdf", actor=world.admin)} == {
        treated[0].pk,
        treated[1].pk,
        world.patient.pk,
    }


@pytest.mark.parametrize("bad", ["none", "other-clinic", "not-a-patient"])
def test_payer_reports_zip_refuses_a_bad_selection(world, treated, other, bad):
    patients = {"none": [], "other-clinic": [str(other.patient.pk)], "not-a-patient": [str(uuid.uuid4())]}[bad]
    r = web_client(world.admin).post("/clinic/reports/payer-reports.zip", {"patients": patients, "profile": BUILTIN})
    assert r.status_code == 400
    assert "patients" in r.context["zip_form"].errors
    assert not audits("web.report.pdf")


def test_payer_reports_combined_in_one_pdf(world, treated, other):
    from pypdf import PdfReader

    from tests.tracker.reports.test_reports_support import pdf_pages

    client = web_client(world.admin)
    page = client.get("/clinic/reports/").content.decode()
    assert 'value="combined"' in page and 'value="zip"' in page
    chosen = [str(treated[1].pk), str(treated[0].pk), str(world.patient.pk)]
    r = client.post("/clinic/reports/payer-reports/", {"patients": chosen, "profile": BUILTIN, "layout": "combined"})
    assert r.status_code == 200 and r["Content-Type"] == "application/pdf"
    assert r["Content-Disposition"].endswith('.pdf"')
    pages = pdf_pages(r.content)
    # Each patient's report alone, as the patient page builds it: the combined one is the cover plus these.
    singles = [pdf_pages(client.get(f"/patients/{pk}/report.pdf").content) for pk in chosen]
    # By name, as the zip (the database's collation orders them).
    order = list(Patient.objects.filter(pk__in=chosen).order_by("name", "id").values_list("name", flat=True))
    assert set(order) == {"Rae Responder", "Sol Flat", world.patient.name}
    assert len(PdfReader(io.BytesIO(r.content)).pages) == 1 + sum(len(p) for p in singles)
    cover = " ".join(pages[0])
    assert "Treatment response reports" in cover
    positions = [cover.index(name) for name in order]
    assert positions == sorted(positions)
    assert other.patient.name not in " ".join(" ".join(p) for p in pages)
    # Each report starts on a new page, headed with its patient, numbered as its own.
    firsts = [i for i, lines in enumerate(pages) if any(", page 1 of" in line for line in lines)][1:]
    assert len(firsts) == 3
    for index, name in zip(firsts, order, strict=True):
        assert any(f"Patient: {name}" in line for line in pages[index])
    assert {e.patient_id for e in audits("web.report.pdf", actor=world.admin)} == {
        treated[0].pk,
        treated[1].pk,
        world.patient.pk,
    }
    assert len(audits("web.report.pdf", actor=world.admin)) == 3 + 3  # the combined, then the singles


@pytest.mark.parametrize("layout", ["both", "pdf", "ZIP", "zip,combined"])
def test_an_unknown_layout_is_a_form_error_and_nothing_is_built(world, treated, layout):
    r = web_client(world.admin).post(
        "/clinic/reports/payer-reports/", {"patients": [str(treated[0].pk)], "profile": BUILTIN, "layout": layout}
    )
    assert r.status_code == 400
    assert "layout" in r.context["zip_form"].errors
    assert 'id="id_layout_error"' in r.content.decode()
    assert not audits("web.report.pdf")


def test_a_combined_report_refuses_a_bad_selection(world, treated, other):
    r = web_client(world.admin).post(
        "/clinic/reports/payer-reports/",
        {"patients": [str(other.patient.pk)], "profile": BUILTIN, "layout": "combined"},
    )
    assert r.status_code == 400
    assert "patients" in r.context["zip_form"].errors
    assert not audits("web.report.pdf")


def test_a_clinician_cannot_export_clinic_reports(world, treated):
    client = web_client(world.clinician)
    assert client.get("/clinic/reports/response.csv").status_code == 403
    assert client.post("/clinic/reports/payer-reports.zip", {"patients": [str(treated[0].pk)]}).status_code == 403


# --- clinic outcomes ------------------------------------------------------------------------------------
def test_outcomes_page_says_not_yet_computed_before_the_workers_ran(world, treated):
    r = web_client(world.admin).get("/clinic/outcomes/")
    html = r.content.decode()
    assert "Not yet computed" in html
    assert "<img" not in html.split("km-title")[1].split("</section>")[0]
    # The rest of the page is read from the snapshots.
    assert "Sol Flat" in html  # off track
    assert audits("web.cohort.read", actor=world.admin)


def test_outcomes_page_with_the_stored_cohort(world, treated, other):
    recompute_cohorts(world.clinic.pk)
    client = web_client(world.admin)
    r = client.get("/clinic/outcomes/")
    html = r.content.decode()
    assert "Not yet computed" not in html
    assert 'src="/clinic/outcomes/bdi2.svg"' in html
    assert "IV ketamine" in html and "Esketamine" in html
    assert other.patient.name not in html
    shares = {(s.modality, s.scale): (s.courses, s.responders, s.remissions) for s in r.context["shares"]}
    # Rae responds and is in confirmed remission; Tal (28 -> 20) neither; Sol (esketamine) flat.
    assert shares[("iv_ketamine", "bdi2")] == (2, 1, 1)
    assert shares[("esketamine", "bdi2")] == (1, 0, 0)
    assert [p["name"] for p in r.context["off_track"]] == ["Sol Flat"]
    assert {e.patient_id for e in audits("web.outcomes.off_track")} == {treated[1].pk}
    completion = {c.modality: c for c in r.context["completion"]}
    assert completion["esketamine"].received == 7 and completion["esketamine"].due == 2 * 7
    chart = client.get("/clinic/outcomes/bdi2.svg")
    assert chart.status_code == 200 and chart["Content-Type"] == "image/svg+xml"
    assert b"<svg" in chart.content
    # Each modality's Kaplan-Meier curve beside its reference curve, named in the legend.
    legend = " ".join(
        "".join(t.itertext()) for t in ET.fromstring(chart.content).iter("{http://www.w3.org/2000/svg}text")
    )
    assert "IV ketamine: this clinic (n=2, 1 remission)" in legend and "IV ketamine: expected" in legend
    assert "Esketamine nasal spray: this clinic (n=1, 0 remissions)" in legend
    assert client.get("/clinic/outcomes/nope.svg").status_code == 404
    assert web_client(world.clinician).get("/clinic/outcomes/bdi2.svg").status_code == 403
