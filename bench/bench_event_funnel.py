"""Event funnel: kpi.events against DuckDB SQL and chdb's (ClickHouse) windowFunnel on the same Parquet files
(5 steps, ordered, 14-day window).

    python -m bench.bench_event_funnel [--events 10000000] [--persons 1000000] [--quick] [--dir DIR]
                                       [--peers duckdb,chdb]

The events are written in chunks of 10M to a folder of Parquet files (so 100M events generate within memory) and each
engine runs in a fresh process, twice: `cold` is the first call including imports (for kpi.events with an empty numba
cache, so it includes compiling the kernels), `warm` the second call in the same process. Peak RSS is that process's.
kpi.events reads the folder with `funnel_from_path`: a lazy scan of the columns it needs in polars' streaming engine.
The ratio is kpi.events' warm seconds over the faster peer's warm seconds (and the same for cold).

The DuckDB query is the textbook ordered funnel: from every step-0 event, the earliest event of each next step at or
after the previous one (ASOF joins), counted while within the window of the step-0 event; a person is counted at the
furthest step of any attempt. chdb runs `windowFunnel(window)(t, event = step0, ...)` per user and counts the users at
level >= k. With distinct step names and no exclusions both are the engine's rule, so the counts must agree (checked
here, and for DuckDB in tests/unit/test_event_funnels.py). They differ where the semantics do: windowFunnel has no
exclusions, breakdowns, trends or conversion times, and one event may fill several of its conditions: for A → A → B,
events A then B give level 3 (all steps) where the engine, like PostHog, stops at step 0 (one event fills one step).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

STEPS = ("visit", "signup", "activate", "trial", "purchase")
NOISE = ("pageview", "click", "scroll")
WINDOW_S = 14 * 86_400
CHUNK = 10_000_000  # events per generated Parquet file
PEERS = ("duckdb", "chdb")


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


def write_events(folder: Path, n_events: int, n_persons: int) -> Path:
    """`generate` in chunks of CHUNK events, one Parquet file each (persons spread over every chunk)."""
    folder.mkdir(parents=True, exist_ok=True)
    for index, start in enumerate(range(0, n_events, CHUNK)):
        generate(min(CHUNK, n_events - start), n_persons, seed=1 + index).write_parquet(folder / f"{index:04d}.parquet")
    return folder


def duckdb_counts(path: str | Path, steps: tuple[str, ...] = STEPS, window_s: int = WINDOW_S) -> list[int]:
    """Persons reaching each step of an ordered funnel (distinct step names, no exclusions), in DuckDB SQL; `path` is
    a Parquet file or a folder of them."""
    import duckdb

    source = f"{path}/*.parquet" if Path(path).is_dir() else str(path)
    ctes = [f"e AS (SELECT user_id, epoch_us(timestamp) AS t, event FROM read_parquet('{source}'))"]
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


def chdb_counts(path: str | Path, steps: tuple[str, ...] = STEPS, window_s: int = WINDOW_S) -> list[int]:
    """Persons reaching each step by ClickHouse's windowFunnel (in-process, chdb) on microsecond timestamps."""
    import chdb

    source = f"{path}/*.parquet" if Path(path).is_dir() else str(path)
    conditions = ", ".join(f"event = '{name}'" for name in steps)
    levels = ", ".join(f"countIf(level >= {k + 1})" for k in range(len(steps)))
    sql = (f"SELECT {levels} FROM (SELECT user_id, windowFunnel({window_s * 1_000_000})("
           f"toUInt64(toUnixTimestamp64Micro(timestamp)), {conditions}) AS level "
           f"FROM file('{source}', Parquet) GROUP BY user_id)")
    return [int(v) for v in str(chdb.query(sql, "CSV")).strip().split(",")]


def run_one(engine: str, path: str) -> dict[str, Any]:
    """One engine, twice, in this process: cold seconds (with imports), warm seconds, counts, peak RSS in GB."""
    start = time.perf_counter()
    if engine == "kpi.events":
        from kpi.events import FunnelSpec, funnel_from_path

        def counts() -> list[int]:
            return [int(s["count"]) for s in funnel_from_path(path, FunnelSpec(STEPS, "ordered", WINDOW_S))["steps"]]
    else:
        counts = {"duckdb": lambda: duckdb_counts(path), "chdb": lambda: chdb_counts(path)}[engine]
    first = counts()
    cold = time.perf_counter() - start
    start = time.perf_counter()
    second = counts()
    warm = time.perf_counter() - start
    assert first == second
    return {"cold": cold, "warm": warm, "counts": first,
            "rss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6}


def measure(engine: str, path: Path, numba_cache: str) -> dict[str, Any]:
    """run_one in a fresh process (kpi.events with an empty numba cache dir)."""
    env = {**os.environ, "NUMBA_CACHE_DIR": numba_cache}
    proc = subprocess.run([sys.executable, "-m", "bench.bench_event_funnel", "--run", engine, str(path)], env=env,
                          capture_output=True, text=True, check=True, cwd=Path(__file__).resolve().parent.parent)
    return dict(json.loads(proc.stdout.splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--persons", type=int, help="default: one per 10 events")
    parser.add_argument("--quick", action="store_true", help="100k events / 10k persons")
    parser.add_argument("--dir", type=Path, help="keep the Parquet folder here and reuse it when it exists")
    parser.add_argument("--peers", default=",".join(PEERS), help="comma-separated, from duckdb,chdb; '' for none")
    parser.add_argument("--run", nargs=2, metavar=("ENGINE", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run:
        print(json.dumps(run_one(*args.run)))
        return
    n_events = 100_000 if args.quick else args.events
    n_persons = 10_000 if args.quick else args.persons or max(1, n_events // 10)  # 10 events a person
    peers = [p for p in args.peers.split(",") if p]
    print(f"{n_events:,} events, {n_persons:,} persons, {len(STEPS)} steps, ordered, 14-day window, "
          f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory() as scratch:
        folder = args.dir or Path(scratch) / "events"
        if not folder.is_dir():
            start = time.perf_counter()
            write_events(folder, n_events, n_persons)
            print(f"generated in {time.perf_counter() - start:.0f} s")
        results = {"kpi.events": measure("kpi.events", folder, str(Path(scratch) / "numba"))}
        results.update({peer: measure(peer, folder, str(Path(scratch) / "numba")) for peer in peers})
    ours = results["kpi.events"]
    for name, r in results.items():  # seconds; peak RSS of the engine's own process
        print(f"{name:10s} cold {r['cold']:7.2f} s  warm {r['warm']:7.2f} s  peak RSS {r['rss_gb']:5.2f} GB  "
              f"{r['counts']}")
    if peers:
        for phase in ("cold", "warm"):  # kpi.events' seconds over the faster peer's (target: <= 1.0x)
            best = min(peers, key=lambda p: results[p][phase])
            print(f"{phase}: kpi.events / {best} = {ours[phase] / results[best][phase]:.2f}x")
        agree = all(results[p]["counts"] == ours["counts"] for p in peers)
        print("counts agree" if agree else "COUNTS DIFFER")


if __name__ == "__main__":
    main()
