"""The stage funnel on the handmade workspace, worked out by hand."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from kpi.funnel import (
    best_and_worst,
    bottleneck,
    compare_funnels,
    conversion_trend,
    days_to_reach,
    incomplete_periods,
    stage_funnel,
)
from kpi.period import Period
from tests.unit.handmade import tables

JAN = Period(date(2025, 1, 1), date(2025, 1, 31))
Q1 = Period(date(2025, 1, 1), date(2025, 3, 31))


def test_funnel_from_sessions_to_won() -> None:
    f = stage_funnel(tables(), period=Q1)
    assert f["stage"].to_list() == ["sessions", "lead", "mql", "sql", "opportunity", "won"]
    assert f["count"].to_list() == [1200, 6, 5, 4, 3, 1]  # L6 reached MQL through its SQL date
    assert f["step_conversion"][0] is None
    assert f["step_conversion"].to_list()[1:] == pytest.approx([6 / 1200, 5 / 6, 4 / 5, 3 / 4, 1 / 3])
    assert f["overall_conversion"].to_list()[1:] == pytest.approx([1, 5 / 6, 4 / 6, 3 / 6, 1 / 6])
    assert f["overall_conversion"][0] is None
    assert f["drop_off"].to_list()[1:] == [1194, 1, 1, 1, 2]
    # MQL → SQL days: L1 4, L2 8, L5 1 → median 4
    assert f.filter(pl.col("stage") == "sql")["days_from_previous"].item() == pytest.approx(4.0)


def test_cost_per_stage_from_visit_to_won() -> None:
    f = stage_funnel(tables(), period=Q1)
    # Q1 spend: 100 + 200 + 300 + 50 by day, and the March range row 310 whole (it lies inside Q1) = 960
    # over 1 200 visits, 6 leads, 5 MQL, 4 SQL, 3 opportunities, 1 won deal
    assert f["cost_per_stage"].to_list() == pytest.approx([0.8, 160, 192, 240, 320, 960])
    # a visit is not tied to its lead: no time from visit to lead, and none for the lead itself either
    assert f["days_from_previous"][:2].to_list() == [None, None]


def test_cost_per_stage_by_a_dimension_spend_lacks_is_missing_or_allocated() -> None:
    smb = {"segment": ["SMB"]}
    assert stage_funnel(tables(), period=Q1, filters=smb)["cost_per_stage"].is_null().all()
    f = stage_funnel(tables(), period=Q1, filters=smb, allocate_cost=True)
    # SMB has 4 of the 6 Q1 leads (L1, L3, L5, L6): 960 × 4/6 = 640 of spend, over 4 leads, 4 MQL (L6 through
    # its SQL date), 3 SQL (L1, L5, L6), 2 opportunities (L1, L5), 1 won deal (L1)
    assert f["stage"].to_list() == ["lead", "mql", "sql", "opportunity", "won"]
    assert f["cost_per_stage"].to_list() == pytest.approx([160, 160, 640 / 3, 320, 640])


def test_funnel_beside_the_comparison_period() -> None:
    feb = stage_funnel(tables(), period=Period(date(2025, 2, 1), date(2025, 2, 28)))
    both = compare_funnels(feb, stage_funnel(tables(), period=JAN))
    assert both["count"].to_list() == [500, 2, 1, 1, 1, 0]  # February: L4, L5; 500 Meta visits
    assert both["count_prev"].to_list() == [500, 3, 3, 2, 2, 1]  # January: L1, L2, L3; 100 + 400 visits
    # spend: February 300, January 100 + 200 + 50 = 350; no won deal in February, so no cost per won deal
    assert both["cost_per_stage"].to_list() == pytest.approx([0.6, 150, 300, 300, 300, None], nan_ok=True)
    assert both["cost_per_stage_prev"].to_list() == pytest.approx([0.7, 350 / 3, 350 / 3, 175, 175, 350])
    # MQL → SQL: L1 4 days, L2 8 days in January (median 6); L5 1 day in February
    sql = both.filter(pl.col("stage") == "sql").row(0, named=True)
    assert (sql["days_from_previous"], sql["days_from_previous_prev"]) == pytest.approx((1.0, 6.0))


def test_funnel_without_traffic_starts_at_leads_and_breaks_down() -> None:
    f = stage_funnel(tables(), by=["segment"], period=JAN)
    assert "sessions" not in f["stage"].to_list()  # traffic has no segment
    smb = f.filter(pl.col("segment") == "SMB")
    assert smb["count"].to_list() == [2, 2, 1, 1, 1]
    ent = f.filter(pl.col("segment") == "ENT")
    assert ent["count"].to_list() == [1, 1, 1, 1, 0]
    assert ent["step_conversion"].to_list()[1:] == [1.0, 1.0, 1.0, 0.0]


@pytest.mark.parametrize("by", [[], ["channel"], ["segment"]])
def test_cohort_funnel_never_increases(by: list[str]) -> None:
    f = stage_funnel(tables(), by=by).filter(pl.col("stage") != "sessions")
    worse = f.group_by(by or pl.lit(1)).agg((pl.col("count").diff() > 0).any().alias("up"))
    assert not worse["up"].any()


def test_bottleneck_is_the_largest_fall_against_the_previous_period() -> None:
    jan = stage_funnel(tables(), period=JAN)
    feb = stage_funnel(tables(), period=Period(date(2025, 2, 1), date(2025, 2, 28)))
    # January: lead→mql 3/3, mql→sql 2/3, sql→opp 2/2, opp→won 1/2; February: 1/2, 1/1, 1/1, 0/1.
    # lead→mql and opp→won both fell 50 points: the earlier step is named.
    b = bottleneck(feb, jan)
    assert b is not None and (b.from_stage, b.to_stage) == ("lead", "mql")
    assert b.conversion == 0.5 and b.reference == 1.0 and b.reason == "fell_most_vs_previous"
    assert b.change == -0.5
    # against a previous funnel where opp→won was perfect, that step fell most (-100 points)
    better_before = jan.with_columns(
        pl.when(pl.col("stage") == "won").then(1.0).otherwise(pl.col("step_conversion")).alias("step_conversion"))
    b2 = bottleneck(feb, better_before)
    assert b2 is not None and (b2.from_stage, b2.to_stage, b2.change) == ("opportunity", "won", -1.0)
    assert bottleneck(jan, jan) is not None and bottleneck(jan, jan).reason == "lowest_conversion"  # nothing fell
    alone = bottleneck(jan)
    assert alone is not None and (alone.from_stage, alone.to_stage, alone.reason) == ("opportunity", "won",
                                                                                      "lowest_conversion")


def test_best_and_worst_segment_per_stage() -> None:
    f = stage_funnel(tables(), by=["channel"], period=Q1)
    bw = best_and_worst(f, "channel", min_base=1)
    mql = bw.filter(pl.col("stage") == "mql").row(0, named=True)
    # Email: 3 leads → 2 MQL (L1, L6); Meta: 3 leads → 3 MQL
    assert (mql["best"], mql["best_conversion"]) == ("Meta", 1.0)
    assert (mql["worst"], mql["worst_conversion"]) == ("Email", pytest.approx(2 / 3))
    # only the sessions → leads step has 100+ at its base: Email 3 of 300 sessions, Meta 3 of 900
    big = best_and_worst(f, "channel", min_base=100)
    assert big.select("stage", "best", "worst").rows() == [("lead", "Email", "Meta")]
    assert big["worst_conversion"].item() == pytest.approx(3 / 900)


def test_conversion_trend_by_month() -> None:
    trend = conversion_trend(tables(), "month", period=Q1)
    jan = trend.filter(pl.col("period") == date(2025, 1, 1))
    assert jan["step"].to_list() == ["lead_to_mql", "mql_to_sql", "sql_to_opportunity", "opportunity_to_won"]
    assert jan["conversion"].to_list() == pytest.approx([1.0, 2 / 3, 1.0, 0.5])


def test_days_to_reach_each_stage_from_the_lead() -> None:
    reach = days_to_reach(tables())
    # MQL: L1 14 h, L2 1 d 15 h, L3 5 d, L5 1 d → sorted 0.583, 1, 1.625, 5; p75 at 2.25 → 1.625 + 0.25 × 3.375
    assert reach["mql"] == pytest.approx(1.625 + 0.25 * 3.375)
    # SQL: L5 2, L6 4, L1 4 d 14 h, L2 9 d 15 h → 4.583 + 0.25 × (9.625 − 4.583)
    assert reach["sql"] == pytest.approx(4 + 14 / 24 + 0.25 * (9.625 - 4 - 14 / 24))
    # opportunity: L1 9 d 14 h, L5 10, L2 21 d 15 h → p75 at 1.5 → 10 + 0.5 × 11.625
    assert reach["opportunity"] == pytest.approx(10 + 0.5 * 11.625)
    assert reach["won"] == pytest.approx(39 + 14 / 24)  # L1 alone: 5 January 10:00 → 14 February
    assert days_to_reach(tables(), filters={"channel": ["Meta"]})["won"] is None  # no Meta lead was won


def test_leads_without_stage_dates_reach_no_stage_and_are_never_young() -> None:
    bare = {"leads": tables()["leads"].select("lead_id", "created_at")}
    assert days_to_reach(bare) == {"mql": None, "sql": None, "opportunity": None, "won": None}
    young = incomplete_periods(bare, "month", period=Q1)
    assert young.height == 3 * 4 and not young["incomplete"].any()


def test_young_cohorts_are_marked_incomplete_per_stage() -> None:
    # as of 1 March (the latest lead): January's cohort is 29 days old at its last day, February's 1 day
    young = incomplete_periods(tables(), "month", period=Q1)
    flags = {(r["period"].month, r["stage"]): r["incomplete"] for r in young.iter_rows(named=True)}
    assert [flags[(1, s)] for s in ("mql", "sql", "opportunity", "won")] == [False, False, False, True]
    assert all(flags[(m, s)] for m in (2, 3) for s in ("mql", "sql", "opportunity", "won"))
    # a year later every cohort has had time
    assert not incomplete_periods(tables(), "month", period=Q1, as_of=date(2026, 3, 1))["incomplete"].any()


def test_conversion_trend_marks_young_cohorts_and_flow_ratios_can_pass_one() -> None:
    cohort = conversion_trend(tables(), "month", period=Q1)
    jan = cohort.filter(pl.col("period") == date(2025, 1, 1))
    assert jan["incomplete"].to_list() == [False, False, False, True]  # opp → won: 39.6 days > 29 days old
    assert cohort.filter(pl.col("period") == date(2025, 2, 1))["incomplete"].all()
    flow = conversion_trend(tables(), "month", period=Q1, view="flow")
    feb = flow.filter((pl.col("period") == date(2025, 2, 1)) & (pl.col("step") == "sql_to_opportunity"))
    # February: one SQL (L5) but two opportunities (L2, whose SQL was in January, and L5): 2 per SQL
    assert feb["conversion"].item() == 2.0 and not flow["incomplete"].any()


def test_leaked_leads_lists_never_and_late_contacts() -> None:
    from datetime import datetime

    from kpi.handover import leaked_leads

    out = leaked_leads(tables(), period=JAN, as_of=datetime(2025, 4, 1))
    # L2 was contacted after 48 h (SLA 24 h), L3 never; L1 within 2 h
    assert out.select("lead_id", "reason", "hours_to_contact").rows() == [("L2", "contacted_late", 48.0),
                                                                          ("L3", "never_contacted", None)]
    assert "channel" in out.columns and out["channel"].to_list() == ["Meta", "Meta"]
    young = leaked_leads(tables(), period=Period(date(2025, 2, 1), date(2025, 2, 28)),
                         as_of=datetime(2025, 2, 3, 12))
    assert young.is_empty()  # L4 is younger than the SLA
    assert leaked_leads(tables(), filters={"channel": ["Email"]}, as_of=datetime(2025, 4, 1)).is_empty()
