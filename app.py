"""Marketing KPI Studio: `streamlit run app.py`.

The entry script: page setup, the sidebar (workspace, period, comparison, filters), the page registry.
Pages render; they read the workspace and view state this script sets on every run.
"""

import streamlit as st

from ui.i18n import current_language, t
from ui.state import render_sidebar
from ui.workspace import select_workspace

st.set_page_config(page_title="Marketing KPI Studio", page_icon=":material/insights:", layout="wide")

lang = current_language()
pages = [
    st.Page("pages/overview.py", title=t("page.overview", lang), icon=":material/dashboard:", url_path="overview",
            default=True),
    st.Page("pages/campaigns.py", title=t("page.campaigns", lang), icon=":material/campaign:", url_path="campaigns"),
    st.Page("pages/segments.py", title=t("page.segments", lang), icon=":material/grid_view:", url_path="segments"),
]
page = st.navigation(pages)
with st.sidebar:
    st.markdown(f"### {t('app.title', lang)}")
workspace = select_workspace(lang)
render_sidebar(workspace)
page.run()
