"""Following KPIs over time: each KPI against its target, where it should be by today, where it will
land at the period's end, and its recent trend with the points far outside their expected range.

KPIs are followed in the flow view: a stage counts in the period its date falls in (MQLs in November
are the leads that became MQL in November), which is what a period's target is about and what can be
forecast day by day.

A count or amount (leads, revenue, spend, or a sum of them) accrues over its period: by today it
should have reached the target times the share of the period that usually passes by today (the same
period last year when the data goes back that far, else the share of days gone by), and its forecast
is what the period has so far plus the simulated rest. A rate or cost (CPL, lead → won) holds at any
time: it is compared with the target as it is, and forecast as the ratio of its parts' forecasts.
The status rates the forecast against the target through the KPI's warning and critical thresholds,
or, without a forecast, the pace so far.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Literal

import numpy as np
import polars as pl

from kpi import forecast
from kpi.metrics import Frames, Metric, catalog, compute, ratio_parts, table_dimensions
from kpi.period import STEPS, Grain, Period, bucket
from kpi.query import View
from kpi.settings import Settings
from kpi.targets import Status, target_period
from kpi.tree import Kpi, SliceKey, Value, safe_divide

METHOD = forecast.METHOD
Reason = Literal["forecast", "pace", "current", "no_target", "no_data", "not_available"]
PaceBasis = Literal["seasonal", "pro_rata", "target"]
NO_TARGET_DAYS = 30  # without a target, a KPI shows its value over the last 30 days
HISTORY_DAYS = 400  # days of daily history behind a forecast (the model uses up to 365 of them)
GRAIN_DAYS = {"day": 1, "week": 7, "month": 31, "quarter": 92, "year": 366}
VIEW: View = "flow"  # how every KPI counts (see the module's docstring)


@dataclass(frozen=True)
class Card:
    """One KPI against its target for the period that contains today."""

    kpi: Kpi
    value: float | None  # over the target period up to today (no target: the last 30 days)
    period_label: str | None  # the target period as written, e.g. 2026-Q4
    period: Period | None
    target: float | None
    expected: float | None  # where the KPI should be by today
    pace_basis: PaceBasis | None
    forecast: float | None  # projected for the whole period, with an 80 % interval
    low: float | None
    high: float | None
    status: Status | None
    reason: Reason
    so_far: Period | None = None  # the days `value` covers, counted as `VIEW`: the target period's start to today

    def measures(self, period: Period, view: View) -> bool:
        """Whether a number over `period` counted as `view` measures what `value` does (then they are equal
        on the same slice)."""
        return view == VIEW and self.so_far == period


def current_target(kpi: Kpi, today: date) -> tuple[str, Period, float] | None:
    """The KPI's target whose period contains `today` (the shortest such period when several do)."""
    found: tuple[str, Period, float] | None = None
    for label, value in kpi.targets.items():
        period = target_period(label)
        if period.start <= today <= period.end and (found is None or period.days < found[1].days):
            found = (label, period, value)
    return found


def _value(kpi: Kpi, cat: Mapping[str, Metric], row: Mapping[str, float | None]) -> float | None:
    value = kpi.evaluate(row, cat)
    if value is None:
        return None
    value = float(value)
    return None if np.isnan(value) else value


def _parts(metric: Metric, cat: Mapping[str, Metric]) -> tuple[str, ...] | None:
    """The accruing catalog metrics whose daily sums a metric's forecast is built from, or None
    when it cannot be forecast that way (a median, a level such as open pipeline, a win rate over
    closed deals, which no catalog metric counts)."""
    if metric.accrues:
        return (metric.id,)
    parts = ratio_parts(metric, cat)
    return parts if len(parts) == 2 else None


class _Series:
    """Daily sums of the accruing metrics on one slice of the data, computed once and shared by KPIs."""

    def __init__(self, tables: Frames, settings: Settings, filters: Mapping[str, Sequence[str]], today: date,
                 parts: Sequence[str], since: date) -> None:
        days = Period(since, today)
        frame = compute(tables, list(parts), period=days, grain="day", filters=filters, view=VIEW,
                        settings=settings, as_of=days.end_exclusive_dt)
        self.daily = {p: frame.select(pl.col("period").alias("date"), pl.col(p).cast(pl.Float64).alias("value"))
                      for p in parts}
        self.today = today
        self._paths: dict[tuple[str, Period], np.ndarray | None] = {}

    def paths(self, part: str, period: Period) -> np.ndarray | None:
        if (part, period) not in self._paths:
            self._paths[(part, period)] = forecast.simulate_totals(self.daily[part], period, self.today)
        return self._paths[(part, period)]


def _metric_paths(metric: Metric, cat: Mapping[str, Metric], series: _Series, period: Period
                  ) -> np.ndarray | None:
    parts = _parts(metric, cat)
    if parts is None:
        return None
    paths = [series.paths(p, period) for p in parts]
    if any(p is None for p in paths):
        return None
    if metric.kind == "sum":
        return paths[0]
    num, den = paths
    assert num is not None and den is not None
    ratio = safe_divide(num, den) * metric.scale
    return ratio - 1 if metric.minus_one else ratio


def _forecast(kpi: Kpi, cat: Mapping[str, Metric], series: _Series, period: Period
              ) -> tuple[float, float, float] | None:
    paths = {m: _metric_paths(cat[m], cat, series, period) for m in kpi.metrics(cat)}
    if any(p is None for p in paths.values()):
        return None
    samples = np.asarray(kpi.evaluate(paths, cat), dtype=float)
    samples = samples[np.isfinite(samples)]
    if samples.size == 0:
        return None
    return forecast.interval(samples)


def _daily_kpi(kpi: Kpi, cat: Mapping[str, Metric], series: _Series) -> pl.DataFrame | None:
    """The KPI's own daily values when it accrues (a count, or a sum of counts), for seasonal pacing."""
    if not kpi.additive(cat):
        return None
    metrics = kpi.metrics(cat)
    days = series.daily[metrics[0]].select("date")
    values: dict[str, Value | None] = {m: series.daily[m]["value"].to_numpy() for m in metrics}
    return days.with_columns(value=pl.Series(np.asarray(kpi.evaluate(values, cat), dtype=float)))


def scorecards(tables: Frames, tree: Sequence[Kpi], settings: Settings, today: date) -> list[Card]:
    """Every KPI of the tree against its target for the period that contains `today`.

    KPIs on one slice whose value runs over the same days share one `compute` of all their metrics:
    without a breakdown each metric's value is the same whichever others are asked for with it."""
    cat = catalog(settings)
    dims = table_dimensions(tables)
    current = [current_target(kpi, today) for kpi in tree]
    answerable = [kpi.answerable(cat, dims) for kpi in tree]
    since = min([today - timedelta(days=HISTORY_DAYS),
                 *(f[1].start.replace(year=f[1].start.year - 1) for f in current if f is not None)])
    so_far = [Period(f[1].start, today) if f else Period(today - timedelta(days=NO_TARGET_DAYS - 1), today)
              for f in current]
    parts: dict[SliceKey, set[str]] = {}
    wanted: dict[tuple[SliceKey, Period], dict[str, None]] = {}
    filters: dict[SliceKey, Mapping[str, Sequence[str]]] = {}
    for kpi, ok, days in zip(tree, answerable, so_far, strict=True):
        if ok:
            filters.setdefault(kpi.slice_key, kpi.filters)
            parts.setdefault(kpi.slice_key, set()).update(
                p for m in kpi.metrics(cat) for p in (_parts(cat[m], cat) or ()))
            wanted.setdefault((kpi.slice_key, days), {}).update(dict.fromkeys(kpi.metrics(cat)))
    rows = {(key, days): compute(tables, list(metrics), period=days, filters=filters[key], view=VIEW,
                                 settings=settings, as_of=days.end_exclusive_dt).row(0, named=True)
            for (key, days), metrics in wanted.items()}
    slices: dict[SliceKey, _Series] = {}

    def card(kpi: Kpi, ok: bool, found: tuple[str, Period, float] | None, days: Period) -> Card:
        if not ok:
            label, period, target = found if found else (None, None, None)
            return Card(kpi, None, label, period, target, None, None, None, None, None, None, "not_available", days)
        if kpi.slice_key not in slices:
            slices[kpi.slice_key] = _Series(tables, settings, kpi.filters, today, sorted(parts[kpi.slice_key]), since)
        return replace(_card(kpi, cat, today, found, rows[(kpi.slice_key, days)], slices[kpi.slice_key]), so_far=days)

    return [card(*args) for args in zip(tree, answerable, current, so_far, strict=True)]


def _card(kpi: Kpi, cat: Mapping[str, Metric], today: date, found: tuple[str, Period, float] | None,
          row: Mapping[str, float | None], series: _Series) -> Card:
    """The card of an answerable KPI from its target (`found`) and its metrics' values so far (`row`)."""
    value = _value(kpi, cat, row)
    if found is None:
        return Card(kpi, value, None, None, None, None, None, None, None, None, None,
                    "no_target" if value is not None else "no_data")
    label, period, target = found
    if value is None:
        return Card(kpi, None, label, period, target, None, None, None, None, None, None, "no_data")

    basis: PaceBasis = "target"
    expected = target
    if kpi.additive(cat):
        daily = _daily_kpi(kpi, cat, series)
        share = forecast.seasonal_share(daily, period, today) if daily is not None else None
        basis = "seasonal" if share is not None else "pro_rata"
        if share is None:
            share = min((today - period.start).days + 1, period.days) / period.days
        expected = target * share
    projected = _forecast(kpi, cat, series, period)
    reason: Reason
    status: Status | None
    if projected is not None:
        status, reason = kpi.rating(projected[0], target), "forecast"
    elif basis != "target":
        # the pace so far scaled to the whole period; with nothing expected yet, any progress is ahead
        status = kpi.rating(value / expected * target, target) if expected else kpi.rating(value, 0.0)
        reason = "pace"
    else:
        status, reason = kpi.rating(value, target), "current"
    mid, low, high = projected if projected is not None else (None, None, None)
    return Card(kpi, value, label, period, target, expected, basis, mid, low, high, status, reason)


def trend(tables: Frames, kpi: Kpi, settings: Settings, today: date, grain: Grain = "week",
          periods: int = 26) -> pl.DataFrame:
    """The KPI per day, week or month over the last `periods` of them, with its target and the
    expected range, flagging the points far outside it.

    Columns: period (first day), value, target (for a count, the target's share for that many
    days; null without a target), expected, low, high, anomaly, and partial (the bucket that
    today is in, still incomplete: never flagged).
    """
    cat = catalog(settings)
    start = today - timedelta(days=GRAIN_DAYS[grain] * periods)
    first = pl.select(bucket(pl.lit(start), grain)).item()
    metrics = kpi.metrics(cat)
    days = Period(first, today)
    computed = compute(tables, list(metrics), period=days, grain=grain, filters=kpi.filters, view=VIEW,
                       settings=settings, as_of=days.end_exclusive_dt)
    # a bucket with nothing in it is a zero count (an outage to flag), not a missing point; a bucket whose
    # number is not available (money in a currency without a rate) stays missing
    buckets = pl.date_range(first, today, STEPS[grain], eager=True).alias("period").to_frame()
    frame = buckets.join(computed.with_columns(_seen=pl.lit(True)), on="period", how="left").with_columns(
        pl.when(pl.col("_seen")).then(pl.col(m)).otherwise(0).alias(m) for m in metrics if cat[m].kind == "sum")
    columns: dict[str, Value | None] = {m: frame[m].cast(pl.Float64).to_numpy() for m in metrics}
    values = kpi.evaluate(columns, cat)
    current = pl.select(bucket(pl.lit(today), grain)).item()
    out = frame.select("period").with_columns(
        value=pl.Series(np.asarray(values, dtype=float)).fill_nan(None),
        partial=pl.col("period") == current)
    out = out.with_columns(target=pl.Series([_bucket_target(kpi, cat, p, grain) for p in out["period"]],
                                            dtype=pl.Float64))
    flagged = forecast.anomalies(out.filter(~pl.col("partial")).select("period", "value"),
                                 season=7 if grain == "day" else None)
    out = out.join(flagged.select("period", "expected", "low", "high", "anomaly"), on="period", how="left")
    return out.with_columns(pl.col("anomaly").fill_null(False)).select(
        "period", "value", "target", "expected", "low", "high", "anomaly", "partial")


def _bucket_target(kpi: Kpi, cat: Mapping[str, Metric], start: date, grain: Grain) -> float | None:
    found = current_target(kpi, start)
    if found is None:
        return None
    _, period, target = found
    if not kpi.additive(cat):
        return target
    end = pl.select(pl.lit(start).dt.offset_by(STEPS[grain])).item()
    return float(target * (end - start).days / period.days)
