"""Campaigns & initiatives: which initiatives pay, their campaigns, cost against results, trends."""

from __future__ import annotations

import streamlit as st

from ui import workspace as data
from ui.charts import dimension_trend, spend_cpl_scatter
from ui.components import page_header, range_note, select_to_filter, show_chart
from ui.i18n import dim_label, metric_label, t
from ui.navigation import render_page
from ui.safe import md
from ui.state import ViewState, current
from ui.tables import metric_table
from ui.widgets import translated_select

KPIS = ("spend", "impressions", "clicks", "ctr", "cpc", "leads", "cpl", "mql", "cost_per_mql", "sql", "opportunities",
        "won", "cac", "pipeline", "revenue", "roas", "roi")
COMPACT = ("spend", "leads", "cpl", "won", "cac", "roas", "roi")  # the tables' default columns
SCATTER = ("spend", "cpl", "leads", "revenue", "roas")
TREND = ("cpl", "revenue", "roas", "roi", "cac", "leads", "mql", "won", "spend", "lead_to_won")
INITIATIVE, CAMPAIGN = "initiative", "campaign"
INITIATIVE_TABLE = "initiative_table"
ALL_COLUMNS = "campaigns_all_columns"


def shown_columns() -> tuple[str, ...] | None:
    """The metrics the tables show: the compact set, or every one (None) when the reader asks for all."""
    return None if st.session_state.get(ALL_COLUMNS) else COMPACT


def render_cost_notice(ws: data.Workspace, state: ViewState) -> None:
    """Spend is recorded by campaign, channel and initiative; a filter on anything else leaves cost unknown."""
    spend_columns = ws.tables["spend"].columns if "spend" in ws.tables else []
    lacking = [d for d in state.active_filters if d not in spend_columns]
    if "spend" in ws.tables and lacking:
        st.caption(t("campaigns.cost_filtered", state.lang,
                     dimensions=", ".join(md(dim_label(d, state.lang)) for d in lacking)))


def render_initiatives(ws: data.Workspace, state: ViewState) -> str | None:
    """The initiative table, best return first; returns the initiative whose row is selected."""
    st.subheader(t("campaigns.initiatives", state.lang))
    table = data.compute(ws, state.query([INITIATIVE], compared=True), KPIS).sort("roas", descending=True,
                                                                                 nulls_last=True)
    if table.is_empty():
        st.info(t("notice.no_data", state.lang))
        return None
    catalog = data.catalog(ws)
    st.caption(t("campaigns.initiatives_help", state.lang))
    selected = metric_table(table, [INITIATIVE], [catalog[m] for m in KPIS], state.lang, ws.settings.currency,
                            key=INITIATIVE_TABLE, file_name="initiatives", select_row=True,
                            shown=shown_columns())
    return table[INITIATIVE][selected[0]] if selected else None


def render_campaigns(ws: data.Workspace, state: ViewState, initiative: str | None) -> None:
    """The campaign table: the selected initiative's campaigns, or all campaigns in the filters."""
    chosen = [initiative] if initiative is not None else state.filters.get(INITIATIVE, [])
    title = (t("campaigns.campaigns_of", state.lang, initiative=", ".join(md(c) for c in chosen)) if chosen
             else t("campaigns.campaigns", state.lang))
    st.subheader(title)
    by = [CAMPAIGN, INITIATIVE] if INITIATIVE in data.dimensions(ws) else [CAMPAIGN]
    query = state.query(by, compared=True)
    if initiative is not None:
        query = query.but(filters={**query.filter_map, INITIATIVE: [initiative]})
    table = data.compute(ws, query, KPIS).sort("spend", descending=True, nulls_last=True)
    if table.is_empty():
        st.info(t("notice.no_data", state.lang))
        return
    catalog = data.catalog(ws)
    metric_table(table, by, [catalog[m] for m in KPIS], state.lang, ws.settings.currency, key="campaign_table",
                 file_name="campaigns", shown=shown_columns())


def render_scatter(ws: data.Workspace, state: ViewState) -> None:
    levels = [d for d in (INITIATIVE, CAMPAIGN) if d in data.dimensions(ws)]
    level = st.segmented_control(t("campaigns.points", state.lang), levels, default=levels[-1], required=True,
                                 format_func=lambda d: dim_label(d, state.lang), key="scatter_level")
    colour = INITIATIVE if INITIATIVE in levels else None  # each initiative keeps its colour on every chart
    by = [level] if colour in (None, level) else [level, colour]
    points = data.compute(ws, state.query(by), SCATTER)
    key = "spend_cpl"
    chart = spend_cpl_scatter(points, level, state.lang, ws.settings.currency, t("campaigns.scatter", state.lang),
                              dim_label(level, state.lang), colour, dim_label(INITIATIVE, state.lang),
                              data.dimension_values(ws, INITIATIVE) if colour else None)
    show_chart(st, chart, state.lang, key=key, on_select=lambda: select_to_filter(key, level), selection_mode="pick",
                    width="stretch")
    st.caption(t("campaigns.scatter_help", state.lang))


def render_trend(ws: data.Workspace, state: ViewState) -> None:
    metric = translated_select(st, t("campaigns.trend_metric", state.lang), TREND, "trend_metric", TREND[0],
                               state.lang, lambda m: metric_label(m, state.lang))
    trend = data.compute(ws, state.query([INITIATIVE], state.grain), [metric])
    title = t("campaigns.trend", state.lang, metric=metric_label(metric, state.lang))
    key = "initiative_trend"
    chart = dimension_trend(trend, INITIATIVE, metric, data.catalog(ws)[metric].unit, state.lang, title,
                            dim_label(INITIATIVE, state.lang), data.dimension_values(ws, INITIATIVE))
    show_chart(st, chart, state.lang, key=key, on_select=lambda: select_to_filter(key, INITIATIVE),
               selection_mode="pick", width="stretch")
    range_note(ws, state.lang)


def render() -> None:
    ws = data.current()
    state = current()
    page_header("page.campaigns", state)
    dims = data.dimensions(ws)
    if CAMPAIGN not in dims and INITIATIVE not in dims:
        st.info(t("campaigns.no_campaigns", state.lang))
        st.stop()
    render_cost_notice(ws, state)
    st.toggle(t("campaigns.all_columns", state.lang), key=ALL_COLUMNS, help=t("campaigns.all_columns_help", state.lang))
    drilled = None
    if INITIATIVE in dims:
        drilled = render_initiatives(ws, state)
    else:
        st.info(t("campaigns.no_initiatives", state.lang))
    if CAMPAIGN in dims:
        render_campaigns(ws, state, drilled)
    left, right = st.columns(2)
    with left:
        render_scatter(ws, state)
    if INITIATIVE in dims:
        with right:
            render_trend(ws, state)


if __name__ == "__main__":
    render_page(render)
