"""The dashboard in a real browser: Debian's chromium driven by Playwright against a live server.

Skipped where /usr/bin/chromium or the playwright package is missing (install: ``apt-get install
chromium`` and the pinned ``playwright`` of requirements/dev.txt; never ``playwright install``).
Screenshots are left in ``SHOTS`` (``$SCREENSHOT_DIR``, default /tmp; .ci/run keeps them in
.ci/screenshots/) for a human to look at.
"""

from __future__ import annotations

import os
import re
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SHOTS = Path(os.environ.get("SCREENSHOT_DIR") or "/tmp")
SHOTS.mkdir(parents=True, exist_ok=True)
LIST_SHOT = SHOTS / "dashboard-list.png"
PATIENT_SHOT = SHOTS / "dashboard-patient.png"

# What scrolls sideways on the page as shown: the page itself, or a region inside it (a table in a
# card that scrolls), each named by its heading or id. At tablet width a clinician must not have to
# scroll a table sideways to reach its last columns (adverse events, a flag, the entry's actions).
_SIDEWAYS = """() => {
  const found = [];
  const page = document.documentElement.scrollWidth - window.innerWidth;
  if (page > 0) found.push(`the page by ${page}px`);
  for (const el of document.querySelectorAll('main *')) {
    const over = el.scrollWidth - el.clientWidth;
    if (over > 1 && ['auto', 'scroll'].includes(getComputedStyle(el).overflowX)) {
      const name = el.querySelector('h2, h3')?.textContent.trim() || el.id || el.className;
      found.push(`${name} by ${over}px`);
    }
  }
  return found;
}"""


def sideways_scrolling(page: Any) -> list[str]:
    """Whatever scrolls sideways on the page as shown (empty when nothing does)."""
    return list(page.evaluate(_SIDEWAYS))


if not CHROMIUM.exists():
    pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium)", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is missing (requirements/dev.txt)")

from projections.outcomes import recompute_patient_outcomes  # noqa: E402
from tests.tracker.helpers import PASSWORD, ClinicWorld, client_for, make_clinic, submit  # noqa: E402
from tracker.records.models import Patient, SafetyFlag, User  # noqa: E402
from tracker.records.services.patients import course_create, patient_create, session_create  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _course(
    clinician: User, patient: Patient, modality: str, days_ago: int, *, therapy: bool = False, doses: int = 0
) -> date:
    start = date.today() - timedelta(days=days_ago)
    course = course_create(actor=clinician, patient=patient, modality=modality, with_therapy=therapy, start_date=start)
    for i in range(doses):
        session_create(
            actor=clinician, course=course, date=start + timedelta(days=3 * i), dose_mg=Decimal("0.5") * (70 + 5 * i)
        )
    return start


def _entries(api: Any, patient: Patient, scale: str, start: date, totals: list[tuple[int, int]], **extra: Any) -> None:
    for day, total in totals:
        r = submit(api, scale, start + timedelta(days=day), total, patient=patient, **extra)
        assert r.status_code == 201, r.content


def clinic_with_patients() -> tuple[ClinicWorld, Patient]:
    """A clinic whose list shows each colour: flags urgent and review, every projection signal, overdue."""
    world = make_clinic()
    api = client_for(world.clinician)
    flagged = world.patient
    flagged.name, flagged.external_id, flagged.date_of_birth = "Avery Example", "MRN-1001", date(1984, 5, 17)
    flagged.save()
    start = _course(world.clinician, flagged, "iv_ketamine", 28, doses=6)
    _entries(api, flagged, "bdi2", start, [(-1, 34), (7, 30), (14, 24), (21, 18)])
    _entries(api, flagged, "bdi2", start, [(28, 12)], suicide=2)
    _entries(api, flagged, "phq9", start, [(-1, 19)])
    _entries(api, flagged, "phq9", start, [(28, 9)], suicide=1)
    _entries(api, flagged, "madrs", start, [(0, 33), (21, 16)])

    slow = world.other_patient
    slow.name, slow.external_id = "Blake Sample", "MRN-1002"
    slow.save()
    start = _course(world.clinician, slow, "esketamine", 28, doses=8)
    _entries(api, slow, "bdi2", start, [(0, 30), (10, 29), (18, 28)])

    for name, modality, therapy, totals in (
        ("Casey Test", "im_ketamine", False, [(0, 36), (14, 30), (26, 25)]),
        ("Drew Demo", "oral_ketamine", True, [(0, 28), (14, 9), (26, 3)]),
    ):
        patient = patient_create(actor=world.clinician, name=name, timezone_name="America/New_York").patient
        start = _course(world.clinician, patient, modality, 27, therapy=therapy, doses=4)
        _entries(api, patient, "bdi2", start, totals)
        _entries(api, patient, "phq9", start, [(totals[-1][0], 4)])
    patient_create(actor=world.clinician, name="Emery Newcomer", timezone_name="Europe/Berlin")
    # The snapshots the list reads, as the task each entry schedules stores them (Celery may not be eager here).
    for patient in Patient.objects.filter(clinic=world.clinic):
        recompute_patient_outcomes(patient)
    return world, flagged


def test_clinician_acknowledges_a_flag_in_the_browser(live_server: Any) -> None:
    world, flagged = clinic_with_patients()
    open_flags = SafetyFlag.objects.filter(patient=flagged, acknowledged_at__isnull=True).count()
    assert open_flags == 2
    base = live_server.url

    # Django's ORM refuses to run inside Playwright's event loop: all database work is done
    # before the browser starts and checked after it closes.
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        expect = sync_api.expect

        page.goto(f"{base}/patients/")
        expect(page).to_have_url(f"{base}/login/?next=/patients/")
        page.screenshot(path=str(SHOTS / "dashboard-login.png"))
        # An empty submit says what is missing.
        page.get_by_role("button", name="Log in").click()
        expect(page.locator("main")).to_contain_text("Enter your username.")
        expect(page.locator("main")).to_contain_text("Enter your password.")
        expect(page.get_by_label("Username")).to_have_attribute("aria-invalid", "true")
        page.get_by_label("Username").fill(world.clinician.username)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        expect(page).to_have_url(f"{base}/patients/")
        # The keyboard's first stop skips the header.
        page.keyboard.press("Tab")
        expect(page.locator(":focus")).to_have_text("Skip to main content")
        page.keyboard.press("Enter")
        expect(page.locator("main")).to_be_focused()

        row = page.locator(f'tr[data-patient="{flagged.pk}"]')
        expect(row).to_contain_text("Avery Example")
        expect(row.locator(".badge-urgent")).to_have_text("1 urgent")
        expect(row.locator(".badge-review")).to_have_text("1 review")
        expect(page.locator("tr[data-patient]")).to_have_count(5)
        page.screenshot(path=str(LIST_SHOT), full_page=True)

        row.get_by_role("link", name="Avery Example").click()
        expect(page).to_have_url(f"{base}/patients/{flagged.pk}/")
        flags = page.locator("#safety-flags")
        expect(flags).to_contain_text("Open safety flags (2)")
        # The chart is drawn on its first view (then cached): a loaded CI machine may take seconds.
        expect(page.locator(".chart img")).to_have_js_property("complete", True, timeout=30_000)
        assert page.locator(".chart img").evaluate("img => img.naturalWidth") > 0, "the chart did not load"
        page.locator("table.entries summary").first.click()  # the newest entry's item scores
        expect(page.locator("table.entries .items").first).to_contain_text("Item 9:")
        page.screenshot(path=str(PATIENT_SHOT), full_page=True)
        # Printed for the file: the patient, the course, the chart and the outcomes on one A4 page.
        page.emulate_media(media="print")
        printed = page.pdf(format="A4")
        assert len(re.findall(rb"/Type\s*/Page[^s]", printed)) == 1
        page.emulate_media(media="screen")

        for remaining in (1, 0):
            flags.get_by_label("Action taken").select_option("contacted_patient")
            flags.get_by_role("button", name="Acknowledge", exact=True).first.click()
            expect(page.locator(".messages")).to_contain_text("Safety flag acknowledged.")
            if remaining:
                expect(flags).to_contain_text(f"Open safety flags ({remaining})")
        expect(page.locator("#safety-flags")).to_have_text("No open safety flags.")
        page.screenshot(path=str(SHOTS / "dashboard-patient-acknowledged.png"))

        page.goto(f"{base}/patients/?flagged=true")
        expect(page.locator("tr[data-patient]")).to_have_count(0)
        browser.close()

    assert SafetyFlag.objects.filter(patient=flagged, acknowledged_by=world.clinician).count() == 2
    assert LIST_SHOT.stat().st_size > 10_000 and PATIENT_SHOT.stat().st_size > 10_000
