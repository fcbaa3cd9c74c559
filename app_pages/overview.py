"""Overview: headline KPIs, the funnel from visit to won deal, trends, best and worst initiatives."""

from __future__ import annotations

import streamlit as st

from ui import kpis
from ui import workspace as data
from ui.charts import ranked_bars, small_multiples
from ui.components import (
    funnel_panel,
    kpi_cards,
    page_header,
    select_to_filter,
    show_chart,
)
from ui.i18n import metric_label, t
from ui.state import ViewState, current
from ui.widgets import translated_select

HEADLINE = ("leads", "mql", "won", "revenue", "spend", "cpl", "cac", "roas")
TREND = ("leads", "mql", "won", "spend")
RANK_BY = ("roas", "cpl", "cac", "lead_to_won", "revenue", "leads")
INITIATIVE = "initiative"


def render_kpis(ws: data.Workspace, state: ViewState) -> None:
    st.subheader(t("overview.headline", state.lang))
    catalog = data.catalog(ws)
    day = min(state.period.end, ws.last_day or state.period.end)
    cards = {} if state.active_filters else kpis.headline(ws, HEADLINE, day)
    notes = {m: kpis.note(card, catalog, state.lang, ws.settings.currency, day) for m, card in cards.items()}
    kpi_cards(ws, state, HEADLINE, view=state.view, notes=notes)
    if state.active_filters and "kpis" in ws.tables:
        st.caption(t("target.filtered", state.lang))


def render_trend(ws: data.Workspace, state: ViewState) -> None:
    trend = data.compute(ws, TREND, period=state.period, grain=state.grain, filters=state.filters, view=state.view)
    if trend.is_empty():
        return
    units = {m: data.catalog(ws)[m].unit for m in TREND}
    st.subheader(t("overview.trend", state.lang))
    charts = small_multiples(trend, TREND, units, state.lang)
    for start in range(0, len(charts), 2):  # two a row; Streamlit stacks the columns on a phone
        for col, chart in zip(st.columns(2), charts[start:start + 2], strict=False):
            show_chart(col, chart, state.lang, width="stretch")
    if data.has_range_spend(ws):
        st.caption(t("notice.range_spend", state.lang))


def render_initiatives(ws: data.Workspace, state: ViewState) -> None:
    if INITIATIVE not in data.dimensions(ws):
        return
    st.subheader(t("overview.initiatives", state.lang))
    metric = translated_select(st, t("overview.rank_by", state.lang), RANK_BY, "rank_by", RANK_BY[0], state.lang,
                               lambda m: metric_label(m, state.lang))
    m = data.catalog(ws)[metric]
    ranked = data.compute(ws, [metric], by=[INITIATIVE], period=state.period, filters=state.filters,
                          view=state.view).drop_nulls(INITIATIVE).drop_nulls(metric)
    ranked = ranked.sort(metric, descending=m.higher_is_better)
    best, worst = st.columns(2)
    for col, rows, title in ((best, ranked.head(5), "overview.best"),
                             (worst, ranked.tail(5).reverse(), "overview.worst")):
        key = f"initiatives_{title}"
        show_chart(col, ranked_bars(rows, INITIATIVE, metric, m.unit, state.lang, t(title, state.lang),
                                     t("dim.initiative", state.lang)), state.lang,
                         key=key, on_select=lambda key=key: select_to_filter(key, INITIATIVE),
                         selection_mode="pick", width="stretch")


ws = data.current()
state = current()
page_header("page.overview", state)
render_kpis(ws, state)
funnel_panel(ws, state, split=False)
render_trend(ws, state)
render_initiatives(ws, state)
