"""One-shot commands from cold, whole process: `python -m kpi` against DuckDB answering the same question from
the same Parquet files, in the same run.

    .venv/bin/python -m bench.bench_cold [--leads 10000000] [--repeat 3] [--repo ../main]

The questions, over `bench.generate`'s tables (cached under bench/out/, as bench_engine does):

- funnel:    `python -m kpi funnel --data DIR --by segment --format csv`: per segment, leads and each stage
             reached, step and overall conversion, drop-off, median and p75 days between stages (spend has no
             segment: cost per stage is not available);
- campaigns: `python -m kpi metrics --data DIR --by campaign --metrics M --format csv` with M = spend, clicks,
             leads, mql, won, revenue, pipeline, cpl, cac, roas, days_lead_to_mql;
- campaigns 2025-Q1: the same for leads created in 2025-01-01..2025-03-31 (the period filter goes into the scan);
- help:      `python -m kpi --help` against `python -c "import polars"` (the floor any command starts from).

DuckDB runs in its own `python -c` process (threads = 2): it reads the Parquet files with read_parquet and writes
its answer as CSV, as the command prints its own. Each pair runs --repeat times, alternating which goes first.
Prints per question the median wall time and peak RSS (the child's own high-water mark, from wait4) of each,
their ratios, the core count and the load average before and after (other work on the machine slows both);
exit code 1 when DuckDB's answer differs from the command's (counts exactly, money and ratios to 1e-9 relative,
days to 1e-6).
"""

from __future__ import annotations

import argparse
import itertools
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import polars as pl

from bench.bench_engine import data_dir, mismatched

REPO = Path(__file__).resolve().parents[1]
TIME = "/usr/bin/time"  # GNU time (Debian: apt-get install time): each child's own peak RSS
CAMPAIGN_METRICS = ["spend", "clicks", "leads", "mql", "won", "revenue", "pipeline", "cpl", "cac", "roas",
                    "days_lead_to_mql"]
Q1 = ("2025-01-01", "2025-03-31")

_DAYS = "(epoch_us({b}) - epoch_us({a})) / 1e6 / 86400"  # as polars: total_seconds(fractional) / 86 400
_STAGES = [("lead", "created_at", "Leads"), ("mql", "mql_at", "MQL"), ("sql", "sql_at", "Sales-ready (SQL)"),
           ("opportunity", "opportunity_at", "Opportunities"), ("won", "won_at", "Won deals")]


def _reached(index: int) -> str:
    """SQL: the lead reached stage `index` (its timestamp or any later one is set)."""
    return f"coalesce({', '.join(col for _, col, _ in _STAGES[index:])})"


def _ratio(num: str, den: str) -> str:
    return f"CASE WHEN coalesce({den}, 0) <> 0 THEN coalesce({num}, 0) / ({den}) END"


def funnel_sql(folder: Path) -> str:
    counts = ", ".join(f"count({_reached(i)}) AS n{i}" for i in range(len(_STAGES)))
    days = ", ".join(f"quantile_cont({_DAYS.format(a=a, b=b)}, {q}) AS d{i}_{int(q * 100)}"
                     for i, ((_, a, _), (_, b, _)) in enumerate(itertools.pairwise(_STAGES), start=1)
                     for q in (0.5, 0.75))
    rows = " UNION ALL ".join(
        f"SELECT segment, {i + 1} AS position, '{stage}' AS stage, '{label}' AS label, n{i} AS count, "
        + ("NULL::DOUBLE, NULL::DOUBLE" if i == 0 else f"d{i}_50, d{i}_75") + " FROM l"
        for i, (stage, _, label) in enumerate(_STAGES))
    return f"""
    WITH l AS (SELECT segment, {counts}, {days} FROM read_parquet('{folder}/leads.parquet') GROUP BY segment),
    long (segment, position, stage, label, count, days, days_p75) AS ({rows})
    SELECT segment, position, stage, label, count,
           CASE WHEN lag(count) OVER w > 0 THEN count / lag(count) OVER w END AS step_conversion,
           CASE WHEN first(count) OVER w > 0 THEN count / first(count) OVER w END AS overall_conversion,
           lag(count) OVER w - count AS drop_off, days AS days_from_previous, days_p75 AS days_from_previous_p75,
           NULL::DOUBLE AS cost_per_stage
    FROM long WINDOW w AS (PARTITION BY segment ORDER BY position) ORDER BY segment, position"""


def campaigns_sql(folder: Path, period: tuple[str, str] | None) -> str:
    leads_in = (f"WHERE created_at >= TIMESTAMP '{period[0]}' "
                f"AND created_at < TIMESTAMP '{period[1]}' + INTERVAL 1 DAY") if period else ""
    spend_in = f"WHERE date >= DATE '{period[0]}' AND date <= DATE '{period[1]}'" if period else ""
    end = f"TIMESTAMP '{period[1]}' + INTERVAL 1 DAY" if period else "TIMESTAMP '294247-01-01'"
    return f"""
    WITH s AS (SELECT campaign, sum(spend) AS spend, sum(clicks) AS clicks
               FROM read_parquet('{folder}/spend.parquet') {spend_in} GROUP BY ALL),
    l AS (SELECT campaign, count(*) AS leads, count({_reached(1)}) AS mql, count(won_at) AS won,
                 coalesce(sum(amount) FILTER (WHERE won_at IS NOT NULL), 0) AS revenue,
                 coalesce(sum(amount) FILTER (WHERE opportunity_at < {end} AND (won_at IS NULL OR won_at >= {end})
                                              AND (lost_at IS NULL OR lost_at >= {end})), 0) AS pipeline,
                 quantile_cont({_DAYS.format(a='created_at', b='mql_at')}, 0.5) AS days_lead_to_mql
          FROM read_parquet('{folder}/leads.parquet') {leads_in} GROUP BY ALL)
    SELECT campaign, coalesce(spend, 0) AS spend, coalesce(clicks, 0)::BIGINT AS clicks, coalesce(leads, 0) AS leads,
           coalesce(mql, 0) AS mql, coalesce(won, 0) AS won, coalesce(revenue, 0) AS revenue,
           coalesce(pipeline, 0) AS pipeline, {_ratio('spend', 'leads')} AS cpl, {_ratio('spend', 'won')} AS cac,
           {_ratio('revenue', 'spend')} AS roas, days_lead_to_mql
    FROM s FULL JOIN l USING (campaign) ORDER BY campaign"""


def duckdb_command(sql: str, out: Path) -> list[str]:
    script = ("import duckdb; con = duckdb.connect(); con.execute('SET threads = 2'); "
              f"con.execute({f'COPY ({sql}) TO {str(out)!r} (HEADER)'!r})")
    return [sys.executable, "-c", script]


def run(command: list[str], stdout: Path | None = None, cwd: Path = REPO) -> tuple[float, int]:
    """Wall seconds and peak RSS (bytes) of `command` as a child process. The child is started by GNU time,
    whose own memory is small: Linux keeps the high-water mark of the process a child was forked from across
    exec, so a child forked from this one would report at least this process's peak."""
    with tempfile.NamedTemporaryFile("r") as peak, open(stdout or os.devnull, "wb") as sink:
        start = time.perf_counter()
        done = subprocess.run([TIME, "-f", "%M", "-o", peak.name, *command], cwd=cwd, stdout=sink,
                              stderr=subprocess.PIPE, check=False)
        wall = time.perf_counter() - start
        if done.returncode:
            raise SystemExit(f"{' '.join(command[:4])} ... failed: {done.stderr.decode()}")
        return wall, int(peak.read().split()[-1]) * 1024


def differences(keys: list[str], ours: pl.DataFrame, theirs: pl.DataFrame) -> list[str]:
    """Where DuckDB's answer differs from the command's: exact for text and counts, 1e-9 relative for money and
    ratios, 1e-6 for days."""
    if ours.height != theirs.height:
        return [f"{ours.height} rows from the command, {theirs.height} from DuckDB"]
    joined = ours.join(theirs, on=keys, how="full", suffix="_duck", nulls_equal=True, coalesce=True)
    problems = []
    for col in (c for c in ours.columns if c not in keys):
        bad = mismatched(joined, col, ours.schema[col])
        if bad.height:
            problems.append(f"{col}: {bad.height} rows differ, first {bad.select(*keys, col, f'{col}_duck').row(0)}")
    return problems


def _median(runs: list[tuple[float, int]]) -> tuple[float, float]:
    return statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)


def main() -> None:
    parser = argparse.ArgumentParser(description="One-shot commands from cold against DuckDB.")
    parser.add_argument("--leads", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repo", type=Path, default=REPO,
                        help="run `python -m kpi` from this checkout (another worktree: figures before a change)")
    args = parser.parse_args()
    folder = data_dir(args.leads, args.seed)
    kpi = [sys.executable, "-m", "kpi"]
    metrics = ["--metrics", ",".join(CAMPAIGN_METRICS), "--format", "csv"]
    questions = {
        "funnel --by segment": ([*kpi, "funnel", "--data", str(folder), "--by", "segment", "--format", "csv"],
                                funnel_sql(folder), ["segment", "position"]),
        "metrics --by campaign": ([*kpi, "metrics", "--data", str(folder), "--by", "campaign", *metrics],
                                  campaigns_sql(folder, None), ["campaign"]),
        "metrics --by campaign, 2025-Q1": ([*kpi, "metrics", "--data", str(folder), "--by", "campaign", "--from",
                                                  Q1[0], "--to", Q1[1], *metrics], campaigns_sql(folder, Q1),
                                           ["campaign"]),
    }
    print(f"python -m kpi from {args.repo}; {args.leads:,} leads, {os.cpu_count()} cores, load average before "
          f"{os.getloadavg()[0]:.1f}; median of {args.repeat} whole-process runs each, alternating which goes first",
          flush=True)
    print(f"{'question':<32} {'kpi':>8} {'DuckDB':>8} {'ratio':>6} {'kpi peak':>10} {'DuckDB peak':>11} {'ratio':>6}")
    failed = False
    with tempfile.TemporaryDirectory() as tmp:
        ours_csv, theirs_csv = Path(tmp) / "kpi.csv", Path(tmp) / "duckdb.csv"
        for name, (command, sql, keys) in questions.items():
            ours: list[tuple[float, int]] = []
            theirs: list[tuple[float, int]] = []
            for i in range(args.repeat):
                pair = [(ours, lambda c=command: run(c, ours_csv, args.repo)),
                        (theirs, lambda s=sql: run(duckdb_command(s, theirs_csv)))]
                for runs, go in pair[:: 1 if i % 2 == 0 else -1]:
                    runs.append(go())
            (t_ours, m_ours), (t_theirs, m_theirs) = _median(ours), _median(theirs)
            print(f"{name:<32} {t_ours:>7.2f}s {t_theirs:>7.2f}s {t_ours / t_theirs:>5.2f}x "
                  f"{m_ours / 2**20:>7,.0f} MiB {m_theirs / 2**20:>7,.0f} MiB {m_ours / m_theirs:>5.2f}x", flush=True)
            problems = differences(keys, pl.read_csv(ours_csv), pl.read_csv(theirs_csv))
            for problem in problems:
                print(f"  DIFFERS {name}: {problem}")
            failed |= bool(problems)
        helps = [run([*kpi, "--help"], cwd=args.repo) for _ in range(args.repeat + 2)]
        imports = [run([sys.executable, "-c", "import polars"]) for _ in range(args.repeat + 2)]
    (t_help, _), (t_import, _) = _median(helps), _median(imports)
    print(f"{'--help vs import polars':<32} {t_help:>7.2f}s {t_import:>7.2f}s {t_help / t_import:>5.2f}x")
    print(f"load average after {os.getloadavg()[0]:.1f}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
