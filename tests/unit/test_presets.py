"""Each preset on a small fixture: which table, which rows, which numbers (worked out from the files)."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest

from kpi.schema import validate
from kpi.sources.files import read_file
from kpi.sources.importer import ImportRefused, ImportResult, import_raw, resolve

FIX = Path(__file__).resolve().parent.parent / "fixtures" / "uploads"


def load(name: str, **options: object) -> ImportResult:
    raw = read_file(FIX / name, **options)
    mapping, _ = resolve(raw)
    result = import_raw(raw, mapping)
    assert [p for p in validate(result.table, result.frame) if p.severity == "error"] == []
    return result


def test_swedish_google_ads_daily() -> None:
    r = load("swedish_google_ads_daily.csv")
    assert r.table == "spend" and r.report.preset.startswith("Google Ads")
    # 1 234,50 + 310,25 + 1 500,00; the ' --' row has no cost and is rejected, the Totalt row excluded
    assert r.frame["spend"].sum() == pytest.approx(3044.75)
    assert r.frame["impressions"].to_list() == [1204, 800, 2010]
    assert r.frame["date"].to_list() == [date(2025, 3, 1), date(2025, 3, 1), date(2025, 3, 2)]
    assert set(r.frame["currency"]) == {"SEK"} and set(r.frame["channel"]) == {"Google Ads"}
    assert (r.report.rows_read, r.report.rows_accepted, r.report.rows_rejected) == (5, 3, 1)
    assert [i.rows for i in r.report.issues] == [(4,)]


def test_google_ads_utf16_daily_totals_excluded() -> None:
    r = load("google_ads_daily_utf16le.csv")
    assert r.frame["spend"].sum() == pytest.approx(45.10 + 51.25 + 30.00)
    assert r.frame["impressions"].sum() == 1200 + 1350 + 980
    assert r.frame["platform_conversions"].sum() == 8.0


def test_meta_account_total_row_and_currency_in_header() -> None:
    r = load("meta_daily_total_row.csv")
    assert r.frame["spend"].sum() == pytest.approx(1000.25 + 1100.50 + 400.00)  # not the 2500.75 total
    assert set(r.frame["currency"]) == {"SEK"} and set(r.frame["channel"]) == {"Meta"}
    assert r.frame["clicks"].to_list() == [300, 350, 250]  # link clicks
    assert any("account total" in t for t in r.report.totals_excluded)


def test_linkedin_month_first_dates() -> None:
    r = load("linkedin_campaigns_utf16be.csv")
    assert r.frame["date"].to_list() == [date(2025, 1, 13), date(2025, 1, 14), date(2025, 1, 14)]
    assert r.frame["spend"].sum() == pytest.approx(260.0) and set(r.frame["channel"]) == {"LinkedIn"}
    assert r.frame["campaign_group"].to_list() == ["Q1 ABM"] * 3


def test_ga4_traffic_with_date_dimension() -> None:
    r = load("ga4_traffic_daily.csv")
    assert r.table == "traffic"
    assert r.frame["sessions"].sum() == 350 and r.frame["engaged_sessions"].sum() == 220
    assert r.frame["revenue"].sum() == pytest.approx(120.5)
    assert r.frame["channel"].to_list() == ["Organic Search", "Paid Search", "Organic Search", "Direct"]


def test_amocrm_cp1251_stage_dates() -> None:
    r = load("amocrm_leads_cp1251.csv")
    f = r.frame.sort("lead_id")
    assert f["amount"].to_list() == [15000.5, 8200.0, None, 4999.99]
    assert f["won_at"].to_list() == [datetime(2025, 2, 10, 18), None, None, datetime(2025, 2, 20, 16, 45)]
    assert f["lost_at"].to_list() == [None, datetime(2025, 2, 12, 10, 30), None, None]
    assert f["created_at"][2] == datetime(2025, 2, 5, 8, 5)  # unpadded hour
    assert f["campaign"].to_list() == ["vorota_feb", "vorota_feb", None, "shlagbaum"]
    # deal 104 is won but 'не закрыта': its date is the last-modified one, reported as approximate
    approx = [i for i in r.report.issues if not i.rejected]
    assert len(approx) == 1 and approx[0].rows == (4,) and "last modified" in approx[0].reason


def test_bitrix24_koi8r_deals() -> None:
    r = load("bitrix24_deals_koi8r.csv")
    assert r.frame["amount"].sum() == pytest.approx(120000 + 45000.5 + 300000)
    assert r.frame["won_at"].drop_nulls().to_list() == [datetime(2025, 3, 15, 17)]
    assert r.frame["lost_at"].drop_nulls().to_list() == [datetime(2025, 3, 5, 9)]


def test_salesforce_opportunities_with_grand_total_and_footer() -> None:
    r = load("salesforce_opportunities.csv")
    assert r.frame.height == 3 and r.frame["amount"].sum() == pytest.approx(24500.0)
    assert r.frame["won_at"].drop_nulls().to_list() == [datetime(2025, 2, 15)]
    assert r.frame["opportunity_at"].to_list() == r.frame["created_at"].to_list()
    assert len(r.report.totals_excluded) == 3


def test_salesforce_leads_ambiguous_dates_are_reported_and_can_be_chosen() -> None:
    r = load("salesforce_leads_ambiguous_dates.csv")
    assert r.report.ambiguous_dates and "Create Date" in r.report.ambiguous_dates[0]
    assert r.frame["created_at"][0] == datetime(2025, 4, 3)  # read day-first until told otherwise
    raw = read_file(FIX / "salesforce_leads_ambiguous_dates.csv")
    mapping, _ = resolve(raw)
    mapping.dayfirst = False
    month_first = import_raw(raw, mapping)
    assert month_first.frame["created_at"][0] == datetime(2025, 3, 4)
    assert month_first.report.ambiguous_dates == []


def test_pipedrive_deals() -> None:
    r = load("pipedrive_deals.csv")
    assert r.frame["amount"].sum() == 15000.0
    assert r.frame["won_at"].drop_nulls().to_list() == [datetime(2025, 2, 1, 12)]
    assert r.frame["lost_at"].drop_nulls().to_list() == [datetime(2025, 1, 20, 16)]


def test_hubspot_deals_in_the_second_sheet_of_a_workbook() -> None:
    r = load("hubspot_deals_two_sheets.xlsx")
    assert r.frame["lead_id"].to_list() == ["9001", "9002", "9003"]
    assert r.frame["amount"].sum() == pytest.approx(4500.5)
    assert r.frame["won_at"].to_list() == [datetime(2025, 2, 1, 12), None, None]
    assert r.frame["lost_at"].to_list() == [None, datetime(2025, 1, 30, 8), None]


def test_unknown_format_is_refused_with_what_to_do() -> None:
    with pytest.raises(ImportRefused, match="map its columns"):
        load("generic_leads_pipe.txt")
