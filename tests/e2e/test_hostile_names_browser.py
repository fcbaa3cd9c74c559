"""Hostile names in a real browser: a workspace whose campaigns, initiatives, channels, owners, KPI texts,
file source and workspace name are markdown / HTML / spreadsheet-formula strings, opened on every page and
through a share link of every page.

Every request the browser makes is routed: anything but the app's own origin is aborted and recorded, and the
test fails on it (a tracking pixel at 127.0.0.1:9 counts too). On each page: no image, link, bold text or
element from the data, and the hostile text itself is visible. The app's own CSV / Excel downloads and
Streamlit's table toolbar "Download as CSV" must neutralise every formula cell with a leading apostrophe.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from urllib.parse import quote, urlsplit

import openpyxl
import polars as pl
import pytest

from kpi.store import Store
from tests.e2e.conftest import StreamlitServer, screenshot, wait_idle
from ui.safe import JOINER

pytestmark = pytest.mark.e2e
VIEWPORT = {"width": 1440, "height": 2400}

PIXEL = "![px](http://127.0.0.1:9/track.png)"
LINK = "[x](http://evil.example)"
BOLD = "**bold**"
HOSTILE = [PIXEL, LINK, BOLD, ":red[x]", "<img src=x onerror=alert(1)>", '=HYPERLINK("http://evil.example","x")',
           "+cmd", "@SUM(A1)", "-1+1"]
FORMULAS = [h for h in HOSTILE if h[0] in "=+-@"]
WORKSPACE = f"Hostile {BOLD} {LINK}"
PAGES = ["overview", "funnel", "events", "campaigns", "attribution", "segments", "kpis", "review"]
EDITING = ["data", "workspaces"]
END = date(2026, 11, 30)


def _tables() -> dict[str, pl.DataFrame]:
    """Leads over two months (so the review has a previous period) and daily spend: lead i has campaign
    H[i % 9], initiative H[(i + 1) % 9], channel H[(i + 2) % 9], owner H[(i + 3) % 9], segment H[(i + 4) % 9]."""
    n = len(HOSTILE)
    rows = []
    for i in range(n * 8):
        created = datetime.combine(END - timedelta(days=i % 60), datetime.min.time()) + timedelta(hours=9)
        rows.append({
            "lead_id": f"L{i}", "created_at": created,
            "mql_at": created + timedelta(days=1) if i % 2 == 0 else None,
            "sql_at": created + timedelta(days=3) if i % 3 == 0 else None,
            "won_at": created + timedelta(days=9) if i % 5 == 0 else None,
            "amount": 1000.0 + i, "first_contact_at": created + timedelta(hours=2 + (i % 4) * 20),
            "campaign": HOSTILE[i % n], "initiative": HOSTILE[(i + 1) % n], "channel": HOSTILE[(i + 2) % n],
            "owner": HOSTILE[(i + 3) % n], "segment": HOSTILE[(i + 4) % n],
        })
    leads = pl.DataFrame(rows, schema_overrides={"mql_at": pl.Datetime("us"), "sql_at": pl.Datetime("us"),
                                                 "won_at": pl.Datetime("us")})
    spend = pl.DataFrame([
        {"date": END - timedelta(days=d), "campaign": HOSTILE[c], "initiative": HOSTILE[(c + 1) % n],
         "channel": HOSTILE[(c + 2) % n], "spend": 10.0 + c, "impressions": 1000, "clicks": 20 + c}
        for d in range(0, 60, 3) for c in range(n)])
    kpis = pl.DataFrame({
        "kpi_id": ["goal", "leads"], "name": [PIXEL, BOLD], "metric": ["won", "leads"], "parent": [None, "goal"],
        "owner": [LINK, "<img src=x onerror=alert(1)>"], "why": [":red[x]", LINK], "how": [BOLD, PIXEL],
        "direction": ["up", "up"], "target": [10.0, 50.0], "period": ["2026-Q4", "2026-Q4"],
    })
    return {"leads": leads, "spend": spend, "kpis": kpis}


@pytest.fixture(scope="module")
def hostile(app_server: StreamlitServer) -> Iterator[tuple[str, Store]]:
    store = Store(app_server.data_dir)
    created = store.create_workspace(WORKSPACE)
    for name, frame in _tables().items():
        store.save(created.id, name, frame, source=f"export {PIXEL}.csv")
    yield created.id, store


class Guard:
    """Routes every request of a browser context: the app's own origin goes through, anything else is
    aborted and recorded."""

    def __init__(self, origin: str) -> None:
        self.origin = origin
        self.outside: list[str] = []

    def __call__(self, route: object) -> None:
        url = route.request.url  # type: ignore[attr-defined]
        parts = urlsplit(url)
        if parts.scheme in ("data", "blob") or f"{parts.scheme}://{parts.netloc}" == self.origin:
            route.continue_()  # type: ignore[attr-defined]
        else:
            self.outside.append(url)
            route.abort()  # type: ignore[attr-defined]


def _context(browser: object, app_server: StreamlitServer) -> tuple[object, Guard]:
    context = browser.new_context(viewport=VIEWPORT, locale="en-GB", accept_downloads=True)  # type: ignore[attr-defined]
    guard = Guard(app_server.url)
    context.route("**/*", guard)
    return context, guard


def _open(context: object, url: str) -> object:
    page = context.new_page()  # type: ignore[attr-defined]
    page.goto(url)
    wait_idle(page, timeout=90_000, ready='[data-testid="stMain"] h1, [data-testid="stAlert"]')
    page.wait_for_timeout(1500)  # let charts, the KPI tree and images (if any) load
    return page


def _no_markup(page: object, where: str) -> str:
    """Assert nothing from the data became markup; returns the page's visible text (as a reader would copy it)."""
    found = page.evaluate("""() => ({
        images: [...document.querySelectorAll('img')].map(i => i.getAttribute('src') || '')
                   .filter(s => s.includes('track') || s === 'x' || s.includes('127.0.0.1:9')),
        links: [...document.querySelectorAll('a')].filter(a => (a.getAttribute('href') || '')
                   .includes('evil.example')).map(a => a.parentElement.outerHTML.slice(0, 300)),
        bold: [...document.querySelectorAll('strong, b')].map(b => b.textContent)
                   .filter(t => t.trim() === 'bold' || t.trim() === 'x'),
        handlers: [...document.querySelectorAll('[onerror]')].length,
        red: [...document.querySelectorAll('[data-testid="stMarkdownContainer"] span')]
                   .filter(s => s.textContent === 'x' && getComputedStyle(s).color === 'rgb(255, 43, 43)').length,
    })""")  # type: ignore[attr-defined]
    assert found == {"images": [], "links": [], "bold": [], "handlers": 0, "red": 0}, (where, found)
    text = str(page.locator('[data-testid="stMain"]').inner_text())  # type: ignore[attr-defined]
    return text.replace(JOINER, "")  # the invisible word joiners md puts after ':' and '@'


def _filtered(path: str, ws: str) -> str:
    """The page filtered on initiative = the tracking pixel (its chip then shows the name as text)."""
    return f"/{path}?ws={ws}&initiative={quote(PIXEL, safe='')}"


def test_every_page_and_share_link_shows_hostile_names_as_text(app_server: StreamlitServer, browser: object,
                                                                hostile: tuple[str, Store]) -> None:
    ws, store = hostile
    context, guard = _context(browser, app_server)
    seen: dict[str, str] = {}
    for path in PAGES + EDITING:
        page = _open(context, app_server.url + _filtered(path, ws))
        text = _no_markup(page, path)
        seen[path] = text
        if path in PAGES:
            assert PIXEL in text, f"{path}: the filter chip should show the initiative as text"
        screenshot(page, f"hostile-{path}")
        page.close()
    # the names are visible as text where the pages write them in sentences
    assert WORKSPACE in seen["workspaces"]
    review = seen["review"]
    assert any(h in review for h in HOSTILE if h != PIXEL), "the review's sentences name the channels as text"
    kpis = seen["kpis"]
    assert PIXEL in kpis and BOLD in kpis  # the KPI names in the scorecards and the tree's list

    for path in PAGES:  # a share link of every page, opened by someone else
        token = store.create_view(ws, path, {"initiative": [PIXEL]})
        page = _open(context, f"{app_server.url}/?view={token}")
        text = _no_markup(page, f"shared {path}")
        assert "Shared view, read-only" in text and f"Data: {WORKSPACE}, up to" in text  # the banner names it
        screenshot(page, f"hostile-shared-{path}")
        page.close()
    sliced = store.create_view(ws, "campaigns", {"initiative": [PIXEL]}, slice={"initiative": [PIXEL]})
    page = _open(context, f"{app_server.url}/?view={sliced}")
    assert f"This link shows only this slice: Initiative: {PIXEL}" in _no_markup(page, "slice-only link")
    page.close()
    context.close()  # type: ignore[attr-defined]
    assert guard.outside == [], f"requests beyond the app: {guard.outside}"


def _csv_cells(raw: bytes) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(raw.decode("utf-8-sig"))) for cell in row]


def _assert_neutralised(cells: list[str], what: str) -> None:
    for formula in FORMULAS:
        assert formula not in cells, f"{what}: {formula!r} exported raw"
    assert any(c == "'" + f for c in cells for f in FORMULAS), f"{what}: no hostile cell exported at all"
    risky = [c for c in cells if c[:1] in ("=", "+", "@") or (c[:1] == "-" and not _number(c))]
    assert risky == [], f"{what}: cells a spreadsheet would run: {risky}"


def _number(text: str) -> bool:
    try:
        float(text.replace(",", "."))
    except ValueError:
        return False
    return True


def _download(page: object, button: object) -> bytes:
    with page.expect_download(timeout=60_000) as info:  # type: ignore[attr-defined]
        button.click()  # type: ignore[attr-defined]
    path = info.value.path()
    with open(path, "rb") as fh:
        return fh.read()


def test_the_apps_own_downloads_are_neutralised(app_server: StreamlitServer, browser: object,
                                                hostile: tuple[str, Store]) -> None:
    ws, _ = hostile
    context, guard = _context(browser, app_server)
    checked = 0
    for path in ("campaigns", "funnel"):
        page = _open(context, f"{app_server.url}/{path}?ws={ws}")
        for kind in ("CSV", "Excel"):
            buttons = page.get_by_role("button", name=f"Download {kind}", exact=True)  # type: ignore[attr-defined]
            for i in range(buttons.count()):
                raw = _download(page, buttons.nth(i))
                if kind == "CSV":
                    cells = _csv_cells(raw)
                else:
                    book = openpyxl.load_workbook(io.BytesIO(raw))
                    cells = [str(c.value) for sheet in book for row in sheet.iter_rows() for c in row
                             if c.value is not None and c.data_type == "s"]
                    assert not [c for sheet in book for row in sheet.iter_rows() for c in row if c.data_type == "f"]
                if any(h in c for c in cells for h in HOSTILE):
                    _assert_neutralised(cells, f"{path} {kind} #{i}")
                    checked += 1
        page.close()
    context.close()  # type: ignore[attr-defined]
    assert checked >= 4, f"only {checked} downloads held hostile names"
    assert guard.outside == []


def test_table_toolbar_download_is_neutralised(app_server: StreamlitServer, browser: object,
                                               hostile: tuple[str, Store]) -> None:
    """Streamlit's own "Download as CSV" in a table's toolbar, on the Campaigns page and on its share link."""
    ws, store = hostile
    context, guard = _context(browser, app_server)
    # without the File System Access API Streamlit saves through its polyfill: a download Playwright can catch
    context.add_init_script("delete window.showSaveFilePicker;")  # type: ignore[attr-defined]
    token = store.create_view(ws, "campaigns", {})
    for url in (f"{app_server.url}/campaigns?ws={ws}", f"{app_server.url}/?view={token}"):
        page = _open(context, url)
        table = page.locator('[data-testid="stDataFrame"]').first  # type: ignore[attr-defined]
        table.hover()
        page.wait_for_timeout(500)  # type: ignore[attr-defined]
        toolbar = page.locator('[data-testid="stElementToolbar"]').first  # type: ignore[attr-defined]
        raw = _download(page, toolbar.get_by_role("button", name="Download as CSV"))
        _assert_neutralised(_csv_cells(raw), f"toolbar CSV of {url}")
        page.close()
    context.close()  # type: ignore[attr-defined]
    assert guard.outside == []
