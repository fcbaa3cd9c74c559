"""Store timings on a large leads table: save, load (hash-checked), append, tables, share-link lookups.

    .venv/bin/python -m bench.bench_store [--rows 1000000] [--dir /tmp/somewhere]   (from the repo root)

Prints one line per operation: wall time (best of --repeat) and, where it applies, rows per second.
The data directory is a fresh temporary folder unless --dir is given.
"""

from __future__ import annotations

import argparse
import secrets
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import TypeVar

import polars as pl

from kpi.store import Store, ViewNotFound

T = TypeVar("T")


def big_leads(rows: int, offset: int = 0) -> pl.DataFrame:
    """`rows` valid leads with every stage column, amounts and eight dimensions (about 8 % won)."""
    i = pl.int_range(offset, offset + rows, eager=True)
    created = pl.lit(datetime(2023, 1, 1)) + pl.duration(minutes=i % 1_000_000)
    frame = pl.DataFrame({"i": i}).select(
        pl.format("L{}", pl.col("i")).alias("lead_id"),
        created.alias("created_at"),
        pl.when(pl.col("i") % 2 == 0).then(created + pl.duration(days=3)).alias("mql_at"),
        pl.when(pl.col("i") % 4 == 0).then(created + pl.duration(days=9)).alias("sql_at"),
        pl.when(pl.col("i") % 8 == 0).then(created + pl.duration(days=20)).alias("opportunity_at"),
        pl.when(pl.col("i") % 12 == 0).then(created + pl.duration(days=45)).alias("won_at"),
        pl.when(pl.col("i") % 8 == 0).then((pl.col("i") % 97 * 250).cast(pl.Float64)).alias("amount"),
        pl.lit("EUR").alias("currency"),
        pl.format("ch{}", pl.col("i") % 9).alias("channel"),
        pl.format("src{}", pl.col("i") % 30).alias("source"),
        pl.format("cmp-{}", pl.col("i") % 400).alias("campaign"),
        pl.format("ini{}", pl.col("i") % 12).alias("initiative"),
        pl.when(pl.col("i") % 3 == 0).then(pl.lit("SMB")).otherwise(pl.lit("Enterprise")).alias("segment"),
        pl.format("region-{}", pl.col("i") % 7).alias("region"),
        pl.format("owner{}@example.com", pl.col("i") % 25).alias("owner"),
    )
    return frame


def timed(label: str, fn: Callable[[], T], repeat: int, rows: int | None = None) -> T:
    times = []
    for _ in range(max(repeat, 1)):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    best = min(times)
    rate = f"  {rows / best:>12,.0f} rows/s" if rows else ""
    print(f"{label:<44} {best * 1000:>10.1f} ms{rate}")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--dir", type=Path, default=None)
    args = parser.parse_args()
    data_dir = args.dir or Path(tempfile.mkdtemp(prefix="bench-store-"))

    leads = big_leads(args.rows)
    extra = big_leads(10_000, offset=args.rows)
    print(f"data dir {data_dir}; leads {leads.height:,} rows x {leads.width} columns, "
          f"{leads.estimated_size('mb'):.0f} MB in memory")
    store = timed("open store (create catalog)", lambda: Store(data_dir), 1)
    ws = store.create_workspace(f"Bench {secrets.token_hex(3)}").id

    saved = timed("save leads (validate, write, fsync, hash)", lambda: store.save(ws, "leads", leads, source="bench"),
                  args.repeat, leads.height)
    print(f"{'  parquet file size':<44} {saved.bytes / 1e6:>10.1f} MB")
    timed("load latest leads (read + sha256 check)", lambda: store.load(ws, "leads"), args.repeat, leads.height)
    timed("append 10,000 leads (load + concat + save)",
          lambda: store.append(ws, "leads", extra.with_columns(pl.format("A{}-{}", pl.col("lead_id"),
                                                                          pl.lit(secrets.token_hex(4)))),
                               source="bench-append"),
          args.repeat, leads.height)
    timed("tables(workspace) pinned to first version", lambda: store.tables(ws, {"leads": saved.id}), args.repeat,
          leads.height)
    timed("versions(workspace, 'leads')", lambda: store.versions(ws, "leads"), args.repeat)

    token = store.create_view(ws, "funnel", {"period": "2025-Q1", "lang": "sv"},
                              expires_at=datetime.now().astimezone() + timedelta(days=30))
    timed("resolve_view (valid token) x1000", lambda: [store.resolve_view(token) for _ in range(1000)], 1)

    def guesses() -> int:
        misses = 0
        for _ in range(1000):
            try:
                store.resolve_view(secrets.token_urlsafe(32))
            except ViewNotFound:
                misses += 1
        return misses

    timed("resolve_view (random token) x1000", guesses, 1)
    timed("create_view x100", lambda: [store.create_view(ws, "funnel", {"lang": "en"}) for _ in range(100)], 1)


if __name__ == "__main__":
    main()
