"""The global view state (period, comparison, grain, count mode, filters, language) and its sidebar.

Every widget is bound to a URL query parameter (its key is the parameter name), so the address bar
reproduces the view and opening such an address restores it. Invalid parameters are dropped with a
visible notice instead of an error.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import streamlit as st

from kpi.metrics import VIEWS, View
from kpi.period import COMPARES, GRAINS, PRESETS, Compare, Grain, Period, compare_period, preset
from ui.i18n import LANG_KEY, LANGUAGES, browser_language, t
from ui.workspace import Workspace, dimension_values

CUSTOM = "custom"
FILTER_DIMENSIONS = ("channel", "segment", "region", "initiative", "campaign")
DEFAULT_PRESET = "last_90_days"
DEFAULTS = {"period": DEFAULT_PRESET, "compare": "previous", "grain": "week", "view": "cohort"}
STATE_KEY = "_view_state"


@dataclass(frozen=True)
class ViewState:
    period: Period
    compare: Compare
    compare_period: Period | None
    grain: Grain
    view: View
    filters: dict[str, list[str]] = field(default_factory=dict)
    lang: str = "en"

    @property
    def active_filters(self) -> dict[str, list[str]]:
        return {d: v for d, v in self.filters.items() if v}


def _check_query_params(ws: Workspace) -> list[str]:
    """Names and values of URL parameters that no widget would accept; Streamlit drops them itself."""
    params = st.query_params
    choices: dict[str, tuple[str, ...]] = {"period": (*PRESETS, CUSTOM), "compare": COMPARES, "grain": GRAINS,
                                           "view": VIEWS, LANG_KEY: tuple(LANGUAGES)}
    invalid = []
    for name, valid in choices.items():
        value = params.get(name)
        if value is not None and value not in valid:
            invalid.append(f"{name}={value}")
    for name in ("from", "to"):
        value = params.get(name)
        if value:
            try:
                date.fromisoformat(value)
            except ValueError:
                invalid.append(f"{name}={value}")
    for dim in FILTER_DIMENSIONS:
        known = set(dimension_values(ws, dim))
        for value in params.get_all(dim):
            for part in value.split(","):
                if part and part not in known:
                    invalid.append(f"{dim}={part}")
    return invalid


def render_sidebar(ws: Workspace) -> ViewState:
    """Draw the global filters in the sidebar and return what they select."""
    invalid = _check_query_params(ws)
    today = ws.last_day or date.today()
    with st.sidebar:
        lang = st.selectbox(t("sidebar.language"), list(LANGUAGES), format_func=LANGUAGES.__getitem__,
                            index=list(LANGUAGES).index(browser_language()), key=LANG_KEY, bind="query-params")
        for item in invalid:
            name, _, value = item.partition("=")
            st.warning(t("notice.invalid_param", lang, name=name, value=value), icon="⚠️")
        choice = st.selectbox(t("sidebar.period", lang), [*PRESETS, CUSTOM], key="period", bind="query-params",
                              index=[*PRESETS, CUSTOM].index(DEFAULT_PRESET),
                              format_func=lambda p: t(f"preset.{p}", lang))
        if choice == CUSTOM:
            start = st.date_input(t("sidebar.from", lang), value=today - timedelta(days=89), key="from",
                                  bind="query-params")
            end = st.date_input(t("sidebar.to", lang), value=today, key="to", bind="query-params")
            period = Period(min(start, end), max(start, end))  # type: ignore[type-var]
        else:
            period = preset(choice, today)
        compare = st.selectbox(t("sidebar.compare", lang), COMPARES, key="compare", bind="query-params",
                               format_func=lambda c: t(f"compare.{c}", lang))
        grain = st.selectbox(t("sidebar.grain", lang), GRAINS, index=GRAINS.index("week"), key="grain",
                             bind="query-params", format_func=lambda g: t(f"grain.{g}", lang))
        view = st.radio(t("sidebar.view", lang), VIEWS, key="view", bind="query-params",
                        format_func=lambda v: t(f"view.{v}", lang))
        st.subheader(t("sidebar.filters", lang))
        filters = {}
        for dim in FILTER_DIMENSIONS:
            options = dimension_values(ws, dim)
            if options:
                filters[dim] = st.multiselect(t(f"dim.{dim}", lang), options, key=dim, bind="query-params")
    state = ViewState(period, compare, compare_period(period, compare), grain, view, filters, lang)
    st.session_state[STATE_KEY] = state
    return state


def current() -> ViewState:
    """The view state the sidebar produced on this run (pages call this)."""
    return st.session_state[STATE_KEY]  # type: ignore[no-any-return]
