"""Writers for the store's concurrency and kill tests: deterministic frames and the loops that save them.

Run as a module (`python -m tests.unit.store_writers DATA_DIR` from the repo) it saves forever, printing "ready"
once the store is open, so the kill test can SIGKILL it at a random moment of a save.
Each save k writes frames computed from k alone, so a test can rebuild what any version must hold.
"""

from __future__ import annotations

import sys
from datetime import datetime, timedelta

import polars as pl

from kpi.store import Store

WORKSPACE = "kill-test"
KILL_LEADS_ROWS = 5_000
KILL_CHUNK_ROWS = 500


def leads_frame(tag: str, rows: int) -> pl.DataFrame:
    """`rows` valid leads whose ids and values all carry `tag`."""
    i = pl.int_range(rows, eager=True)
    return pl.DataFrame(
        {
            "lead_id": [f"{tag}-{n}" for n in range(rows)],
            "created_at": [datetime(2025, 1, 1) + timedelta(minutes=n) for n in range(rows)],
            "amount": (i * 7 % 1000).cast(pl.Float64),
            "channel": pl.Series(["Email", "Åsa Öberg", "Продажи"] * (rows // 3 + 1))[:rows],
            "campaign": pl.Series([tag] * rows),
        }
    )


def touches_chunk(tag: str, rows: int) -> pl.DataFrame:
    """`rows` touches of leads named after `tag`."""
    return pl.DataFrame(
        {
            "lead_id": [f"{tag}-{n}" for n in range(rows)],
            "touched_at": [datetime(2025, 2, 1) + timedelta(seconds=n) for n in range(rows)],
            "channel": ["Meta"] * rows,
            "campaign": [tag] * rows,
        }
    )


def save_tagged(store: Store, workspace: str, writer: str, saves: int) -> None:
    """Save `saves` leads versions and append as many touches chunks, all tagged '<writer>-<i>'."""
    for i in range(saves):
        tag = f"{writer}-{i}"
        store.save(workspace, "leads", leads_frame(tag, 50), source=tag)
        store.append(workspace, "touches", touches_chunk(tag, 5), source=tag)


def save_tagged_in_process(data_dir: str, workspace: str, writer: str, saves: int) -> None:
    save_tagged(Store(data_dir), workspace, writer, saves)


def save_forever(data_dir: str) -> None:
    """Leads version k holds leads_frame(f"k{k}"); touches version k holds chunks 1..k."""
    store = Store(data_dir)  # the test created WORKSPACE before the first run
    print("ready", flush=True)
    while True:
        latest = store.datasets(WORKSPACE)
        k = latest["leads"].number + 1 if "leads" in latest else 1
        store.save(WORKSPACE, "leads", leads_frame(f"k{k}", KILL_LEADS_ROWS), source=f"k{k}")
        k = latest["touches"].number + 1 if "touches" in latest else 1
        store.append(WORKSPACE, "touches", touches_chunk(f"t{k}", KILL_CHUNK_ROWS), source=f"t{k}")


if __name__ == "__main__":
    save_forever(sys.argv[1])
