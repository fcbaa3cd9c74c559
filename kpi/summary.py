"""The summary for leadership: what the report says, as numbers, for one view.

`summarise(ws, query, dimension)` gathers, through the same `kpi.engine` entry points the pages ask, everything
the report prints: the Overview's headline metrics with their KPI targets, the funnel from visit to won deal,
the best and worst initiatives (or channels), the Review's verdicts with their evidence, the KPI tree and the
attribution models side by side. Nothing here is formatted or translated: the report's renderer (`ui.report`) writes it
in the reader's language with the pages' own formatting.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

import polars as pl

from kpi import clock, engine
from kpi.attribution import DIMENSIONS as ATTRIBUTION_DIMENSIONS
from kpi.metrics import MetricError, available_dimensions, catalog, table_dimensions
from kpi.query import Query
from kpi.review import ReviewError, Rules, conclusions, review_inputs
from kpi.scorecard import Card
from kpi.tree import check, walk
from kpi.tree import kpis as tree_kpis
from kpi.tree_edit import KPIS, canonical
from kpi.workspace import Workspace

#: The Overview's headline cards, in their order: the report's first table.
HEADLINE = ("leads", "mql", "won", "revenue", "spend", "cpl", "cac", "roas")
#: What best and worst are ranked by: the Overview's first choice (return on ad spend).
RANK_METRIC = "roas"
RANKED = 5  # subjects shown as best, and as worst
CREDIT = "leads"  # what the attribution comparison credits: the Attribution page's first choice

@dataclass(frozen=True)
class Ranking:
    """The subjects of `dimension` ranked by `metric` over the period: the `RANKED` best (best first) and the
    `RANKED` worst (worst first); a subject is in both when there are fewer than twice `RANKED` of them."""

    dimension: str
    metric: str
    best: pl.DataFrame
    worst: pl.DataFrame


@dataclass(frozen=True)
class Summary:
    """Every number of the report for `query` (its period, filters, counting and comparison period).

    * `headline`: one row, each `HEADLINE` metric over the period (with `<id>_prev`, `<id>_delta` and
      `<id>_delta_pct` beside it when the query compares), as the Overview's cards show them;
    * `targets`: per headline metric, the KPI that measures exactly it on all the data and has a target
      for `headline_day` (none when the view is filtered: a KPI's target is for all the data);
    * `funnel`: `kpi.engine.funnel`: count, conversion from the stage before, cost and days per stage;
    * `ranking`: best and worst by `RANK_METRIC` (None when no subject has a value);
    * `verdicts`: `kpi.review.conclusions` by `dimension` with their evidence columns, or None and
      `verdicts_problem` saying why the review cannot be made;
    * `tree`: every KPI of the tree (depth first, with its depth) and its card as of `tree_day`;
    * `attribution`: `CREDIT` shared out by `dimension` under every model (None without touches).
    """

    query: Query
    dimension: str
    headline: pl.DataFrame
    headline_day: date
    targets: dict[str, Card]
    cost_gaps: dict[str, list[str]]
    funnel: pl.DataFrame
    ranking: Ranking | None
    verdicts: pl.DataFrame | None
    verdicts_problem: str | None
    rules: Rules
    tree: list[tuple[Card, int]]
    tree_day: date
    attribution: pl.DataFrame | None


def rank(frame: pl.DataFrame, dimension: str, metric: str, higher_is_better: bool, n: int = RANKED) -> Ranking | None:
    """`frame`'s subjects (rows by `dimension`) with a value of `metric`, best first and worst first; None when
    none has one or every value is zero (nothing to rank)."""
    ranked = frame.drop_nulls(dimension).drop_nulls(metric)
    if ranked.is_empty() or ranked[metric].eq(0).all():
        return None
    ranked = ranked.sort(metric, descending=higher_is_better)
    return Ranking(dimension, metric, ranked.head(n), ranked.tail(n).reverse())


def headline_targets(cards: Sequence[Card], metrics: Sequence[str]) -> dict[str, Card]:
    """For each of `metrics`, the card of the first KPI that measures exactly it on all the data (no filters)
    and has a target: the target a headline number answers to."""
    out: dict[str, Card] = {}
    for card in cards:
        kpi = card.kpi
        if kpi.metric in metrics and not kpi.filters and card.target is not None and kpi.metric not in out:
            out[kpi.metric] = card
    return out


def tree_checks(ws: Workspace) -> bool:
    """Whether the workspace has a KPI tree without errors (`kpi.tree.check`): only then are its cards made."""
    frame = canonical(ws.tables.get(KPIS))
    cat = catalog(ws.settings)
    return not frame.is_empty() and not any(
        p.severity == "error" for p in check(frame, cat, table_dimensions(ws.tables)))


def verdicts(ws: Workspace, query: Query, dimension: str, rules: Rules,
             budgets: Mapping[str, float]) -> tuple[pl.DataFrame | None, str | None]:
    """The Review's conclusions for the query's period by `dimension` (the filter on it left out, so every
    subject meets its peers, as on the Review page), or None and why not."""
    try:
        inputs = review_inputs(ws, query.but(compare=None).without(dimension), dimension, rules=rules)
        return conclusions(inputs, dimension, rules, budgets, ws.settings), None
    except (ReviewError, MetricError) as exc:
        return None, str(exc)


def summarise(ws: Workspace, query: Query, dimension: str = "initiative", rules: Rules = Rules(),
              budgets: Mapping[str, float] | None = None) -> Summary:
    """The report's numbers for `query` over `ws`, each from the entry point the page that shows it asks.

    `query` must have a period; its `by` and `grain` are ignored. The headline cards' targets are judged on
    the period's last day (or the data's, when earlier), as the Overview does; the tree on the data's last
    day (or today), as the KPI page does. `budgets` are the ones saved with the period's review."""
    if query.period is None:
        raise ValueError("a summary is of one period: give its first and last day")
    base = query.but(by=(), grain=None, allocation=False)
    plain = base.but(compare=None)
    headline = engine.metrics(ws, base, HEADLINE)
    headline_day = min(query.period.end, ws.last_day or query.period.end)
    has_tree = tree_checks(ws)
    targets = {} if base.filters or not has_tree else headline_targets(engine.scorecards(ws, headline_day), HEADLINE)
    gaps = {m: engine.cost_dimensions_missing(ws, base, [m]) for m in HEADLINE}
    ranking = None
    if dimension in available_dimensions(ws.tables):
        metric = catalog(ws.settings)[RANK_METRIC]
        ranking = rank(engine.metrics(ws, plain.but(by=(dimension,)), (RANK_METRIC,)), dimension, RANK_METRIC,
                       metric.higher_is_better)
    found, problem = verdicts(ws, plain, dimension, rules, budgets or {})
    tree_day = ws.last_day or clock.today()
    tree: list[tuple[Card, int]] = []
    if has_tree:
        by_id = {c.kpi.id: c for c in engine.scorecards(ws, tree_day)}
        tree = [(by_id[k.id], depth) for k, depth in walk(tree_kpis(canonical(ws.tables.get(KPIS)),
                                                                    catalog(ws.settings))) if k.id in by_id]
    attribution = None
    if "touches" in ws.tables and dimension in ATTRIBUTION_DIMENSIONS:
        attribution = engine.attribution(ws, plain.but(by=(dimension,)), CREDIT)
    return Summary(base, dimension, headline, headline_day, targets, {m: d for m, d in gaps.items() if d},
                   engine.funnel(ws, base), ranking, found, problem, rules, tree, tree_day, attribution)
