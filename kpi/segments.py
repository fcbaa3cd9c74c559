"""Segments: how a slice of the data (a cell of segment × region, a channel) does against all of it.

`vs_overall` is the number the Segments heatmap colours its cells by, and `with_vs_overall` adds it to a table
of several metrics (`python -m kpi metrics --vs-overall`): a cell's value of a metric relative to the same
metric over everything the cells were cut from (the same period, filters and view, without the split),
signed so that better is always positive.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import polars as pl

VS_OVERALL = "vs_overall"  # the column `vs_overall` names; `with_vs_overall` names one per metric
SUFFIX = "_vs_overall"  # `with_vs_overall`'s column of metric m: f"{m}{SUFFIX}"


def _compared(value: pl.Expr, overall: pl.Expr, higher_is_better: bool) -> pl.Expr:
    sign = 1.0 if higher_is_better else -1.0
    return (pl.when(value.is_null()).then(None)
            .when(overall.is_null() | (overall == 0)).then(pl.lit(0.0))
            .otherwise(sign * (value - overall) / overall.abs()))


def vs_overall(metric: str, overall: float | None, higher_is_better: bool) -> pl.Expr:
    """How much better (+) or worse (−) the value in column `metric` is than `overall`, as a fraction of the
    size of overall: (value − overall) / |overall| for a metric where higher is better, its negative where
    lower is better (a cost). A 30 % lead → MQL rate against 25 % overall is +0.2 (20 % better); a CPL of 80
    against 100 overall is +0.2 too (20 % cheaper), and a CPL of 125 is −0.25. Dividing by the size keeps the
    sign right when overall is negative: an ROI of +0.5 against −0.5 overall is +2.0, better, not worse.

    Without an overall value to compare with (None or 0) every value is 0.0: neither better nor worse. A null
    value stays null. The column is named `VS_OVERALL`."""
    return _compared(pl.col(metric), pl.lit(overall, pl.Float64), higher_is_better).alias(VS_OVERALL)


def with_vs_overall(cells: pl.DataFrame, overall: pl.DataFrame, higher_is_better: Mapping[str, bool],
                    on: Sequence[str] = ()) -> pl.DataFrame:
    """`cells` with, after its columns, a column `<metric>_vs_overall` for each metric of `higher_is_better`
    (metric id → whether higher is better): `vs_overall` of the cell's value against `overall`'s value of that
    metric. `overall` has one row (the metrics without the split), or one row per value of the `on` columns
    (a period bucket: each cell is compared with all cells of its own bucket). Cells whose `on` values have no
    overall row compare with nothing: 0.0. The rows keep their order."""
    metrics = list(higher_is_better)
    if on:
        joined = cells.join(overall.select(*on, *(pl.col(m).alias(f"{m}{SUFFIX}") for m in metrics)), on=list(on),
                            how="left", maintain_order="left", nulls_equal=True)
        compared = [_compared(pl.col(m), pl.col(f"{m}{SUFFIX}").cast(pl.Float64), h).alias(f"{m}{SUFFIX}")
                    for m, h in higher_is_better.items()]
        return joined.with_columns(compared)
    assert overall.height == 1, f"overall has {overall.height} rows; without `on` it has exactly one"
    return cells.with_columns(
        _compared(pl.col(m), pl.lit(overall[m].item(), pl.Float64), h).alias(f"{m}{SUFFIX}")
        for m, h in higher_is_better.items())
