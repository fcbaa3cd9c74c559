"""Real-browser fixtures: `streamlit run app.py` on 127.0.0.1 and Debian's Chromium driven by Playwright.

Chromium is never downloaded: the tests use /usr/bin/chromium (Debian package `chromium`). Outside
CI a missing browser skips these tests; under CI=true it fails them.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.conftest import REPO, require

CHROMIUM = os.environ.get("KPI_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = REPO / "artifacts" / "screenshots"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class StreamlitServer:
    """`streamlit run` of the app in a subprocess, on a free port of 127.0.0.1."""

    def __init__(self, env: dict[str, str] | None = None, args: tuple[str, ...] = ()) -> None:
        self.env = {**os.environ, **(env or {})}
        self.data_dir = Path(self.env["KPI_DATA_DIR"])
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = (REPO / "artifacts" / f"streamlit-{self.port}.log")
        self.log.parent.mkdir(parents=True, exist_ok=True)
        self._log_file = self.log.open("w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", str(REPO / "app.py"), "--server.port", str(self.port),
             "--server.address", "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false",
             "--server.fileWatcherType", "none", *args],
            cwd=REPO, env=self.env, stdout=self._log_file, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"streamlit exited early: {self.log.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.3)
        self.stop()
        raise RuntimeError("streamlit did not become healthy within 60 s")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self._log_file.close()


@pytest.fixture(scope="session")
def app_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StreamlitServer]:
    data_dir = tmp_path_factory.mktemp("kpi-data")
    server = StreamlitServer({"KPI_DATA_DIR": str(data_dir)})
    yield server
    server.stop()


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    require(Path(CHROMIUM).exists() or shutil.which(CHROMIUM) is not None,
            f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


def screenshot(page: object, name: str) -> Path:
    """Save a full-page screenshot as a test artefact (artifacts/screenshots/NAME.png)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)  # type: ignore[attr-defined]
    return path


def wait_idle(page: object, timeout: float = 30_000,
              ready: str = '[data-testid="stMetric"], [data-testid="stAlert"]') -> None:
    """Wait until Streamlit has finished running the script and the main block shows `ready` content."""
    page.wait_for_selector('[data-testid="stMain"]', timeout=timeout)  # type: ignore[attr-defined]
    page.wait_for_function(  # type: ignore[attr-defined]
        """(ready) => !document.querySelector('[data-testid="stStatusWidgetRunningIcon"]')
             && !document.querySelector('[data-testid="stSkeleton"]')
             && document.querySelectorAll(ready).length > 0""",
        arg=ready, timeout=timeout)
    page.wait_for_timeout(400)  # type: ignore[attr-defined]


def open_fresh(browser: object, url: str, viewport: dict[str, int], **wait: str) -> object:
    """A page at `url` in a fresh browser context (no cookies or session of other pages), once the app
    has drawn it (`wait` goes to `wait_idle`). Close it with `page.context.close()`."""
    page = browser.new_context(viewport=viewport, locale="en-GB").new_page()  # type: ignore[attr-defined]
    page.goto(url)
    wait_idle(page, **wait)  # type: ignore[arg-type]
    return page


def select_option(page: object, label: str, option: str) -> None:
    """Pick `option` in the Streamlit selectbox labelled `label`, then wait for the rerun."""
    page.get_by_role("combobox", name=label, exact=True).click()  # type: ignore[attr-defined]
    page.get_by_role("option", name=option, exact=True).click()  # type: ignore[attr-defined]
    wait_idle(page)


def metric_values(page: object) -> dict[str, str]:
    """Label → value of every KPI card on the page."""
    cards = page.locator('[data-testid="stMetric"]')  # type: ignore[attr-defined]
    out = {}
    for i in range(cards.count()):
        card = cards.nth(i)
        label = card.locator('[data-testid="stMetricLabel"]').inner_text().strip()
        out[label] = card.locator('[data-testid="stMetricValue"]').inner_text().strip()
    return out


def query(page: object) -> dict[str, list[str]]:
    """The page's address parameters."""
    return parse_qs(urlsplit(page.url).query)  # type: ignore[attr-defined]


def click_longest_bar(page: object, chart: object, param: str) -> None:
    """Click the longest bar of `chart` (an SVG mark) until the address carries `param` (click-to-filter
    wrote it); a chart still re-drawing after the last rerun may miss the first click."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    chart.scroll_into_view_if_needed()  # type: ignore[attr-defined]
    for _ in range(3):
        page.wait_for_timeout(1500)  # type: ignore[attr-defined]
        bars = chart.locator('g.mark-rect path[aria-roledescription="bar"]')  # type: ignore[attr-defined]
        bar = max((bars.nth(i).bounding_box() for i in range(bars.count())), key=lambda b: b["width"] if b else 0)
        assert bar is not None and bar["width"] > 0
        page.mouse.click(bar["x"] + bar["width"] / 2, bar["y"] + bar["height"] / 2)  # type: ignore[attr-defined]
        try:
            page.wait_for_function(f"() => location.search.includes('{param}=')", timeout=8_000)  # type: ignore[attr-defined]
            break
        except PlaywrightTimeout:
            continue
    wait_idle(page)
