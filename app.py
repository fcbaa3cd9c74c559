"""Marketing KPI Studio: `streamlit run app.py`.

The entry script: page setup, the sidebar (workspace, period, comparison, filters, sharing) and the
navigation, built from the page registry in ui.navigation. Pages render; they read the workspace and view
state this script sets on every run.
A `?view=TOKEN` link opens a shared view read-only: its pinned data, no upload, edit or delete pages.
Everything else is the editing app: behind the shared editor password when one is set (ui.auth).
"""

from pathlib import Path

import streamlit as st

from ui import navigation
from ui.auth import require_editor_password, warn_if_open
from ui.i18n import current_language, t
from ui.navigation import PAGES
from ui.share import open_shared_view, render_banner, render_share_button
from ui.state import render_sidebar
from ui.summary import render_summary_button
from ui.workspace import CURRENT, select_workspace, warm_event_kernels

# The icon is a file of the app's own: a `:material/…:` page icon makes every browser fetch it from Google's
# font servers, telling them that someone opened the app (a shared link, say).
ICON = Path(__file__).parent / "assets" / "icon.png"
st.set_page_config(page_title="Marketing KPI Studio", page_icon=str(ICON), layout="wide")

lang = current_language()
shared = open_shared_view(lang)
pages = navigation.pages(shared is not None, lang)  # a shared view: only the pages it may open
start_page = shared.view.page if shared is not None and shared.view.page in pages else "overview"


def root() -> None:
    """The app's root address (and every old link to it): the start page at its own address (/overview, or a
    shared view's page), with the link's parameters."""
    st.switch_page(pages[start_page], query_params={k: st.query_params.get_all(k) for k in st.query_params})


# Every page has its own address; the root is a hidden page that only forwards to the start page.
home = st.Page(root, title=t(PAGES[start_page].text, lang), url_path="start", default=True, visibility="hidden")
page = st.navigation([home, *pages.values()])
if page is home:
    root()
with st.sidebar:
    st.markdown(f"### {t('app.title', lang)}")
if shared is None:
    require_editor_password(lang)  # stops here until the shared editor password is given, when one is set
    workspace = select_workspace(lang)
    state = render_sidebar(workspace)
    render_share_button(workspace, state, page.url_path, state.lang)
    warn_if_open(state.lang)
else:
    workspace = st.session_state[CURRENT] = shared.workspace
    render_banner(shared, lang)
    state = render_sidebar(shared.workspace, initial=shared.params)
render_summary_button(workspace, state)  # every page, shared links too: the view's summary as a PDF
navigation.run(page)
warm_event_kernels()  # once a server, after the page has drawn
