"""Stop, start, continue, do more, do less: conclusions per initiative or channel, and the review's notes.

`conclusions` judges every subject (one value of the review's dimension: an initiative, a channel)
on the evidence a marketing lead accepts, by explicit rules whose thresholds live in `Rules`. The
numbers come from `kpi.metrics.compute` (`review_inputs` asks for them; `review` does both steps).
MQL is the workspace's marketing-qualified stage (`Settings.qualified`), "won" its last stage and
"opportunities" the stage before it. A funnel without a qualified stage (leads → won) has no MQL
rate to judge: the rules on MQL (`MQL_RULES`) are skipped and its MQL numbers stay null.

The evidence, per subject:

* **This period** (in the view asked for): spend, its share of all spend, leads, MQL, won deals,
  CPL, MQL rate, cost per won deal, lead → won, revenue and ROAS; and the previous period's MQL
  rate (`mql_rate_prev`) and the same period a year earlier, for starting again.
* **Mature cohorts** (always the cohort view): won deals take time, so a lead is judged on won deals
  only once it is older than the typical time from lead to won, the 75th percentile (p75) of days
  lead → won over all the data: the subject's own when it has at least `cycle_min_won` won deals,
  else the p75 over all subjects (`maturity_days`, `maturity_source`). Its mature cohorts are the
  leads created from the start of the trend window (`trend_periods` periods of the review's length,
  this one and those before it) up to `as_of` − maturity, where `as_of` is the data's last lead's
  day; spend on the same days. Over them: spend, leads, opportunities, won deals, revenue, cost per
  won deal (`mature_cac`), ROAS (`mature_roas`) and lead → won (`mature_lead_to_won`).
* **Trend**: the MQL rate of this period against the pooled rate of the `trend_periods` − 1 periods
  before it (`mql_rate_before`), cohort view; it counts as falling only when the fall is significant
  (a two-proportion z score `mql_rate_z` of at least `trend_z`), never because two rates differ
  in a decimal nobody sees.
* **Sample size**: CPL and MQL rate are judged from `min_leads` leads in the period, won deals
  from `min_leads` mature leads; "no MQL" or "no won deal" is evidence only when at least
  `min_expected` were to be expected at the peers' rate.
* **Targets**: the target CAC is `Rules.target_cac` when given, else the KPI tree's target for
  the metric `cac` on all data (no filters) in the shortest target period containing the review's
  last day, else the peers' median mature cost per won deal (`target_cac_source`: rule, kpi,
  median). ROAS is set against break-even (`roas_break_even`, 1.0; raise it to 1 / gross margin
  for a margin-adjusted break-even) and against a healthy return (`roas_healthy`, 3.0: the usual
  3 : 1). Without deal amounts in the data ROAS is unknown and not checked.

Peers are the other subjects of the same review, and a peer statistic is a statistic of their
values, with linear interpolation between subjects: median CPL over subjects with spend and leads;
median MQL rate over subjects with leads; median and best-quantile (`best_quantile`) mature cost per
won over subjects spending now with `min_leads` mature leads and a won deal among them; the
best-quantile mature lead → won over subjects with `min_leads` mature leads; and the overall
mature lead → won (`all_lead_to_won`: all mature won deals / all mature leads).

Rules, in priority order (the first that holds decides; `RULES` lists them):

1. ``stop_no_mql`` (stop): meaningful spend now (at least `stop_spend_share` of all spend) and not
   one MQL, from no leads at all or from leads that would have given `min_expected` MQL at the
   median MQL rate.
2. ``stop_no_won`` (stop): spending now, meaningful spend on mature cohorts (`stop_spend_share` of
   all mature spend) and not one won deal from them, where `min_expected` were expected at the
   overall mature lead → won (`expected_won`).
3. ``stop_cac`` (stop): spending now, and over mature cohorts cost per won at least
   `stop_cac_multiple` × the target CAC while ROAS is under break-even.
4. ``stop_expensive`` (stop): CPL at least `stop_cpl_multiple` × the median CPL and an MQL rate under
   `weak_mql_rate` × the median MQL rate.
5. ``start_low_budget`` (start): active now on little budget (under `start_budget_share` of all
   spend) while its mature leads convert to won at least `start_rate_multiple` × the overall rate,
   with `min_expected` won deals and, when it has cost, a cost per won within the target CAC.
6. ``more_best_cac`` (do more): spending now, and over mature cohorts a cost per won within the
   target CAC and in the best quantile of peers (at or below their `best_quantile` quantile), a
   healthy ROAS, and budget headroom (spend under the budget). With no budget known the rule still
   holds and `budget` stays null: headroom is unchecked, never invented.
7. ``less_cac`` (do less): spending now, and over mature cohorts cost per won at least
   `less_cac_multiple` × the target CAC while ROAS is under healthy.
8. ``less_expensive`` (do less): CPL at least `less_cpl_multiple` × the median CPL and a falling
   MQL rate.
9. ``start_won_before`` (start): no spend this period, but in the previous period (else the same
   period a year earlier) the subject spent, won deals, and its cost per won was at most
   `start_cac_multiple` × the target CAC.
10. ``continue_at_budget`` (continue): as ``more_best_cac``, but spend has reached the budget.
11. ``wait`` (not enough data yet): fewer than `min_leads` mature leads: won deals cannot be judged yet.
12. ``less_rates``, ``more_rates``, ``continue_rates``: subjects without spend this period (email,
    organic, or no spend data at all) are judged on rates only: do less when the MQL rate is under
    `weak_mql_rate` × the median and falling, do more when the mature lead → won is in the best
    quantile of peers.
13. ``continue``: the rest.

Stop rules come first: spend with nothing to show outranks everything else. Start outranks do more
because a channel converting well on little budget is the case for budget the review exists to
find. Won deals over mature cohorts outrank CPL and MQL rate, which only predict them. Subjects
without leads or spend this period are left out unless they are worth starting again. Rows without
a value of the dimension count in the total spend but are not judged: nobody can act on "no
initiative".

A review's notes ({subject, verdict, decision, owner, date, note}) are kept as one JSON document per
review in the workspace store, under kind `DOC_KIND` and the key `review_key(dimension, period)`
(`save_review` writes one; `saved_reviews` reads one with the review before it, which it starts from). A
review belongs to a calendar term (`review_term`: the month, quarter or year the period ends in), not
to the exact days: "this month" reviewed on the 20th and again on the 22nd, after new data arrived,
is the same review with the same decisions.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import date, datetime
from typing import Any, Literal, Protocol, get_args

import polars as pl

from kpi import engine
from kpi.metrics import PERIOD_COL, Frames
from kpi.money import currency_gaps, gaps_reason
from kpi.period import Grain, Period, compare_period
from kpi.query import Query, View
from kpi.settings import Settings
from kpi.targets import period_label, target_period
from kpi.workspace import Workspace

Verdict = Literal["stop", "less", "more", "start", "continue", "wait"]
VERDICTS: tuple[Verdict, ...] = get_args(Verdict)  # the order conclusions are listed in: changes first
REVIEW_DIMENSIONS = ("initiative", "channel")
DOC_KIND = "review"
DOC_FORMAT = 1
SUBJECT = "subject"
PERIODS = ("current", "previous", "last_year")
CYCLE = "sales_cycle_days_p75"  # the catalog's p75 days from lead to won


class ReviewError(ValueError):
    """A review that cannot be made or read: the message says what is wrong and what to do."""


@dataclass(frozen=True)
class Rules:
    """The thresholds of the rules (see the module docstring for how each is used)."""

    stop_spend_share: float = 0.02  # meaningful spend: at least this share of all spend in the period
    stop_cpl_multiple: float = 3.0  # stop: CPL at least this many times the peers' median CPL ...
    weak_mql_rate: float = 0.5  # ... with an MQL rate under this fraction of the peers' median MQL rate
    less_cpl_multiple: float = 2.0  # do less: CPL at least this many times the median, MQL rate falling
    best_quantile: float = 0.25  # do more: cost per won at or below this quantile of the peers' (best quarter)
    start_cac_multiple: float = 1.0  # start again: earlier cost per won at most this many times the target CAC
    target_cac: float | None = None  # the target cost per won deal; None: the KPI tree's, else the peers' median
    stop_cac_multiple: float = 3.0  # stop: mature cost per won at least this many times the target CAC ...
    roas_break_even: float = 1.0  # ... and ROAS under this (1.0; 1 / gross margin for a margin-adjusted one)
    less_cac_multiple: float = 1.5  # do less: mature cost per won at least this many times the target CAC ...
    roas_healthy: float = 3.0  # ... and ROAS under this; do more needs at least this
    min_leads: float = 30  # leads (in the period, or mature ones) before CPL, MQL rate or won deals are judged
    min_expected: float = 3.0  # "none at all" is evidence only when at least this many were to be expected
    trend_periods: float = 4  # periods of the review's length in the trend and the mature-cohort window
    trend_z: float = 1.96  # a fall in the MQL rate counts from this z score (1.96: 95 % two-sided)
    start_budget_share: float = 0.1  # start: little budget is under this share of all spend ...
    start_rate_multiple: float = 1.5  # ... with mature lead → won at least this many times the overall rate
    cycle_min_won: float = 10  # won deals a subject needs for its own p75 time to won (else all subjects')

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if value is None and f.name == "target_cac":
                continue
            if (not isinstance(value, int | float) or isinstance(value, bool) or not math.isfinite(value)
                    or value <= 0):
                raise ReviewError(f"rule threshold {f.name} must be a positive number, got {value!r}")
        for name in FRACTION_RULES:
            if getattr(self, name) >= 1:
                raise ReviewError(f"rule threshold {name} is a fraction and must be below 1, got {getattr(self, name)}")
        if self.trend_periods != int(self.trend_periods) or not 2 <= self.trend_periods <= 12:
            raise ReviewError(f"rule threshold trend_periods must be a whole number from 2 to 12, "
                              f"got {self.trend_periods}")


#: Thresholds that are fractions (shares and quantiles): below 1.
FRACTION_RULES = ("stop_spend_share", "weak_mql_rate", "best_quantile", "start_budget_share")


@dataclass(frozen=True)
class Rule:
    id: str
    verdict: Verdict
    description: str


#: Every rule in priority order: the first that holds for a subject decides its verdict.
RULES: tuple[Rule, ...] = (
    Rule("stop_no_mql", "stop", "meaningful spend and no MQL at all"),
    Rule("stop_no_won", "stop", "meaningful spend on mature cohorts and no won deal where some were expected"),
    Rule("stop_cac", "stop", "mature cost per won far above the target CAC and ROAS under break-even"),
    Rule("stop_expensive", "stop", "CPL far above the median and a weak MQL rate"),
    Rule("start_low_budget", "start", "little budget, but mature leads convert to won far better than overall"),
    Rule("more_best_cac", "more", "mature cost per won within target and in the best quantile, healthy ROAS, "
                                  "with budget headroom or no budget known"),
    Rule("less_cac", "less", "mature cost per won well above the target CAC and ROAS under healthy"),
    Rule("less_expensive", "less", "CPL well above the median and a significantly falling MQL rate"),
    Rule("start_won_before", "start", "no spend now, but it won deals within the target CAC before"),
    Rule("continue_at_budget", "continue", "as do more, but the budget is spent"),
    Rule("wait", "wait", "too few mature leads to judge on won deals yet"),
    Rule("less_rates", "less", "no spend: MQL rate weak and significantly falling"),
    Rule("more_rates", "more", "no spend: mature lead → won in the best quantile"),
    Rule("continue_rates", "continue", "no spend: judged on rates, nothing stands out"),
    Rule("continue", "continue", "nothing stands out"),
)
RULE_VERDICT: dict[str, Verdict] = {r.id: r.verdict for r in RULES}
#: The rules that judge the MQL count or rate: skipped in a funnel without a qualified stage.
MQL_RULES = frozenset({"stop_no_mql", "stop_expensive", "less_expensive", "less_rates"})

# Numbers of a period, by the names this module uses: `_metric_ids` maps those but mql_rate and roas
# to catalog metric ids; mql_rate is mql / leads of the same subject and period (the catalog has a
# lead → MQL rate only when the qualified stage directly follows leads), roas revenue / spend.
_NUMBERS = ("spend", "leads", "mql", "won", "cpl", "mql_rate", "cac", "lead_to_won", "revenue", "roas")
# Counts per day of the mature-cohort and trend window.
_COUNTS = ("spend", "leads", "mql", "opportunities", "won", "revenue")


def _metric_ids(settings: Settings) -> dict[str, str]:
    """Catalog metric ids by `_NUMBERS` / `_COUNTS` name; without a qualified stage there is no mql,
    and opportunities (the stage before won) only in a funnel of three stages or more."""
    lead, mql, won = settings.stages[0], settings.qualified, settings.stages[-1]
    ids = {"spend": "spend", "leads": lead.count_metric, "won": won.count_metric, "cpl": "cpl", "cac": "cac",
           "lead_to_won": f"{lead.id}_to_{won.id}", "revenue": "revenue"}
    if len(settings.stages) >= 3:
        ids["opportunities"] = settings.stages[-2].count_metric
    return ids | ({"mql": mql.count_metric} if mql is not None else {})


def review_metrics(settings: Settings | None = None) -> list[str]:
    """The catalog metrics `conclusions` needs for each of `review_periods`, by dimension."""
    ids = _metric_ids(settings or Settings())
    return [ids[n] for n in _NUMBERS if n in ids]


def daily_metrics(settings: Settings | None = None) -> list[str]:
    """The catalog metrics `conclusions` needs per day of the trend window, by dimension."""
    ids = _metric_ids(settings or Settings())
    return [ids[n] for n in _COUNTS if n in ids]


def review_periods(period: Period) -> dict[str, Period]:
    """The periods a review looks at: the current one, the previous one of equal length, the same a year earlier."""
    previous, last_year = compare_period(period, "previous"), compare_period(period, "last_year")
    assert previous is not None and last_year is not None
    return {"current": period, "previous": previous, "last_year": last_year}


def trend_periods(period: Period, count: int) -> list[Period]:
    """`period` and the `count` − 1 periods before it, each the previous one of equal length (whole
    months before whole months), newest first."""
    periods = [period]
    while len(periods) < count:
        before = compare_period(periods[-1], "previous")
        assert before is not None
        periods.append(before)
    return periods


def _columns(tables: Frames, name: str) -> list[str]:
    frame = tables.get(name)
    if frame is None:
        return []
    return frame.collect_schema().names()


def review_dimensions(tables: Frames) -> list[str]:
    """The `REVIEW_DIMENSIONS` a review can be made by: those on leads, and on spend too when there is spend."""
    return [d for d in REVIEW_DIMENSIONS
            if d in _columns(tables, "leads") and ("spend" not in tables or d in _columns(tables, "spend"))]


def check_dimension(tables: Frames, dimension: str) -> None:
    """A review needs the dimension on leads, and on spend too when there is spend; else a ReviewError
    that names only dimensions the review can be made by instead."""
    others = [d for d in review_dimensions(tables) if d != dimension]
    instead = (f"review by {' or '.join(others)} instead" if others else
               f"map {' or '.join(REVIEW_DIMENSIONS)} on import, on leads and spend alike")
    if dimension not in _columns(tables, "leads"):
        raise ReviewError(f"leads have no '{dimension}' column: a review needs leads by {dimension}. "
                          f"Map that column on import, or {instead}.")
    if "spend" in tables and dimension not in _columns(tables, "spend"):
        raise ReviewError(f"spend is not recorded by '{dimension}', so its cost cannot be judged: {instead}.")


def cac_target(tables: Frames, day: date) -> tuple[float | None, str | None, str | None]:
    """The KPI tree's CAC target for `day`: (target, its period as written, the KPI's name) of the
    KPI measured by the metric ``cac`` on all data (no filters), in the shortest target period that
    contains `day`; (None, None, None) when the tree has none."""
    frame = tables.get("kpis")
    if frame is None:
        return None, None, None
    kpis = frame.lazy().collect() if isinstance(frame, pl.LazyFrame) else frame
    if not {"metric", "target", "period"} <= set(kpis.columns):
        return None, None, None
    best: tuple[int, float, str, str] | None = None
    for row in kpis.iter_rows(named=True):
        if str(row["metric"] or "").strip() != "cac" or row["target"] is None or str(row.get("filters") or "").strip():
            continue
        try:
            period = target_period(str(row["period"] or ""))
        except ValueError:
            continue
        target = float(row["target"])
        if period.start <= day <= period.end and math.isfinite(target) and target > 0 and (
                best is None or period.days < best[0]):
            best = (period.days, target, str(row["period"]).strip(), str(row.get("name") or row.get("kpi_id") or "cac"))
    return (best[1], best[2], best[3]) if best else (None, None, None)


def _last_day(tables: Frames) -> date | None:
    """The day of the data's last lead: the day the data describes, which decides how old a cohort is."""
    frame = tables.get("leads")
    if frame is None:
        return None
    last = frame.lazy().select(pl.col("created_at").max()).collect().item()
    return last.date() if isinstance(last, datetime) else last


class Compute(Protocol):
    """How `review_inputs` asks the engine for numbers: `kpi.engine.metrics`, or a cached call that
    answers the same (the app's, keyed on the workspace's identity and the query)."""

    def __call__(self, ws: Workspace, query: Query, names: Sequence[str], /) -> pl.DataFrame: ...


def review_inputs(ws: Workspace, query: Query, dimension: str, *, compute: Compute = engine.metrics,
                  rules: Rules = Rules()) -> dict[str, pl.DataFrame]:
    """Everything `conclusions` judges on for the review of `query.period` (its view and filters), as
    `compute` returns it; ReviewError (see `check_dimension`) when the review cannot be made by `dimension`.

    * "current", "previous", "last_year": `review_metrics` by `dimension` in each of
      `review_periods(period)`, in the query's view;
    * "daily": `daily_metrics` by `dimension` and day over the `rules.trend_periods` periods up to
      `period`'s end, cohort view;
    * "cycle" and "cycle_all": p75 days lead → won and won deals over all the data, by `dimension` and
      in all, cohort view;
    * "context": one row per trend period (k: 0 for this one, start, end), with the data's last day
      (as_of) and the KPI tree's CAC target (kpi_target_cac, kpi_target_period, kpi_target_name).
    """
    if query.period is None:
        raise ReviewError("a review looks at one period: give its first and last day")
    tables, settings, period, view = ws.tables, ws.settings, query.period, query.view
    check_dimension(tables, dimension)
    gaps = currency_gaps(tables, settings)
    if gaps:  # spend shares, CPL and CAC would leave out or mix up the money in those currencies
        raise ReviewError(f"a review compares costs: {gaps_reason(gaps, settings)}")
    won = settings.stages[-1].count_metric

    def ask(metrics: Sequence[str], by: Sequence[str], when: Period | None, grain: Grain | None = None,
            how: View = "cohort") -> pl.DataFrame:
        return compute(ws, Query(tuple(by), when, grain, query.filters, how), metrics)

    inputs = {name: ask(review_metrics(settings), [dimension], p, how=view)
              for name, p in review_periods(period).items()}
    trend = trend_periods(period, int(rules.trend_periods))
    inputs["daily"] = ask(daily_metrics(settings), [dimension], Period(trend[-1].start, period.end), "day")
    inputs["cycle"] = ask([CYCLE, won], [dimension], None)
    inputs["cycle_all"] = ask([CYCLE, won], [], None)
    target, target_label, target_name = cac_target(tables, period.end)
    inputs["context"] = pl.DataFrame({
        "k": range(len(trend)), "start": [p.start for p in trend], "end": [p.end for p in trend],
    }, schema={"k": pl.Int64, "start": pl.Date, "end": pl.Date}).with_columns(
        pl.lit(_last_day(tables), pl.Date).alias("as_of"), pl.lit(target, pl.Float64).alias("kpi_target_cac"),
        pl.lit(target_label, pl.String).alias("kpi_target_period"),
        pl.lit(target_name, pl.String).alias("kpi_target_name"))
    return inputs


def _numbers(frame: pl.DataFrame, dimension: str, settings: Settings, suffix: str) -> pl.DataFrame:
    """One period's numbers per subject; cost ratios only where the subject had spend."""
    ids = _metric_ids(settings)
    has_spend = pl.col("spend").fill_null(0) > 0
    return (frame.filter(pl.col(dimension).is_not_null())
            .select(pl.col(dimension).cast(pl.String).alias(SUBJECT),
                    *[(pl.col(ids[n]).cast(pl.Float64) if n in ids and ids[n] in frame.columns
                       else pl.lit(None, pl.Float64)).alias(n) for n in _NUMBERS])
            .with_columns(pl.when(pl.col("leads") > 0).then(pl.col("mql") / pl.col("leads")).alias("mql_rate"),
                          pl.when(has_spend).then(pl.col("cpl")).alias("cpl"),
                          pl.when(has_spend & (pl.col("won") > 0)).then(pl.col("cac")).alias("cac"),
                          pl.when(has_spend & (pl.col("revenue").sum() > 0))
                          .then(pl.col("revenue").fill_null(0) / pl.col("spend")).alias("roas"))
            .rename({n: n + suffix for n in _NUMBERS}))


def _mature(inputs: Mapping[str, pl.DataFrame], dimension: str, settings: Settings, rules: Rules) -> pl.DataFrame:
    """Per subject: its time to mature, the mature-cohort sums and the MQL rate of the periods before this one."""
    ids = _metric_ids(settings)
    context = inputs["context"]
    as_of: date | None = context["as_of"][0]
    won = settings.stages[-1].count_metric
    overall = inputs["cycle_all"][CYCLE][0] if inputs["cycle_all"].height else None
    cycle = (inputs["cycle"].filter(pl.col(dimension).is_not_null())
             .select(pl.col(dimension).cast(pl.String).alias(SUBJECT), pl.col(CYCLE).alias("own_cycle"),
                     pl.col(won).fill_null(0).alias("cycle_won")))
    own = (pl.col("cycle_won") >= rules.cycle_min_won) & pl.col("own_cycle").is_not_null()
    cycle = cycle.with_columns(
        pl.when(own).then(pl.col("own_cycle")).otherwise(pl.lit(overall, pl.Float64)).ceil().alias("maturity_days"),
        pl.when(own).then(pl.lit("subject")).when(pl.lit(overall is not None)).then(pl.lit("all"))
        .alias("maturity_source"))
    daily = inputs["daily"].filter(pl.col(dimension).is_not_null()).select(
        pl.col(dimension).cast(pl.String).alias(SUBJECT), pl.col(PERIOD_COL).cast(pl.Date).alias("day"),
        *[(pl.col(ids[n]).cast(pl.Float64).fill_null(0) if n in ids and ids[n] in inputs["daily"].columns
           else pl.lit(None, pl.Float64)).alias(n) for n in _COUNTS])
    k: pl.Expr = pl.lit(None, pl.Int64)
    for row in context.iter_rows(named=True):
        k = pl.when(pl.col("day").is_between(row["start"], row["end"])).then(pl.lit(row["k"], pl.Int64)).otherwise(k)
    first = context["start"].min()
    cutoff = (pl.lit(as_of, pl.Date) - pl.duration(days=pl.col("maturity_days").cast(pl.Int64)))
    mature = pl.col("day") <= pl.col("mature_end")
    before = pl.col("k") >= 1

    def total(name: str, keep: pl.Expr) -> pl.Expr:
        return pl.col(name).filter(keep).sum()

    sums = (daily.join(cycle.select(SUBJECT, "maturity_days"), on=SUBJECT, how="left")
            .with_columns(k.alias("k"), pl.when(cutoff.is_not_null())
                          .then(pl.min_horizontal(cutoff, pl.lit(context["end"].max(), pl.Date))).alias("mature_end"))
            .group_by(SUBJECT)
            .agg(*[total(n, mature).alias(f"mature_{n}") for n in _COUNTS],
                 total("leads", before).alias("leads_before"), total("mql", before).alias("mql_before")))
    out = cycle.join(sums, on=SUBJECT, how="full", coalesce=True).with_columns(
        pl.lit(as_of, pl.Date).alias("as_of"),
        pl.when(cutoff >= pl.lit(first, pl.Date)).then(pl.lit(first, pl.Date)).alias("mature_start"),
        pl.when(cutoff >= pl.lit(first, pl.Date))
        .then(pl.min_horizontal(cutoff, pl.lit(context["end"].max(), pl.Date))).alias("mature_end"))
    if "opportunities" not in ids:
        out = out.with_columns(pl.lit(None, pl.Float64).alias("mature_opportunities"))
    if "mql" not in ids:
        out = out.with_columns(pl.lit(None, pl.Float64).alias("mature_mql"), pl.lit(None, pl.Float64)
                               .alias("mql_before"))
    return out


def _quantile(values: pl.Expr, keep: pl.Expr, q: float) -> pl.Expr:
    return values.filter(keep & values.is_not_null()).quantile(q, "linear")


def _won_cheaply(suffix: str, rules: Rules) -> pl.Expr:
    """In that period the subject spent, won deals, and its cost per won was at most the threshold."""
    return ((pl.col("spend" + suffix) > 0) & (pl.col("won" + suffix) > 0)
            & (pl.col("cac" + suffix) <= rules.start_cac_multiple * pl.col("target_cac")))


def _check_budgets(budgets: Mapping[str, float]) -> dict[str, float]:
    checked = {}
    for subject, budget in budgets.items():
        if not isinstance(budget, int | float) or isinstance(budget, bool) or not math.isfinite(budget) or budget < 0:
            raise ReviewError(f"budget of '{subject}' must be a number of 0 or more, got {budget!r}")
        checked[str(subject)] = float(budget)
    return checked


#: The columns of `conclusions`, in order: the first ones as they always were, the rest added since.
COLUMNS = (
    SUBJECT, "verdict", "rule", "spend", "spend_share", "leads", "mql", "won", "cpl", "mql_rate", "mql_rate_prev",
    "cac", "lead_to_won", "median_cpl", "median_mql_rate", "median_cac", "best_cac", "best_lead_to_won",
    "cpl_multiple", "total_spend", "stop_spend_min", "stop_cpl_min", "weak_mql_rate_max", "less_cpl_min", "budget",
    "headroom", "then", "then_spend", "then_won", "then_cac", "then_median_cac", "start_cac_max",
    # added with the evidence on mature cohorts, trend, sample size and targets
    "revenue", "roas", "as_of", "maturity_days", "maturity_source", "mature_start", "mature_end", "mature_spend",
    "mature_spend_share", "mature_leads", "mature_opportunities", "mature_won", "mature_revenue", "mature_cac",
    "mature_roas", "mature_lead_to_won", "all_lead_to_won", "expected_won", "expected_mql", "target_cac",
    "target_cac_source", "target_cac_period", "target_cac_name", "cac_multiple", "stop_cac_min", "less_cac_min",
    "more_cac_max", "roas_break_even", "roas_healthy", "mql_rate_before", "mql_rate_z", "mql_falling", "min_leads",
    "start_budget_max", "start_lead_to_won_min",
)


def conclusions(inputs: Mapping[str, pl.DataFrame], dimension: str, rules: Rules = Rules(),
                budgets: Mapping[str, float] | None = None, settings: Settings | None = None) -> pl.DataFrame:
    """A verdict per subject with the numbers and thresholds behind it, from `review_inputs`' frames.

    Columns (`COLUMNS`): subject, verdict, rule (an id of `RULES`); this period's spend, spend_share
    (of all spend), leads, mql, won, cpl, mql_rate, cac, lead_to_won, revenue, roas, and mql_rate_prev
    (previous period); the peers' median_cpl, median_mql_rate, median_cac and best_cac (median and
    `best_quantile` quantile of mature cost per won), best_lead_to_won (of mature lead → won) and
    all_lead_to_won; cpl_multiple (CPL / median CPL); the mature cohorts: as_of, maturity_days and
    maturity_source, mature_start to mature_end (null when no cohort is mature yet), mature_spend,
    mature_spend_share, mature_leads, mature_opportunities, mature_won, mature_revenue, mature_cac,
    mature_roas, mature_lead_to_won, expected_won (at the overall rate) and expected_mql (at the
    median MQL rate); the target: target_cac, target_cac_source (rule, kpi or median),
    target_cac_period and target_cac_name (a KPI's), cac_multiple (mature_cac / target_cac); the trend:
    mql_rate_before, mql_rate_z and mql_falling; the thresholds compared against: stop_spend_min,
    stop_cpl_min, weak_mql_rate_max, less_cpl_min, stop_cac_min, less_cac_min, more_cac_max,
    roas_break_even, roas_healthy, min_leads, start_budget_max (spend), start_lead_to_won_min; budget and
    headroom (null when no budget is known); for a start again, then (which period), then_spend,
    then_won, then_cac, then_median_cac and start_cac_max. `cpl`, `cac` and `roas` are null for subjects
    without spend: their cost is not known and they are judged on rates only; ROAS is null too when the
    data has no deal amounts. Sorted by verdict (as in `VERDICTS`), then by spend, largest first.
    Without a qualified stage in `settings` the MQL columns are null and the `MQL_RULES` never hold.
    """
    settings = settings or Settings()
    budget_of = _check_budgets(budgets or {})
    frames = {name: _numbers(inputs[name], dimension, settings, "" if name == "current" else f"_{name}")
              for name in PERIODS}
    total_spend = inputs["current"].select(pl.col("spend").cast(pl.Float64).sum()).item()
    joined = frames["current"]
    for name in PERIODS[1:]:
        joined = joined.join(frames[name], on=SUBJECT, how="full", coalesce=True)
    joined = joined.join(_mature(inputs, dimension, settings, rules), on=SUBJECT, how="left")
    context = inputs["context"]
    kpi_target = context["kpi_target_cac"][0]

    has_spend = pl.col("spend").fill_null(0) > 0
    has_leads = pl.col("leads").fill_null(0) > 0
    enough = pl.col("leads").fill_null(0) >= rules.min_leads
    enough_mature = pl.col("mature_leads").fill_null(0) >= rules.min_leads
    mature_cac = pl.when((pl.col("mature_spend") > 0) & (pl.col("mature_won") > 0)).then(
        pl.col("mature_spend") / pl.col("mature_won"))
    revenue_known = pl.col("mature_revenue").fill_null(0).sum() > 0
    q = rules.best_quantile
    cac_peer = has_spend & enough_mature
    out = joined.with_columns(
        mature_cac.alias("mature_cac"),
        pl.when((pl.col("mature_spend") > 0) & revenue_known)
        .then(pl.col("mature_revenue").fill_null(0) / pl.col("mature_spend")).alias("mature_roas"),
        pl.when(pl.col("mature_leads") > 0).then(pl.col("mature_won") / pl.col("mature_leads"))
        .alias("mature_lead_to_won"),
        pl.when(pl.col("mature_spend").sum() > 0).then(pl.col("mature_spend") / pl.col("mature_spend").sum())
        .alias("mature_spend_share"),
    ).with_columns(
        _quantile(pl.col("cpl"), has_spend & has_leads, 0.5).alias("median_cpl"),
        _quantile(pl.col("mql_rate"), has_leads, 0.5).alias("median_mql_rate"),
        _quantile(pl.col("mature_cac"), cac_peer, 0.5).alias("median_cac"),
        _quantile(pl.col("mature_cac"), cac_peer, q).alias("best_cac"),
        _quantile(pl.col("mature_lead_to_won"), enough_mature, 1 - q).alias("best_lead_to_won"),
        pl.when(pl.col("mature_leads").sum() > 0).then(pl.col("mature_won").sum() / pl.col("mature_leads").sum())
        .alias("all_lead_to_won"),
        *[_quantile(pl.col(f"cac_{p}"), pl.lit(True), 0.5).alias(f"median_cac_{p}") for p in PERIODS[1:]],
    )
    if rules.target_cac is not None:
        target, source = pl.lit(rules.target_cac, pl.Float64), "rule"
    elif kpi_target is not None:
        target, source = pl.lit(kpi_target, pl.Float64), "kpi"
    else:
        target, source = pl.col("median_cac"), "median"
    kpi_columns = {"target_cac_period": "kpi_target_period", "target_cac_name": "kpi_target_name"}
    mql_before = pl.col("mql_before") / pl.col("leads_before")
    pooled = (pl.col("mql") + pl.col("mql_before")) / (pl.col("leads") + pl.col("leads_before"))
    se = (pooled * (1 - pooled) * (1 / pl.col("leads") + 1 / pl.col("leads_before"))).sqrt()
    out = out.with_columns(
        target.alias("target_cac"), pl.lit(source).alias("target_cac_source"),
        *[pl.lit(context[c][0] if source == "kpi" else None, pl.String).alias(name) for name, c in kpi_columns.items()],
        pl.lit(total_spend, pl.Float64).alias("total_spend"),
        (pl.col("spend") / pl.lit(total_spend if total_spend else None, pl.Float64)).alias("spend_share"),
        (pl.col("cpl") / pl.col("median_cpl")).alias("cpl_multiple"),
        (rules.stop_spend_share * pl.lit(total_spend, pl.Float64)).alias("stop_spend_min"),
        (rules.stop_cpl_multiple * pl.col("median_cpl")).alias("stop_cpl_min"),
        (rules.weak_mql_rate * pl.col("median_mql_rate")).alias("weak_mql_rate_max"),
        (rules.less_cpl_multiple * pl.col("median_cpl")).alias("less_cpl_min"),
        (rules.start_budget_share * pl.lit(total_spend, pl.Float64)).alias("start_budget_max"),
        (rules.start_rate_multiple * pl.col("all_lead_to_won")).alias("start_lead_to_won_min"),
        (pl.col("mature_leads") * pl.col("all_lead_to_won")).alias("expected_won"),
        (pl.col("leads") * pl.col("median_mql_rate")).alias("expected_mql"),
        pl.when((pl.col("leads") > 0) & (pl.col("leads_before") > 0)).then(mql_before).alias("mql_rate_before"),
        pl.when((pl.col("leads") > 0) & (pl.col("leads_before") > 0) & (se > 0))
        .then((mql_before - pl.col("mql_rate")) / se).alias("mql_rate_z"),
        pl.lit(rules.roas_break_even, pl.Float64).alias("roas_break_even"),
        pl.lit(rules.roas_healthy, pl.Float64).alias("roas_healthy"),
        pl.lit(rules.min_leads, pl.Float64).alias("min_leads"),
        pl.col(SUBJECT).replace_strict(budget_of, default=None, return_dtype=pl.Float64).alias("budget"),
    ).with_columns(
        (pl.col("spend").fill_null(0) < pl.col("budget")).alias("headroom"),
        (pl.col("mature_cac") / pl.col("target_cac")).alias("cac_multiple"),
        (rules.stop_cac_multiple * pl.col("target_cac")).alias("stop_cac_min"),
        (rules.less_cac_multiple * pl.col("target_cac")).alias("less_cac_min"),
        pl.min_horizontal("target_cac", "best_cac").alias("more_cac_max"),
        (pl.col("mql_rate_z") >= rules.trend_z).fill_null(False).alias("mql_falling"),
    )

    roas_known = pl.col("mature_roas").is_not_null()
    weak = pl.col("mql_rate") < pl.col("weak_mql_rate_max")
    falling = pl.col("mql_falling")
    judged = has_spend & enough_mature & (pl.col("mature_won") > 0)  # a mature cost per won to judge
    best_cac = judged & (pl.col("mature_cac") <= pl.col("more_cac_max")) & (
        ~roas_known | (pl.col("mature_roas") >= rules.roas_healthy))
    start = ~has_spend & (_won_cheaply("_previous", rules) | _won_cheaply("_last_year", rules))
    no_mql = pl.col("mql").fill_null(0) == 0
    conditions: dict[str, pl.Expr] = {
        "stop_no_mql": has_spend & (pl.col("spend") >= pl.col("stop_spend_min")) & no_mql
        & (~has_leads | (pl.col("expected_mql") >= rules.min_expected)),
        "stop_no_won": has_spend & (pl.col("mature_spend_share") >= rules.stop_spend_share)
        & (pl.col("mature_won") == 0) & (pl.col("expected_won") >= rules.min_expected),
        "stop_cac": judged & (pl.col("mature_cac") >= pl.col("stop_cac_min"))
        & (~roas_known | (pl.col("mature_roas") < rules.roas_break_even)),
        "stop_expensive": enough & (pl.col("cpl") >= pl.col("stop_cpl_min")) & weak,
        "start_low_budget": (has_leads | has_spend) & (pl.col("spend").fill_null(0) < pl.col("start_budget_max"))
        & enough_mature & (pl.col("mature_won") >= rules.min_expected)
        & (pl.col("mature_lead_to_won") >= pl.col("start_lead_to_won_min"))
        & (pl.col("mature_cac").is_null() | (pl.col("mature_cac") <= pl.col("target_cac"))),
        "more_best_cac": best_cac & pl.col("headroom").fill_null(True),
        "less_cac": judged & (pl.col("mature_cac") >= pl.col("less_cac_min"))
        & (~roas_known | (pl.col("mature_roas") < rules.roas_healthy)),
        "less_expensive": enough & (pl.col("cpl") >= pl.col("less_cpl_min")) & falling,
        "start_won_before": start,
        "continue_at_budget": best_cac,
        "wait": ~enough_mature,
        "less_rates": ~has_spend & enough & weak & falling,
        "more_rates": ~has_spend & enough_mature & (pl.col("mature_won") > 0)
        & (pl.col("mature_lead_to_won") >= pl.col("best_lead_to_won")),
        "continue_rates": ~has_spend,
        "continue": pl.lit(True),
    }
    assert list(conditions) == [r.id for r in RULES], "every rule has one condition, in priority order"
    if settings.qualified is None:
        conditions |= dict.fromkeys(MQL_RULES, pl.lit(False))
    rule: pl.Expr = pl.lit(None, pl.String)
    for rule_id, holds in reversed(conditions.items()):
        rule = pl.when(holds.fill_null(False)).then(pl.lit(rule_id)).otherwise(rule)

    then = pl.when(_won_cheaply("_previous", rules)).then(pl.lit("previous")).when(
        _won_cheaply("_last_year", rules)).then(pl.lit("last_year"))

    def then_value(name: str) -> pl.Expr:
        return (pl.when(pl.col("then") == "previous").then(pl.col(f"{name}_previous"))
                .when(pl.col("then") == "last_year").then(pl.col(f"{name}_last_year")).alias(f"then_{name}"))

    out = (out.filter(has_leads | has_spend | start.fill_null(False))
           .with_columns(rule.alias("rule"))
           .with_columns(pl.col("rule").replace_strict(RULE_VERDICT, return_dtype=pl.String).alias("verdict"),
                         pl.when(pl.col("rule") == "start_won_before").then(then).alias("then"))
           .with_columns(then_value("spend"), then_value("won"), then_value("cac"), then_value("median_cac"))
           .with_columns(pl.when(pl.col("then").is_not_null())
                         .then(rules.start_cac_multiple * pl.col("target_cac")).alias("start_cac_max"),
                         pl.col("mql_rate_previous").alias("mql_rate_prev")))
    order = {v: i for i, v in enumerate(VERDICTS)}
    return (out.sort([pl.col("verdict").replace_strict(order, return_dtype=pl.Int8), pl.col("spend").fill_null(0),
                      pl.col(SUBJECT)], descending=[False, True, False])
            .select(COLUMNS)
            .with_columns(pl.col("leads", "mql", "won", "then_won", "mature_leads", "mature_opportunities",
                                 "mature_won").cast(pl.Int64)))


def review(tables: Frames, dimension: str, period: Period, rules: Rules = Rules(),
           budgets: Mapping[str, float] | None = None, *, settings: Settings | None = None, view: View = "cohort",
           filters: Mapping[str, Sequence[str]] | None = None) -> pl.DataFrame:
    """The conclusions of `period` by `dimension` over prepared canonical tables (see `conclusions`)."""
    ws = Workspace(dict(tables), settings or Settings(), "review")  # type: ignore[arg-type]
    inputs = review_inputs(ws, Query.of(period=period, filters=filters, view=view), dimension, rules=rules)
    return conclusions(inputs, dimension, rules, budgets, ws.settings)


# --- notes ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Note:
    """What the team decided about one subject in a review."""

    subject: str
    verdict: Verdict
    decision: str
    owner: str
    date: date
    note: str = ""

    def to_dict(self) -> dict[str, str]:
        return {"subject": self.subject, "verdict": self.verdict, "decision": self.decision, "owner": self.owner,
                "date": self.date.isoformat(), "note": self.note}


@dataclass(frozen=True)
class SavedReview:
    """A review as saved: its dimension and period, the notes, and the budgets it was judged with."""

    dimension: str
    period: Period
    notes: tuple[Note, ...]
    budgets: dict[str, float]

    @property
    def key(self) -> str:
        """The store key it is saved under."""
        return f"{self.dimension}:{self.period}"


class NoteError(ReviewError):
    """Notes that cannot be saved or read; `problems` has one message per problem, naming the note and field."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = list(problems)


Term = Literal["month", "quarter", "year"]
#: The calendar term a review on each of the sidebar's period presets belongs to.
PRESET_TERMS: dict[str, Term] = {"this_month": "month", "last_month": "month", "last_30_days": "month",
                                 "this_quarter": "quarter", "last_90_days": "quarter", "year_to_date": "year",
                                 "last_12_months": "year"}


def review_term(period: Period, term: Term | None = None) -> Period:
    """The calendar month, quarter or year that a review of `period` belongs to: the one its last day
    falls in. `term` says which (`PRESET_TERMS` has it for each preset); without it, the shortest as
    long as the period: a month for up to 31 days, a quarter for up to 92, else a year. A period that
    follows the data's last day ("this month", "last 30 days") so keeps its review as data arrives:
    1–20 and 1–22 November both belong to November."""
    term = term or ("month" if period.days <= 31 else "quarter" if period.days <= 92 else "year")
    return target_period(period_label(period.end, term))


def review_key(dimension: str, period: Period, term: Term | None = None) -> str:
    """The store key of the review of `period` by `dimension`: the dimension and its `review_term`,
    'initiative:2026-11-01..2026-11-30'."""
    return f"{dimension}:{review_term(period, term)}"


def parse_review_key(key: str) -> tuple[str, Period]:
    """The dimension and period of a review key; ReviewError when it is not one."""
    dimension, sep, dates = key.partition(":")
    start, sep2, end = dates.partition("..")
    try:
        if not (dimension and sep and sep2):
            raise ValueError("missing part")
        return dimension, Period(date.fromisoformat(start), date.fromisoformat(end))
    except ValueError as exc:
        raise ReviewError(f"'{key}' is not a review key; expected '<dimension>:<YYYY-MM-DD>..<YYYY-MM-DD>'") from exc


def _text(raw: Mapping[str, Any], name: str) -> str:
    value = raw.get(name)
    if value is None:
        return ""
    return value.strip() if isinstance(value, str) else str(value).strip()


def note_from_dict(raw: Mapping[str, Any], row: int = 1) -> Note:
    """A validated note from plain values (the date as ISO text or a date); NoteError names each problem."""
    subject = _text(raw, "subject")
    where = f"note {row}" + (f" ({subject})" if subject else "")
    problems = []
    if not subject:
        problems.append(f"{where}: subject is empty; name the {'/'.join(REVIEW_DIMENSIONS)} the note is about")
    verdict = _text(raw, "verdict")
    if verdict not in VERDICTS:
        problems.append(f"{where}: verdict '{verdict}' is not one of {', '.join(VERDICTS)}")
    decision, owner = _text(raw, "decision"), _text(raw, "owner")
    if not decision:
        problems.append(f"{where}: decision is empty; write what was decided")
    if not owner:
        problems.append(f"{where}: owner is empty; say who owns the decision")
    when = raw.get("date")
    day: date | None = None
    if isinstance(when, datetime):
        day = when.date()
    elif isinstance(when, date):
        day = when
    else:
        try:
            day = date.fromisoformat(_text(raw, "date"))
        except ValueError:
            problems.append(f"{where}: date '{_text(raw, 'date')}' is not a real date; use YYYY-MM-DD")
    if problems:
        raise NoteError(problems)
    assert day is not None
    return Note(subject, verdict, decision, owner, day, _text(raw, "note"))  # type: ignore[arg-type]


def check_notes(notes: Sequence[Mapping[str, Any] | Note]) -> tuple[Note, ...]:
    """Every note validated, at most one per subject; NoteError lists all problems at once."""
    problems: list[str] = []
    checked: list[Note] = []
    seen: set[str] = set()
    for row, raw in enumerate(notes, start=1):
        try:
            note = raw if isinstance(raw, Note) else note_from_dict(raw, row)
        except NoteError as exc:
            problems += exc.problems
            continue
        if note.subject in seen:
            problems.append(f"note {row} ({note.subject}): a second note on the same subject; keep one per subject")
        seen.add(note.subject)
        checked.append(note)
    if problems:
        raise NoteError(problems)
    return tuple(checked)


def notes_to_doc(dimension: str, period: Period, notes: Sequence[Mapping[str, Any] | Note],
                 budgets: Mapping[str, float] | None = None, term: Term | None = None) -> dict[str, Any]:
    """A JSON-able document of the notes of the review of `period` (and the budgets used), to save
    under `review_key(dimension, period, term)`; its start and end are the review's term. Validated
    first: nothing invalid is ever returned for saving."""
    checked = check_notes(notes)
    term_period = review_term(period, term)
    return {"format": DOC_FORMAT, "dimension": dimension, "start": term_period.start.isoformat(),
            "end": term_period.end.isoformat(), "notes": [n.to_dict() for n in checked],
            "budgets": _check_budgets(budgets or {})}


def notes_from_doc(doc: Any, key: str = "") -> SavedReview:
    """A saved review document back as a `SavedReview`, validated; ReviewError names what is wrong."""
    where = f"review {key}" if key else "review document"
    if not isinstance(doc, Mapping):
        raise ReviewError(f"{where}: expected an object with dimension, start, end and notes")
    if doc.get("format") != DOC_FORMAT:
        raise ReviewError(f"{where}: unknown format {doc.get('format')!r}; this version reads format {DOC_FORMAT}")
    dimension = doc.get("dimension")
    if not isinstance(dimension, str) or not dimension:
        raise ReviewError(f"{where}: dimension is missing")
    try:
        period = Period(date.fromisoformat(str(doc.get("start"))), date.fromisoformat(str(doc.get("end"))))
    except ValueError as exc:
        raise ReviewError(f"{where}: start and end must be dates (YYYY-MM-DD): {exc}") from exc
    notes = doc.get("notes")
    if not isinstance(notes, list) or not all(isinstance(n, Mapping) for n in notes):
        raise ReviewError(f"{where}: notes must be a list of objects")
    budgets = doc.get("budgets", {})
    if not isinstance(budgets, Mapping):
        raise ReviewError(f"{where}: budgets must map each subject to an amount")
    try:
        checked = check_notes(notes)
    except NoteError as exc:
        raise NoteError([f"{where}: {p}" for p in exc.problems]) from exc
    return SavedReview(dimension, period, checked, _check_budgets(budgets))


def previous_review(docs: Mapping[str, Any], key: str) -> SavedReview | None:
    """The latest saved review before the one under `key`: the same dimension, and the period that ends
    last before this one starts; of two that end the same day, the one closer in length (a month's
    review follows September, not the third quarter). Documents whose key is not a review key are not
    reviews and are passed over; a review document that does not validate raises ReviewError."""
    dimension, period = parse_review_key(key)
    earlier: list[tuple[date, int, str]] = []
    for other in docs:
        try:
            other_dimension, other_period = parse_review_key(other)
        except ReviewError:
            continue
        if other_dimension == dimension and other_period.end < period.start:
            earlier.append((other_period.end, -abs(other_period.days - period.days), other))
    if not earlier:
        return None
    latest = max(earlier)[2]
    return notes_from_doc(docs[latest], latest)


# --- saved reviews in the workspace store --------------------------------------------------------

class DocStore(Protocol):
    """Where reviews are saved: a workspace store's JSON documents (`kpi.store.Store` is one)."""

    def put_doc(self, workspace: str, kind: str, key: str, doc: Any) -> None: ...

    def docs(self, workspace: str, kind: str) -> dict[str, Any]: ...


@dataclass(frozen=True)
class Reviews:
    """A review as saved and the one before it, as `saved_reviews` reads them from a workspace store.

    `saved` is the review under the key asked for (None when nothing was saved for it), `previous` the latest
    earlier review of the same dimension it starts from (see `previous_review`; None when there is none).
    When a saved document could not be read it is None too, and `saved_problem` or `previous_problem` says why."""

    saved: SavedReview | None
    previous: SavedReview | None
    saved_problem: str | None = None
    previous_problem: str | None = None

    @property
    def problems(self) -> tuple[str, ...]:
        """Why a saved review could not be read, one message each (none when both were read or not saved)."""
        return tuple(p for p in (self.saved_problem, self.previous_problem) if p)


def save_review(store: DocStore, workspace_id: str, dimension: str, period: Period,
                notes: Sequence[Mapping[str, Any] | Note], budgets: Mapping[str, float] | None = None,
                term: Term | None = None) -> SavedReview:
    """Save the team's `notes` (and the `budgets` the review was judged with) as the review of `period` by
    `dimension` in the workspace, replacing what was saved for the same review before: the key is
    `review_key(dimension, period, term)`, so a review on any day of November is November's. The notes are
    validated first (`notes_to_doc`): on a NoteError nothing is saved. Returns the review as saved."""
    doc = notes_to_doc(dimension, period, notes, budgets, term)
    key = review_key(dimension, period, term)
    store.put_doc(workspace_id, DOC_KIND, key, doc)
    return notes_from_doc(doc, key)


def saved_reviews(store: DocStore, workspace_id: str, key: str) -> Reviews:
    """The review saved under `key` (see `review_key`) in the workspace and the latest one before it. A saved
    document that does not validate is reported in `problems` and read as not saved, never raised: one
    damaged review must not hide the other."""
    docs = store.docs(workspace_id, DOC_KIND)
    saved = previous = None
    saved_problem = previous_problem = None
    try:
        saved = notes_from_doc(docs[key], key) if key in docs else None
    except ReviewError as exc:
        saved_problem = str(exc)
    try:
        previous = previous_review(docs, key)
    except ReviewError as exc:
        previous_problem = str(exc)
    return Reviews(saved, previous, saved_problem, previous_problem)
