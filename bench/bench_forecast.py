"""Forecast timings on the demo workspace: what a KPI page render asks of kpi/forecast.py.

    .venv/bin/python -m bench.bench_forecast [--repeat 7] [--today 2026-11-22]   (from the repo root)

The demo workspace (kpi.sources.demo, 730 days up to --today) gives daily flow series of ten accruing
metrics, as the scorecards compute them: leads, mql, sql, opportunities, won, revenue, spend, clicks,
impressions, sessions. Over the quarter that contains --today it times:

1. `simulate_totals` (500 paths) + `interval` of the leads series: the first call in the process
   (cold) and the warm minimum and median of --repeat calls (target: under ~150 ms);
2. the same for all ten series, one after the other: one page render before its cache;
3. `seasonal_share` of each series, and `anomalies` of 182 days (STL, weekly season) and of 26 weeks
   (rolling median), as the trend charts ask for them.

Prints the machine's cores and load, then one line per timing, then the leads forecast itself.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable
from datetime import date, timedelta
from typing import TypeVar

import polars as pl

from kpi.data import prepare
from kpi.forecast import METHOD, anomalies, interval, seasonal_share, simulate_totals
from kpi.metrics import compute
from kpi.period import Period, bucket
from kpi.sources.demo import generate
from kpi.targets import target_period

SERIES = ["leads", "mql", "sql", "opportunities", "won", "revenue", "spend", "clicks", "impressions", "sessions"]
T = TypeVar("T")


def daily_series(today: date) -> dict[str, pl.DataFrame]:
    """Each metric's daily flow values over the demo's two years, as columns `date` and `value`."""
    tables = prepare(generate(today))
    frame = compute(tables, SERIES, grain="day", view="flow", period=Period(today - timedelta(days=729), today))
    return {m: frame.select(pl.col("period").alias("date"), pl.col(m).cast(pl.Float64).alias("value"))
            for m in SERIES}


def timed(label: str, fn: Callable[[], T], repeat: int) -> T:
    """Runs `fn` once cold, then `repeat` times; prints cold, warm min and warm median in ms."""
    start = time.perf_counter()
    result = fn()
    cold = time.perf_counter() - start
    warm = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        warm.append(time.perf_counter() - start)
    print(f"{label:<52} cold {cold * 1000:>7.1f} ms   warm min {min(warm) * 1000:>7.1f} ms"
          f"   med {statistics.median(warm) * 1000:>7.1f} ms")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--today", type=date.fromisoformat, default=date(2026, 11, 22))
    args = parser.parse_args()
    today: date = args.today
    quarter = target_period(f"{today.year}-Q{(today.month - 1) // 3 + 1}")
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"cores {os.cpu_count()}, load average {load}; today {today}, period {quarter}")

    start = time.perf_counter()
    daily = daily_series(today)
    print(f"demo workspace and {len(SERIES)} daily series: {time.perf_counter() - start:.1f} s "
          f"({daily['leads'].height} days of leads)")

    def leads() -> tuple[float, float, float]:
        totals = simulate_totals(daily["leads"], quarter, today)
        assert totals is not None
        return interval(totals)

    def render() -> None:
        for m in SERIES:
            totals = simulate_totals(daily[m], quarter, today)
            if totals is not None:
                interval(totals)

    median, low, high = timed("simulate_totals + interval, leads", leads, args.repeat)
    timed(f"the same for {len(SERIES)} series (one page render)", render, args.repeat)
    timed(f"seasonal_share of {len(SERIES)} series", lambda: [seasonal_share(daily[m], quarter, today)
                                                           for m in SERIES], args.repeat)
    days = daily["leads"].filter(pl.col("date") > today - timedelta(days=182)).rename({"date": "period"})
    weeks = (days.group_by(bucket(pl.col("period"), "week")).agg(pl.col("value").sum()).sort("period").tail(26))
    timed("anomalies, 182 days, weekly season (STL)", lambda: anomalies(days, season=7), args.repeat)
    timed("anomalies, 26 weeks (rolling median)", lambda: anomalies(weeks), args.repeat)

    so_far = daily["leads"].filter(pl.col("date").is_between(quarter.start, today))["value"].sum()
    share = seasonal_share(daily["leads"], quarter, today)
    print(f"\n{METHOD}")
    print(f"leads in {quarter}: {so_far:,.0f} so far; forecast {median:,.0f} (80 % interval {low:,.0f}..{high:,.0f});"
          f" share usually in by {today}: {share:.3f} (pro rata {(today - quarter.start).days + 1}/{quarter.days}"
          f" = {((today - quarter.start).days + 1) / quarter.days:.3f})")


if __name__ == "__main__":
    main()
