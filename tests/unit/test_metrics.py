"""The engine against numbers worked out by hand on the handmade workspace (see handmade.py)."""

from __future__ import annotations

from datetime import date, datetime

import polars as pl
import pytest

from kpi.metrics import MetricError, catalog, compare, compute, cost_dimensions_missing
from kpi.period import Period, compare_period
from kpi.settings import Settings
from tests.unit.handmade import tables

JAN = Period(date(2025, 1, 1), date(2025, 1, 31))
FEB = Period(date(2025, 2, 1), date(2025, 2, 28))
MAR = Period(date(2025, 3, 1), date(2025, 3, 31))
AS_OF = datetime(2025, 4, 1)


def row(frame: pl.DataFrame, **keys: str) -> dict[str, object]:
    for dim, value in keys.items():
        frame = frame.filter(pl.col(dim) == value)
    assert frame.height == 1, frame
    return frame.row(0, named=True)


def test_january_cohort_by_channel() -> None:
    out = compute(tables(), ["leads", "mql", "sql", "opportunities", "won", "lost", "revenue", "spend", "cpl", "cac",
                             "roas", "roi", "ctr", "cpc", "cpm", "sessions", "session_to_lead", "win_rate"],
                  by=["channel"], period=JAN)
    email, meta = row(out, channel="Email"), row(out, channel="Meta")
    assert (email["leads"], email["mql"], email["sql"], email["opportunities"], email["won"]) == (1, 1, 1, 1, 1)
    assert email["revenue"] == 10_000 and email["spend"] == 50 and email["cpl"] == 50 and email["cac"] == 50
    assert email["roas"] == 200 and email["roi"] == 199
    assert email["sessions"] == 100 and email["session_to_lead"] == pytest.approx(0.01)
    assert (meta["leads"], meta["mql"], meta["sql"], meta["opportunities"], meta["won"], meta["lost"]) == (
        2, 2, 1, 1, 0, 1)
    assert meta["spend"] == 300 and meta["cpl"] == 150 and meta["cac"] is None  # no won deal: no CAC
    assert meta["ctr"] == pytest.approx(250 / 30_000) and meta["cpc"] == pytest.approx(300 / 250)
    assert meta["cpm"] == pytest.approx(300 / 30_000 * 1000)
    assert meta["win_rate"] == 0.0 and meta["roas"] == 0.0 and meta["roi"] == -1.0
    assert email["win_rate"] == 1.0


def test_ratio_is_ratio_of_sums_not_mean_of_ratios() -> None:
    total = compute(tables(), ["leads", "spend", "cpl"], period=JAN).row(0, named=True)
    # Email CPL 50 and Meta CPL 150 average to 100; the true CPL is 350 / 3.
    assert total["leads"] == 3 and total["spend"] == 350
    assert total["cpl"] == pytest.approx(350 / 3)


def test_flow_counts_each_stage_in_its_own_period() -> None:
    flow = compute(tables(), ["leads", "mql", "sql", "opportunities", "won", "revenue"], period=FEB, view="flow")
    cohort = compute(tables(), ["leads", "mql", "sql", "opportunities", "won", "revenue"], period=FEB)
    # created in Feb: L4, L5. MQL in Feb: L5. SQL: L5. Opportunity: L2 (02-01), L5 (02-20). Won: L1 (02-14).
    assert flow.row(0) == (2, 1, 1, 2, 1, 10_000.0)
    # leads created in Feb: L4 (no stage), L5 (mql, sql, opp, open)
    assert cohort.row(0) == (2, 1, 1, 1, 0, 0.0)


def test_stage_reached_through_a_later_stage_counts_in_cohort_not_in_flow() -> None:
    # L6 has a SQL date but no MQL date: it did pass MQL, we just do not know when.
    cohort = compute(tables(), ["leads", "mql", "sql"], period=MAR).row(0)
    flow = compute(tables(), ["leads", "mql", "sql"], period=MAR, view="flow").row(0)
    assert cohort == (1, 1, 1)
    assert flow == (1, 0, 1)


def test_days_between_stages_median_and_p75() -> None:
    out = compute(tables(), ["days_lead_to_mql", "days_lead_to_mql_p75", "sales_cycle_days"], period=JAN).row(0)
    # L1 14 h, L2 39 h, L3 5 days → 0.5833, 1.625, 5.0 days
    assert out[0] == pytest.approx(1.625)
    assert out[1] == pytest.approx(1.625 + 0.5 * (5.0 - 1.625))
    assert out[2] == pytest.approx((datetime(2025, 2, 14) - datetime(2025, 1, 5, 10)).total_seconds() / 86400)


def test_speed_to_lead_and_leakage() -> None:
    out = compute(tables(), ["speed_to_lead_hours", "leakage", "leaked_leads", "sla_leads"], period=JAN,
                  as_of=AS_OF).row(0, named=True)
    assert out["speed_to_lead_hours"] == 25.0  # median of 2 h and 48 h; L3 was never contacted
    assert (out["leaked_leads"], out["sla_leads"]) == (2, 3)  # L2 late, L3 never
    assert out["leakage"] == pytest.approx(2 / 3)
    # a lead younger than the SLA is not judged yet: as of 2025-02-03 12:00, L4 (02-03 00:00) is too young
    feb = compute(tables(), ["sla_leads", "leaked_leads"], period=FEB, as_of=datetime(2025, 2, 3, 12)).row(0)
    assert feb == (0, 0)
    strict = compute(tables(), ["leaked_leads"], period=JAN, as_of=AS_OF, settings=Settings(sla_hours=1)).row(0)
    assert strict == (3,)  # L1 after 2 h is late too


def test_pipeline_is_what_is_open_at_the_end_of_the_period() -> None:
    # end of January: L1 is an opportunity (won only in February); L2 becomes one only on 02-01
    assert compute(tables(), ["pipeline"], period=JAN).item() == 10_000
    # end of February: L5 is open; L1 is won; L2 created in January is outside the February cohort
    assert compute(tables(), ["pipeline"], period=FEB).item() == 5_000
    # flow: opportunities created in February still open at its end: L2 (lost only 03-01) and L5
    assert compute(tables(), ["pipeline"], period=FEB, view="flow").item() == 25_000


def test_spend_rows_covering_a_range_count_whole_only_when_the_period_contains_them() -> None:
    assert compute(tables(), ["spend"], period=MAR).item() == 350 - 50 + 10  # 310
    assert compute(tables(), ["spend"], period=Period(date(2025, 3, 1), date(2025, 3, 15))).item() == 0
    daily = compute(tables(), ["spend"], period=Period(date(2025, 3, 1), date(2025, 3, 15)), grain="day")
    assert daily.height == 15 and daily["spend"].to_list() == pytest.approx([10.0] * 15)


def test_monthly_grain_adds_up_to_the_total() -> None:
    monthly = compute(tables(), ["leads", "spend", "sessions"], grain="month")
    assert monthly["period"].to_list() == [date(2025, 1, 1), date(2025, 2, 1), date(2025, 3, 1)]
    assert monthly["leads"].to_list() == [3, 2, 1]
    assert monthly["spend"].to_list() == pytest.approx([350, 300, 310])
    assert monthly["sessions"].to_list() == [500, 500, 200]
    total = compute(tables(), ["leads", "spend", "sessions"]).row(0)
    assert total == (6, pytest.approx(960), 1200)


def test_week_grain_starts_on_monday() -> None:
    weekly = compute(tables(), ["leads"], period=JAN, grain="week")
    # 2025-01-05 is a Sunday (week of Mon 12-30), 01-10 in week of 01-06, 01-20 is a Monday
    assert weekly.rows() == [(date(2024, 12, 30), 1), (date(2025, 1, 6), 1), (date(2025, 1, 20), 1)]


def test_cost_by_a_dimension_spend_lacks_is_null_unless_allocated() -> None:
    plain = compute(tables(), ["leads", "spend", "cpl"], by=["segment"], period=JAN)
    assert plain["spend"].null_count() == plain.height and plain["cpl"].null_count() == plain.height
    assert row(plain, segment="SMB")["leads"] == 2
    allocated = compute(tables(), ["spend", "cpl"], by=["segment"], period=JAN, allocate_cost=True)
    # January spend 350 split by January leads: SMB 2 of 3, ENT 1 of 3
    assert row(allocated, segment="SMB")["spend"] == pytest.approx(350 * 2 / 3)
    assert row(allocated, segment="ENT")["spend"] == pytest.approx(350 / 3)
    assert row(allocated, segment="SMB")["cpl"] == pytest.approx(350 / 3)
    by_channel = compute(tables(), ["spend"], by=["channel", "segment"], period=JAN, allocate_cost=True)
    # Meta's 300 split between its ENT lead (L2) and SMB lead (L3); Email's 50 all to SMB (L1)
    assert row(by_channel, channel="Meta", segment="ENT")["spend"] == pytest.approx(150)
    assert row(by_channel, channel="Email", segment="SMB")["spend"] == pytest.approx(50)


def test_filters_apply_to_every_table_that_has_the_dimension() -> None:
    meta = compute(tables(), ["leads", "spend", "sessions"], period=JAN, filters={"channel": ["Meta"]}).row(0)
    assert meta == (2, 300.0, 400)
    smb = compute(tables(), ["leads", "spend", "sessions"], period=JAN, filters={"segment": ["SMB"]}).row(0)
    assert smb == (2, None, None)  # spend and traffic have no segment: not available, not zero


def test_compare_to_previous_period_and_last_year() -> None:
    out = compare(tables(), ["leads", "cpl"], FEB, "previous").row(0, named=True)
    assert out["leads_prev"] == 3 and out["leads_delta"] == -1
    assert out["leads_delta_pct"] == pytest.approx(-1 / 3)
    assert out["cpl"] == pytest.approx(150) and out["cpl_prev"] == pytest.approx(350 / 3)
    last_year = compare(tables(), ["leads"], FEB, "last_year").row(0, named=True)
    assert last_year["leads_prev"] == 0 and last_year["leads_delta_pct"] is None


def test_empty_tables_give_zeros_and_nulls() -> None:
    empty = {name: frame.clear() for name, frame in tables().items()}
    out = compute(empty, ["leads", "spend", "cpl", "days_lead_to_mql"]).row(0)
    assert out == (0, 0.0, None, None)
    by = compute(empty, ["leads", "cpl"], by=["channel"], grain="month")
    assert by.is_empty() and by.columns == ["channel", "period", "leads", "cpl"]


def test_period_that_matches_nothing() -> None:
    out = compute(tables(), ["leads", "spend", "cpl"], by=["channel"], period=Period(date(2030, 1, 1),
                                                                                      date(2030, 1, 31)))
    assert out.is_empty()


def test_unknown_metric_and_dimension_list_what_is_valid() -> None:
    with pytest.raises(MetricError, match=r"unknown metric\(s\): nope.*Valid metrics: .*cpl"):
        compute(tables(), ["nope"])
    with pytest.raises(MetricError, match=r"unknown dimension\(s\): colour.*Valid dimensions: .*channel"):
        compute(tables(), ["leads"], by=["colour"])


def test_catalog_covers_the_required_metrics_with_units_and_direction() -> None:
    cat = catalog()
    required = ["sessions", "users", "key_events", "leads", "mql", "sql", "opportunities", "won", "revenue",
                "pipeline", "avg_deal_size", "spend", "impressions", "clicks", "ctr", "cpc", "cpm", "cpl",
                "cost_per_mql", "cost_per_sql", "cost_per_opportunity", "cac", "lead_to_mql", "mql_to_sql",
                "sql_to_opportunity", "opportunity_to_won", "lead_to_won", "session_to_lead", "win_rate", "roas",
                "roi", "days_lead_to_mql", "days_mql_to_sql_p75", "sales_cycle_days", "speed_to_lead_hours",
                "leakage"]
    assert not set(required) - set(cat)
    assert cat["cpl"].unit == "currency" and not cat["cpl"].higher_is_better
    assert cat["lead_to_won"].unit == "ratio" and cat["lead_to_won"].higher_is_better
    assert cat["cpl"].tables == ("spend", "leads")


def test_handmade_tables_are_valid_including_the_range_row() -> None:
    from kpi.schema import validate

    for name, frame in tables().items():
        assert [p for p in validate(name, frame) if p.severity == "error"] == [], name
    broken = tables()["spend"].with_columns(period_start=None)
    problems = validate("spend", broken)
    assert any("neither date nor period_start" in p.message and p.rows == (5,) for p in problems)


def test_last_year_of_a_whole_month_is_the_whole_month() -> None:
    # February 2029 has 28 days; the February a year earlier has 29 and compares whole
    assert compare_period(Period(date(2029, 2, 1), date(2029, 2, 28)), "last_year") == Period(
        date(2028, 2, 1), date(2028, 2, 29))
    assert compare_period(Period(date(2028, 2, 1), date(2028, 2, 29)), "last_year") == Period(
        date(2027, 2, 1), date(2027, 2, 28))
    assert compare_period(Period(date(2026, 3, 5), date(2026, 3, 20)), "last_year") == Period(
        date(2025, 3, 5), date(2025, 3, 20))


def test_cost_dimensions_missing_names_what_spend_is_not_recorded_by() -> None:
    cat = catalog()
    # the handmade spend has channel and campaign, not segment; leads need no spend at all
    assert cost_dimensions_missing(tables(), cat["cpl"], ["segment", "channel"]) == ["segment"]
    assert cost_dimensions_missing(tables(), cat["leads"], ["segment"]) == []
    assert cost_dimensions_missing({"leads": tables()["leads"]}, cat["cpl"], ["segment"]) == []  # no spend table
