"""Event funnels: what visitors do on the website before they become leads, and how far those leads go."""

from __future__ import annotations

import polars as pl
import streamlit as st

from kpi.events import EventFunnelError
from kpi.journeys import EventFilterError, EventQuestion, breakdown_frame, journey, step_frame, step_labels
from ui import format as fmt
from ui import workspace as data
from ui.charts import (
    event_steps_chart,
    event_trend_chart,
    funnel_chart,
    stage_breakdown_chart,
    time_between_chart,
    titled,
)
from ui.components import page_header, show_chart
from ui.events import render_builder, render_saved
from ui.ga4 import render_ga4_funnel
from ui.i18n import dim_label, t
from ui.navigation import render_page
from ui.safe import md
from ui.state import ViewState, current
from ui.tables import data_table
from ui.widgets import translated_select

# the step table's columns, under the names their headings are looked up by (col.step_name, col.step_rate, ...)
STEP_TABLE = {"label": "step_name", "count": "count", "count_prev": "count_prev", "step_conversion": "step_rate",
              "step_conversion_prev": "step_rate_prev", "overall_conversion": "first_rate", "drop_off": "drop_off",
              "median_s": "median_s", "mean_s": "mean_s"}
STEP_KINDS = {"count": "count", "count_prev": "count", "step_rate": "ratio", "step_rate_prev": "ratio",
              "first_rate": "ratio", "drop_off": "count", "median_s": "duration", "mean_s": "duration"}
BREAKDOWN_TOP = 8  # values drawn in the breakdown chart; the table has every value
PERSONS_SHOWN = 200  # persons drawn on screen; the downloads hold all
TIME_UNITS = ((86_400 * 2, 86_400, "day"), (3_600 * 2, 3_600, "hour"), (0, 60, "minute"))


def render_headline(steps: pl.DataFrame, state: ViewState) -> None:
    first, last = steps.row(0, named=True), steps.row(-1, named=True)
    compared = "count_prev" in steps.columns
    entered, converted = first["count"], last["count"]
    rate = converted / entered if entered else None
    before = (last["count_prev"] / first["count_prev"]) if compared and first["count_prev"] else None
    cards = st.columns(4)
    cards[0].metric(t("events.entered", state.lang), fmt.number(entered, state.lang),
                    delta=_change(entered, first.get("count_prev"), state.lang))
    cards[1].metric(t("events.converted", state.lang), fmt.number(converted, state.lang),
                    delta=_change(converted, last.get("count_prev"), state.lang))
    cards[2].metric(t("events.conversion", state.lang), fmt.percent(rate, state.lang, 2),
                    delta=f"{fmt.points(rate - before, state.lang)} {t('table.pp', state.lang)}"
                    if rate is not None and before is not None else None)
    total = float(steps["median_s"].sum()) if steps["median_s"].drop_nulls().len() else None
    cards[3].metric(t("events.median_total", state.lang), fmt.duration(total, state.lang),
                    help=t("events.median_total_help", state.lang))


def _change(value: int, before: int | None, lang: str) -> str | None:
    return fmt.percent(value / before - 1, lang) if before else None


def render_steps(steps: pl.DataFrame, state: ViewState) -> None:
    periods = [("count", "step_conversion", t("events.this_period", state.lang))]
    if "count_prev" in steps.columns:
        periods.append(("count_prev", "step_conversion_prev", t("events.compared_period", state.lang)))
    bars = pl.concat([steps.select("position", "label", pl.lit(name).alias("period"), pl.col(count).alias("count"),
                                   pl.col(rate).alias("step_conversion")) for count, rate, name in periods])
    title = titled(t("events.chart", state.lang), t("events.chart_measure", state.lang))
    show_chart(st, event_steps_chart(bars, state.lang, title), state.lang, width="stretch")
    table = steps.select(pl.col(c).alias(name) for c, name in STEP_TABLE.items() if c in steps.columns)
    data_table(table, state.lang, key="event_steps", file_name="event-funnel", kinds=STEP_KINDS)


def render_times(steps: pl.DataFrame, state: ViewState) -> None:
    times = steps.select("position", pl.format("{} → {}", pl.col("label").shift(1), "label").alias("label"),
                         "median_s", "mean_s").drop_nulls("median_s")
    if times.is_empty():
        return
    longest = float(times["median_s"].max())  # type: ignore[arg-type]
    scale, unit = next((size, unit) for above, size, unit in TIME_UNITS if longest >= above)
    title = titled(t("events.time", state.lang),
                   t("events.time_measure", state.lang, unit=t(f"events.unit.{unit}", state.lang)))
    show_chart(st, time_between_chart(times, state.lang, title, scale), state.lang, width="stretch")


def render_breakdown(result: dict[str, object], question: EventQuestion, labels: list[str], state: ViewState) -> None:
    by = str(question.by)
    st.subheader(t("events.breakdown", state.lang, property=md(dim_label(by, state.lang))))
    frame = breakdown_frame(result.get("breakdown", {}), labels, by)  # type: ignore[arg-type]
    top = frame.unique(by, maintain_order=True)[by].head(BREAKDOWN_TOP)
    title = t("events.breakdown_chart", state.lang, property=dim_label(by, state.lang))
    chart = stage_breakdown_chart(frame.filter(pl.col(by).is_in(top.implode())), by, state.lang, title,
                                  dim_label(by, state.lang))
    show_chart(st, chart, state.lang, width="stretch")
    if frame[by].n_unique() > BREAKDOWN_TOP:
        st.caption(t("events.breakdown_top", state.lang, n=BREAKDOWN_TOP))
    table = frame.select(by, *(pl.col(c).alias(name) for c, name in STEP_TABLE.items() if c in frame.columns))
    data_table(table, state.lang, key="event_breakdown", file_name=f"event-funnel-by-{by}", kinds=STEP_KINDS)


def render_trend(ws: data.Workspace, state: ViewState, question: EventQuestion) -> None:
    trend = data.event_trend(ws, state.query(grain=state.grain), question.spec)
    title = titled(t("events.trend", state.lang), t("events.trend_measure", state.lang))
    show_chart(st, event_trend_chart(trend, state.lang, title), state.lang, width="stretch")


def render_journey(ws: data.Workspace, state: ViewState, question: EventQuestion, steps: pl.DataFrame) -> None:
    st.subheader(t("events.journey", state.lang))
    leads = data.event_leads(ws, state.query(), question.spec)
    last = step_labels(question)[-1]
    if leads.is_empty() or not leads["count"][0]:
        st.info(t("events.no_leads", state.lang, last=md(last)))
        return
    path = journey(steps, leads)
    show_chart(st, funnel_chart(path, state.lang, t("events.journey_chart", state.lang)), state.lang, width="stretch")
    st.caption(t("events.journey_note", state.lang, last=md(last)))


def render_persons(ws: data.Workspace, state: ViewState, question: EventQuestion, labels: list[str]) -> None:
    st.subheader(t("events.persons", state.lang))
    persons = data.event_persons(ws, state.query(), question.spec)
    choices = ["all", *[f"reached:{k}" for k in range(1, len(labels))],
               *[f"dropped:{k}" for k in range(1, len(labels))]]
    choice = translated_select(st, t("events.persons_show", state.lang), choices, "ev_persons", "all", state.lang,
                               lambda c: _persons_label(c, labels, state.lang))
    kind, _, step = choice.partition(":")
    shown = (persons if kind == "all" else persons.filter(pl.col("step") >= int(step)) if kind == "reached"
             else persons.filter(pl.col("step") == int(step) - 1))
    data_table(shown.with_columns(pl.col("step") + 1), state.lang, key="event_persons",
               file_name=f"event-funnel-persons-{kind}{step}", first=PERSONS_SHOWN)


def _persons_label(choice: str, labels: list[str], lang: str) -> str:
    kind, _, step = choice.partition(":")
    if kind == "all":
        return t("events.persons.all", lang)
    return t(f"events.persons.{kind}", lang, step=labels[int(step)])


def render_results(ws: data.Workspace, state: ViewState, question: EventQuestion) -> None:
    try:
        result = data.event_funnel(ws, state.query(compared=True), question.spec, question.by, question.attribution)
    except EventFilterError as exc:
        names = ", ".join(dim_label(d, state.lang) for d in exc.dimensions)
        st.info(t("events.filter_missing", state.lang, dimensions=md(names)))
        return
    except EventFunnelError as exc:
        st.warning(t("events.invalid", state.lang, reason=md(str(exc))), icon=":material/error:")
        return
    labels = step_labels(question)
    steps = step_frame(result["steps"], labels, result.get("previous") if state.compare_period else None)
    if not steps["count"][0]:
        st.info(t("events.no_persons", state.lang))
        return
    render_headline(steps, state)
    render_steps(steps, state)
    render_times(steps, state)
    if question.by:
        render_breakdown(result, question, labels, state)
    render_trend(ws, state, question)
    render_journey(ws, state, question, steps)
    render_persons(ws, state, question, labels)


def render() -> None:
    ws = data.current()
    state = current()
    page_header("page.events", state)
    st.caption(t("events.intro", state.lang))
    question = render_builder(ws, state)
    if question is not None:
        render_saved(ws, question, state.lang)
        render_results(ws, state, question)
    render_ga4_funnel(state.period, state.lang)  # draws nothing unless GA4 is configured


if __name__ == "__main__":
    render_page(render)
