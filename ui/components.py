"""Small reusable Streamlit pieces: KPI cards, period caption, click-to-filter, active filter chips."""

from __future__ import annotations

from collections.abc import Sequence

import altair as alt
import polars as pl
import streamlit as st

from kpi.funnel import SESSIONS_STAGE, bottleneck, compare_funnels
from kpi.query import View
from ui import format as fmt
from ui import money
from ui import workspace as data
from ui.charts import SELECTION, funnel_chart
from ui.i18n import dim_label, metric_label, t
from ui.safe import md
from ui.state import FILTER_DIMENSIONS, ViewState


def page_header(title_key: str, state: ViewState) -> None:
    """A page's title, the period it shows (and compares with), and the active filters."""
    st.title(t(title_key, state.lang))
    period_caption(state)
    filter_chips(state)
    money.gaps_warning(data.current(), state.lang)


def period_caption(state: ViewState) -> None:
    text = t("notice.period_label", state.lang, start=fmt.day(state.period.start, state.lang),
             end=fmt.day(state.period.end, state.lang))
    if state.compare_period:
        text += " · " + t("notice.compared_with", state.lang, start=fmt.day(state.compare_period.start, state.lang),
                          end=fmt.day(state.compare_period.end, state.lang))
    st.caption(text + " · " + t(f"view.{state.view}.explain", state.lang))


def kpi_cards(ws: data.Workspace, state: ViewState, metrics: Sequence[str], view: View = "cohort",
              notes: dict[str, str] | None = None, per_row: int = 4, allocate_cost: bool = False) -> None:
    """One card per metric in the view's period and filters, counted as `view`: value, change against the
    comparison period, a sparkline by the view's grain, and a note (its target status, say) under it.
    With `allocate_cost`, spend is split by lead share where a filter's dimension is not in spend."""
    values = data.compute(ws, state.query(view=view, allocation=allocate_cost, compared=True), metrics)
    trend = data.compute(ws, state.query(grain=state.grain, view=view, allocation=allocate_cost), metrics)
    catalog = data.catalog(ws)
    cards = [catalog[m] for m in metrics]
    currency = ws.settings.currency
    row = values.row(0, named=True) if values.height else {}
    for start in range(0, len(cards), per_row):
        for col, m in zip(st.columns(per_row), cards[start:start + per_row], strict=False):
            value = row.get(m.id)
            delta = fmt.delta(row, m.id, m.unit, state.lang) if state.compare_period is not None else None
            col.metric(
                metric_label(m.id, state.lang),
                fmt.metric_value(value, m.unit, state.lang, currency, compact=True),
                delta=delta,
                delta_color="normal" if m.higher_is_better else "inverse",
                chart_data=trend[m.id].fill_null(0).to_list() if m.id in trend.columns else None,
                help=m.description,
                border=True,
            )
            if notes and m.id in notes:
                col.caption(notes[m.id])
            missing = money.card_note(ws, m.id, value, state.lang)
            if missing:
                col.caption(missing)


def range_note(ws: data.Workspace, lang: str) -> None:
    """Under a chart over time: say that rows covering a date range (spend, traffic) are spread evenly over
    their days there, and counted whole only in periods that hold their range."""
    for name in ws.data.range_tables:
        st.caption(t(f"notice.range_{name}", lang))


def cost_choice(missing: Sequence[str], metrics: Sequence[str], state: ViewState, always: bool = False
                ) -> bool | None:
    """The lead-share allocation toggle and what it means, when cost `metrics` meet `missing` dimensions
    (spend is not recorded by them). True: allocate; False: cost shown as not available; None: no allocation
    needed (the toggle is then drawn disabled when `always`, else not at all)."""
    if not missing and not always:
        return None
    names = ", ".join(md(dim_label(d, state.lang)) for d in missing)  # column names may come from uploads
    allocate = st.toggle(t("segments.allocate", state.lang), key="allocate_cost", disabled=not missing,
                         help=t("segments.allocate_help", state.lang, dimension=names or "–"))
    if not missing:
        return None
    if allocate:
        st.caption(t("segments.cost_allocated", state.lang, dimension=names))
    else:
        st.info(t("segments.cost_not_available", state.lang,
                  metric=", ".join(metric_label(m, state.lang) for m in metrics), dimension=names))
    return allocate


def cost_notes(missing: Sequence[str], metrics: Sequence[str], allocate: bool, lang: str) -> dict[str, str]:
    """The line under each cost card that a filter's dimension leaves without spend: why it is empty, or
    that it is allocated by lead share."""
    if not missing:
        return {}
    names = ", ".join(md(dim_label(d, lang)) for d in missing)
    text = (t("overview.cost_card_allocated", lang, dimension=names) if allocate
            else t("overview.cost_card_missing", lang, dimension=names))
    return dict.fromkeys(metrics, text)


def incomplete_note(young: pl.DataFrame, lang: str, metrics: Sequence[str] | None = None,
                    key: str = "chart.incomplete_note") -> str | None:
    """Under a chart in cohort view: what its dashed periods mean (text `key`), with each stage's p75 days
    from the lead (`data.incomplete_periods`, only the stages that have dashed periods, among the count
    `metrics` drawn when given); None without any."""
    drawn = pl.col("metric").is_in(list(metrics)) if metrics is not None else pl.lit(True)
    marked = young.filter(pl.col("incomplete") & drawn).unique("stage", maintain_order=True)
    if marked.is_empty():
        return None
    days = ", ".join(t("chart.days_to_reach", lang, stage=md(row["label"]), days=fmt.number(row["days_to_reach"], lang))
                     for row in marked.iter_rows(named=True))
    return t(key, lang, days=days)


def select_to_filter(chart_key: str, *dimensions: str) -> None:
    """on_select callback: make the clicked chart values each dimension's global filter (a heatmap
    cell filters by both of its dimensions)."""
    event = st.session_state.get(chart_key)
    points = event.selection.get(SELECTION, []) if event is not None else []
    for dimension in dimensions:
        values = sorted({str(p[dimension]) for p in points if p.get(dimension) is not None})
        if values:
            st.session_state[dimension] = values


def clear_filters() -> None:
    for dim in FILTER_DIMENSIONS:
        st.session_state[dim] = []


def filter_chips(state: ViewState) -> None:
    """The active filters as one line of chips, with a button that clears them all."""
    active = state.active_filters
    if not active:
        return
    chips = "  ".join(f":blue-badge[{t(f'dim.{d}', state.lang)}: {', '.join(md(x) for x in v)}]"
                      for d, v in active.items())
    left, right = st.columns([5, 1], vertical_alignment="center")
    left.markdown(chips)
    right.button(t("sidebar.clear_filters", state.lang), on_click=clear_filters, key="clear_filters",
                 icon=":material/filter_alt_off:")


def funnel_summary(funnel: pl.DataFrame, previous: pl.DataFrame | None, lang: str) -> None:
    """Sessions and their conversion to leads, then the biggest leak of the funnel in words."""
    sessions = funnel.filter(pl.col("stage") == SESSIONS_STAGE)
    if sessions.height == 1 and sessions["count"].item():
        leads = funnel.filter(pl.col("position") == 1)
        st.caption(t("funnel.sessions_line", lang, sessions=fmt.number(sessions["count"].item(), lang),
                     rate=fmt.percent(leads["step_conversion"].item(), lang, 2)))
    weakest = bottleneck(funnel, previous)
    if weakest is None:
        return
    labels = dict(zip(funnel["stage"], funnel["label"], strict=True))
    change = (t("overview.bottleneck_change", lang, change=fmt.points(weakest.change, lang))
              if weakest.change is not None else "")
    st.markdown(t("overview.bottleneck", lang, from_stage=md(labels[weakest.from_stage]),
                  to_stage=md(labels[weakest.to_stage]), rate=fmt.percent(weakest.conversion, lang), change=change))


def funnel_panel(ws: data.Workspace, state: ViewState, split: bool, allocate_cost: bool = False
                 ) -> pl.DataFrame | None:
    """The funnel from visit to won deal as a chart, with its summary (visits, the biggest leak) under it
    or, when `split`, beside it. Returns the funnel with the comparison period's columns beside it
    (`kpi.funnel.compare_funnels`) when compared, or None (said on screen) when the view has no data."""
    query = state.query(allocation=allocate_cost)
    funnel = data.funnel(ws, query)
    if not funnel["count"].fill_null(0).sum():
        st.info(t("notice.no_data", state.lang))
        return None
    chart = funnel_chart(funnel, state.lang, t("overview.funnel", state.lang), state.view)
    previous = data.funnel(ws, query.but(period=state.compare_period)) if state.compare_period else None
    if split:
        left, right = st.columns([3, 2])
        show_chart(left, chart, state.lang, width="stretch")
        with right:
            funnel_summary(funnel, previous, state.lang)
    else:
        show_chart(st, chart, state.lang, width="stretch")
        funnel_summary(funnel, previous, state.lang)
    return funnel if previous is None else compare_funnels(funnel, previous)


def show_chart(where: object, chart: alt.TopLevelMixin, lang: str, **kwargs: object) -> object:
    """Draw an Altair chart with the reader's number and date locale; kwargs go to st.altair_chart."""
    return where.altair_chart(chart.configure(locale=fmt.vega_locale(lang)), **kwargs)  # type: ignore[attr-defined]
