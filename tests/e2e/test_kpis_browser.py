"""The KPI page in a real browser: build a two-level tree (a goal and one KPI) in a new workspace with the
forms, set a target and see the status go from "no target" to on track, then to off track; then add a rate
KPI whose target and warning line are typed in percent.

The KPI's value is counted by hand from the same leads (created this quarter up to the data's last day).
"""

from __future__ import annotations

from datetime import datetime, timedelta

import polars as pl
import pytest

from kpi import clock
from kpi.sources.demo import generate
from kpi.store import Store
from kpi.targets import target_period
from tests.e2e.conftest import StreamlitServer, metric_values, open_fresh, screenshot, wait_idle

pytestmark = pytest.mark.e2e
VIEWPORT = {"width": 1440, "height": 1800}
TODAY = clock.today()
QUARTER = f"{TODAY.year}-Q{(TODAY.month - 1) // 3 + 1}"


@pytest.fixture(scope="module")
def workspace(app_server: StreamlitServer) -> tuple[str, int]:
    """A new workspace with a tenth of the demo's data and no KPIs, saved by another process as the app
    would; returns its id and the leads created this quarter so far."""
    tables = generate(today=TODAY, scale=0.1)
    store = Store(app_server.data_dir)
    created = store.create_workspace("E2E KPI tree")
    for name in ("leads", "spend", "traffic"):
        store.save(created.id, name, tables[name], source="demo generator, scale 0.1")
    start = datetime.combine(target_period(QUARTER).start, datetime.min.time())
    end = datetime.combine(TODAY + timedelta(days=1), datetime.min.time())
    leads = tables["leads"].filter((pl.col("created_at") >= start) & (pl.col("created_at") < end)).height
    return created.id, leads


def open_tab(page: object, name: str) -> None:
    page.get_by_role("tab", name=name, exact=True).click()  # type: ignore[attr-defined]
    page.wait_for_timeout(300)  # type: ignore[attr-defined]


def open_scorecards(page: object) -> None:
    """The Scorecards tab once its cards are drawn (the first forecast of a server imports statsmodels,
    which can take a few seconds after the rerun's first elements show)."""
    open_tab(page, "Scorecards")
    page.locator('[data-testid="stTabPanel"]:visible [data-testid="stMetric"]').first.wait_for(  # type: ignore[attr-defined]
        timeout=60_000)
    wait_idle(page)


def pick(page: object, key: str, option: str) -> None:
    """Choose `option` in the selectbox with widget key `key` (inside a form: no rerun until submitted);
    typing narrows the list first, which only draws the options in view."""
    page.locator(f".st-key-{key} [role=combobox]").click()  # type: ignore[attr-defined]
    page.keyboard.type(option)  # type: ignore[attr-defined]
    page.get_by_role("option", name=option, exact=True).click()  # type: ignore[attr-defined]


def submit(page: object, key: str, done: str) -> None:
    """Click a form's submit button and wait for the rerun that shows `done`."""
    page.locator(f".st-key-{key} button").click()  # type: ignore[attr-defined]
    page.get_by_text(done).first.wait_for(timeout=60_000)  # type: ignore[attr-defined]
    wait_idle(page)


def set_target(page: object, value: str) -> None:
    open_tab(page, "Edit")
    pick(page, "kpi_target_kpi", "New leads")
    page.locator(".st-key-kpi_target_period input").fill(QUARTER)  # type: ignore[attr-defined]
    page.locator(".st-key-kpi_target_value input").fill(value)  # type: ignore[attr-defined]
    submit(page, "kpi_target_submit", f"Saved the target of “New leads” for {QUARTER}.")


def test_build_a_tree_set_a_target_and_see_the_status_change(app_server: StreamlitServer, browser: object,
                                                              workspace: tuple[str, int]) -> None:
    ws_id, leads_so_far = workspace
    assert leads_so_far > 0
    page = open_fresh(browser, f"{app_server.url}/kpis?ws={ws_id}", VIEWPORT)
    assert page.get_by_text("This workspace has no KPIs yet").first.is_visible()

    open_tab(page, "Edit")
    page.locator(".st-key-kpi_add_name input").fill("Revenue goal")
    pick(page, "kpi_add_metric", "Revenue (revenue)")
    submit(page, "kpi_add_submit", "Added “Revenue goal”")
    open_tab(page, "Edit")
    page.locator(".st-key-kpi_add_name input").fill("New leads")
    pick(page, "kpi_add_metric", "Leads (leads)")
    pick(page, "kpi_add_parent", "Revenue goal")
    submit(page, "kpi_add_submit", "Added “New leads”")

    open_tab(page, "Tree")
    diagram = page.locator('[data-testid="stGraphVizChart"] svg')
    diagram.wait_for(timeout=30_000)
    assert diagram.locator("g.node").count() == 2 and diagram.locator("g.edge").count() == 1
    assert diagram.text_content().count("No target") == 2
    open_tab(page, "Scorecards")
    assert page.get_by_text("No KPI has a target for the period containing today").first.is_visible()
    assert page.locator('[data-testid="stMetric"]').count() == 0
    screenshot(page, "kpis-tree-no-target")

    set_target(page, "1")  # far below what the quarter already has
    open_scorecards(page)
    assert metric_values(page) == {"New leads": f"{leads_so_far:,}"}
    panel = page.locator('[data-testid="stTabPanel"]:visible')  # the scorecards tab
    assert panel.get_by_text("On track", exact=True).count() == 1
    assert panel.get_by_text("against a target of 1:").count() == 1
    screenshot(page, "kpis-on-track")

    set_target(page, str(100 * leads_so_far))  # a hundred times what it has
    open_scorecards(page)
    panel = page.locator('[data-testid="stTabPanel"]:visible')
    assert panel.get_by_text("Off track", exact=True).count() == 1
    assert panel.get_by_text("below the 90% critical line").count() == 1
    open_tab(page, "Tree")
    assert "Off track" in page.locator('[data-testid="stGraphVizChart"] svg').text_content()
    screenshot(page, "kpis-off-track")
    open_tab(page, "Target history")
    history = page.locator('[data-testid="stTabPanel"]:visible [data-testid="stDataFrame"]')
    assert history.count() == 1
    screenshot(page, "kpis-history")

    # a rate's target and warning line are typed in percent and read back as percentages
    open_tab(page, "Edit")
    page.locator(".st-key-kpi_add_name input").fill("Lead to MQL")
    pick(page, "kpi_add_metric", "Lead → MQL (lead_to_mql)")
    pick(page, "kpi_add_parent", "New leads")
    page.locator(".st-key-kpi_add_warning input").fill("95")
    page.locator(".st-key-kpi_add_target input").fill("45")
    submit(page, "kpi_add_submit", "Added “Lead to MQL”")
    open_scorecards(page)
    panel = page.locator('[data-testid="stTabPanel"]:visible')
    assert panel.get_by_text(f"Target 45.0% for {QUARTER}").count() == 1
    open_tab(page, "Tree")
    panel = page.locator('[data-testid="stTabPanel"]:visible')
    panel.locator('[data-testid="stExpander"] summary', has_text="Lead to MQL").click()
    details = panel.locator('[data-testid="stExpander"]', has_text="Lead to MQL")
    details.get_by_text(f"{QUARTER}: 45.0%").wait_for(timeout=10_000)
    assert details.get_by_text("on track from 95% of the target").count() == 1
    page.context.close()
