"""Uploads in a real browser: a Swedish `;`/decimal-comma Google Ads export and a cp1251 amoCRM export,
confirmed on the Data page, then their numbers on the Overview."""

from __future__ import annotations

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from tests.conftest import REPO
from tests.e2e.conftest import StreamlitServer, metric_values, screenshot, select_option, wait_idle

pytestmark = pytest.mark.e2e
FIX = REPO / "tests" / "fixtures" / "uploads"


def upload_and_confirm(page: object, name: str, added: str) -> None:
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').first.set_input_files(str(FIX / name))  # type: ignore[attr-defined]
    page.wait_for_timeout(1500)  # type: ignore[attr-defined]  # let the rerun for the new file start
    wait_idle(page, timeout=120_000)
    try:
        for _ in range(3):  # a click during a rerun can land on the old button: click again
            page.get_by_role("button", name="Add to workspace").click(timeout=120_000)  # type: ignore[attr-defined]
            try:
                page.get_by_text(added).first.wait_for(timeout=40_000)  # type: ignore[attr-defined]
                return
            except PlaywrightTimeout:
                continue
        raise AssertionError(f"'{added}' never appeared after confirming {name}")
    finally:
        screenshot(page, f"data-upload-{name}")


def set_date(page: object, label: str, value: str) -> None:
    """Type a date (YYYYMMDD) into Streamlit's segmented date field labelled `label`."""
    field = page.get_by_role("group", name=label, exact=True)  # type: ignore[attr-defined]
    field.get_by_role("spinbutton").first.click()
    page.keyboard.type(value)  # type: ignore[attr-defined]
    page.keyboard.press("Escape")  # type: ignore[attr-defined]
    page.mouse.click(5, 5)  # type: ignore[attr-defined]  # leave the field: Streamlit commits on blur
    wait_idle(page)


def test_swedish_and_cp1251_uploads_reach_the_overview(app_server: StreamlitServer, browser: object) -> None:
    page = browser.new_page(viewport={"width": 1440, "height": 2000}, locale="en-GB")  # type: ignore[attr-defined]
    page.goto(f"{app_server.url}/data")
    page.wait_for_selector('[data-testid="stFileUploaderDropzoneInput"]', state="attached", timeout=60_000)
    upload_and_confirm(page, "swedish_google_ads_daily.csv", "Added 3 rows")
    screenshot(page, "data-swedish-upload")
    upload_and_confirm(page, "amocrm_leads_cp1251.csv", "Added 4 rows")
    screenshot(page, "data-cp1251-upload")

    page.get_by_role("link", name="Overview").click()
    wait_idle(page)
    select_option(page, "Period", "Custom")
    set_date(page, "From", "20250201")
    set_date(page, "To", "20250331")
    values = metric_values(page)
    screenshot(page, "overview-uploads")
    # hand-worked from the fixtures: 4 leads created 3–6 Feb 2025, 2 of them won; spend
    # 1 234,50 + 310,25 + 1 500,00 SEK on the accepted rows
    assert values["Leads"] == "4" and values["Won deals"] == "2"
    assert values["Spend"].replace("\u00a0", "").replace(" ", "") == "SEK3,045"  # the uploads' currency
    page.close()
