"""The Event funnels page in a real Chromium on the demo workspace: a funnel opened from a link shows the persons
an independent count gives (a join of each form submit to the person's latest page view), in en, sv and ru at a
desktop and a phone width; changing the order goes back into the address. And a PostHog export uploaded on the
Data page, built into a funnel with a property filter."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from urllib.parse import quote

import polars as pl
import pytest

from kpi import clock
from kpi.journeys import EventQuestion
from kpi.period import preset
from kpi.sources.demo import generate
from tests.conftest import REPO
from tests.e2e.conftest import StreamlitServer, metric_values, open_fresh, query, screenshot, select_option, wait_idle
from tests.e2e.test_range_currency_browser import add, no_exception
from tests.e2e.test_upload_browser import set_date
from ui import format as fmt
from ui.i18n import t

pytestmark = pytest.mark.e2e
SLOW = 120_000  # ms: the first run seeds the demo and fills the caches, on a busy machine
WINDOW = timedelta(days=14)
FUNNEL = EventQuestion(("page_view", "form_submit"), window="14d")


@pytest.fixture(scope="module")
def expected() -> tuple[int, int]:
    """Persons with a page view in the last 30 days, and those of them whose form submit came at most 14 days
    after a page view of theirs (both in the period): counted with an as-of join, not the app's engine."""
    today = clock.today()  # the demo's last day: its leads are created up to today
    period = preset("last_30_days", today)
    start, end = datetime.combine(period.start, time()), datetime.combine(period.end + timedelta(days=1), time())
    events = generate(today=today)["events"].filter(pl.col("timestamp").is_between(start, end, closed="left"))
    views = events.filter(pl.col("event") == "page_view").select("user_id", "timestamp").sort("timestamp")
    submits = events.filter(pl.col("event") == "form_submit").select("user_id", pl.col("timestamp").alias("t1"))
    joined = submits.sort("t1").join_asof(views.rename({"timestamp": "t0"}), left_on="t1", right_on="t0",
                                          by="user_id", strategy="backward", check_sortedness=False)  # by time
    converted = joined.filter(pl.col("t0").is_not_null() & (pl.col("t1") - pl.col("t0") <= WINDOW))
    return views["user_id"].n_unique(), converted["user_id"].n_unique()


@pytest.mark.parametrize(("lang", "width"), [("en", 1400), ("sv", 1400), ("ru", 1400), ("en", 390)])
def test_a_linked_funnel_shows_the_independent_counts(app_server: StreamlitServer, browser: object,
                                                      expected: tuple[int, int], lang: str, width: int) -> None:
    url = f"{app_server.url}/events?lang={lang}&period=last_30_days&funnel={quote(FUNNEL.encode())}"
    page = open_fresh(browser, url, {"width": width, "height": 2400}, timeout=SLOW)  # type: ignore[arg-type]
    wait_idle(page, timeout=SLOW, ready='[data-testid="stMetric"]')
    assert page.locator('[data-testid="stException"]').count() == 0  # type: ignore[attr-defined]
    cards = metric_values(page)
    entered, converted = expected
    assert cards[t("events.entered", lang)] == fmt.number(entered, lang)
    assert cards[t("events.converted", lang)] == fmt.number(converted, lang)
    assert page.get_by_text(t("events.journey", lang)).count() >= 1  # type: ignore[attr-defined]
    screenshot(page, f"events-link-{lang}-{width}")
    if lang == "en" and width == 1400:
        select_option(page, t("events.order", lang), t("events.order.unordered", lang))
        wait_idle(page, timeout=SLOW, ready='[data-testid="stMetric"]')
        page.wait_for_function(  # type: ignore[attr-defined]
            "() => decodeURIComponent(location.search).includes('\"order\":\"unordered\"')", timeout=SLOW)
        assert '"unordered"' in query(page)["funnel"][0]
    page.context.close()  # type: ignore[attr-defined]


def test_an_uploaded_posthog_export_is_built_into_a_funnel(app_server: StreamlitServer, browser: object) -> None:
    """tests/fixtures/events/posthog_events.csv (its README says who does what), March 2025: eleven persons view a
    page (A, B, C, P1..P8); A identifies and then requests a demo. Ten of them view /pricing (all but C)."""
    page = browser.new_page(viewport={"width": 1440, "height": 2400}, locale="en-GB")  # type: ignore[attr-defined]
    page.goto(f"{app_server.url}/data")
    page.wait_for_selector('[data-testid="stFileUploaderDropzoneInput"]', state="attached", timeout=60_000)
    add(page, REPO / "tests" / "fixtures" / "events" / "posthog_events.csv")
    page.get_by_role("link", name="Event funnels").click()
    wait_idle(page)
    select_option(page, "Period", "Custom")
    set_date(page, "From", "20250301")
    set_date(page, "To", "20250331")
    no_exception(page, "Event funnels")
    assert metric_values(page)["Entered the funnel"] == "11"  # the first funnel: $pageview -> $identify
    select_option(page, "Step 2", "demo_requested")
    page.get_by_role("combobox", name="only where", exact=True).first.click()
    page.get_by_role("option", name="pathname", exact=True).click()
    wait_idle(page)
    select_option(page, "is", "/pricing")
    cards = metric_values(page)
    assert cards["Entered the funnel"] == "10" and cards["Reached the last step"] == "1"
    screenshot(page, "events-posthog-upload")
    page.close()  # type: ignore[attr-defined]
