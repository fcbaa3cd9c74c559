"""Reading exported files into a raw table of text columns, with everything around the data removed.

`read_file` / `read_bytes` sniff what a file is (CSV/TSV/TXT, XLSX/XLS, Parquet), its encoding
(UTF-8 with or without BOM, UTF-16 LE/BE, cp1251, koi8-r, cp1252), separator (`,` `;` tab `|`)
and decimal mark, skip preambles (GA4 `#` lines, report title and date-range lines), and drop
total and footer rows (`Total: Campaigns`, `Grand total`, Explore's grand-total row with an extra
field, confidentiality notes). What was detected and what was dropped travels with the result so
the person importing can see it and override it.

Cells stay text here; `kpi.sources.importer` turns them into canonical numbers and timestamps.
A large CSV on disk is never held whole: its head is sniffed, and its rows are streamed from the file
in chunks of a few MB (transcoded to UTF-8 chunk by chunk), so the importer can convert each chunk
and drop its text before reading the next.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import struct
import zipfile
import zlib
from collections import Counter
from collections.abc import Generator, Iterator
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Literal

import numpy as np
import polars as pl

from kpi.sources.values import MISSING_MARKERS, is_missing, parse_day, parse_range

ROW = "__row"  #: column holding the 1-based data row number (row 1 = first row under the header)
SEPARATORS = (",", ";", "\t", "|")
ENCODINGS = ("utf-8", "utf-16-le", "utf-16-be", "cp1251", "koi8-r", "cp1252", "latin-1")
MAX_UNZIPPED_BYTES = 1_000_000_000  # an .xlsx that inflates beyond this is refused as a zip bomb
MAX_ZIP_RATIO = 200  # ... and so is one that inflates to more than this many times its size (past 50 MB)
_INFLATE_STEP = 1 << 20  # bytes of a zip member inflated at a time when counting what it inflates to

_SAMPLE_CHARS = 256_000
_LARGE = 8_000_000  # CSVs on disk above this are sniffed from their head and streamed in chunks
_SAMPLE_ROWS = 500  # data rows a streamed CSV keeps as its sample (the decimal mark is guessed from them)
_CHUNK_BYTES = 1_000_000  # bytes per streamed chunk: bounds the text held at once (a few times this as a frame)
_TOTAL_WORDS = (r"total|totals|totalt|summa|summa\s+totalt|gesamt|gesamtsumme|insgesamt|yhteensä|i\s+alt|итого|всего"
                r"|grand\s+totals?|общий\s+итог")
#: a total row's label: a total word alone, or followed by ':' or '(…)' or 'for/för/für/по …' — not a word that
#: merely starts with one ('Gesamtpaket Sale', 'Totalt nytt' and 'Total Recall Promo' are campaigns)
_TOTAL_RE = re.compile(rf"(?i)^\s*(?:{_TOTAL_WORDS})\s*(?::.*|\(.*\)|\s(?:for|för|für|по)\s.*)?$")
#: how a cell that may hold a total label starts (a cheap first pass over the first cells of every row)
_TOTAL_START = rf"(?i)^\s*(?:{_TOTAL_WORDS})"
#: a total word alone: a total only by its position (first or last data row) or by its numbers
_BARE_TOTAL_RE = re.compile(r"(?i)^\s*(?:total|totals|totalt|summa|gesamt|insgesamt|yhteensä|i\s+alt|итого|всего)\s*$")
_FOOTER_RE = re.compile(r"(?i)(confidential|konfidentiell|конфиденц|generated|©|copyright|all rights reserved)")
#: The words a GA4 download writes before its range ('# Start date: 20250201'), by interface language:
#: English, Swedish/German/Dutch, Norwegian/Danish, Finnish, Russian.
_GA4_RANGE_WORDS = {"start": ("start date", "startdatum", "startdato", "alkamispäivä", "дата начала"),
                    "end": ("end date", "slutdatum", "enddatum", "einddatum", "sluttdato", "slutdato",
                            "päättymispäivä", "дата окончания")}
_GA4_DATE_RE = re.compile(r"(?i)^#\s*(" + "|".join(w for ws in _GA4_RANGE_WORDS.values() for w in ws)
                          + r")\s*:\s*(\d{8})")
Kind = Literal["csv", "excel", "parquet", "json"]


class FileRefused(ValueError):
    """A file that cannot be read as a table. The message names the file and says what to do."""


@dataclass(frozen=True)
class Excluded:
    """A row that was in the file but is not data (a total, a footer), with its data row number."""

    row: int
    reason: str
    text: str
    malformed: bool = False  # a record the reader could not place in columns (reported as rejected, not as a total)


@dataclass(frozen=True)
class Detected:
    """What the reader found out about a file. Any of encoding/separator/decimal/part can be
    overridden by passing it back to `read_bytes`."""

    name: str
    kind: Kind
    encoding: str | None = None
    separator: str | None = None
    decimal: str = "."
    header_line: int = 0  # 0-based line (or sheet row) of the header within the part read
    preamble: tuple[str, ...] = ()  # title, '#' and date-range lines above the header
    period: tuple[date, date] | None = None  # date range written above the header
    period_text: str | None = None  # the range as written ('All time' included)
    parts: tuple[str, ...] = ()  # sheets of a workbook or sections of a multi-table CSV
    part: int = 0  # which of `parts` was read
    notes: tuple[str, ...] = ()  # how a nested event export was read (gzip, files in a zip, columns unpacked)

    def describe(self) -> str:
        bits = [self.kind.upper()]
        if self.encoding:
            bits.append(self.encoding)
        if self.separator:
            bits.append("separator " + {"\t": "tab", " ": "space"}.get(self.separator, f"'{self.separator}'"))
        if self.kind != "json":  # JSON numbers have no decimal mark to choose
            bits.append(f"decimal '{self.decimal}'")
        if self.parts and len(self.parts) > 1:
            bits.append(f"part {self.part + 1} of {len(self.parts)}: {self.parts[self.part]}")
        if self.period:
            bits.append(f"period {self.period[0]}..{self.period[1]}")
        elif self.period_text:
            bits.append(f"period '{self.period_text}'")
        bits += list(self.notes)
        return ", ".join(bits)


@dataclass(frozen=True)
class CsvSource:
    """Where the rows of a large CSV on disk are, for streaming them: the file, how to decode it, the
    offset of the first record after the header in the UTF-8 stream (line ends normalised) and its line."""

    path: Path
    encoding: str
    bom: int
    data_start: int
    first_line: int  # 1-based file line of the first record under the header
    columns: tuple[str, ...]
    lead: int  # leading total rows (already in `RawTable.excluded`)


class RawTable:
    """A file's data rows as text columns (plus `ROW`), and how they were found.

    A large CSV on disk (`source` set) is not read whole: `sample` holds its first data rows,
    `chunks()` streams every data row from the file (totals, blanks and footers left out, as for a
    file read whole), and `frame` reads them all at once only when something asks for it.
    `excluded` and `n_rows` cover the whole file once it has been streamed or read.
    """

    def __init__(self, frame: pl.DataFrame | None, detected: Detected, excluded: list[Excluded] | None = None,
                 source: CsvSource | None = None, sample: pl.DataFrame | None = None) -> None:
        if frame is None and (source is None or sample is None):
            raise ValueError("a RawTable needs its frame, or a source and a sample")
        self._frame = frame
        self.detected = detected
        self.excluded = excluded if excluded is not None else []
        #: rows labelled with a bare total word amid the data (see `_RowFilter`): data unless their numbers
        #: are the other rows' sums, which the importer checks; complete once the rows have been streamed
        self.candidates: list[int] = []
        self.source = source
        self._sample = sample
        self._n_rows: int | None = None
        self._has_value: dict[str, bool] = {}  # has_value's answer by column: a large CSV is streamed once for it

    @property
    def frame(self) -> pl.DataFrame:
        if self._frame is None:
            self._frame = pl.concat(list(self.chunks()))
        return self._frame

    @frame.setter
    def frame(self, value: pl.DataFrame) -> None:
        self._frame = value
        self._has_value.clear()

    @property
    def sample(self) -> pl.DataFrame:
        """The first data rows (all of them when the file was read whole)."""
        if self._frame is not None:
            return self._frame
        assert self._sample is not None
        return self._sample

    @property
    def columns(self) -> list[str]:
        return [c for c in self.sample.columns if c != ROW]

    @property
    def n_rows(self) -> int:
        if self._frame is not None:
            return self._frame.height
        if self._n_rows is None:
            for _ in self.chunks():
                pass
        assert self._n_rows is not None
        return self._n_rows

    def has_value(self, column: str) -> bool:
        """Whether any data row has a value (not a missing marker) in `column`."""
        def found(frame: pl.DataFrame) -> bool:
            return bool(frame.select((~is_missing(pl.col(column))).any()).item())

        if column not in self._has_value:
            self._has_value[column] = found(self.sample) or (
                self._frame is None and any(found(chunk.select(column)) for chunk in self.chunks()))
        return self._has_value[column]

    def chunks(self) -> Iterator[pl.DataFrame]:
        """The data rows in order, as one frame (a file read whole) or chunk by chunk (a large CSV)."""
        if self._frame is not None:
            yield self._frame
            return
        assert self.source is not None
        row_filter = _RowFilter()
        n_rows = 0
        for chunk in _stream_csv(self.source, self.detected, row_filter):
            n_rows += chunk.height
            yield chunk
        row_filter.close()
        lead = [e for e in self.excluded if e.row <= self.source.lead]
        self.excluded = sorted(lead + row_filter.excluded, key=lambda e: e.row)
        self.candidates = row_filter.candidates
        self._n_rows = n_rows
        _refuse_if_no_rows(self.detected.name, n_rows, self.excluded)


# --- what kind of file --------------------------------------------------------------------------------

def _kind_of(data: bytes, name: str) -> Kind:
    head = data[:8]
    if head.startswith(b"PK\x03\x04"):
        return "excel"
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        return "excel"
    if head.startswith(b"PAR1"):
        return "parquet"
    lowered = name.lower()
    if lowered.endswith((".xlsx", ".xlsm", ".xls")):
        raise FileRefused(f"{name}: the file is named like an Excel workbook but is not one; "
                          "open it in Excel and save it again as .xlsx or .csv")
    if lowered.endswith(".parquet"):
        raise FileRefused(f"{name}: the file is named .parquet but is not a Parquet file")
    return "csv"


def _refuse_non_text(data: bytes, name: str) -> None:
    if not data.strip(b" \t\r\n\x00\xef\xbb\xbf\xff\xfe"):
        raise FileRefused(f"{name}: the file is empty; export the report again with at least one row of data")
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith((b"<!doctype html", b"<html", b"<?xml", b"<head", b"<body")) or b"<html" in head[:1024]:
        raise FileRefused(f"{name}: this is a web page (HTML) saved with a .csv name, not an export; "
                          "download the CSV file itself from the tool (Export/Download), not the page")
    if head.startswith(b"%pdf"):
        raise FileRefused(f"{name}: this is a PDF; export the report as CSV or Excel instead")


def detect_encoding(data: bytes) -> tuple[str, int]:
    """(encoding, length of its byte-order mark) for the bytes of a text file."""
    if data.startswith(b"\xef\xbb\xbf"):
        return "utf-8", 3
    if data.startswith(b"\xff\xfe"):
        return "utf-16-le", 2
    if data.startswith(b"\xfe\xff"):
        return "utf-16-be", 2
    sample = data[:20_000]
    if len(sample) >= 4:
        even_nuls, odd_nuls = sample[0::2].count(0), sample[1::2].count(0)
        half = len(sample) / 2
        if odd_nuls > 0.3 * half and even_nuls < 0.05 * half:
            return "utf-16-le", 0
        if even_nuls > 0.3 * half and odd_nuls < 0.05 * half:
            return "utf-16-be", 0
    try:
        data[:200_000].decode("utf-8")
        return "utf-8", 0
    except UnicodeDecodeError as exc:
        if exc.start >= 200_000 - 4:  # a character cut at the sample's end
            return "utf-8", 0
    sample = data[:200_000]
    high = len(sample) - len(sample.translate(None, bytes(range(0xC0, 0x100))))
    in_runs = sum(len(run) for run in re.findall(rb"[\xc0-\xff]{2,}", sample))
    if high and in_runs / high > 0.6:  # letters that come in runs of high bytes make Cyrillic words
        upper_cp1251 = len(sample) - len(sample.translate(None, bytes(range(0xC0, 0xE0))))
        lower_cp1251 = high - upper_cp1251
        # cp1251 puts lower-case letters in E0-FF, koi8-r puts them in C0-DF; text is mostly lower case
        return ("cp1251", 0) if lower_cp1251 >= upper_cp1251 else ("koi8-r", 0)
    return "cp1252", 0


def _decode(data: bytes, encoding: str, bom: int, name: str, final: bool = True) -> bytes:
    """UTF-8 bytes without BOM (the same object when the input already is UTF-8). With `final` False
    `data` is the head of a longer file, and a character cut at its end is left out."""
    if encoding in ("utf-8", "utf8") and bom == 0:
        return data
    try:
        text = codecs.getincrementaldecoder(encoding)().decode(data[bom:], final=final)
    except (UnicodeDecodeError, LookupError) as exc:
        raise FileRefused(f"{name}: cannot be read as {encoding} ({exc}); choose another encoding") from exc
    return text.encode("utf-8")


def _normalise_newlines(utf8: bytes) -> bytes:
    """Every line end as polars reads it: a CR that is not followed by LF (old Mac and some Excel saves, or a
    stray CR inside a line) becomes LF, as `str.splitlines` would split there. The same object when there is
    none."""
    if b"\r" not in utf8 or not re.search(rb"\r(?!\n)", utf8):
        return utf8
    return re.sub(rb"\r(?!\n)", b"\n", utf8)


def _text_lines(text: str) -> list[str]:
    """The lines of normalised text as polars sees them: split at LF only (not at the other characters
    `str.splitlines` breaks at, such as U+2028 or form feed, which polars keeps inside a field)."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [ln[:-1] if ln.endswith("\r") else ln for ln in lines]


# --- layout: separator, header, preamble --------------------------------------------------------------

def _split(line: str, sep: str) -> list[str]:
    try:
        return next(csv.reader([line], delimiter=sep), [])
    except csv.Error:
        return line.split(sep)


def _choose_separator(lines: list[str]) -> str:
    """The separator that splits most lines into the same number (> 1) of fields. Lines that stay one
    field are left out of the count: they are the continuation lines of quoted multi-line cells (CRM
    comments), which would otherwise outnumber the records and make every separator look the same."""
    body = [ln for ln in lines if ln.strip() and not ln.startswith("#")][:80]
    best, best_score = ",", (-1, -1)
    for sep in SEPARATORS:
        counts = Counter(n for ln in body if (n := len(_split(ln, sep))) > 1)
        width, freq = max(counts.items(), key=lambda kv: (kv[1], kv[0])) if counts else (1, 0)
        score = (freq, width)
        if score > best_score:
            best, best_score = sep, score
    return best


def _modal_width(rows: list[list[str]]) -> int:
    """The most common number of fields of the non-empty rows (one-field rows count only when no row
    is wider: they are titles or the continuation lines of multi-line cells)."""
    filled = [len(r) for r in rows if any(c.strip() for c in r) and not r[0].startswith("#")]
    counts = Counter(n for n in filled if n > 1) or Counter(filled)
    return max(counts.items(), key=lambda kv: (kv[1], kv[0]))[0] if counts else 0


def _header_index(rows: list[list[str]], width: int) -> int:
    """First row that has the table's width and looks like names (not a '#' line, mostly non-empty)."""
    for i, r in enumerate(rows):
        if r and r[0].startswith("#"):
            continue
        filled = [c for c in r if c.strip()]
        if len(r) >= width and len(filled) >= max(1, (width + 1) // 2):
            return i
    return 0


def _period_from(preamble: list[str]) -> tuple[tuple[date, date] | None, str | None]:
    found: dict[str, date] = {}
    for line in preamble:
        m = _GA4_DATE_RE.match(line.strip())
        if m:
            d = parse_range(f"{m.group(2)}-{m.group(2)}")
            if d:
                word = m.group(1).lower()
                found[next(k for k, words in _GA4_RANGE_WORDS.items() if word in words)] = d[0]
    if {"start", "end"} <= set(found):
        return (found["start"], found["end"]), f"{found['start']}..{found['end']}"
    start = end = None
    for line in preamble:
        text = line.strip().lstrip("#").strip().strip('"').strip()
        rng = parse_range(text)
        if rng:
            return rng, text
        low = text.lower()
        if low in ("all time", "за всё время", "за все время", "hela perioden"):
            return None, text
        m = re.match(r"(?i)^report (start|end)\s*:\s*(.+)$", text)
        if m:
            day = parse_day(m.group(2))
            if m.group(1).lower() == "start":
                start = day
            else:
                end = day
    if start and end:
        return (start, end), f"{start}..{end}"
    return None, None


def _literal_name(name: str, i: int) -> str:
    """A header name that every polars expression takes literally: `pl.col` reads `*` as every column and
    `^…$` as a regular expression, and `__row` is the reader's own row number column; such a name gets its
    column number added."""
    if name == "*" or (name.startswith("^") and name.endswith("$")) or name == ROW:
        return f"{name} (column {i + 1})"
    return name


def _dedupe(names: list[str]) -> list[str]:
    seen: Counter[str] = Counter()
    out = []
    for i, raw in enumerate(names):
        name = _literal_name(raw, i) if raw.strip() else f"column {i + 1}"
        seen[name] += 1
        out.append(name if seen[name] == 1 else f"{name} ({seen[name]})")
    return out


def _is_total_cells(cells: list[str]) -> bool:
    """Whether the first non-empty of the first four cells is a total label (bare or not: used for the rows
    right under the header, where a bare label is a total by position)."""
    label = next((c for c in cells[:4] if c.strip().lower() not in MISSING_MARKERS), "")
    return bool(_TOTAL_RE.match(label))


# --- CSV ------------------------------------------------------------------------------------------------

def _sections(text: str) -> list[tuple[str, int]]:
    """(title, start offset) of each table in a multi-table CSV (GA4 'Report CSV Export'):
    tables are separated by a blank line followed by '#' lines."""
    starts = [0] + [m.start() + 1 for m in re.finditer(r"\n[ \t\r]*\n(?=#)", text)]
    out = []
    for pos in starts:
        chunk = text[pos:pos + 4000].lstrip("\r\n")
        lines = _text_lines(chunk)
        comments = [ln.lstrip("#").strip() for ln in lines if ln.startswith("#")]
        header = next((ln for ln in lines if ln.strip() and not ln.startswith("#")), "")
        titled = [c for c in comments if c and not set(c) <= {"-"} and not _GA4_DATE_RE.match("# " + c)
                  and not c.lower().startswith(("account:", "property:"))]
        title = (titled[-1] + " — " if titled and pos else "") + header.strip()
        out.append((title, pos))
    return out


def _guess_decimal(frame: pl.DataFrame, sep: str) -> str:
    sample = frame.head(500)
    comma = dot = 0
    for col in sample.columns:
        if col == ROW:
            continue
        s = sample[col].drop_nulls().str.strip_chars()
        comma += int(s.str.contains(r"^[-+]?[\d\s\u00a0.]*\d,\d+\s*%?$").sum())
        dot += int(s.str.contains(r"^[-+]?[\d\s\u00a0,]*\d\.\d+\s*%?$").sum())
        if sep == ",":
            # with a comma separator, 'x,yyy' is a thousands group unless the group is not 3 digits
            comma -= int(s.str.contains(r"^[-+]?\d{1,3}(,\d{3})+$").sum())
    return "," if comma > dot else "."


def _read_csv(data: bytes, name: str, encoding: str | None, separator: str | None, decimal: str | None,
              part: int | None, path: Path | None = None) -> RawTable:
    """`data` is the whole file, or only its head when `path` is given (a large file on disk, whose
    rows are then streamed from the path in chunks when they are needed)."""
    _refuse_non_text(data, name)
    if encoding is None:
        encoding, bom = detect_encoding(data)
    else:
        bom = 3 if data.startswith(b"\xef\xbb\xbf") and encoding.startswith("utf-8") else (
            2 if data[:2] in (b"\xff\xfe", b"\xfe\xff") and encoding.startswith("utf-16") else 0)
    if not encoding.startswith("utf-16") and b"\x00" in data[:65536]:
        raise FileRefused(f"{name}: this is a binary file, not a CSV or text export; upload the CSV or Excel file")
    utf8 = _decode(data, encoding, bom, name, final=path is None)
    if path is not None and utf8.endswith(b"\r"):  # the head of a longer file: its CR may be half of a CRLF
        utf8 = utf8[:-1]
    utf8 = _normalise_newlines(utf8)

    head_text = utf8[:_SAMPLE_CHARS].decode("utf-8", errors="ignore")
    parts: tuple[str, ...] = ()
    section_line = 0  # file line (0-based) where the part read starts
    if re.search(r"\n[ \t\r]*\n#", utf8[:4_000_000].decode("utf-8", errors="ignore")) and path is None \
            and len(utf8) < 50_000_000:
        full = utf8.decode("utf-8", errors="replace")
        sections = _sections(full)
        if len(sections) > 1:
            parts = tuple(t for t, _ in sections)
            part = part or 0
            if not 0 <= part < len(sections):
                raise FileRefused(f"{name}: has {len(sections)} tables; choose one of 1..{len(sections)}")
            start = sections[part][1]
            end = sections[part + 1][1] if part + 1 < len(sections) else len(full)
            chunk = full[start:end].lstrip("\r\n")
            section_line = full.count("\n", 0, end - len(chunk))
            utf8 = chunk.encode("utf-8")
            head_text = chunk[:_SAMPLE_CHARS]

    lines = _text_lines(head_text)[:200]
    sep = separator or _choose_separator(lines)
    rows = [_split(ln, sep) if ln.strip() else [] for ln in lines]
    width = _modal_width(rows)
    hdr = _header_index(rows, width)
    preamble = [ln for ln in lines[:hdr] if ln.strip()]
    period, period_text = _period_from(preamble)
    if hdr >= len(rows) or not rows:
        raise FileRefused(f"{name}: no table found in the file")
    header = [c.strip().strip("\ufeff") for c in rows[hdr]]
    if len(header) < 2:
        raise FileRefused(f"{name}: found only one column; if the file uses another separator, choose it")
    columns = _dedupe(header)
    has_rows = any(ln.strip() for ln in lines[hdr + 1:]) or len(head_text) >= _SAMPLE_CHARS
    data_start = _data_start(utf8, hdr, name)
    if not has_rows or data_start >= len(utf8):
        raise FileRefused(f"{name}: has a header ({', '.join(columns[:5])}…) but no data rows; "
                          "export the report for a period that has data")
    first_line = section_line + utf8.count(b"\n", 0, data_start) + 1  # 1-based file line of the first data line

    # leading total rows (GA4 Explore writes the grand total first, with one extra field)
    excluded: list[Excluded] = []
    lead = 0
    for r in rows[hdr + 1:hdr + 4]:
        if (len(r) > len(header) and any("total" in c.lower() for c in r[len(header):])) or _is_total_cells(r):
            excluded.append(Excluded(lead + 1, "total row", sep.join(r)[:120]))
            lead += 1
        else:
            break
    detected = Detected(name, "csv", encoding, sep, decimal or ".", hdr, tuple(preamble), period, period_text,
                        parts, part or 0)
    if path is not None:
        return _lazy_csv(path, utf8, bom, data_start, first_line, columns, lead, detected, excluded, decimal)

    frame, ragged, _ = _parse_records(utf8[data_start:], detected, columns, first_line, 0, lead)
    raw = RawTable(frame.filter(pl.col(ROW) > lead) if lead else frame, detected, excluded + ragged)
    raw = _drop_totals_and_footers(raw)
    _refuse_if_no_rows(raw.detected.name, raw.frame.height, raw.excluded)
    if decimal is None:
        raw.detected = replace(raw.detected, decimal=_guess_decimal(raw.frame, sep))
    raw.frame = _with_nth_day_dates(raw.frame, raw.detected)
    return raw


def _data_start(utf8: bytes, hdr: int, name: str) -> int:
    """Offset in `utf8` of the first record under the header record, which starts after `hdr` lines."""
    pos = 0
    for _ in range(hdr):
        nl = utf8.find(b"\n", pos)
        if nl < 0:
            return len(utf8)
        pos = nl + 1
    end = _record_end(utf8, pos)
    if not end and utf8.find(b"\n", pos) >= 0:
        raise FileRefused(f'{name}: the header (line {hdr + 1}) has a quote (") that is never closed, so the whole '
                          "file reads as one header; fix the header or export the file again")
    return end or len(utf8)


def _records(body: bytes, sep: str) -> pl.DataFrame:
    """One row per CSV record of `body` (the records under the header, lines ended by LF): the byte
    offsets where it `start`s and `end`s (after its LF), the 0-based `line` it starts on, the `lines` it
    spans and its number of `fields`. A quote character toggles being inside a quoted field, as polars
    counts them: a line end or separator inside quotes does not end a record or a field. Vectorised
    over the bytes (numpy), a few passes of one byte per byte."""
    if not body:
        return pl.DataFrame(schema=dict.fromkeys(("start", "end", "line", "lines", "fields"), pl.Int64))
    arr = np.frombuffer(body, dtype=np.uint8)
    line_ends = np.flatnonzero(arr == 10)
    if body[-1:] != b"\n":  # the last line has no LF: it ends at the end
        line_ends = np.append(line_ends, len(body) - 1)
    seps = np.flatnonzero(arr == ord(sep))
    quote = arr == 34
    if quote.any():
        inside = np.bitwise_xor.accumulate(quote.view(np.uint8))  # 1 within a quoted field
        closes = inside[line_ends] == 0
        closes[-1] = True  # the end of the text ends the last record, even with a quote left open
        seps = seps[inside[seps] == 0]
        del inside
    else:
        closes = np.ones(len(line_ends), dtype=bool)
    del quote
    last_line = np.flatnonzero(closes)  # index (in line_ends) of each record's last line
    ends = line_ends[last_line] + 1
    first_line = np.concatenate(([0], last_line[:-1] + 1))
    fields = np.bincount(np.searchsorted(ends, seps, side="right"), minlength=len(ends))[: len(ends)] + 1
    return pl.DataFrame({"start": np.concatenate(([0], ends[:-1])), "end": ends, "line": first_line,
                         "lines": last_line - first_line + 1, "fields": fields}).cast(pl.Int64)


def _parse_records(body: bytes, detected: Detected, columns: list[str], first_line: int, row_offset: int,
                   lead: int = 0) -> tuple[pl.DataFrame, list[Excluded], int]:
    """The records of `body` (UTF-8, starting at a record under the header, on 1-based file line
    `first_line`) as text columns plus `ROW` (numbered from `row_offset` + 1), the records that do not
    have the header's number of fields (ragged: left out and listed with their lines, never padded or cut,
    except a line that holds a single field, which is kept with the rest empty: blank lines, notes,
    footers), and how many records there were. The first `lead` rows are the leading total rows,
    already excluded."""
    name, sep, width = detected.name, detected.separator or ",", len(columns)
    records = _records(body, sep).with_columns(
        pl.int_range(row_offset + 1, row_offset + 1 + pl.len(), dtype=pl.Int64).alias(ROW))
    bad = (pl.col("fields") != width) & (pl.col("fields") != 1) & (pl.col(ROW) > lead)
    ragged = records.filter(bad)
    excluded = [Excluded(row, _ragged_reason(first_line + line, n_lines, fields, width), "", malformed=True)
                for line, n_lines, fields, row in ragged.select("line", "lines", "fields", ROW).iter_rows()]
    kept = records.filter(~bad) if excluded else records
    if excluded:  # the bytes of the other records only
        keep = np.repeat(~records.select(bad).to_series().to_numpy(), (records["end"] - records["start"]).to_numpy())
        body = np.frombuffer(body, dtype=np.uint8)[keep].tobytes()
        kept = kept.with_columns(end=(pl.col("end") - pl.col("start")).cum_sum()).with_columns(
            start=pl.col("end").shift(1, fill_value=0))
    header = sep.join(f"c{i}" for i in range(width)).encode() + b"\n"
    try:
        frame = _parse_csv(header + body, detected, columns)
    except pl.exceptions.PolarsError as exc:
        try:
            body.decode("utf-8")
        except UnicodeDecodeError as bad_text:
            line = first_line + body.count(b"\n", 0, bad_text.start)
            raise FileRefused(f"{name}: line {line} cannot be read as {detected.encoding} ({bad_text.reason}); "
                              "choose the file's encoding (for example cp1251 or cp1252) or save it again as "
                              "UTF-8") from exc
        bad_line = _first_unreadable(header, body, kept, detected, columns)
        where = f"line {first_line + bad_line}" if bad_line is not None else "a line"
        raise FileRefused(f"{name}: {where} cannot be read as CSV ({str(exc).splitlines()[0][:120]}); "
                          'a quote (") inside a value that is not itself in quotes breaks the file: fix the '
                          "line or export the file again") from exc
    if frame.height != kept.height:
        raise FileRefused(f"{name}: the lines from {first_line} on cannot be split into records consistently "
                          "(quotes that do not pair up?); fix the file or export it again")
    return frame.insert_column(0, kept[ROW]), excluded, records.height


def _ragged_reason(line: int, n_lines: int, fields: int, width: int) -> str:
    where = f"line {line}" if n_lines == 1 else f"lines {line}–{line + n_lines - 1} (one record: a quote left open?)"
    return (f"{where} has {fields} fields but the header has {width}; its values cannot be placed in columns "
            "(fix the line or export again)")


def _first_unreadable(header: bytes, body: bytes, records: pl.DataFrame, detected: Detected,
                      columns: list[str]) -> int | None:
    """The 0-based line (within the records' file text) of the first record polars cannot parse, found by
    halving the records."""
    starts, ends, lines = records["start"].to_list(), records["end"].to_list(), records["line"].to_list()

    def fails(lo: int, hi: int) -> bool:
        try:
            _parse_csv(header + body[starts[lo]:ends[hi - 1]], detected, columns)
        except pl.exceptions.PolarsError:
            return True
        return False

    lo, hi = 0, len(starts)
    if not hi or not fails(lo, hi):
        return None
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if fails(lo, mid):
            hi = mid
        elif fails(mid, hi):
            lo = mid
        else:
            break
    return int(lines[lo])


def _parse_csv(utf8: bytes, detected: Detected, columns: list[str]) -> pl.DataFrame:
    """UTF-8 records under a header record of exactly `len(columns)` fields, as text columns."""
    return pl.read_csv(
        utf8, has_header=True, separator=detected.separator or ",", infer_schema=False,
        new_columns=columns, truncate_ragged_lines=True, raise_if_empty=False, quote_char='"', encoding="utf8",
    )


def _record_end(buf: bytes, start: int = 0, *, last: bool = False) -> int:
    """Offset just after the first (or `last`) line end in `buf[start:]` that ends a CSV record, i.e. is
    not inside a quoted field (an even number of quote characters before it); 0 when there is none."""
    if last:
        pos = buf.rfind(b"\n", start)
        quotes = buf.count(b'"', start, pos) if pos >= 0 else 0
        while pos >= 0 and quotes % 2:
            prev = buf.rfind(b"\n", start, pos)
            quotes -= buf.count(b'"', max(prev, start), pos)
            pos = prev
        return pos + 1
    pos = buf.find(b"\n", start)
    quotes = buf.count(b'"', start, pos) if pos >= 0 else 0
    while pos >= 0 and quotes % 2:
        nxt = buf.find(b"\n", pos + 1)
        quotes += buf.count(b'"', pos, nxt if nxt >= 0 else len(buf))
        pos = nxt
    return pos + 1


def _lazy_csv(path: Path, head: bytes, bom: int, data_start: int, first_line: int, columns: list[str], lead: int,
              detected: Detected, excluded: list[Excluded], decimal: str | None) -> RawTable:
    """A large CSV on disk: where its records start, and a sample of its first chunk; no more is read."""
    assert detected.encoding is not None and detected.separator is not None  # the separator: for _guess_decimal
    source = CsvSource(path, detected.encoding, bom, data_start, first_line, tuple(columns), lead)
    stream = _stream_csv(source, detected, _RowFilter())
    chunks = [pl.DataFrame(schema={ROW: pl.Int64, **dict.fromkeys(columns, pl.String)})]
    while sum(c.height for c in chunks) < _SAMPLE_ROWS and (chunk := next(stream, None)) is not None:
        chunks.append(chunk)
    stream.close()
    sample = pl.concat(chunks, how="diagonal")
    if decimal is None:
        detected = replace(detected, decimal=_guess_decimal(sample, detected.separator))
    return RawTable(None, detected, excluded, source=source, sample=sample)


def _utf8_blocks(source: CsvSource, name: str) -> Iterator[bytes]:
    """The file after its byte-order mark, as UTF-8 blocks of about `_CHUNK_BYTES` (decoded block by block),
    with line ends normalised as for a file read whole (a CR at a block's end waits for the next block)."""
    utf8 = source.encoding in ("utf-8", "utf8")
    decoder = None if utf8 else codecs.getincrementaldecoder(source.encoding)()
    carry = b""
    with source.path.open("rb") as fh:
        fh.seek(source.bom)
        while True:
            raw = fh.read(_CHUNK_BYTES)
            block = raw
            if decoder is not None:
                try:
                    block = decoder.decode(raw, final=not raw).encode("utf-8")
                except UnicodeDecodeError as exc:
                    raise FileRefused(f"{name}: cannot be read as {source.encoding} ({exc}); "
                                      "choose another encoding") from exc
            if carry:
                block, carry = carry + block, b""
            if raw and block.endswith(b"\r"):
                block, carry = block[:-1], b"\r"
            if block:
                yield _normalise_newlines(block)
            if not raw:
                return


def _stream_csv(source: CsvSource, detected: Detected, row_filter: _RowFilter) -> Generator[pl.DataFrame]:
    """The data rows of a large CSV, chunk by chunk, numbered and filtered as a whole-file read would;
    ragged records go to `row_filter.excluded`."""
    columns = list(source.columns)
    skip, pending, offset, line = source.data_start, b"", 0, source.first_line
    for block in _utf8_blocks(source, detected.name):
        if skip:
            cut = min(skip, len(block))
            block, skip = block[cut:], skip - cut
        buf = pending + block if pending else block
        end = _record_end(buf, last=True)
        pending = buf[end:]
        if not end:
            continue
        records = buf[:end]
        frame, ragged, n = _parse_records(records, detected, columns, line, offset, source.lead)
        row_filter.excluded += ragged
        offset += n
        line += records.count(b"\n")
        yield from _filtered(frame, source, detected, row_filter)
    if pending:
        frame, ragged, _ = _parse_records(pending, detected, columns, line, offset, source.lead)
        row_filter.excluded += ragged
        yield from _filtered(frame, source, detected, row_filter)


def _filtered(frame: pl.DataFrame, source: CsvSource, detected: Detected,
              row_filter: _RowFilter) -> Iterator[pl.DataFrame]:
    if frame.height and frame[ROW][0] <= source.lead:
        frame = frame.filter(pl.col(ROW) > source.lead)
    rows = row_filter.feed(frame)
    if rows.height:
        yield _with_nth_day_dates(rows, detected)


def _with_nth_day_dates(frame: pl.DataFrame, detected: Detected) -> pl.DataFrame:
    """GA4 'Nth day' tables count days from the report's start date; add the calendar date."""
    cols = [c for c in frame.columns if c != ROW]
    if cols and cols[0] == "Nth day" and detected.period:
        start = detected.period[0]
        return frame.with_columns(
            (pl.lit(start) + pl.duration(days=pl.col("Nth day").cast(pl.Int64, strict=False)))
            .dt.strftime("%Y-%m-%d").alias("Date"))
    return frame


class _RowFilter:
    """Leaves out blank rows, total rows and the trailing block of footers, from rows that arrive in one or
    more chunks.

    A row is a total by its label's shape and position: the first of its first four cells that holds a
    value (not a missing marker such as ' --') is a total label (`_TOTAL_RE`). A label with more to it
    (`Total: Campaigns`, `Grand total`, `Итого по кампаниям`) is a total anywhere; a bare label (`Total`,
    `Totalt`, `Summa`, `Итого`) is one only before the first or after the last data row, and elsewhere
    stays data with its row number kept in `candidates`, for the importer to compare its numbers with the
    other rows' sums. Rows after the last real data row seen so far that hold only a first cell, or a bare
    label, are held back until a later real row shows they are data, or the end shows they are footers
    and totals."""

    def __init__(self) -> None:
        self.excluded: list[Excluded] = []
        self.candidates: list[int] = []
        self._held: pl.DataFrame | None = None
        self._seen_real = False

    @staticmethod
    def _texts(frame: pl.DataFrame) -> pl.DataFrame:
        first = [c for c in frame.columns if c != ROW][:4]
        return frame.select(
            ROW, pl.concat_str([pl.col(c) for c in first], separator=" | ", ignore_nulls=True).str.strip_chars(" |"))

    @staticmethod
    def _label(cols: list[str]) -> pl.Expr:
        """The first of the first four cells that holds a value."""
        return pl.coalesce([pl.when(~is_missing(pl.col(c))).then(pl.col(c)) for c in cols[:4]])

    def feed(self, frame: pl.DataFrame) -> pl.DataFrame:
        """The rows of `frame` (after any held back) that are certainly data."""
        if self._held is not None:
            frame = pl.concat([self._held, frame])
            self._held = None
        cols = [c for c in frame.columns if c != ROW]
        if not cols:
            return frame
        empty = [pl.col(c).is_null() | (pl.col(c) == "") for c in cols]  # '' is a quoted empty field
        blank = pl.all_horizontal(empty)
        only_first = pl.all_horizontal(empty[1:]) if len(cols) > 2 else pl.lit(False)
        marks = frame.select(ROW, blank.alias("b"), only_first.alias("o"))
        # labels are read only on the rows where one of the first cells starts with a total word (few)
        maybe = frame.select(pl.any_horizontal(pl.col(c).str.contains(_TOTAL_START).fill_null(False)
                                               for c in cols[:4])).to_series()
        if maybe.any():
            label = self._label(cols)
            bare = label.str.contains(_BARE_TOTAL_RE.pattern).fill_null(False)
            labels = frame.filter(maybe).select(
                ROW, (label.str.contains(_TOTAL_RE.pattern).fill_null(False) & ~bare).alias("t"), bare.alias("s"))
            marks = marks.join(labels, on=ROW, how="left", maintain_order="left").with_columns(
                pl.col("t", "s").fill_null(False))
        else:
            marks = marks.with_columns(t=pl.lit(False), s=pl.lit(False))
        real = ~(pl.col("t") | pl.col("s") | pl.col("b") | pl.col("o"))
        first_real, last_real = marks.select(pl.col(ROW).filter(real).min().alias("a"),
                                             pl.col(ROW).filter(real).max().alias("z")).row(0)
        after = pl.col(ROW) > last_real if last_real is not None else pl.lit(True)
        before = pl.lit(False) if self._seen_real or first_real is None else pl.col(ROW) < first_real
        self._seen_real = self._seen_real or first_real is not None
        flags = marks.select(
            ROW, (pl.col("t") | (pl.col("s") & before)).alias("total"),
            (after & (pl.col("o") | pl.col("s")) & ~pl.col("t") & ~pl.col("b") & ~before).alias("held"),
            (~after & ~before & pl.col("s")).alias("candidate"),
            (~after & ~pl.col("t") & ~pl.col("b") & ~(pl.col("s") & before)).alias("keep"))
        if flags["total"].any():
            for row, text in self._texts(frame.filter(flags["total"])).iter_rows():
                self.excluded.append(Excluded(row, "total row", str(text)[:120]))
        self.candidates += flags.filter("candidate")[ROW].to_list()
        if flags["held"].any():
            self._held = frame.filter(flags["held"])
        return frame if flags["keep"].all() else frame.filter(flags["keep"])

    def close(self) -> None:
        """The end of the rows: what is still held back is a total (a bare total label) or a footer."""
        if self._held is not None:
            cols = [c for c in self._held.columns if c != ROW]
            bare = self._held.select(self._label(cols).str.contains(_BARE_TOTAL_RE.pattern).fill_null(False))
            for (row, text), total in zip(self._texts(self._held).iter_rows(), bare.to_series(), strict=True):
                reason = "total row" if total else "footer note" if _FOOTER_RE.search(str(text)) else "footer line"
                self.excluded.append(Excluded(row, reason, str(text)[:120]))
            self._held = None
        self.excluded.sort(key=lambda e: e.row)


def _drop_totals_and_footers(raw: RawTable) -> RawTable:
    """Remove blank rows, total rows anywhere, and the trailing block of footers."""
    row_filter = _RowFilter()
    raw.frame = row_filter.feed(raw.frame)
    row_filter.close()
    raw.excluded = sorted(raw.excluded + row_filter.excluded, key=lambda e: e.row)
    raw.candidates = row_filter.candidates
    return raw


# --- Excel and Parquet ----------------------------------------------------------------------------------

def _check_zip(data: bytes, name: str) -> None:
    """Refuse a workbook that would inflate beyond `MAX_UNZIPPED_BYTES` (or `MAX_ZIP_RATIO` times its size
    past 50 MB). The sizes its index states are checked first; then, since an index can lie, each
    member's compressed stream is inflated a MB at a time, its output counted and dropped, and the file is
    refused as soon as a member gives more than its index says. So nothing inflates past the limit."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise FileRefused(f"{name}: is a damaged or incomplete Excel/zip file; save it again and re-upload") from exc
    if not any(i.filename.startswith("xl/") for i in infos):
        raise FileRefused(f"{name}: is a zip archive, not an Excel workbook; unzip it and upload the CSV inside")
    declared = sum(i.file_size for i in infos)
    if declared > min(MAX_UNZIPPED_BYTES, max(50_000_000, MAX_ZIP_RATIO * len(data))):
        raise FileRefused(f"{name}: refused: it would unpack to {declared / 1e6:,.0f} MB from "
                          f"{len(data) / 1e6:,.1f} MB (a zip bomb or a corrupt workbook); export the data as CSV "
                          "instead")
    for info in infos:
        _check_member(data, info, name)


def _check_member(data: bytes, info: zipfile.ZipInfo, name: str) -> None:
    """Inflate the member `info` of the zip `data` a MB at a time without keeping the output, and refuse
    the file once it gives more bytes than its index states."""
    damaged = FileRefused(f"{name}: is a damaged or incomplete Excel/zip file; save it again and re-upload")
    start = info.header_offset
    if data[start:start + 4] != b"PK\x03\x04" or len(data) < start + 30:
        raise damaged
    if info.compress_type == zipfile.ZIP_STORED:  # read as it is: never more than the file itself
        return
    if info.compress_type != zipfile.ZIP_DEFLATED:
        raise FileRefused(f"{name}: member {info.filename!r} uses a compression Excel does not write; "
                          "open the file in Excel and save it again as .xlsx")
    name_len, extra_len = struct.unpack("<HH", data[start + 26:start + 30])
    pos = start + 30 + int(name_len) + int(extra_len)
    view = memoryview(data)
    inflate = zlib.decompressobj(-zlib.MAX_WBITS)
    out = 0
    try:
        while not inflate.eof and pos < len(data):
            pending: bytes | memoryview = view[pos:pos + _INFLATE_STEP]
            pos += len(pending)
            while pending and not inflate.eof:
                out += len(inflate.decompress(pending, _INFLATE_STEP))
                if out > info.file_size:
                    raise FileRefused(
                        f"{name}: refused: {info.filename} inflates to more than the {info.file_size:,} bytes "
                        "the zip index states (a zip bomb or a corrupt workbook); export the data as CSV instead")
                pending = inflate.unconsumed_tail
    except zlib.error as exc:
        raise damaged from exc


def _read_excel(data: bytes, name: str, part: int | None) -> RawTable:
    if data.startswith(b"PK"):
        _check_zip(data, name)
    try:
        sheets = pl.read_excel(io.BytesIO(data), sheet_id=0, has_header=False, infer_schema_length=0,
                               drop_empty_rows=False)
    except Exception as exc:  # fastexcel raises its own error types
        raise FileRefused(f"{name}: cannot be opened as an Excel workbook ({exc})") from exc
    names = tuple(sheets)
    if part is None:  # the first sheet with a header and at least one row
        part = next((i for i, n in enumerate(names) if sheets[n].height >= 2), 0)
    if not 0 <= part < len(names):
        raise FileRefused(f"{name}: has {len(names)} sheets; choose one of 1..{len(names)}")
    sheet = sheets[names[part]].select(pl.all().cast(pl.String))
    if sheet.height == 0:
        raise FileRefused(f"{name}: sheet '{names[part]}' is empty")
    rows = [["" if v is None else str(v) for v in r] for r in sheet.head(200).iter_rows()]
    rows = [r[: max((i + 1 for i, v in enumerate(r) if v.strip()), default=0)] for r in rows]
    width = _modal_width(rows)
    hdr = _header_index(rows, width)
    preamble = [" ".join(c for c in r if c).strip() for r in rows[:hdr] if any(c.strip() for c in r)]
    period, period_text = _period_from(preamble)
    header = [c.strip() for c in rows[hdr]] + [""] * (sheet.width - len(rows[hdr]))
    columns = _dedupe(header)
    frame = sheet.slice(hdr + 1).rename(dict(zip(sheet.columns, columns, strict=True)))
    frame = frame.select([c for c, h in zip(columns, header, strict=True) if h.strip()])
    if frame.height == 0:
        raise FileRefused(f"{name}: sheet '{names[part]}' has a header but no data rows")
    frame = frame.with_row_index(ROW, offset=1).with_columns(pl.col(ROW).cast(pl.Int64))
    detected = Detected(name, "excel", None, None, ".", hdr, tuple(preamble), period, period_text, names, part)
    raw = _drop_totals_and_footers(RawTable(frame, detected))
    _refuse_if_no_rows(raw.detected.name, raw.frame.height, raw.excluded)
    return raw


def _refuse_if_no_rows(name: str, n_rows: int, excluded: list[Excluded]) -> None:
    if n_rows:
        return
    ragged = [e.reason for e in excluded if e.malformed]
    if ragged:
        raise FileRefused(f"{name}: no line has the header's number of fields: {'; '.join(ragged[:3])}. "
                          "If the file uses another separator, choose it")
    notes = "; ".join(f"'{e.text}'" for e in excluded[:3])
    said = f" (the file says {notes})" if notes else ""
    raise FileRefused(f"{name}: has a header but no data rows{said}; "
                      "export the report for a period that has data")


def _read_parquet(data: bytes, name: str) -> RawTable:
    try:
        frame = pl.read_parquet(io.BytesIO(data))
    except Exception as exc:  # pyarrow/polars raise several error types for damaged files
        raise FileRefused(f"{name}: cannot be read as Parquet ({exc})") from exc
    from kpi.sources import eventfiles  # an event export's nested columns (GA4 BigQuery, PostHog batch export)

    if frame.height and eventfiles.nested(frame):
        return eventfiles.read_nested_parquet(frame, name)
    frame = frame.select(pl.all().cast(pl.String)).with_row_index(ROW, offset=1)
    frame = frame.with_columns(pl.col(ROW).cast(pl.Int64))
    if frame.height == 0:
        raise FileRefused(f"{name}: the Parquet file has no rows")
    return RawTable(frame, Detected(name, "parquet"))


# --- entry points ------------------------------------------------------------------------------------

def read_bytes(data: bytes, name: str, *, encoding: str | None = None, separator: str | None = None,
               decimal: str | None = None, part: int | None = None, path: Path | None = None) -> RawTable:
    """Read an uploaded file. `name` is used for messages and to tell the format apart;
    `encoding`, `separator`, `decimal` and `part` (sheet or section, 0-based) override detection."""
    if not data:
        raise FileRefused(f"{name}: the file is empty; export the report again with at least one row of data")
    if separator is not None and separator not in SEPARATORS:
        raise FileRefused(f"separator must be one of {', '.join(repr(s) for s in SEPARATORS)}, got {separator!r}")
    if decimal is not None and decimal not in (".", ","):
        raise FileRefused(f"decimal mark must be '.' or ',', got {decimal!r}")
    if encoding is not None:
        try:
            encoding = codecs.lookup(encoding).name
        except LookupError as exc:
            raise FileRefused(f"unknown encoding {encoding!r}; use one of {', '.join(ENCODINGS)}") from exc
    from kpi.sources import eventfiles  # JSON lines, gzip and zips of them: event exports

    if data[:2] == b"\x1f\x8b" or eventfiles.looks_like_json(data) or (
            data[:4] == b"PK\x03\x04" and eventfiles.is_event_zip(data)):
        return eventfiles.read_event_bytes(data, name)
    kind = _kind_of(data, name)
    if kind == "excel":
        return _read_excel(data, name, part)
    if kind == "parquet":
        return _read_parquet(data, name)
    return eventfiles.unpack_csv(_read_csv(data, name, encoding, separator, decimal, part, path))


def read_file(path: str | Path, **options: object) -> RawTable:
    """`read_bytes` for a file on disk."""
    p = Path(path)
    if not p.is_file():
        raise FileRefused(f"{p}: no such file")
    if p.stat().st_size > _LARGE and p.suffix.lower() in (".csv", ".tsv", ".txt", ""):
        with p.open("rb") as fh:  # sniff the head; polars reads the rest straight from disk
            return read_bytes(fh.read(_LARGE), p.name, path=p, **options)  # type: ignore[arg-type]
    return read_bytes(p.read_bytes(), p.name, **options)  # type: ignore[arg-type]

