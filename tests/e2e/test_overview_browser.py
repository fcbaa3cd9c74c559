"""The app in a real Chromium against `streamlit run`: filters in the URL, click to filter, languages."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import (
    StreamlitServer,
    click_longest_bar,
    metric_values,
    open_fresh,
    query,
    screenshot,
    select_option,
)

pytestmark = pytest.mark.e2e
VIEWPORT = {"width": 1440, "height": 2200}


def test_period_and_click_filter_live_in_the_url_and_reopen_the_same(app_server: StreamlitServer,
                                                                      browser: object) -> None:
    page = open_fresh(browser, app_server.url, VIEWPORT)
    before = metric_values(page)
    select_option(page, "Period", "Last 12 months")
    page.wait_for_function("() => location.search.includes('period=last_12_months')")
    after_period = metric_values(page)
    assert after_period["Leads"] != before["Leads"]

    # click the best initiative's bar: the top bar of the first initiative ranking (an SVG mark)
    chart = page.locator('[data-testid="stVegaLiteChart"]').filter(has_text="Best").first
    click_longest_bar(page, chart, "initiative")
    params = query(page)
    assert params["period"] == ["last_12_months"] and len(params["initiative"]) == 1
    filtered = metric_values(page)
    assert filtered["Leads"] != after_period["Leads"]
    assert page.get_by_text(f"Initiative: {params['initiative'][0]}").count() >= 1  # the filter chip
    screenshot(page, "overview-filtered")
    url = page.url
    page.context.close()

    again = open_fresh(browser, url, VIEWPORT)
    assert metric_values(again) == filtered
    again.context.close()


def test_language_switch_to_swedish_and_russian(app_server: StreamlitServer, browser: object) -> None:
    page = open_fresh(browser, app_server.url, VIEWPORT)
    english = metric_values(page)
    select_option(page, "Language", "Svenska")
    swedish = metric_values(page)
    assert "Vunna affärer" in swedish and "Översikt" in page.locator("h1").first.inner_text()
    assert swedish["Vunna affärer"] == english["Won deals"]
    assert query(page)["lang"] == ["sv"]
    assert page.get_by_role("combobox", name="Period", exact=True).input_value() == "Senaste 90 dagarna"
    assert page.get_by_role("combobox", name="Jämför med", exact=True).input_value() == "Föregående period"
    screenshot(page, "overview-sv")
    select_option(page, "Språk", "Русский")
    russian = metric_values(page)
    assert "Выигранные сделки" in russian and "Обзор" in page.locator("h1").first.inner_text()
    assert russian["Лиды"].replace("\u00a0", " ").replace("\u202f", " ") == english["Leads"].replace(",", " ")
    screenshot(page, "overview-ru")
    page.context.close()


PAGES = ["overview", "funnel", "events", "campaigns", "attribution", "segments", "kpis", "review", "data", "workspaces"]


@pytest.mark.parametrize("path", PAGES)
def test_every_page_renders_in_the_browser(app_server: StreamlitServer, browser: object, path: str) -> None:
    page = browser.new_page(viewport=VIEWPORT, locale="en-GB")  # type: ignore[attr-defined]
    page.goto(f"{app_server.url}/{path}" if path != "overview" else app_server.url)
    page.wait_for_selector('[data-testid="stMain"] h1', timeout=60_000)
    page.wait_for_timeout(2500)
    assert page.locator('[data-testid="stException"]').count() == 0
    screenshot(page, f"page-{path}")
    page.close()
