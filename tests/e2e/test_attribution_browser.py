"""The Attribution page in a real Chromium: the model picked on the page goes into the address and reopens the
same view; clicking a channel's bar filters every page by it; English, Swedish and Russian at desktop and
phone width, with screenshots (artifacts/screenshots/attribution-*.png)."""

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
DESKTOP, PHONE = {"width": 1400, "height": 1000}, {"width": 390, "height": 900}


def test_the_model_and_a_clicked_channel_live_in_the_address(app_server: StreamlitServer, browser: object) -> None:
    page = open_fresh(browser, f"{app_server.url}/attribution", DESKTOP)
    assert page.locator("h1").first.inner_text() == "Attribution"  # type: ignore[attr-defined]
    select_option(page, "Attribution model", "First touch")
    page.wait_for_function("() => location.search.includes('model=first')")  # type: ignore[attr-defined]
    assert page.get_by_text("All credit to the first touch").count() >= 1  # type: ignore[attr-defined]
    total = metric_values(page)["Conversions credited"]

    chart = page.locator('[data-testid="stVegaLiteChart"]').first  # type: ignore[attr-defined]
    click_longest_bar(page, chart, "channel")
    params = query(page)
    assert params["model"] == ["first"] and len(params["channel"]) == 1
    filtered = metric_values(page)["Conversions credited"]
    assert int(filtered.replace(",", "")) < int(total.replace(",", ""))  # only the leads of that channel
    assert page.get_by_text("spend is not recorded per lead").count() >= 1  # type: ignore[attr-defined]
    url = page.url  # type: ignore[attr-defined]
    page.context.close()  # type: ignore[attr-defined]

    again = open_fresh(browser, url, DESKTOP)
    assert metric_values(again)["Conversions credited"] == filtered
    assert again.get_by_role("combobox", name="Attribution model", exact=True).input_value() == "First touch"  # type: ignore[attr-defined]
    again.context.close()  # type: ignore[attr-defined]


@pytest.mark.parametrize(("lang", "title", "model"), [("en", "Attribution", "Linear"),
                                                      ("sv", "Attribuering", "Linjär"),
                                                      ("ru", "Атрибуция", "Линейная")])
def test_the_page_in_each_language_at_desktop_and_phone_width(app_server: StreamlitServer, browser: object,
                                                              lang: str, title: str, model: str) -> None:
    for name, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        page = open_fresh(browser, f"{app_server.url}/attribution?lang={lang}", viewport)
        assert page.locator("h1").first.inner_text() == title  # type: ignore[attr-defined]
        assert page.locator('[data-testid="stException"]').count() == 0  # type: ignore[attr-defined]
        picker = page.locator('[data-testid="stMainBlockContainer"] [data-testid="stSelectbox"] input').first  # type: ignore[attr-defined]
        assert picker.input_value() == model
        chart = page.locator('[data-testid="stVegaLiteChart"]').first  # type: ignore[attr-defined]
        chart.scroll_into_view_if_needed()
        page.wait_for_timeout(1200)  # type: ignore[attr-defined]
        main = page.locator('[data-testid="stMainBlockContainer"]').bounding_box()  # type: ignore[attr-defined]
        box = chart.bounding_box()
        assert box is not None and main is not None and box["x"] + box["width"] <= main["x"] + main["width"] + 1
        screenshot(page, f"attribution-{lang}-{name}")
        page.context.close()  # type: ignore[attr-defined]
