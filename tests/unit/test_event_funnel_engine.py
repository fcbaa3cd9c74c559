"""The numba event-funnel engine against the oracle (its first implementation, a per-person Python state machine in
tests/unit/event_funnel_oracle.py) on many small random journeys: every order, exclusions, repeated step names,
same-second ties, restarts, breakdowns, trends and conversion times must come out identical."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

import kpi.events as engine
from kpi.events import ORDERS, EventFunnelError, Exclusion, FunnelSpec, funnel, person_results, trends
from tests.conftest import REPO
from tests.unit import event_funnel_oracle as oracle

T0 = datetime(2025, 1, 1)
NAMES = ("A", "B", "C", "X", "Y")


@st.composite
def specs(draw: st.DrawFn) -> FunnelSpec:
    """1–4 steps from A, B, C (names may repeat), some only where `src` has a value, any order, a window of 1–6 time
    units, up to two exclusions."""
    steps = tuple(draw(st.lists(st.sampled_from(NAMES[:3]), min_size=1, max_size=4)))
    order = draw(st.sampled_from(ORDERS))
    exclusions = []
    if len(steps) > 1:
        for _ in range(draw(st.integers(0, 2))):
            lo, hi = (0, len(steps) - 1) if order == "unordered" else sorted(
                draw(st.lists(st.integers(0, len(steps) - 1), min_size=2, max_size=2, unique=True)))
            event = draw(st.sampled_from(NAMES))
            if event not in steps[lo:hi + 1]:
                exclusions.append(Exclusion(event, lo, hi))
    where = tuple(draw(st.sampled_from(((), (), (("src", "ads"),), (("src", "seo"),)))) for _ in steps)
    return FunnelSpec(steps, order, draw(st.integers(1, 6)) * draw(st.sampled_from((1, 3600 * 6))),
                      tuple(exclusions), where)


@st.composite
def cases(draw: st.DrawFn) -> tuple[FunnelSpec, pl.DataFrame]:
    """A spec and up to 14 events of two users at 0–8 time units (often several in one second), mostly of the
    funnel's own steps and exclusions, each maybe with a `src`."""
    spec = draw(specs())
    unit = 3600 * 6 if spec.window_s % (3600 * 6) == 0 else 1
    names = sorted({*spec.steps, *(ex.event for ex in spec.exclusions)})
    rows = draw(st.lists(st.tuples(st.sampled_from(("u1", "u2")), st.integers(0, 8),
                                   st.sampled_from(names) | st.sampled_from(NAMES),
                                   st.sampled_from((None, "", "ads", "seo"))), max_size=14))
    events = pl.DataFrame({"user_id": [r[0] for r in rows],
                           "timestamp": [T0 + timedelta(seconds=r[1] * unit) for r in rows],
                           "event": [r[2] for r in rows], "src": [r[3] for r in rows]},
                          schema={"user_id": pl.String, "timestamp": pl.Datetime("us"), "event": pl.String,
                                  "src": pl.String})
    return spec, events


def attributions(spec: FunnelSpec) -> list[str]:
    return ["first_touch", "last_touch", *(f"step:{k}" for k in range(len(spec.steps) if spec.order != "unordered"
                                                                        else 1))]


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases(), st.data())
def test_engine_gives_the_oracles_persons_and_funnel(case: tuple[FunnelSpec, pl.DataFrame],
                                                     data: st.DataObject) -> None:
    spec, events = case
    assert_frame_equal(person_results(events, spec), oracle.person_results(events, spec))
    attribution = data.draw(st.sampled_from(attributions(spec)))
    assert_frame_equal(person_results(events, spec, "src", attribution),
                       oracle.person_results(events, spec, "src", attribution))
    assert funnel(events, spec, "src", attribution, users=True) == oracle.funnel(events, spec, "src", attribution,
                                                                                 users=True)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases(), st.sampled_from(("day", "week", "month")))
def test_engine_gives_the_oracles_trends(case: tuple[FunnelSpec, pl.DataFrame], interval: Any) -> None:
    spec, events = case
    start, end = date(2025, 1, 1), date(2025, 1, 3)
    rows = trends(events, spec, interval, start, end)
    expected = oracle.trends(events, spec, interval, start, end)
    assert [(r["entered"], r["converted"]) for r in rows] == [
        (expected["entered"].get(r["period"], 0), expected["converted"].get(r["period"], 0)) for r in rows]
    assert set(expected["entered"]) <= {r["period"] for r in rows}


def test_persons_sharing_a_hash_are_still_told_apart(monkeypatch: pytest.MonkeyPatch) -> None:
    # every user id hashing alike must not merge persons: u1 A→B, u2 A only, u3 B only -> [2, 1]
    events = pl.DataFrame({"user_id": ["u1", "u2", "u1", "u3"], "timestamp": [T0, T0, T0 + timedelta(hours=1), T0],
                           "event": ["A", "A", "B", "B"]})
    monkeypatch.setattr(pl.Series, "hash", lambda self, seed=0: pl.Series([7] * self.len(), dtype=pl.UInt64))
    assert [s["count"] for s in funnel(events, FunnelSpec(("A", "B")), users=True)["steps"]] == [2, 1]
    assert_frame_equal(person_results(events, FunnelSpec(("A", "B"))),
                       oracle.person_results(events, FunnelSpec(("A", "B"))))


def test_no_events_and_no_matching_events() -> None:
    spec = FunnelSpec(("A", "B"), "strict")
    empty = pl.DataFrame(schema={"user_id": pl.String, "timestamp": pl.Datetime("us"), "event": pl.String})
    assert [s["count"] for s in funnel(empty, spec)["steps"]] == [0, 0]
    other = pl.DataFrame({"user_id": ["u1"], "timestamp": [T0], "event": ["Z"]})
    assert [s["count"] for s in funnel(other, FunnelSpec(("A", "B")))["steps"]] == [0, 0]
    assert person_results(other, spec).height == 0


def test_funnel_from_path_reads_parquet_lazily_and_gives_the_same_numbers(tmp_path: Any) -> None:
    events = pl.DataFrame({"user_id": ["u1", "u1", "u2"], "timestamp": [T0, T0 + timedelta(hours=1), T0],
                           "event": ["A", "B", "A"], "src": ["ads", None, "seo"], "unused": [1, 2, 3]})
    events.write_parquet(tmp_path / "e.parquet")
    spec = FunnelSpec(("A", "B"))
    assert engine.funnel_from_path(tmp_path, spec, "src", users=True) == funnel(events, spec, "src", users=True)
    with pytest.raises(EventFunnelError, match="--by 'nope'"):
        engine.funnel_from_path(tmp_path / "e.parquet", spec, "nope")


def test_unordered_attempt_takes_the_oldest_event_of_a_step_still_in_the_window() -> None:
    # A, B, C unordered, window 10 s; u1: B 0 s, B 5 s, B 12 s, A 13 s, C 14 s. At C the B of 0 s is out of the
    # window, the B of 5 s is the oldest still in it: steps at 5, 13, 14 -> times 8 s and 1 s. (The first engine
    # dropped the B of 5 s as "redundant" between two B and reported 1 s and 1 s.)
    events = pl.DataFrame({"user_id": ["u1"] * 5, "timestamp": [T0 + timedelta(seconds=s) for s in (0, 5, 12, 13, 14)],
                           "event": ["B", "B", "B", "A", "C"]})
    assert person_results(events, FunnelSpec(("A", "B", "C"), "unordered", 10))["times"].to_list() == [[8.0, 1.0]]


def test_bench_chdb_window_funnel_gives_the_engine_counts_on_distinct_steps(tmp_path: Any) -> None:
    # the benchmark's chdb windowFunnel must agree with the engine where their rules agree (distinct step names, no
    # exclusions): u1 A, B, C; u2 B, A, C; u3 A then B after the 1-day window; u4 A, A -> [4, 1, 1] with A, B, C.
    # With a repeated name they differ: for A -> A -> B, u4's A, A reach step 1 in both, but u1's single A fills
    # both A steps in windowFunnel (with its B: level 3) and one step in the engine (stays at step 0).
    pytest.importorskip("chdb")
    from bench.bench_event_funnel import chdb_counts

    hour, day = 3600, 86_400
    rows = [("u1", 0, "A"), ("u1", hour, "B"), ("u1", 2 * hour, "C"), ("u2", 0, "B"), ("u2", hour, "A"),
            ("u2", 2 * hour, "C"), ("u3", 0, "A"), ("u3", 2 * day, "B"), ("u4", 0, "A"), ("u4", hour, "A")]
    events = pl.DataFrame({"user_id": [r[0] for r in rows], "timestamp": [T0 + timedelta(seconds=r[1]) for r in rows],
                           "event": [r[2] for r in rows]})
    events.write_parquet(tmp_path / "e.parquet")
    engine_counts = [s["count"] for s in funnel(events, FunnelSpec(("A", "B", "C"), "ordered", day))["steps"]]
    assert engine_counts == [4, 1, 1]
    assert chdb_counts(tmp_path / "e.parquet", ("A", "B", "C"), day) == engine_counts
    repeated = [s["count"] for s in funnel(events, FunnelSpec(("A", "A", "B"), "ordered", day))["steps"]]
    assert repeated == [4, 1, 0]
    assert chdb_counts(tmp_path / "e.parquet", ("A", "A", "B"), day) == [4, 4, 1]


def test_warm_up_fills_numba_s_cache_in_a_process_of_its_own(tmp_path: Path) -> None:
    """What the app starts once a server (ui.workspace.warm_event_kernels): in an empty cache, every order's
    kernels and the trends' compiled for the next process to read (about 45 s on 2 cores)."""
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path)}
    done = subprocess.run([sys.executable, "-m", "kpi.events"], cwd=REPO, env=env, capture_output=True, timeout=900)
    assert done.returncode == 0, done.stderr
    indexed = {p.name.split("-")[0] for p in tmp_path.rglob("*.nbi")}
    assert {"events._ordered", "events._unordered", "events._trend_counts"} <= indexed, indexed
