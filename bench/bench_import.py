"""Benchmark: import a ~200 MB Google Ads-style CSV (';' separator, decimal comma, a title line, a total
row) and print its size, rows, seconds and peak memory against the file's size, for a UTF-8 (Swedish)
file and the same data as a cp1251 (Russian) file. Target (issue 4): < 10 s and peak < 3x the file size.

    .venv/bin/python bench/bench_import.py [--mb 200] [--only utf-8|cp1251]

The files are generated with polars in a temporary folder; each import runs in a fresh process so that
its peak RSS (VmHWM, which counts everything the process holds: Python, polars, the interpreter) is its own.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import polars as pl

ROOT = Path(__file__).resolve().parents[1]
BYTES_PER_ROW = 46  # measured for the columns below
HEADERS = {
    "utf-8": ("Kampanjrapport", ["Dag", "Kampanj", "Visningar", "Klick", "Kostnad", "Valutakod"], "Kampanj",
              "Totalt: Kampanjer", "SEK"),
    "cp1251": ("Отчёт по кампаниям", ["День", "Кампания", "Показы", "Клики", "Стоимость", "Валюта"], "Кампания",
               "Итого: кампании", "RUB"),
}


def generate(path: Path, megabytes: int, encoding: str = "utf-8") -> int:
    """Write the file; returns its number of data rows (the total row not counted)."""
    title, names, campaign, total, currency = HEADERS[encoding]
    n = megabytes * 1_000_000 // BYTES_PER_ROW
    i = pl.int_range(0, n, eager=True)
    frame = pl.DataFrame({
        names[0]: pl.select((pl.date(2024, 1, 1) + pl.duration(days=i % 365)).dt.strftime("%Y-%m-%d")).to_series(),
        names[1]: pl.select(pl.format(campaign + " {}", i % 5000)).to_series(),
        names[2]: (i * 7919) % 100_000,
        names[3]: (i * 31) % 1000,
        names[4]: pl.select(pl.format("{},{}", (i * 13) % 10_000, ((i * 7) % 100).cast(pl.String).str.zfill(2)))
        .to_series(),
        names[5]: pl.Series([currency]).gather([0] * n),
    })
    utf8 = path.with_suffix(".utf8.tmp") if encoding != "utf-8" else path
    with utf8.open("wb") as fh:
        fh.write(f"{title}\r\n".encode())
        frame.write_csv(fh, separator=";")
        fh.write(f"{total};;0;0;0,00;{currency}\n".encode())
    if encoding != "utf-8":  # transcode a block at a time (the text is ASCII digits plus Cyrillic letters)
        with utf8.open("r", encoding="utf-8", newline="") as src, path.open("w", encoding=encoding, newline="") as dst:
            while block := src.read(16_000_000):
                dst.write(block)
        utf8.unlink()
    return n


def peak_rss_mb() -> float:
    """This process's peak resident memory (VmHWM; ru_maxrss would carry the parent's peak over exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_import(path: str) -> None:
    from kpi.sources.files import read_file
    from kpi.sources.importer import import_raw, resolve

    start = time.perf_counter()
    raw = read_file(path)
    mapping, _ = resolve(raw)
    result = import_raw(raw, mapping)
    seconds = time.perf_counter() - start
    peak_mb = peak_rss_mb()
    report = result.report
    print(f"{seconds:.2f} {peak_mb:.0f} {result.frame.height} {report.rows_rejected} {len(report.totals_excluded)}")


def _child(*args: str) -> str:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    return subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True, check=True,
                          env=env).stdout


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mb", type=int, default=200)
    parser.add_argument("--only", choices=list(HEADERS))
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--baseline", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.baseline:
        import kpi.sources.importer  # noqa: F401  (what the import process loads before reading)

        print(peak_rss_mb())
        return
    if args.child:
        run_import(args.child)
        return
    baseline = float(_child("--baseline"))
    print(f"interpreter + polars + kpi baseline: {baseline:.0f} MB; {os.cpu_count()} cores")
    print(f"{'file':8} {'size MB':>8} {'rows':>11} {'seconds':>8} {'peak MB':>8} {'x size':>7} {'x above base':>12}")
    for encoding in [args.only] if args.only else list(HEADERS):
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / f"big-{encoding}.csv"
            expected = generate(path, args.mb, encoding)
            size_mb = path.stat().st_size / 1e6
            seconds, peak, rows, rejected, totals = _child("--child", str(path)).split()
        status = "" if int(rows) == expected and rejected == "0" and totals == "1" else \
            f"  WRONG: expected {expected:,} rows, 0 rejected, 1 total row"
        print(f"{encoding:8} {size_mb:8.0f} {int(rows):11,} {float(seconds):8.2f} {float(peak):8.0f} "
              f"{float(peak) / size_mb:7.2f} {(float(peak) - baseline) / size_mb:12.2f}{status}")
    print("target: < 10 s and peak < 3x the file size")


if __name__ == "__main__":
    main()
