"""The engine's entry points: every number the app and the command line show, asked as
`(workspace, query)` (see `kpi.query.Query` and `kpi.workspace.Workspace`); the KPI tree's scorecards,
which follow each KPI's own period and filters, as `(workspace, today)`.

Each entry point answers from the workspace's prepared tables and settings only, so its answer is a
function of `(workspace.identity, query, the other arguments)`: what a cache keys on.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

import polars as pl

from kpi import attribution as kpi_attribution
from kpi import funnel as kpi_funnel
from kpi import handover as kpi_handover
from kpi import metrics as kpi_metrics
from kpi import tree as kpi_tree
from kpi.period import Grain
from kpi.query import Query
from kpi.tree_edit import KPIS, canonical
from kpi.workspace import Workspace

if TYPE_CHECKING:  # imported where used: scorecards bring numpy and forecasting, the event rules numba, which most
    # questions never need
    from kpi import scorecard as kpi_scorecard
    from kpi.events import FunnelSpec


def metrics(ws: Workspace, query: Query, names: Sequence[str]) -> pl.DataFrame:
    """The metrics `names` for the query (`kpi.metrics.compute`); when the query compares, with each
    metric's value in the comparison period and the change beside it (`kpi.metrics.with_deltas`)."""
    current = _compute(ws, query, names)
    previous = query.previous()
    if previous is None:
        return current
    return kpi_metrics.with_deltas(current, _compute(ws, previous, names), names, query.by)


def _compute(ws: Workspace, query: Query, names: Sequence[str]) -> pl.DataFrame:
    return kpi_metrics.compute(ws.frames, names, by=query.by, period=query.period, grain=query.grain,
                               filters=query.filter_map, view=query.view, settings=ws.settings,
                               allocate_cost=query.allocation)


def funnel(ws: Workspace, query: Query) -> pl.DataFrame:
    """The stage funnel from visit to won deal (`kpi.funnel.stage_funnel`); when the query compares, the
    comparison period's columns beside it (`kpi.funnel.compare_funnels`)."""
    current = _funnel(ws, query)
    previous = query.previous()
    if previous is None:
        return current
    return kpi_funnel.compare_funnels(current, _funnel(ws, previous), query.by)


def _funnel(ws: Workspace, query: Query) -> pl.DataFrame:
    return kpi_funnel.stage_funnel(ws.frames, by=query.by, period=query.period, filters=query.filter_map,
                                   view=query.view, settings=ws.settings, allocate_cost=query.allocation)


def conversion_trend(ws: Workspace, query: Query) -> pl.DataFrame:
    """Each step's conversion per `query.grain` bucket (`kpi.funnel.conversion_trend`; weeks by default)."""
    return kpi_funnel.conversion_trend(ws.tables, query.grain or "week", period=query.period, by=query.by,
                                       filters=query.filter_map, view=query.view, settings=ws.settings)


def incomplete_periods(ws: Workspace, query: Query) -> pl.DataFrame:
    """The `query.grain` buckets whose cohorts are still too young to judge (`kpi.funnel.incomplete_periods`)."""
    return kpi_funnel.incomplete_periods(ws.tables, query.grain or "week", period=query.period,
                                         filters=query.filter_map, settings=ws.settings)


def leaked_leads(ws: Workspace, query: Query) -> pl.DataFrame:
    """The leads sales never contacted, or contacted after the SLA (`kpi.handover.leaked_leads`)."""
    return kpi_handover.leaked_leads(ws.tables, period=query.period, filters=query.filter_map, settings=ws.settings)


def _dimension(query: Query) -> kpi_attribution.Dimension:
    by = query.by[0] if query.by else "channel"
    if by not in kpi_attribution.DIMENSIONS:
        raise kpi_attribution.AttributionError(
            f"attribution credits a channel, campaign or initiative, not {by!r}")
    return by


def attribution(ws: Workspace, query: Query, credit: str = "leads",
                models: Sequence[kpi_attribution.Model] = kpi_attribution.MODELS) -> pl.DataFrame:
    """`credit` shared out by `query.by[0]` (channel by default) under each of `models`, stacked with a
    `model` column first (`kpi.attribution.compare_models`)."""
    return kpi_attribution.compare_models(ws.tables, credit, _dimension(query), query.period, ws.settings,
                                          query.filter_map, models)


def stage_credits(ws: Workspace, query: Query, model: kpi_attribution.Model) -> pl.DataFrame:
    """Every funnel stage credited by `query.by[0]` under `model` (`kpi.attribution.stage_credits`)."""
    return kpi_attribution.stage_credits(ws.tables, model, _dimension(query), query.period, ws.settings,
                                         query.filter_map)


def cost_dimensions_missing(ws: Workspace, query: Query, names: Sequence[str]) -> list[str]:
    """The dimensions the query breaks down or filters by that spend is not recorded by, when any of the
    metrics `names` needs spend: their costs are not available unless allocated by lead share."""
    cat = kpi_metrics.catalog(ws.settings)
    dims = [*query.by, *(d for d, _ in query.filters)]
    missing = [d for m in names for d in kpi_metrics.cost_dimensions_missing(ws.tables, cat[m], dims)]
    return list(dict.fromkeys(missing))


def _tree(ws: Workspace) -> list[kpi_tree.Kpi]:
    return kpi_tree.kpis(canonical(ws.tables.get(KPIS)), kpi_metrics.catalog(ws.settings))


def scorecards(ws: Workspace, today: date) -> list[kpi_scorecard.Card]:
    """Every KPI of the workspace's tree against its target as of `today`: value, pace, forecast, status
    (`kpi.scorecard.scorecards`); the tree must have no errors (`kpi.tree.check`)."""
    from kpi import scorecard as kpi_scorecard

    return kpi_scorecard.scorecards(ws.tables, _tree(ws), ws.settings, today)


def kpi_trend(ws: Workspace, kpi_id: str, today: date, grain: Grain) -> pl.DataFrame:
    """One KPI's value per `grain` bucket beside its target (`kpi.scorecard.trend`)."""
    kpi = next(k for k in _tree(ws) if k.id == kpi_id)
    from kpi import scorecard as kpi_scorecard

    return kpi_scorecard.trend(ws.tables, kpi, ws.settings, today, grain=grain)


def _events(ws: Workspace, query: Query) -> pl.DataFrame:
    from kpi.journeys import events_in

    return events_in(ws.tables, query.period, query.filter_map)


def event_funnel(ws: Workspace, query: Query, spec: FunnelSpec, by: str | None = None,
                 attribution: str = "first_touch") -> dict[str, Any]:
    """The event funnel (`kpi.events.funnel`: persons per step, conversion times, breakdown by the event property
    `by`) over the query's period and filters (`kpi.journeys.events_in`); when the query compares, the
    comparison period's steps under "previous"."""
    from kpi.events import funnel

    result = funnel(_events(ws, query), spec, by, attribution)
    previous = query.previous()
    if previous is not None:
        result["previous"] = funnel(_events(ws, previous), spec)["steps"]
    return result


def event_trend(ws: Workspace, query: Query, spec: FunnelSpec) -> pl.DataFrame:
    """Persons entering the event funnel and converting, per `query.grain` period of their step-0 event
    (`kpi.events.trends`; quarters and years by month): columns period (date), entered, converted."""
    from kpi.events import EventFunnelError, trends
    from kpi.journeys import trend_interval

    if query.period is None:
        raise EventFunnelError("an event trend needs a period")
    rows = trends(_events(ws, query), spec, trend_interval(query.grain), query.period.start, query.period.end)
    return pl.DataFrame(rows, schema={"period": pl.String, "entered": pl.Int64, "converted": pl.Int64}).with_columns(
        pl.col("period").str.to_date())


def event_persons(ws: Workspace, query: Query, spec: FunnelSpec) -> pl.DataFrame:
    """Every person who entered the event funnel, with the furthest step and the step dropped before
    (`kpi.journeys.persons_by_step`)."""
    from kpi.journeys import persons_by_step

    return persons_by_step(_events(ws, query), spec)


def event_leads(ws: Workspace, query: Query, spec: FunnelSpec) -> pl.DataFrame:
    """The lead funnel of the persons who reached the event funnel's last step (`kpi.journeys.lead_stages`)."""
    from kpi.journeys import lead_stages

    persons = event_persons(ws, query, spec)
    converted = persons.filter(pl.col("step") == len(spec.steps) - 1)["user_id"]
    return lead_stages(ws.tables, converted, ws.settings)
