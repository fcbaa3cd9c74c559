"""The sidebar's "Download summary (PDF)": the summary for leadership (`ui.report`) of the view on screen.

One button for every page and every shared link, drawn by app.py under the sidebar's filters. The report is
of the view: its workspace at the dataset versions shown (a shared link's frozen ones), its period, comparison,
counting and filters, in the reader's language, with the attribution model chosen and the budgets saved with
the period's review. The PDF is made when the button is clicked (Streamlit runs `data` then, outside the page's
run), from the same `kpi.engine` entry points the pages ask.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime

import streamlit as st

from kpi.review import PRESET_TERMS, review_dimensions, review_key, review_term, saved_reviews
from kpi.store import Store
from kpi.summary import summarise
from ui import report
from ui import workspace as data
from ui.i18n import t
from ui.review import DIMENSION_KEY
from ui.state import ViewState

BUTTON_KEY = "summary_pdf"


def version_text(db: Store | None, ws: data.Workspace, lang: str) -> str:
    """The data version shown, in words: each table's version number in the store ('Acme: leads v3, spend v2'),
    or that the data is this session's unsaved uploads (`db` None)."""
    if db is None or ws.store_id is None:
        return t("sidebar.session_workspace", lang)
    versions = {d: db.version(ws.store_id, d, v).number for d, v in sorted(ws.versions.items())}
    return f"{ws.name}: " + ", ".join(f"{d} v{n}" for d, n in versions.items())


def _budgets(db: Store | None, ws: data.Workspace, dimension: str, state: ViewState) -> Mapping[str, float]:
    """The budgets saved with the view's review (what the Review page judges with), none for unsaved uploads."""
    if db is None or ws.store_id is None:
        return {}
    term = review_term(state.period, PRESET_TERMS.get(state.preset))
    saved = saved_reviews(db, ws.store_id, review_key(dimension, term)).saved
    return saved.budgets if saved is not None else {}


def summary_pdf(ws: data.Workspace, state: ViewState) -> Callable[[], bytes]:
    """The view's summary as a PDF, made when called (on the click, outside the page's run: what it needs of
    the session is read here, the rest there, the generation time included)."""
    dimensions = review_dimensions(ws.tables) or ["initiative"]
    chosen = st.session_state.get(DIMENSION_KEY)
    dimension = chosen if chosen in dimensions else dimensions[0]
    db = data.store() if ws.store_id is not None else None
    query = state.query(compared=True)

    def make() -> bytes:
        about = report.About(version_text(db, ws, state.lang), datetime.now(UTC), state.model)
        summary = summarise(ws.data, query, dimension, budgets=_budgets(db, ws, dimension, state))
        return report.pdf(report.document(ws, summary, about, state.lang))

    return make


def file_name(state: ViewState) -> str:
    return f"summary-{state.period.start.isoformat()}-{state.period.end.isoformat()}-{state.lang}.pdf"


def render_summary_button(ws: data.Workspace, state: ViewState) -> None:
    """The sidebar's download button for the view's summary."""
    st.sidebar.download_button(t("report.button", state.lang), summary_pdf(ws, state), file_name=file_name(state),
                               mime="application/pdf", key=BUTTON_KEY, icon=":material/picture_as_pdf:",
                               help=t("report.button_help", state.lang), on_click="ignore", width="stretch")
