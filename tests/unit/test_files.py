"""The reader: encodings, separators, decimal marks, preambles, totals and refusals."""

from __future__ import annotations

import io
import zipfile
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kpi.sources.files import ROW, FileRefused, detect_encoding, read_bytes, read_file
from kpi.sources.values import parse_dates, parse_number, parse_range

FIX = Path(__file__).resolve().parent.parent / "fixtures" / "uploads"


def numbers(values: list[str], decimal: str = ".") -> list[float | None]:
    return pl.DataFrame({"v": values}).select(parse_number(pl.col("v"), decimal).alias("v"))["v"].to_list()


def test_numbers_in_export_spellings() -> None:
    assert numbers(["1\u00a0234,56", "2,60%", "< 10%", " --", "n/a", "(not set)", "12 000", "€ 5,5"], ",") == [
        1234.56, 0.026, 0.10, None, None, None, 12000.0, 5.5]
    assert numbers(['2,472,851', "4,838.80", "1.16%", "> 90%", "unknown", "$1,200.50"]) == [
        2472851.0, 4838.8, 0.0116, 0.90, None, 1200.5]


def test_dates_in_every_written_form() -> None:
    def one(values: list[str]) -> list[datetime | None]:
        parsed = parse_dates(pl.Series(values))
        assert parsed is not None
        return parsed.values.to_list()

    assert one(["22.03.2022 13:32:57", "1.2.2024 9:05:00"]) == [datetime(2022, 3, 22, 13, 32, 57),
                                                               datetime(2024, 2, 1, 9, 5)]
    assert one(["20250201", "20251231"]) == [datetime(2025, 2, 1), datetime(2025, 12, 31)]
    assert one(["2024.03.05"]) == [datetime(2024, 3, 5)]
    assert one(["2025-01-02 07:30", "2025-01-03"])[0] == datetime(2025, 1, 2, 7, 30)
    assert one(["45658", "45659"]) == [datetime(2025, 1, 1), datetime(2025, 1, 2)]  # Excel serials
    assert one(["13/01/2025", "02/01/2025"]) == [datetime(2025, 1, 13), datetime(2025, 1, 2)]  # 13 → day first
    assert one(["01/13/2025", "01/02/2025"]) == [datetime(2025, 1, 13), datetime(2025, 1, 2)]  # 13 → month first


def test_day_month_order_that_values_cannot_tell_is_ambiguous() -> None:
    parsed = parse_dates(pl.Series(["03/04/2025", "05/06/2025"]))
    assert parsed is not None and parsed.ambiguous
    month_first = parse_dates(pl.Series(["03/04/2025"]), dayfirst=False)
    assert month_first is not None and not month_first.ambiguous
    assert month_first.values.to_list() == [datetime(2025, 3, 4)]
    assert parse_dates(pl.Series(["Paid Search", "Direct"])) is None


def test_date_ranges_written_in_titles() -> None:
    assert parse_range('"July 8, 2025 - July 31, 2025"') == (date(2025, 7, 8), date(2025, 7, 31))
    assert parse_range("27 January 2026 - 23 February 2026") == (date(2026, 1, 27), date(2026, 2, 23))
    assert parse_range("# 20251213-20260312") == (date(2025, 12, 13), date(2026, 3, 12))
    assert parse_range("All time") is None


@pytest.mark.parametrize(("text", "encoding"), [
    ("Дата;Сумма\n01.02.2025;1 000,5\n".encode("cp1251"), "cp1251"),
    ("Дата;Сумма\n01.02.2025;1 000,5\n".encode("koi8-r"), "koi8-r"),
    ("Datum;Kostnad;Kampanj\n2025-01-01;12,5;Vår\n".encode("cp1252"), "cp1252"),
    (b"\xff\xfe" + "a\tb\n1\t2\n".encode("utf-16-le"), "utf-16-le"),
    (b"\xfe\xff" + "a\tb\n1\t2\n".encode("utf-16-be"), "utf-16-be"),
    ("a\tb\n1\t2\n".encode("utf-16-le"), "utf-16-le"),
    (b"\xef\xbb\xbfa,b\n1,2\n", "utf-8"),
])
def test_encoding_detection(text: bytes, encoding: str) -> None:
    assert detect_encoding(text)[0] == encoding


def test_swedish_semicolon_decimal_comma_cp1252_with_total_row() -> None:
    raw = read_file(FIX / "swedish_google_ads_daily.csv")
    d = raw.detected
    assert (d.encoding, d.separator, d.decimal) == ("cp1252", ";", ",")
    assert raw.columns == ["Dag", "Kampanj", "Visningar", "Klick", "Kostnad", "Valutakod"]
    assert raw.frame["Kampanj"].to_list() == ["Vårkampanj", "Sök Märke", "Vårkampanj", "Sök Märke"]
    assert [e.row for e in raw.excluded] == [5] and raw.excluded[0].text.startswith("Totalt: Kampanjer")
    assert d.preamble == ("Kampanjrapport",)


def test_cp1251_russian_headers_and_koi8r() -> None:
    raw = read_file(FIX / "amocrm_leads_cp1251.csv")
    assert raw.detected.encoding == "cp1251" and "Дата создания сделки" in raw.columns
    assert "Бюджет" in raw.columns  # the header's trailing space is trimmed
    koi = read_file(FIX / "bitrix24_deals_koi8r.csv")
    assert koi.detected.encoding == "koi8-r" and koi.frame["Стадия сделки"][0] == "Сделка успешна"


def test_utf16_title_lines_and_total_rows() -> None:
    raw = read_file(FIX / "google_ads_daily_utf16le.csv")
    assert (raw.detected.encoding, raw.detected.separator) == ("utf-16-le", "\t")
    assert raw.detected.period == (date(2025, 3, 1), date(2025, 3, 3))
    assert raw.n_rows == 3 and len(raw.excluded) == 2
    assert raw.frame[ROW].to_list() == [1, 2, 3]
    be = read_file(FIX / "linkedin_campaigns_utf16be.csv")
    assert be.detected.encoding == "utf-16-be" and be.detected.period == (date(2025, 1, 1), date(2025, 1, 31))


def test_ga4_preamble_gives_the_period() -> None:
    raw = read_file(FIX / "ga4_traffic_daily.csv")
    assert raw.detected.period == (date(2025, 3, 1), date(2025, 3, 2))
    assert raw.columns[0] == "Date" and raw.n_rows == 4


def test_footers_after_a_grand_total_are_not_data() -> None:
    raw = read_file(FIX / "salesforce_opportunities.csv")
    assert raw.n_rows == 3
    assert [e.reason for e in raw.excluded] == ["total row", "footer note", "footer note"]


def test_multi_table_csv_offers_each_section() -> None:
    text = ("# Report\n# Start date: 20250101\n# End date: 20250103\nNth day,Users\n0000,5\n0001,7\n0002,9\n"
            "\n# Where from?\n# Start date: 20250101\n# End date: 20250103\nCountry,Users\nSE,12\nNO,9\n")
    first = read_bytes(text.encode(), "multi.csv")
    assert len(first.detected.parts) == 2 and first.n_rows == 3
    assert first.frame["Date"].to_list() == ["2025-01-01", "2025-01-02", "2025-01-03"]
    second = read_bytes(text.encode(), "multi.csv", part=1)
    assert second.columns == ["Country", "Users"] and second.frame["Users"].to_list() == ["12", "9"]
    assert "Where from?" in second.detected.parts[1]


def test_duplicate_headers_are_kept_apart() -> None:
    raw = read_bytes(b"ID,cid,cid,Name\n1,a,b,x\n", "dup.csv")
    assert raw.columns == ["ID", "cid", "cid (2)", "Name"]


def test_overrides_win_over_detection() -> None:
    data = b"a;b\n1,5;2\n"
    assert read_bytes(data, "x.csv").detected.decimal == ","
    assert read_bytes(data, "x.csv", decimal=".").detected.decimal == "."
    with pytest.raises(FileRefused, match="only one column"):
        read_bytes(b"a;b\n1;2\n3;4\n", "x.csv", separator=",")
    with pytest.raises(FileRefused, match="separator must be one of"):
        read_bytes(data, "x.csv", separator=":")


@pytest.mark.parametrize(("name", "message"), [
    ("empty.csv", "the file is empty"),
    ("header_only.csv", "no data rows"),
    ("html_saved_as.csv", "web page \\(HTML\\)"),
    ("binary.csv", "binary file"),
    ("zip_bomb.xlsx", "zip bomb"),
    ("not_really.xlsx", "not one"),
])
def test_files_that_are_not_exports_are_refused_by_name(name: str, message: str) -> None:
    with pytest.raises(FileRefused, match=message) as info:
        read_file(FIX / name)
    assert name in str(info.value)


def test_zip_that_is_not_a_workbook() -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("report.csv", "a,b\n1,2\n")
    with pytest.raises(FileRefused, match="not an Excel workbook"):
        read_bytes(buf.getvalue(), "report.xlsx")


def test_excel_offers_all_sheets_and_picks_the_first_with_data() -> None:
    raw = read_file(FIX / "hubspot_deals_two_sheets.xlsx")
    assert raw.detected.parts == ("About", "Deals") and raw.detected.part == 1
    assert raw.frame["Deal Name"].to_list() == ["Alpha", "Beta", "Gamma"]
    with pytest.raises(FileRefused, match="no data rows"):
        read_file(FIX / "hubspot_deals_two_sheets.xlsx", part=0)


def test_parquet(tmp_path: Path) -> None:
    path = tmp_path / "t.parquet"
    pl.DataFrame({"date": [date(2025, 1, 1)], "sessions": [3]}).write_parquet(path)
    raw = read_file(path)
    assert raw.detected.kind == "parquet" and raw.frame["sessions"].to_list() == ["3"]


# --- generated CSVs must round-trip their numbers exactly -------------------------------------------------

def _write(value: float, decimal: str, thousands: str) -> str:
    text = f"{value:,.2f}".replace(",", "\x00")
    if decimal == ",":
        text = text.replace(".", ",")
    return text.replace("\x00", thousands)


@settings(max_examples=60, deadline=None)
@given(
    values=st.lists(st.decimals(min_value=-10**7, max_value=10**7, places=2, allow_nan=False), min_size=1,
                    max_size=30),
    sep=st.sampled_from([",", ";", "\t", "|"]),
    decimal=st.sampled_from([".", ","]),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "cp1251", "cp1252", "koi8-r"]),
    thousands=st.sampled_from(["", " ", "\u00a0"]),
)
def test_generated_csv_round_trips_numbers(values: list[Decimal], sep: str, decimal: str, encoding: str,
                                           thousands: str) -> None:
    if decimal == "," and sep == ",":
        sep = ";"
    label = {"cp1251": "Сумма", "koi8-r": "Сумма", "cp1252": "Kostnad"}.get(encoding, "Amount")
    lines = [f"Name{sep}{label}"] + [f"row{i}{sep}{_write(float(v), decimal, thousands)}" for i, v in enumerate(values)]
    data = ("\r\n".join(lines) + "\r\n").encode(encoding)
    raw = read_bytes(data, "gen.csv")
    assert (raw.detected.separator, raw.detected.decimal) == (sep, decimal)
    got = raw.frame.select(parse_number(pl.col(label), raw.detected.decimal).alias("n"))["n"].to_list()
    assert got == [float(v) for v in values]
