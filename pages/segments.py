"""Segments: the KPIs across a pair of dimensions as a heatmap, to see where a segment under- or over-performs."""

from __future__ import annotations

import streamlit as st

from kpi.metrics import Metric, ratio_parts
from ui import format as fmt
from ui import workspace as data
from ui.charts import heatmap
from ui.components import cost_choice, page_header, select_to_filter, show_chart
from ui.i18n import dim_label, metric_label, t
from ui.navigation import render_page
from ui.state import FILTER_DIMENSIONS, ViewState, current
from ui.tables import metric_table
from ui.widgets import translated_select

KPIS = ("lead_to_mql", "mql_to_sql", "lead_to_won", "leads", "mql", "sql", "opportunities", "won", "revenue",
        "pipeline", "win_rate", "avg_deal_size", "spend", "cpl", "cost_per_mql", "cac", "roas", "roi")
DEFAULT_PAIR = ("segment", "region")
HEATMAP = "segment_heatmap"


def pick_view(dims: list[str], state: ViewState) -> tuple[str, str, str]:
    """Two dimensions to cross and the KPI; both dimensions are global filters, so a clicked cell filters."""
    defaults = [d for d in DEFAULT_PAIR if d in dims] + [d for d in dims if d not in DEFAULT_PAIR]
    left, right, metric_col = st.columns(3)
    rows = translated_select(left, t("segments.rows", state.lang), dims, "seg_rows", defaults[0], state.lang,
                             lambda d: dim_label(d, state.lang))
    columns = translated_select(right, t("segments.columns", state.lang), dims, "seg_columns", defaults[1],
                                state.lang, lambda d: dim_label(d, state.lang))
    metric = translated_select(metric_col, t("segments.metric", state.lang), KPIS, "seg_metric", KPIS[0], state.lang,
                               lambda m: metric_label(m, state.lang))
    return rows, columns, metric


def render_heatmap(ws: data.Workspace, state: ViewState, pair: tuple[str, str], metric: Metric,
                   allocate: bool) -> None:
    rows, columns = pair
    counts = ratio_parts(metric, data.catalog(ws))
    cells = data.compute(ws, state.query(pair, allocation=allocate), [metric.id, *counts])
    overall = data.compute(ws, state.query(allocation=allocate), [metric.id])[metric.id].item()
    if cells.is_empty() or cells[metric.id].is_null().all():
        st.info(t("notice.no_data", state.lang))
        return
    labels = {d: dim_label(d, state.lang) for d in pair}
    title = t("segments.heatmap", state.lang, metric=metric_label(metric.id, state.lang), rows=labels[rows],
              columns=labels[columns])
    show_chart(st, heatmap(cells, rows, columns, metric.id, metric.unit, metric.higher_is_better, overall,
                           state.lang, title, labels, counts), state.lang,
               key=HEATMAP, on_select=lambda: select_to_filter(HEATMAP, *pair), selection_mode="pick",
               width="stretch")
    st.caption(t("segments.overall", state.lang,
                 value=fmt.metric_value(overall, metric.unit, state.lang, ws.settings.currency)))
    with st.expander(t("segments.table", state.lang)):
        catalog = data.catalog(ws)
        metric_table(cells, list(pair), [catalog[m] for m in dict.fromkeys([metric.id, *counts])], state.lang,
                     ws.settings.currency, key="segment_table", file_name=f"{metric.id}_by_{rows}_and_{columns}")


def render() -> None:
    ws = data.current()
    state = current()
    page_header("page.segments", state)
    dims = [d for d in FILTER_DIMENSIONS if d in data.dimensions(ws)]
    if len(dims) < 2:
        st.info(t("segments.need_two", state.lang))
        st.stop()
    rows, columns, metric_id = pick_view(dims, state)
    if rows == columns:
        st.warning(t("segments.same_dimension", state.lang))
        st.stop()
    pair = (rows, columns)
    metric = data.catalog(ws)[metric_id]
    allocate = cost_choice(data.cost_dimensions_missing(ws, state.query(pair), [metric.id]), [metric.id], state,
                           always=True)
    if allocate is not False:
        render_heatmap(ws, state, pair, metric, bool(allocate))


if __name__ == "__main__":
    render_page(render)
