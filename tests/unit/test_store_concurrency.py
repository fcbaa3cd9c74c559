"""Concurrent writers (threads and processes) and writers killed with SIGKILL in the middle of a save."""

from __future__ import annotations

import os
import random
import re
import signal
import sqlite3
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from kpi.store import Store
from tests.unit.store_writers import (
    KILL_CHUNK_ROWS,
    KILL_LEADS_ROWS,
    WORKSPACE,
    leads_frame,
    save_tagged,
    touches_chunk,
)

REPO = Path(__file__).resolve().parents[2]


def check_tagged(store: Store, ws: str, writers: list[str], saves: int) -> None:
    """Every save is there exactly once, numbered 1..N in commit order, each writer's saves in its own
    order, every version loads and holds what was saved; each touches version extends the one before."""
    n = len(writers) * saves
    expected_tags = {f"{w}-{i}" for w in writers for i in range(saves)}

    leads = store.versions(ws, "leads")[::-1]
    assert [v.number for v in leads] == list(range(1, n + 1))
    assert {v.source for v in leads} == expected_tags
    for v in leads:
        assert_frame_equal(store.load(ws, "leads", v.id), leads_frame(v.source, 50))

    touches = store.versions(ws, "touches")[::-1]
    assert [v.number for v in touches] == list(range(1, n + 1))
    assert {v.source for v in touches} == expected_tags
    previous = None
    for v in touches:
        frame = store.load(ws, "touches", v.id)
        chunk = touches_chunk(v.source, 5)
        assert_frame_equal(frame, chunk if previous is None else pl.concat([previous, chunk]))
        assert v.parent_id == (touches[v.number - 2].id if v.number > 1 else None)
        previous = frame

    for history in (leads, touches):
        for w in writers:
            mine = [int(v.source.rsplit("-", 1)[1]) for v in history if v.source.rsplit("-", 1)[0] == w]
            assert mine == list(range(saves))


def test_threads_writing_at_once(tmp_path: Path) -> None:
    store = Store(tmp_path / "data")
    ws = store.create_workspace("Threads").id
    writers = [f"thread{i}" for i in range(6)]
    with ThreadPoolExecutor(len(writers)) as pool:
        for future in [pool.submit(save_tagged, store, ws, w, 10) for w in writers]:
            future.result()
    check_tagged(store, ws, writers, 10)


def test_processes_writing_at_once(tmp_path: Path) -> None:
    store = Store(tmp_path / "data")
    ws = store.create_workspace("Processes").id
    writers = [f"proc{i}" for i in range(4)]
    # separate interpreters (polars is not fork-safe; multiprocessing's spawn would re-run whatever
    # script an earlier AppTest left as __main__)
    code = "import sys; from tests.unit.store_writers import save_tagged_in_process as f; f(*sys.argv[1:4], 20)"
    procs = [subprocess.Popen([sys.executable, "-c", code, str(store.data_dir), ws, w], cwd=REPO) for w in writers]
    assert [p.wait(timeout=120) for p in procs] == [0] * len(procs)
    check_tagged(store, ws, writers, 20)


@pytest.mark.skipif(os.name != "posix", reason="SIGKILL is POSIX")
def test_writer_killed_at_random_points_never_tears_anything(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    Store(data_dir).create_workspace("Kill test", workspace_id=WORKSPACE)
    rng = random.Random(20250601)
    iterations, interrupted, checked = 40, 0, {"leads": 0, "touches": 0}
    seen_leftovers: set[str] = set()
    touches_expected: list[pl.DataFrame] = []  # touches version k = chunks t1..tk
    for _ in range(iterations):
        child = subprocess.Popen([sys.executable, "-m", "tests.unit.store_writers", str(data_dir)], cwd=REPO,
                                 stdout=subprocess.PIPE, text=True)
        assert child.stdout is not None and child.stdout.readline().strip() == "ready"
        time.sleep(rng.uniform(0, 0.15))
        child.send_signal(signal.SIGKILL)
        assert child.wait(timeout=30) == -signal.SIGKILL  # it was still saving, not dead of an error

        with sqlite3.connect(data_dir / "catalog.sqlite") as db:
            assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        store = Store(data_dir)
        for dataset in ("leads", "touches"):
            history = store.versions(WORKSPACE, dataset)[::-1]
            assert [v.number for v in history] == list(range(1, len(history) + 1))
            for v in history[max(checked[dataset] - 1, 0):]:  # the new versions and the one before them
                frame = store.load(WORKSPACE, dataset, v.id)  # hash-checked
                if dataset == "leads":
                    assert v.source == f"k{v.number}"
                    assert_frame_equal(frame, leads_frame(v.source, KILL_LEADS_ROWS))
                else:
                    assert v.source == f"t{v.number}"
                    while len(touches_expected) < v.number:
                        chunk = touches_chunk(f"t{len(touches_expected) + 1}", KILL_CHUNK_ROWS)
                        touches_expected.append(chunk if not touches_expected
                                                else pl.concat([touches_expected[-1], chunk]))
                    assert_frame_equal(frame, touches_expected[v.number - 1])
            checked[dataset] = len(history)
        leftovers = _files(data_dir) - _catalogued(store)
        interrupted += bool(leftovers - seen_leftovers)  # this kill left a file without a catalog row
        seen_leftovers |= leftovers

    print(f"kill test: {checked} versions, {interrupted} of {iterations} kills left an uncommitted file")
    for dataset in ("leads", "touches"):  # every version still loads, its file matching the catalog's hash
        for v in store.versions(WORKSPACE, dataset):
            store.load(WORKSPACE, dataset, v.id)
    assert checked["leads"] >= iterations // 2  # the writer made real progress between kills
    assert interrupted > 0  # some kills landed between writing a file and committing it
    assert _catalogued(store) <= _files(data_dir)  # every catalogued file is there
    leftovers = _files(data_dir) - _catalogued(store)  # and the others are only saves that never committed,
    # or prepared forms (catalogued as documents, read only through them and checked against their sha256)
    left = r"\.?[0-9a-f]{32}\.(parquet(\.tmp)?|prepared-[0-9a-f]{16}(-[0-9a-f]{16}\.parquet|\..*\.tmp))"
    assert all(re.fullmatch(left, name) for name in leftovers), leftovers


def _files(data_dir: Path) -> set[str]:
    return {p.name for p in (data_dir / "datasets").rglob("*") if p.is_file()}


def _catalogued(store: Store) -> set[str]:
    return {f"{v.id}.parquet" for d in ("leads", "touches") for v in store.versions(WORKSPACE, d)}
