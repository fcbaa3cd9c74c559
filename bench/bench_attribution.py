"""Multi-touch attribution at 10M touches over 2M leads: every model of kpi.attribution against DuckDB SQL.

    .venv/bin/python -m bench.bench_attribution [--leads 2000000] [--repeat 3] [--models ...] [--quick]

Data (generated, seeded, written as Parquet to a temporary folder): bench.generate's leads (2024-2025,
40 campaigns on 6 channels, stage timestamps, amounts on opportunities) and a touches table of 5 touches
per lead on average (3-7 per touched lead; 3 % of the leads have none): touches up to a few weeks before
the lead's creation on campaigns weighted like the leads, the form submit often exactly at creation, some
touches after creation (never eligible for the credit `leads`), ties (a touch at the same moment as the
lead's previous one), a few without a channel (`(not set)`). The touches are in time order, as an event
log is, so a lead's touches lie scattered over the table.

Each engine and model runs in a fresh process that loads the Parquet files (polars: kpi.data.load_dir, what
the app and the command hand the engine; DuckDB: native in-memory tables, threads = 2, the touches with
their file row number for the tie order), resets the process's peak-RSS mark, runs the attribution once
(cold) and --repeat more times (warm), and reports the peak RSS during the runs. Polars runs
`kpi.attribution.attribute(tables, model, "leads", "channel")` for every model; DuckDB runs
ATTRIBUTION_SQL, an independent SQL implementation of the linear and U-shaped rules (checked against the
engine on the same data: same rows, credit within 1e-9 relative). Target (issue 15): polars at most 1.0x
DuckDB for linear and U-shaped.
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
from pathlib import Path

import numpy as np
import polars as pl

from bench import generate as gen
from bench.bench_engine import proc_status, reset_peak
from kpi.attribution import MODELS, NO_TOUCH, NOT_SET, attribute
from kpi.data import load_dir, write_dir
from kpi.period import Period

SQL_MODELS = ("linear", "u_shaped")
CREDIT = "leads"
BY = "channel"
TOUCH_TYPES = ("ad_click", "ad_click", "ad_click", "email_click", "webinar", "content_view")  # by channel
_US_PER_DAY = 86_400_000_000


# --- the workspace ----------------------------------------------------------------------------------------------

def generate(n_leads: int, seed: int = 1, touches_per_lead: int = 5) -> dict[str, pl.DataFrame]:
    """bench.generate's leads and `touches_per_lead` × `n_leads` touches (see the module docstring)."""
    leads = gen.generate(n_leads, seed)["leads"]
    rng = np.random.default_rng([seed, 15])
    names, camp_channel, _initiative, share = gen._campaigns(np.random.default_rng(seed))

    # touches per lead: none for 3 %, else 3-7, topped up so the total is exactly touches_per_lead × n
    count = rng.integers(3, 8, n_leads)
    count[rng.random(n_leads) < 0.03] = 0
    short = touches_per_lead * n_leads - int(count.sum())
    if short > 0:
        count[rng.choice(np.flatnonzero((count > 0) & (count < 7)), short, replace=False)] += 1
    elif short < 0:
        count[rng.choice(np.flatnonzero(count > 3), -short, replace=False)] -= 1
    lead = np.repeat(np.arange(n_leads), count)
    total = len(lead)
    pos = np.arange(total) - np.repeat(np.cumsum(count) - count, count)
    last = pos == count[lead] - 1

    created = leads["created_at"].to_numpy().astype("datetime64[us]").astype(np.int64)
    span = (rng.lognormal(np.log(18.0), 0.9, n_leads) * _US_PER_DAY).astype(np.int64)
    touched = created[lead] - (rng.random(total) * span[lead]).astype(np.int64)
    u = rng.random(total)
    touched = np.where(last & (u < 0.6), created[lead], touched)  # the form submit, at the very creation
    after = (pos > 0) & ~last & (u > 0.88)  # nurture after creation: before or after a won deal
    touched = np.where(after, created[lead] + (rng.lognormal(np.log(20.0), 1.2, total) * _US_PER_DAY)
                       .astype(np.int64), touched)
    tie = (pos > 0) & (rng.random(total) < 0.04)  # at the same moment as the lead's previous touch
    touched[1:] = np.where(tie[1:], touched[:-1], touched[1:])
    end = int(np.datetime64(gen.LAST_DAY, "us").astype(np.int64)) + _US_PER_DAY - 1
    touched = np.minimum(touched, end)

    campaign = gen._pick(rng, share, total)
    lead_campaign = leads["campaign"].replace_strict(names, list(range(len(names))), return_dtype=pl.Int32)
    campaign = np.where(last, lead_campaign.to_numpy()[lead], campaign)
    channel = camp_channel[campaign]
    no_channel = pl.Series(rng.random(total) < 0.002)
    touches = pl.DataFrame({
        "lead_id": leads["lead_id"].gather(lead),
        "touched_at": pl.Series(touched).cast(pl.Datetime("us")),
        "channel": pl.select(pl.when(~no_channel).then(gen._labels(gen.CHANNELS, channel))).to_series(),
        "campaign": gen._labels(names, campaign),
        "touch_type": gen._labels((*TOUCH_TYPES, "form_submit"), np.where(last, len(TOUCH_TYPES), channel)),
    }).sort("touched_at", maintain_order=True)
    return {"leads": leads, "touches": touches}


# --- the DuckDB peer ---------------------------------------------------------------------------------------------

def attribution_sql(model: str, credit: str = CREDIT, period: Period | None = None) -> str:
    """DuckDB SQL crediting `credit` (leads, won or revenue under the default stages) by channel under `model`
    (linear or u_shaped), from the tables `leads` and `touches` (with `_row`, the touches' table order).

    Written from kpi.attribution's rules, not from its code: a conversion's eligible touches are its lead's
    touches at or before it, in time order, ties in table order; linear gives each 1/n; U-shaped gives the
    first 40 %, the lead-creation touch (the last eligible touch at or before created_at, else the last
    eligible touch) 40 %, and 20 % split over the touches holding no role, or over the role touches when
    every touch holds one. A conversion without an eligible touch gives its credit to (no touch)."""
    at = {"leads": "created_at", "won": "won_at", "revenue": "won_at"}[credit]
    value = "coalesce(amount, 0)::DOUBLE" if credit == "revenue" else "1.0::DOUBLE"
    where = f"{at} IS NOT NULL"
    if period is not None:
        where += (f" AND {at} >= TIMESTAMP '{period.start_dt:%Y-%m-%d}'"
                  f" AND {at} < TIMESTAMP '{period.end_exclusive_dt:%Y-%m-%d}'")
    # conversions keyed by an integer (a window partitioned by the text lead id is slower in DuckDB too)
    common = f"""
conv AS (SELECT row_number() OVER () AS c, lead_id::VARCHAR AS lead_id, {at} AS conv_at, {value} AS value,
                created_at AS lead_role
         FROM leads WHERE {where}),
eligible AS (
    SELECT c.c, c.value, c.lead_role, t.touched_at, t._row,
           coalesce(nullif(t.channel::VARCHAR, ''), '{NOT_SET}') AS state
    FROM conv c JOIN touches t ON t.lead_id::VARCHAR = c.lead_id AND t.touched_at <= c.conv_at)"""
    if model == "linear":
        weighted = """
weighted AS (SELECT state, value / count(*) OVER (PARTITION BY c) AS credit FROM eligible)"""
    elif model == "u_shaped":
        weighted = """
ranked AS (
    SELECT c, value, state, lead_role,
           row_number() OVER (PARTITION BY c ORDER BY touched_at, _row) - 1 AS pos,
           count(*) OVER (PARTITION BY c) AS n,
           count(*) FILTER (WHERE touched_at <= lead_role) OVER (PARTITION BY c) - 1 AS before_lead
    FROM eligible),
roles AS (
    SELECT *, CASE WHEN lead_role IS NULL OR before_lead < 0 THEN n - 1 ELSE before_lead END AS lead_pos
    FROM ranked),
weighted AS (
    SELECT state, value * (
        CASE WHEN pos = 0 THEN 0.4 ELSE 0.0 END + CASE WHEN pos = lead_pos THEN 0.4 ELSE 0.0 END
        + CASE WHEN n > held THEN CASE WHEN pos <> 0 AND pos <> lead_pos THEN 0.2 / (n - held) ELSE 0.0 END
               ELSE CASE WHEN pos = 0 OR pos = lead_pos THEN 0.2 / held ELSE 0.0 END END) AS credit
    FROM (SELECT *, CASE WHEN lead_pos = 0 THEN 1 ELSE 2 END AS held FROM roles))"""
    else:
        raise ValueError(f"no SQL for model '{model}'; SQL models: {', '.join(SQL_MODELS)}")
    return f"""
WITH {common},{weighted}
SELECT state AS {BY}, sum(credit) AS credit FROM weighted GROUP BY state
UNION ALL
SELECT '{NO_TOUCH}', sum(value) FROM conv WHERE c NOT IN (SELECT c FROM eligible) HAVING sum(value) <> 0
ORDER BY credit DESC, {BY}
"""


def load_duckdb(con: object, data: Path) -> None:
    """The Parquet tables as DuckDB tables: leads in order of creation (as kpi.data.prepare keeps them),
    touches in file order with that order as `_row`."""
    con.execute(f"CREATE TABLE leads AS SELECT * FROM read_parquet('{data / 'leads.parquet'}') "  # type: ignore[attr-defined]
                "ORDER BY created_at")
    con.execute("CREATE TABLE touches AS SELECT * EXCLUDE (file_row_number), file_row_number AS _row "  # type: ignore[attr-defined]
                f"FROM read_parquet('{data / 'touches.parquet'}', file_row_number = true)")


# --- one engine and model, in its own process ----------------------------------------------------------------

def run_child(engine: str, model: str, data: Path, repeat: int, results: Path) -> dict[str, object]:
    """Load `data`, attribute under `model` cold once and warm `repeat` times; seconds and bytes."""
    start = time.perf_counter()
    if engine == "polars":
        tables = {k: v for k, v in load_dir(data)[0].items() if k in ("leads", "touches")}

        def run() -> pl.DataFrame:
            return attribute(tables, model, CREDIT, BY).select(BY, "credit")  # type: ignore[arg-type]
    else:
        import duckdb

        con = duckdb.connect(config={"threads": 2})
        load_duckdb(con, data)
        sql = attribution_sql(model)

        def run() -> pl.DataFrame:
            return con.sql(sql).pl()
    load = time.perf_counter() - start
    loaded = proc_status("VmRSS")
    exact = reset_peak()
    t = time.perf_counter()
    out = run()
    cold = time.perf_counter() - t
    warm = []
    for _ in range(repeat):
        t = time.perf_counter()
        out = run()
        warm.append(time.perf_counter() - t)
    peak = proc_status("VmHWM") if exact else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    results.mkdir(parents=True, exist_ok=True)
    out.write_parquet(results / f"{engine}_{model}.parquet")
    return {"load": load, "cold": cold, "warm": warm, "loaded_rss": loaded, "peak_rss": peak, "exact": exact}


# --- comparing and the driver ------------------------------------------------------------------------------------

def differences(expected: pl.DataFrame, actual: pl.DataFrame) -> list[str]:
    """Where `actual`'s credit per value differs from `expected`'s: missing or extra rows, or more than 1e-9
    relative (of the larger credit, at least 1)."""
    a, b = expected.select(BY, "credit"), actual.select(pl.col(BY).cast(pl.String), "credit")
    joined = a.join(b, on=BY, how="full", coalesce=True, suffix="_sql", nulls_equal=True)
    bad = joined.filter(~((pl.col("credit") - pl.col("credit_sql")).abs()
                          <= 1e-9 * pl.max_horizontal(pl.col("credit").abs(), pl.col("credit_sql").abs(), 1.0))
                        .fill_null(False))
    return [f"{row[BY]}: engine {row['credit']}, SQL {row['credit_sql']}" for row in bad.iter_rows(named=True)]


def _mib(n: float) -> str:
    return f"{n / 2**20:,.0f} MiB"


def main() -> None:
    parser = argparse.ArgumentParser(description="Multi-touch attribution: polars engine against DuckDB SQL.")
    parser.add_argument("--leads", type=int, default=2_000_000, help="leads (default 2000000; 5 touches each)")
    parser.add_argument("--repeat", type=int, default=3, help="warm runs after the cold one (default 3)")
    parser.add_argument("--models", default=",".join(MODELS), help="comma-separated models (default all)")
    parser.add_argument("--engines", default="polars,duckdb")
    parser.add_argument("--quick", action="store_true", help="smoke run: 20,000 leads, one warm run")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--model", help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--results", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_child(args.child, args.model, args.data, args.repeat, args.results)))
        return
    if args.quick:
        args.leads, args.repeat = 20_000, 1
    models = [m for m in args.models.split(",") if m]
    engines = args.engines.split(",")

    with tempfile.TemporaryDirectory(prefix="bench-attribution-") as tmp:
        start = time.perf_counter()
        tables = generate(args.leads, args.seed)
        data = Path(tmp) / "data"
        write_dir(tables, data)
        n_leads, n_touches = tables["leads"].height, tables["touches"].height
        del tables
        print(f"attribution of credit '{CREDIT}' by {BY}: {n_leads:,} leads, {n_touches:,} touches "
              f"(generated and written in {time.perf_counter() - start:.1f} s); {os.cpu_count()} cores, "
              f"DuckDB threads = 2; {args.repeat} warm runs after a cold one, each engine and model in its own "
              "process", flush=True)
        print(f"\n{'model':<11} {'engine':<7} {'load':>7} {'cold':>8} {'warm min':>9} {'peak RSS':>10} "
              f"{'+run':>9}", flush=True)
        runs: dict[tuple[str, str], dict[str, float]] = {}
        problems = []
        for model in models:
            for engine in engines:
                if engine == "duckdb" and model not in SQL_MODELS:
                    continue
                cmd = [sys.executable, "-m", "bench.bench_attribution", "--child", engine, "--model", model,
                       "--data", str(data), "--repeat", str(args.repeat), "--results", tmp]
                done = subprocess.run(cmd, capture_output=True, text=True, check=False,
                                      cwd=Path(__file__).resolve().parent.parent)
                if done.returncode:
                    sys.exit(f"{engine} {model} failed:\n{done.stderr}")
                r = json.loads(done.stdout.strip().splitlines()[-1])
                best = min(r["warm"]) if r["warm"] else r["cold"]
                runs[model, engine] = {"cold": r["cold"], "warm": best, "peak": r["peak_rss"]}
                print(f"{model:<11} {engine:<7} {r['load']:>6.1f}s {r['cold']:>7.2f}s {best:>8.2f}s "
                      f"{_mib(r['peak_rss']):>10}{'' if r['exact'] else '*'} "
                      f"{_mib(r['peak_rss'] - r['loaded_rss']):>9}", flush=True)
            if (model, "polars") in runs and (model, "duckdb") in runs:
                problems += [f"{model}: {p}" for p in differences(
                    pl.read_parquet(Path(tmp) / f"polars_{model}.parquet"),
                    pl.read_parquet(Path(tmp) / f"duckdb_{model}.parquet"))]

    print(f"\n{'model':<11} {'polars cold':>11} {'polars warm':>11} {'duckdb cold':>11} {'duckdb warm':>11} "
          f"{'ratio warm':>10} {'ratio cold':>10} {'polars peak':>11} {'duckdb peak':>11}")
    for model in models:
        p, d = runs.get((model, "polars")), runs.get((model, "duckdb"))
        cells = [f"{model:<11}", f"{p['cold']:>10.2f}s" if p else f"{'':>11}", f"{p['warm']:>10.2f}s" if p
                 else f"{'':>11}", f"{d['cold']:>10.2f}s" if d else f"{'-':>11}",
                 f"{d['warm']:>10.2f}s" if d else f"{'-':>11}",
                 f"{p['warm'] / d['warm']:>9.2f}x" if p and d else f"{'-':>10}",
                 f"{p['cold'] / d['cold']:>9.2f}x" if p and d else f"{'-':>10}",
                 f"{_mib(p['peak']):>11}" if p else f"{'':>11}", f"{_mib(d['peak']):>11}" if d else f"{'-':>11}"]
        print(" ".join(cells))
    print("\nratio = polars / DuckDB (target <= 1.0x for linear and u_shaped); peak RSS during the runs "
          "(after loading); +run = peak minus RSS after loading")
    if "duckdb" in engines:
        print("DuckDB credits " + ("equal the engine's (1e-9 relative)" if not problems
                                   else "DIFFER from the engine's:\n  " + "\n  ".join(problems)))
    if problems:
        sys.exit(1)


if __name__ == "__main__":
    main()
