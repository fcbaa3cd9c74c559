"""Large CSVs are streamed from disk in chunks (kpi.sources.files) and converted chunk by chunk
(kpi.sources.importer). Forcing tiny chunks on small files, the streamed import must give exactly what
reading the whole file at once gives: the same rows, totals and footers, report and canonical table,
whatever the encoding and wherever a chunk boundary falls (inside quoted fields, next to blank lines,
in a run of footer-like rows that turns out to be data)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import pytest

import kpi.sources.files as files
from kpi.sources.files import RawTable, read_bytes, read_file
from kpi.sources.importer import ImportResult, import_raw, resolve

LANG = {
    "sv": ("Kampanjrapport", "Dag;Kampanj;Visningar;Klick;Kostnad;Valutakod", "Vår rea", "Totalt: Kampanjer",
           "Konfidentiellt", "SEK"),
    "ru": ("Отчёт по кампаниям", "День;Кампания;Показы;Клики;Стоимость;Валюта", "Весна", "Итого: кампании",
           "Конфиденциально", "RUB"),
}


def _export(lang: str, rows: int = 120) -> str:
    """A Google Ads report as exported: title line, header, data rows with a quoted campaign holding the
    separator and a line break, a subtotal row in the middle, a blank line, a row that holds only its
    first cell (data: real rows follow it), an unreadable click count, a missing cost, thousands marks;
    and at the end a total row, a blank line and two footer lines."""
    title, header, campaign, total, note, currency = LANG[lang]
    lines = [title, header]
    for i in range(1, rows + 1):
        day = f"2025-01-{i % 28 + 1:02d}"
        cost = f"{i}.{i:03d},{i % 100:02d}" if i % 7 == 0 else f"{i},{i % 100:02d}"
        name = f'"{campaign} {i}; del\n2"' if i in (99, 111) else f'"{campaign} {i}; del"' if i == 33 else \
            f"{campaign} {i % 5}"
        clicks = "abc" if i == 40 else str(i % 9)
        if i == 50:
            cost = " --"
        lines.append(f"{day};{name};{i * 10};{clicks};{cost};{currency}")
        if i == 60:
            lines.append(f"{total};;600;60;60,00;{currency}")
        if i == 70:
            lines.append("")
        if i == 80:
            lines.append("2025-02-01;;;;;")
    lines += [f"{total};;1000;100;100,00;{currency}", "", note, "Google Ads"]
    return "\r\n".join(lines) + "\r\n"


def _import(raw: RawTable) -> ImportResult:
    mapping, _ = resolve(raw)
    return import_raw(raw, mapping)


def _streamed(path: Path, monkeypatch: pytest.MonkeyPatch, chunk: int) -> RawTable:
    monkeypatch.setattr(files, "_LARGE", 2000)  # files above this are sniffed from 2000 bytes and streamed
    monkeypatch.setattr(files, "_CHUNK_BYTES", chunk)
    raw = read_file(path)
    assert raw.source is not None, "the file should have been streamed"
    return raw


@pytest.mark.parametrize(("lang", "encoding", "chunk"), [
    ("sv", "utf-8", 97), ("sv", "utf-8-sig", 64), ("sv", "utf-16", 101), ("ru", "cp1251", 89),
    ("ru", "koi8-r", 150), ("sv", "utf-8", 1000),
])
def test_streamed_import_is_the_whole_file_import(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, lang: str,
                                                   encoding: str, chunk: int) -> None:
    path = tmp_path / "report.csv"
    path.write_bytes(_export(lang).encode(encoding))
    whole = read_bytes(path.read_bytes(), path.name)
    expected = _import(whole)
    raw = _streamed(path, monkeypatch, chunk)
    got = _import(raw)
    assert raw.detected == whole.detected
    assert got.report.to_dict() == expected.report.to_dict()
    assert got.frame.equals(expected.frame)
    assert raw.n_rows == whole.n_rows and raw.excluded == whole.excluded

    # worked out by hand from _export: records under the header are numbered 1.. including blank lines:
    # rows 1-60, subtotal 61, rows 62-71, blank 72, rows 73-82, first-cell-only row 83, rows 84-123, then
    # total 124, blank 125, footers 126 and 127. Rows read = 121 data rows + 4 excluded (blanks not counted).
    report = got.report
    assert report.rows_read == 125
    assert [e.split(":")[0] for e in report.totals_excluded] == ["row 61", "row 124", "row 126", "row 127"]
    rejected = {i.reason: i.rows for i in report.issues if i.rejected}
    assert rejected == {"'spend' is empty": (50, 83)}  # ' --' cost; the row with only a date
    changed = {i.reason: i.rows for i in report.issues if not i.rejected}
    assert changed == {f"'{LANG[lang][1].split(';')[3]}' (clicks) is not a number; left empty": (40,)}
    frame = got.frame
    assert frame.height == 120 - 1  # row 50 rejected; the first-cell-only row is rejected too
    by_impressions = dict(zip(frame["impressions"].to_list(), frame["spend"].to_list(), strict=True))
    assert by_impressions[70] == 7007.07  # '7.007,07': '.' groups thousands in a decimal-comma file
    assert by_impressions[10] == 1.01
    assert frame.filter(pl.col("impressions") == 990)["campaign"].item() == f"{LANG[lang][2]} 99; del\n2"
    assert frame.filter(pl.col("impressions") == 330)["campaign"].item() == f"{LANG[lang][2]} 33; del"
    assert frame["date"].min() == date(2025, 1, 1) and frame["currency"].unique().to_list() == [LANG[lang][5]]


def test_date_order_decided_by_a_value_after_the_first_chunks(tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    # 2,500 days that read both as day/month and month/day, then one that only reads month-first
    days = [f"{m:02d}/{d:02d}/2025" for m in range(1, 13) for d in range(1, 13)] * 18
    days = [*days[:2500], "12/31/2025"]
    body = "".join(f"{d};Spring;{i};1;{i},50;SEK\r\n" for i, d in enumerate(days, 1))
    path = tmp_path / "dates.csv"
    path.write_text("Day;Campaign;Impressions;Clicks;Cost;Currency\r\n" + body, encoding="utf-8")
    expected = _import(read_bytes(path.read_bytes(), path.name))
    got = _import(_streamed(path, monkeypatch, 4096))
    assert got.frame.equals(expected.frame) and got.report.to_dict() == expected.report.to_dict()
    assert got.frame["date"][1] == date(2025, 1, 2)  # '01/02/2025' month-first
    assert got.frame["date"][-1] == date(2025, 12, 31) and not got.report.ambiguous_dates


def test_undecidable_date_order_is_reported_as_ambiguous_when_streamed(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    body = "".join(f"0{i % 9 + 1}/0{i % 7 + 1}/2025;Spring;{i};1;{i},50;SEK\r\n" for i in range(1, 3001))
    path = tmp_path / "dates.csv"
    path.write_text("Day;Campaign;Impressions;Clicks;Cost;Currency\r\n" + body, encoding="utf-8")
    expected = _import(read_bytes(path.read_bytes(), path.name))
    got = _import(_streamed(path, monkeypatch, 5000))
    assert got.report.ambiguous_dates == expected.report.ambiguous_dates and len(got.report.ambiguous_dates) == 1
    assert got.frame["date"][0] == date(2025, 2, 2)  # '02/02/2025'; row 2 '03/03', row 7 '08/01' day-first:
    assert got.frame["date"][6] == date(2025, 1, 8)
    assert got.frame.equals(expected.frame)


def test_thousands_mark_in_a_decimal_comma_file_whatever_the_other_rows(tmp_path: Path) -> None:
    text = "Day;Campaign;Impressions;Clicks;Cost;Currency\n" \
           "2025-01-01;A;1;1;1,25;SEK\n2025-01-02;A;2;1;2,50;SEK\n2025-01-03;A;3;1;1.234;SEK\n"
    result = _import(read_bytes(text.encode(), "ads.csv"))
    assert result.frame["spend"].to_list() == [1.25, 2.5, 1234.0]


def test_a_column_empty_in_the_sample_is_still_found_when_streamed(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    # Google Ads falls back from Clicks to Interactions only when Clicks has no value anywhere in the file
    rows = [f"2025-01-01;A;{i};;{i % 3};1,00;SEK" for i in range(1, 1200)] + ["2025-01-02;A;5;4;1;1,00;SEK"]
    path = tmp_path / "ads.csv"
    path.write_text("Day;Campaign;Impr.;Clicks;Interactions;Cost;Currency\n" + "\n".join(rows) + "\n",
                    encoding="utf-8")
    raw = _streamed(path, monkeypatch, 2000)
    assert raw.sample.height < 1199  # the value in row 1200 is not in the sample
    mapping, _ = resolve(raw)
    assert mapping.fields["clicks"] == "Clicks"
    assert _import(raw).frame["clicks"].to_list()[-1] == 4


def test_whether_a_column_has_a_value_is_streamed_once_per_column(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    # Clicks is empty on every row: only reading the whole file can tell, and once is enough
    rows = [f"2025-01-01;A;{i};;{i % 3};1,00;SEK" for i in range(1, 1200)]
    path = tmp_path / "ads.csv"
    path.write_text("Day;Campaign;Impr.;Clicks;Interactions;Cost;Currency\n" + "\n".join(rows) + "\n",
                    encoding="utf-8")
    raw = _streamed(path, monkeypatch, 2000)
    streams = []
    stream_csv = files._stream_csv
    monkeypatch.setattr(files, "_stream_csv", lambda *a: streams.append(1) or stream_csv(*a))
    assert not raw.has_value("Clicks") and len(streams) == 1
    assert not raw.has_value("Clicks") and len(streams) == 1
    assert raw.has_value("Interactions") and len(streams) == 1  # 1 % 3 in the first row: the sample tells
    # a new frame asks again: the row that now has a click counts
    raw.frame = raw.frame.with_columns(pl.when(pl.col("Impr.") == "7").then(pl.lit("2")).otherwise("Clicks")
                                       .alias("Clicks"))
    assert raw.has_value("Clicks")
