"""Issue 20 in a real browser: a Meta Ads Manager export (rows over Feb 1 – Aug 4 2025, in INR) and a
Google Ads UI report (a range in 2026, in GBP) added on the Data page; every analysis page renders
without a traceback (Overview and Campaigns used to crash with ColumnNotFoundError 'date'), Spend is
refused with the reason until a GBP rate is given on the Workspaces page, then is their sum."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from kpi.sources.files import read_file
from kpi.sources.importer import import_raw, resolve
from tests.e2e.conftest import StreamlitServer, metric_values, screenshot, select_option, wait_idle
from tests.e2e.test_upload_browser import set_date

pytestmark = pytest.mark.e2e
META = "meta_ads_manager_exports/Teefusion_Untitled-report-Feb-1-2025-to-Aug-4-2025_Age.csv"
GOOGLE_ADS = "google_ads_ui_exports/DanielTheC_Campaign report (1)_GBP.csv"
PAGES = ("Overview", "Funnel", "Campaigns & initiatives", "Segments", "KPIs", "Review")


def add(page: object, path: Path) -> None:
    # the confirmation naming this file: a bare "Added " also matches the page's intro ("before anything is
    # added"), and a click lost in a rerun under load then went unnoticed and the upload was never added
    added = re.compile(rf"^Added [\d,]+ rows? from {re.escape(path.name)} to ")
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').first.set_input_files(str(path))  # type: ignore[attr-defined]
    page.wait_for_timeout(1500)  # type: ignore[attr-defined]
    wait_idle(page, timeout=120_000)
    for _ in range(3):  # a click during a rerun can land on the old button: click again
        page.get_by_role("button", name="Add to workspace").click(timeout=120_000)  # type: ignore[attr-defined]
        try:
            page.get_by_text(added).first.wait_for(timeout=40_000)  # type: ignore[attr-defined]
            return
        except PlaywrightTimeout:
            continue
    raise AssertionError(f"{path.name} was never added")


def no_exception(page: object, where: str) -> None:
    shown = page.locator('[data-testid="stException"]')  # type: ignore[attr-defined]
    assert shown.count() == 0, f"{where}: {shown.first.inner_text()[:500]}"


def test_range_exports_in_two_currencies(app_server: StreamlitServer, browser: object, shared_dir: Path) -> None:
    files = [shared_dir / "real-exports" / name for name in (META, GOOGLE_ADS)]
    frames = [import_raw(raw, resolve(raw)[0]).frame for raw in map(read_file, files)]
    inr, gbp = (f["spend"].sum() for f in frames)  # the corpus test checks these sums against the csv module
    page = browser.new_page(viewport={"width": 1440, "height": 2200}, locale="en-GB")  # type: ignore[attr-defined]
    page.goto(f"{app_server.url}/data")
    page.wait_for_selector('[data-testid="stFileUploaderDropzoneInput"]', state="attached", timeout=60_000)
    for path in files:
        add(page, path)
    page.get_by_role("link", name="Overview").click()
    wait_idle(page)
    select_option(page, "Period", "Custom")
    set_date(page, "From", "20250101")
    set_date(page, "To", "20260630")
    for name in PAGES:
        page.get_by_role("link", name=name, exact=True).click()
        wait_idle(page, ready='[data-testid="stHeading"]')
        no_exception(page, name)
        screenshot(page, f"range-currency-{name.split()[0].lower()}")
    page.get_by_role("link", name="Overview").click()
    wait_idle(page)
    warning = page.locator('[data-testid="stAlert"]').filter(has_text="has no rate").first.inner_text()
    assert "GBP" in warning and "INR" in warning
    assert metric_values(page)["Spend"] == "–"

    page.get_by_role("link", name="Workspaces & links").click()
    wait_idle(page, ready='[data-testid="stForm"]')
    rate = page.get_by_role("spinbutton", name="INR per 1 GBP")
    rate.fill("110")
    rate.press("Tab")
    page.get_by_role("button", name="Save currency settings").click()
    page.get_by_text("Currency settings saved.").wait_for(timeout=60_000)
    screenshot(page, "range-currency-workspaces")
    page.get_by_role("link", name="Overview").click()
    wait_idle(page)
    no_exception(page, "Overview with a rate")
    assert page.locator('[data-testid="stAlert"]').filter(has_text="has no rate").count() == 0
    spend = metric_values(page)["Spend"].replace("\u00a0", "").replace(" ", "")
    screenshot(page, "range-currency-overview-converted")
    expected = inr + gbp * 110  # INR on the Meta rows plus GBP converted at 110 INR per GBP
    assert spend == f"₹{expected / 1000:,.1f}k", (spend, expected)
    page.close()
