"""Segments: the KPIs across a pair of dimensions as a heatmap, to see where a segment under- or over-performs."""

from __future__ import annotations

import streamlit as st

from ui import workspace as data
from ui.components import filter_chips, period_caption
from ui.i18n import t
from ui.state import ViewState, current


def render_header(state: ViewState) -> None:
    st.title(t("page.segments", state.lang))
    period_caption(state)
    filter_chips(state)


ws = data.current()
state = current()
render_header(state)
