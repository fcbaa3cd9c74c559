"""The full KPI pass at 1M and 10M leads: polars engine (kpi/) against the same SQL in DuckDB.

    .venv/bin/python -m bench.bench_engine [--leads 1000000,10000000] [--repeat 5] [--engines polars,duckdb]

The full KPI pass, over the last 12 months of the generated data (PERIOD, cohort view):

1. funnel:    kpi.funnel.stage_funnel(tables, period=PERIOD): sessions -> leads -> MQL -> SQL -> opportunity
              -> won with counts, step and overall conversion, drop-off, median and p75 days between stages;
2. campaigns: kpi.metrics.compute(tables, CAMPAIGN_METRICS, by=["channel", "campaign"], period=PERIOD):
              spend/impressions/clicks from spend joined to lead counts, revenue, pipeline, the ratios
              ctr, cpc, cpl, cost_per_mql, cac, roas, roi and the medians days_lead_to_mql, sales_cycle_days;
3. segments:  kpi.metrics.compute(tables, SEGMENT_METRICS, by=["segment", "region"], period=PERIOD):
              lead metrics only (spend has no segment), with win rate and the same two medians.

Data: bench.generate.generate(n, seed), cached as Parquet under bench/out/ (git-ignored; the folder name
carries a hash of generate.py, so a changed generator makes new data). Each engine and size runs in a
fresh subprocess that loads the Parquet files (polars: kpi.data.load_dir; DuckDB: native in-memory tables,
threads = 2; both keep leads in order of creation), resets the process's peak-RSS mark (Linux
/proc/self/clear_refs), runs the pass once (cold), then --repeat more times (warm), and reports the peak RSS
during the pass. Both engines return polars
frames; the DuckDB results are checked against the polars ones (counts exactly, ratios and sums to a
relative 1e-9, medians to 1e-6 days).

Prints one row per size and engine: warm min and median, cold, RSS after loading, peak RSS during the pass,
+pass (peak RSS - RSS after loading: what the pass needs on top of the loaded data), the data's in-memory
size (sum of polars estimated_size; it counts string bytes, not the 16-byte views of polars' strings, so
the loaded tables take more RSS than this) and peak / data; then the per-part warm minimum.
Exit code 1 when the engines disagree.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

import polars as pl

from bench import generate as gen
from kpi.data import load_dir, read_dir, write_dir
from kpi.funnel import stage_funnel
from kpi.metrics import compute
from kpi.period import Period

PERIOD = Period(date(gen.LAST_DAY.year, 1, 1), gen.LAST_DAY)
CAMPAIGN_DIMS = ["channel", "campaign"]
SEGMENT_DIMS = ["segment", "region"]
CAMPAIGN_METRICS = ["spend", "impressions", "clicks", "ctr", "cpc", "leads", "cpl", "mql", "cost_per_mql", "sql",
                    "opportunities", "won", "cac", "pipeline", "revenue", "roas", "roi", "days_lead_to_mql",
                    "sales_cycle_days"]
SEGMENT_METRICS = ["leads", "mql", "sql", "opportunities", "won", "lead_to_won", "win_rate", "revenue", "pipeline",
                   "days_lead_to_mql", "sales_cycle_days"]
PARTS = ("funnel", "campaigns", "segments")
KEYS = {"funnel": ["stage"], "campaigns": CAMPAIGN_DIMS, "segments": SEGMENT_DIMS}
OUT = Path(__file__).resolve().parent / "out"

Pass = dict[str, Callable[[], pl.DataFrame]]


# --- the pass in each engine ---------------------------------------------------------------------------------

def polars_pass(tables: dict[str, pl.DataFrame]) -> Pass:
    return {
        "funnel": lambda: stage_funnel(tables, period=PERIOD),
        "campaigns": lambda: compute(tables, CAMPAIGN_METRICS, by=CAMPAIGN_DIMS, period=PERIOD),
        "segments": lambda: compute(tables, SEGMENT_METRICS, by=SEGMENT_DIMS, period=PERIOD),
    }


_START = f"TIMESTAMP '{PERIOD.start_dt:%Y-%m-%d}'"
_END = f"TIMESTAMP '{PERIOD.end_exclusive_dt:%Y-%m-%d}'"  # exclusive
_IN_PERIOD = f"created_at >= {_START} AND created_at < {_END}"
_DAYS = "(epoch_us({b}) - epoch_us({a})) / 1e6 / 86400"  # as polars: total_seconds(fractional) / 86 400
_REACHED = {  # a stage is reached when its timestamp or any later one is set
    "mql": "coalesce(mql_at, sql_at, opportunity_at, won_at)",
    "sql": "coalesce(sql_at, opportunity_at, won_at)",
    "opportunities": "coalesce(opportunity_at, won_at)",
    "won": "won_at",
}
_COUNTS = ",\n".join(["count(*) AS leads"] + [f"count({expr}) AS {name}" for name, expr in _REACHED.items()])
_PIPELINE = (f"coalesce(sum(amount) FILTER (WHERE opportunity_at < {_END} AND (won_at IS NULL OR won_at >= {_END})"
             f" AND (lost_at IS NULL OR lost_at >= {_END})), 0) AS pipeline")
_REVENUE = "coalesce(sum(amount) FILTER (WHERE won_at IS NOT NULL), 0) AS revenue"
_MEDIANS = (f"quantile_cont({_DAYS.format(a='created_at', b='mql_at')}, 0.5) AS days_lead_to_mql, "
            f"quantile_cont({_DAYS.format(a='created_at', b='won_at')}, 0.5) AS sales_cycle_days")


def _ratio(num: str, den: str) -> str:
    return f"CASE WHEN coalesce({den}, 0) <> 0 THEN coalesce({num}, 0) / ({den}) END"


_STAGES = [("lead", "created_at", "leads"), ("mql", "mql_at", "mql"), ("sql", "sql_at", "sql"),
           ("opportunity", "opportunity_at", "opportunities"), ("won", "won_at", "won")]
_STAGE_DAYS = ",\n".join(
    f"quantile_cont({_DAYS.format(a=a[1], b=b[1])}, {q}) AS d{i}{suffix}"
    for i, (a, b) in enumerate(itertools.pairwise(_STAGES), start=2)
    for q, suffix in ((0.5, ""), (0.75, "_p75")))
_STAGE_ROWS = " UNION ALL ".join(
    [f"SELECT 0 AS position, 'sessions' AS stage, (SELECT coalesce(sum(sessions), 0) FROM traffic "
     f"WHERE date >= DATE '{PERIOD.start}' AND date <= DATE '{PERIOD.end}') AS count, "
     f"NULL::DOUBLE AS days, NULL::DOUBLE AS days_p75"]
    + [f"SELECT {i}, '{stage}', {count}, {'NULL' if i == 1 else f'd{i}'}, {'NULL' if i == 1 else f'd{i}_p75'} FROM l"
       for i, (stage, _col, count) in enumerate(_STAGES, start=1)])

FUNNEL_SQL = f"""
WITH l AS (SELECT {_COUNTS}, {_STAGE_DAYS} FROM leads WHERE {_IN_PERIOD}),
long AS ({_STAGE_ROWS})
SELECT position, stage, count::BIGINT AS count,
       CASE WHEN lag(count) OVER w > 0 THEN count / lag(count) OVER w END AS step_conversion,
       CASE WHEN stage <> 'sessions' AND (SELECT leads FROM l) > 0 THEN count / (SELECT leads FROM l) END
           AS overall_conversion,
       (lag(count) OVER w - count)::BIGINT AS drop_off,
       days AS days_from_previous, days_p75 AS days_from_previous_p75,
       CASE WHEN count > 0 THEN (SELECT sum(spend) FROM spend
                                 WHERE date >= DATE '{PERIOD.start}' AND date <= DATE '{PERIOD.end}') / count
       END AS cost_per_stage
FROM long WINDOW w AS (ORDER BY position) ORDER BY position
"""

CAMPAIGNS_SQL = f"""
WITH s AS (
    SELECT channel, campaign, sum(spend) AS spend, sum(impressions) AS impressions, sum(clicks) AS clicks
    FROM spend WHERE date >= DATE '{PERIOD.start}' AND date <= DATE '{PERIOD.end}' GROUP BY ALL),
l AS (SELECT channel, campaign, {_COUNTS}, {_REVENUE}, {_PIPELINE}, {_MEDIANS}
      FROM leads WHERE {_IN_PERIOD} GROUP BY ALL)
SELECT channel, campaign, coalesce(spend, 0) AS spend, coalesce(impressions, 0)::BIGINT AS impressions,
       coalesce(clicks, 0)::BIGINT AS clicks, {_ratio('clicks', 'impressions')} AS ctr,
       {_ratio('spend', 'clicks')} AS cpc,
       coalesce(leads, 0) AS leads, {_ratio('spend', 'leads')} AS cpl, coalesce(mql, 0) AS mql,
       {_ratio('spend', 'mql')} AS cost_per_mql, coalesce(sql, 0) AS sql,
       coalesce(opportunities, 0) AS opportunities, coalesce(won, 0) AS won, {_ratio('spend', 'won')} AS cac,
       coalesce(pipeline, 0) AS pipeline, coalesce(revenue, 0) AS revenue, {_ratio('revenue', 'spend')} AS roas,
       {_ratio('revenue', 'spend')} - 1 AS roi, days_lead_to_mql, sales_cycle_days
FROM s FULL JOIN l USING (channel, campaign)
ORDER BY channel, campaign
"""

SEGMENTS_SQL = f"""
WITH l AS (
    SELECT segment, region, {_COUNTS}, {_REVENUE}, {_PIPELINE}, {_MEDIANS},
           count(*) FILTER (WHERE {_REACHED['opportunities']} IS NOT NULL AND lost_at IS NOT NULL AND won_at IS NULL)
               AS lost
    FROM leads WHERE {_IN_PERIOD} GROUP BY ALL)
SELECT segment, region, leads, mql, sql, opportunities, won, {_ratio('won', 'leads')} AS lead_to_won,
       {_ratio('won', 'won + lost')} AS win_rate, revenue, pipeline, days_lead_to_mql, sales_cycle_days
FROM l ORDER BY segment, region
"""


def duckdb_pass(con: object) -> Pass:
    return {part: (lambda sql=sql: con.sql(sql).pl())  # type: ignore[attr-defined,misc]
            for part, sql in (("funnel", FUNNEL_SQL), ("campaigns", CAMPAIGNS_SQL), ("segments", SEGMENTS_SQL))}


# --- one engine at one size, in its own process ----------------------------------------------------------------

def proc_status(field: str) -> int:
    """A field of /proc/self/status in bytes (VmRSS: resident now, VmHWM: peak since the last reset)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise KeyError(field)


def reset_peak() -> bool:
    """Make the peak-RSS mark the current RSS (Linux 4.0+); False where that is not possible."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def run_child(engine: str, data: Path, repeat: int, results: Path) -> dict[str, object]:
    """Load `data`, run the pass cold once and warm `repeat` times; timings in seconds, memory in bytes."""
    # polars: what the app and the command line hand the engine (prepared: dimensions categorical)
    tables = load_dir(data)[0] if engine == "polars" else read_dir(data)
    data_bytes = sum(t.estimated_size() for t in tables.values())
    if engine == "polars":
        run = polars_pass(tables)
    else:
        import duckdb

        del tables
        con = duckdb.connect(config={"threads": 2})
        for name in ("leads", "spend", "traffic"):
            # leads in order of creation, as kpi.data.prepare keeps them: a period's leads lie together
            order = " ORDER BY created_at" if name == "leads" else ""
            con.execute(f"CREATE TABLE {name} AS SELECT * FROM read_parquet('{data / name}.parquet'){order}")
        run = duckdb_pass(con)
    loaded = proc_status("VmRSS")
    exact_peak = reset_peak()

    def once() -> tuple[float, dict[str, float], dict[str, pl.DataFrame]]:
        out, parts = {}, {}
        start = time.perf_counter()
        for part, fn in run.items():
            t = time.perf_counter()
            out[part] = fn()
            parts[part] = time.perf_counter() - t
        return time.perf_counter() - start, parts, out

    cold, _parts, out = once()
    warm: list[float] = []
    part_times: dict[str, list[float]] = {p: [] for p in PARTS}
    for _ in range(repeat):
        total, parts, out = once()
        warm.append(total)
        for p, t in parts.items():
            part_times[p].append(t)
    peak = proc_status("VmHWM") if exact_peak else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    results.mkdir(parents=True, exist_ok=True)
    for part, frame in out.items():
        frame.write_parquet(results / f"{engine}_{part}.parquet")
    return {"engine": engine, "cold": cold, "warm": warm, "parts": {p: min(t) for p, t in part_times.items()},
            "loaded_rss": loaded, "peak_rss": peak, "peak_exact": exact_peak, "data_bytes": data_bytes}


# --- comparing the engines' answers ---------------------------------------------------------------------------

def mismatched(joined: pl.DataFrame, col: str, dtype: pl.DataType) -> pl.DataFrame:
    """The rows of `joined` (ours beside DuckDB's `<col>_duck`) whose `col` differs: exact for text and integers,
    1e-6 absolute for days, 1e-9 relative for ratios and amounts; null on both sides is equal."""
    a, b = pl.col(col), pl.col(f"{col}_duck")
    if dtype == pl.String:
        same = a == b
    elif dtype.is_integer():
        same = a.cast(pl.Int64) == b.cast(pl.Int64)
    elif col.startswith("days"):
        same = (a - b).abs() <= 1e-6
    else:
        same = (a - b).abs() <= 1e-9 * pl.max_horizontal(a.abs(), b.abs(), pl.lit(1.0))
    return joined.filter(~(same | (a.is_null() & b.is_null())).fill_null(False))


def differences(part: str, expected: pl.DataFrame, actual: pl.DataFrame) -> list[str]:
    """Where `actual` (DuckDB) differs from `expected` (polars): exact for text and integers, relative 1e-9
    for ratios and amounts, 1e-6 absolute for days."""
    keys = KEYS[part]
    problems = []
    missing = [c for c in expected.columns if c not in actual.columns and c != "label"]
    if missing:
        return [f"{part}: DuckDB lacks columns {missing}"]
    if expected.height != actual.height:
        problems.append(f"{part}: {expected.height} rows in polars, {actual.height} in DuckDB")
    joined = expected.join(actual, on=keys, how="full", suffix="_duck", nulls_equal=True, coalesce=True)
    for col in expected.columns:
        if col in keys or col == "label":
            continue
        bad = mismatched(joined, col, expected.schema[col])
        if bad.height:
            first = bad.select(*keys, col, f"{col}_duck").row(0)
            problems.append(f"{part}.{col}: {bad.height} rows differ, first {first}")
    return problems


# --- the driver -----------------------------------------------------------------------------------------------

def data_dir(n_leads: int, seed: int) -> Path:
    """The cached Parquet tables for `n_leads` and `seed`, generated first when absent."""
    digest = hashlib.sha256(Path(gen.__file__).read_bytes()).hexdigest()[:8]
    folder = OUT / f"leads-{n_leads}-seed{seed}-{digest}"
    if not (folder / "leads.parquet").exists():
        start = time.perf_counter()
        tables = gen.generate(n_leads, seed)
        write_dir(tables, folder)
        print(f"generated and cached {n_leads:,} leads in {time.perf_counter() - start:.1f} s: {folder}", flush=True)
    return folder


def _mib(n: float) -> str:
    return f"{n / 2**20:,.0f} MiB"


def main() -> None:
    parser = argparse.ArgumentParser(description="Full KPI pass: polars engine against DuckDB.")
    parser.add_argument("--leads", default="1000000,10000000", help="comma-separated sizes (default 1M and 10M)")
    parser.add_argument("--repeat", type=int, default=5, help="warm runs after the cold one (default 5)")
    parser.add_argument("--engines", default="polars,duckdb")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--child", choices=("polars", "duckdb"), help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--results", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_child(args.child, args.data, args.repeat, args.results)))
        return

    engines = args.engines.split(",")
    sizes = [int(float(s)) for s in args.leads.split(",")]
    print(f"full KPI pass over {PERIOD} (cohort view), {os.cpu_count()} cores, "
          f"{args.repeat} warm runs after a cold one")
    header = (f"{'leads':>11} {'engine':<7} {'warm min':>9} {'warm med':>9} {'cold':>8} {'RSS loaded':>11} "
              f"{'peak RSS':>10} {'+pass':>9} {'data':>10} {'peak/data':>9}")
    folders = {n: data_dir(n, args.seed) for n in sizes}
    print("\n" + header, flush=True)
    rows, part_rows, problems = [], [], []
    for n, folder in folders.items():
        with tempfile.TemporaryDirectory(prefix="bench-engine-") as tmp:
            for engine in engines:
                cmd = [sys.executable, "-m", "bench.bench_engine", "--child", engine, "--data", str(folder),
                       "--repeat", str(args.repeat), "--results", tmp]
                done = subprocess.run(cmd, capture_output=True, text=True, check=False,
                                      cwd=Path(__file__).resolve().parent.parent)
                if done.returncode:
                    sys.exit(f"{engine} at {n:,} leads failed:\n{done.stderr}")
                r = json.loads(done.stdout.strip().splitlines()[-1])
                warm = r["warm"]
                rows.append(f"{n:>11,} {engine:<7} {min(warm) * 1000:>7.0f}ms {statistics.median(warm) * 1000:>7.0f}ms "
                            f"{r['cold'] * 1000:>6.0f}ms {_mib(r['loaded_rss']):>11} {_mib(r['peak_rss']):>10}"
                            f"{'' if r['peak_exact'] else '*'} {_mib(r['peak_rss'] - r['loaded_rss']):>9} "
                            f"{_mib(r['data_bytes']):>10} "
                            f"{r['peak_rss'] / r['data_bytes']:>9.2f}")
                part_rows.append(f"{n:>11,} {engine:<7} " + "  ".join(
                    f"{p} {t * 1000:,.0f}ms" for p, t in r["parts"].items()))
                print(rows[-1], flush=True)
            if {"polars", "duckdb"} <= set(engines):
                for part in PARTS:
                    problems += [f"{n:,} leads: {p}" for p in differences(
                        part, pl.read_parquet(Path(tmp) / f"polars_{part}.parquet"),
                        pl.read_parquet(Path(tmp) / f"duckdb_{part}.parquet"))]
    print("\nwarm minimum per part\n" + "\n".join(part_rows))
    if any("*" in r for r in rows):
        print("* peak since process start (the peak-RSS mark could not be reset), so it includes loading")
    if {"polars", "duckdb"} <= set(engines):
        print("\nDuckDB results " + ("equal polars' (counts exact, ratios 1e-9, medians 1e-6)" if not problems
                                     else "DIFFER from polars':\n  " + "\n  ".join(problems)))
    if problems:
        sys.exit(1)


if __name__ == "__main__":
    main()
