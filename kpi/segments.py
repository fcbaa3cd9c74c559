"""Segments: how a slice of the data (a cell of segment × region, a channel) does against all of it.

`vs_overall` is the number the Segments heatmap colours its cells by and the `metrics --vs-overall`
command adds: a cell's value of a metric relative to the same metric over everything the cells were cut
from (the same period, filters and view, without the split), signed so that better is always positive.
"""

from __future__ import annotations

import polars as pl

VS_OVERALL = "vs_overall"  # the column name `with_vs_overall` gives a single metric's comparison


def vs_overall(metric: str, overall: float | None, higher_is_better: bool) -> pl.Expr:
    """How much better (+) or worse (−) the value in column `metric` is than `overall`, as a fraction of the
    size of overall: (value − overall) / |overall| for a metric where higher is better, its negative where
    lower is better (a cost). A 30 % lead → MQL rate against 25 % overall is +0.2 (20 % better); a CPL of 80
    against 100 overall is +0.2 too (20 % cheaper), and a CPL of 125 is −0.25. Dividing by the size keeps the
    sign right when overall is negative: an ROI of +0.5 against −0.5 overall is +2.0, better, not worse.

    Without an overall value to compare with (None or 0) every value is 0.0: neither better nor worse. A null
    value stays null."""
    if overall is None or overall == 0:
        return pl.when(pl.col(metric).is_null()).then(None).otherwise(pl.lit(0.0)).alias(VS_OVERALL)
    sign = 1.0 if higher_is_better else -1.0
    return (sign * (pl.col(metric) - overall) / abs(overall)).alias(VS_OVERALL)
