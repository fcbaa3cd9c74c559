"""Targets from the kpis table, and whether the actuals are on pace for them.

A target belongs to a period written as a year ('2026'), a quarter ('2026-Q4') or a month
('2026-11'). A count or amount target (leads, revenue) is for the whole period, so by a given day
the pace expected is the target times the share of the period's days gone by; a rate or cost target
(CPL, lead→won) holds at any time and is compared as it is.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date
from typing import Literal

import polars as pl

from kpi.metrics import Metric
from kpi.period import Period

Status = Literal["on_track", "at_risk", "off_track"]
AT_RISK = 0.9  # at 90 % of the expected pace or better (worse for costs: 110 %) the target is at risk, not lost

_PERIOD = re.compile(r"^(\d{4})(?:-(?:Q([1-4])|(\d{2})))?$")


def target_period(text: str) -> Period:
    """'2026' → the year, '2026-Q4' → October to December, '2026-11' → November."""
    match = _PERIOD.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"target period '{text}' is not a year (2026), quarter (2026-Q4) or month (2026-11)")
    year, quarter, month = int(match[1]), match[2], match[3]
    if quarter:
        first = 3 * (int(quarter) - 1) + 1
        return Period(date(year, first, 1), date(year, first + 2, calendar.monthrange(year, first + 2)[1]))
    if month:
        m = int(month)
        if not 1 <= m <= 12:
            raise ValueError(f"target period '{text}' has no month {m}")
        return Period(date(year, m, 1), date(year, m, calendar.monthrange(year, m)[1]))
    return Period(date(year, 1, 1), date(year, 12, 31))


@dataclass(frozen=True)
class Target:
    kpi_id: str
    metric: str
    label: str  # the period as written: 2026-Q4
    period: Period
    value: float
    higher_is_better: bool


def targets_on(kpis: pl.DataFrame, metrics: list[str], day: date) -> dict[str, Target]:
    """For each metric, the target whose period contains `day` (the shortest such period when several do),
    from KPIs measured on all the data (not on a slice)."""
    found: dict[str, Target] = {}
    needed = {"kpi_id", "metric", "target", "period"}
    if not needed <= set(kpis.columns):
        return found
    usable = pl.col("metric").is_in(metrics) & pl.col("target").is_not_null() & pl.col("period").is_not_null()
    if "filters" in kpis.columns:  # a KPI on a slice (enterprise only, say) is not the whole's target
        usable &= pl.col("filters").is_null() | (pl.col("filters").str.strip_chars() == "")
    rows = kpis.filter(usable)
    for row in rows.iter_rows(named=True):
        try:
            period = target_period(row["period"])
        except ValueError:
            continue
        if not period.start <= day <= period.end:
            continue
        up = row.get("direction") != "down"
        current = found.get(row["metric"])
        if current is None or period.days < current.period.days:
            found[row["metric"]] = Target(row["kpi_id"], row["metric"], row["period"], period, float(row["target"]), up)
    return found


@dataclass(frozen=True)
class Pace:
    """Where an actual stands against its target by a given day."""

    actual: float
    expected: float  # what the target asks for by that day
    share: float  # actual / expected
    status: Status


def pace(actual: float | None, target: Target, metric: Metric, day: date) -> Pace | None:
    """The actual (over the target's period up to `day`) against the pace the target asks for by `day`."""
    if actual is None:
        return None
    if metric.kind == "sum" and not metric.stock:
        elapsed = min(max((day - target.period.start).days + 1, 0), target.period.days)
        expected = target.value * elapsed / target.period.days
    else:
        expected = target.value
    if expected == 0:
        return None
    share = actual / expected
    better = share if target.higher_is_better else (1 / share if share else float("inf"))
    status: Status = "on_track" if better >= 1 else "at_risk" if better >= AT_RISK else "off_track"
    return Pace(actual, expected, share, status)
