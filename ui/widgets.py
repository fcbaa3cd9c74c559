"""Widget helpers that the sidebar and pages share."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

import streamlit as st

T = TypeVar("T")


def translated_select(where: object, label: str, options: Sequence[T], key: str, default: T, lang: str,
                      format_func: Callable[[T], str]) -> T:
    """A selectbox whose options are shown in `lang` and whose choice survives a language switch.

    Streamlit keeps showing a selected option's old label when only the labels change, so the widget
    is keyed per language and the choice itself lives in st.session_state[key].
    """
    current = st.session_state.get(key, default)
    if current not in options:
        current = default
    widget = f"{key}.{lang}"

    def remember() -> None:
        st.session_state[key] = st.session_state[widget]

    if widget in st.session_state:
        st.session_state[widget] = current  # the choice may have been set elsewhere (a link, a click)
        start = {}
    else:
        start = {"index": list(options).index(current)}
    value: T = where.selectbox(label, list(options), key=widget, format_func=format_func,  # type: ignore[attr-defined]
                               on_change=remember, **start)
    st.session_state[key] = value
    return value
