"""Malformed files: every one is imported or refused with a message naming the file and the line or
column, and nothing is misread silently (issue 20). Each expected value below is worked out by hand from
the file text written in the test."""

from __future__ import annotations

import io
import random
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import polars as pl
import pytest

import kpi.sources.files as files
from kpi.sources.files import FileRefused, RawTable, read_bytes, read_file
from kpi.sources.importer import ImportResult, import_raw
from kpi.sources.mapping import Mapping
from kpi.sources.values import number_failures, parse_number
from tests.conftest import REPO

SPEND = Mapping("spend", {"date": "Day", "campaign": "Campaign", "spend": "Cost"}, label="test")


def _spend(text: str, mapping: Mapping = SPEND, name: str = "ads.csv") -> ImportResult:
    return import_raw(read_bytes(text.encode("utf-8"), name), mapping)


def _streamed(text: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk: int = 40) -> RawTable:
    """The file read as a large file on disk is: sniffed from its head and streamed in `chunk` bytes."""
    monkeypatch.setattr(files, "_LARGE", 60)
    monkeypatch.setattr(files, "_CHUNK_BYTES", chunk)
    path = tmp_path / "ads.csv"
    path.write_bytes(text.encode("utf-8"))
    raw = read_file(path)
    assert raw.source is not None
    return raw


def _rejected(result: ImportResult) -> dict[tuple[int, ...], str]:
    return {i.rows: i.reason for i in result.report.issues if i.rejected}


# --- line ends -------------------------------------------------------------------------------------------

def test_cr_only_line_ends_read_as_lines() -> None:
    """Old Mac / some Excel saves end lines with CR alone: three lines, two data rows, 10 + 5.5."""
    r = _spend("Day,Campaign,Cost\r2025-01-01,A,10\r2025-01-02,B,5.5\r")
    assert r.frame["spend"].to_list() == [10.0, 5.5]
    assert r.frame["campaign"].to_list() == ["A", "B"]
    assert r.report.rows_rejected == 0


def test_mixed_line_ends() -> None:
    r = _spend("Day,Campaign,Cost\r\n2025-01-01,A,10\r2025-01-02,B,5.5\n2025-01-03,C,1\r\n")
    assert r.frame["spend"].to_list() == [10.0, 5.5, 1.0]


def test_a_cr_inside_a_line_splits_it_and_both_halves_are_reported_with_their_lines() -> None:
    """`2025-01-02,B\\r,5` is two lines of two fields each (lines 3 and 4, rows 2 and 3) under a header of
    three: both are rejected, naming the lines; A (10) and C (1) are imported."""
    r = _spend("Day,Campaign,Cost\n2025-01-01,A,10\n2025-01-02,B\r,5\n2025-01-03,C,1\n")
    assert r.frame["spend"].to_list() == [10.0, 1.0]
    (rows, reason), = _rejected(r).items()
    assert rows == (2, 3)
    assert "line 3 has 2 fields" in reason and "line 4 has 2 fields" in reason
    assert r.report.rows_read == 4 and r.report.rows_accepted == 2


def test_line_separators_that_polars_keeps_inside_fields_do_not_shift_the_header() -> None:
    """U+2028 and form feed are line breaks to str.splitlines but not to a CSV: the campaign keeps them."""
    r = _spend("Day,Campaign,Cost\n2025-01-01,A\u2028x,10\n2025-01-02,B\x0cy,2\n")
    assert r.frame["campaign"].to_list() == ["A\u2028x", "B\x0cy"]
    assert r.frame["spend"].sum() == 12.0


# --- header names ------------------------------------------------------------------------------------------

def test_header_names_that_polars_reads_as_patterns_are_taken_literally() -> None:
    raw = read_bytes(b"^C.*$,*,__row,Cost\n2025-01-01,y,z,1\n2025-01-02,v,w,2\n", "odd.csv")
    assert raw.columns == ["^C.*$ (column 1)", "* (column 2)", "__row (column 3)", "Cost"]
    assert raw.frame["* (column 2)"].to_list() == ["y", "v"]
    assert raw.frame["__row"].to_list() == [1, 2]
    mapping = Mapping("spend", {"date": "^C.*$ (column 1)", "spend": "Cost", "campaign": "* (column 2)"})
    r = import_raw(raw, mapping)
    assert r.frame.select("campaign", "spend").rows() == [("y", 1.0), ("v", 2.0)]
    bad = read_bytes(b"^C.*$,Cost\nx,1\n", "odd.csv")  # no date at all: refused, naming the column
    with pytest.raises(FileRefused, match=r"odd\.csv: no row could be accepted.*'\^C\.\*\$ \(column 1\)' \(date\)"):
        import_raw(bad, Mapping("spend", {"date": "^C.*$ (column 1)", "spend": "Cost"}))


def test_map_without_equals_on_the_command_line_exits_2_with_what_to_write(tmp_path: Path) -> None:
    path = tmp_path / "leads.csv"
    path.write_text("Lead ID,Created\n1,2025-01-01\n")
    run = subprocess.run([sys.executable, "-m", "kpi", "import", str(path), "--table", "leads", "--map", "lead_id"],
                         cwd=REPO, capture_output=True, text=True, timeout=120)
    assert run.returncode == 2
    assert "--map 'lead_id': write FIELD=COLUMN" in run.stderr and "Traceback" not in run.stderr
    ok = subprocess.run([sys.executable, "-m", "kpi", "import", str(path), "--table", "leads",
                         "--map", "lead_id=Lead ID", "--map", "created_at=Created", "--format", "json"],
                        cwd=REPO, capture_output=True, text=True, timeout=120)
    assert ok.returncode == 0, ok.stderr
    assert '"rows_accepted": 1' in ok.stdout


# --- numbers ---------------------------------------------------------------------------------------------

def test_number_in_the_other_decimal_mark_is_rejected_not_read_as_1250() -> None:
    """Three cells in decimal comma (`"1 234,56"`, `2 000,00`, `5,25`) against two in point (`12.50`,
    `1.5`): the file's mark is ',' and `12.50` (row 2) would be 1250 read that way; it is rejected, the
    others make 1234.56 + 2000 + 5.25 = 3239.81. Clicks `1.5` (row 3, not required) is left empty."""
    text = ('Day;Campaign;Cost;Clicks\n2025-01-01;A;"1 234,56";3\n2025-01-02;B;12.50;4\n'
            "2025-01-03;C;2 000,00;1.5\n2025-01-04;D;5,25;2\n")
    mapping = Mapping("spend", {"date": "Day", "campaign": "Campaign", "spend": "Cost", "clicks": "Clicks"})
    r = _spend(text, mapping)
    assert r.report.detected.endswith("decimal ','")
    assert r.frame["spend"].to_list() == [1234.56, 2000.0, 5.25]
    assert r.frame["clicks"].to_list() == [3, None, 2]
    reasons = {i.rows: (i.reason, i.rejected) for i in r.report.issues}
    assert "'.' as its decimal mark" in reasons[(2,)][0] and reasons[(2,)][1]
    assert "'.' as its decimal mark" in reasons[(3,)][0] and not reasons[(3,)][1]


def test_comma_decimal_in_a_point_file_is_rejected_not_read_as_1250() -> None:
    r = _spend('Day,Campaign,Cost\n2025-01-01,A,"2,472.10"\n2025-01-02,B,"12,50"\n2025-01-03,C,0.90\n')
    assert r.frame["spend"].to_list() == [2472.10, 0.90]
    assert list(_rejected(r)) == [(2,)]


@pytest.mark.parametrize("cell", ["inf", "-inf", "nan", "NaN", "1e309", "Infinity", "-1e400"])
def test_non_finite_numbers_are_not_numbers(cell: str) -> None:
    frame = pl.DataFrame({"v": [cell, "7.5"]}).select(parse_number(pl.col("v")).alias("n"),
                                                       number_failures(pl.col("v")).alias("bad"))
    assert frame["n"].to_list() == [None, 7.5]
    assert frame["bad"].to_list() == [True, False]


def test_non_finite_spend_is_rejected_with_row_and_column() -> None:
    """Rows 1-4 hold inf, -inf, nan and 1e309 as cost: rejected naming 'Cost'; row 5's 7.5 is the spend.
    Clicks 'inf' on row 5 (not required) is left empty and reported."""
    text = ("Day,Campaign,Cost,Clicks\n2025-01-01,A,inf,1\n2025-01-02,A,-inf,1\n2025-01-03,A,nan,1\n"
            "2025-01-04,A,1e309,1\n2025-01-05,A,7.5,inf\n")
    mapping = Mapping("spend", {"date": "Day", "campaign": "Campaign", "spend": "Cost", "clicks": "Clicks"})
    r = _spend(text, mapping)
    assert r.frame["spend"].to_list() == [7.5]
    assert r.frame["clicks"].to_list() == [None]
    issues = {i.rows: i for i in r.report.issues}
    assert issues[(1, 2, 3, 4)].reason.startswith("'Cost' (spend) is not a number") and issues[(1, 2, 3, 4)].rejected
    assert issues[(5,)].reason.startswith("'Clicks' (clicks) is not a number") and not issues[(5,)].rejected


# --- ragged rows -----------------------------------------------------------------------------------------

RAGGED = ("Day,Campaign,Cost,Currency\n2025-01-01,A,2.0,SEK\n2025-01-02,B,2.0,50,SEK\n2025-01-03,C,3\n"
          "2025-01-04,D,4.0,SEK\n")
RAGGED_MAP = Mapping("spend", {"date": "Day", "campaign": "Campaign", "spend": "Cost", "currency": "Currency"})


def test_ragged_rows_are_rejected_naming_their_lines_not_truncated() -> None:
    """Row 2 (line 3) has 5 fields, row 3 (line 4) has 3: both rejected, never read as spend 2.0 with
    currency '50' (truncated) or currency empty (padded). A and D make 6.0 SEK."""
    r = import_raw(read_bytes(RAGGED.encode(), "ads.csv"), RAGGED_MAP)
    assert r.frame.select("campaign", "spend", "currency").rows() == [("A", 2.0, "SEK"), ("D", 4.0, "SEK")]
    (rows, reason), = _rejected(r).items()
    assert rows == (2, 3)
    assert "line 3 has 5 fields" in reason and "line 4 has 3 fields" in reason
    assert r.report.rows_read == 4


def test_ragged_rows_streamed_are_the_same(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    whole = import_raw(read_bytes(RAGGED.encode(), "ads.csv"), RAGGED_MAP)
    got = import_raw(_streamed(RAGGED, tmp_path, monkeypatch), RAGGED_MAP)
    assert got.frame.equals(whole.frame)
    assert got.report.to_dict() == whole.report.to_dict()


def test_a_quote_left_open_is_one_record_over_several_lines() -> None:
    """The open quote on line 3 runs to the end: lines 3-4 are one record of 4 fields, rejected."""
    r = _spend('Day,Campaign,Cost\n2025-01-01,A,1\n2025-01-02,"B,2\n2025-01-03,C,3\n')
    assert r.frame["spend"].to_list() == [1.0]
    (rows, reason), = _rejected(r).items()
    assert rows == (2,) and "lines 3–4" in reason and "quote left open" in reason


def test_a_quote_inside_an_unquoted_value_is_refused_naming_its_line() -> None:
    with pytest.raises(FileRefused, match=r"ads\.csv: line 4 cannot be read as CSV"):
        _spend('Day,Campaign,Cost\n2025-01-01,A,1\n2025-01-02,B,2\n2025-01-03,"C"x,3\n2025-01-04,D,4\n')


def test_every_line_ragged_is_refused_with_the_lines() -> None:
    with pytest.raises(FileRefused, match=r"no line has the header's number of fields: line 2 has 2 fields"):
        read_bytes(b"Day,Campaign,Cost\n2025-01-01,A\n2025-01-02,B\n", "ads.csv")


# --- total rows ------------------------------------------------------------------------------------------

TOTALS = "\n".join([
    "Campaign;Day;Cost",
    "Gesamtpaket Sale;2025-01-01;10",   # row 1: a campaign
    "Totalt nytt;2025-01-01;20",        # row 2: a campaign
    "Summa;;30",                        # row 3: bare label amid the data, 30 = rows 1-2: a subtotal
    "Total Recall Promo;2025-01-02;5",  # row 4: a campaign
    "Итого;2025-01-02;7",               # row 5: bare label, 7 is neither 5 (rows since row 3) nor the total: data
    "Total: Campaigns;;42",             # row 6: a label with more to it: a total anywhere
    "Totalt nytt;2025-01-03;1",         # row 7: a campaign, although it starts with 'Totalt'
    "Total;;43",                        # row 8: bare label in the last row: the total
]) + "\n"
TOTALS_MAP = Mapping("spend", {"date": "Day", "campaign": "Campaign", "spend": "Cost"})


def _check_totals(r: ImportResult) -> None:
    assert r.frame["campaign"].to_list() == ["Gesamtpaket Sale", "Totalt nytt", "Total Recall Promo", "Итого",
                                             "Totalt nytt"]
    assert r.frame["spend"].sum() == 43.0  # 10 + 20 + 5 + 7 + 1, which the file's own total says
    assert sorted(int(t.split(":")[0].removeprefix("row ")) for t in r.report.totals_excluded) == [3, 6, 8]
    assert any("row(s) 5 are labelled like a total row" in w for w in r.report.warnings)
    assert r.report.rows_rejected == 0 and r.report.rows_read == 8


def test_total_rows_by_label_shape_position_and_sums() -> None:
    _check_totals(import_raw(read_bytes(TOTALS.encode(), "ads.csv"), TOTALS_MAP))


def test_total_rows_streamed_are_the_same(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _check_totals(import_raw(_streamed(TOTALS, tmp_path, monkeypatch, chunk=33), TOTALS_MAP))


@pytest.mark.parametrize("label", ["Total", "Totalt", "Итого", "Всего", "Summa", "Gesamt", "Yhteensä", "I alt",
                                   "Total:", "Totals"])
def test_a_bare_total_label_in_the_first_or_last_row_is_a_total(label: str) -> None:
    first = _spend(f"Campaign,Day,Cost\n{label},,3\nA,2025-01-01,1\nB,2025-01-02,2\n", TOTALS_MAP)
    last = _spend(f"Campaign,Day,Cost\nA,2025-01-01,1\nB,2025-01-02,2\n{label},,3\n", TOTALS_MAP)
    for r in (first, last):
        assert r.frame["campaign"].to_list() == ["A", "B"] and len(r.report.totals_excluded) == 1


@pytest.mark.parametrize("name", ["Gesamtpaket Sale", "Totalt nytt", "Total Recall Promo", "Итоговая распродажа",
                                  "Summer Sale", "Totals Week"])
def test_campaigns_starting_with_a_total_word_are_kept_wherever_they_are(name: str) -> None:
    r = _spend(f"Campaign,Day,Cost\n{name},2025-01-01,1\nB,2025-01-02,2\n{name},2025-01-03,4\n", TOTALS_MAP)
    assert r.frame["spend"].sum() == 7.0 and r.report.totals_excluded == []


# --- zip bombs ---------------------------------------------------------------------------------------------

def _zip(members: list[tuple[str, int, bytes, int]]) -> bytes:
    """A zip written byte by byte: (name, method, stored bytes, size the index states) per member, CRC 0."""
    body, central = b"", b""
    for name, method, stream, declared in members:
        fname = name.encode()
        head = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, method, 0, 0x21, 0, len(stream), declared,
                           len(fname), 0)
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, method, 0, 0x21, 0, len(stream),
                               declared, len(fname), 0, 0, 0, 0, 0, len(body)) + fname
        body += head + fname + stream
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(members), len(members), len(central), len(body), 0)
    return body + central + end


def _lying_bomb() -> bytes:
    """About 5 MB: a sheet whose deflate stream inflates to 1.5 GB of zeros (1,500 identical fully flushed
    blocks of 1 MB, then an empty final block) while the index states 17 KB, and 3.5 MB of stored bytes."""
    deflate = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    block = deflate.compress(bytes(1 << 20)) + deflate.flush(zlib.Z_FULL_FLUSH)
    sheet = block * 1500 + b"\x03\x00"
    return _zip([("[Content_Types].xml", 0, b"<Types/>", 8), ("xl/workbook.xml", 0, b"<workbook/>", 11),
                 ("xl/worksheets/sheet1.xml", 8, sheet, 17_000),
                 ("xl/media/image1.png", 0, random.Random(1).randbytes(3_500_000), 3_500_000)])


CHILD = """
import sys, time
from pathlib import Path
from kpi.sources.files import FileRefused, read_file
start = time.perf_counter()
try:
    read_file(sys.argv[1])
    print("imported")
except FileRefused as exc:
    print(exc)
hwm = next(l for l in Path('/proc/self/status').read_text().splitlines() if l.startswith('VmHWM'))
print(time.perf_counter() - start, int(hwm.split()[1]) // 1024)
"""


def test_a_zip_bomb_whose_index_lies_is_refused_fast_and_small(tmp_path: Path) -> None:
    path = tmp_path / "report.xlsx"
    path.write_bytes(_lying_bomb())
    assert 4_900_000 < path.stat().st_size < 5_300_000
    run = subprocess.run([sys.executable, "-c", CHILD, str(path)], cwd=REPO, capture_output=True, text=True,
                         timeout=120)
    message, figures = run.stdout.strip().splitlines()
    assert message == ("report.xlsx: refused: xl/worksheets/sheet1.xml inflates to more than the 17,000 bytes the "
                       "zip index states (a zip bomb or a corrupt workbook); export the data as CSV instead")
    seconds, peak_mb = figures.split()
    assert float(seconds) < 2.0 and int(peak_mb) < 200


def test_a_damaged_deflate_stream_is_refused_as_damaged() -> None:
    good = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    stream = good.compress(b"<sheet/>" * 100) + good.flush()
    data = _zip([("xl/workbook.xml", 8, b"\xff\xff" + stream[2:], 800)])
    with pytest.raises(FileRefused, match=r"bad\.xlsx: is a damaged or incomplete Excel/zip file"):
        read_bytes(data, "bad.xlsx")


def test_a_large_honest_workbook_still_imports() -> None:
    """40,000 rows of spend 0.25 each (10,000 in all) written by polars' Excel writer."""
    n = 40_000
    frame = pl.DataFrame({"Day": ["2025-01-01"] * n, "Campaign": [f"C{i % 50}" for i in range(n)],
                          "Cost": [0.25] * n})
    buf = io.BytesIO()
    frame.write_excel(buf)
    r = import_raw(read_bytes(buf.getvalue(), "big.xlsx"), SPEND)
    assert r.frame.height == n and r.frame["spend"].sum() == 10_000.0


def test_a_quote_never_closed_in_the_header_is_refused_naming_the_header_line() -> None:
    with pytest.raises(FileRefused, match=r'ads\.csv: the header \(line 2\) has a quote \(\"\) that is never closed'):
        read_bytes(b'Campaign report\nDay,Camp"aign,Cost\n2025-01-01,A,1\n2025-01-02,B,2\n', "ads.csv")
