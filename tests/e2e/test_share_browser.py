"""Share links in a real browser: the link opens the same numbers read-only in a fresh context, keeps
them after a new upload, and shows a message and no data once revoked."""

from __future__ import annotations

import pytest

from kpi.store import Store
from tests.e2e.conftest import StreamlitServer, metric_values, open_fresh, screenshot, wait_idle
from tests.unit.handmade import tables

pytestmark = pytest.mark.e2e
VIEWPORT = {"width": 1440, "height": 1800}
METRICS = '[data-testid="stMetric"]'  # the banner is an alert too: wait for the numbers themselves


@pytest.fixture(scope="module")
def workspace(app_server: StreamlitServer) -> str:
    """A workspace of the six handmade leads, saved by another process exactly as the app would."""
    store = Store(app_server.data_dir)
    created = store.create_workspace("E2E shares")
    for name, frame in tables().items():
        store.save(created.id, name, frame, source="handmade e2e fixture")
    return created.id


def test_share_link_opens_read_only_with_pinned_numbers(app_server: StreamlitServer, browser: object,
                                                        workspace: str) -> None:
    page = open_fresh(browser, f"{app_server.url}/?ws={workspace}", VIEWPORT, ready=METRICS)
    shown = metric_values(page)
    assert shown["Leads"] == "6"  # all six handmade leads fall in the last 90 days of its data
    page.get_by_role("button", name="Share this view").click()
    page.get_by_role("button", name="Create link").click()
    link = page.locator('[data-testid="stCode"] code').first.inner_text(timeout=20_000).strip()
    assert "?view=" in link and len(link.split("view=")[1]) >= 43  # 256-bit url-safe token
    screenshot(page, "share-create")
    page.context.close()

    view = open_fresh(browser, link, VIEWPORT, ready=METRICS)
    assert metric_values(view) == shown
    assert view.get_by_text("Shared view, read-only").count() == 1
    nav = view.locator('[data-testid="stSidebarNav"]').inner_text()
    assert "Data" not in nav.split() and "Workspaces" not in nav
    assert view.get_by_role("button", name="Share this view").count() == 0
    screenshot(view, "share-open")

    # a new upload replaces the leads with the first three: the workspace changes, the link does not
    store = Store(app_server.data_dir)
    store.save(workspace, "leads", tables()["leads"].head(3), source="a later upload")
    latest = view.context.new_page()
    latest.goto(f"{app_server.url}/?ws={workspace}")
    wait_idle(latest, ready=METRICS)
    assert metric_values(latest)["Leads"] == "3"
    view.goto(link)
    wait_idle(view, ready=METRICS)
    assert metric_values(view)["Leads"] == "6"

    store.revoke_view(link.split("view=")[1])
    view.goto(link)
    view.wait_for_selector('[data-testid="stAlert"]', timeout=30_000)
    view.wait_for_timeout(1000)
    assert "revoked" in view.locator('[data-testid="stAlert"]').first.inner_text()
    assert view.locator('[data-testid="stMetric"]').count() == 0
    screenshot(view, "share-revoked")
    view.context.close()
