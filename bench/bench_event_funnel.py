"""Event funnel: kpi.events against DuckDB SQL on the same Parquet (5 steps, ordered, 14-day window).

    python -m bench.bench_event_funnel [--events 10000000] [--persons 1000000] [--quick]

The DuckDB query is the textbook ordered funnel: from every step-0 event, the earliest event of each next step at
or after the previous one (ASOF joins), counted while within the window of the step-0 event; a person is counted
at the furthest step of any attempt. With distinct step names and no exclusions that is the same rule as the
engine's, so the counts must agree (checked here and in tests/unit/test_event_funnels.py).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from datetime import datetime
from pathlib import Path

import numpy as np
import polars as pl

from kpi.events import FunnelSpec, funnel

STEPS = ("visit", "signup", "activate", "trial", "purchase")
NOISE = ("pageview", "click", "scroll")
WINDOW_S = 14 * 86_400


def generate(n_events: int, n_persons: int, seed: int = 1) -> pl.DataFrame:
    """Events over 60 days; step events get rarer along the funnel, with noise events between them."""
    rng = np.random.default_rng(seed)
    names = np.array([*STEPS, *NOISE])
    weights = np.array([0.25, 0.12, 0.08, 0.05, 0.03, 0.2, 0.17, 0.1])
    users = rng.integers(0, n_persons, n_events)
    seconds = rng.integers(0, 60 * 86_400, n_events)
    return pl.DataFrame({
        "user_id": pl.Series(users).cast(pl.String),
        "timestamp": pl.Series((seconds + int(datetime(2025, 1, 1).timestamp())) * 1_000_000).cast(pl.Datetime("us")),
        "event": names[rng.choice(len(names), n_events, p=weights / weights.sum())],
    })


def duckdb_counts(path: str | Path, steps: tuple[str, ...] = STEPS, window_s: int = WINDOW_S) -> list[int]:
    """Persons reaching each step of an ordered funnel (distinct step names, no exclusions), in DuckDB SQL."""
    import duckdb

    ctes = [f"e AS (SELECT user_id, epoch_us(timestamp) AS t, event FROM read_parquet('{path}'))"]
    ctes += [f"s{k} AS (SELECT user_id, t FROM e WHERE event = '{name}')" for k, name in enumerate(steps)]
    # each ASOF join needs the previous step's time in scope: nest them one step at a time
    query = "SELECT s0.user_id, s0.t AS t0 FROM s0"
    for k in range(1, len(steps)):
        prev = "t0" if k == 1 else f"t{k - 1}"
        query = (f"SELECT a.*, s{k}.t AS t{k} FROM ({query}) a ASOF LEFT JOIN s{k} "
                 f"ON s{k}.user_id = a.user_id AND s{k}.t >= a.{prev}")
    within = [f"t{j} IS NOT NULL AND t{j} - t0 <= {window_s * 1_000_000}" for j in range(1, len(steps))]
    reached = " + ".join("(" + " AND ".join(within[:k]) + ")::INT" for k in range(1, len(steps)))
    sql = (f"WITH {', '.join(ctes)}, a AS ({query}), "
           f"p AS (SELECT user_id, max({reached}) AS r FROM a GROUP BY user_id) "
           f"SELECT {', '.join(f'count_if(r >= {k})' for k in range(len(steps)))} FROM p")
    return [int(v) for v in duckdb.sql(sql).fetchall()[0]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument("--quick", action="store_true", help="100k events / 10k persons")
    args = parser.parse_args()
    n_events, n_persons = (100_000, 10_000) if args.quick else (args.events, args.persons)
    print(f"{n_events:,} events, {n_persons:,} persons, {len(STEPS)} steps, ordered, 14-day window, "
          f"{os.cpu_count()} cores")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "events.parquet"
        generate(n_events, n_persons).write_parquet(path)
        start = time.perf_counter()
        frame = pl.read_parquet(path)
        ours = [s["count"] for s in funnel(frame, FunnelSpec(STEPS, "ordered", WINDOW_S))["steps"]]
        engine_s = time.perf_counter() - start
        start = time.perf_counter()
        theirs = duckdb_counts(path)
        duck_s = time.perf_counter() - start
    print(f"kpi.events {engine_s:8.2f} s  {ours}")
    print(f"duckdb     {duck_s:8.2f} s  {theirs}  (engine / duckdb = {engine_s / duck_s:.1f}x)")
    print("counts agree" if ours == theirs else "COUNTS DIFFER")


if __name__ == "__main__":
    main()
