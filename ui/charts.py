"""Altair chart builders, fed polars frames. Pages draw with these and never build specs themselves.

Colours come from a colour-blind-safe palette (Okabe–Ito); every chart has a title and units.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import altair as alt
import polars as pl

from kpi.segments import VS_OVERALL, vs_overall
from ui.format import d3_format
from ui.i18n import metric_label, t

# Okabe–Ito's eight colour-blind-safe colours, then wine and olive from Paul Tol's muted set: ten series apart
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000", "#882255",
           "#999933"]
SELECTION = "pick"  # name of the click selection in every clickable chart
LABEL_LIMIT = 320  # px a category label may take before it is cut ("Готовые к продаже" must show whole)


def titled(title: str, measure: str) -> alt.TitleParams:
    """A chart title with what its y axis measures under it, in place of a vertical axis title: one longer
    than the plot is tall ("Konvertering från föregående steg") squeezes the plot and pushes the title off."""
    return alt.TitleParams(text=title, subtitle=measure, anchor="start")


def funnel_chart(funnel: pl.DataFrame, lang: str, title: str, view: str = "cohort") -> alt.Chart:
    """Horizontal bars from visits down to won deals on a log scale (visits outnumber won deals by
    thousands), each labelled with the conversion from the stage above (in flow view: events per event
    of the stage above, which can pass 100 %); the tooltip adds the cost and the median days of each stage."""
    step = t("chart.flow_ratio" if view == "flow" else "chart.step_conversion", lang)
    data = funnel.select("position", pl.col("label").alias("stage"), "count", "step_conversion",
                         "overall_conversion", "cost_per_stage", "days_from_previous")
    order = data["stage"].to_list()
    top, least = int(data["count"].max() or 1), int(data["count"].min() or 0)  # type: ignore[arg-type]
    ticks = [10 ** k for k in range(0 if least < 10 else 1, len(str(max(top, 1))))]
    base = alt.Chart(data).encode(
        y=alt.Y("stage:N", sort=order, title=t("chart.stage", lang), axis=alt.Axis(labelLimit=LABEL_LIMIT)),
        x=alt.X("count:Q", title=t("chart.count_log", lang), scale=alt.Scale(type="symlog"),
                axis=alt.Axis(format=",.0f", values=ticks)),
    )
    bars = base.mark_bar(color=PALETTE[0]).encode(tooltip=[
        alt.Tooltip("stage:N", title=t("chart.stage", lang)),
        alt.Tooltip("count:Q", title=t("chart.count", lang), format=",.0f"),
        alt.Tooltip("step_conversion:Q", title=step, format=".1%"),
        alt.Tooltip("overall_conversion:Q", title=t("chart.overall_conversion", lang), format=".1%"),
        alt.Tooltip("cost_per_stage:Q", title=t("col.cost_per_stage", lang), format=",.2f"),
        alt.Tooltip("days_from_previous:Q", title=t("chart.days_from_previous", lang), format=".1f"),
    ])
    labels = base.transform_filter("datum.step_conversion != null").mark_text(align="left", dx=4, color="#333").encode(
        text=alt.Text("step_conversion:Q", format=".1%"))
    return (bars + labels).properties(title=title, height=alt.Step(34))


INCOMPLETE = "incomplete"  # a boolean column: the point belongs to a cohort too young to judge
PART = "part"  # the line a point is drawn in: solid (complete) or dashed (incomplete)


def _dashed_when_incomplete(frame: pl.DataFrame, series: str, lang: str) -> tuple[pl.DataFrame, alt.StrokeDash]:
    """`frame` with a `part` column (solid or dashed, in words) per point of each `series` line, and the
    stroke-dash encoding that draws it: incomplete points dashed, the last complete point repeated in the
    dashed part so each line stays joined."""
    solid, dashed = t("chart.complete", lang), t("chart.incomplete", lang)
    frame = frame.sort(series, "period")
    young = frame.filter(pl.col(INCOMPLETE))
    bridge = (frame.filter(~pl.col(INCOMPLETE) & pl.col(series).is_in(young[series].unique().implode()))
              .group_by(series, maintain_order=True).last())
    out = pl.concat([frame.filter(~pl.col(INCOMPLETE)).with_columns(pl.lit(solid).alias(PART)),
                     bridge.with_columns(pl.lit(dashed).alias(PART)).select([*frame.columns, PART]),
                     young.with_columns(pl.lit(dashed).alias(PART))])
    dash = alt.StrokeDash(f"{PART}:N", title=None, scale=alt.Scale(domain=[solid, dashed], range=[[1, 0], [5, 4]]),
                          legend=alt.Legend(orient="top") if not young.is_empty() else None)
    return out, dash


def small_multiples(frame: pl.DataFrame, metrics: Sequence[str], units: Mapping[str, str], lang: str,
                    incomplete: pl.DataFrame | None = None) -> list[alt.Chart]:
    """One small line chart per metric over the `period` column, each on its own scale and titled by the metric.

    Separate charts rather than one faceted chart: each takes its column's width (width="stretch"), so the
    page can lay them out in a grid that wraps on a narrow screen instead of one row wider than the page.
    `incomplete` (period, metric, incomplete) marks the cohort buckets too young to judge a metric: drawn
    dashed."""
    charts = []
    for i, m in enumerate(metrics):
        label = metric_label(m, lang)
        colour = PALETTE[i % len(PALETTE)]
        line = frame.select("period", pl.col(m).alias("value"), pl.lit(label).alias("metric"))
        young = (incomplete.filter(pl.col("metric") == m).select("period", INCOMPLETE) if incomplete is not None
                 else pl.DataFrame(schema={"period": frame.schema["period"], INCOMPLETE: pl.Boolean}))
        line = line.join(young, on="period", how="left").with_columns(pl.col(INCOMPLETE).fill_null(False))
        line, dash = _dashed_when_incomplete(line, "metric", lang)
        charts.append(alt.Chart(line)
                      .mark_line(color=colour, point=alt.OverlayMarkDef(color=colour, size=18))
                      .encode(x=alt.X("period:T", title=None),
                              y=alt.Y("value:Q", title=None, axis=alt.Axis(format=d3_format(units[m]), tickMinStep=1)),
                              strokeDash=dash,
                              tooltip=[alt.Tooltip("period:T", title=t("chart.period", lang)),
                                       alt.Tooltip("value:Q", title=label, format=d3_format(units[m])),
                                       alt.Tooltip(f"{PART}:N", title=t("chart.cohort", lang))])
                      .properties(title=label, height=160))
    return charts


def ranked_bars(frame: pl.DataFrame, dimension: str, metric: str, unit: str, lang: str, title: str,
                dimension_title: str) -> alt.Chart:
    """Bars of `metric` per `dimension` value, best first; clicking a bar selects that value."""
    pick = alt.selection_point(name=SELECTION, fields=[dimension], on="click", clear="dblclick")
    return alt.Chart(frame.drop_nulls(metric)).mark_bar().encode(
        y=alt.Y(f"{dimension}:N", sort=None, title=dimension_title, axis=alt.Axis(labelLimit=LABEL_LIMIT)),
        x=alt.X(f"{metric}:Q", title=metric_label(metric, lang), axis=alt.Axis(format=d3_format(unit))),
        color=alt.condition(pick, alt.value(PALETTE[0]), alt.value("#BBBBBB")),
        tooltip=[alt.Tooltip(f"{dimension}:N", title=dimension_title),
                 alt.Tooltip(f"{metric}:Q", title=metric_label(metric, lang), format=d3_format(unit))],
    ).add_params(pick).properties(title=title, height=alt.Step(26))


def stage_breakdown_chart(funnel: pl.DataFrame, dimension: str, lang: str, title: str,
                          dimension_title: str) -> alt.Chart:
    """Step conversion per stage, one bar per value of `dimension` grouped under each stage; clicking a bar or
    a legend entry selects that value. Grouped bars (not a facet per stage) take the page's width, so the chart
    fits a phone as well as a desktop."""
    data = funnel.filter(pl.col("stage") != "sessions").drop_nulls("step_conversion")
    pick = alt.selection_point(name=SELECTION, fields=[dimension], on="click", clear="dblclick", bind="legend")
    order = data.unique("position").sort("position")["label"].to_list()
    return alt.Chart(data).mark_bar().encode(
        x=alt.X("label:N", title=None, sort=order, axis=alt.Axis(labelAngle=-20, labelAlign="right",
                                                                 labelLimit=LABEL_LIMIT)),
        xOffset=alt.XOffset(f"{dimension}:N"),
        y=alt.Y("step_conversion:Q", title=None, axis=alt.Axis(format=".0%")),
        color=alt.Color(f"{dimension}:N", title=dimension_title, scale=alt.Scale(range=PALETTE),
                        legend=alt.Legend(orient="bottom", columns=2, labelLimit=LABEL_LIMIT)),
        opacity=alt.condition(pick, alt.value(1.0), alt.value(0.3)),
        tooltip=[alt.Tooltip(f"{dimension}:N", title=dimension_title),
                 alt.Tooltip("label:N", title=t("chart.stage", lang)),
                 alt.Tooltip("count:Q", title=t("chart.count", lang), format=",.0f"),
                 alt.Tooltip("step_conversion:Q", title=t("chart.step_conversion", lang), format=".1%")],
    ).add_params(pick).properties(title=title, height=260)  # the title names the measure: no axis title


def conversion_trend_chart(trend: pl.DataFrame, lang: str, title: str, view: str = "cohort") -> alt.Chart:
    """Step conversion over time, one line per step; cohort buckets too young to judge a step are dashed.
    In flow view the lines are a stage's events per event of the stage before in the same bucket (they
    can pass 100 %), and the axis says so."""
    order = trend.unique("position").sort("position")["label"].to_list()
    data, dash = _dashed_when_incomplete(trend.drop_nulls("conversion"), "label", lang)
    y_title = t("chart.flow_ratio" if view == "flow" else "chart.step_conversion", lang)
    return alt.Chart(data).mark_line(point=True).encode(
        x=alt.X("period:T", title=t("chart.period", lang)),
        y=alt.Y("conversion:Q", title=None, axis=alt.Axis(format=".0%")),
        color=alt.Color("label:N", title=t("chart.stage", lang), sort=order, scale=alt.Scale(range=PALETTE),
                        legend=alt.Legend(orient="bottom", columns=2, labelLimit=LABEL_LIMIT)),
        strokeDash=dash,
        tooltip=[alt.Tooltip("period:T", title=t("chart.period", lang)),
                 alt.Tooltip("label:N", title=t("chart.stage", lang)),
                 alt.Tooltip("conversion:Q", title=y_title, format=".1%"),
                 alt.Tooltip("reached:Q", title=t("chart.count", lang), format=",.0f"),
                 alt.Tooltip("base:Q", title=t("chart.base", lang), format=",.0f"),
                 alt.Tooltip(f"{PART}:N", title=t("chart.cohort", lang))],
    ).properties(title=titled(title, y_title), height=260)


def _categories(domain: Sequence[str] | None) -> alt.Scale:
    """A categorical colour scale; with the full `domain` a value keeps its colour whatever is filtered out."""
    if not domain:
        return alt.Scale(range=PALETTE)
    return alt.Scale(domain=list(domain), range=[PALETTE[i % len(PALETTE)] for i in range(len(domain))])


def spend_cpl_scatter(frame: pl.DataFrame, dimension: str, lang: str, currency: str, title: str,
                      dimension_title: str, colour_by: str | None = None, colour_title: str = "",
                      colour_domain: Sequence[str] | None = None) -> alt.Chart:
    """Spend (x) against cost per lead (y), one point per `dimension` value, sized by revenue.

    `frame` holds `dimension`, spend, cpl, leads, revenue and roas (and `colour_by` when given); values
    without spend are left out (no cost to plot). `colour_domain` (every value of `colour_by`) keeps each
    value's colour when filters hide others. Clicking a point selects its `dimension` value.
    """
    pick = alt.selection_point(name=SELECTION, fields=[dimension], on="click", clear="dblclick")
    colour = (alt.Color(f"{colour_by}:N", title=colour_title, scale=_categories(colour_domain)) if colour_by
              else alt.value(PALETTE[0]))
    tooltip = [alt.Tooltip(f"{dimension}:N", title=dimension_title)]
    if colour_by:
        tooltip.append(alt.Tooltip(f"{colour_by}:N", title=colour_title))
    tooltip += [alt.Tooltip(f"{m}:Q", title=metric_label(m, lang), format=d3_format(unit))
                for m, unit in (("spend", "currency"), ("leads", "count"), ("cpl", "currency"),
                                ("revenue", "currency"), ("roas", "multiple"))]
    data = frame.drop_nulls([dimension, "spend", "cpl"]).filter(pl.col("spend") > 0)
    points = alt.Chart(data).mark_circle(stroke="#333333", strokeWidth=0.5)
    return points.encode(
        x=alt.X("spend:Q", title=f"{metric_label('spend', lang)} ({currency})",
                axis=alt.Axis(format=d3_format("currency"))),
        y=alt.Y("cpl:Q", title=f"{metric_label('cpl', lang)} ({currency})",
                axis=alt.Axis(format=d3_format("currency"))),
        size=alt.Size("revenue:Q", scale=alt.Scale(range=[30, 900]), legend=None),
        color=colour,
        opacity=alt.when(pick).then(alt.value(0.85)).otherwise(alt.value(0.25)),
        tooltip=tooltip,
    ).add_params(pick).properties(title=title, height=360)


def dimension_trend(frame: pl.DataFrame, dimension: str, metric: str, unit: str, lang: str, title: str,
                    dimension_title: str, domain: Sequence[str] | None = None) -> alt.Chart:
    """`metric` over the `period` column, one line per `dimension` value (coloured by its place in `domain`,
    every value of the dimension, when given); clicking a line or a legend entry selects that value."""
    pick = alt.selection_point(name=SELECTION, fields=[dimension], on="click", clear="dblclick", bind="legend")
    return alt.Chart(frame.drop_nulls([dimension, metric])).mark_line(point=True).encode(
        x=alt.X("period:T", title=t("chart.period", lang)),
        y=alt.Y(f"{metric}:Q", title=metric_label(metric, lang), axis=alt.Axis(format=d3_format(unit))),
        color=alt.Color(f"{dimension}:N", title=dimension_title, scale=_categories(domain)),
        opacity=alt.when(pick).then(alt.value(1.0)).otherwise(alt.value(0.2)),
        tooltip=[alt.Tooltip("period:T", title=t("chart.period", lang)),
                 alt.Tooltip(f"{dimension}:N", title=dimension_title),
                 alt.Tooltip(f"{metric}:Q", title=metric_label(metric, lang), format=d3_format(unit))],
    ).add_params(pick).properties(title=title, height=360)


def heatmap(frame: pl.DataFrame, rows: str, columns: str, metric: str, unit: str, higher_is_better: bool,
            overall: float | None, lang: str, title: str, titles: dict[str, str],
            counts: Sequence[str] = ()) -> alt.LayerChart:
    """`metric` per (`rows`, `columns`) cell, coloured against the `overall` value on a diverging,
    colour-blind-safe scale: blue does better than overall, orange worse (for cost metrics lower is
    better; the colour is `kpi.segments.vs_overall`). Each cell prints its value; the tooltip adds the
    `counts` behind a rate. Clicking a cell selects both of its dimension values. `titles` names the two
    dimensions."""
    data = frame.drop_nulls([rows, columns, metric]).with_columns(vs_overall(metric, overall, higher_is_better))
    reach = float(data[VS_OVERALL].abs().max() or 0.0) or 1.0  # type: ignore[arg-type]
    pick = alt.selection_point(name=SELECTION, fields=[rows, columns], on="click", clear="dblclick")
    base = alt.Chart(data).encode(
        x=alt.X(f"{columns}:N", title=titles[columns], axis=alt.Axis(labelAngle=-30)),
        y=alt.Y(f"{rows}:N", title=titles[rows]),
    )
    tooltip = [alt.Tooltip(f"{rows}:N", title=titles[rows]), alt.Tooltip(f"{columns}:N", title=titles[columns]),
               alt.Tooltip(f"{metric}:Q", title=metric_label(metric, lang), format=d3_format(unit)),
               alt.Tooltip(f"{VS_OVERALL}:Q", title=t("segments.vs_overall", lang), format="+.0%")]
    tooltip += [alt.Tooltip(f"{c}:Q", title=metric_label(c, lang), format=",.0f") for c in counts]
    cells = base.mark_rect(stroke="white", strokeWidth=1).encode(
        color=alt.Color(f"{VS_OVERALL}:Q", title=t("segments.vs_overall", lang),
                        scale=alt.Scale(scheme="blueorange", reverse=True, domain=[-reach, reach], domainMid=0),
                        legend=alt.Legend(format="+.0%")),
        opacity=alt.when(pick).then(alt.value(1.0)).otherwise(alt.value(0.35)),
        tooltip=tooltip,
    ).add_params(pick)
    text = base.mark_text(fontSize=12).encode(
        text=alt.Text(f"{metric}:Q", format=d3_format(unit)),
        color=alt.when(f"abs(datum.{VS_OVERALL}) > {reach * 0.6}").then(alt.value("white"))
        .otherwise(alt.value("#222222")),
        tooltip=tooltip,
    )
    return (cells + text).properties(title=title, height=alt.Step(36))


def ga4_funnel_chart(funnel: pl.DataFrame, lang: str, title: str,
                     breakdown_title: str | None = None) -> alt.LayerChart:
    """Users per step of a GA4 funnel (kpi.sources.ga4.run_funnel's frame), each bar labelled with the share of
    its users who went on to the next step (the last step has no next step, so no label).

    With `breakdown_title`, one bar per breakdown value within each step (GA4's total rows left out);
    otherwise only the total rows are drawn.
    """
    rows = funnel.filter(pl.col("breakdown").is_not_null() if breakdown_title else pl.col("breakdown").is_null())
    last = funnel["step"].max()
    data = rows.with_columns(
        pl.format("{}. {}", "step", "step_name").alias("step_label"),
        pl.when(pl.col("step") < pl.lit(last)).then(pl.col("completion_rate")).alias("next_rate"))
    order = data.unique("step").sort("step")["step_label"].to_list()
    tooltip = [alt.Tooltip("step_label:N", title=t("col.ga4_step", lang))]
    if breakdown_title:
        tooltip.append(alt.Tooltip("breakdown:N", title=breakdown_title))
    tooltip += [alt.Tooltip("users:Q", title=t("col.ga4_users", lang), format=",.0f"),
                alt.Tooltip("next_rate:Q", title=t("col.ga4_completion_rate", lang), format=".1%"),
                alt.Tooltip("abandonments:Q", title=t("col.ga4_abandonments", lang), format=",.0f")]
    base = alt.Chart(data).encode(
        y=alt.Y("step_label:N", sort=order, title=t("col.ga4_step", lang)),
        x=alt.X("users:Q", title=t("col.ga4_users", lang), axis=alt.Axis(format=",.0f", tickMinStep=1)),
        tooltip=tooltip,
    )
    if breakdown_title:
        base = base.encode(yOffset=alt.YOffset("breakdown:N"),
                           color=alt.Color("breakdown:N", title=breakdown_title, scale=alt.Scale(range=PALETTE)))
        bars = base.mark_bar()
    else:
        bars = base.mark_bar(color=PALETTE[0])
    labels = base.transform_filter("datum.next_rate != null").mark_text(align="left", dx=4, color="#333").encode(
        text=alt.Text("next_rate:Q", format=".1%"))
    return (bars + labels).properties(title=title, height=alt.Step(18 if breakdown_title else 34))


def model_comparison(frame: pl.DataFrame, dimension: str, chosen: str, lang: str, title: alt.TitleParams,
                     dimension_title: str, model_labels: Mapping[str, str]) -> alt.Chart:
    """Credit per value of `dimension` under every model, side by side (one bar per model in each value's
    group, in the models' order), the `chosen` model in full colour and the others faded, values in the chosen
    model's order; clicking a bar selects its value of `dimension`."""
    data = frame.with_columns(pl.col("model").replace_strict(dict(model_labels)).alias("model_label"),
                              (pl.col("model") == chosen).alias("chosen"))
    order = data.filter(pl.col("chosen")).sort("credit", descending=True)[dimension].to_list()
    models = list(model_labels.values())
    pick = alt.selection_point(name=SELECTION, fields=[dimension], on="click", clear="dblclick")
    return alt.Chart(data).mark_bar().encode(
        y=alt.Y(f"{dimension}:N", sort=order, title=None, axis=alt.Axis(labelLimit=LABEL_LIMIT)),
        yOffset=alt.YOffset("model_label:N", sort=models),
        x=alt.X("credit:Q", title=None, axis=alt.Axis(format=",.0f", tickMinStep=1)),
        color=alt.Color("model_label:N", title=None, sort=models, scale=alt.Scale(range=PALETTE),
                        legend=alt.Legend(orient="bottom", columns=1, labelLimit=LABEL_LIMIT)),  # fits a phone
        opacity=alt.condition("datum.chosen", alt.value(1.0), alt.value(0.4)),
        tooltip=[alt.Tooltip(f"{dimension}:N", title=dimension_title),
                 alt.Tooltip("model_label:N", title=t("attribution.model", lang)),
                 alt.Tooltip("credit:Q", title=t("chart.value", lang), format=",.1f")],
    ).add_params(pick).properties(title=title, height=alt.Step(9))


def event_steps_chart(steps: pl.DataFrame, lang: str, title: alt.TitleParams) -> alt.Chart:
    """Persons per event-funnel step as horizontal bars, the compared period's bar under this period's when there
    is one; each bar labelled with the conversion from the step before. Columns: position, label, period (the
    period's name), count, step_conversion."""
    order = steps.unique("position").sort("position")["label"].to_list()
    periods = steps.unique("period", maintain_order=True)["period"].to_list()
    base = alt.Chart(steps).encode(
        y=alt.Y("label:N", sort=order, title=None, axis=alt.Axis(labelLimit=LABEL_LIMIT)),
        yOffset=alt.YOffset("period:N", sort=periods),
        x=alt.X("count:Q", title=None, axis=alt.Axis(format=",.0f", tickMinStep=1)),  # persons: whole numbers
    )
    bars = base.mark_bar().encode(
        color=alt.Color("period:N", title=t("events.period", lang), sort=periods,
                        scale=alt.Scale(domain=periods, range=[PALETTE[0], "#9CC3E6"][:len(periods)]),
                        legend=alt.Legend(orient="bottom") if len(periods) > 1 else None),
        tooltip=[alt.Tooltip("label:N", title=t("col.step_name", lang)),
                 alt.Tooltip("period:N", title=t("events.period", lang)),
                 alt.Tooltip("count:Q", title=t("chart.count", lang), format=",.0f"),
                 alt.Tooltip("step_conversion:Q", title=t("chart.step_conversion", lang), format=".1%")])
    labels = base.transform_filter("datum.step_conversion != null").mark_text(align="left", dx=4, color="#333").encode(
        text=alt.Text("step_conversion:Q", format=".1%"))
    return (bars + labels).properties(title=title, height=alt.Step(18 if len(periods) > 1 else 30))


def time_between_chart(times: pl.DataFrame, lang: str, title: alt.TitleParams, scale: float) -> alt.Chart:
    """Median (bar) and mean (tick) time between consecutive steps, divided by `scale` seconds (the unit the
    title names). Columns: position, label ("A → B"), median_s, mean_s."""
    data = times.with_columns((pl.col("median_s") / scale).alias("median"), (pl.col("mean_s") / scale).alias("mean"))
    order = data.sort("position")["label"].to_list()
    base = alt.Chart(data).encode(y=alt.Y("label:N", sort=order, title=None, axis=alt.Axis(labelLimit=LABEL_LIMIT)))
    tooltip = [alt.Tooltip("label:N", title=t("col.step_name", lang)),
               alt.Tooltip("median:Q", title=t("col.median_s", lang), format=",.1f"),
               alt.Tooltip("mean:Q", title=t("col.mean_s", lang), format=",.1f")]
    bars = base.mark_bar(color=PALETTE[2]).encode(x=alt.X("median:Q", title=None, axis=alt.Axis(format=",.1f")),
                                                  tooltip=tooltip)
    ticks = base.mark_tick(color="#000000", thickness=2, size=24).encode(x="mean:Q", tooltip=tooltip)
    return (bars + ticks).properties(title=title, height=alt.Step(34))


def event_trend_chart(trend: pl.DataFrame, lang: str, title: alt.TitleParams) -> alt.Chart:
    """Conversion (converted / entered) per period of the first step, with the counts in the tooltip. Columns:
    period (date), entered, converted."""
    data = trend.with_columns(pl.when(pl.col("entered") > 0).then(pl.col("converted") / pl.col("entered"))
                              .alias("conversion"))
    return alt.Chart(data).mark_line(point=True, color=PALETTE[0]).encode(
        x=alt.X("period:T", title=t("chart.period", lang)),
        y=alt.Y("conversion:Q", title=None, axis=alt.Axis(format=".0%")),
        tooltip=[alt.Tooltip("period:T", title=t("chart.period", lang)),
                 alt.Tooltip("entered:Q", title=t("col.entered", lang), format=",.0f"),
                 alt.Tooltip("converted:Q", title=t("col.converted", lang), format=",.0f"),
                 alt.Tooltip("conversion:Q", title=t("col.conversion", lang), format=".1%")],
    ).properties(title=title, height=240)
