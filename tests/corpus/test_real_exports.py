"""Every file of the real-exports corpus: imported with the right rows and totals excluded, or refused
with a message that says why. Expected counts and sums come from PROFILE.json and from re-reading each
file with the csv module (a different parser), never from the importer itself."""

from __future__ import annotations

import ast
import csv
import io
import json
import re
from datetime import date
from pathlib import Path

import pytest

from kpi.schema import validate
from kpi.sources.files import FileRefused, read_file
from kpi.sources.importer import ImportResult, import_raw, join, resolve

pytestmark = pytest.mark.corpus

TOTAL = re.compile(r"^\s*(total:|grand total)", re.IGNORECASE)
PERIOD = (date(2025, 1, 1), date(2025, 1, 31))


def profile(folder: Path, name: str) -> dict[str, object]:
    data: dict[str, dict[str, object]] = json.loads((folder / "PROFILE.json").read_text("utf-8"))
    return data[name]


def csv_rows(path: Path, prof: dict[str, object]) -> tuple[list[str], list[list[str]]]:
    """Header and data rows by the csv module, with blank rows and total rows left out."""
    enc = str(prof["encoding"])
    encoding = "utf-16" if enc.startswith("utf-16") else "utf-8-sig"
    delimiter = ast.literal_eval(str(prof["delimiter"]))
    rows = list(csv.reader(io.StringIO(path.read_text(encoding)), delimiter=delimiter))
    header = list(prof["header"])  # type: ignore[call-overload]
    start = next(i for i, r in enumerate(rows) if [c.strip() for c in r] == [h.strip() for h in header])
    data = [r for r in rows[start + 1:] if any(c.strip() for c in r)]
    data = [r for r in data if not any(TOTAL.match(c) for c in r[:4]) and "Grand total" not in r]
    return header, data


def number(text: str) -> float:
    text = text.strip().replace(",", "")
    return 0.0 if text in ("", "--") else float(text)


def imported(path: Path, period: tuple[date, date] | None = None) -> ImportResult:
    raw = read_file(path)
    mapping, _ = resolve(raw)
    if period:
        mapping.period = period
    result = import_raw(raw, mapping)
    assert [p for p in validate(result.table, result.frame) if p.severity == "error"] == []
    return result


def column(header: list[str], rows: list[list[str]], name: str) -> list[str]:
    i = header.index(name)
    return [r[i] for r in rows]


# --- CRM ---------------------------------------------------------------------------------------------

def test_amocrm(shared_dir: Path) -> None:
    folder = shared_dir / "real-exports" / "amocrm_export_anonymized"
    for name, missing_ids in (("amocrm_leads_test.csv", 1), ("amocrm_contacts_test.csv", 0)):
        prof = profile(folder, name)
        _, rows = csv_rows(folder / name, prof)
        r = imported(folder / name)
        assert r.table == "leads"
        assert r.report.rows_read == prof["n_data_rows_parsed"] == len(rows)
        assert r.frame.height == len(rows) - missing_ids
    leads = imported(folder / "amocrm_leads_test.csv").frame
    header, rows = csv_rows(folder / "amocrm_leads_test.csv", profile(folder, "amocrm_leads_test.csv"))
    stages = column(header, rows, "Этап сделки")
    ids = column(header, rows, "ID")
    won = {i for i, s in zip(ids, stages, strict=True) if s == "Успешно реализовано" and i}
    lost = {i for i, s in zip(ids, stages, strict=True) if s == "Закрыто и не реализовано" and i}
    assert set(leads.filter(leads["won_at"].is_not_null())["lead_id"]) == won
    assert set(leads.filter(leads["lost_at"].is_not_null())["lead_id"]) == lost
    budgets = [number(b) for i, b in zip(ids, column(header, rows, "Бюджет "), strict=True) if i]
    assert leads["amount"].fill_null(0).sum() == pytest.approx(sum(budgets))


def test_hubspot_contacts(shared_dir: Path) -> None:
    folder = shared_dir / "real-exports" / "hubspot_contacts_export_redacted"
    name = "all-contacts_REDACTED.csv"
    prof = profile(folder, name)
    header, rows = csv_rows(folder / name, prof)
    r = imported(folder / name)
    assert r.frame.height == prof["n_data_rows_parsed"] == len(rows) == 1001
    mql = column(header, rows, 'Date entered "Marketing Qualified Lead (Lifecycle Stage Pipeline)"')
    assert r.frame["mql_at"].is_not_null().sum() == sum(1 for v in mql if v.strip())
    sources = column(header, rows, "Original Traffic Source")
    assert r.frame["channel"].value_counts().sort("channel").rows() == sorted(
        (s, sources.count(s)) for s in set(sources))


def test_olist_join(shared_dir: Path) -> None:
    folder = shared_dir / "real-exports" / "olist_marketing_funnel"
    mql_path = folder / "olist_marketing_qualified_leads_dataset.csv"
    deals_path = folder / "olist_closed_deals_dataset.csv"
    mql_prof, deals_prof = profile(folder, mql_path.name), profile(folder, deals_path.name)
    alone = imported(mql_path)
    assert alone.frame.height == mql_prof["n_data_rows_parsed"] == 8000
    with pytest.raises(FileRefused, match="join"):
        imported(deals_path)
    mql, deals = read_file(mql_path), read_file(deals_path)
    r = join((mql, resolve(mql)[0]), (deals, resolve(deals)[0]))
    # SOURCE.txt: all 842 deals join; one deal was won before the lead's first contact (a whole day earlier)
    _, mql_rows = csv_rows(mql_path, mql_prof)
    _, deal_rows = csv_rows(deals_path, deals_prof)
    first = {row[0]: row[1] for row in mql_rows}
    early = [d[0] for d in deal_rows if d[4][:10] < first[d[0]]]
    assert len(early) == 1
    assert r.frame.height == 8000 - 1
    assert r.frame["won_at"].is_not_null().sum() == deals_prof["n_data_rows_parsed"] - 1 == 841
    assert early[0] not in set(r.frame["lead_id"])
    # 8,000 + 842 rows read = 7,999 accepted + 1 rejected + 842 deals joined into their leads' rows
    assert (r.report.rows_read, r.report.rows_rejected, r.report.rows_joined) == (8842, 1, 842)


# --- ad platforms --------------------------------------------------------------------------------------

ADS = [
    ("google_ads_ui_exports", "1123alberto_Campaign_report_EUR_greek.csv", None),
    ("google_ads_ui_exports", "DanielTheC_Campaign report (1)_GBP.csv", None),
    ("google_ads_ui_exports", "VishalMotling_Campaign_report.csv", None),
    ("google_ads_ui_exports", "intragoinc_Ad_report-22nd_Jan.csv", None),
    ("google_ads_ui_exports", "intragoinc_Campaign_report.csv", "All time"),
    ("google_ads_ui_exports_utf16", "DanielTheC_Campaign report_GBP.csv", None),
    ("google_ads_ui_exports_utf16", "vida_Ad group report.csv", "All time"),
    ("google_ads_ui_exports_utf16", "vida_Location report.csv", "All time"),
    ("google_ads_ui_exports_utf16", "vida_Search keyword report.csv", "All time"),
]


@pytest.mark.parametrize(("folder_name", "name", "range_text"), ADS)
def test_google_ads_reports(shared_dir: Path, folder_name: str, name: str, range_text: str | None) -> None:
    folder = shared_dir / "real-exports" / folder_name
    prof = profile(folder, name)
    header, rows = csv_rows(folder / name, prof)
    if range_text:
        with pytest.raises(FileRefused, match=range_text):
            imported(folder / name)
        r = imported(folder / name, PERIOD)
        assert r.frame["period_start"].unique().to_list() == [PERIOD[0]]
    else:
        r = imported(folder / name)
        title = prof["title_lines_before_header"][1]  # type: ignore[index]
        assert r.frame["period_start"].n_unique() == 1 and str(r.frame["period_end"][0].year) in str(title)
    assert r.table == "spend" and r.frame.height == len(rows)
    assert r.report.rows_read == prof["n_data_rows_parsed"]  # totals are read, then excluded
    assert r.frame["spend"].sum() == pytest.approx(sum(number(c) for c in column(header, rows, "Cost")))
    assert r.frame["impressions"].sum() == sum(int(number(c)) for c in column(header, rows, "Impr."))


def test_google_ads_campaign_total_row_matches_the_rows(shared_dir: Path) -> None:
    """The export's own 'Total: Campaigns' row equals the sum of the imported rows."""
    path = shared_dir / "real-exports" / "google_ads_ui_exports" / "intragoinc_Campaign_report.csv"
    rows = list(csv.reader(io.StringIO(path.read_text("utf-8"))))
    header = rows[2]
    total = next(r for r in rows if r[0] == "Total: Campaigns")
    r = imported(path, PERIOD)
    assert r.frame["spend"].sum() == pytest.approx(number(total[header.index("Cost")]))
    assert r.frame["clicks"].sum() == int(number(total[header.index("Clicks")]))


def test_google_ads_editor_export_is_refused(shared_dir: Path) -> None:
    folder = shared_dir / "real-exports" / "google_ads_editor_export_utf16"
    with pytest.raises(FileRefused, match=r"Google Ads Editor export.*not performance"):
        imported(folder / "Cal Preserving+Current view+2026-01-16- Campaign.csv")


@pytest.mark.parametrize("breakdown", ["Age", "Device", "Gender", "Reach", "Region"])
def test_meta_ads_manager(shared_dir: Path, breakdown: str) -> None:
    folder = shared_dir / "real-exports" / "meta_ads_manager_exports"
    name = f"Teefusion_Untitled-report-Feb-1-2025-to-Aug-4-2025_{breakdown}.csv"
    prof = profile(folder, name)
    header, rows = csv_rows(folder / name, prof)
    account_total = rows[0]
    assert account_total[0] == ""  # SOURCE.txt: the first data row is the account total
    r = imported(folder / name)
    assert r.frame.height == len(rows) - 1 == int(prof["n_data_rows_parsed"]) - 1  # type: ignore[call-overload]
    spent = header.index("Amount spent (INR)")
    assert r.frame["spend"].sum() == pytest.approx(sum(number(x[spent]) for x in rows[1:]))
    assert r.frame["spend"].sum() == pytest.approx(number(account_total[spent]), abs=1.0)
    assert r.frame["period_start"].unique().to_list() == [date(2025, 2, 1)]
    assert r.frame["period_end"].unique().to_list() == [date(2025, 8, 4)]
    assert set(r.frame["currency"]) == {"INR"}


def test_meta_export_without_data(shared_dir: Path) -> None:
    path = shared_dir / "real-exports" / "meta_ads_manager_exports" / \
        "DanielTheC_Daniel-Conlan-Campaigns-1-Sep-202430-Sep-2024.csv"
    with pytest.raises(FileRefused, match=r"no data rows.*No data available"):
        imported(path)


@pytest.mark.parametrize("name", ["KAG_conversion_data.csv", "KAG_conversion_data.xlsx"])
def test_facebook_ad_level_totals_need_a_period(shared_dir: Path, name: str) -> None:
    folder = shared_dir / "real-exports" / "fb_kag_conversion"
    prof = profile(folder, "KAG_conversion_data.csv")
    header, rows = csv_rows(folder / "KAG_conversion_data.csv", prof)
    with pytest.raises(FileRefused, match="give the period"):
        imported(folder / name)
    r = imported(folder / name, PERIOD)
    assert r.frame.height == prof["n_data_rows_parsed"] == 1143
    assert r.frame["spend"].sum() == pytest.approx(sum(float(x) for x in column(header, rows, "Spent")))
    assert r.frame["campaign"].value_counts().sort("campaign").rows() == [("1178", 625), ("916", 54), ("936", 464)]


# --- analytics -----------------------------------------------------------------------------------------

GA4 = ["DanielTheC_Events_Event_name.csv", "DanielTheC_Pages_and_screens_Page_path_and_screen_class (1).csv",
       "DanielTheC_explore_download (3).csv", "DanielTheC_explore_freeform_download (2).csv",
       "Teefusion_Events_Event_name.csv", "Teefusion_Landing_page_Landing_page.csv",
       "Teefusion_User_acquisition_First_user_primary_channel_group_(Default_Channel_Group).csv",
       "canadablog_User_acquisition_First_user_primary_channel_group_(Default_Channel_Group) (1).csv"]


#: GA4 downloads with Sessions and no Date column, and the range their '#' lines state
GA4_RANGES = {"Teefusion_Landing_page_Landing_page.csv": (date(2025, 2, 1), date(2025, 8, 4)),  # Start/End date
              "DanielTheC_explore_freeform_download (2).csv": (date(2024, 11, 22), date(2026, 1, 20))}  # 20241122-..


@pytest.mark.parametrize("name", GA4)
def test_ga4_reports_without_a_date_import_as_range_rows_or_are_refused(shared_dir: Path, name: str) -> None:
    folder = shared_dir / "real-exports" / "ga4_report_exports"
    prof = profile(folder, name)
    header, rows = csv_rows(folder / name, prof)
    raw = read_file(folder / name)
    assert raw.n_rows == len(rows)  # Explore's grand-total row (one extra field) is not data
    assert raw.detected.period is not None
    if name not in GA4_RANGES:  # no Sessions column: nothing to count as traffic
        with pytest.raises(FileRefused, match=r"Sessions"):
            imported(folder / name)
        return
    r = imported(folder / name)
    assert r.table == "traffic" and r.frame.height == len(rows) and "date" not in r.frame.columns
    assert r.frame["sessions"].sum() == sum(int(c) for c in column(header, rows, "Sessions"))
    assert r.frame.select("period_start", "period_end").unique().rows() == [GA4_RANGES[name]]
    assert any("each row covers" in w for w in r.report.warnings)


def test_ga4_multi_table_export(shared_dir: Path) -> None:
    path = shared_dir / "real-exports" / "ga4_report_exports" / "DanielTheC_data-export_multisection.csv"
    raw = read_file(path)
    assert len(raw.detected.parts) == 18  # SOURCE.txt: 18 tables
    assert raw.columns == ["Nth day", "Users", "Date"]
    assert raw.frame["Date"][0] == "2022-06-01" and raw.frame["Date"][-1] == "2023-11-26"  # Start/End date lines
    last = read_file(path, part=17)
    assert last.columns == ["Country", "Users"]
    with pytest.raises(FileRefused, match="Sessions"):
        imported(path)


@pytest.mark.parametrize("name", ["1123alberto_dentplant_Chart.csv", "DanielTheC_Chart_daily_2025.csv"])
def test_search_console_chart(shared_dir: Path, name: str) -> None:
    folder = shared_dir / "real-exports" / "google_search_console_export"
    prof = profile(folder, name)
    header, rows = csv_rows(folder / name, prof)
    r = imported(folder / name)
    assert r.table == "traffic" and r.frame.height == len(rows) == prof["n_data_rows_parsed"]
    assert r.frame["sessions"].sum() == sum(int(c) for c in column(header, rows, "Clicks"))
    assert any("Search Console clicks" in w for w in r.report.warnings)


@pytest.mark.parametrize(("name", "message"), [
    ("1123alberto_dentplant_Countries.csv", "no dates"), ("1123alberto_dentplant_Devices.csv", "no dates"),
    ("1123alberto_dentplant_Pages.csv", "no dates"), ("1123alberto_dentplant_Queries.csv", "no dates"),
    ("1123alberto_dentplant_Filters.csv", "not an export format"),
    ("1123alberto_dentplant_Search appearance.csv", "no data rows"),
])
def test_search_console_tables_without_dates_are_refused(shared_dir: Path, name: str, message: str) -> None:
    with pytest.raises(FileRefused, match=message):
        imported(shared_dir / "real-exports" / "google_search_console_export" / name)


def test_bank_marketing_is_not_an_export(shared_dir: Path) -> None:
    with pytest.raises(FileRefused, match="not an export format"):
        imported(shared_dir / "real-exports" / "uci_bank_marketing" / "bank.csv")


def test_every_corpus_file_is_covered(shared_dir: Path) -> None:
    covered = {"amocrm_leads_test.csv", "amocrm_contacts_test.csv", "all-contacts_REDACTED.csv",
               "olist_marketing_qualified_leads_dataset.csv", "olist_closed_deals_dataset.csv",
               "Cal Preserving+Current view+2026-01-16- Campaign.csv",
               "DanielTheC_Daniel-Conlan-Campaigns-1-Sep-202430-Sep-2024.csv", "KAG_conversion_data.csv",
               "KAG_conversion_data.xlsx", "DanielTheC_data-export_multisection.csv", "bank.csv",
               "1123alberto_dentplant_Countries.csv", "1123alberto_dentplant_Devices.csv",
               "1123alberto_dentplant_Pages.csv", "1123alberto_dentplant_Queries.csv",
               "1123alberto_dentplant_Filters.csv", "1123alberto_dentplant_Search appearance.csv",
               "1123alberto_dentplant_Chart.csv", "DanielTheC_Chart_daily_2025.csv",
               *(n for _, n, _ in ADS), *GA4,
               *(f"Teefusion_Untitled-report-Feb-1-2025-to-Aug-4-2025_{b}.csv"
                 for b in ("Age", "Device", "Gender", "Reach", "Region"))}
    files = {p.name for p in (shared_dir / "real-exports").glob("*/*") if p.name not in ("PROFILE.json", "SOURCE.txt")}
    assert files == covered
