"""The stage funnel: from sessions to leads to each sales stage, with conversion and time between stages.

All numbers come from `kpi.metrics.compute`, so the funnel and every KPI card agree by construction.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import polars as pl

from kpi.metrics import PERIOD_COL, Frames, available_dimensions, compute
from kpi.period import STEPS, Grain, Period, bucket
from kpi.query import View
from kpi.settings import Settings

SESSIONS_STAGE = "sessions"

#: Columns of `stage_funnel`, after the breakdown dimensions.
FUNNEL_COLUMNS = ("position", "stage", "label", "count", "step_conversion", "overall_conversion", "drop_off",
                  "days_from_previous", "days_from_previous_p75", "cost_per_stage")
#: The columns `compare_funnels` puts beside themselves for the comparison period (as `<column>_prev`).
COMPARED_COLUMNS = ("count", "step_conversion", "overall_conversion", "cost_per_stage", "days_from_previous",
                    "days_from_previous_p75")
PREV = "_prev"


def _has_columns(tables: Frames, table: str, columns: Sequence[str]) -> bool:
    frame = tables.get(table)
    if frame is None:
        return False
    return set(columns) <= set(frame.collect_schema())


def stage_funnel(
    tables: Frames,
    by: Sequence[str] = (),
    period: Period | None = None,
    filters: Mapping[str, Sequence[str]] | None = None,
    view: View = "cohort",
    settings: Settings | None = None,
    allocate_cost: bool = False,
) -> pl.DataFrame:
    """One row per stage (per breakdown value): how many reached it, how they got there, at what cost.

    * count: visits (sessions) for the first row when traffic can be broken down the same way, then
      leads reaching each stage (cohort: leads created in the period; flow: stage reached in the period);
    * step_conversion: count / count of the stage before;
    * overall_conversion: count / leads (the lead stage is 1; null for visits, which come before leads);
    * drop_off: how many of the stage before did not reach this one;
    * days_from_previous (median) and days_from_previous_p75 between consecutive lead stages (null for
      visits and leads: a visit is not tied to the lead it may have become);
    * cost_per_stage: the period's spend / count, the cost of one visit, lead (CPL), MQL, SQL,
      opportunity and won deal (CAC). Null without spend, or when spend lacks a breakdown or filter
      dimension (segment, say) unless `allocate_cost` splits spend in proportion to leads.
    """
    settings = settings or Settings()
    stages = settings.stages
    filters = {d: v for d, v in (filters or {}).items() if v}
    with_sessions = _has_columns(tables, "traffic", [*by, *filters, "sessions"])
    counts = [s.count_metric for s in stages]
    days = [f"days_{a.id}_to_{b.id}" for a, b in itertools.pairwise(stages)]
    metrics = ([SESSIONS_STAGE] if with_sessions else []) + counts + days + [d + "_p75" for d in days] + ["spend"]
    wide = compute(tables, metrics, by=by, period=period, filters=filters, view=view, settings=settings,
                   allocate_cost=allocate_cost)

    rows = []
    if with_sessions:
        rows.append(wide.select(*by, pl.lit(0).alias("position"), pl.lit(SESSIONS_STAGE).alias("stage"),
                                pl.lit("Sessions").alias("label"), pl.col(SESSIONS_STAGE).cast(pl.Int64).alias("count"),
                                pl.lit(None, pl.Float64).alias("days_from_previous"),
                                pl.lit(None, pl.Float64).alias("days_from_previous_p75"), "spend"))
    for i, stage in enumerate(stages):
        day = days[i - 1] if i else None
        rows.append(wide.select(
            *by, pl.lit(i + 1).alias("position"), pl.lit(stage.id).alias("stage"), pl.lit(stage.label).alias("label"),
            pl.col(stage.count_metric).cast(pl.Int64).alias("count"),
            (pl.col(day) if day else pl.lit(None, pl.Float64)).alias("days_from_previous"),
            (pl.col(day + "_p75") if day else pl.lit(None, pl.Float64)).alias("days_from_previous_p75"), "spend",
        ))
    long = pl.concat(rows).sort([*by, "position"], nulls_last=True)
    over = list(by) or None
    previous = pl.col("count").shift(1).over(over) if over else pl.col("count").shift(1)
    leads = pl.col("count").filter(pl.col("stage") == stages[0].id).first()
    leads = leads.over(over) if over else leads
    return long.with_columns(
        pl.when(previous > 0).then(pl.col("count") / previous).alias("step_conversion"),
        pl.when((leads > 0) & (pl.col("stage") != SESSIONS_STAGE)).then(pl.col("count") / leads)
        .alias("overall_conversion"),
        (previous - pl.col("count")).alias("drop_off"),
        pl.when(pl.col("count") > 0).then(pl.col("spend") / pl.col("count")).alias("cost_per_stage"),
    ).select(*by, *FUNNEL_COLUMNS)


def compare_funnels(current: pl.DataFrame, previous: pl.DataFrame, by: Sequence[str] = ()) -> pl.DataFrame:
    """`current` (a `stage_funnel`) with the comparison period's `COMPARED_COLUMNS` beside it, each as
    `<column>_prev`; a stage (or breakdown value) missing in the comparison period gets nulls there."""
    prev = previous.select(*by, "stage", *[pl.col(c).alias(c + PREV) for c in COMPARED_COLUMNS])
    return current.join(prev, on=[*by, "stage"], how="left", nulls_equal=True)


def days_to_reach(tables: Frames, filters: Mapping[str, Sequence[str]] | None = None,
                  settings: Settings | None = None, q: float = 0.75) -> dict[str, float | None]:
    """Per stage after leads (by stage id): the `q` quantile (default p75) of days from a lead's creation to
    that stage's date, over every lead in the data that has the date: how long a cohort typically needs
    before its count at that stage is (nearly) final. None when no lead has reached the stage."""
    settings = settings or Settings()
    leads = tables.get("leads")
    if leads is None:
        return {}
    frame = leads.lazy()
    for dim, values in (filters or {}).items():
        if values:
            frame = frame.filter(pl.col(dim).is_in(list(values)))
    columns = set(frame.collect_schema())
    stages = [s for s in settings.stages[1:] if s.column in columns]
    if not stages:  # leads without any stage date: no stage was reached
        return dict.fromkeys((s.id for s in settings.stages[1:]), None)
    row = frame.select(
        ((pl.col(s.column) - pl.col("created_at")).dt.total_seconds(fractional=True) / 86_400)
        .drop_nulls().quantile(q, "linear").alias(s.id) for s in stages).collect().row(0, named=True)
    return {s.id: row.get(s.id) for s in settings.stages[1:]}


def incomplete_periods(
    tables: Frames,
    grain: Grain,
    period: Period | None = None,
    filters: Mapping[str, Sequence[str]] | None = None,
    settings: Settings | None = None,
    as_of: date | None = None,
) -> pl.DataFrame:
    """Cohort view: which `grain` buckets of `period` are too young to judge each stage after leads.

    A bucket is incomplete for a stage when its last day (or the period's, if earlier) lies fewer than
    the stage's `days_to_reach` (p75) days before `as_of` (default: the day the latest lead was created):
    a quarter or more of its leads that will reach the stage have not had time to, so its count and
    conversion there will still grow. Columns: period (first day of the bucket), stage, metric (the
    stage's count metric), days_to_reach, incomplete.
    """
    settings = settings or Settings()
    leads = tables.get("leads")
    schema = {PERIOD_COL: pl.Date, "stage": pl.String, "metric": pl.String, "days_to_reach": pl.Float64,
              "incomplete": pl.Boolean}
    if leads is None:
        return pl.DataFrame(schema=schema)
    if as_of is None or period is None:
        bounds = leads.lazy().select(pl.col("created_at").min().alias("first"),
                                     pl.col("created_at").max().alias("last")).collect().row(0)
        if bounds[1] is None:
            return pl.DataFrame(schema=schema)
        as_of = as_of or bounds[1].date()
        period = period or Period(bounds[0].date(), bounds[1].date())
    first = pl.select(bucket(pl.lit(period.start), grain)).item()
    starts = pl.date_range(first, period.end, STEPS[grain], eager=True)
    ends = [min(pl.select(pl.lit(d).dt.offset_by(STEPS[grain])).item() - timedelta(days=1), period.end)
            for d in starts]
    reach = days_to_reach(tables, filters, settings)
    rows = [(start, stage.id, stage.count_metric, reach[stage.id],
             reach[stage.id] is not None and (as_of - end).days < reach[stage.id])
            for stage in settings.stages[1:] for start, end in zip(starts, ends, strict=True)]
    return pl.DataFrame(rows, schema=schema, orient="row").sort(PERIOD_COL, "stage")


def conversion_trend(
    tables: Frames,
    grain: Grain,
    period: Period | None = None,
    by: Sequence[str] = (),
    filters: Mapping[str, Sequence[str]] | None = None,
    view: View = "cohort",
    settings: Settings | None = None,
    as_of: date | None = None,
) -> pl.DataFrame:
    """Step conversion per time bucket, long: (by…), period, position, step, label, conversion, reached, base,
    incomplete.

    Cohort view: `conversion` is the share of the bucket's new leads at the step's first stage that reached
    its second; `incomplete` marks buckets too young to judge the second stage (`incomplete_periods`).
    Flow view: `conversion` is the second stage's events over the first stage's events in the same bucket,
    not a share of the same leads (those that reach MQL this week were mostly created in earlier weeks),
    so it can exceed 1; `incomplete` is always false.
    """
    settings = settings or Settings()
    stages = settings.stages
    counts = [s.count_metric for s in stages]
    wide = compute(tables, counts, by=by, period=period, grain=grain, filters=filters, view=view, settings=settings)
    parts = [
        wide.select(*by, PERIOD_COL, pl.lit(i).alias("position"), pl.lit(f"{a.id}_to_{b.id}").alias("step"),
                    pl.lit(f"{a.label} → {b.label}").alias("label"),
                    pl.when(pl.col(a.count_metric) > 0).then(pl.col(b.count_metric) / pl.col(a.count_metric))
                    .alias("conversion"),
                    pl.col(b.count_metric).alias("reached"), pl.col(a.count_metric).alias("base"),
                    pl.lit(b.id).alias("_to"))
        for i, (a, b) in enumerate(itertools.pairwise(stages), start=1)
    ]
    trend = pl.concat(parts)
    if view == "cohort" and not trend.is_empty():
        young = incomplete_periods(tables, grain, period, filters, settings, as_of).select(
            PERIOD_COL, pl.col("stage").alias("_to"), "incomplete")
        trend = trend.join(young, on=[PERIOD_COL, "_to"], how="left")
    else:
        trend = trend.with_columns(pl.lit(None, pl.Boolean).alias("incomplete"))
    return (trend.with_columns(pl.col("incomplete").fill_null(False)).drop("_to")
            .sort([*by, PERIOD_COL, "position"]))


@dataclass(frozen=True)
class Bottleneck:
    """The step of the funnel that loses the most, and why it was picked."""

    from_stage: str
    to_stage: str
    conversion: float
    reference: float | None  # the previous period's conversion when compared, else None
    reason: str  # "fell_most_vs_previous" or "lowest_conversion"

    @property
    def change(self) -> float | None:
        return None if self.reference is None else self.conversion - self.reference


def bottleneck(current: pl.DataFrame, previous: pl.DataFrame | None = None) -> Bottleneck | None:
    """The weakest lead step of a (not broken down) funnel from `stage_funnel`.

    With a previous-period funnel: the step whose conversion fell the most (in points), if any fell.
    Otherwise: the step with the lowest conversion. On a tie the earlier step wins: fixing it feeds
    every later stage. Sessions → leads is left out: it measures the website, not the hand-over
    between marketing and sales.
    """
    steps = (current.filter(pl.col("stage") != SESSIONS_STAGE)
             .with_columns(pl.col("stage").shift(1).alias("from"))
             .filter(pl.col("from").is_not_null() & pl.col("step_conversion").is_not_null()))
    if steps.is_empty():
        return None
    if previous is not None:
        joined = steps.join(previous.select("stage", pl.col("step_conversion").alias("before")), on="stage")
        joined = joined.filter(pl.col("before").is_not_null()).with_columns(
            (pl.col("step_conversion") - pl.col("before")).alias("change")).sort("change", "position")
        if not joined.is_empty() and joined["change"][0] < 0:
            row = joined.row(0, named=True)
            return Bottleneck(row["from"], row["stage"], row["step_conversion"], row["before"],
                              "fell_most_vs_previous")
    row = steps.sort("step_conversion", "position").row(0, named=True)
    return Bottleneck(row["from"], row["stage"], row["step_conversion"], None, "lowest_conversion")


def best_and_worst(funnel: pl.DataFrame, dimension: str, min_base: int = 30) -> pl.DataFrame:
    """Per stage, the `dimension` value with the highest and the lowest step conversion.

    Values whose previous stage has fewer than `min_base` leads are left out: a rate over a handful
    of leads says little.
    """
    base = pl.col("count") + pl.col("drop_off")
    eligible = funnel.filter(pl.col("step_conversion").is_not_null() & (base >= min_base))
    return (
        eligible.sort(["position", "step_conversion", dimension], descending=[False, True, False])
        .group_by("position", "stage", "label", maintain_order=True)
        .agg(pl.col(dimension).first().alias("best"), pl.col("step_conversion").first().alias("best_conversion"),
             pl.col(dimension).last().alias("worst"), pl.col("step_conversion").last().alias("worst_conversion"))
        .sort("position")
    )


def funnel_dimensions(tables: Frames) -> list[str]:
    """Dimensions the lead funnel can be broken down by."""
    leads = tables.get("leads")
    if leads is None:
        return []
    return available_dimensions({"leads": leads})
