"""Rows that cover a date range instead of a day (Meta and Google Ads UI exports, GA4 reports without a
Date column), in spend and traffic tables of their own or mixed with daily rows: they count whole in a
period that contains their range, not at all in one that does not, and are spread evenly over their days
at a grain. Every number below is worked out by hand."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime

import polars as pl
import pytest

from kpi.data import prepare
from kpi.funnel import SESSIONS_STAGE, stage_funnel
from kpi.metrics import compute, has_range_rows
from kpi.period import Period
from kpi.schema import validate
from kpi.sources.files import FileRefused, read_bytes
from kpi.sources.importer import import_raw, resolve
from ui.upload import needs_period

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


# --- GA4 downloads without a Date column ------------------------------------------------------------------

def ga4_file(preamble: list[str], header: str = "Landing page,Sessions,Active users",
             rows: tuple[str, ...] = ("/shop,845,811", "/,544,333", "(not set),113,64")) -> bytes:
    lines = ["# ----------------------------------------", "# Landing page: Landing page", "# Account: Demo",
             "# ----------------------------------------", "# ", "# All Users", *preamble, header, *rows]
    return ("\n".join(lines) + "\n").encode()


@pytest.mark.parametrize("preamble", [
    ["# Start date: 20250201", "# End date: 20250804"],
    ["# Startdatum: 20250201", "# Slutdatum: 20250804"],  # Swedish interface
    ["# Startdatum: 20250201", "# Enddatum: 20250804"],  # German interface
    ["# Дата начала: 20250201", "# Дата окончания: 20250804"],  # Russian interface
], ids=["en", "sv", "de", "ru"])
def test_ga4_report_without_date_imports_as_rows_covering_the_stated_range(preamble: list[str]) -> None:
    raw = read_bytes(ga4_file(preamble), "landing.csv")
    result = import_raw(raw, resolve(raw)[0])
    assert result.table == "traffic" and result.frame.height == 3
    assert result.frame["sessions"].sum() == 845 + 544 + 113
    assert result.frame.select("period_start", "period_end").unique().rows() == [(date(2025, 2, 1), date(2025, 8, 4))]
    tables = prepare({"traffic": result.frame})
    assert compute(tables, ["sessions"], period=Period(date(2025, 1, 1), date(2025, 12, 31))).item() == 1502
    assert compute(tables, ["sessions"], period=Period(date(2025, 3, 1), date(2025, 12, 31))).item() == 0


def test_ga4_exploration_range_line() -> None:
    raw = read_bytes(ga4_file(["# 20241122-20260120"]), "explore.csv")
    frame = import_raw(raw, resolve(raw)[0]).frame
    assert frame.select("period_start", "period_end").unique().rows() == [(date(2024, 11, 22), date(2026, 1, 20))]


def test_ga4_report_that_states_no_range_asks_for_it() -> None:
    raw = read_bytes(ga4_file([]), "landing.csv")
    mapping = resolve(raw)[0]
    assert needs_period(raw, mapping)
    with pytest.raises(FileRefused, match=r"landing.csv: .*traffic needs the days it covers.*--period"):
        import_raw(raw, mapping)
    given = import_raw(raw, replace(mapping, period=(date(2025, 3, 1), date(2025, 3, 31)))).frame
    assert given.select("period_start", "period_end").unique().rows() == [(date(2025, 3, 1), date(2025, 3, 31))]


def test_ga4_nth_day_report_is_dated_from_its_start_date() -> None:
    raw = read_bytes(ga4_file(["# Startdatum: 20250227", "# Slutdatum: 20250302"], "Nth day,Sessions",
                              ("0000,5", "0001,6", "0002,7", "0003,8")), "nth.csv")
    frame = import_raw(raw, resolve(raw)[0]).frame
    # 2025 is no leap year: day 2 after Feb 27 is Mar 1
    assert frame.select("date", "sessions").rows() == [(date(2025, 2, 27), 5), (date(2025, 2, 28), 6),
                                                       (date(2025, 3, 1), 7), (date(2025, 3, 2), 8)]
