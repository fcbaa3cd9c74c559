"""The global view state (period, comparison, grain, count mode, filters, language) and its sidebar.

Every widget mirrors a URL query parameter (its key is the parameter name), so the address bar
reproduces the view and opening such an address restores it. Invalid parameters are dropped with a
visible notice instead of an error. (Streamlit's own `bind="query-params"` writes the translated
option labels into the URL, which would make a link depend on the language; hence the manual sync.)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

import streamlit as st

from kpi import clock
from kpi.attribution import MODELS, Model
from kpi.metrics import VIEWS
from kpi.period import COMPARES, GRAINS, PRESETS, Compare, Grain, Period, compare_period, preset
from kpi.query import Query, View
from ui.i18n import LANG_KEY, LANGUAGES, browser_language, t
from ui.safe import md
from ui.widgets import translated_select
from ui.workspace import Workspace, dimension_values

CUSTOM = "custom"
FILTER_DIMENSIONS = ("channel", "segment", "region", "initiative", "campaign")
DEFAULT_PRESET = "last_90_days"
STATE_KEY = "_view_state"
# Streamlit's date picker otherwise only reaches ten years back: CRM exports can be older.
EARLIEST, LATEST = date(1990, 1, 1), date(2100, 12, 31)


@dataclass(frozen=True)
class ViewState:
    period: Period
    compare: Compare
    compare_period: Period | None
    grain: Grain
    view: View
    filters: dict[str, list[str]] = field(default_factory=dict)
    lang: str = "en"
    preset: str = DEFAULT_PRESET
    model: Model = "linear"  # the attribution model the Attribution page (and its links) show
    funnel: str | None = None  # the Event funnels page's funnel (`EventQuestion.encode`), kept in links

    @property
    def active_filters(self) -> dict[str, list[str]]:
        return {d: v for d, v in self.filters.items() if v}

    def query(self, by: Sequence[str] = (), grain: Grain | None = None, *, view: View | None = None,
              allocation: bool = False, compared: bool = False) -> Query:
        """The engine query for this view: its period and filters, counted as `view` (default: the view's
        own), by `by` and `grain`; `compared` sets the comparison period beside it."""
        return Query.of(by=by, period=self.period, grain=grain, filters=self.filters, view=view or self.view,
                        allocation=allocation, compare=self.compare_period if compared else None)


COUNT_KEY = "count"  # cohort or flow; the URL's `view` parameter is kept for share links
MODEL_KEY = "model"  # set by the Attribution page's picker, kept in the address and in share links
FUNNEL_KEY = "funnel"  # set by the Event funnels page's builder, kept in the address and in share links
CHOICES: dict[str, tuple[str, ...]] = {LANG_KEY: tuple(LANGUAGES), "period": (*PRESETS, CUSTOM), "compare": COMPARES,
                                       "grain": GRAINS, COUNT_KEY: VIEWS, MODEL_KEY: MODELS}
DATES = ("from", "to")
DEFAULT_VALUES: dict[str, object] = {"period": DEFAULT_PRESET, "compare": "previous", "grain": "week",
                                     COUNT_KEY: "cohort", MODEL_KEY: "linear"}
_SYNCED = "_url_synced"
_NOTICES = "_url_notices"


def apply_params(ws: Workspace, params: Mapping[str, Sequence[str]]) -> None:
    """Once per session: put valid view parameters (from the URL or a shared view) into the widgets'
    state, and note the invalid ones for the sidebar to show.

    Parameters carry language-independent ids (period=last_month, not the label), so a link opens
    the same view in any language.
    """
    if st.session_state.get(_SYNCED):
        return
    notices: list[tuple[str, str]] = []
    for name, valid in CHOICES.items():
        for value in params.get(name, [])[:1]:
            if value in valid:
                st.session_state[name] = value
            else:
                notices.append((name, value))
    for value in params.get(FUNNEL_KEY, [])[:1]:
        from kpi.events import EventFunnelError  # numba is imported only for a link with a funnel
        from kpi.journeys import EventQuestion

        try:
            st.session_state[FUNNEL_KEY] = EventQuestion.decode(value).encode()
        except EventFunnelError:
            notices.append((FUNNEL_KEY, value))
    for name in DATES:
        for value in params.get(name, [])[:1]:
            try:
                st.session_state[name] = date.fromisoformat(value)
            except ValueError:
                notices.append((name, value))
    for dim in FILTER_DIMENSIONS:
        raw = [part for value in params.get(dim, []) for part in value.split(",") if part]
        if not raw:
            continue
        known = set(dimension_values(ws, dim))
        st.session_state[dim] = [v for v in dict.fromkeys(raw) if v in known]
        notices += [(dim, v) for v in raw if v not in known]
    st.session_state[_NOTICES] = notices
    st.session_state[_SYNCED] = True


def url_params() -> dict[str, list[str]]:
    return {k: st.query_params.get_all(k) for k in st.query_params}


def view_params(state: ViewState) -> dict[str, str | list[str]]:
    """The view as parameters, leaving out defaults: what the URL and a saved view hold."""
    params: dict[str, str | list[str]] = {}
    values: dict[str, object] = {LANG_KEY: state.lang, "period": state.preset, "compare": state.compare,
                                 "grain": state.grain, COUNT_KEY: state.view, MODEL_KEY: state.model}
    for name, value in values.items():
        if value != DEFAULT_VALUES.get(name) and not (name == LANG_KEY and value == browser_language()):
            params[name] = str(value)
    if state.preset == CUSTOM:
        params["from"], params["to"] = state.period.start.isoformat(), state.period.end.isoformat()
    if state.funnel:
        params[FUNNEL_KEY] = state.funnel
    for dim, selected in state.active_filters.items():
        params[dim] = list(selected)
    return params


def url_for(state: ViewState) -> dict[str, str | list[str]]:
    """The address's parameters for `state`: the current ones this module does not manage (workspace,
    a shared view's token), then the view's own."""
    managed = {*CHOICES, *DATES, *FILTER_DIMENSIONS, FUNNEL_KEY}
    params: dict[str, str | list[str]] = {k: v for k, v in url_params().items() if k not in managed}
    return params | view_params(state)


def _write_url(state: ViewState) -> None:
    """Mirror the view in the address bar, keeping parameters this module does not manage."""
    params = url_for(state)
    if {k: v if isinstance(v, list) else [v] for k, v in params.items()} != url_params():
        st.query_params.from_dict(params)


def render_sidebar(ws: Workspace, initial: Mapping[str, Sequence[str]] | None = None) -> ViewState:
    """Draw the global filters in the sidebar and return what they select.

    `initial` is the view to open with (a shared view's parameters); by default the URL's.
    """
    apply_params(ws, initial if initial is not None else url_params())
    today = ws.last_day or clock.today()
    with st.sidebar:
        lang = st.selectbox(t("sidebar.language"), list(LANGUAGES), format_func=LANGUAGES.__getitem__,
                            index=list(LANGUAGES).index(browser_language()), key=LANG_KEY, persist_state="session")
        for name, value in st.session_state.get(_NOTICES, []):
            st.warning(t("notice.invalid_param", lang, name=md(name), value=md(value)), icon="⚠️")  # from the URL
        choice = translated_select(st, t("sidebar.period", lang), [*PRESETS, CUSTOM], "period", DEFAULT_PRESET,
                                   lang, lambda p: t(f"preset.{p}", lang))
        if choice == CUSTOM:
            start = st.date_input(t("sidebar.from", lang), value=today - timedelta(days=89), key="from",
                                  min_value=EARLIEST, max_value=LATEST, persist_state="session")
            end = st.date_input(t("sidebar.to", lang), value=today, key="to", min_value=EARLIEST, max_value=LATEST,
                                persist_state="session")
            period = Period(min(start, end), max(start, end))
        else:
            period = preset(choice, today)
        compare = translated_select(st, t("sidebar.compare", lang), COMPARES, "compare", "previous", lang,
                                    lambda c: t(f"compare.{c}", lang))
        grain = translated_select(st, t("sidebar.grain", lang), GRAINS, "grain", "week", lang,
                                  lambda g: t(f"grain.{g}", lang))
        view = st.radio(t("sidebar.view", lang), VIEWS, key=COUNT_KEY, persist_state="session",
                        format_func=lambda v: t(f"view.{v}", lang))
        st.subheader(t("sidebar.filters", lang))
        filters = {}
        for dim in FILTER_DIMENSIONS:
            options = dimension_values(ws, dim)
            if options:
                filters[dim] = st.multiselect(t(f"dim.{dim}", lang), options, key=dim, persist_state="session",
                                              placeholder=t("sidebar.choose", lang))
    model = st.session_state.get(MODEL_KEY)
    state = ViewState(period, compare, compare_period(period, compare), grain, view, filters, lang, choice,
                      model if model in MODELS else "linear", st.session_state.get(FUNNEL_KEY))
    st.session_state[STATE_KEY] = state
    _write_url(state)
    return state


def current() -> ViewState:
    """The view state the sidebar produced on this run (pages call this)."""
    return st.session_state[STATE_KEY]  # type: ignore[no-any-return]
