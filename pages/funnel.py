"""Funnel: where leads get stuck, for whom, since when, and whether sales picks them up in time."""

from __future__ import annotations

import polars as pl
import streamlit as st

from kpi.funnel import COLUMN_UNITS, best_and_worst
from ui import workspace as data
from ui.charts import conversion_trend_chart, stage_breakdown_chart
from ui.components import (
    funnel_panel,
    incomplete_note,
    kpi_cards,
    page_header,
    range_note,
    select_to_filter,
    show_chart,
)
from ui.ga4 import render_ga4_funnel
from ui.i18n import dim_label, t
from ui.navigation import render_page
from ui.safe import md
from ui.state import ViewState, current
from ui.tables import data_table, metric_table
from ui.widgets import translated_select

MIN_BASE = 30  # a rate over fewer leads than this is not named best or worst
HANDOVER = ("speed_to_lead_hours", "leakage", "leaked_leads", "sla_leads")
LEAK_BY = ("owner", "channel", "segment")
LEAK_METRICS = ("leakage", "leaked_leads", "speed_to_lead_hours")
LEAKED_SHOWN = 200  # leaked leads drawn on screen; a 1M-lead workspace leaks 150k, all in the downloads
# each measure is followed by its value in the comparison period (`<column>_prev`) when compared
STAGE_TABLE = ("label", "count", "count_prev", "step_conversion", "step_conversion_prev", "cost_per_stage",
               "cost_per_stage_prev", "days_from_previous", "days_from_previous_prev", "days_from_previous_p75",
               "days_from_previous_p75_prev", "overall_conversion", "drop_off")
RATE_KINDS = {"best_conversion": "ratio", "worst_conversion": "ratio"}


def render_stages(ws: data.Workspace, state: ViewState) -> bool:
    st.subheader(t("funnel.stages", state.lang))
    funnel = funnel_panel(ws, state, split=True)
    if funnel is None:
        return False
    data_table(funnel.select(c for c in STAGE_TABLE if c in funnel.columns), state.lang, key="funnel_stages",
               file_name="funnel", kinds=COLUMN_UNITS, currency=ws.settings.currency)
    st.caption(t("funnel.stage_table_help", state.lang, currency=ws.settings.currency))
    if state.view == "flow":
        st.caption(t("funnel.flow_table_note", state.lang))
    return True


def render_breakdown(ws: data.Workspace, state: ViewState) -> None:
    st.subheader(t("funnel.breakdown", state.lang))
    dims = [d for d in data.funnel_dimensions(ws) if d not in ("source", "medium")]
    if not dims:
        return
    dim = translated_select(st, t("funnel.breakdown_by", state.lang), dims, "funnel_by",
                            "channel" if "channel" in dims else dims[0], state.lang, lambda d: dim_label(d, state.lang))
    label = dim_label(dim, state.lang)
    by = data.funnel(ws, state.query([dim]))
    chart = stage_breakdown_chart(by, dim, state.lang, t("funnel.breakdown_title", state.lang, dimension=label), label)
    show_chart(st, chart, state.lang, key="funnel_breakdown",
               on_select=lambda: select_to_filter("funnel_breakdown", dim), selection_mode="pick", width="stretch")
    st.caption(t("funnel.best_worst", state.lang, dimension=md(label), min_base=MIN_BASE))
    best_worst = best_and_worst(by, dim, MIN_BASE).select("label", "best", "best_conversion", "worst",
                                                                   "worst_conversion")
    data_table(best_worst, state.lang, key="funnel_best_worst", file_name=f"funnel-best-worst-{dim}",
               kinds=RATE_KINDS)


def render_trend(ws: data.Workspace, state: ViewState) -> None:
    trend = data.conversion_trend(ws, state.query(grain=state.grain))
    title = t("chart.flow_trend" if state.view == "flow" else "funnel.trend", state.lang)
    chart = conversion_trend_chart(trend, state.lang, title, state.view)
    show_chart(st, chart, state.lang, width="stretch")
    range_note(ws, state.lang)
    if state.view == "flow":
        st.caption(t("chart.flow_ratio_note", state.lang))
        return
    note = incomplete_note(data.incomplete_periods(ws, state.query(grain=state.grain)), state.lang)
    if note:
        st.caption(note)


def render_handover(ws: data.Workspace, state: ViewState) -> None:
    st.subheader(t("funnel.handover", state.lang))
    if "first_contact_at" not in ws.tables.get("leads", pl.DataFrame()).columns:
        st.info(t("funnel.no_contact_data", state.lang))
        return
    st.caption(t("funnel.sla", state.lang, hours=f"{ws.settings.sla_hours:g}"))
    kpi_cards(ws, state, HANDOVER)
    catalog = data.catalog(ws)
    dims = [d for d in LEAK_BY if d in data.dimensions(ws)]
    for col, dim in zip(st.columns(len(dims)) if dims else [], dims, strict=True):
        with col:
            st.markdown(f"**{t('funnel.leakage_by', state.lang, dimension=md(dim_label(dim, state.lang)))}**")
            table = data.compute(ws, state.query([dim], view="cohort"), LEAK_METRICS).sort(
                "leakage", descending=True, nulls_last=True)
            metric_table(table, [dim], [catalog[m] for m in LEAK_METRICS], state.lang, ws.settings.currency,
                         key=f"leak_by_{dim}", file_name=f"leakage-by-{dim}")
    leaked = data.leaked_leads(ws, state.query())
    with st.expander(t("funnel.leaked_list", state.lang, count=leaked.height)):
        shown = leaked.with_columns(pl.col("reason").replace_strict(
            {r: t(f"funnel.reason.{r}", state.lang) for r in ("never_contacted", "contacted_late")}))
        data_table(shown, state.lang, key="leaked_leads", file_name="leaked-leads",
                   kinds={"hours_to_contact": "hours"}, first=LEAKED_SHOWN)


def render() -> None:
    ws = data.current()
    state = current()
    page_header("page.funnel", state)
    if render_stages(ws, state):
        render_breakdown(ws, state)
        render_trend(ws, state)
        render_handover(ws, state)
    render_ga4_funnel(state.period, state.lang)  # draws nothing unless GA4 is configured


if __name__ == "__main__":
    render_page(render)
