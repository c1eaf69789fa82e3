"""The triage list, the notices inbox and the clinic admin's pages in a real browser (Debian's chromium,
Playwright), with axe-core run on every page visited, at desktop and tablet (820 px) widths.

Screenshots are left in SHOTS/dashboard-<page>-<width>.png for a human to look at.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium)", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is missing (requirements/dev.txt)")
axe_sync = pytest.importorskip("axe_playwright_python.sync_playwright", reason="axe-playwright-python is missing")

from projections.cohort_results import recompute_cohorts  # noqa: E402
from projections.nightly import recompute_all  # noqa: E402
from tests.tracker.helpers import PASSWORD  # noqa: E402
from tests.tracker.reports.test_reports_support import pdf_pages  # noqa: E402
from tests.tracker.web.test_web_browser import (  # noqa: E402
    CHROMIUM_ARGS,
    SHOTS,
    clinic_with_patients,
    sideways_scrolling,
)
from tracker.records.models import AuditEvent, Clinic, Notice, User  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTHS = {"desktop": 1400, "tablet": 820}


class Checker:
    """axe-core on every page visited; screenshots of each at both widths."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.axe = axe_sync.Axe()
        self.violations: dict[str, list[str]] = {}
        self.shots: list[Path] = []

    def check(self, name: str) -> None:
        results = self.axe.run(self.page)
        found = [f"{v['id']}: {v['help']} ({len(v['nodes'])} nodes)" for v in results.response["violations"]]
        if found:
            self.violations[name] = found
        for label, width in WIDTHS.items():
            self.page.set_viewport_size({"width": width, "height": 1000})
            path = SHOTS / f"dashboard-{name}-{label}.png"
            self.page.screenshot(path=str(path), full_page=True)
            self.shots.append(path)
            if label == "tablet":
                # Nothing scrolls sideways at tablet width, neither the page nor a table inside it.
                sideways = sideways_scrolling(self.page)
                assert not sideways, f"{name} scrolls sideways at {width}px: {sideways}"
        self.page.set_viewport_size({"width": WIDTHS["desktop"], "height": 1000})


def _login(page: Any, base: str, username: str, password: str = PASSWORD) -> None:
    page.goto(f"{base}/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    sync_api.expect(page).to_have_url(f"{base}/patients/")


def test_admin_walks_the_admin_pages(live_server: Any, tmp_path: Path) -> None:
    world, flagged = clinic_with_patients()
    recompute_all(clinic_id=world.clinic.pk)
    recompute_cohorts(world.clinic.pk)
    unread = Notice.objects.filter(clinic=world.clinic, read_at__isnull=True).count()
    assert unread >= 1, "the demo clinic should have raised a notice"
    base = live_server.url
    expect = sync_api.expect

    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
        page = context.new_page()
        checker = Checker(page)
        # Before signing in: the home page, and the API's documentation drawn from the app's own
        # assets, checked as drawn and with an operation open for trying out (Swagger UI's markup,
        # corrected by web/docs.js and web/docs.css).
        page.goto(f"{base}/")
        checker.check("home")
        page.goto(f"{base}/api/docs/")
        expect(page.locator(".swagger-ui .info")).to_be_visible(timeout=30_000)
        checker.check("api-docs")
        page.locator(".opblock-post .opblock-summary-control").first.click()
        page.get_by_role("button", name="Try it out").click()
        expect(page.get_by_label("Request body")).to_be_visible()
        checker.check("api-docs-operation")
        _login(page, base, world.admin.username)

        # The triage list: the urgent patient first, the nav counting the unread notices.
        rows = page.locator("tr[data-patient]")
        expect(rows.first).to_have_attribute("data-patient", str(flagged.pk))
        expect(rows.first).to_contain_text("urgent flag")
        expect(page.locator("header nav")).to_contain_text(f"Notices {unread}")
        checker.check("triage")
        page.get_by_label("Order").select_option("name")
        page.get_by_role("button", name="Apply").click()
        expect(page).to_have_url(f"{base}/patients/?q=&signal=&state=&sort=name")
        # A patient's page as the admin sees it (no rating forms: rating is a clinician's).
        page.locator(f'tr[data-patient="{flagged.pk}"] a').first.click()
        expect(page.locator("h1")).to_contain_text(flagged.name)
        checker.check("patient-admin")
        page.go_back()

        # Notices: mark all read.
        page.get_by_role("link", name="Notices").click()
        expect(page.locator("tr[data-notice]")).to_have_count(unread)
        checker.check("notices")
        page.get_by_role("button", name="Mark all read").click()
        expect(page.locator(".messages")).to_contain_text("marked read")
        expect(page.locator("tr[data-notice]")).to_have_count(0)
        expect(page.locator("header nav .nav-count")).to_have_count(0)

        # Staff: a bad password first (the error beside the field), then a new clinician, reset, deactivate.
        page.get_by_role("link", name="Staff").click()
        checker.check("staff")
        page.get_by_label("Username").fill("dr-browser")
        page.get_by_label("Initial password").fill("short")
        page.get_by_role("button", name="Add login").click()
        expect(page.locator("#id_password_error")).to_be_visible()
        checker.check("staff-error")
        page.get_by_label("Initial password").fill("a-Long-pass-phrase-7")
        page.get_by_role("button", name="Add login").click()
        expect(page.locator(".messages")).to_contain_text("Login dr-browser added.")
        row = page.locator("tr", has_text="dr-browser")
        row.get_by_role("button", name="Reset password").click()
        temporary = page.locator("code.secret").inner_text()
        assert len(temporary) >= 12
        checker.check("staff-reset")
        page.locator("tr", has_text="dr-browser").get_by_role("button", name="Deactivate").click()
        expect(page.locator("tr", has_text="dr-browser")).to_contain_text("deactivated")

        # Clinic settings: an impossible threshold, then MADRS remission at or below 12.
        page.get_by_role("link", name="Clinic settings").click()
        checker.check("settings")
        page.get_by_label("MADRS: remission at or below").fill("61")
        page.get_by_role("button", name="Save settings").click()
        expect(page.locator("#id_madrs__remission_max_error")).to_be_visible()
        checker.check("settings-error")
        page.get_by_label("MADRS: remission at or below").fill("12")
        page.get_by_label("Time zone").select_option("Pacific/Kiritimati")
        page.get_by_role("button", name="Save settings").click()
        expect(page.locator(".messages")).to_contain_text("Clinic settings saved")
        expect(page.get_by_label("MADRS: remission at or below")).to_have_value("12")
        expect(page.get_by_label("Time zone")).to_have_value("Pacific/Kiritimati")
        expect(page.locator(".page-foot")).to_contain_text("Times in Pacific/Kiritimati.")
        checker.check("settings-timezone")
        # Crisis resources: a bad row is named, then the clinic's Spanish lines are saved.
        page.get_by_label("Country (two letters)").fill("ES")
        page.get_by_label("Crisis lines (Español)").fill("Línea 024 | 024\nLínea de la clínica | llámenos")
        page.get_by_role("button", name="Save crisis resources").click()
        expect(page.locator("#id_es_lines_error")).to_contain_text("Row 2: A phone number")
        checker.check("crisis-error")
        page.get_by_label("Crisis lines (Español)").fill("Línea 024 | 024\nLínea de la clínica | 910 000 000")
        page.get_by_role("button", name="Save crisis resources").click()
        expect(page.locator(".messages")).to_contain_text("Crisis resources saved.")
        expect(page.get_by_label("Crisis lines (Español)")).to_have_value(
            "Línea 024 | 024\nLínea de la clínica | 910 000 000"
        )

        # Reports: the CSV, a zip of two payer reports, then the same two in one combined PDF.
        page.get_by_role("link", name="Reports").click()
        checker.check("reports")
        with page.expect_download() as csv_download:
            page.get_by_role("button", name="Download CSV").click()
        assert csv_download.value.suggested_filename == "response-report.csv"
        page.get_by_label("Avery Example").check()
        page.get_by_label("Blake Sample").check()
        page.get_by_label("one PDF each (zip)").check()
        with page.expect_download() as zip_download:
            page.get_by_role("button", name="Download reports").click()
        zipped = tmp_path / "reports.zip"
        zip_download.value.save_as(zipped)
        assert len(zipfile.ZipFile(zipped).namelist()) == 2
        page.get_by_label("one combined PDF").check()
        checker.check("reports-combined")
        with page.expect_download() as pdf_download:
            page.get_by_role("button", name="Download reports").click()
        assert pdf_download.value.suggested_filename.endswith(".pdf")
        combined = tmp_path / "reports.pdf"
        pdf_download.value.save_as(combined)
        cover = pdf_pages(combined.read_bytes())[0]
        text = " ".join(cover)
        assert text.index("Avery Example") < text.index("Blake Sample")

        # Clinic outcomes: the stored cohort's picture, the shares, the patients off track.
        page.get_by_role("link", name="Clinic outcomes").click()
        charts = page.locator(".cohort-chart img")
        assert charts.count() >= 2
        for i in range(charts.count()):
            expect(charts.nth(i)).to_have_js_property("complete", True)
            assert charts.nth(i).evaluate("img => img.naturalWidth") > 0, f"cohort chart {i} did not load"
        expect(page.locator("#shares-title")).to_be_visible()
        checker.check("outcomes")
        browser.close()

    assert not checker.violations, checker.violations
    assert all(path.stat().st_size > 5_000 for path in checker.shots)
    assert not User.objects.get(username="dr-browser").is_active
    assert Clinic.objects.get(pk=world.clinic.pk).scoring_options["madrs"] == {"remission_max": 12}
    assert Clinic.objects.get(pk=world.clinic.pk).timezone == "Pacific/Kiritimati"
    assert not Notice.objects.filter(clinic=world.clinic, read_at__isnull=True).exists()
    assert AuditEvent.objects.filter(action="web.report.pdf", actor=world.admin).count() == 4  # zip, combined


def test_clinician_reads_the_inbox_and_is_kept_out_of_admin_pages(live_server: Any) -> None:
    world, _ = clinic_with_patients()
    recompute_all(clinic_id=world.clinic.pk)
    notice = Notice.objects.filter(clinic=world.clinic).first()
    assert notice is not None
    base = live_server.url
    expect = sync_api.expect

    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        checker = Checker(page)
        _login(page, base, world.clinician.username)
        expect(page.get_by_role("link", name="Staff")).to_have_count(0)
        page.get_by_role("link", name="Notices").click()
        page.locator(f'tr[data-notice="{notice.pk}"]').get_by_role("button", name="Mark read").click()
        expect(page.locator(".messages")).to_contain_text("Notice marked read.")
        checker.check("notices-clinician")
        response = page.goto(f"{base}/clinic/staff/")
        assert response is not None and response.status == 403
        checker.check("forbidden")
        # The list with a filter it cannot read says so beside the filter.
        page.goto(f"{base}/patients/?signal=bogus")
        expect(page.locator("main")).to_contain_text("Select a valid choice")
        checker.check("list-filter-error")
        browser.close()

    assert not checker.violations, checker.violations
    notice.refresh_from_db()
    assert notice.read_at is not None
