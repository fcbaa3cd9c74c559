"""KPI tree templates to start from, and starting targets from last year's numbers.

A template is a ready-made set of KPI definitions (rows of the ``kpis`` table without targets) that
follows the workspace's funnel stages:

* ``funnel``: won deals as the goal, broken down along the funnel (won ← each earlier stage ←
  leads ← sessions); each stage count has its conversion rate from the stage before and its cost
  per stage (CPL, cost per MQL, ..., CAC) as sub-KPIs.
* ``handover``: the marketing–sales handover: MQL acceptance (MQL → SQL rate) as the goal, with
  speed to lead, leakage and days from MQL to SQL.
* ``efficiency``: campaign efficiency: ROI as the goal and, per initiative, ROAS with CPL and CAC.
* ``initiative``: one initiative's own tree: its revenue, won deals, MQL, leads, CPL, CAC and ROAS.

KPI ids start with the template's name (``funnel_won``); those scoped to an initiative carry a
slug of its name (``efficiency_abm_roas``), so adding a template twice, or the same initiative's
set again, finds the KPIs already there (`merge`).

`suggest_targets` proposes a target per KPI for a period: the same period a year earlier, measured
in the flow view on the KPI's own slice, moved by an uplift in the good direction. `apply` adds a
template's KPIs to a tree with those targets.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

import polars as pl

from kpi.metrics import Metric, catalog, compute, ratio_parts, table_dimensions
from kpi.period import compare_period
from kpi.schema import TABLES
from kpi.settings import Settings, Stage
from kpi.targets import target_period
from kpi.tree import (
    DEFINITION,
    TARGET,
    TARGET_SCHEMA,
    Kpi,
    SliceKey,
    default_direction,
    definitions,
    format_filters,
    join,
    targets,
)

TEMPLATES: tuple[str, ...] = ("funnel", "handover", "efficiency", "initiative")

#: Where each table's numbers come from, for the "how it is measured" text.
_SOURCES = {"leads": "CRM leads", "spend": "ad platform spend", "traffic": "website analytics (sessions)"}

_NEW_LEADS = "Leads created (forms, events, imports), counted in the period they were created."

#: The columns that date a table's rows, to tell whether the data reaches back to a period.
_DATED_BY = {"leads": ("created_at",), "spend": ("date", "period_start"), "traffic": ("date", "period_start")}

def template(name: str, settings: Settings, *, initiatives: Sequence[str] = (),
             initiative: str | None = None) -> pl.DataFrame:
    """Definitions (kpis table rows, every canonical column, no targets: period/target null) for one
    template; each passes kpi.tree.check with no problems. Raises ValueError with a clear message on
    an unknown template name or a missing initiative."""
    cat = catalog(settings)
    if name == "funnel":
        rows = _funnel(settings, cat)
    elif name == "handover":
        rows = _handover(settings, cat)
    elif name == "efficiency":
        names = _initiative_names(initiatives)
        if not names:
            raise ValueError("the efficiency template needs at least one initiative: pick the initiatives to "
                             "compare (their names as in the data's initiative column)")
        rows = _efficiency(names, cat)
    elif name == "initiative":
        if initiative is None or not initiative.strip():
            raise ValueError("the initiative template needs the initiative: pick one (its name as in the "
                             "data's initiative column)")
        rows = _initiative(_initiative_names([initiative])[0], settings, cat)
    else:
        raise ValueError(f"there is no KPI template '{name}'; choose one of {', '.join(TEMPLATES)}")
    dtypes = TABLES["kpis"].dtypes
    defs = pl.DataFrame([{c: r.get(c) for c in DEFINITION} for r in rows], schema={c: dtypes[c] for c in DEFINITION})
    return join(defs, pl.DataFrame(schema=TARGET_SCHEMA))


def merge(tree: pl.DataFrame, added: pl.DataFrame) -> tuple[pl.DataFrame, list[str]]:
    """The tree with `added` appended, skipping KPIs whose kpi_id already exists (returned, so the page
    can say "3 KPIs were already in the tree"); existing rows and targets are never changed."""
    new, skipped = _split(tree, added)
    if "kpi_id" not in tree.columns:  # an empty tree without columns
        return new, skipped
    if new.is_empty():
        return tree, skipped
    return pl.concat([tree, new], how="diagonal_relaxed"), skipped


def apply(tree: pl.DataFrame, added: pl.DataFrame, suggested: pl.DataFrame) -> tuple[pl.DataFrame, list[str]]:
    """`merge` of `added` into `tree`, with the `suggested` targets (kpi_id, period, target, as
    `suggest_targets` returns them) given to the KPIs it adds. KPIs already in the tree are skipped
    (and returned) and keep their rows and targets: a suggestion for one of them is dropped, as is
    one for a period where the added KPI brings its own target."""
    new, skipped = _split(tree, added)
    ids = new["kpi_id"].unique().implode()
    own = targets(new) if "period" in new.columns else pl.DataFrame(schema=TARGET_SCHEMA)
    goals = (pl.concat([own.select(_cast_targets()), suggested.select(_cast_targets())])
             .filter(pl.col("kpi_id").is_in(ids))
             .unique(subset=["kpi_id", "period"], keep="first", maintain_order=True))
    merged, _ = merge(tree, join(definitions(new), goals))
    return merged, skipped


def _cast_targets() -> list[pl.Expr]:
    return [pl.col(c).cast(dtype) for c, dtype in TARGET_SCHEMA.items()]


def _split(tree: pl.DataFrame, added: pl.DataFrame) -> tuple[pl.DataFrame, list[str]]:
    """The rows of `added` whose KPI is not in `tree`, and the ids of those that are."""
    if "kpi_id" not in tree.columns:
        if tree.height:
            raise ValueError("the KPI tree has rows but no kpi_id column; it cannot be merged into")
        return added, []
    present = set(tree["kpi_id"].drop_nulls().to_list())
    skipped = [k for k in dict.fromkeys(added["kpi_id"].to_list()) if k in present]
    return added.filter(~pl.col("kpi_id").is_in(list(present))), skipped


def suggest_targets(tree: Sequence[Kpi], tables: Mapping[str, pl.DataFrame | pl.LazyFrame],
                    settings: Settings, period_label: str, *, uplift: float = 0.0) -> pl.DataFrame:
    """kpi_id, period, target: a starting target for each KPI for `period_label` (e.g. 2026-Q4): the
    same period one year earlier measured the same way (view="flow", the KPI's filters, its formula
    evaluated on the metric values), times (1 + uplift) for up-is-good KPIs and (1 − uplift) for
    down-is-good; KPIs whose value is null last year are left out.

    The uplift moves a value by its size in the good direction, so a negative ROI of −0.5 with 10 %
    becomes −0.45 (better), not −0.55. A KPI has no value last year (and no suggestion) when its
    data does not reach back to the start of that period, when it filters on a dimension the data
    lacks, or when it is (or its formula uses) a ratio with nothing on one side: a month without
    spend has a CPL and CAC of 0 and no ROAS, and a conversion rate from no leads or to no MQL says
    nothing either; none of them is a target to aim for.
    """
    if not -1 < uplift < 1:
        raise ValueError(f"uplift {uplift:g} is not a share between -1 and 1; write 0.1 for a 10 % stretch")
    period = target_period(period_label)
    last = compare_period(period, "last_year")
    assert last is not None
    cat = catalog(settings)
    dims = table_dimensions(tables)
    starts = {name: _first_day(tables[name], cols) for name, cols in _DATED_BY.items() if name in tables}

    slices: dict[SliceKey, list[Kpi]] = {}
    for kpi in tree:
        if kpi.answerable(cat, dims):
            slices.setdefault(kpi.slice_key, []).append(kpi)
    values: dict[str, float] = {}
    for key, group in slices.items():
        metrics = list(dict.fromkeys(m for k in group for m in k.metrics(cat)))
        parts = [p for m in metrics for p in ratio_parts(cat[m], cat)]
        row = compute(tables, list(dict.fromkeys([*metrics, *parts])), period=last, filters=dict(key), view="flow",
                      settings=settings).row(0, named=True)
        measured: dict[str, float | None] = {
            m: None if row[m] is None or not _covers(cat[m], starts, last.start)
            or not all(row[p] for p in ratio_parts(cat[m], cat)) else float(row[m]) for m in metrics}
        for kpi in group:
            value = kpi.evaluate(measured, cat)
            if value is not None and not math.isnan(value):  # NaN: a formula divided by zero
                values[kpi.id] = float(value)
    suggested = [(k.id, period_label, _stretch(values[k.id], uplift, k.direction == "up"))
                 for k in tree if k.id in values]
    return pl.DataFrame(suggested, schema=TARGET_SCHEMA, orient="row").select(TARGET)


def _stretch(value: float, uplift: float, up: bool) -> float:
    """`value` moved by `uplift` of its size in the good direction: × (1 ± uplift) when positive."""
    return value + (uplift if up else -uplift) * abs(value)


def _first_day(frame: pl.DataFrame | pl.LazyFrame, columns: Sequence[str]) -> date | None:
    """The earliest day a table's rows are dated by, or None for an empty table."""
    cols = [c for c in columns if c in frame.collect_schema()]
    if not cols:
        return None
    first = frame.lazy().select(pl.min_horizontal(pl.col(c).min().cast(pl.Date) for c in cols)).collect().item()
    return first if isinstance(first, date) else None


def _covers(metric: Metric, starts: Mapping[str, date | None], start: date) -> bool:
    """Whether every table `metric` reads has data from `start` on (else a count of 0 would mean
    'not in the data yet', not 'none happened')."""
    return all((first := starts.get(t)) is not None and first <= start for t in metric.tables)


# --- building the templates


def _row(kpi_id: str, metric: str, cat: Mapping[str, Metric], *, parent: str | None, why: str, name: str = "",
         owner: str = "", filters: Mapping[str, Sequence[str]] | None = None, cadence: str = "monthly",
         how: str = "") -> dict[str, Any]:
    """One KPI definition measured by catalog `metric`, named and explained from the catalog (`how`
    replaces the catalog's description of the metric)."""
    m = cat[metric]
    how = f"{how or m.description} From {' and '.join(_SOURCES.get(t, t) for t in m.tables)}."
    return {"kpi_id": kpi_id, "name": name or m.label, "metric": metric, "parent": parent, "owner": owner, "why": why,
            "how": how, "direction": default_direction(metric, cat),
            "filters": format_filters(filters) if filters else None, "cadence": cadence}


def _handover_pair(settings: Settings) -> tuple[Stage, Stage]:
    """Marketing hands over at the qualified stage; sales accepts at the next one (MQL → SQL)."""
    stages = settings.stages
    start = settings.qualified or stages[0]
    return start, stages[stages.index(start) + 1]


def _funnel(settings: Settings, cat: Mapping[str, Metric]) -> list[dict[str, Any]]:
    stages = settings.stages
    handed = stages.index(_handover_pair(settings)[1])
    rows: list[dict[str, Any]] = []
    parent: str | None = None
    for i in range(len(stages) - 1, -1, -1):
        stage = stages[i]
        count_id = f"funnel_{stage.count_metric}"
        side = "Sales" if i >= handed else "Marketing Operations"
        if parent is None:
            why = f"{stage.label}: the funnel's end result, which every stage before it works towards."
        else:
            why = (f"Enough {stage.label} to reach the {stages[i + 1].label} target at the current "
                   f"conversion rate.")
        rows.append(_row(count_id, stage.count_metric, cat, parent=parent, why=why, how=_NEW_LEADS if i == 0 else "",
                         owner="Head of Marketing" if parent is None else side))
        before = stages[i - 1] if i else None
        rate = f"{before.id}_to_{stage.id}" if before else "session_to_lead"
        if rate in cat:
            came_from = before.label if before else "website sessions"
            rows.append(_row(f"funnel_{rate}", rate, cat, parent=count_id, owner=side,
                             why=f"Turning more {came_from} into {stage.label} grows {stage.label} without "
                                 f"more {came_from} or spend."))
        cost = "cpl" if i == 0 else "cac" if i == len(stages) - 1 else f"cost_per_{stage.id}"
        if cost in cat:
            rows.append(_row(f"funnel_{cost}", cost, cat, parent=count_id, owner="Performance Marketing",
                             why=f"Media spend per one of the {stage.label}: growing them has to stay affordable."))
        parent = count_id
    rows.append(_row("funnel_sessions", "sessions", cat, parent=parent, owner="Marketing Operations",
                     why=f"Website visits feed the {stages[0].label}: fewer visits mean fewer leads at the "
                         f"same conversion rate."))
    return rows


def _handover(settings: Settings, cat: Mapping[str, Metric]) -> list[dict[str, Any]]:
    a, b = _handover_pair(settings)
    goal = f"handover_{a.id}_to_{b.id}"
    hours = f"{settings.sla_hours:g} h"
    return [
        _row(goal, f"{a.id}_to_{b.id}", cat, parent=None, cadence="weekly", owner="Head of Sales",
             name=f"{a.label} acceptance ({a.label} → {b.label})",
             why=f"Sales accepting the {a.label} that marketing hands over is where marketing's work turns "
                 f"into pipeline; a low rate means the two teams disagree on what a good lead is."),
        _row("handover_speed_to_lead", "speed_to_lead_hours", cat, parent=goal, cadence="weekly",
             owner="Sales Development",
             why="Leads called back within hours convert far better than those called back days later."),
        _row("handover_leakage", "leakage", cat, parent=goal, cadence="weekly", owner="Sales Development",
             why=f"Leads sales never contacts, or contacts after the {hours} SLA, are marketing spend lost "
                 f"at the handover."),
        _row(f"handover_days_{a.id}_to_{b.id}", f"days_{a.id}_to_{b.id}", cat, parent=goal, cadence="weekly",
             owner="Marketing Operations",
             why=f"{a.label} waiting long for sales to accept them cool down; a short wait keeps the handover "
                 f"moving."),
    ]


def _efficiency(names: Sequence[str], cat: Mapping[str, Metric]) -> list[dict[str, Any]]:
    rows = [_row("efficiency_roi", "roi", cat, parent=None, owner="Head of Marketing",
                 why="Marketing has to return more than it costs: the return on all media spend.")]
    for name, slug in zip(names, _slugs(names), strict=True):
        scope = {"initiative": (name,)}
        roas = f"efficiency_{slug}_roas"
        rows += [
            _row(roas, "roas", cat, parent="efficiency_roi", filters=scope, name=f"ROAS: {name}",
                 why=f"Which initiatives earn their budget: revenue per unit of spend on {name}."),
            _row(f"efficiency_{slug}_cpl", "cpl", cat, parent=roas, filters=scope, name=f"CPL: {name}",
                 why=f"What a lead from {name} costs; cheaper leads of the same quality raise its ROAS."),
            _row(f"efficiency_{slug}_cac", "cac", cat, parent=roas, filters=scope, name=f"CAC: {name}",
                 why=f"What a won customer from {name} costs; the cost that revenue has to cover."),
        ]
    return rows


def _initiative(name: str, settings: Settings, cat: Mapping[str, Metric]) -> list[dict[str, Any]]:
    stages = settings.stages
    won, lead, qualified = stages[-1], stages[0], settings.qualified
    scope = {"initiative": (name,)}
    base = f"initiative_{_slugs([name])[0]}"
    goal, won_id = f"{base}_revenue", f"{base}_{won.count_metric}"
    below_won = f"{base}_{qualified.count_metric}" if qualified else won_id

    def row(metric: str, parent: str | None, why: str, how: str = "") -> dict[str, Any]:
        return _row(f"{base}_{metric}", metric, cat, parent=parent, filters=scope, why=why, how=how,
                    name=f"{cat[metric].label}: {name}")

    rows = [row("revenue", None, f"What {name} brings in: the value of the deals it won."),
            row(won.count_metric, goal, f"Revenue from {name} comes from its won deals.")]
    if qualified:
        rows.append(row(qualified.count_metric, won_id,
                        f"{name} has to bring enough {qualified.label} for sales to win deals from."))
    rows += [row(lead.count_metric, below_won, f"The top of {name}'s funnel that every later stage depends on.",
                 _NEW_LEADS),
             row("roas", goal, f"Revenue per unit of spend on {name}: whether it earns its budget."),
             row("cac", goal, f"What a won customer from {name} costs in media; its revenue has to cover it."),
             row("cpl", f"{base}_cac", f"Cheaper leads from {name} at the same quality lower its CAC.")]
    return rows


def _initiative_names(names: Sequence[str]) -> list[str]:
    """The initiatives, stripped and without repeats; a name a filter cannot hold is refused."""
    out = list(dict.fromkeys(n.strip() for n in names if n.strip()))
    for name in out:
        if ";" in name or "," in name:
            raise ValueError(f"initiative '{name}' contains ';' or ',', which a KPI filter uses to separate "
                             f"values; rename the initiative (e.g. in the workspace's initiative rules)")
    return out


def _slugs(names: Sequence[str]) -> list[str]:
    """A short id per name (lower case, words joined by _), made unique by a number where two coincide."""
    out: list[str] = []
    for name in names:
        slug = re.sub(r"\W+", "_", name.lower()).strip("_") or "initiative"
        unique, n = slug, 2
        while unique in out:
            unique, n = f"{slug}_{n}", n + 1
        out.append(unique)
    return out
