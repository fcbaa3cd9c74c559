"""Benchmark: import a ~200 MB Google Ads-style CSV (';' separator, decimal comma, title lines, total
rows) and print seconds and peak memory against the file's size. Target: < 10 s and < 3x file size.

    .venv/bin/python bench/bench_import.py [--mb 200]

The file is generated with polars in a temporary folder; the import runs in a fresh process so its
peak RSS is its own.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import polars as pl

BYTES_PER_ROW = 46  # measured for the columns below


def generate(path: Path, megabytes: int) -> None:
    n = megabytes * 1_000_000 // BYTES_PER_ROW
    i = pl.int_range(0, n, eager=True)
    frame = pl.DataFrame({
        "Dag": pl.select((pl.date(2024, 1, 1) + pl.duration(days=i % 365)).dt.strftime("%Y-%m-%d")).to_series(),
        "Kampanj": pl.select(pl.format("Kampanj {}", i % 5000)).to_series(),
        "Visningar": (i * 7919) % 100_000,
        "Klick": (i * 31) % 1000,
        "Kostnad": pl.select(pl.format("{},{}", (i * 13) % 10_000, ((i * 7) % 100).cast(pl.String).str.zfill(2)))
        .to_series(),
        "Valutakod": pl.Series(["SEK"]).gather([0] * n),
    })
    with path.open("wb") as fh:
        fh.write(b"Kampanjrapport\r\n")
        frame.write_csv(fh, separator=";")
        fh.write(b"Totalt: Kampanjer;;0;0;0,00;SEK\n")


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
    print(f"{seconds:.2f} {peak_mb:.0f} {result.frame.height} {result.report.rows_rejected}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mb", type=int, default=200)
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
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "big.csv"
        generate(path, args.mb)
        size_mb = path.stat().st_size / 1e6
        base = subprocess.run([sys.executable, __file__, "--baseline"], capture_output=True, text=True, check=True)
        out = subprocess.run([sys.executable, __file__, "--child", str(path)], capture_output=True, text=True,
                             check=True)
        seconds, peak, rows, rejected = out.stdout.split()
        baseline = float(base.stdout)
        print(f"file: {size_mb:.0f} MB, {int(rows):,} rows imported ({rejected} rejected)")
        print(f"time: {float(seconds):.2f} s (target < 10 s)")
        print(f"peak RSS: {float(peak):.0f} MB = {float(peak) / size_mb:.2f}x file size "
              f"({(float(peak) - baseline) / size_mb:.2f}x above the {baseline:.0f} MB interpreter baseline; "
              "target < 3x)")


if __name__ == "__main__":
    main()
