"""Editing the KPI tree: adding a KPI, setting a target, and the percent ↔ fraction rules of typed values.

A kpis table (`kpi.schema.TABLES["kpis"]`) has one row per KPI and target period (`kpi.tree.join`). The data
keeps rates and thresholds as fractions: a 45 % MQL-rate target is 0.45, a warning line at 90 % of the target
is 0.9. People type them in percent (45, 90), so every value typed in percent passes through `share_of` or
`stored_target` on its way in and `editor_tables` on its way out. Rounding keeps that round trip exact:
×100 is rounded to `SHOWN_DIGITS` decimals and ÷100 to `STORED_DIGITS`, so 0.123 → 12.3 → 0.123 and never
0.12300000000000001; an untouched value comes back as it was saved.

Nothing here validates a tree: `kpi.tree.check` and `kpi.tree.check_edit` do, before anything is saved.
"""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl

from kpi import tree as kpi_tree
from kpi.metrics import Metric
from kpi.schema import TABLES

KPIS = "kpis"  # the table's name in a workspace and its file name (kpis.parquet) in a data folder
PERCENT = 100.0  # rates and thresholds are fractions in the data and percentages where people type them
SHOWN_DIGITS, STORED_DIGITS = 8, 10  # rounding ×100 and ÷100: 0.123 → 12.3 → 0.123, never 0.12300000000000001
THRESHOLDS = ("warning", "critical")  # the definition columns kept as a share of the target


def canonical(frame: pl.DataFrame | None) -> pl.DataFrame:
    """A kpis table with exactly the canonical columns, in their canonical types (text as plain text: a
    categorical or a number read from a file becomes a string); a column it lacks is empty, and None is an
    empty tree."""
    schema = TABLES[KPIS].dtypes
    if frame is None:
        return pl.DataFrame(schema=schema)
    return frame.select([pl.col(c).cast(pl.String).cast(schema[c]) if c in frame.columns and schema[c] == pl.String
                         else pl.col(c).cast(schema[c]) if c in frame.columns
                         else pl.lit(None, schema[c]).alias(c) for c in schema])


def metrics(frame: pl.DataFrame) -> dict[str, str]:
    """Each KPI's metric id or formula by its KPI id (rows without a KPI id are left out)."""
    return {k: m for k, m in zip(frame["kpi_id"], frame["metric"], strict=True) if k}


def unit(metric: str, catalog: Mapping[str, Metric]) -> str | None:
    """The unit of a value of a KPI measured by `metric`: the catalog metric's unit ('count', 'money',
    'ratio', ...), a formula's when it has one (revenue − spend is money, `kpi.tree.Formula.unit`), else None:
    a ratio of two metrics (revenue / spend), an unknown metric or text that is no formula is a plain number."""
    if metric in catalog:
        return catalog[metric].unit
    try:
        return kpi_tree.Formula.parse(metric, catalog).unit(catalog)
    except kpi_tree.FormulaError:
        return None


def is_rate(metric: str | None, catalog: Mapping[str, Metric]) -> bool:
    """Whether a KPI measured by `metric` is a rate: a catalog metric whose unit is 'ratio' (MQL rate, win
    rate). Its values and targets are fractions in the data (0.45) and percentages where typed (45)."""
    return metric is not None and metric in catalog and catalog[metric].unit == "ratio"


def share_of(percent: float | None) -> float | None:
    """A threshold typed in percent of the target as the share the data keeps: 90 → 0.9 (warn below 90 % of
    the target), 110 → 1.1 (for a cost: critical above 110 %). None (not typed) stays None."""
    return None if percent is None else round(percent / PERCENT, STORED_DIGITS)


def stored_target(metric: str, shown: float | None, catalog: Mapping[str, Metric]) -> float | None:
    """A target as typed as the data keeps it: a rate's in percent to a fraction (45 → 0.45), any other
    as typed (1200 leads stays 1200; money stays in the reporting currency). None stays None."""
    return round(shown / PERCENT, STORED_DIGITS) if shown is not None and is_rate(metric, catalog) else shown


def editor_tables(frame: pl.DataFrame, catalog: Mapping[str, Metric]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The tree as typed in percent, in two tables: one row per KPI (`kpi.tree.DEFINITION`) with the warning
    and critical thresholds in percent of the target (0.9 → 90), and one row per target (`kpi.tree.TARGET`)
    with the targets of rate KPIs in percent (0.45 → 45) and every other target as it is."""
    defs = kpi_tree.definitions(frame).with_columns((pl.col(c) * PERCENT).round(SHOWN_DIGITS) for c in THRESHOLDS)
    rates = [k for k, m in metrics(frame).items() if is_rate(m, catalog)]
    goals = kpi_tree.targets(frame).with_columns(pl.when(pl.col("kpi_id").is_in(rates))
                                                 .then((pl.col("target") * PERCENT).round(SHOWN_DIGITS))
                                                 .otherwise(pl.col("target")))
    return defs, goals


def from_editors(defs: pl.DataFrame, goals: pl.DataFrame, catalog: Mapping[str, Metric]
                 ) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The inverse of `editor_tables`: thresholds and rate targets from percent back to fractions (90 → 0.9,
    45 → 0.45; an untouched value comes back exactly as it was saved). A target is a rate's when its kpi_id's
    metric in the edited `defs` is a rate, so a KPI switched to a rate in the same edit has its target read in
    percent too. Numbers typed as text ('45') are read as numbers."""
    defs = defs.with_columns((pl.col(c).cast(pl.Float64) / PERCENT).round(STORED_DIGITS) for c in THRESHOLDS)
    rates = [k for k, m in metrics(defs).items() if is_rate(m, catalog)]
    target = pl.col("target").cast(pl.Float64)
    goals = goals.with_columns(pl.when(pl.col("kpi_id").is_in(rates)).then((target / PERCENT).round(STORED_DIGITS))
                               .otherwise(target))
    return defs, goals


def with_kpi(frame: pl.DataFrame, period: str | None, target: float | None, **definition: object) -> pl.DataFrame:
    """The tree with one more KPI, after the others (`definition`: its `kpi.tree.DEFINITION` columns by name;
    thresholds and a rate's target as the data keeps them, fractions) and, when `period` is given, its
    `target` for that period."""
    unknown = definition.keys() - set(kpi_tree.DEFINITION)
    assert not unknown, f"not KPI definition columns: {unknown}"
    defs = pl.concat([kpi_tree.definitions(frame), canonical(pl.DataFrame([definition])).select(kpi_tree.DEFINITION)],
                     how="vertical_relaxed")
    goals = kpi_tree.targets(frame)
    if period:
        goals = pl.concat([goals, pl.DataFrame([(definition["kpi_id"], period, target)], schema=goals.schema,
                                               orient="row")])
    return kpi_tree.join(defs, goals)


def with_target(frame: pl.DataFrame, kpi_id: str, period: str, target: float | None) -> pl.DataFrame:
    """The tree with the KPI's target for `period` set to `target` as the data keeps it (a rate's as a
    fraction), replacing the one it had for that period; None removes it. The KPI's other periods and every
    other KPI stay as they were."""
    goals = kpi_tree.targets(frame).filter((pl.col("kpi_id") != kpi_id) | (pl.col("period") != period))
    if target is not None:
        goals = pl.concat([goals, pl.DataFrame([(kpi_id, period, target)], schema=goals.schema, orient="row")])
    return kpi_tree.join(kpi_tree.definitions(frame), goals)
