"""A clinician's day in a real browser (Debian's chromium, Playwright): onboard a patient, print the
enrollment code, rate the MADRS and the HAM-D, record a session, correct an entry, acknowledge flags.

axe-core (the copy axe-playwright-python ships) runs on every page visited and must find no violation.
Screenshots at desktop and tablet (820 px) width are left in SHOTS/workspace-*.png for a human to look at.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.tracker.web.test_web_browser import CHROMIUM, CHROMIUM_ARGS, SHOTS, sideways_scrolling

sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is missing (requirements/dev.txt)")
axe_playwright = pytest.importorskip("axe_playwright_python.sync_playwright", reason="requirements/dev.txt")

from tests.tracker.helpers import PASSWORD, make_clinic  # noqa: E402
from tracker.records.models import (  # noqa: E402
    Assessment,
    AuditEvent,
    FlagAcknowledgement,
    Patient,
    SafetyFlag,
    TreatmentSession,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TABLET = {"width": 820, "height": 1180}
DESKTOP = {"width": 1400, "height": 900}


# The smallest text of the page's chart, in CSS pixels as shown: the SVG's font sizes are in its
# own units, scaled by the image's shown width over the SVG's width.
CHART_TEXT_PX = """async () => {
  const img = document.querySelector('.chart img');
  if (!img) return null;
  const doc = new DOMParser().parseFromString(await (await fetch(img.src)).text(), 'image/svg+xml');
  const scale = img.getBoundingClientRect().width / doc.documentElement.viewBox.baseVal.width;
  const sizes = [...doc.querySelectorAll('text')].map(
    (t) => parseFloat(/font-size:\\s*([\\d.]+)px/.exec(t.getAttribute('style') || '')[1]));
  return Math.min(...sizes) * scale;
}"""


class Visit:
    """Every page the flow shows is checked by axe-core and, when named, photographed at both widths."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.axe = axe_playwright.Axe()
        self.checked: list[str] = []
        self.chart_text_px: list[float] = []

    def check(self, shot: str = "") -> None:
        results = self.axe.run(self.page)
        assert results.violations_count == 0, f"{self.page.url}\n{results.generate_report()}"
        self.checked.append(self.page.url)
        if shot:
            self.page.screenshot(path=str(SHOTS / f"workspace-{shot}-desktop.png"), full_page=True)
            self.page.set_viewport_size(TABLET)
            # Nothing scrolls sideways at tablet width, neither the page nor a table inside it.
            sideways = sideways_scrolling(self.page)
            assert not sideways, f"{shot}: scrolls sideways at 820 px: {sideways}"
            # The chart's axis text stays readable on a tablet.
            smallest = self.page.evaluate(CHART_TEXT_PX)
            if smallest is not None:
                assert smallest >= 10, f"{shot}: the chart's smallest text is {smallest:.1f} px at 820 px"
                self.chart_text_px.append(smallest)
            results = self.axe.run(self.page)
            assert results.violations_count == 0, f"{self.page.url} at 820 px\n{results.generate_report()}"
            self.page.screenshot(path=str(SHOTS / f"workspace-{shot}-tablet.png"), full_page=True)
            self.page.set_viewport_size(DESKTOP)


def test_a_clinicians_day_in_the_browser(live_server: Any) -> None:
    world = make_clinic()
    world.clinician.first_name, world.clinician.last_name = "Sam", "Rivera"
    world.clinician.save()
    base = live_server.url
    # The patient is created in Berlin: their dates (the course start, a rating's default date) are
    # Berlin's, a day ahead of the server's for an hour or two before midnight UTC.
    today = datetime.now(ZoneInfo("Europe/Berlin")).date().isoformat()

    # Django's ORM refuses to run inside Playwright's event loop: data is made before and checked after.
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        page = browser.new_page(viewport=DESKTOP)
        expect = sync_api.expect
        visit = Visit(page)

        page.goto(f"{base}/login/")
        visit.check()
        page.get_by_label("Username").fill(world.clinician.username)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        expect(page).to_have_url(f"{base}/patients/")
        visit.check()

        # 1. Onboard: the patient, with a PHQ-9-only schedule every two weeks.
        page.goto(f"{base}/patients/new/")
        visit.check()
        page.get_by_role("button", name="Create the patient").click()  # empty: errors beside the fields
        expect(page.locator(".errorlist").first).to_be_visible()
        visit.check("patient-create-errors")
        page.get_by_label("Name").fill("Morgan Onboarded")
        page.get_by_label("Date of birth").fill("1979-03-14")
        page.get_by_label("External id").fill("MRN-5005")
        page.get_by_label("Time zone").select_option("Europe/Berlin")
        page.get_by_label("BDI-II").select_option("")
        page.get_by_label("PHQ-9").select_option("14")
        page.get_by_role("button", name="Create the patient").click()
        expect(page.locator("h1")).to_have_text("Start a treatment course")
        visit.check("course-create")
        page.get_by_label("Modality").select_option("esketamine")
        page.get_by_label("Start date").fill(today)
        page.get_by_label("Treating clinician").select_option(label="Sam Rivera")
        page.get_by_role("button", name="Start the course").click()

        # 2. The printable code with its QR code.
        expect(page.locator("#enrollment-code")).to_have_text(re.compile(r"^[A-Z0-9]{5}-[A-Z0-9]{5}$"))
        first_code = page.locator("#enrollment-code").inner_text()
        expect(page.locator(".qr svg")).to_be_visible()
        visit.check("enrollment")
        page.emulate_media(media="print")
        page.screenshot(path=str(SHOTS / "workspace-enrollment-print.png"), full_page=True)
        expect(page.locator("header.top")).to_be_hidden()
        page.emulate_media(media="screen")
        page.get_by_role("button", name="Issue a new code").click()
        expect(page.locator(".messages")).to_contain_text("A new enrollment code was issued")
        assert page.locator("#enrollment-code").inner_text() != first_code
        visit.check()
        page.get_by_role("link", name="Morgan Onboarded").click()
        visit.check()

        # 3. A session (a rating on a session day defaults to before the dose): an impossible pressure is
        # refused beside its field, then corrected.
        page.locator("#session > summary").click()
        session = page.locator("#session form")
        session.get_by_label("Dose").select_option("84")
        session.get_by_label("Time").fill("10:00")
        session.get_by_label("Systolic before (mmHg)").fill("132")
        session.get_by_label("Diastolic before (mmHg)").fill("150")
        session.get_by_label("Systolic after (mmHg)").fill("148")
        session.get_by_label("Diastolic after (mmHg)").fill("92")
        session.get_by_label("Monitoring (minutes)").fill("120")
        session.get_by_label("Notes").fill("Dissociation peaked at 40 min.")
        session.get_by_label("Adverse events").fill("Transient hypertension")
        session.get_by_role("button", name="Save session").click()
        expect(page.locator("#session")).to_have_attribute("open", "")
        expect(page.locator("#session form")).to_contain_text("The diastolic pressure must be below the systolic")
        visit.check("session-error")
        page.locator("#session form").get_by_label("Diastolic before (mmHg)").fill("84")
        page.locator("#session form").get_by_label("Dose").select_option("84")
        page.locator("#session form").get_by_role("button", name="Save session").click()
        expect(page.locator(".messages")).to_contain_text("Treatment session recorded.")
        visit.check()
        sessions = page.locator("table.sessions")
        for shown in (
            "84 mg",
            "132/84",
            "148/92",
            "120 min",
            "Dissociation peaked at 40 min.",
            "Transient hypertension",
        ):
            expect(sessions).to_contain_text(shown)

        # 4. Rate the MADRS: the suicide item at 4 raises an urgent flag, shown at once.
        page.locator("#rate-madrs > summary").click()
        madrs = page.locator("#rate-madrs form")
        expect(madrs.get_by_label("Date")).to_have_value(today)
        expect(madrs.get_by_label("Timing against the dose")).to_have_value("pre_dose")
        for number, score in enumerate([4, 4, 3, 4, 2, 3, 3, 4, 3, 4], start=1):
            madrs.locator(f'input[name="madrs-item_{number}"][value="{score}"]').check()
        madrs.get_by_label("Time").fill("09:10")
        madrs.get_by_role("button", name="Save MADRS").click()
        expect(page.locator(".messages")).to_contain_text("MADRS entry saved: total 34 (moderate).")
        expect(page.locator("#safety-flags")).to_contain_text("Open safety flags (1)")
        expect(page.locator("body")).not_to_contain_text("988")  # a patient's crisis message, never staff's
        visit.check("patient-after-madrs")

        # 5. Rate the HAM-D with its anchors; item 3 (suicide) at 1 raises a review flag.
        page.locator("#rate-hamd17 > summary").click()
        hamd = page.locator("#rate-hamd17 form")
        scores = [3, 2, 1, 2, 1, 1, 3, 1, 1, 2, 2, 1, 1, 1, 1, 0, 0]
        for number, score in enumerate(scores, start=1):
            hamd.locator(f'input[name="hamd17-item_{number}"][value="{score}"]').check()
        expect(hamd).to_contain_text("Feels life is not worth living")
        visit.check("hamd-form")
        hamd.get_by_role("button", name="Save HAM-D").click()
        expect(page.locator(".messages")).to_contain_text("HAM-D entry saved: total 23")
        expect(page.locator("#safety-flags")).to_contain_text("Open safety flags (2)")
        visit.check()

        # 6. Correct the MADRS: the original stays, struck through, with the reason in text.
        page.locator("table.entries tr", has_text="MADRS").get_by_role("link", name="Correct").click()
        expect(page.locator("h1")).to_contain_text("Correct the MADRS entry")
        visit.check()
        page.locator('input[name="item_3"][value="5"]').check()
        page.get_by_label("Reason for the correction").fill("Item 3 mis-keyed during the interview")
        visit.check("amend")
        page.get_by_role("button", name="Save the correction").click()
        superseded = page.locator("table.entries tr.superseded")
        expect(superseded).to_contain_text("Corrected on")
        expect(superseded).to_contain_text("by Sam Rivera. Reason: Item 3 mis-keyed during the interview")
        visit.check()
        assert (
            superseded.locator(".struck").first.evaluate("e => getComputedStyle(e).textDecorationLine")
            == "line-through"
        )

        # 7. Acknowledge the three flags at once (the correction raised its own, as an amended entry does);
        # the history shows who, when, what and why.
        flags = page.locator("#safety-flags")
        flags.get_by_label("Action taken").select_option("contacted_patient")
        flags.get_by_label("Note").fill("Phoned; safe, seen tomorrow")
        for box in flags.locator('input[type="checkbox"]').all():
            box.check()
        flags.get_by_role("button", name="Acknowledge selected").click()
        expect(page.locator(".messages")).to_contain_text("3 safety flags acknowledged.")
        history = page.locator("#flag-history")
        expect(history).to_contain_text("Contacted the patient")
        expect(history).to_contain_text("Phoned; safe, seen tomorrow")
        expect(page.locator("#questionnaires")).to_contain_text("every 14 days")
        expect(page.locator("#questionnaires table")).not_to_contain_text("BDI-II")
        visit.check("patient-workspace")

        # 8. The chart shows one scale at a time: switch to the HAM-D.
        page.locator(".scale-switch").get_by_role("link", name="HAM-D").click()
        expect(page.locator(".chart img")).to_have_attribute("src", re.compile(r"scale=hamd17$"))
        expect(page.locator(".scale-switch [aria-current=page]")).to_have_text("HAM-D")
        expect(page.locator(".chart img")).to_have_js_property("complete", True, timeout=30_000)

        # 9. Mark the HAM-D entry as the baseline, then undo it.
        hamd_row = page.locator("table.entries tr", has_text="HAM-D")
        hamd_row.get_by_role("button", name="Mark as baseline").click()
        expect(hamd_row.get_by_role("button", name="Unmark baseline")).to_be_visible()
        visit.check()
        hamd_row.get_by_role("button", name="Unmark baseline").click()
        expect(hamd_row.get_by_role("button", name="Mark as baseline")).to_be_visible()
        browser.close()

    patient = Patient.objects.get(name="Morgan Onboarded")
    assert patient.schedule == {"phq9": 14} and patient.timezone == "Europe/Berlin"
    assert Assessment.objects.filter(patient=patient).count() == 3  # MADRS, its correction, HAM-D
    assert TreatmentSession.objects.get(course__patient=patient).bp_diastolic_before == 84
    assert not SafetyFlag.objects.filter(patient=patient, acknowledged_at__isnull=True).exists()
    assert FlagAcknowledgement.objects.filter(flag__patient=patient, action="contacted_patient").count() == 3
    assert len(visit.checked) == 18  # every page the flow showed
    assert AuditEvent.objects.filter(action__in=["assessment.baseline_mark", "assessment.baseline_unmark"]).count() == 2
    assert len(visit.chart_text_px) >= 2  # the patient page's chart, measured at tablet width
    print(f"chart's smallest text at 820 px: {min(visit.chart_text_px):.1f} px")
