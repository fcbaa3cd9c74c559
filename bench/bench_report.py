"""The summary report at 1M leads: `python -m kpi report` end to end, and its steps.

    .venv/bin/python -m bench.bench_report [--leads 1000000] [--repeat 3] [--lang en] [--touches]

Data (generated, seeded, written as Parquet to a temporary folder): bench.generate's leads, spend and traffic,
and the demo's KPI tree (its KPIs on initiatives the generator does not have count as "no data"); with
--touches also bench.bench_attribution's touches (5 per lead: 5M at 1M leads), so the report has its
attribution comparison, every model over all the touches (as the Attribution page computes it), which takes
most of the time at that size. The report covers the data's last 90 days (2025-10-03 – 2025-12-31) compared
with the 90 days before, by initiative.

Prints the command in a fresh process, start to finish (import, load, numbers, charts, PDF), the target
(issue 17: under 5 s), then each step in this process: loading the folder (`kpi.data.load_dir`), the numbers
(`kpi.summary.summarise`: the engine calls the pages make), the document (`ui.report.document`: texts,
formatting, SVG charts through vl-convert) and the PDF (WeasyPrint), cold (the first time in the process) and
warm (the median of --repeat more).
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

from bench import bench_attribution
from bench import generate as gen
from kpi.data import load_dir, write_dir, write_settings
from kpi.period import Period, compare_period
from kpi.query import Query
from kpi.sources.demo import DEMO_SETTINGS
from kpi.sources.demo import generate as demo
from kpi.workspace import Workspace

PERIOD = Period(date(2025, 10, 3), gen.LAST_DAY)
TARGET = 5.0


def write_workspace(folder: Path, leads: int, touches: bool) -> None:
    tables = gen.generate(leads)
    if touches:
        tables["touches"] = bench_attribution.generate(leads)["touches"]
    tables["kpis"] = demo(today=gen.LAST_DAY)["kpis"]
    write_dir(tables, folder)
    write_settings(DEMO_SETTINGS, folder)


def command(folder: Path, out: Path, lang: str) -> tuple[float, float]:
    """The command's wall time, and the CPU time (user + system) it took: on a machine shared with other work
    the wall time grows with the load, the CPU time much less."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "kpi", "report", "--data", str(folder), "--from", PERIOD.start.isoformat(),
                    "--to", PERIOD.end.isoformat(), "--lang", lang, "--out", str(out)], check=True,
                   capture_output=True, env=os.environ | {"KPI_TODAY": gen.LAST_DAY.isoformat()})
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime


def steps(folder: Path, lang: str) -> dict[str, float]:
    from streamlit import logger

    logger.set_log_level("error")  # as the command: the app's modules without a server
    from kpi.summary import summarise
    from ui import report
    from ui.workspace import Workspace as Shown

    times: dict[str, float] = {}
    started = time.perf_counter()
    tables, settings = load_dir(folder)
    ws = Workspace(tables, settings, f"bench:{time.perf_counter()}")  # a new identity: nothing cached
    times["load"] = time.perf_counter() - started
    started = time.perf_counter()
    summary = summarise(ws, Query.of(period=PERIOD, compare=compare_period(PERIOD, "previous")), "initiative")
    times["numbers"] = time.perf_counter() - started
    started = time.perf_counter()
    html = report.document(Shown(ws, "Bench"), summary, report.About("bench", datetime.now(UTC)), lang)
    times["document"] = time.perf_counter() - started
    started = time.perf_counter()
    report.pdf(html)
    times["pdf"] = time.perf_counter() - started
    times["total"] = sum(times.values())
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--lang", choices=("en", "sv", "ru"), default="en")
    parser.add_argument("--touches", action="store_true", help="add 5 touches per lead: the attribution comparison")
    args = parser.parse_args()
    os.environ.setdefault("KPI_TODAY", gen.LAST_DAY.isoformat())
    with tempfile.TemporaryDirectory(prefix="kpi-bench-report-") as tmp:
        folder = Path(tmp) / "data"
        started = time.perf_counter()
        write_workspace(folder, args.leads, args.touches)
        print(f"{args.leads:,} leads{' with 5 touches each' if args.touches else ''} written in "
              f"{time.perf_counter() - started:.1f} s ({os.cpu_count()} cores)")
        seconds, cpu = command(folder, Path(tmp) / "report.pdf", args.lang)
        print(f"python -m kpi report (fresh process, {args.lang}): {seconds:.2f} s, CPU {cpu:.2f} s "
              f"(target < {TARGET:g} s: {'met' if seconds < TARGET else 'NOT met'}; load average "
              f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")
        runs = [steps(folder, args.lang) for _ in range(args.repeat + 1)]
        print(f"{'step':<10} {'cold':>8} {'warm (median)':>14}")
        for name in runs[0]:
            print(f"{name:<10} {runs[0][name]:>7.2f}s {statistics.median(r[name] for r in runs[1:]):>13.2f}s")


if __name__ == "__main__":
    main()
