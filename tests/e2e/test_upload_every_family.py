"""Every export family of the real-exports corpus, uploaded through the Data page in a real browser and
confirmed, then every page of the app visited with that upload on screen: no page may show a traceback.

One browser context (one Streamlit session) per family, so each family's upload is alone in its session, and
one more with two ad platforms in two currencies and a CRM uploaded together.
The rows the page must report as added are counted from the file with the csv module (a different parser)
minus the rows SOURCE.txt says are not data (Meta's account-total row, amoCRM's row without an ID, the one
Olist deal won before its lead's first contact), never read back from the importer.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from tests.corpus.test_real_exports import csv_rows, profile
from tests.e2e.conftest import StreamlitServer, screenshot, wait_idle
from ui import navigation

pytestmark = pytest.mark.e2e
DESKTOP = {"width": 1440, "height": 900}
PAGES = len(navigation.PAGES)  # app.py's navigation without a shared link: every page
#: Drawn once a page's script has run: its title, or the traceback that stopped it.
PAGE_READY = '[data-testid="stMain"] h1, [data-testid="stException"]'
CRASH = '[data-testid="stException"]'


@dataclass(frozen=True)
class Family:
    id: str
    folder: str
    file: str
    not_data: int = 0  # rows the csv module reads that SOURCE.txt says are not data
    join: str | None = None  # a second file the Data page joins to the first
    period: tuple[str, str] | None = None  # YYYYMMDD: the period typed in when the file states none

    def expected_rows(self, shared: Path) -> int:
        folder = shared / "real-exports" / self.folder
        _, rows = csv_rows(folder / self.file, profile(folder, self.file))
        return len(rows) - self.not_data


FAMILIES = [
    Family("meta", "meta_ads_manager_exports", "Teefusion_Untitled-report-Feb-1-2025-to-Aug-4-2025_Age.csv",
           not_data=1),  # the account-total first row
    Family("google-ads-ui", "google_ads_ui_exports", "1123alberto_Campaign_report_EUR_greek.csv"),
    Family("google-ads-ui-utf16", "google_ads_ui_exports_utf16", "DanielTheC_Campaign report_GBP.csv"),
    Family("ga4", "ga4_report_exports", "Teefusion_Landing_page_Landing_page.csv"),
    Family("amocrm", "amocrm_export_anonymized", "amocrm_leads_test.csv", not_data=1),  # the row without an ID
    Family("hubspot", "hubspot_contacts_export_redacted", "all-contacts_REDACTED.csv"),
    Family("olist", "olist_marketing_funnel", "olist_marketing_qualified_leads_dataset.csv", not_data=1,
           join="olist_closed_deals_dataset.csv"),  # one deal won before the lead's first contact
    Family("kag", "fb_kag_conversion", "KAG_conversion_data.csv", period=("20250101", "20250131")),
    Family("search-console", "google_search_console_export", "DanielTheC_Chart_daily_2025.csv"),
]


def crash_text(page: object) -> str | None:
    """The first traceback the page shows, if any."""
    crashes = page.locator(CRASH)  # type: ignore[attr-defined]
    if crashes.count():
        return str(crashes.first.inner_text())[:600]
    main = str(page.locator('[data-testid="stMain"]').inner_text())  # type: ignore[attr-defined]
    return main[main.index("Traceback"):][:600] if "Traceback (most recent call last)" in main else None


def set_period(page: object, start: str, end: str) -> None:
    """Type a range into the 'Period the rows cover' date input (YYYYMMDD each)."""
    parts = page.get_by_role("group", name="Period the rows cover").get_by_role("spinbutton")  # type: ignore[attr-defined]
    for first_part, value in ((0, start), (3, end)):  # year, month, day of the start, then of the end
        parts.nth(first_part).click()
        page.keyboard.type(value)  # type: ignore[attr-defined]
    page.keyboard.press("Escape")  # type: ignore[attr-defined]
    page.mouse.click(5, 5)  # type: ignore[attr-defined]  # leave the field: Streamlit commits on blur
    wait_idle(page, timeout=60_000, ready=PAGE_READY)


def upload(page: object, family: Family, folder: Path) -> None:
    """Put the family's file (and its second file) on the Data page, ready to confirm."""
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').first.set_input_files(  # type: ignore[attr-defined]
        str(folder / family.file))
    page.wait_for_timeout(1500)  # type: ignore[attr-defined]  # the new file's rerun starts; an earlier report is gone
    page.get_by_role("button", name="Add to workspace").or_(  # type: ignore[attr-defined]
        page.locator('[data-testid="stAlert"]')).first.wait_for(timeout=120_000)
    wait_idle(page, timeout=120_000, ready=PAGE_READY)
    if family.join:
        page.get_by_text("Join with a second file").click()  # type: ignore[attr-defined]
        page.locator('[data-testid="stFileUploaderDropzoneInput"]').nth(1).set_input_files(  # type: ignore[attr-defined]
            str(folder / family.join))
        page.get_by_text("joined").first.wait_for(timeout=120_000)  # type: ignore[attr-defined]
        wait_idle(page, timeout=120_000, ready=PAGE_READY)
    if family.period:
        set_period(page, *family.period)


def confirm(page: object, family: Family, rows: int) -> None:
    added = f"Added {rows:,} {'row' if rows == 1 else 'rows'} from {family.file}"
    button = page.get_by_role("button", name="Add to workspace")  # type: ignore[attr-defined]
    if not button.count():
        refusal = page.locator('[data-testid="stAlert"]')  # type: ignore[attr-defined]
        reason = refusal.first.inner_text() if refusal.count() else "no report"
        raise AssertionError(f"{family.id}: the Data page did not accept {family.file}: {reason}")
    for _ in range(3):  # a click during a rerun can land on the old button: click again
        button.click(timeout=60_000)
        try:
            page.get_by_text(added).first.wait_for(timeout=20_000)  # type: ignore[attr-defined]
            return
        except PlaywrightTimeout:
            continue
    raise AssertionError(f"{family.id}: '{added}' never appeared after confirming {family.file}")


BY_ID = {f.id: f for f in FAMILIES}
#: Each family alone in its session, then ad platforms in two currencies (INR, EUR) with a CRM together
CASES = [(f.id, (f,)) for f in FAMILIES] + [
    ("together", tuple(BY_ID[i] for i in ("meta", "google-ads-ui", "amocrm")))]


@pytest.mark.parametrize(("case", "families"), CASES, ids=[c for c, _ in CASES])
def test_upload_then_every_page(app_server: StreamlitServer, browser: object, shared_dir: Path, case: str,
                                families: tuple[Family, ...]) -> None:
    context = browser.new_context(viewport=DESKTOP, locale="en-GB")  # type: ignore[attr-defined]
    page = context.new_page()
    try:
        page.goto(f"{app_server.url}/data")
        page.wait_for_selector('[data-testid="stFileUploaderDropzoneInput"]', state="attached", timeout=60_000)
        for family in families:
            upload(page, family, shared_dir / "real-exports" / family.folder)
            screenshot(page, f"family-{case}-upload-{family.id}")
            assert crash_text(page) is None, f"{case}: the Data page crashed on the upload of {family.file}"
            confirm(page, family, family.expected_rows(shared_dir))

        links = page.locator('[data-testid="stSidebarNavLink"]')
        paths = [urlparse(str(links.nth(i).get_attribute("href"))).path.strip("/") or "overview"
                 for i in range(links.count())]
        assert len(paths) == PAGES, paths
        crashes: dict[str, str] = {}
        for i, path in enumerate(paths):
            links.nth(i).click()  # a click keeps the session (and the upload); page.goto would start a new one
            page.wait_for_timeout(600)
            wait_idle(page, timeout=90_000, ready=PAGE_READY)
            screenshot(page, f"family-{case}-{path}")
            found = crash_text(page)
            if found:
                crashes[path] = found
        assert not crashes, f"{case} crashed on {sorted(crashes)}:\n" + "\n---\n".join(
            f"{p}: {text}" for p, text in crashes.items())
    finally:
        context.close()


def test_hubspot_contacts_as_leads_and_as_touches_feed_the_attribution_page(app_server: StreamlitServer,
                                                                            browser: object,
                                                                            shared_dir: Path) -> None:
    """The real HubSpot export uploaded twice: as leads (recognised), then as touches derived from its source
    fields (the format picked by hand); the Attribution page then credits the leads and says the touches
    are derived."""
    hubspot = BY_ID["hubspot"]
    folder = shared_dir / "real-exports" / hubspot.folder
    context = browser.new_context(viewport=DESKTOP, locale="en-GB")  # type: ignore[attr-defined]
    page = context.new_page()
    try:
        page.goto(f"{app_server.url}/data")
        page.wait_for_selector('[data-testid="stFileUploaderDropzoneInput"]', state="attached", timeout=60_000)
        upload(page, hubspot, folder)
        confirm(page, hubspot, hubspot.expected_rows(shared_dir))
        upload(page, hubspot, folder)
        page.get_by_role("combobox", name="Format", exact=True).click()
        page.keyboard.type("HubSpot touches")  # the list is long: filter it as a person would
        page.get_by_role("option", name="HubSpot touches (original/latest source)", exact=True).click()
        wait_idle(page, timeout=120_000, ready=PAGE_READY)
        assert crash_text(page) is None
        page.get_by_role("button", name="Add to workspace").click(timeout=60_000)
        page.get_by_text(f"from {hubspot.file} to Touches").first.wait_for(timeout=60_000)

        page.locator('[data-testid="stSidebarNavLink"][href$="/attribution"]').click()
        wait_idle(page, timeout=90_000, ready=PAGE_READY)
        screenshot(page, "family-hubspot-touches-attribution")
        assert crash_text(page) is None
        assert page.get_by_text("Some touches are derived from source fields").count() == 1
        credited = page.locator('[data-testid="stMetric"]').filter(has_text="Conversions credited")
        assert int(credited.locator('[data-testid="stMetricValue"]').inner_text().replace(",", "")) > 0
    finally:
        context.close()
