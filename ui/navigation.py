"""The app's pages: one registry, read by app.py to build the navigation and by every page switch.

A page is a file in `pages/` defining `render()` (the page's flow) and ending with
`if __name__ == "__main__": render_page(render)`. app.py registers the files with `st.navigation` and runs
the chosen one with `run`; the page then renders.

Streamlit (1.67) also knows `pages/` as its old multipage folder: until a run of app.py has called
`st.navigation` in the server process (its first request, after every restart), an address such as /data
runs pages/data.py on its own, without app.py's editor password, sidebar or shared-view limits. Run that
way, `render_page` runs app.py instead, which opens the page the address names through the navigation
(or answers "Page not found" when app.py does not register it), exactly as a later request would.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextlib import nullcontext
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from ui.i18n import t

APP = Path(__file__).resolve().parent.parent / "app.py"


@dataclass(frozen=True)
class PageSpec:
    file: str  # relative to app.py
    text: str  # the text key of its title
    icon: str
    shared: bool  # may a shared, read-only view open it?


PAGES: dict[str, PageSpec] = {  # url path -> page, in the navigation's order
    "overview": PageSpec("pages/overview.py", "page.overview", ":material/dashboard:", shared=True),
    "funnel": PageSpec("pages/funnel.py", "page.funnel", ":material/filter_alt:", shared=True),
    "events": PageSpec("pages/events.py", "page.events", ":material/ads_click:", shared=True),
    "campaigns": PageSpec("pages/campaigns.py", "page.campaigns", ":material/campaign:", shared=True),
    "attribution": PageSpec("pages/attribution.py", "page.attribution", ":material/alt_route:", shared=True),
    "segments": PageSpec("pages/segments.py", "page.segments", ":material/grid_view:", shared=True),
    "kpis": PageSpec("pages/kpis.py", "page.kpis", ":material/account_tree:", shared=True),
    "review": PageSpec("pages/review.py", "page.review", ":material/fact_check:", shared=True),
    "data": PageSpec("pages/data.py", "page.data", ":material/upload_file:", shared=False),
    "workspaces": PageSpec("pages/workspaces.py", "page.workspaces", ":material/folder_shared:", shared=False),
}

# Set while app.py runs the page it chose (the script runs in one thread: a context variable is its own).
_IN_APP: ContextVar[bool] = ContextVar("kpi_page_in_app", default=False)


def pages(shared: bool, lang: str) -> dict[str, st.Page]:
    """url path -> st.Page of every page this session may open: a shared view only the analysis pages."""
    return {path: st.Page(spec.file, title=t(spec.text, lang), icon=spec.icon, url_path=path)
            for path, spec in PAGES.items() if spec.shared or not shared}


def switch(path: str, query_params: Mapping[str, str | Sequence[str]] | None = None) -> NoReturn:
    """Open the page at url `path` (a key of PAGES) with `query_params`, as its navigation link would."""
    st.switch_page(PAGES[path].file, query_params=query_params)


def run(page: st.Page) -> None:
    """app.py: run the page `st.navigation` chose."""
    token = _IN_APP.set(True)
    try:
        page.run()
    finally:
        _IN_APP.reset(token)


def render_page(render: Callable[[], None]) -> None:
    """A page file's last line: its `render` when app.py runs it, else (Streamlit ran the file on its own, see
    the module's doc) app.py, which runs the page the address names inside the app.

    app.py runs as the main script, as in any later run: its sidebar's widgets keep their ids (run under this
    page's id instead, they changed after the first request, and the browser test's second upload on a fresh
    server was lost). Not a rerun: that would drop the clicks this run carries (AppTest runs every page so)."""
    if _IN_APP.get():
        render()
        return
    code = compile(APP.read_bytes(), str(APP), "exec")
    ctx = get_script_run_ctx()
    with ctx.run_with_active_hash(ctx.pages_manager.main_script_hash) if ctx is not None else nullcontext():
        exec(code, {"__name__": "__main__", "__file__": str(APP)})
