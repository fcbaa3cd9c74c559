"""Multi-touch attribution: how much of each conversion every campaign, channel or initiative earned.

A conversion is a lead at `created_at` (credit `leads`), a won deal at `won_at` (credit `won`), its `amount`
at `won_at` (credit `revenue`), or any workspace stage at its timestamp (credit = the stage's id, e.g.
`mql`). A period selects conversions whose day falls in it. A conversion's eligible touches are its lead's
touches at or before the conversion, in time order (ties keep the touches table's order). A conversion with
no eligible touch gives its whole credit to `(no touch)`, so the credit always sums to the conversions'
total.

Models (each gives every eligible touch a weight; a conversion's weights sum to 1):

- `first` / `last`: all to the earliest / latest touch.
- `linear`: equal shares.
- `time_decay`: 0.5^(Δ / 7 days), Δ = conversion time − touch time, normalised.
- `u_shaped` (first 40 %, lead creation 40 %), `w_shaped` (first, lead creation, opportunity creation 30 %
  each), `full_path` (those three and won, 22.5 % each), as HubSpot defines them. The lead-creation /
  opportunity / won touch is the last eligible touch at or before `created_at` / the opportunity stage's /
  the won stage's timestamp; a role whose stage has no timestamp or no touch before it goes to the last
  eligible touch. Roles on one touch add up. The rest (20 / 10 / 10 %) is split evenly over the touches
  that hold no role, or over the role touches when every touch holds one.
- `markov`: data-driven; the first-order Markov removal effect of each value of the credited dimension over
  the journeys (converting ones: the eligible touches of each conversion; non-converting ones: the touches
  of leads created in the period that never reached the conversion), as DP6's marketing-attribution-models
  computes it (self-transitions dropped); a conversion's credit is split over its touches by their value's
  removal weight.

Credit goes by the touch's `channel`, `campaign` or `initiative` (the workspace's initiative rules applied
to the touch's campaign). Spend joins on the same dimension: cost per attributed conversion, and for
revenue the attributed ROAS.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta
from itertools import pairwise
from typing import Literal, get_args

import polars as pl

from kpi.metrics import compute
from kpi.period import Period
from kpi.settings import Settings, Stage, initiative_for

Model = Literal["first", "last", "linear", "time_decay", "u_shaped", "w_shaped", "full_path", "markov"]
MODELS: tuple[Model, ...] = get_args(Model)
Dimension = Literal["channel", "campaign", "initiative"]
DIMENSIONS: tuple[Dimension, ...] = get_args(Dimension)
NO_TOUCH = "(no touch)"
NOT_SET = "(not set)"
HALF_LIFE = timedelta(days=7)

#: Role-based models: (share of each role in order first, lead creation, opportunity, won), share of the rest.
_ROLE_SHARES: dict[str, tuple[tuple[float, ...], float]] = {
    "u_shaped": ((0.4, 0.4), 0.2),
    "w_shaped": ((0.3, 0.3, 0.3), 0.1),
    "full_path": ((0.225, 0.225, 0.225, 0.225), 0.1),
}
_CONV = "_converted_at"
_VALUE = "_value"
_STATE = "_state"
_RAW = "_raw"
_C = "_c"
_ROW = "_row"
_ORDER = "_order"
_WEIGHT = "_weight"
_ROLE_COLUMNS = ("_lead_role", "_opportunity_role", "_won_role")


class AttributionError(ValueError):
    """An attribution request the data cannot answer; the message lists what is valid."""


def credits(settings: Settings) -> tuple[str, ...]:
    """What can be credited: leads, won deals, revenue and every stage of the workspace (by id)."""
    return tuple(dict.fromkeys(("leads", "won", "revenue", *(s.id for s in settings.stages
                                                             if s.column != "created_at"))))


def _stage(settings: Settings, *candidates: str) -> Stage | None:
    return next((s for s in settings.stages if s.id in candidates or s.column in (f"{c}_at" for c in candidates)),
                None)


def conversions(leads: pl.DataFrame | pl.LazyFrame, credit: str, settings: Settings,
                period: Period | None = None) -> pl.LazyFrame:
    """One row per conversion of `credit` (in `period`): lead_id, when, and its value (1, or the amount)."""
    if credit not in credits(settings):
        raise AttributionError(f"unknown credit '{credit}'; valid: {', '.join(credits(settings))}")
    won = _stage(settings, "won") or settings.stages[-1]
    column = {"leads": "created_at", "won": won.column, "revenue": won.column}.get(credit) or next(
        s.column for s in settings.stages if s.id == credit)
    frame = leads.lazy()
    names = frame.collect_schema().names()
    if column not in names or (credit == "revenue" and "amount" not in names):
        need = "amount" if credit == "revenue" and "amount" not in names else column
        raise AttributionError(f"the leads table has no '{need}' column, so '{credit}' cannot be credited")
    value = pl.col("amount").cast(pl.Float64).fill_null(0.0) if credit == "revenue" else pl.lit(1.0)
    out = frame.filter(pl.col(column).is_not_null()).select(
        pl.col("lead_id").cast(pl.String), pl.col(column).alias(_CONV), value.alias(_VALUE),
        *_role_columns(settings, names))
    if period is not None:
        out = out.filter(period.contains(pl.col(_CONV).dt.date()))
    return out


def _role_columns(settings: Settings, names: Sequence[str]) -> list[pl.Expr]:
    """Lead creation, opportunity creation and won timestamps, for the role-based models."""
    stages = {"_lead_role": "created_at", "_opportunity_role": (_stage(settings, "opportunity") or Stage("", "", "")
                                                                ).column,
              "_won_role": (_stage(settings, "won") or settings.stages[-1]).column}
    return [(pl.col(col) if col in names else pl.lit(None, pl.Datetime("us"))).alias(role)
            for role, col in stages.items()]


def _state(touches_schema: Sequence[str], by: Dimension) -> pl.Expr:
    if by not in touches_schema:
        raise AttributionError(f"the touches table has no '{by}' column; valid here: "
                               f"{', '.join(d for d in DIMENSIONS if d in touches_schema)}")
    return _label(pl.col(by)).alias(_STATE)


def _label(value: pl.Expr) -> pl.Expr:
    """A touch's value of the credited dimension as text, `(not set)` where it has none."""
    return value.cast(pl.String).fill_null(NOT_SET).replace("", NOT_SET)


def _with_initiative(frame: pl.LazyFrame, settings: Settings) -> pl.LazyFrame:
    """`frame` with the initiative its campaign belongs to under the workspace's rules, where it has none."""
    names = frame.collect_schema().names()
    if "campaign" not in names or not settings.initiative_rules:
        return frame
    derived = initiative_for(pl.col("campaign").cast(pl.String), settings.initiative_rules)
    return frame.with_columns((pl.coalesce(pl.col("initiative").cast(pl.String), derived) if "initiative" in names
                               else derived).alias("initiative"))


def _eligible(conv: pl.LazyFrame, touches: pl.LazyFrame, by: Dimension) -> pl.LazyFrame:
    """Each conversion's (`_c`: its row in `conv`) touches at or before it, in time order with ties in the touches
    table's order (`_order`: the touch's rank in that order over the whole table), and the touch's `by` value as
    stored (`_raw`).

    One sort on a single integer key (conversion row × 2³² + order) instead of a sort on text id, time and row:
    a conversion's touches then lie together in time order, so its first, last and role touches are found by
    comparing neighbouring rows, and per-conversion windows read contiguous slices."""
    names = touches.collect_schema().names()
    _state(names, by)  # the dimension must exist
    key = pl.col(_C).cast(pl.UInt64) * (1 << 32) + pl.col(_ORDER).cast(pl.UInt64)
    return (touches.select(pl.col("lead_id").cast(pl.String), "touched_at",
                           pl.col("touched_at").rank("ordinal").alias(_ORDER), pl.col(by).alias(_RAW))
            .join(conv, on="lead_id", how="inner")
            .filter(pl.col("touched_at") <= pl.col(_CONV))
            .drop("lead_id")
            .sort(key)
            .with_columns(pl.col(_C).set_sorted()))


def _with_weight(eligible: pl.LazyFrame, model: Model) -> pl.LazyFrame:
    """`eligible` (in `_eligible`'s order) with each touch's `_weight` under `model`; a conversion's weights sum
    to 1."""
    n = pl.len().over(_C)
    if model == "linear":
        return eligible.with_columns((1.0 / n).alias(_WEIGHT))
    if model == "time_decay":
        age = (pl.col(_CONV) - pl.col("touched_at")).dt.total_microseconds() / (HALF_LIFE.total_seconds() * 1e6)
        return eligible.with_columns(pl.lit(0.5).pow(age).alias(_WEIGHT)).with_columns(
            pl.col(_WEIGHT) / pl.col(_WEIGHT).sum().over(_C))
    frame = eligible.with_columns((pl.col(_C) != pl.col(_C).shift(1)).fill_null(True).alias("_first"),
                                  (pl.col(_C) != pl.col(_C).shift(-1)).fill_null(True).alias("_last"))
    first, last = pl.col("_first"), pl.col("_last")
    if model == "first":
        return frame.with_columns(first.cast(pl.Float64).alias(_WEIGHT))
    if model == "last":
        return frame.with_columns(last.cast(pl.Float64).alias(_WEIGHT))
    shares, rest = _ROLE_SHARES[model]
    # role touches: the first, then the last touch at or before each role's stage (the touches before it are the
    # first ones of the conversion), or the last eligible touch when the stage has no date or no touch before it;
    # roles on one touch add up
    roles = [first]
    for column in _ROLE_COLUMNS[: len(shares) - 1]:
        before = (pl.col("touched_at") <= pl.col(column)).fill_null(False)
        hit = before & (last | ~before.shift(-1).fill_null(False))
        found = pl.when(first).then(before).forward_fill()
        roles.append(pl.when(found).then(hit).otherwise(last))
    frame = frame.with_columns(
        pl.any_horizontal(roles).alias("_holds"),
        pl.sum_horizontal([pl.when(r).then(share).otherwise(0.0) for r, share in zip(roles, shares, strict=True)])
        .alias(_WEIGHT))
    holds = pl.col("_holds")
    held = holds.sum().over(_C)
    free = n - held
    rest_share = (pl.when(free > 0).then(pl.when(~holds).then(rest / free).otherwise(0.0))
                  .otherwise(pl.when(holds).then(rest / held).otherwise(0.0)))
    return frame.with_columns(pl.col(_WEIGHT) + rest_share)


def removal_effects(paths: Sequence[Sequence[str]], converted: Sequence[bool]) -> dict[str, float]:
    """Each state's share of the first-order Markov removal effect over `paths` (converting or not): how much
    the chance to convert from the start falls when journeys through that state are lost, normalised to 1."""
    import numpy as np  # here, not at the top: every command imports this module, few ask for Markov

    states = sorted({s for p in paths for s in p})
    index = {s: i + 1 for i, s in enumerate(states)}
    size = len(states) + 3  # start, states…, null, conversion
    null, conv = size - 2, size - 1
    counts = np.zeros((size, size))
    for path, won in zip(paths, converted, strict=True):
        seq = [0, *(index[s] for s in path), conv if won else null]
        for a, b in pairwise(seq):
            if a != b:
                counts[a, b] += 1
    counts[null, null] = counts[conv, conv] = 1.0

    def chance(matrix: np.ndarray) -> float:
        sums = matrix.sum(axis=1, keepdims=True)
        norm = matrix / np.where(sums == 0, 1.0, sums)
        q, r = norm[:-2, :-2], norm[:-2, -2:]
        return float((np.linalg.solve(np.identity(len(q)) - q, r))[0, 1])

    base = chance(counts)
    if base == 0:
        return dict.fromkeys(states, 0.0)
    effects = {}
    for state, i in index.items():
        removed = counts.copy()
        removed[:, null] += removed[:, i]
        removed[:, i] = 0.0
        effects[state] = 1.0 - chance(removed) / base
    total = sum(effects.values())
    return {s: (e / total if total else 0.0) for s, e in effects.items()}


def _journeys(eligible: pl.DataFrame, leads: pl.LazyFrame, touches: pl.LazyFrame, by: Dimension, credit: str,
              settings: Settings, period: Period | None) -> tuple[list[list[str]], list[bool]]:
    """Converting journeys (each conversion's eligible touches) and non-converting ones (leads created in the
    period that never reached the conversion, with all their touches)."""
    converting = eligible.group_by(_C, maintain_order=True).agg(pl.col(_STATE))[_STATE].to_list()
    won = _stage(settings, "won") or settings.stages[-1]
    column = {"leads": "created_at", "won": won.column, "revenue": won.column}.get(credit) or next(
        s.column for s in settings.stages if s.id == credit)
    open_leads = leads.filter(pl.col(column).is_null())
    if period is not None:
        open_leads = open_leads.filter(period.contains(pl.col("created_at").dt.date()))
    names = touches.collect_schema().names()
    lost = (open_leads.select(pl.col("lead_id").cast(pl.String))
            .join(touches.with_row_index(_ROW).select(pl.col("lead_id").cast(pl.String), "touched_at", _ROW,
                                                      _state(names, by)), on="lead_id")
            .sort("lead_id", "touched_at", _ROW)
            .group_by("lead_id", maintain_order=True).agg(pl.col(_STATE)).collect())[_STATE].to_list()
    return converting + lost, [True] * len(converting) + [False] * len(lost)


def _slice(leads: pl.LazyFrame, filters: Mapping[str, Sequence[str]] | None) -> pl.LazyFrame:
    """The leads in the slice: each filter on a column the leads table has keeps the rows whose value it lists."""
    names = leads.collect_schema().names()
    for dimension, values in (filters or {}).items():
        if values and dimension in names:
            leads = leads.filter(pl.col(dimension).cast(pl.String).is_in(list(values)))
    return leads


def attribute(tables: Mapping[str, pl.DataFrame], model: Model, credit: str = "leads", by: Dimension = "channel",
              period: Period | None = None, settings: Settings | None = None,
              filters: Mapping[str, Sequence[str]] | None = None) -> pl.DataFrame:
    """Credit of `credit` earned by each value of `by` under `model` in `period`, with the spend on it and
    what each credited conversion cost (`cost_per_credit`), or for revenue the attributed `roas`.

    `filters` narrow the conversions to leads in a slice (segment, region, the lead's own channel…); spend is
    not recorded per lead, so on a slice `spend` and the cost ratio are null (not available), never the
    whole spend set against the slice's share of credit. A value without spend rows (organic, say) has a null
    `spend` too: not recorded is not the same as free. Columns: `by`, `credit`, `spend`, then
    `cost_per_credit` (counts), or `roas` and `roi` ((revenue − spend) / spend) (revenue); a `(no touch)` row
    holds the credit of conversions without an eligible touch. Sorted by credit, largest first."""
    settings = settings or Settings()
    if model not in MODELS:
        raise AttributionError(f"unknown model '{model}'; valid: {', '.join(MODELS)}")
    if by not in DIMENSIONS:
        raise AttributionError(f"unknown dimension '{by}'; valid: {', '.join(DIMENSIONS)}")
    if "leads" not in tables or "touches" not in tables:
        raise AttributionError("attribution needs a leads table and a touches table (lead_id, touched_at, channel)")
    leads, touches = _slice(tables["leads"].lazy(), filters), _with_initiative(tables["touches"].lazy(), settings)
    roles = len(_ROLE_SHARES[model][0]) - 1 if model in _ROLE_SHARES else 0
    conv = (conversions(leads, credit, settings, period).select("lead_id", _CONV, _VALUE, *_ROLE_COLUMNS[:roles])
            .with_row_index(_C).collect())
    eligible = _eligible(conv.lazy(), touches, by)
    if model == "markov":
        ordered = eligible.with_columns(_label(pl.col(_RAW)).alias(_STATE)).collect()
        paths, converted = _journeys(ordered, leads, touches, by, credit, settings, period)
        effect = removal_effects(paths, converted)
        raw = pl.col(_STATE).replace_strict(effect, default=0.0, return_dtype=pl.Float64)
        total = raw.sum().over(_C)
        weighted = ordered.lazy().with_columns(
            pl.when(total > 0).then(raw / total).otherwise(1.0 / pl.len().over(_C)).alias(_WEIGHT))
    else:
        weighted = _with_weight(eligible, model)
    # weights look across a conversion; the dimension's values are labelled once per value, not once per touch
    credited = weighted.select(_C, _RAW, (pl.col(_VALUE) * pl.col(_WEIGHT)).alias("credit")).collect()
    earned = (credited.group_by(_RAW).agg(pl.col("credit").sum()).with_columns(_label(pl.col(_RAW)))
              .group_by(_RAW).agg(pl.col("credit").sum()).rename({_RAW: by}))
    import numpy as np

    touched = np.zeros(conv.height, dtype=bool)
    touched[credited[_C].to_numpy()] = True
    untouched = conv[_VALUE].filter(pl.Series(~touched)).sum()
    if untouched:
        earned = pl.concat([earned, pl.DataFrame({by: [NO_TOUCH], "credit": [float(untouched)]})])
    sliced = any(values for values in (filters or {}).values())
    spend = None if sliced else tables.get("spend")
    return _with_cost(earned, spend, by, credit, period, settings).sort("credit", by, descending=[True, False])


def _with_cost(earned: pl.DataFrame, spend: pl.DataFrame | None, by: Dimension, credit: str,
               period: Period | None, settings: Settings) -> pl.DataFrame:
    if spend is not None:
        spend = _with_initiative(spend.lazy(), settings).collect()
    names = ["roas", "roi"] if credit == "revenue" else ["cost_per_credit"]
    if spend is None or by not in spend.collect_schema().names():
        return earned.filter(pl.col("credit") > 0).with_columns(pl.lit(None, pl.Float64).alias("spend"),
                                                               *(pl.lit(None, pl.Float64).alias(n) for n in names))
    costs = compute({"spend": spend}, ["spend"], by=[by], period=period, settings=settings)
    out = earned.join(costs.with_columns(pl.col(by).cast(pl.String)), on=by, how="full", coalesce=True).with_columns(
        pl.col("credit").fill_null(0.0))  # a value without spend rows keeps a null spend: not recorded, not free
    if credit == "revenue":  # attributed ROAS, and ROI: what the credited revenue returns over the spend
        paid = pl.col("spend") > 0
        ratios = [pl.when(paid).then(pl.col("credit") / pl.col("spend")).alias("roas"),
                  pl.when(paid).then((pl.col("credit") - pl.col("spend")) / pl.col("spend")).alias("roi")]
    else:
        ratios = [pl.when(pl.col("credit") > 0).then(pl.col("spend") / pl.col("credit")).alias("cost_per_credit")]
    return out.with_columns(ratios).filter((pl.col("credit") > 0) | (pl.col("spend") > 0))


def compare_models(tables: Mapping[str, pl.DataFrame], credit: str = "leads", by: Dimension = "channel",
                   period: Period | None = None, settings: Settings | None = None,
                   filters: Mapping[str, Sequence[str]] | None = None,
                   models: Sequence[Model] = MODELS) -> pl.DataFrame:
    """Every model's `attribute` answer stacked, with a `model` column first: the side-by-side comparison."""
    return pl.concat([attribute(tables, m, credit, by, period, settings, filters)
                      .select(pl.lit(m).alias("model"), pl.all()) for m in models], how="diagonal_relaxed")


def stage_credits(tables: Mapping[str, pl.DataFrame], model: Model, by: Dimension = "channel",
                  period: Period | None = None, settings: Settings | None = None,
                  filters: Mapping[str, Sequence[str]] | None = None) -> pl.DataFrame:
    """Credit for every funnel stage under one model, one row per value of `by` and a column per stage (leads
    first, then each stage the workspace dates), with the spend on the value and its cost per attributed
    conversion at each stage (`cost_per_<stage>`)."""
    settings = settings or Settings()
    stages = ["leads", *(s.id for s in settings.stages if s.column != "created_at")]
    leads = tables.get("leads")
    present = [c for c in stages if c == "leads" or (leads is not None and next(
        s.column for s in settings.stages if s.id == c) in leads.collect_schema().names())]
    wide: pl.DataFrame | None = None
    for credit in present:
        part = attribute(tables, model, credit, by, period, settings, filters).select(
            by, pl.col("credit").alias(credit), "spend")
        wide = part if wide is None else wide.join(part, on=by, how="full", coalesce=True).with_columns(
            pl.coalesce("spend", "spend_right").alias("spend")).drop("spend_right")
    assert wide is not None
    wide = wide.with_columns(pl.col(present).fill_null(0.0))
    return wide.select(by, *present, "spend", *[pl.when(pl.col(c) > 0).then(pl.col("spend") / pl.col(c))
                                                 .alias(f"cost_per_{c}") for c in present]).sort(present[0], by,
                                                                                                  descending=[True,
                                                                                                              False])


def untouched(credited: pl.DataFrame, by: Dimension) -> tuple[float, float]:
    """(the credit an `attribute` answer shares out, the part of it no touch can claim): the conversions (or
    revenue) in the period, and those whose lead had no eligible touch (the `(no touch)` row)."""
    total = float(credited["credit"].sum())
    return total, float(credited.filter(pl.col(by) == NO_TOUCH)["credit"].sum())
