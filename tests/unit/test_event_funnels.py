"""Event funnels with PostHog's semantics: every rule on small hand-made journeys, numbers worked out by hand.

Times are offsets from 2025-01-01 00:00; H = one hour in seconds. Steps are numbered from 0.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from kpi.events import EventFunnelError, Exclusion, FunnelSpec, funnel, parse_exclusion, parse_window, trends
from tests.conftest import REPO

H = 3600
DAY = 86_400
T0 = datetime(2025, 1, 1)


def events(*rows: tuple[Any, ...]) -> pl.DataFrame:
    """Rows of (user, seconds after T0, event[, src])."""
    return pl.DataFrame(
        {"user_id": [r[0] for r in rows], "timestamp": [T0 + timedelta(seconds=r[1]) for r in rows],
         "event": [r[2] for r in rows], "src": [r[3] if len(r) > 3 else None for r in rows]},
        schema={"user_id": pl.String, "timestamp": pl.Datetime("us"), "event": pl.String, "src": pl.String})


def counts(result: dict[str, Any]) -> list[int]:
    return [s["count"] for s in result["steps"]]


def run(frame: pl.DataFrame, *steps: str, order: str = "ordered", window: int = 7 * DAY,
        exclusions: tuple[Exclusion, ...] = (), **kw: Any) -> dict[str, Any]:
    return funnel(frame, FunnelSpec(steps, order, window, exclusions), **kw)  # type: ignore[arg-type]


# u1: A, X, B, C (X is no step) · u2: B, A, C (wrong order) · u3: A, B, C
ORDER_CASE = events(("u1", 0, "A"), ("u1", H, "X"), ("u1", 2 * H, "B"), ("u1", 3 * H, "C"),
                    ("u2", 0, "B"), ("u2", H, "A"), ("u2", 2 * H, "C"),
                    ("u3", 0, "A"), ("u3", H, "B"), ("u3", 2 * H, "C"))


def test_ordered_allows_other_events_between_steps() -> None:
    # ordered: u1 and u3 finish; u2's A comes after its B, so u2 stays at A -> [3, 2, 2]
    # A->B: u1 2 h, u3 1 h -> mean 5400 s, median 5400 s; B->C: 1 h for both
    out = run(ORDER_CASE, "A", "B", "C")
    assert counts(out) == [3, 2, 2]
    assert out["steps"][0]["avg_conversion_time_s"] is None and out["steps"][0]["median_conversion_time_s"] is None
    assert out["steps"][1]["avg_conversion_time_s"] == 5400 and out["steps"][1]["median_conversion_time_s"] == 5400
    assert out["steps"][2]["avg_conversion_time_s"] == 3600


def test_strict_breaks_on_any_event_between_steps() -> None:
    # strict: u1's X right after A breaks it (stays at A); u2 stays at A; only u3 -> [3, 1, 1]
    assert counts(run(ORDER_CASE, "A", "B", "C", order="strict")) == [3, 1, 1]


def test_unordered_takes_steps_in_any_order() -> None:
    # unordered: all three did A, B and C within the window -> [3, 3, 3]
    # times between the sorted step events: u1 2 h, 1 h; u2 1 h, 1 h; u3 1 h, 1 h
    # step 1 mean (7200 + 3600 + 3600) / 3 = 4800, median 3600
    out = run(ORDER_CASE, "A", "B", "C", order="unordered")
    assert counts(out) == [3, 3, 3]
    assert out["steps"][1]["avg_conversion_time_s"] == 4800 and out["steps"][1]["median_conversion_time_s"] == 3600


@pytest.mark.parametrize("order", ["ordered", "strict", "unordered"])
def test_window_is_inclusive_at_exactly_seven_days(order: str) -> None:
    # u1: B exactly 7 days (604,800 s) after A -> converts; u2: one second later -> does not. [2, 1]
    frame = events(("u1", 0, "A"), ("u1", 7 * DAY, "B"), ("u2", 0, "A"), ("u2", 7 * DAY + 1, "B"))
    out = run(frame, "A", "B", order=order, window=parse_window("7d"), users=True)
    assert counts(out) == [2, 1]
    assert out["steps"][1]["users"] == ["u1"]
    assert out["steps"][1]["avg_conversion_time_s"] == 7 * DAY


def test_later_step_zero_restarts_and_the_best_attempt_counts() -> None:
    # window 1 day. u1: A 0h, B 1h, then A 30h, B 31h, C 32h: the first attempt cannot reach C (32 h > 24 h), the
    # restart at 30 h does -> u1 at C, times from the counted attempt: 1 h, 1 h.
    # u2: A 0h, B 1h, A 48h: the newer attempt only reaches A; u2 is counted at B (its best attempt), time 1 h.
    frame = events(("u1", 0, "A"), ("u1", H, "B"), ("u1", 30 * H, "A"), ("u1", 31 * H, "B"), ("u1", 32 * H, "C"),
                   ("u2", 0, "A"), ("u2", H, "B"), ("u2", 48 * H, "A"))
    out = run(frame, "A", "B", "C", window=DAY, users=True)
    assert counts(out) == [2, 2, 1]
    assert [s["users"] for s in out["steps"]] == [["u1", "u2"], ["u1", "u2"], ["u1"]]
    assert out["steps"][1]["avg_conversion_time_s"] == 3600 and out["steps"][2]["avg_conversion_time_s"] == 3600


def test_one_event_fills_one_step_so_names_may_repeat() -> None:
    # A -> A -> B. u1: A, A, B -> done. u2: A, B -> one A fills only step 0, stays at A.
    # u3: two A in the same second, then B 1 h later -> done; its A->A transition takes 0 s.
    # Counts [3, 2, 2]; step 1 times: u1 3600, u3 0 (left out) -> mean = median = 3600; step 2: 3600 and 3600.
    frame = events(("u1", 0, "A"), ("u1", H, "A"), ("u1", 2 * H, "B"),
                   ("u2", 0, "A"), ("u2", H, "B"),
                   ("u3", 0, "A"), ("u3", 0, "A"), ("u3", H, "B"))
    out = run(frame, "A", "A", "B")
    assert counts(out) == [3, 2, 2]
    assert out["steps"][1]["avg_conversion_time_s"] == 3600 and out["steps"][1]["median_conversion_time_s"] == 3600
    assert out["steps"][2]["avg_conversion_time_s"] == 3600


def test_mean_and_median_leave_out_zero_second_transitions() -> None:
    # A->B after 100, 200 and 600 s, and u4 in the same second (0 s, left out):
    # mean (100 + 200 + 600) / 3 = 300 (not 900 / 4 = 225), median 200 (not 150); all four count at B.
    frame = events(("u1", 0, "A"), ("u1", 100, "B"), ("u2", 0, "A"), ("u2", 200, "B"),
                   ("u3", 0, "A"), ("u3", 600, "B"), ("u4", 0, "A"), ("u4", 0, "B"))
    out = run(frame, "A", "B")
    assert counts(out) == [4, 4]
    assert out["steps"][1]["avg_conversion_time_s"] == 300 and out["steps"][1]["median_conversion_time_s"] == 200


def test_exclusion_in_an_ordered_funnel_removes_the_person_from_every_step() -> None:
    # exclude X between steps 0 and 1.
    # u1: A, X, B, C -> X taints the only attempt -> removed from every step.
    # u2: A, B, X, C -> X after B is outside the excluded range -> counts at C.
    # u3: A, X, A, B, C -> the tainted attempt is overtaken by the clean restart -> counts at C.
    frame = events(("u1", 0, "A"), ("u1", H, "X"), ("u1", 2 * H, "B"), ("u1", 3 * H, "C"),
                   ("u2", 0, "A"), ("u2", H, "B"), ("u2", 2 * H, "X"), ("u2", 3 * H, "C"),
                   ("u3", 0, "A"), ("u3", H, "X"), ("u3", 2 * H, "A"), ("u3", 3 * H, "B"), ("u3", 4 * H, "C"))
    out = run(frame, "A", "B", "C", exclusions=(Exclusion("X", 0, 1),), users=True)
    assert counts(out) == [2, 2, 2]
    assert out["steps"][0]["users"] == ["u2", "u3"]
    # without the exclusion everyone finishes
    assert counts(run(frame, "A", "B", "C")) == [3, 3, 3]


def test_exclusion_in_a_strict_funnel() -> None:
    # strict, exclude X between steps 0 and 1. u1: A, X, B -> X taints (and breaks) the attempt -> removed.
    # u2: A, B -> converts. u3: A, Y, B -> Y breaks the strict attempt, not excluded -> counted at A.
    # strict [2, 1]; the same journeys ordered: u1 removed, u2 and u3 convert -> [2, 2]
    frame = events(("u1", 0, "A"), ("u1", H, "X"), ("u1", 2 * H, "B"), ("u2", 0, "A"), ("u2", H, "B"),
                   ("u3", 0, "A"), ("u3", H, "Y"), ("u3", 2 * H, "B"))
    exclusion = (Exclusion("X", 0, 1),)
    strict = run(frame, "A", "B", order="strict", exclusions=exclusion, users=True)
    assert counts(strict) == [2, 1] and strict["steps"][0]["users"] == ["u2", "u3"]
    assert counts(run(frame, "A", "B", exclusions=exclusion)) == [2, 2]


def test_exclusion_in_an_unordered_funnel_wipes_the_progress_so_far() -> None:
    # exclude X over the whole funnel (0..2).
    # u1: A, B, X, C -> X wipes A and B; C alone -> counted at step 0 only.
    # u2: B, X -> nothing left -> not counted at all.
    # u3: A, B, C, X -> finished before X -> counted at step 2.
    frame = events(("u1", 0, "A"), ("u1", H, "B"), ("u1", 2 * H, "X"), ("u1", 3 * H, "C"),
                   ("u2", 0, "B"), ("u2", H, "X"),
                   ("u3", 0, "A"), ("u3", H, "B"), ("u3", 2 * H, "C"), ("u3", 3 * H, "X"))
    out = run(frame, "A", "B", "C", order="unordered", exclusions=(Exclusion("X", 0, 2),), users=True)
    assert counts(out) == [2, 1, 1]
    assert out["steps"][0]["users"] == ["u1", "u3"]


# u1: A ads, B email · u2: A (no src), B seo · u3: A ads only · u4: A ads, A seo, B seo
BREAKDOWN_CASE = events(("u1", 0, "A", "ads"), ("u1", H, "B", "email"),
                        ("u2", 0, "A", None), ("u2", H, "B", "seo"),
                        ("u3", 0, "A", "ads"),
                        ("u4", 0, "A", "ads"), ("u4", H, "A", "seo"), ("u4", 2 * H, "B", "seo"))


def breakdown_counts(out: dict[str, Any]) -> dict[str, list[int]]:
    return {value: [s["count"] for s in body["steps"]] for value, body in out["breakdown"].items()}


def test_breakdown_first_touch() -> None:
    # first value a person's funnel events carry: u1 ads, u2 seo (its A has none), u3 ads, u4 ads
    out = run(BREAKDOWN_CASE, "A", "B", by="src", attribution="first_touch")
    assert breakdown_counts(out) == {"ads": [3, 2], "seo": [1, 1]}
    assert counts(out) == [4, 3]  # the overall funnel is unchanged
    # ads A->B: u1 1 h, u4 1 h (its restart at 1 h is the attempt that converts)
    assert out["breakdown"]["ads"]["steps"][1]["avg_conversion_time_s"] == 3600


def test_breakdown_last_touch() -> None:
    # last value: u1 email, u2 seo, u3 ads, u4 seo
    out = run(BREAKDOWN_CASE, "A", "B", by="src", attribution="last_touch")
    assert breakdown_counts(out) == {"seo": [2, 2], "ads": [1, 0], "email": [1, 1]}


def test_breakdown_step_zero_counts_a_person_under_each_value_of_that_step() -> None:
    # step:0: the value of the event filling step 0. u1 ads; u2 "" (no value); u3 ads;
    # u4 once as ads (A 0h -> B, 2 h) and once as seo (A 1h -> B, 1 h)
    out = run(BREAKDOWN_CASE, "A", "B", by="src", attribution="step:0", users=True)
    assert breakdown_counts(out) == {"ads": [3, 2], "": [1, 1], "seo": [1, 1]}
    assert out["breakdown"]["ads"]["steps"][1]["users"] == ["u1", "u4"]
    assert out["breakdown"]["ads"]["steps"][1]["avg_conversion_time_s"] == (3600 + 7200) / 2
    assert out["breakdown"]["seo"]["steps"][1]["avg_conversion_time_s"] == 3600


def test_breakdown_step_one_leaves_out_persons_without_that_step() -> None:
    # step:1: the value of B. u1 email, u2 seo, u4 seo; u3 never did B -> in no breakdown value
    out = run(BREAKDOWN_CASE, "A", "B", by="src", attribution="step:1")
    assert breakdown_counts(out) == {"seo": [2, 2], "email": [1, 1]}


def test_trends_per_day_of_the_step_zero_event() -> None:
    # window 1 day. u1: A Jan 1 10:00, B 12:00 -> Jan 1 entered and converted.
    # u2: A Jan 1 23:00, B Jan 2 01:00 -> Jan 1 (the step-0 day) entered and converted.
    # u3: A Jan 2 09:00, A Jan 3 09:00, B Jan 3 10:00 -> Jan 2: entered, B is 25 h later -> not converted;
    #     Jan 3: entered and converted.
    frame = events(("u1", 10 * H, "A"), ("u1", 12 * H, "B"), ("u2", 23 * H, "A"), ("u2", 25 * H, "B"),
                   ("u3", 33 * H, "A"), ("u3", 57 * H, "A"), ("u3", 58 * H, "B"))
    rows = trends(frame, FunnelSpec(("A", "B"), "ordered", DAY), "day", date(2025, 1, 1), date(2025, 1, 4))
    assert rows == [{"period": "2025-01-01", "entered": 2, "converted": 2},
                    {"period": "2025-01-02", "entered": 1, "converted": 0},
                    {"period": "2025-01-03", "entered": 1, "converted": 1},
                    {"period": "2025-01-04", "entered": 0, "converted": 0}]
    weekly = trends(frame, FunnelSpec(("A", "B"), "ordered", DAY), "week", date(2025, 1, 1), date(2025, 1, 4))
    # ISO week of Monday 2024-12-30: u1, u2, u3 entered; all three have an attempt that converts
    assert weekly == [{"period": "2024-12-30", "entered": 3, "converted": 3}]


@pytest.mark.parametrize(("text", "seconds"), [("7d", 604_800), ("14 days", 1_209_600), ("36h", 129_600),
                                               ("90m", 5400), ("2w", 1_209_600), ("30s", 30), ("1 week", 604_800)])
def test_window_units(text: str, seconds: int) -> None:
    assert parse_window(text) == seconds


@pytest.mark.parametrize("text", ["7x", "7", "d", "-1d", "0d", ""])
def test_bad_window(text: str) -> None:
    with pytest.raises(EventFunnelError, match="--window"):
        parse_window(text)


def test_bad_specs() -> None:
    with pytest.raises(EventFunnelError, match=r"numbered 0\.\.2"):
        FunnelSpec(("A", "B", "C"), "ordered", DAY, (Exclusion("X", 1, 3),))
    with pytest.raises(EventFunnelError, match="itself a step"):
        FunnelSpec(("A", "B", "C"), "ordered", DAY, (Exclusion("B", 0, 2),))
    with pytest.raises(EventFunnelError, match="whole funnel"):
        FunnelSpec(("A", "B", "C"), "unordered", DAY, (Exclusion("X", 0, 1),))
    assert parse_exclusion("page:view:0:2") == Exclusion("page:view", 0, 2)


# --- the command line -------------------------------------------------------------------------------------------


def kpi(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "kpi", "events", "funnel", *args], cwd=REPO, capture_output=True,
                          text=True, timeout=120)


@pytest.fixture(scope="module")
def breakdown_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("events") / "events.csv"
    BREAKDOWN_CASE.write_csv(path)
    return path


def test_cli_json_contract(breakdown_csv: Path) -> None:
    proc = kpi("--events", str(breakdown_csv), "--step", "A", "--step", "B", "--order", "ordered", "--window", "7d",
               "--by", "src", "--by-attribution", "step:0", "--trends", "day", "--from", "2025-01-01",
               "--to", "2025-01-02", "--users", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert set(out) == {"steps", "breakdown", "trends"}
    assert out["steps"][0] == {"name": "A", "count": 4, "avg_conversion_time_s": None,
                               "median_conversion_time_s": None, "users": ["u1", "u2", "u3", "u4"]}
    # B: u1 1 h, u2 1 h, u4 1 h (its restart) -> 3600
    assert out["steps"][1] == {"name": "B", "count": 3, "avg_conversion_time_s": 3600.0,
                               "median_conversion_time_s": 3600.0, "users": ["u1", "u2", "u4"]}
    assert {k: [s["count"] for s in v["steps"]] for k, v in out["breakdown"].items()} == {
        "ads": [3, 2], "": [1, 1], "seo": [1, 1]}
    assert out["trends"] == [{"period": "2025-01-01", "entered": 4, "converted": 3},
                             {"period": "2025-01-02", "entered": 0, "converted": 0}]


def test_cli_parquet_folder_csv_and_no_users(tmp_path: Path) -> None:
    ORDER_CASE.write_parquet(tmp_path / "part1.parquet")
    proc = kpi("--events", str(tmp_path), "--step", "A", "--step", "B", "--step", "C", "--order", "strict",
               "--window", "1d", "--format", "csv")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == "step,name,count,avg_conversion_time_s,median_conversion_time_s"
    assert lines[1:] == ["0,A,3,,", "1,B,1,3600.0,3600.0", "2,C,1,3600.0,3600.0"]
    proc = kpi("--events", str(tmp_path), "--step", "A", "--format", "json")
    assert "users" not in json.loads(proc.stdout)["steps"][0] and "breakdown" not in json.loads(proc.stdout)


@pytest.mark.parametrize(("args", "says"), [
    (["--window", "7x"], "--window '7x'"),
    (["--order", "sideways"], "--order"),
    (["--exclude", "X:0:5"], "--exclude X:0:5"),
    (["--exclude", "X-0-1"], "EVENT:FROM:TO"),
    (["--by", "nope"], "--by 'nope'"),
    (["--by", "src", "--by-attribution", "step:9"], "--by-attribution"),
    (["--trends", "day"], "--from YYYY-MM-DD"),
])
def test_cli_bad_input_exits_2_naming_the_flag(breakdown_csv: Path, args: list[str], says: str) -> None:
    proc = kpi("--events", str(breakdown_csv), "--step", "A", "--step", "B", *args, "--format", "json")
    assert proc.returncode == 2
    assert says in proc.stderr
    assert proc.stdout == ""


def test_cli_missing_column_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "no_event.csv"
    path.write_text("user_id,timestamp,name\nu1,2025-01-01 00:00:00,A\n")
    proc = kpi("--events", str(path), "--step", "A", "--format", "json")
    assert proc.returncode == 2 and "event" in proc.stderr and "missing" in proc.stderr
    path.write_text("user_id,timestamp,event\nu1,yesterday,A\n")
    proc = kpi("--events", str(path), "--step", "A", "--format", "json")
    assert proc.returncode == 2 and "timestamp" in proc.stderr and "row 1" in proc.stderr


def test_bench_duckdb_sql_gives_the_engine_counts(tmp_path: Path) -> None:
    # the benchmark's DuckDB SQL is an independent ordered funnel; on ORDER_CASE plus a window edge it must agree:
    # u4: A, then B 2 days later with a 1-day window -> stays at A. Engine and SQL: [4, 2, 2]
    from bench.bench_event_funnel import duckdb_counts

    frame = pl.concat([ORDER_CASE, events(("u4", 0, "A"), ("u4", 2 * DAY, "B"))])
    frame.write_parquet(tmp_path / "e.parquet")
    engine = counts(run(frame, "A", "B", "C", window=DAY))
    assert engine == [4, 2, 2]
    assert duckdb_counts(tmp_path / "e.parquet", ("A", "B", "C"), DAY) == engine
