"""Data page: upload exports into this session's tables, and see or download what is loaded."""

from __future__ import annotations

import polars as pl
import streamlit as st

from ui.download import to_csv_bytes
from ui.upload import SESSION_TABLES, upload_panel

st.title("Data")
st.write("Upload exports from your CRM, ad platforms or analytics. Each file is checked and shown before "
         "anything is added; uploads stay in this browser session.")
upload_panel()

tables: dict[str, pl.DataFrame] = st.session_state.get(SESSION_TABLES) or {}
if tables:
    st.subheader("Uploaded in this session")
    for name, frame in tables.items():
        cols = st.columns([3, 1])
        cols[0].write(f"**{name}**: {frame.height} rows, {len(frame.columns)} columns")
        cols[1].download_button("Download CSV", to_csv_bytes(frame), file_name=f"{name}.csv", mime="text/csv",
                                key=f"dl_{name}")
    if st.button("Remove uploaded data"):
        st.session_state[SESSION_TABLES] = {}
        st.rerun()
