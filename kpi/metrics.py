"""The metric catalog and the one aggregation path for every number the app shows.

A metric is one of three kinds:

* ``sum``: an additive count or amount from one table (leads, spend, sessions, ...). Totals equal
  the sum over any breakdown.
* ``ratio``: sum(numerator) / sum(denominator) at the requested grain, never an average of ratios.
* ``quantile``: a median or 75th percentile of the time between two lead timestamps.

`compute` answers "these metrics, by these dimensions, in this period, at this grain, under these
filters" as one tidy polars frame: the dimension columns (plus ``period`` when a grain is asked),
then one column per metric. A metric that the data cannot answer at that breakdown (sessions by
segment, say, when traffic has no segment) is null, never a guess; cost metrics by a dimension
that spend lacks can instead be allocated by lead share when asked (`allocate_cost=True`).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from functools import cache
from typing import Literal

import polars as pl

from kpi.money import MONEY_COLUMNS, converted
from kpi.period import Compare, Grain, Period, bucket, compare_period
from kpi.query import View
from kpi.schema import dimensions
from kpi.settings import Settings, Stage

Unit = Literal["count", "currency", "ratio", "multiple", "days", "hours"]
VIEWS: tuple[View, ...] = ("cohort", "flow")
PERIOD_COL = "period"

Frames = Mapping[str, pl.DataFrame | pl.LazyFrame]


class MetricError(ValueError):
    """A request the engine cannot answer: unknown metric or dimension. The message lists what is valid."""


@dataclass(frozen=True)
class Context:
    """What an aggregate expression may depend on besides the rows."""

    settings: Settings
    period: Period | None
    as_of: datetime | None
    furthest: bool = False  # leads carry the prepared furthest-stage column for these stages


@dataclass(frozen=True)
class Base:
    """An additive or quantile aggregate computed directly from one table's rows.

    `expr` aggregates the rows in scope. `event` dates the aggregate for the flow view (a lead
    counts as MQL in the period its MQL timestamp falls in); the cohort view dates every lead
    aggregate by created_at. A quantile is the `q` quantile of a per-row `sample` (days from MQL
    to SQL, say), named by `sample_id` so quantiles of one sample are computed together. `reached`
    marks the count of leads that reached that stage (an index into the workspace's stages).
    """

    id: str
    table: str
    expr: Callable[[Context], pl.Expr]
    columns: tuple[str, ...]
    event: str = "created_at"
    additive: bool = True
    sample: pl.Expr | None = None
    sample_id: str = ""
    q: float = 0.5
    reached: int | None = None


@dataclass(frozen=True)
class Metric:
    id: str
    label: str
    unit: Unit
    kind: Literal["sum", "ratio", "quantile"]
    higher_is_better: bool
    description: str
    numerator: str = ""
    denominator: str = ""
    scale: float = 1.0  # CPM is cost per thousand impressions
    minus_one: bool = False  # ROI = revenue / spend - 1
    tables: tuple[str, ...] = field(default=())
    stock: bool = False  # a level at the period's end (open pipeline), not an amount that accrues over it

    @property
    def accrues(self) -> bool:
        """An amount that accrues over the period (leads, revenue, spend), not a rate or a level."""
        return self.kind == "sum" and not self.stock


def furthest_column(stages: Sequence[Stage]) -> str:
    """The name of the column `kpi.data.prepare` adds to leads: the furthest of these stages each lead
    reached. The name carries the stages, so leads prepared for other stages never match."""
    return "_furthest:" + ",".join(s.column for s in stages)


def furthest_stage(stages: Sequence[Stage], columns: Sequence[str]) -> pl.Expr:
    """The index of the furthest stage a lead reached (0: only the lead itself), from the stage
    timestamp columns present."""
    reached = [pl.when(pl.col(s.column).is_not_null()).then(pl.lit(i, pl.UInt8))
               for i, s in enumerate(stages) if i and s.column in columns]
    zero = pl.lit(0, pl.UInt8)
    return pl.max_horizontal(reached).fill_null(zero) if reached else zero


def _reached(c: Context, stages: Sequence[Stage], index: int) -> pl.Expr:
    """A lead has reached stage `index` when it carries that stage's timestamp or any later one."""
    if c.furthest:  # one small integer per lead instead of a look at every later stage's column
        return pl.col(furthest_column(stages)) >= index
    return pl.any_horizontal([pl.col(s.column).is_not_null() for s in stages[index:]])


def _fixed(expr: pl.Expr) -> Callable[[Context], pl.Expr]:
    """An aggregate that does not depend on the request context."""
    return lambda _c: expr


def _sum(col: str) -> Callable[[Context], pl.Expr]:
    return _fixed(pl.col(col).sum())


def _sum_where(condition: pl.Expr, col: str) -> pl.Expr:
    """The sum of `col` over the rows where `condition` holds (masking is faster than filtering per group)."""
    return pl.when(condition).then(pl.col(col)).sum()


def _days_between(a: str, b: str) -> pl.Expr:
    return (pl.col(b) - pl.col(a)).dt.total_seconds(fractional=True) / 86_400


@dataclass
class _Catalog:
    """A catalog being built for a funnel's `stages`: its bases and metrics in the order they are added
    (the order the pages list them)."""

    stages: tuple[Stage, ...]
    bases: dict[str, Base] = field(default_factory=dict)
    metrics: dict[str, Metric] = field(default_factory=dict)

    @property
    def won(self) -> Stage:
        """The last stage: the won deal."""
        return self.stages[-1]

    @property
    def opportunity(self) -> Stage | None:
        """The opportunity stage, when the funnel has one (lost deals and the pipeline need it)."""
        return next((s for s in self.stages if s.column == "opportunity_at"), None)

    def base(self, b: Base, label: str, unit: Unit, up: bool, description: str) -> None:
        """A base and the metric that shows it as it is (a sum, or a quantile of its sample)."""
        self.bases[b.id] = b
        kind: Literal["sum", "quantile"] = "sum" if b.additive else "quantile"
        self.metrics[b.id] = Metric(b.id, label, unit, kind, up, description, tables=(b.table,))

    def ratio(self, id: str, label: str, unit: Unit, up: bool, num: str, den: str, description: str,
              scale: float = 1.0, minus_one: bool = False) -> None:
        """A metric dividing one base by another (times `scale`, minus one for a return)."""
        tables = tuple(dict.fromkeys((self.bases[num].table, self.bases[den].table)))
        self.metrics[id] = Metric(id, label, unit, "ratio", up, description, num, den, scale, minus_one, tables)


@cache
def _catalog(stages: tuple[Stage, ...]) -> tuple[dict[str, Base], dict[str, Metric]]:
    """The bases and metrics of a funnel with these stages, section by section."""
    c = _Catalog(stages)
    for section in (_traffic_metrics, _spend_metrics, _stage_counts, _deal_metrics, _speed_to_lead_metrics,
                    _stage_time_metrics, _ratio_metrics):
        section(c)
    return c.bases, c.metrics


def _traffic_metrics(c: _Catalog) -> None:
    """Website traffic: sums of the traffic table's measures."""
    for col, label, desc in (
        ("sessions", "Sessions", "Visits to the website."),
        ("users", "Users", "Daily active users added up over the days; a person visiting on two days counts twice."),
        ("new_users", "New users", "First-time visitors."),
        ("engaged_sessions", "Engaged sessions", "Sessions of 10 s or more, with a key event or 2+ page views."),
        ("key_events", "Key events", "Conversions tracked on the website (GA4 key events)."),
    ):
        c.base(Base(col, "traffic", _sum(col), (col,), "date"), label, "count", True, desc)


def _spend_metrics(c: _Catalog) -> None:
    """Media spend and its impressions and clicks: sums of the spend table's measures."""
    c.base(Base("spend", "spend", _sum("spend"), ("spend",), "date"),
           "Spend", "currency", False, "Media cost paid to ad platforms.")
    for col, label, desc in (("impressions", "Impressions", "Times an ad was shown."),
                             ("clicks", "Clicks", "Clicks on ads.")):
        c.base(Base(col, "spend", _sum(col), (col,), "date"), label, "count", True, desc)


def _stage_counts(c: _Catalog) -> None:
    """One count of leads per stage: the leads that reached it (or a later one)."""
    stages = c.stages

    def count(index: int) -> Callable[[Context], pl.Expr]:
        return lambda ctx: pl.len() if index == 0 else _reached(ctx, stages, index).sum()

    for i, st in enumerate(stages):
        c.base(Base(st.count_metric, "leads", count(i), (st.column,), st.column, reached=i), st.label, "count", True,
               "New leads." if i == 0 else f"Leads that reached the stage '{st.label}' (or a later one).")


def _deal_metrics(c: _Catalog) -> None:
    """Revenue of won deals; with an opportunity stage, lost deals and the open pipeline too."""
    won = c.won
    c.base(Base("revenue", "leads", lambda _c: _sum_where(pl.col(won.column).is_not_null(), "amount"),
                ("amount", won.column), won.column),
           "Revenue", "currency", True, "Value of won deals.")
    opp = c.opportunity
    if opp is not None:
        _opportunity_metrics(c, opp)


def _opportunity_metrics(c: _Catalog, opp: Stage) -> None:
    """Lost deals (opportunities lost, not won) and the pipeline (opportunities still open at the period's end)."""
    stages, won = c.stages, c.won
    c.base(Base("lost", "leads", lambda ctx: (_reached(ctx, stages, stages.index(opp)) & pl.col("lost_at").is_not_null()
                                              & pl.col(won.column).is_null()).sum(),
                ("opportunity_at", "lost_at", won.column), "lost_at"),
           "Lost deals", "count", False, "Opportunities that were lost.")

    def pipeline(ctx: Context) -> pl.Expr:
        end = pl.lit(ctx.period.end_exclusive_dt if ctx.period else datetime.max)
        still_open = ((pl.col(won.column).is_null() | (pl.col(won.column) >= end))
                      & (pl.col("lost_at").is_null() | (pl.col("lost_at") >= end)))
        return _sum_where((pl.col(opp.column) < end) & still_open, "amount")

    c.base(Base("pipeline", "leads", pipeline, ("amount", opp.column, "lost_at", won.column), opp.column),
           "Pipeline", "currency", True, "Value of opportunities still open at the end of the period.")
    c.metrics["pipeline"] = replace(c.metrics["pipeline"], stock=True)


def _speed_to_lead_metrics(c: _Catalog) -> None:
    """Speed to lead and leakage: how soon sales first contacts a lead, and the leads past the SLA that
    were contacted late or never."""
    def sla_eligible(ctx: Context) -> pl.Expr:
        return pl.col("created_at") <= pl.lit(ctx.as_of or datetime.max) - timedelta(hours=ctx.settings.sla_hours)

    def leaked(ctx: Context) -> pl.Expr:
        late = pl.col("first_contact_at").is_null() | (
            pl.col("first_contact_at") - pl.col("created_at") > timedelta(hours=ctx.settings.sla_hours))
        return (sla_eligible(ctx) & late).sum()

    c.base(Base("sla_leads", "leads", lambda ctx: sla_eligible(ctx).sum(), ("first_contact_at",)),
           "Leads past the SLA window", "count", True, "Leads old enough that sales should have contacted them.")
    c.base(Base("leaked_leads", "leads", leaked, ("first_contact_at",)),
           "Leaked leads", "count", False, "Leads never contacted by sales, or contacted after the SLA.")
    hours = (pl.col("first_contact_at") - pl.col("created_at")).dt.total_seconds(fractional=True) / 3600
    c.base(Base("speed_to_lead_hours", "leads", _fixed(hours.median()), ("first_contact_at",), "first_contact_at",
                additive=False, sample=hours, sample_id="hours_to_contact"),
           "Speed to lead", "hours", False, "Median hours from a lead's creation to the first sales contact.")


def _stage_time_metrics(c: _Catalog) -> None:
    """Days between consecutive stages, and from lead to won (the sales cycle): median and 75th percentile."""
    stages = c.stages
    for a, b, id_ in [*((a, b, f"days_{a.id}_to_{b.id}") for a, b in itertools.pairwise(stages)),
                      (stages[0], c.won, "sales_cycle_days")]:
        for q, suffix, word in ((0.5, "", "Median"), (0.75, "_p75", "75th percentile of")):
            days = _days_between(a.column, b.column)
            c.base(Base(id_ + suffix, "leads", _fixed(days.quantile(q, "linear")), (a.column, b.column), b.column,
                        additive=False, sample=days, sample_id=f"days:{a.column}:{b.column}", q=q),
                   f"Days {a.label} → {b.label}" + (" (p75)" if suffix else ""), "days", False,
                   f"{word} days from {a.label} to {b.label}, over leads that reached both.")


def _ratio_metrics(c: _Catalog) -> None:
    """Rates, costs per result and returns: one base over another."""
    stages, won, lead = c.stages, c.won, c.stages[0]
    c.ratio("engagement_rate", "Engagement rate", "ratio", True, "engaged_sessions", "sessions",
            "Engaged sessions / sessions.")
    c.ratio("ctr", "CTR", "ratio", True, "clicks", "impressions", "Clicks / impressions.")
    c.ratio("cpc", "CPC", "currency", False, "spend", "clicks", "Spend / clicks.")
    c.ratio("cpm", "CPM", "currency", False, "spend", "impressions", "Spend per thousand impressions.", scale=1000)
    c.ratio("session_to_lead", "Session → lead rate", "ratio", True, "leads", "sessions", "Leads / sessions.")
    for a, b in itertools.pairwise(stages):
        c.ratio(f"{a.id}_to_{b.id}", f"{a.label} → {b.label}", "ratio", True, b.count_metric, a.count_metric,
                f"Share of {a.label} that reached {b.label}.")
    c.ratio(f"{lead.id}_to_{won.id}", f"{lead.label} → {won.label}", "ratio", True, won.count_metric,
            lead.count_metric, f"Share of {lead.label} that became {won.label}.")
    c.ratio("cpl", "Cost per lead (CPL)", "currency", False, "spend", lead.count_metric, "Spend / leads.")
    for st in stages[1:-1]:
        c.ratio(f"cost_per_{st.id}", f"Cost per {st.label}", "currency", False, "spend", st.count_metric,
                f"Spend / {st.label}.")
    c.ratio("cac", "Customer acquisition cost (CAC)", "currency", False, "spend", won.count_metric,
            "Spend / won deals.")
    c.ratio("avg_deal_size", "Average deal size", "currency", True, "revenue", won.count_metric,
            "Revenue / won deals.")
    if c.opportunity is not None:
        bases = c.bases
        bases["closed"] = Base("closed", "leads",
                               lambda ctx: bases[won.count_metric].expr(ctx) + bases["lost"].expr(ctx),
                               ("opportunity_at", "lost_at", won.column), won.column)
        c.ratio("win_rate", "Win rate", "ratio", True, won.count_metric, "closed", "Won / (won + lost) opportunities.")
    c.ratio("roas", "ROAS", "multiple", True, "revenue", "spend", "Revenue / spend (2.0 means 2 back per 1 spent).")
    c.ratio("roi", "ROI", "ratio", True, "revenue", "spend", "(Revenue − spend) / spend.", minus_one=True)
    c.ratio("leakage", "Leakage", "ratio", False, "leaked_leads", "sla_leads",
            "Share of leads never contacted by sales or contacted after the SLA.")


def catalog(settings: Settings | None = None) -> dict[str, Metric]:
    """Every metric the engine knows for these settings (stage metrics follow the workspace's stages)."""
    return _catalog((settings or Settings()).stages)[1]


def _bases_of(metric: Metric, bases: dict[str, Base]) -> list[Base]:
    if metric.kind == "ratio":
        return [bases[metric.numerator], bases[metric.denominator]]
    return [bases[metric.id]]


def money_tables(metric_id: str, settings: Settings | None = None) -> tuple[str, ...]:
    """The tables whose money the metric is, or is built on (spend for CPL, leads' amounts for revenue;
    both for ROAS); none for counts and rates. Where rows of those tables are in a currency without a
    rate, the metric is not available (see `kpi.money`)."""
    bases, cat = _catalog((settings or Settings()).stages)
    return tuple(dict.fromkeys(b.table for b in _bases_of(cat[metric_id], bases)
                               if set(b.columns) & set(MONEY_COLUMNS.get(b.table, ()))))


def table_dimensions(tables: Frames) -> dict[str, list[str]]:
    """Each fact table's dimension columns (strings other than ids): what its metrics can be broken
    down and filtered by."""
    return {name: dimensions(tables[name]) for name in ("leads", "spend", "traffic") if name in tables}


def available_dimensions(tables: Frames) -> list[str]:
    """Dimension columns found in any table (strings other than ids)."""
    return list(dict.fromkeys(d for dims in table_dimensions(tables).values() for d in dims))


def cost_dimensions_missing(tables: Frames, metric: Metric, dims: Sequence[str]) -> list[str]:
    """The dimensions among `dims` (broken down or filtered by) that spend is not recorded by, when `metric`
    needs spend: there its value is not available unless allocated by lead share (`allocate_cost`)."""
    spend = tables.get("spend")
    if "spend" not in metric.tables or spend is None:
        return []
    columns = spend.collect_schema()
    return [d for d in dims if d not in columns]


def ratio_parts(metric: Metric, catalog: Mapping[str, Metric]) -> tuple[str, ...]:
    """A ratio's numerator and denominator that are catalog metrics themselves (a win rate's closed
    deals are not); nothing for other metrics."""
    if metric.kind != "ratio":
        return ()
    return tuple(p for p in (metric.numerator, metric.denominator) if p in catalog)


def _check_request(tables: Frames, metrics: Sequence[str], by: Sequence[str], filters: Mapping[str, object],
                   cat: dict[str, Metric]) -> None:
    unknown = [m for m in metrics if m not in cat]
    if unknown:
        raise MetricError(f"unknown metric(s): {', '.join(unknown)}. Valid metrics: {', '.join(cat)}")
    dims = available_dimensions(tables)
    bad = [d for d in (*by, *filters) if d not in dims]
    if bad:
        raise MetricError(f"unknown dimension(s): {', '.join(bad)}. Valid dimensions: {', '.join(dims) or 'none'}")


def _filter(frame: pl.LazyFrame, filters: Mapping[str, Sequence[str]]) -> pl.LazyFrame:
    for dim, values in filters.items():
        frame = frame.filter(pl.col(dim).is_in(list(values)))
    return frame


def restrict(tables: Mapping[str, pl.DataFrame], slice: Mapping[str, Sequence[str]]) -> dict[str, pl.DataFrame]:
    """Only the rows of `slice` (dimension -> values kept), for a view that must never show more.

    Each fact table keeps the rows whose value of every sliced dimension is one of the slice's, exactly as
    `compute`'s `filters` keep them, so any query on the result (with any filters of its own) answers that
    query ANDed with the slice. A fact table that lacks a sliced dimension cannot tell which of its rows
    belong to the slice and is left out, as `compute` leaves its metrics out of a query filtered on a
    dimension it does not have. KPI definitions are not facts and are kept whole. Touches belong to their
    lead: they keep every touch of the slice's leads (a Meta slice's leads keep their e-mail touches)."""
    bound = {d: list(v) for d, v in slice.items() if v}
    out: dict[str, pl.DataFrame] = {}
    for name, frame in tables.items():
        if name == "kpis" or not bound:
            out[name] = frame
        elif name == "touches":
            continue
        elif set(bound) <= set(frame.columns):
            out[name] = _filter(frame.lazy(), bound).collect()
    if bound and "touches" in tables and "leads" in out:
        out["touches"] = tables["touches"].filter(pl.col("lead_id").is_in(out["leads"]["lead_id"].implode()))
    return out


def _group(frame: pl.LazyFrame, keys: list[str], aggs: list[pl.Expr]) -> pl.LazyFrame:
    """Aggregate by `keys`; categorical keys come back as text so parts from any table join."""
    if not keys:
        return frame.select(aggs)
    return frame.group_by(keys).agg(aggs).with_columns(pl.col(pl.Categorical).cast(pl.String))


def _packed_key(keys: Sequence[str], schema: pl.Schema) -> pl.Expr | None:
    """Two categorical keys as one 64-bit integer (each code + 1, 0 for null), or None for other keys.
    Grouping a sample on one integer is about twice as fast as on two columns."""
    if len(keys) != 2 or not all(isinstance(schema[k], pl.Categorical | pl.Enum) for k in keys):
        return None
    high, low = ((pl.col(k).to_physical().cast(pl.UInt64) + 1).fill_null(0) for k in keys)
    return high * pl.lit(2**32, pl.UInt64) + low


def _sample(frame: pl.LazyFrame, keys: list[str], same: list[Base]) -> pl.LazyFrame:
    """The rows that have the sample of the quantiles `same`: their keys (packed into `_key` when two
    categoricals) and the sample as `_sample`. Far fewer rows to group and sort than the whole frame."""
    sample = same[0].sample
    assert sample is not None
    values = frame.select(*keys, sample.alias("_sample")).filter(pl.col("_sample").is_not_null())
    packed = _packed_key(keys, values.collect_schema())
    return values if packed is None else values.with_columns(packed.alias("_key"))


def _quantiles(gathered: pl.DataFrame, keys: list[str], same: list[Base]) -> pl.LazyFrame:
    """The quantiles `same` of one gathered `_sample` (in memory, in one contiguous column: a quantile over the
    streaming engine's many small chunks is ten times slower)."""
    values = gathered.rechunk().lazy()
    aggs = [pl.col("_sample").quantile(b.q, "linear").alias(b.id) for b in same]
    if "_key" not in gathered.columns:
        quantiles = _group(values, keys, aggs)
    else:
        quantiles = _group(values, ["_key"], [*aggs, *(pl.col(k).first() for k in keys)]).drop("_key")
    return quantiles.collect(engine="in-memory").lazy()


def _sums(leads: pl.LazyFrame, keys: list[str], wanted: list[Base], ctx: Context) -> pl.LazyFrame:
    """Additive lead aggregates by `keys`.

    With the furthest stage prepared and a breakdown asked, they are summed per furthest stage first:
    each stage count is then the number of leads at that stage or beyond, instead of one comparison
    per lead and stage (the grouping takes about a quarter less time at 10M leads)."""
    if not (ctx.furthest and keys and any(b.reached for b in wanted)):
        return _group(leads, keys, [b.expr(ctx).alias(b.id) for b in wanted])
    furthest = furthest_column(ctx.settings.stages)
    others = [b for b in wanted if b.reached is None]
    per_stage = leads.group_by(*keys, furthest).agg(pl.len().alias("_n"), *[b.expr(ctx).alias(b.id) for b in others])
    counts = [pl.col("_n").filter(pl.col(furthest) >= b.reached).sum().alias(b.id)
              for b in wanted if b.reached is not None]
    return _group(per_stage, keys, [*counts, *[pl.col(b.id).sum() for b in others]])


def _leads_partial(leads: pl.LazyFrame, wanted: list[Base], keys: list[str], period: Period | None,
                   grain: Grain | None, view: View, ctx: Context) -> pl.LazyFrame:
    """Lead aggregates; cohort dates every lead by created_at, flow dates each aggregate by its event."""
    by_event: dict[str, list[Base]] = {}
    for b in wanted:
        by_event.setdefault("created_at" if view == "cohort" else b.event, []).append(b)
    parts: list[pl.LazyFrame] = []
    sampled: list[tuple[pl.LazyFrame, list[Base]]] = []
    for event, group in by_event.items():
        frame = leads if period is None else leads.filter(period.contains(pl.col(event)))
        if view == "flow" and period is None:
            frame = frame.filter(pl.col(event).is_not_null())
        if grain:
            frame = frame.with_columns(bucket(pl.col(event), grain).alias(PERIOD_COL))
        additive = [b for b in group if b.sample is None]
        if additive:
            parts.append(_sums(frame, keys, additive, ctx))
        samples: dict[str, list[Base]] = {}
        for b in group:
            if b.sample is not None:
                samples.setdefault(b.sample_id, []).append(b)
        sampled += [(frame, same) for same in samples.values()]
    # every sample gathered in one go: over a scan, the file is read once for all of them
    gathered = pl.collect_all([_sample(frame, keys, same) for frame, same in sampled])
    parts += [_quantiles(g, keys, same) for g, (_, same) in zip(gathered, sampled, strict=True)]
    return _join_all(parts, keys)


#: The additive measures of the tables whose rows may cover a date range instead of a day.
RANGE_MEASURES: dict[str, tuple[str, ...]] = {
    "spend": ("spend", "impressions", "clicks", "platform_conversions"),
    "traffic": ("sessions", "users", "new_users", "engaged_sessions", "key_events", "revenue"),
}


def has_range_rows(frame: pl.DataFrame | pl.LazyFrame) -> bool:
    """Does the spend or traffic `frame` hold rows that cover a date range (period_start..period_end)
    instead of one day?"""
    schema = frame.collect_schema()
    if "period_start" not in schema:
        return False
    ranged = pl.col("period_start").is_not_null()
    if "date" in schema:
        ranged = ranged & pl.col("date").is_null()
    return bool(frame.lazy().select(ranged.any()).collect().item())


def _dated_rows(frame: pl.LazyFrame, table: str, period: Period | None, grain: Grain | None) -> pl.LazyFrame:
    """The spend or traffic rows in `period`, with a `period` bucket column at a `grain`.

    A row dated by `date` counts in the period holding its day. A row without a date that covers a
    range (period_start..period_end, from an export aggregated over a range) counts whole in any period
    that contains its whole range and not at all in one that does not; at a grain it is spread evenly
    over its days (each day gets 1/n of each measure), so a chart over time shows it day by day. A table
    may hold both kinds of rows."""
    schema = frame.collect_schema()
    daily: pl.LazyFrame | None = frame
    ranged: pl.LazyFrame | None = None
    if {"period_start", "period_end"} <= set(schema):
        has_date = pl.col("date").is_not_null() if "date" in schema else pl.lit(False)
        daily = frame.filter(has_date) if "date" in schema else None
        ranged = frame.filter(~has_date & pl.col("period_start").is_not_null() & pl.col("period_end").is_not_null())
    measures = [c for c in RANGE_MEASURES[table] if c in schema]
    if ranged is not None:
        if grain:
            n_days = ((pl.col("period_end") - pl.col("period_start")).dt.total_days() + 1).cast(pl.Float64)
            ranged = (ranged.with_columns([pl.col(m).cast(pl.Float64) / n_days for m in measures])
                      .with_columns(pl.date_ranges("period_start", "period_end").alias("date")).explode("date"))
            if period is not None:
                ranged = ranged.filter(period.contains(pl.col("date")))
        elif period is not None:
            ranged = ranged.filter((pl.col("period_start") >= period.start) & (pl.col("period_end") <= period.end))
    if daily is not None and period is not None:
        daily = daily.filter(period.contains(pl.col("date")))
    frames = [f for f in (daily, ranged) if f is not None]
    if len(frames) > 1 or (ranged is not None and grain):  # spread rows carry fractions of a count
        frames = [f.with_columns([pl.col(m).cast(pl.Float64) for m in measures]) for f in frames]
    out = frames[0] if len(frames) == 1 else pl.concat(frames, how="diagonal_relaxed")
    if grain:
        out = out.with_columns(bucket(pl.col("date"), grain).alias(PERIOD_COL))
    return out


def _join_all(parts: list[pl.LazyFrame], keys: list[str]) -> pl.LazyFrame:
    out = parts[0]
    for part in parts[1:]:
        out = out.join(part, on=keys, how="full", coalesce=True, nulls_equal=True) if keys else pl.concat(
            [out, part], how="horizontal")
    return out


def _allocated_spend(spend: pl.LazyFrame, leads: pl.LazyFrame, wanted: list[Base], by: list[str],
                     grain: Grain | None, period: Period | None, filters: Mapping[str, Sequence[str]],
                     view: View, ctx: Context) -> pl.LazyFrame:
    """Spend at a breakdown spend does not have, split in proportion to leads."""
    spend_cols = set(spend.collect_schema())
    shared = [d for d in by if d in spend_cols]
    time_key = [PERIOD_COL] if grain else []
    spend_filters = {d: v for d, v in filters.items() if d in spend_cols}
    spend_part = _group(_dated_rows(_filter(spend, spend_filters), "spend", period, grain), shared + time_key,
                        [b.expr(ctx).alias(b.id) for b in wanted])
    count = _catalog(ctx.settings.stages)[0][ctx.settings.stages[0].count_metric]
    share_all = _leads_partial(_filter(leads, spend_filters), [count], shared + time_key, period, grain, view, ctx)
    share_part = _leads_partial(_filter(leads, filters), [count], by + time_key, period, grain, view, ctx)
    n, on = count.id, shared + time_key

    def join(left: pl.LazyFrame, right: pl.LazyFrame) -> pl.LazyFrame:
        return left.join(right, on=on, how="left", nulls_equal=True) if on else left.join(right, how="cross")

    return (join(join(share_part, share_all.rename({n: "_all"})), spend_part)
            .select(*by, *time_key, *[(pl.col(b.id) * pl.col(n) / pl.col("_all")).alias(b.id) for b in wanted]))


def compute(
    tables: Frames,
    metrics: Sequence[str],
    by: Sequence[str] = (),
    period: Period | None = None,
    grain: Grain | None = None,
    filters: Mapping[str, Sequence[str]] | None = None,
    view: View = "cohort",
    settings: Settings | None = None,
    as_of: datetime | None = None,
    allocate_cost: bool = False,
) -> pl.DataFrame:
    """`metrics` by `by` (and by `period` buckets of `grain`) over prepared canonical tables.

    `filters` keeps rows whose dimension value is in the given list. `view` decides when a lead
    counts: cohort in the period it was created, flow in the period each stage timestamp falls in.
    `as_of` is the moment the data describes (default: the latest created_at) and decides which
    leads are old enough to judge against the sales-contact SLA. Money in other currencies is converted
    with the settings' rates; a money number that would include a row in a currency without a rate is
    null (see `kpi.money`).
    """
    settings = settings or Settings()
    filters = {d: v for d, v in (filters or {}).items() if v}
    bases, cat = _catalog(settings.stages)
    by = list(by)
    _check_request(tables, metrics, by, filters, cat)
    keys = by + ([PERIOD_COL] if grain else [])
    lazy = {name: t.lazy() for name, t in tables.items()}

    wanted = _wanted_bases(metrics, cat, bases)
    needs_as_of = any(b.id in ("sla_leads", "leaked_leads") for b in wanted.get("leads", []))
    if as_of is None and needs_as_of and "leads" in lazy:
        as_of = lazy["leads"].select(pl.col("created_at").max()).collect().item()
    furthest = "leads" in lazy and furthest_column(settings.stages) in lazy["leads"].collect_schema()
    ctx = Context(settings, period, as_of, furthest)

    parts: list[pl.LazyFrame] = []
    available: set[str] = set()
    for table, group in wanted.items():
        frame = lazy.get(table)
        if frame is None:
            continue
        cols = set(frame.collect_schema())
        group = [b for b in group if set(b.columns) <= cols]
        if not group:
            continue
        if any(set(b.columns) & set(MONEY_COLUMNS.get(table, ())) for b in group):
            frame = converted(frame, table, settings)
        if not set(by) | set(filters) <= cols:
            if table == "spend" and allocate_cost and "leads" in lazy and set(by) | set(filters) <= set(
                    lazy["leads"].collect_schema()):
                parts.append(_allocated_spend(frame, lazy["leads"], group, by, grain, period, filters, view, ctx))
                available.update(b.id for b in group)
            continue
        frame = _filter(frame, filters)
        aggs = [b.expr(ctx).alias(b.id) for b in group]
        if table == "leads":
            # a stage can be reached through a later stage's date even when that column is absent
            frame = frame.with_columns(pl.lit(None, pl.Datetime("us")).alias(s.column)
                                       for s in settings.stages if s.column not in cols)
            parts.append(_leads_partial(frame, group, keys, period, grain, view, ctx))
        else:
            parts.append(_group(_dated_rows(frame, table, period, grain), keys, aggs))
        available.update(b.id for b in group)

    if parts:
        out = _join_all(parts, keys).collect()
    else:
        out = pl.DataFrame({k: [] for k in keys}, schema={k: pl.Date if k == PERIOD_COL else pl.String for k in keys})
        if not keys:
            out = pl.DataFrame({"_": [0]})

    out = out.select(*keys, *[_metric_expr(cat[m], bases, available).alias(m) for m in dict.fromkeys(metrics)])
    return out.sort(keys, nulls_last=True) if keys else out


def _wanted_bases(metrics: Sequence[str], cat: Mapping[str, Metric], bases: dict[str, Base]
                  ) -> dict[str, list[Base]]:
    """The bases `metrics` are made of, by the table they aggregate: each once, in the order first needed."""
    wanted: dict[str, list[Base]] = {}
    for m in metrics:
        for b in _bases_of(cat[m], bases):
            if b not in wanted.setdefault(b.table, []):
                wanted[b.table].append(b)
    return wanted


def _base_col(id_: str, bases: Mapping[str, Base], available: Collection[str]) -> pl.Expr:
    """A base's aggregated column: null when its table could not give it, 0 for an additive one with no row."""
    if id_ not in available:
        return pl.lit(None, pl.Float64)
    return pl.col(id_).fill_null(0) if bases[id_].additive else pl.col(id_)


def _metric_expr(m: Metric, bases: Mapping[str, Base], available: Collection[str]) -> pl.Expr:
    """A metric from its bases' columns: a count rounded to whole (a count made of range rows spread over days
    may carry a fraction), a ratio null where its denominator is 0. NaN is money in a currency without a rate
    (kpi.money): not available, never a number."""
    if m.kind != "ratio":
        return (_base_col(m.id, bases, available).cast(pl.Float64).round(0).cast(pl.Int64) if m.unit == "count"
                else _base_col(m.id, bases, available).cast(pl.Float64).fill_nan(None))
    num = _base_col(m.numerator, bases, available).cast(pl.Float64)
    den = _base_col(m.denominator, bases, available).cast(pl.Float64)
    value = pl.when(den != 0).then(num / den * m.scale)
    return (value - 1 if m.minus_one else value).fill_nan(None)


def compare(
    tables: Frames,
    metrics: Sequence[str],
    period: Period,
    compare_to: Compare,
    by: Sequence[str] = (),
    **kwargs: object,
) -> pl.DataFrame:
    """`metrics` in `period` beside the comparison period (see `with_deltas`)."""
    current = compute(tables, metrics, by=by, period=period, **kwargs)  # type: ignore[arg-type]
    other = compare_period(period, compare_to)
    if other is None:
        return current
    previous = compute(tables, metrics, by=by, period=other, **kwargs)  # type: ignore[arg-type]
    return with_deltas(current, previous, metrics, by)


def with_deltas(current: pl.DataFrame, previous: pl.DataFrame, metrics: Sequence[str],
                by: Sequence[str] = ()) -> pl.DataFrame:
    """For each metric m: m, m_prev, m_delta (m − m_prev) and m_delta_pct ((m − m_prev) / |m_prev|,
    null when m_prev is 0). Rows present in only one period get nulls on the other side."""
    prev = previous.select(*by, *[pl.col(m).alias(f"{m}_prev") for m in dict.fromkeys(metrics)])
    by = list(by)
    out = current.join(prev, on=by, how="full", coalesce=True, nulls_equal=True) if by else pl.concat(
        [current, prev], how="horizontal")
    deltas = []
    for m in dict.fromkeys(metrics):
        cur, old = pl.col(m), pl.col(f"{m}_prev")
        deltas += [(cur - old).alias(f"{m}_delta"),
                   pl.when(old != 0).then((cur - old) / old.abs()).alias(f"{m}_delta_pct")]
    out = out.with_columns(deltas)
    return out.sort(by, nulls_last=True) if by else out
