"""Data page: bring data into this session's tables (a file upload or a GA4 property), and see or download
what is loaded."""

from __future__ import annotations

from functools import partial

import streamlit as st

from kpi.download import to_csv_bytes
from ui.format import number
from ui.ga4 import render_ga4_panel
from ui.i18n import current_language, plural, t
from ui.navigation import render_page
from ui.upload import table_label, upload_panel
from ui.workspace import SESSION_TABLES, session_tables


def render() -> None:
    lang = current_language()
    st.title(t("page.data", lang))
    st.write(t("data.intro", lang))
    upload_tab, ga4_tab = st.tabs([t("data.tab.upload", lang), t("data.tab.ga4", lang)])
    with upload_tab:
        upload_panel()
    with ga4_tab:
        render_ga4_panel()

    tables = session_tables()
    if tables:
        st.subheader(t("data.loaded", lang))
        for name, frame in tables.items():
            cols = st.columns([3, 1])
            rows = plural("data.n_rows", frame.height, lang, count=number(frame.height, lang))
            columns = plural("data.n_columns", len(frame.columns), lang, count=number(len(frame.columns), lang))
            cols[0].write(t("data.loaded_table", lang, table=table_label(name, lang), rows=rows, columns=columns))
            cols[1].download_button(t("table.download_csv", lang), partial(to_csv_bytes, frame),  # on click
                                    file_name=f"{name}.csv", mime="text/csv", key=f"dl_{name}", on_click="ignore")
        if st.button(t("data.remove", lang), key="data_remove"):
            st.session_state[SESSION_TABLES] = {}
            st.rerun()


if __name__ == "__main__":
    render_page(render)
