"""The importer: report, custom mappings and their store, joins, and the `python -m kpi import` command."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date, datetime
from pathlib import Path

import polars as pl
import pytest

from kpi.sources.files import read_bytes, read_file
from kpi.sources.importer import ImportRefused, import_raw, join, resolve
from kpi.sources.mapping import Mapping, MappingStore, shape_key, suggest

FIX = Path(__file__).resolve().parent.parent / "fixtures" / "uploads"
REPO = Path(__file__).resolve().parent.parent.parent


def test_suggestions_for_a_swedish_file_and_the_custom_mapping() -> None:
    raw = read_file(FIX / "generic_leads_pipe.txt")
    assert raw.detected.separator == "|" and raw.detected.decimal == ","
    guess = suggest(raw.frame, "leads", raw.columns, raw.detected.decimal)
    assert guess["created_at"] == "Skapad" and guess["channel"] == "Kanal" and guess["amount"] == "Värde"
    mapping = Mapping("leads", {**guess, "lead_id": "Kund-ID"})
    result = import_raw(raw, mapping)
    assert result.frame["created_at"].to_list() == [datetime(2025, 1, 2), datetime(2025, 1, 3), datetime(2025, 1, 5)]
    assert result.frame["amount"].to_list() == [1000.5, 250.0, None]


def test_saved_mapping_is_found_by_header_shape() -> None:
    store = MappingStore()  # remembered in this session
    raw = read_file(FIX / "generic_leads_pipe.txt")
    with pytest.raises(ImportRefused):
        resolve(raw, store=store)
    store.save(raw.columns, Mapping("leads", {"lead_id": "Kund-ID", "created_at": "Skapad"}, label="Kundlista"))
    # same columns in another order and case: same shape
    other = read_bytes("skapad|KUND-ID|Värde|Kanal\n2025.02.01|K9|5|E-post\n".encode(), "next.txt")
    assert shape_key(other.columns) == shape_key(raw.columns)
    mapping, preset = resolve(other, store=store)
    assert preset is None and mapping.label == "Kundlista"
    result = import_raw(other, Mapping(mapping.table, {"lead_id": "KUND-ID", "created_at": "skapad"}))
    assert result.frame["lead_id"].to_list() == ["K9"]


def test_report_lists_rejected_rows_duplicates_and_ignored_columns() -> None:
    text = ("id,created,amount,note\n1,2025-01-01,10,a\n2,not a date,20,b\n3,2025-01-03,-5,c\n"
            "1,2025-01-01,10,a\n4,2025-01-04,x,d\n3,2025-01-05,7,e\n")
    raw = read_bytes(text.encode(), "crm.csv")
    r = import_raw(raw, Mapping("leads", {"lead_id": "id", "created_at": "created", "amount": "amount"}))
    reasons = {i.reason.split(" (")[0] if i.reason.startswith("'") else i.reason: i.rows for i in r.report.issues}
    assert reasons["'created'"] == (2,)
    assert reasons["amount is negative"] == (3,)
    assert reasons["exact copy of an earlier row"] == (4,)
    assert reasons["'amount'"] == (5,)  # not a number: kept, amount left empty
    assert r.frame["lead_id"].to_list() == ["1", "4", "3"]  # row 6 reuses id 3 whose row 3 was rejected
    assert r.report.rows_read == 6 and r.report.rows_accepted == 3 and r.report.rows_rejected == 3
    assert r.report.columns_ignored == ["note"] and r.report.duplicates == 1
    assert r.report.date_range == ("2025-01-01", "2025-01-05")


def test_range_rows_take_the_period_from_the_title_or_the_user() -> None:
    text = ("Campaign report\nAll time\nCampaign,Cost,Impr.,Clicks\nA,10.50,100,5\nB,4.50,50,2\n"
            "Total: Campaigns,15.00,150,7\n")
    raw = read_bytes(text.encode(), "ads.csv")
    mapping, _ = resolve(raw)
    with pytest.raises(ImportRefused, match="All time"):
        import_raw(raw, mapping)
    mapping.period = (date(2025, 1, 1), date(2025, 1, 31))
    r = import_raw(raw, mapping)
    assert r.frame["period_start"].to_list() == [date(2025, 1, 1)] * 2 and "date" not in r.frame.columns
    assert r.frame["spend"].sum() == 15.0


def test_join_mqls_with_closed_deals() -> None:
    mql = read_bytes(b"mql_id,first_contact_date,landing_page_id,origin\nm1,2018-01-02,p1,organic_search\n"
                     b"m2,2018-01-05,p2,paid_search\nm3,2018-02-01,p1,unknown\n", "mql.csv")
    deals = read_bytes(b"mql_id,seller_id,sdr_id,sr_id,won_date,business_segment\n"
                       b"m2,s1,d1,r1,2018-03-01 10:00:00,pet\nm3,s2,d1,r2,2018-01-15 09:00:00,toys\n"
                       b"m9,s3,d2,r1,2018-04-01 00:00:00,pet\nm2,s4,d2,r2,2018-05-01 00:00:00,toys\n", "deals.csv")
    r = join((mql, resolve(mql)[0]), (deals, resolve(deals)[0]))
    f = r.frame.sort("lead_id")
    assert f["lead_id"].to_list() == ["m1", "m2"]  # m3 won before its first contact: rejected
    assert f["won_at"].to_list() == [None, datetime(2018, 3, 1, 10)]
    assert f["owner"].to_list() == [None, "r1"] and f["segment"].to_list() == [None, "pet"]
    assert f["channel"].to_list() == ["organic_search", "paid_search"]
    rows = {(i.file, i.reason): i.rows for i in r.report.issues}
    assert rows[("deals.csv", "no row with this lead_id in mql.csv")] == (3,)
    assert rows[("mql.csv", "won_at is before created_at")] == (3,)
    assert rows[("deals.csv", "lead_id repeats an earlier row (first kept)")] == (4,)
    # every row read accounted once: 3 leads + 4 deals = m1, m2 accepted + m3 (lead), m9, the second m2
    # (deals) rejected + the deals of m2 and m3 joined into their leads' rows
    rep = r.report
    assert (rep.rows_read, rep.rows_accepted, rep.rows_rejected, rep.rows_joined) == (7, 2, 3, 2)
    assert rep.to_dict()["rows_joined"] == 2 and "joined into other rows: 2" in rep.lines()[3]


def test_closed_deals_alone_say_to_join() -> None:
    deals = read_bytes(b"mql_id,won_date\nm2,2018-03-01 10:00:00\n", "deals.csv")
    with pytest.raises(ImportRefused, match="join"):
        import_raw(deals, resolve(deals)[0])


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "kpi", "import", *args], cwd=REPO, capture_output=True,
                          text=True, timeout=120)


def test_cli_writes_the_table_and_prints_json(tmp_path: Path) -> None:
    out = tmp_path / "data"
    proc = run_cli(str(FIX / "swedish_google_ads_daily.csv"), "--out", str(out), "--format", "json")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert (report["table"], report["rows_accepted"], report["rows_rejected"]) == ("spend", 3, 1)
    assert report["rejected"][0]["rows"] == [4]
    assert pl.read_parquet(out / "spend.parquet")["spend"].sum() == pytest.approx(3044.75)
    again = run_cli(str(FIX / "google_ads_daily_utf16le.csv"), "--out", str(out), "--append")
    assert again.returncode == 0, again.stderr
    assert pl.read_parquet(out / "spend.parquet").height == 6


def test_cli_period_and_custom_map(tmp_path: Path) -> None:
    proc = run_cli(str(FIX / "generic_leads_pipe.txt"), "--table", "leads", "--map", "lead_id=Kund-ID",
                   "--map", "created_at=Skapad", "--out", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    assert pl.read_parquet(tmp_path / "leads.parquet")["lead_id"].to_list() == ["K1", "K2", "K3"]


@pytest.mark.parametrize(("name", "message"), [
    ("html_saved_as.csv", "web page"), ("empty.csv", "empty"), ("zip_bomb.xlsx", "zip bomb"),
    ("generic_leads_pipe.txt", "not an export format I recognise"),
])
def test_cli_refuses_with_exit_code_2(name: str, message: str) -> None:
    proc = run_cli(str(FIX / name))
    assert proc.returncode == 2 and message in proc.stderr and name in proc.stderr
