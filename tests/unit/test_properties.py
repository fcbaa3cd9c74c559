"""Invariants that make the numbers trustworthy, on random workspaces (hypothesis)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from kpi.data import prepare
from kpi.funnel import stage_funnel
from kpi.metrics import compute, furthest_column
from kpi.period import Period
from kpi.settings import Settings

CHANNELS = ["Email", "Meta", "LinkedIn"]
SEGMENTS = ["SMB", "Mid-market", "Enterprise"]
START = datetime(2025, 1, 1)
STAGES = ["mql_at", "sql_at", "opportunity_at", "won_at"]
ADDITIVE = ["leads", "mql", "sql", "opportunities", "won", "revenue", "spend", "clicks"]


@st.composite
def workspaces(draw: st.DrawFn) -> dict[str, pl.DataFrame]:
    n = draw(st.integers(0, 40))
    rows = []
    for i in range(n):
        created = START + timedelta(hours=draw(st.integers(0, 24 * 180)))
        stamps: list[datetime | None] = []
        t = created
        alive = True
        for _ in STAGES:
            alive = alive and draw(st.booleans())
            t = t + timedelta(hours=draw(st.integers(0, 24 * 30)))
            stamps.append(t if alive and draw(st.integers(0, 9)) > 0 else None)  # occasionally a skipped date
        rows.append({"lead_id": f"L{i}", "created_at": created, **dict(zip(STAGES, stamps, strict=True)),
                     "amount": float(draw(st.integers(0, 100_000))),
                     "channel": draw(st.sampled_from(CHANNELS)), "segment": draw(st.sampled_from([*SEGMENTS, None]))})
    ts = pl.Datetime("us")
    leads = pl.DataFrame(rows, schema={"lead_id": pl.String, "created_at": ts, **{s: ts for s in STAGES},
                                       "amount": pl.Float64, "channel": pl.String, "segment": pl.String})
    m = draw(st.integers(0, 30))
    spend = pl.DataFrame({
        "date": [date(2025, 1, 1) + timedelta(days=draw(st.integers(0, 180))) for _ in range(m)],
        "channel": [draw(st.sampled_from(CHANNELS)) for _ in range(m)],
        "spend": [float(draw(st.integers(0, 5000))) for _ in range(m)],
        "clicks": [draw(st.integers(0, 500)) for _ in range(m)],
    }, schema={"date": pl.Date, "channel": pl.String, "spend": pl.Float64, "clicks": pl.Int64})
    return {"leads": leads, "spend": spend}


periods = st.builds(
    lambda a, b: Period(date(2025, 1, 1) + timedelta(days=min(a, b)), date(2025, 1, 1) + timedelta(days=max(a, b))),
    st.integers(0, 200), st.integers(0, 200))

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(workspaces(), periods, st.sampled_from(["cohort", "flow"]), st.sampled_from([None, "week", "month"]))
def test_totals_equal_the_sum_over_any_breakdown(ws: dict[str, pl.DataFrame], period: Period, view: str,
                                                 grain: str | None) -> None:
    total = compute(ws, ADDITIVE, period=period, view=view)  # type: ignore[arg-type]
    for by in (["channel"], ["channel", "segment"]):
        # spend has no segment: its metrics are not available by segment
        metrics = [m for m in ADDITIVE if m not in ("spend", "clicks")] if "segment" in by else ADDITIVE
        parts = compute(ws, metrics, by=by, period=period, grain=grain, view=view)  # type: ignore[arg-type]
        for m in metrics:
            assert parts[m].sum() == pytest.approx(total[m].item()), (m, by)


@FAST
@given(workspaces(), periods)
def test_ratios_are_ratios_of_sums(ws: dict[str, pl.DataFrame], period: Period) -> None:
    parts = compute(ws, ["spend", "leads", "mql", "won", "revenue"], by=["channel"], period=period)
    total = compute(ws, ["cpl", "lead_to_mql", "roas", "cpc"], period=period).row(0, named=True)
    leads, spend = parts["leads"].sum(), parts["spend"].sum()
    assert total["cpl"] == (pytest.approx(spend / leads) if leads else None)
    assert total["lead_to_mql"] == (pytest.approx(parts["mql"].sum() / leads) if leads else None)
    assert total["roas"] == (pytest.approx(parts["revenue"].sum() / spend) if spend else None)


@FAST
@given(workspaces(), periods, st.sampled_from(CHANNELS), st.sampled_from(["cohort", "flow"]))
def test_filter_then_compute_equals_compute_then_select(ws: dict[str, pl.DataFrame], period: Period, channel: str,
                                                        view: str) -> None:
    metrics = ["leads", "mql", "won", "spend", "cpl", "lead_to_won", "days_lead_to_mql", "pipeline"]
    filtered = compute(ws, metrics, period=period, filters={"channel": [channel]}, view=view)  # type: ignore[arg-type]
    selected = compute(ws, metrics, by=["channel"], period=period, view=view).filter(  # type: ignore[arg-type]
        pl.col("channel") == channel)
    if selected.is_empty():
        assert filtered["leads"].item() == 0 and filtered["spend"].item() == 0
    else:
        assert filtered.row(0) == pytest.approx(selected.drop("channel").row(0), nan_ok=True)


@FAST
@given(workspaces(), st.one_of(st.none(), periods), st.sampled_from([[], ["channel"], ["segment"]]))
def test_cohort_funnel_counts_never_increase(ws: dict[str, pl.DataFrame], period: Period | None,
                                             by: list[str]) -> None:
    f = stage_funnel(ws, by=by, period=period)
    for _, group in f.group_by(by or pl.lit(1)):
        counts = group.sort("position")["count"].to_list()
        assert counts == sorted(counts, reverse=True)


@FAST
@given(workspaces(), periods)
def test_counts_match_an_independent_count(ws: dict[str, pl.DataFrame], period: Period) -> None:
    out = compute(ws, ["leads", "won"], by=["segment"], period=period)
    got = {r["segment"]: (r["leads"], r["won"]) for r in out.to_dicts()}
    expected: dict[str, tuple[int, int]] = {}
    for r in ws["leads"].to_dicts():
        if period.start_dt <= r["created_at"] < period.end_exclusive_dt:
            n, w = expected.get(r["segment"], (0, 0))
            expected[r["segment"]] = (n + 1, w + (r["won_at"] is not None))
    assert got == expected


def test_empty_inputs_give_zeros_and_nulls_never_errors() -> None:
    empty = {"leads": pl.DataFrame(schema={"lead_id": pl.String, "created_at": pl.Datetime("us"),
                                           "channel": pl.String}),
             "spend": pl.DataFrame(schema={"date": pl.Date, "spend": pl.Float64, "channel": pl.String})}
    assert compute(empty, ["leads", "spend", "cpl"], view="flow").row(0) == (0, 0.0, None)
    # without stage columns the later stages are not available (null), not zero
    assert stage_funnel(empty)["count"].to_list() == [0, None, None, None, None]
    assert compute(empty, ["leads"], by=["channel"], grain="week").is_empty()


@FAST
@given(workspaces(), periods, st.sampled_from(["cohort", "flow"]), st.sampled_from([None, "month"]))
def test_prepared_tables_give_the_same_numbers_as_raw_ones(ws: dict[str, pl.DataFrame], period: Period, view: str,
                                                           grain: str | None) -> None:
    """`prepare` adds each lead's furthest stage so counts read one column, puts leads in order of
    creation and makes dimensions categorical (two of them are grouped as one packed integer for
    quantiles); the numbers must not change, also for leads without a segment."""
    metrics = ["leads", "mql", "sql", "opportunities", "won", "lost", "revenue", "pipeline", "win_rate", "cpl",
               "days_lead_to_mql", "sales_cycle_days_p75"]
    prepared = prepare(ws)
    assert furthest_column(Settings().stages) in prepared["leads"].columns
    assert prepared["leads"]["created_at"].is_sorted()
    assert sorted(prepared["leads"]["lead_id"]) == sorted(ws["leads"]["lead_id"])
    for by in (["channel"], ["channel", "segment"]):
        raw = compute(ws, metrics, by=by, period=period, view=view, grain=grain)  # type: ignore[arg-type]
        fast = compute(prepared, metrics, by=by, period=period, view=view, grain=grain)  # type: ignore[arg-type]
        # counts exactly; amounts and days may differ in the last bit (1e-12): one difference of two
        # timestamps can round differently between the two plans
        assert_frame_equal(fast, raw, check_exact=False, rel_tol=1e-12, abs_tol=0)
