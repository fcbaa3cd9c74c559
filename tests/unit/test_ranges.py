"""Rows that cover a date range instead of a day (Meta and Google Ads UI exports, GA4 reports without a
Date column), in spend and traffic tables of their own or mixed with daily rows: they count whole in a
period that contains their range, not at all in one that does not, and are spread evenly over their days
at a grain. Every number below is worked out by hand."""

from __future__ import annotations

from datetime import date, datetime

import polars as pl
import pytest

from kpi.data import prepare
from kpi.funnel import SESSIONS_STAGE, stage_funnel
from kpi.metrics import compute, has_range_rows
from kpi.period import Period
from kpi.schema import validate

# Feb 1 .. Aug 4 2025 is 28 + 31 + 30 + 31 + 30 + 31 + 4 = 185 days: 1.0 of spend a day
META = pl.DataFrame({"campaign": ["Add to Cart"], "channel": ["Meta"], "spend": [185.0], "clicks": [370],
                     "impressions": [3700], "period_start": [date(2025, 2, 1)], "period_end": [date(2025, 8, 4)]})
# two daily rows beside one range row of 9 sessions over Mar 1..3 (3 a day)
TRAFFIC = pl.DataFrame({"date": [date(2025, 3, 1), date(2025, 3, 20), None], "channel": ["Email"] * 3,
                        "sessions": [7, 5, 9], "period_start": [None, None, date(2025, 3, 1)],
                        "period_end": [None, None, date(2025, 3, 3)]})
RANGE_ONLY_TRAFFIC = TRAFFIC.filter(pl.col("date").is_null()).drop("date")
LEADS = pl.DataFrame({"lead_id": ["a", "b"], "created_at": [datetime(2025, 3, 2), datetime(2025, 3, 21)],
                      "channel": ["Email", "Email"]})


def test_spend_of_range_rows_only_counts_whole_in_a_period_that_contains_the_range() -> None:
    tables = prepare({"spend": META})
    assert compute(tables, ["spend", "clicks", "cpc"]).row(0) == (185.0, 370, 0.5)
    assert compute(tables, ["spend"], period=Period(date(2025, 1, 1), date(2025, 12, 31))).item() == 185.0
    assert compute(tables, ["spend"], period=Period(date(2025, 2, 1), date(2025, 8, 4))).item() == 185.0
    assert compute(tables, ["spend"], period=Period(date(2025, 2, 2), date(2025, 12, 31))).item() == 0.0
    assert compute(tables, ["spend"], by=["channel"], period=Period(date(2025, 3, 1), date(2025, 3, 31))).is_empty()


def test_spend_of_range_rows_only_is_spread_over_its_days_at_a_grain() -> None:
    monthly = compute(prepare({"spend": META}), ["spend", "clicks"], grain="month")
    assert monthly["period"].to_list() == [date(2025, m, 1) for m in range(2, 9)]
    assert monthly["spend"].to_list() == pytest.approx([28.0, 31.0, 30.0, 31.0, 30.0, 31.0, 4.0])
    assert monthly["clicks"].to_list() == [56, 62, 60, 62, 60, 62, 8]  # 2 clicks a day
    inside = compute(prepare({"spend": META}), ["spend"], period=Period(date(2025, 8, 1), date(2025, 8, 31)),
                     grain="day")
    assert inside["spend"].to_list() == pytest.approx([1.0] * 4)


def test_traffic_with_daily_and_range_rows() -> None:
    tables = prepare({"traffic": TRAFFIC, "leads": LEADS})
    assert validate("traffic", TRAFFIC) == []
    assert compute(tables, ["sessions"]).item() == 7 + 5 + 9
    assert compute(tables, ["sessions"], period=Period(date(2025, 3, 1), date(2025, 3, 31))).item() == 21
    # the range Mar 1..3 is not inside Mar 2..31: only the daily row of Mar 20 counts
    assert compute(tables, ["sessions"], period=Period(date(2025, 3, 2), date(2025, 3, 31))).item() == 5
    daily = compute(tables, ["sessions"], period=Period(date(2025, 3, 1), date(2025, 3, 3)), grain="day")
    assert daily.rows() == [(date(2025, 3, 1), 7 + 3), (date(2025, 3, 2), 3), (date(2025, 3, 3), 3)]
    rate = compute(tables, ["session_to_lead"], by=["channel"], period=Period(date(2025, 3, 1), date(2025, 3, 31)))
    assert rate.rows() == [("Email", pytest.approx(2 / 21))]
    funnel = stage_funnel(tables, period=Period(date(2025, 3, 1), date(2025, 3, 31)))
    assert funnel.filter(pl.col("stage") == SESSIONS_STAGE)["count"].item() == 21


def test_traffic_of_range_rows_only() -> None:
    tables = prepare({"traffic": RANGE_ONLY_TRAFFIC})
    assert validate("traffic", RANGE_ONLY_TRAFFIC) == []
    assert compute(tables, ["sessions"], period=Period(date(2025, 3, 1), date(2025, 3, 3))).item() == 9
    assert compute(tables, ["sessions"], period=Period(date(2025, 3, 1), date(2025, 3, 2))).item() == 0
    # Mar 1..3 is Sat, Sun, Mon: two days in the week of Mon Feb 24, one in the week of Mon Mar 3
    assert compute(tables, ["sessions"], grain="week").rows() == [(date(2025, 2, 24), 6), (date(2025, 3, 3), 3)]
    assert compute(tables, ["sessions"], grain="day")["sessions"].to_list() == [3, 3, 3]


def test_has_range_rows() -> None:
    assert has_range_rows(META) and has_range_rows(TRAFFIC) and has_range_rows(RANGE_ONLY_TRAFFIC)
    assert not has_range_rows(TRAFFIC.filter(pl.col("date").is_not_null()))
    assert not has_range_rows(TRAFFIC.drop("period_start", "period_end"))
