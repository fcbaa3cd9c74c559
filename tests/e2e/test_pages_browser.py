"""Page addresses against a freshly started `streamlit run app.py`: every page runs inside app.py (its sidebar,
its editor password, a shared view's limits), and an address app.py does not register answers Streamlit's
"Page not found", even as the first request the server ever gets.

The first request matters: a `pages/` folder next to app.py puts Streamlit 1.67 in its old multipage mode
(every file there a page of its own, run without app.py) until a run of app.py calls `st.navigation`; each
test therefore starts its own server and opens the address under test first.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from kpi.store import Store
from tests.e2e.conftest import StreamlitServer, wait_idle
from tests.unit.handmade import tables

pytestmark = pytest.mark.e2e
VIEWPORT = {"width": 1440, "height": 1000}
UPLOADER = '[data-testid="stFileUploader"]'
NOT_FOUND = "Page not found"
APP_TITLE = "Marketing KPI Studio"  # the sidebar heading app.py writes on every page


@pytest.fixture
def fresh_server(tmp_path: Path) -> Iterator[StreamlitServer]:
    """A server no browser has opened yet, with the shared editor password set."""
    secrets = tmp_path / "secrets.toml"
    digest = hashlib.sha256(b"pages-e2e-password").hexdigest()
    secrets.write_text(f'[editor]\npassword_sha256 = "{digest}"\n')
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    server = StreamlitServer({"KPI_DATA_DIR": str(data_dir)}, args=("--secrets.files", str(secrets)))
    yield server
    server.stop()


def open_page(browser: object, url: str, ready: str) -> object:
    page = browser.new_context(viewport=VIEWPORT, locale="en-GB").new_page()  # type: ignore[attr-defined]
    page.goto(url)
    wait_idle(page, timeout=60_000, ready=ready)
    return page


def sidebar_text(page: object) -> str:
    return str(page.locator('[data-testid="stSidebar"]').inner_text())  # type: ignore[attr-defined]


def test_first_request_to_an_editing_page_asks_for_the_editor_password(fresh_server: StreamlitServer,
                                                                       browser: object) -> None:
    """/data as the server's very first request: app.py runs first and stops at its password form; the Data
    page (its upload) never runs on its own."""
    page = open_page(browser, f"{fresh_server.url}/data", ready=f'[data-testid="stForm"], {UPLOADER}')
    assert page.get_by_role("heading", name="Editor password").count() == 1  # type: ignore[attr-defined]
    assert page.locator(UPLOADER).count() == 0  # type: ignore[attr-defined]
    assert APP_TITLE in sidebar_text(page)
    page.context.close()  # type: ignore[attr-defined]


def test_unregistered_addresses_answer_page_not_found(fresh_server: StreamlitServer, browser: object) -> None:
    """A shared view registers only the analysis pages: /data and /workspaces (files in the pages folder)
    answer "Page not found" and open the view's own page with its banner, first request or not; so does a
    made-up address in the editing app."""
    store = Store(fresh_server.data_dir)
    ws = store.create_workspace("E2E pages")
    for name, frame in tables().items():
        store.save(ws.id, name, frame, source="handmade e2e fixture")
    token = store.create_view(ws.id, "funnel", {"period": "custom", "from": "2025-01-01", "to": "2025-03-31"})

    for path in ("data", "workspaces"):
        page = open_page(browser, f"{fresh_server.url}/{path}?view={token}", ready='[data-testid="stAlert"]')
        page.get_by_text(NOT_FOUND).first.wait_for(timeout=30_000)  # type: ignore[attr-defined]
        page.get_by_text("Shared view, read-only").first.wait_for(timeout=30_000)  # type: ignore[attr-defined]
        assert page.locator(UPLOADER).count() == 0  # type: ignore[attr-defined]
        assert APP_TITLE in sidebar_text(page)
        nav = page.locator('[data-testid="stSidebarNav"]').inner_text()  # type: ignore[attr-defined]
        assert "Funnel" in nav and "Data" not in nav.split() and "Workspaces" not in nav
        assert urlsplit(page.url).path != f"/{path}"  # type: ignore[attr-defined]
        page.context.close()  # type: ignore[attr-defined]

    page = open_page(browser, f"{fresh_server.url}/no-such-page", ready='[data-testid="stForm"]')
    page.get_by_text(NOT_FOUND).first.wait_for(timeout=30_000)  # type: ignore[attr-defined]
    assert page.get_by_role("heading", name="Editor password").count() == 1  # type: ignore[attr-defined]
    assert APP_TITLE in sidebar_text(page)
    page.context.close()  # type: ignore[attr-defined]
