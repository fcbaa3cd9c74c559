"""Every page in English, Swedish and Russian at a desktop (1,400 px) and a phone (390 px) width, in a real
Chromium: no exception, nothing wider than the page, the KPI tree's text readable; a full-page screenshot of
each goes to artifacts/screenshots/<page>-<lang>-<width>.png. And the table toolbar's own "Download as
CSV" writes text from data neutralised, like the app's CSV and Excel buttons."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from tests.e2e.conftest import ARTIFACTS, StreamlitServer, select_option, wait_idle
from ui.i18n import LANGUAGES, t

pytestmark = pytest.mark.e2e
PAGES = ("overview", "funnel", "events", "campaigns", "attribution", "segments", "kpis", "review", "data", "workspaces")
MAIN = '[data-testid="stMainBlockContainer"]'


def full_page(page: object, name: str) -> Path:
    """Grow the window to the page's height (Streamlit scrolls inside its main block, which a full-page
    screenshot would cut at the window), then save the screenshot."""
    height = page.evaluate(  # type: ignore[attr-defined]
        "() => document.querySelector('[data-testid=\"stMain\"]').scrollHeight")
    width = page.viewport_size["width"]  # type: ignore[attr-defined]
    page.set_viewport_size({"width": width, "height": min(int(height) + 40, 12_000)})  # type: ignore[attr-defined]
    page.wait_for_timeout(600)  # type: ignore[attr-defined]  # charts re-measure their width
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)  # type: ignore[attr-defined]
    return path


def overflowing_charts(page: object) -> list[str]:
    """Charts and diagrams whose right edge passes the main column's (a clipped chart), with their widths."""
    return page.evaluate(  # type: ignore[attr-defined,no-any-return]
        """(main) => {
             const right = document.querySelector(main).getBoundingClientRect().right + 1;
             return [...document.querySelectorAll('[data-testid="stVegaLiteChart"], [data-testid="stGraphVizChart"]')]
               .map(e => e.getBoundingClientRect())
               .filter(r => r.width > 0 && r.right > right)
               .map(r => `${Math.round(r.left)}..${Math.round(r.right)} > ${Math.round(right)}`);
           }""", MAIN)


def tree_text_px(page: object) -> float:
    """The height on screen of the KPI tree's smallest text line."""
    return float(page.evaluate(  # type: ignore[attr-defined]
        """() => Math.min(...[...document.querySelectorAll('[data-testid="stGraphVizChart"] svg text')]
                              .map(e => e.getBoundingClientRect().height).filter(h => h > 0))"""))


WIDTHS = (1400, 390)


def open_page(page: object, path: str, lang: str) -> None:
    """Go to `path` as a click in the page menu does (the same session, so the engine's answers cached for it
    are reused), and wait until it has drawn."""
    page.evaluate(  # type: ignore[attr-defined]
        """(path) => [...document.querySelectorAll('[data-testid="stSidebarNav"] a')]
                       .find(a => new URL(a.href).pathname.replace(/^\\//, '') === path).click()""", path)
    if path != "workspaces":  # its title names the workspace
        page.wait_for_function(  # type: ignore[attr-defined]
            "([main, title]) => document.querySelector(main + ' h1')?.innerText.trim() === title",
            arg=[MAIN, t(f"page.{path}", lang)], timeout=60_000)
    wait_idle(page, timeout=60_000, ready=f"{MAIN} h1")
    page.wait_for_timeout(800)  # type: ignore[attr-defined]  # charts and diagrams finish drawing


def test_every_page_in_every_language_at_desktop_and_phone_width(app_server: StreamlitServer,
                                                                 browser: object) -> None:
    """One browser session for all: switching the language reruns the pages on the engine's answers cached
    for the session, so 54 screenshots take the time of about 18 page runs."""
    context = browser.new_context(viewport={"width": WIDTHS[0], "height": 900}, locale="en-GB")  # type: ignore[attr-defined]
    page = context.new_page()
    page.goto(f"{app_server.url}/?period=last_12_months")  # an old link to the root: forwarded, parameters kept
    wait_idle(page, timeout=60_000, ready=f"{MAIN} h1")
    assert "/overview?" in page.url and "period=last_12_months" in page.url, page.url
    clipped: dict[str, list[str]] = {}
    shown = "en"
    for lang in LANGUAGES:
        if lang != shown:
            open_page(page, PAGES[0], shown)
            select_option(page, t("sidebar.language", shown), LANGUAGES[lang])
            shown = lang
        for path in PAGES:
            if f"/{path}" not in page.url:
                open_page(page, path, lang)
            assert page.locator('[data-testid="stException"]').count() == 0, f"{path} ({lang}) failed"
            assert page.get_by_text("Page not found").count() == 0
            for width in WIDTHS:
                page.set_viewport_size({"width": width, "height": 900})
                full_page(page, f"{path}-{lang}-{width}")
                if overflowing_charts(page):
                    clipped[f"{path} ({lang}) at {width} px"] = overflowing_charts(page)
                if path == "kpis" and width == WIDTHS[0]:
                    assert tree_text_px(page) >= 11, "the KPI tree's text is too small to read"
            page.set_viewport_size({"width": WIDTHS[0], "height": 900})
    context.close()
    assert not clipped, f"charts wider than the page: {clipped}"


HOSTILE = ['=HYPERLINK("http://127.0.0.1:9/x","click")', "+cmd", "@SUM(A1)", "-1+1"]


def test_the_table_toolbar_download_is_neutralised(app_server: StreamlitServer, browser: object,
                                                   tmp_path: Path) -> None:
    upload = tmp_path / "hostile_leads.csv"
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["lead_id", "created_at", "campaign", "initiative", "channel", "owner"])
    writer.writerow(["L1", "2026-11-02", *HOSTILE])
    writer.writerow(["L2", "2026-11-03", "Spring sale", "ABM", "Email", "Anna"])
    upload.write_text(buffer.getvalue(), encoding="utf-8")

    context = browser.new_context(viewport={"width": 1400, "height": 1200}, locale="en-GB",  # type: ignore[attr-defined]
                                  accept_downloads=True)
    # Streamlit saves through the File System Access API when the browser has it; headless Chromium's save
    # dialog never answers, so take the API away and Streamlit falls back to an ordinary download.
    context.add_init_script("delete Window.prototype.showSaveFilePicker; delete window.showSaveFilePicker;")
    page = context.new_page()
    page.goto(f"{app_server.url}/data")
    page.wait_for_selector('[data-testid="stFileUploaderDropzoneInput"]', state="attached", timeout=60_000)
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').first.set_input_files(str(upload))
    page.wait_for_timeout(1500)  # the rerun for the new file starts
    wait_idle(page, timeout=120_000, ready='[data-testid="stDataFrame"]')
    table = page.locator('[data-testid="stDataFrame"]').first
    table.scroll_into_view_if_needed()
    table.hover()
    with page.expect_download(timeout=30_000) as download:
        page.get_by_role("button", name="Download as CSV").first.click()
    text = Path(download.value.path()).read_text(encoding="utf-8-sig")
    context.close()

    rows = list(csv.reader(io.StringIO(text)))
    cells = [c for row in rows[1:] for c in row]
    for value in HOSTILE:
        assert "'" + value in cells, f"{value!r} not neutralised in {rows}"
    assert not [c for c in cells if c[:1] in ("=", "+", "-", "@")], rows
    assert "Spring sale" in cells and "Anna" in cells  # ordinary text as it is
