"""The Overview in a real Chromium against `streamlit run`."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import StreamlitServer, screenshot, wait_idle

pytestmark = pytest.mark.e2e


def metric_values(page: object) -> dict[str, str]:
    cards = page.locator('[data-testid="stMetric"]')  # type: ignore[attr-defined]
    out = {}
    for i in range(cards.count()):
        card = cards.nth(i)
        out[card.locator('[data-testid="stMetricLabel"]').inner_text().strip()] = card.locator(
            '[data-testid="stMetricValue"]').inner_text().strip()
    return out


def test_overview_shows_demo_kpis(app_server: StreamlitServer, browser: object) -> None:
    page = browser.new_page(viewport={"width": 1400, "height": 1000}, locale="en-GB")  # type: ignore[attr-defined]
    page.goto(app_server.url)
    wait_idle(page)
    values = metric_values(page)
    screenshot(page, "overview-en")
    assert "Leads" in values and values["Leads"] not in ("", "–")
    page.close()
