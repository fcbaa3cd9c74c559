"""The sidebar's "Download summary (PDF)" in a real Chromium against `streamlit run`: the click downloads a PDF
(made by the server on the click) that holds the numbers the page's KPI cards show."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader

from tests.e2e.conftest import StreamlitServer, metric_values, open_fresh, screenshot

pytestmark = pytest.mark.e2e
VIEWPORT = {"width": 1440, "height": 2200}


def test_the_button_downloads_the_view_s_summary(app_server: StreamlitServer, browser: object) -> None:
    page = open_fresh(browser, f"{app_server.url}?period=last_12_months&channel=Email", VIEWPORT)
    cards = metric_values(page)
    button = page.get_by_role("button", name="Download summary (PDF)")  # type: ignore[attr-defined]
    assert button.count() == 1
    with page.expect_download(timeout=180_000) as info:  # type: ignore[attr-defined]
        button.click()
    download = info.value
    assert download.suggested_filename.startswith("summary-") and download.suggested_filename.endswith("-en.pdf")
    with open(download.path(), "rb") as fh:
        pdf = fh.read()
    reader = PdfReader(io.BytesIO(pdf))
    text = " ".join(" ".join(p.extract_text() for p in reader.pages).replace("\u202f", " ").split())
    assert "Channel: Email" in text  # the view's filter
    for label in ("Leads", "MQL", "Spend"):
        assert f"{label} {cards[label]} " in text, (label, cards[label])  # as the card writes it
    screenshot(page, "summary-button")
    page.context.close()
