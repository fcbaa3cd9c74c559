"""Attribution: which channels, campaigns and initiatives earn the leads, deals and revenue, under every model."""

from __future__ import annotations

import polars as pl
import streamlit as st

from kpi.attribution import DIMENSIONS, MODELS, credits, untouched
from ui import attribution as words
from ui import format as fmt
from ui import workspace as data
from ui.charts import model_comparison, titled
from ui.components import page_header, select_to_filter, show_chart
from ui.i18n import dim_label, t
from ui.navigation import render_page
from ui.safe import md
from ui.state import MODEL_KEY, ViewState, current
from ui.tables import data_table
from ui.widgets import translated_select

TOP = 12  # values of the dimension drawn in the comparison chart
COMPARISON = "attribution_comparison"


def render_choices(ws: data.Workspace, state: ViewState) -> tuple[str, str, str]:
    """The model (kept in the address and in share links), the dimension credited and what is credited."""
    left, middle, right = st.columns(3)
    model = translated_select(left, t("attribution.model", state.lang), MODELS, MODEL_KEY, state.model, state.lang,
                              lambda m: words.model_label(m, state.lang))
    by = translated_select(middle, t("attribution.by", state.lang), DIMENSIONS, "attribution_by", "channel",
                           state.lang, lambda d: dim_label(d, state.lang))
    credit = translated_select(right, t("attribution.credit", state.lang), credits(ws.settings), "attribution_credit",
                               "leads", state.lang, lambda c: words.credit_label(ws, c, state.lang))
    st.caption(t(f"model.{model}.explain", state.lang))
    if ws.data.has_derived_touches:
        st.caption(t("attribution.derived", state.lang))
    return model, by, credit


def render_totals(chosen: pl.DataFrame, by: str, credit: str, ws: data.Workspace, state: ViewState) -> None:
    total, alone = untouched(chosen, by)  # type: ignore[arg-type]
    left, right, _ = st.columns(3)
    if credit == "revenue":
        left.metric(t("attribution.total_revenue", state.lang), fmt.money(total, ws.settings.currency, state.lang))
    else:
        left.metric(t("attribution.total", state.lang), fmt.number(total, state.lang))
    right.metric(t("attribution.untouched", state.lang), fmt.percent(alone / total if total else None, state.lang),
                 help=t("attribution.untouched_help", state.lang))
    st.caption(t("attribution.counting", state.lang, credit=md(words.credit_label(ws, credit, state.lang))))


def render_comparison(compared: pl.DataFrame, by: str, model: str, credit: str, ws: data.Workspace,
                      state: ViewState) -> None:
    top = (compared.filter(pl.col("model") == model).sort("credit", descending=True)[by].head(TOP))
    shown = compared.filter(pl.col(by).is_in(top.implode()))
    title = titled(t("attribution.compare_title", state.lang, credit=words.credit_label(ws, credit, state.lang),
                     dimension=dim_label(by, state.lang).lower()), t("attribution.compare_measure", state.lang))
    chart = model_comparison(shown, by, model, state.lang, title, dim_label(by, state.lang),
                             words.model_labels(state.lang))
    show_chart(st, chart, state.lang, key=COMPARISON, on_select=lambda: select_to_filter(COMPARISON, by),
               selection_mode="pick", width="stretch")
    st.caption(t("attribution.top", state.lang, count=TOP))


def render_costs(compared: pl.DataFrame, by: str, credit: str, ws: data.Workspace, state: ViewState) -> None:
    revenue = credit == "revenue"
    st.subheader(t("attribution.roas_title" if revenue else "attribution.cost_title", state.lang))
    if state.active_filters:
        st.info(t("attribution.sliced", state.lang))
        return
    table = words.by_model(compared, by, "roas" if revenue else "cost_per_credit", state.lang)
    kinds = {"spend": "currency"} | {c: "multiple" if revenue else "currency" for c in table.columns[2:]}
    data_table(table, state.lang, key="attribution_costs", file_name=f"attribution-{credit}-by-{by}", kinds=kinds,
               currency=ws.settings.currency, pinned=[by])
    st.caption(t("attribution.cost_help", state.lang))


def render_stages(ws: data.Workspace, model: str, by: str, state: ViewState) -> None:
    st.subheader(t("attribution.stages_title", state.lang, model=words.model_label(model, state.lang)))
    stages = data.stage_credits(ws, state.query([by]), model)  # type: ignore[arg-type]
    counts = [c for c in stages.columns if c != by and c != "spend" and not c.startswith("cost_per_")]
    labels = {c: words.credit_label(ws, c, state.lang) for c in counts}
    costs = {f"cost_per_{c}": t("attribution.col.cost_per", state.lang, credit=labels[c]) for c in counts}
    table = stages.rename({**labels, **costs, "spend": t("attribution.col.spend", state.lang)})
    kinds = dict.fromkeys(labels.values(), "number") | dict.fromkeys(
        [*costs.values(), t("attribution.col.spend", state.lang)], "currency")
    if state.active_filters:
        table = table.drop(t("attribution.col.spend", state.lang), *costs.values())
    data_table(table, state.lang, key="attribution_stages", file_name=f"attribution-stages-{model}-by-{by}",
               kinds=kinds, currency=ws.settings.currency, pinned=[by])
    st.caption(t("attribution.stages_help", state.lang))


def render_models_explained(lang: str) -> None:
    with st.expander(t("attribution.how", lang)):
        for model in MODELS:
            st.markdown(f"**{words.model_label(model, lang)}**: {t(f'model.{model}.explain', lang)}")


def render() -> None:
    ws = data.current()
    state = current()
    page_header("page.attribution", state)
    if "touches" not in ws.tables:
        st.info(t("attribution.no_touches", state.lang))
        st.stop()
    model, by, credit = render_choices(ws, state)
    compared = data.attribution(ws, state.query([by]), credit)
    chosen = compared.filter(pl.col("model") == model)
    if not chosen["credit"].sum():
        st.info(t("attribution.no_data", state.lang, credit=md(words.credit_label(ws, credit, state.lang))))
        st.stop()
    render_totals(chosen, by, credit, ws, state)
    render_comparison(compared, by, model, credit, ws, state)
    render_costs(compared, by, credit, ws, state)
    render_stages(ws, model, by, state)
    render_models_explained(state.lang)


if __name__ == "__main__":
    render_page(render)
