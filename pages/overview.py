"""Overview: headline KPIs, the funnel from visit to won deal, trends, best and worst initiatives."""

from __future__ import annotations

import streamlit as st

from kpi import scorecard
from kpi.summary import HEADLINE, rank
from ui import format as fmt
from ui import kpis
from ui import workspace as data
from ui.charts import ranked_bars, small_multiples
from ui.components import (
    cost_choice,
    cost_notes,
    funnel_panel,
    incomplete_note,
    kpi_cards,
    page_header,
    range_note,
    select_to_filter,
    show_chart,
)
from ui.i18n import dim_label, metric_label, t
from ui.navigation import render_page
from ui.state import COUNT_KEY, ViewState, current
from ui.widgets import translated_select

TREND = ("leads", "mql", "won", "spend")
RANK_BY = ("roas", "cpl", "cac", "lead_to_won", "revenue", "leads")
INITIATIVE = "initiative"


def show_kpi_period(preset_name: str) -> None:
    """on_click: the sidebar's period and counting set to the KPIs' own, so the cards measure what they do."""
    st.session_state["period"] = preset_name
    st.session_state[COUNT_KEY] = scorecard.VIEW


def render_kpis(ws: data.Workspace, state: ViewState) -> bool:
    """The headline cards; returns whether cost is allocated by lead share (the reader's choice when a
    filter's dimension is not in spend)."""
    lang = state.lang
    st.subheader(t("overview.headline", lang))
    compared = (t("notice.period_label", lang, start=fmt.day(state.compare_period.start, lang),
                  end=fmt.day(state.compare_period.end, lang)) if state.compare_period
                else t("overview.cards_scope.none", lang))
    st.caption(t("overview.cards_scope", lang, start=fmt.day(state.period.start, lang),
                 end=fmt.day(state.period.end, lang), how=t(f"overview.count.{state.view}", lang), compared=compared))
    if state.view == "cohort":  # the latest leads' later stages are not final yet: say so before the cards
        young = incomplete_note(data.incomplete_periods(ws, state.query(grain="year")), lang, HEADLINE,
                                key="overview.cards_young")
        if young:
            st.caption(young)
    costs = [m for m in HEADLINE if data.cost_dimensions_missing(ws, state.query(), [m])]
    missing = data.cost_dimensions_missing(ws, state.query(), costs)
    allocate = bool(cost_choice(missing, costs, state))
    catalog = data.catalog(ws)
    day = min(state.period.end, ws.last_day or state.period.end)
    cards = {} if state.active_filters else kpis.headline(ws, HEADLINE, day)
    shown = (state.period, state.view)
    notes = {m: kpis.note(card, catalog, lang, ws.settings.currency, day, shown) for m, card in cards.items()}
    notes |= cost_notes(missing, costs, allocate, lang)
    kpi_cards(ws, state, HEADLINE, view=state.view, notes=notes, allocate_cost=allocate)
    if state.active_filters and "kpis" in ws.tables:
        st.caption(t("target.filtered", lang))
    other = next((c for c in cards.values() if not c.measures(*shown) and c.so_far is not None), None)
    name = kpis.matching_preset(other, day) if other is not None and day == ws.last_day else None
    if other is not None and other.so_far is not None and name is not None:
        st.button(t("overview.match_kpis", lang, start=fmt.day(other.so_far.start, lang),
                    end=fmt.day(other.so_far.end, lang)), key="match_kpis", on_click=show_kpi_period, args=(name,),
                  icon=":material/sync_alt:")
    return allocate


def render_trend(ws: data.Workspace, state: ViewState, allocate: bool) -> None:
    trend = data.compute(ws, state.query(grain=state.grain, allocation=allocate), TREND)
    if trend.is_empty():
        return
    units = {m: data.catalog(ws)[m].unit for m in TREND}
    young = (data.incomplete_periods(ws, state.query(grain=state.grain)) if state.view == "cohort"
             else None)
    st.subheader(t("overview.trend", state.lang))
    charts = small_multiples(trend, TREND, units, state.lang, young)
    for start in range(0, len(charts), 2):  # two a row; Streamlit stacks the columns on a phone
        for col, chart in zip(st.columns(2), charts[start:start + 2], strict=False):
            show_chart(col, chart, state.lang, width="stretch")
    note = incomplete_note(young, state.lang, TREND) if young is not None else None
    if note:
        st.caption(note)
    range_note(ws, state.lang)


def render_initiatives(ws: data.Workspace, state: ViewState, allocate: bool) -> None:
    if INITIATIVE not in data.dimensions(ws):
        return
    st.subheader(t("overview.initiatives", state.lang))
    metric = translated_select(st, t("overview.rank_by", state.lang), RANK_BY, "rank_by", RANK_BY[0], state.lang,
                               lambda m: metric_label(m, state.lang))
    m = data.catalog(ws)[metric]
    ranked = rank(data.compute(ws, state.query([INITIATIVE], allocation=allocate), [metric]), INITIATIVE, metric,
                  m.higher_is_better)
    if ranked is None:  # a message, never empty axes or bars of zero
        missing = data.cost_dimensions_missing(ws, state.query(), [metric])
        st.info(t("segments.cost_not_available", state.lang, metric=metric_label(metric, state.lang),
                  dimension=", ".join(dim_label(d, state.lang) for d in missing)) if missing and not allocate
                else t("overview.nothing_to_rank", state.lang, metric=metric_label(metric, state.lang)))
        return
    best, worst = st.columns(2)
    for col, rows, title in ((best, ranked.best, "overview.best"), (worst, ranked.worst, "overview.worst")):
        key = f"initiatives_{title}"
        show_chart(col, ranked_bars(rows, INITIATIVE, metric, m.unit, state.lang, t(title, state.lang),
                                     t("dim.initiative", state.lang)), state.lang,
                         key=key, on_select=lambda key=key: select_to_filter(key, INITIATIVE),
                         selection_mode="pick", width="stretch")


def render() -> None:
    ws = data.current()
    state = current()
    page_header("page.overview", state)
    allocated = render_kpis(ws, state)
    funnel_panel(ws, state, split=False, allocate_cost=allocated)
    render_trend(ws, state, allocated)
    render_initiatives(ws, state, allocated)


if __name__ == "__main__":
    render_page(render)
