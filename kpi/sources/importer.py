"""From a raw table and a mapping to a canonical table, with a validation report; and the
`python -m kpi import` command.

Nothing is dropped silently: totals and footers (found by the reader), rows with a required value
missing or unreadable, rows that break a canonical rule (a stage dated before creation, a negative
amount) and repeated ids are listed in the report with their data row numbers (row 1 = the first
row under the header). The accepted rows always pass `kpi.schema.validate` without errors.

Event exports (`table == "events"`) follow the same path with three rules of their own: the timestamp column is
read by `kpi.sources.eventrules.event_times` (Unix time, UTC offsets, or wall-clock time in a chosen zone, all to
UTC); the person falls back from the tool's first identity column to the next (person_id → distinct_id, user_id
→ device_id or user_pseudo_id), each event that fell back counted in the report as changed; and an event repeating
an earlier one's person, time, name and event id ($insert_id, uuid) is a copy, rejected and named.
"""

from __future__ import annotations

import argparse
import json
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from kpi.money import currencies
from kpi.schema import DATE, FLOAT, INT, RANGED_TABLES, STR, TABLES, TIMESTAMP, conform, validate
from kpi.sources.eventrules import MAX_PROPERTIES, BadTimezone, check_timezone, event_properties, event_times
from kpi.sources.files import ROW, Detected, FileRefused, RawTable, read_file
from kpi.sources.mapping import DamagedMapping, Mapping, MappingStore, suggest
from kpi.sources.presets import BY_ID, Preset, recognise
from kpi.sources.values import (
    DATE_SAMPLE,
    DateParse,
    decimal_conflicts,
    is_missing,
    number_failures,
    parse_dates,
    parse_dates_as,
    parse_number,
)

_MAX_LISTED = 20


class ImportRefused(FileRefused):
    """The file was read but cannot become a canonical table; the message says what to do."""


@dataclass(frozen=True)
class RowIssue:
    """Rows left out (`rejected=True`) or changed, for one reason."""

    reason: str
    rows: tuple[int, ...]
    file: str = ""
    rejected: bool = True

    def __str__(self) -> str:
        shown = ", ".join(str(r) for r in self.rows[:_MAX_LISTED])
        more = f" and {len(self.rows) - _MAX_LISTED} more" if len(self.rows) > _MAX_LISTED else ""
        where = f"{self.file}: " if self.file else ""
        return f"{where}{self.reason} — {len(self.rows)} row(s): {shown}{more}"


@dataclass
class Report:
    """What an import found, before anyone confirms it.

    Every row read is accounted for once: rows_read = rows_accepted + rows_rejected + len(totals_excluded)
    + rows_joined, where rows_joined counts the rows of a second file merged into the rows of the first
    that have the same key (a join's matched rows; its unmatched or repeated ones are rejected)."""

    file: str
    detected: str
    preset: str
    table: str
    rows_read: int = 0
    rows_accepted: int = 0
    totals_excluded: list[str] = field(default_factory=list)
    issues: list[RowIssue] = field(default_factory=list)
    columns_used: dict[str, str] = field(default_factory=dict)
    columns_ignored: list[str] = field(default_factory=list)
    date_range: tuple[str, str] | None = None
    duplicates: int = 0
    ambiguous_dates: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    rows_joined: int = 0

    @property
    def rows_rejected(self) -> int:
        return len({(i.file, r) for i in self.issues if i.rejected for r in i.rows})

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": self.file, "detected": self.detected, "preset": self.preset, "table": self.table,
            "rows_read": self.rows_read, "rows_accepted": self.rows_accepted, "rows_rejected": self.rows_rejected,
            "totals_excluded": self.totals_excluded,
            "rejected": [{"reason": i.reason, "rows": list(i.rows), "file": i.file} for i in self.issues if i.rejected],
            "changed": [{"reason": i.reason, "rows": list(i.rows), "file": i.file}
                        for i in self.issues if not i.rejected],
            "columns_used": self.columns_used, "columns_ignored": self.columns_ignored,
            "date_range": list(self.date_range) if self.date_range else None, "duplicates": self.duplicates,
            "ambiguous_dates": self.ambiguous_dates, "warnings": self.warnings, "rows_joined": self.rows_joined,
        }

    def lines(self) -> list[str]:
        out = [f"file: {self.file}", f"detected: {self.detected}", f"format: {self.preset} → {self.table}",
               f"rows read: {self.rows_read}, accepted: {self.rows_accepted}, rejected: {self.rows_rejected}"
               + (f", joined into other rows: {self.rows_joined}" if self.rows_joined else "")]
        out += [f"excluded (not data): {t}" for t in self.totals_excluded]
        out += [("rejected: " if i.rejected else "changed: ") + str(i) for i in self.issues]
        if self.columns_used:
            out.append("columns used: " + ", ".join(f"{c} → {f}" for f, c in self.columns_used.items()))
        if self.columns_ignored:
            out.append("columns ignored: " + ", ".join(self.columns_ignored))
        if self.date_range:
            out.append(f"date range: {self.date_range[0]} .. {self.date_range[1]}")
        if self.duplicates:
            out.append(f"duplicates: {self.duplicates}")
        out += [f"ambiguous dates: {a}" for a in self.ambiguous_dates]
        out += [f"warning: {w}" for w in self.warnings]
        return out


@dataclass
class ImportResult:
    table: str
    frame: pl.DataFrame  # canonical columns only, accepted rows
    report: Report


# --- conversion -----------------------------------------------------------------------------------------

def _issue_rows(frame: pl.DataFrame, mask: pl.Expr) -> tuple[int, ...]:
    return tuple(frame.select(pl.col(ROW).filter(mask.fill_null(False)))[ROW].to_list())


def _text(col: str) -> pl.Expr:
    """A text column without surrounding blanks, null where it holds a missing marker."""
    return pl.when(is_missing(pl.col(col))).then(None).otherwise(pl.col(col).str.strip_chars())


def _convert_column(chunk: pl.DataFrame, col: str, dtype: pl.DataType, decimal: str
                    ) -> tuple[pl.Series, list[int], list[int]]:
    """A text column of `chunk` (not a date) as `dtype`; the data rows whose non-empty cell is not a finite
    number; and the rows whose number is written with the other decimal mark than the file's (left empty
    too, never read as a number 100 times too big). Every cell is read on its own, so reading a file chunk
    by chunk gives the same values."""
    s = chunk[col]
    if dtype in (FLOAT, INT):
        # plain numbers need no cleaning (the common, big case) when a cast reads them as parse_number
        # does: whole numbers for an integer field; for a float field no '.' (a thousands mark) in a
        # decimal-comma column, and only finite values ('nan', 'inf' and '1e309' are not numbers)
        if dtype == INT:
            direct = s.cast(INT, strict=False)
            plain = direct.null_count() == s.null_count()
        else:
            direct = (s.str.replace(",", ".", literal=True) if decimal == "," else s).cast(FLOAT, strict=False)
            plain = direct.null_count() == s.null_count() and bool(direct.is_finite().fill_null(True).all()) \
                and not (decimal == "," and s.str.contains(".", literal=True).any())
        if plain:
            return direct, [], []
        frame = chunk.select(parse_number(pl.col(col), decimal).alias("v"),
                             number_failures(pl.col(col), decimal).alias("bad"),
                             decimal_conflicts(pl.col(col), decimal).fill_null(False).alias("mark"), ROW)
        values = frame["v"]
        bad_mask = frame["bad"] & ~frame["mark"]
        if dtype == INT:
            fractional = values.is_not_null() & (values != values.round(0))
            bad_mask = bad_mask | fractional
            values = values.round(0).cast(pl.Int64, strict=False)
        return values, frame.filter(bad_mask)[ROW].to_list(), frame.filter("mark")[ROW].to_list()
    return chunk.select(_text(col).alias(col)).to_series(), [], []


class _DateColumn:
    """One text column read as timestamps chunk by chunk, exactly as `parse_dates` reads the whole column:
    the text is kept only until the first `DATE_SAMPLE` values decide the format (then each chunk is
    read with it and its text dropped), or to the end when the format needs every value to decide
    (day/month order, Excel serials)."""

    def __init__(self, col: str, dtype: pl.DataType, dayfirst: bool | None) -> None:
        self.col, self.dtype, self.dayfirst = col, dtype, dayfirst
        self.format: str | None = None
        self.pending: list[pl.DataFrame] = []
        self.present = 0
        self.done: list[pl.Series] = []
        self.bad: list[int] = []
        self.ambiguous = False
        self.undecided = False  # the sample is complete and does not decide: read everything at the end

    def feed(self, chunk: pl.DataFrame) -> None:
        text = chunk.select(ROW, self.col)
        if self.format is not None:
            self._take(text, parse_dates_as(text[self.col], self.format))
            return
        self.pending.append(text)
        self.present += int(text.select((~is_missing(pl.col(self.col))).sum()).item())
        if self.present >= DATE_SAMPLE and not self.undecided:
            self._decide(final=False)

    def _decide(self, final: bool) -> None:
        text = pl.concat(self.pending) if len(self.pending) > 1 else self.pending[0]
        parsed = parse_dates(text[self.col], self.dayfirst)
        if parsed is not None and parsed.from_sample:
            self.format = parsed.format
        elif not final:
            self.undecided = True
            return
        self.pending = []
        if parsed is None:
            missing = text.select(is_missing(pl.col(self.col))).to_series()
            self.bad += text.filter(~missing)[ROW].to_list()
            self.done.append(pl.Series(self.col, [None] * text.height, dtype=self.dtype))
            return
        self.format, self.ambiguous = parsed.format, parsed.ambiguous
        self._take(text, parsed)

    def _take(self, text: pl.DataFrame, parsed: DateParse) -> None:
        values = parsed.values
        if parsed.failed:
            bad_mask = values.is_null() & ~text.select(is_missing(pl.col(self.col))).to_series()
            self.bad += text.filter(bad_mask)[ROW].to_list()
        self.done.append(values.dt.date() if self.dtype == DATE else values)

    def finish(self) -> pl.Series:
        if self.pending:
            self._decide(final=True)
        return pl.concat(self.done) if len(self.done) > 1 else self.done[0]


class _EventTimeColumn(_DateColumn):
    """The events table's timestamp: Unix time, text with a UTC offset or wall-clock text in a time zone, all to
    naive UTC (`kpi.sources.eventrules.event_times`). The text is kept to the end (event files are read whole)."""

    def __init__(self, col: str, mapping: Mapping) -> None:
        super().__init__(col, TIMESTAMP, mapping.dayfirst)
        self.unit = mapping.time_unit
        self.timezone = None if mapping.utc_times else mapping.timezone
        self.how = ""

    def feed(self, chunk: pl.DataFrame) -> None:
        self.pending.append(chunk.select(ROW, self.col))

    def finish(self) -> pl.Series:
        text = pl.concat(self.pending) if len(self.pending) > 1 else self.pending[0]
        self.pending = []
        read = event_times(text[self.col], text[ROW], self.col, self.unit, self.timezone, self.dayfirst)
        self.bad, self.how, self.ambiguous, self.format = read.bad, read.how, read.ambiguous, read.format
        return read.values


class _Spill:
    """Converted chunks of a streamed file, kept in a temporary folder until every chunk is converted and
    then read back one column at a time. Holding the chunks in memory instead and joining them at the
    end would need every column twice at once (polars' allocator does not hand back the chunks' memory
    for the joined columns)."""

    def __init__(self) -> None:
        self._dir = tempfile.TemporaryDirectory(prefix="kpi-import-")
        self._paths: list[Path] = []
        self.schema: dict[str, pl.DataType] = {}

    def write(self, chunk: pl.DataFrame) -> None:
        path = Path(self._dir.name) / f"{len(self._paths):06d}.arrow"
        chunk.write_ipc(path, compression="uncompressed")
        self._paths.append(path)
        self.schema = self.schema or dict(chunk.schema)

    def column(self, name: str) -> pl.Series:
        return pl.scan_ipc(self._paths).select(name).collect().to_series().rechunk()

    def close(self) -> None:
        self._dir.cleanup()


def _snake(name: str) -> str:
    return re.sub(r"[^0-9a-zа-я]+", "_", name.strip().lower()).strip("_") or "column"


def convert(raw: RawTable, mapping: Mapping) -> tuple[pl.DataFrame, Report]:
    """Canonical columns (plus `ROW`) for every data row, and a report of what could not be read.
    Rows are not rejected here; `finish` does that. A large CSV is converted chunk by chunk as it is
    streamed from disk, so its text never exists whole."""
    spec = TABLES[mapping.table]
    detected = raw.detected
    report = Report(detected.name, detected.describe(), mapping.label, mapping.table)
    report.warnings += list(mapping.notes)
    _check_mapping(raw, mapping)

    dates = {fld: _EventTimeColumn(col, mapping) if mapping.table == "events"
             else _DateColumn(col, spec.dtypes[fld], mapping.dayfirst) for fld, col in mapping.fields.items()
             if spec.dtypes[fld] in (TIMESTAMP, DATE)}
    bad: dict[str, list[int]] = {fld: [] for fld in mapping.fields}
    marks: dict[str, list[int]] = {fld: [] for fld in mapping.fields}  # numbers in the other decimal mark
    kept = _kept_text(raw, mapping)
    pieces: dict[str, list[pl.Series]] = {}  # each output column, chunk by chunk (a file read whole)
    spill = _Spill() if raw.source is not None else None  # a streamed file: converted chunks wait on disk
    texts: list[pl.DataFrame] = []
    constants = {fld: value for fld, value in mapping.constants.items()
                 if fld not in mapping.fields and fld in spec.dtypes}  # added whole at the end
    n_rows = 0
    account_total: str | None = None
    for chunk in raw.chunks():
        n_rows += chunk.height
        if mapping.drop_first_if_empty and chunk.height and n_rows == chunk.height:
            account_total = _account_total(chunk, mapping.drop_first_if_empty)
            if account_total:
                chunk = chunk.slice(1)
        columns = _convert_chunk(chunk, mapping, detected.decimal, constants, dates, bad, marks)
        if spill is not None:
            spill.write(pl.DataFrame(list(columns.values())))
        else:
            for name, values in columns.items():
                pieces.setdefault(name, []).append(values)
        if kept:
            texts.append(chunk.select(ROW, *kept))
        del chunk, columns
    order = [ROW, *mapping.fields, *constants]
    order += [c for c in (spill.schema if spill is not None else pieces) if c not in order]
    joined, uniform = _assemble([c for c in order if c not in constants], dates, bad, pieces, spill)
    _report_ambiguous_dates(dates, report)
    report.warnings += [d.how for d in dates.values() if isinstance(d, _EventTimeColumn) and d.how]
    if spill is not None:
        spill.close()
    frame = pl.DataFrame([joined.pop(c) for c in order if c not in constants and c not in uniform])
    # a constant stays one value until something needs it row by row (polars scalar columns)
    frame = frame.with_columns(pl.lit(value, dtype=STR).alias(fld)
                               for fld, value in (constants | uniform).items()).select(order)
    _report_excluded(raw, account_total, report)
    report.rows_read = n_rows + len(raw.excluded)
    _report_unreadable(mapping, detected, bad, marks, report)
    frame = _sum_rows_out(raw, frame, mapping, report)

    text_table = RawTable(pl.concat(texts) if texts else frame.select(ROW), detected)
    if mapping.stage and mapping.table == "leads":
        frame = _apply_stage(text_table, frame, mapping, report)
    if mapping.table in RANGED_TABLES and "date" not in frame.columns:
        frame = _with_period(text_table, frame, mapping, report)
    _report_currencies(mapping.table, frame, report)
    report.columns_used = dict(mapping.fields)
    report.columns_ignored = [c for c in raw.columns if c not in _columns_read(mapping)]
    return frame, report


def _check_mapping(raw: RawTable, mapping: Mapping) -> None:
    """Refuse a mapping that names a column the file does not have, or a field its table does not have."""
    spec = TABLES[mapping.table]
    name = raw.detected.name
    unknown = [c for c in mapping.fields.values() if c not in raw.sample.columns]
    if unknown:
        raise ImportRefused(f"{name}: the mapping names column(s) not in the file: {', '.join(unknown)}")
    bad_fields = [f for f in mapping.fields if f not in spec.dtypes]
    if bad_fields:
        raise ImportRefused(f"{name}: {', '.join(bad_fields)} is not a field of {mapping.table}; "
                            f"fields are {', '.join(spec.dtypes)}")


def _kept_text(raw: RawTable, mapping: Mapping) -> list[str]:
    """The file's columns whose text the stage rule and per-row ranges read after conversion, kept whole
    (small CRM/ad files): the stage and its date columns for leads, the range columns of dateless rows."""
    kept = ([mapping.stage.column, *mapping.stage.date_columns] if mapping.stage and mapping.table == "leads" else [])
    if mapping.table in RANGED_TABLES and "date" not in mapping.fields and mapping.range_columns:
        kept += list(mapping.range_columns)
    return list(dict.fromkeys(c for c in kept if c in raw.sample.columns))


def _account_total(chunk: pl.DataFrame, column: str) -> str | None:
    """What the report says of the first row when it is the account's total (its `column` empty, as in an
    ad platform's export); None when it is data."""
    first = chunk.head(1)
    if first.select(is_missing(pl.col(column))).item():
        return f"row {first[ROW][0]}: account total row (empty '{column}')"
    return None


def _convert_chunk(chunk: pl.DataFrame, mapping: Mapping, decimal: str, constants: dict[str, str],
                   dates: dict[str, _DateColumn], bad: dict[str, list[int]], marks: dict[str, list[int]]
                   ) -> dict[str, pl.Series]:
    """One chunk's output columns: `ROW`, each mapped field that is not a date (the rows of unreadable
    numbers noted in `bad`, of numbers in the other decimal mark in `marks`) and each extra column as
    text under its snake_case name (unless a field or constant has that name). A date field goes to
    its reader in `dates`."""
    spec = TABLES[mapping.table]
    columns: dict[str, pl.Series] = {ROW: chunk[ROW]}
    for fld, col in mapping.fields.items():
        if fld in dates:
            dates[fld].feed(chunk)
            continue
        values, rows, other_mark = _convert_column(chunk, col, spec.dtypes[fld], decimal)
        columns[fld] = values.alias(fld)
        bad[fld] += rows
        marks[fld] += other_mark
    for name, col in mapping.extras.items():
        if col in chunk.columns:
            key = _snake(name)
            if key not in columns and key not in constants and key not in spec.dtypes:
                columns[key] = chunk.select(_text(col).alias(key)).to_series()
    return columns


def _assemble(names: list[str], dates: dict[str, _DateColumn], bad: dict[str, list[int]],
              pieces: dict[str, list[pl.Series]], spill: _Spill | None) -> tuple[dict[str, pl.Series], dict[str, str]]:
    """Each output column whole, from its date reader (its unreadable rows into `bad`), the spill or its
    `pieces`; and the text columns holding one text throughout (a currency, a platform), kept as that one
    value instead. One contiguous column at a time, text columns first: their chunks are the biggest, and
    the memory the chunks leave behind is then reused for the smaller ones."""
    joined: dict[str, pl.Series] = {}
    assemble = sorted(names, key=lambda c: c in dates or c == ROW or (
        spill is not None and spill.schema[c] != pl.String))
    uniform: dict[str, str] = {}
    for name in assemble:
        if name in dates:
            reader = dates[name]
            joined[name] = reader.finish().alias(name)
            bad[name] = reader.bad
        elif spill is not None:
            joined[name] = spill.column(name)
        else:
            joined[name] = pl.concat(pieces.pop(name)).rechunk()
        column = joined[name]
        if column.dtype == STR and len(column) and not column.null_count() and bool((column == column[0]).all()):
            uniform[name] = str(column[0])  # one text throughout (a currency, a platform): kept as one value
            del joined[name], column
    return joined, uniform


def _report_ambiguous_dates(dates: dict[str, _DateColumn], report: Report) -> None:
    """Date columns whose every value fits both day/month orders: the report says which order was read."""
    for reader in dates.values():
        if reader.ambiguous:
            report.ambiguous_dates.append(
                f"'{reader.col}': every value fits both day/month and month/day; read as {reader.format} "
                "(choose month-first if that is wrong)")


def _report_excluded(raw: RawTable, account_total: str | None, report: Report) -> None:
    """The lines the reader left out: totals and footers as not data, lines with the wrong number of fields
    as rejected rows, and the account total row."""
    report.totals_excluded = [f"row {e.row}: {e.reason}: {e.text}" for e in raw.excluded if not e.malformed]
    ragged = [e for e in raw.excluded if e.malformed]
    if ragged:
        report.issues.append(RowIssue(
            "the line does not have the header's number of fields, so its values cannot be placed in columns "
            f"({'; '.join(e.reason.split(' but ')[0] for e in ragged[:5])}{'; …' if len(ragged) > 5 else ''}); "
            "fix those lines (a missing or extra separator, or a quote left open) or export the file again",
            tuple(e.row for e in ragged), raw.detected.name))
    if account_total:
        report.totals_excluded.append(account_total)


def _report_unreadable(mapping: Mapping, detected: Detected, bad: dict[str, list[int]],
                       marks: dict[str, list[int]], report: Report) -> None:
    """Per field, the rows whose value could not be read and those with a number in the other decimal mark:
    rejected for a required field, else left empty."""
    spec = TABLES[mapping.table]
    name, decimal = detected.name, detected.decimal
    for fld, col in mapping.fields.items():
        required = fld in spec.required
        if bad[fld]:
            dtype = spec.dtypes[fld]
            what = "a date" if dtype in (TIMESTAMP, DATE) else "a number" if dtype in (FLOAT, INT) else "valid"
            report.issues.append(RowIssue(
                f"'{col}' ({fld}) is not {what}" + ("" if required else "; left empty"), tuple(bad[fld]),
                name, rejected=required))
        if marks[fld]:
            other = "." if decimal == "," else ","
            report.issues.append(RowIssue(
                f"'{col}' ({fld}) has a number written with '{other}' as its decimal mark, but the file's decimal "
                f"mark is '{decimal}' (read that way it would be wrong by a factor of 10 or more); "
                "correct the cell, or choose the decimal mark" + ("" if required else "; left empty"),
                tuple(marks[fld]), name, rejected=required))


def _report_currencies(table: str, frame: pl.DataFrame, report: Report) -> None:
    """Rows in more than one currency: a warning that money is never added up across currencies."""
    stated = currencies({table: frame})
    if len(stated) > 1:
        report.warnings.append(f"rows are in more than one currency: {', '.join(stated)}; money is never added up "
                               "across currencies: give each a rate to the workspace's reporting currency (Workspaces "
                               "& links → Currency, or --rate on the command line), else it shows as not available")


def _columns_read(mapping: Mapping) -> set[str]:
    """Every column of the file the mapping reads: fields, extras, the stage's, the range's and those
    filling a field's empty cells."""
    used = set(mapping.fields.values()) | set(mapping.extras.values())
    if mapping.stage:
        used |= {mapping.stage.column, *mapping.stage.date_columns}
    if mapping.range_columns:
        used |= set(mapping.range_columns)
    used |= {c for cols in mapping.coalesce.values() for c in cols}
    return used


def _sum_rows_out(raw: RawTable, frame: pl.DataFrame, mapping: Mapping, report: Report) -> pl.DataFrame:
    """Rows amid the data labelled with a bare total word (`Total`, `Summa`, `Итого`; see the reader) are
    totals when every number they hold equals the sum of the rows above them since the previous such row,
    or of all the other rows (to a cent, or 0.05 % for large sums): those are left out and listed with the
    totals. The others are data (a campaign may be called 'Total') and a warning says so."""
    if not raw.candidates:
        return frame
    spec = TABLES[mapping.table]
    numbers = [f for f in mapping.fields if spec.dtypes[f] in (FLOAT, INT) and f in frame.columns]
    candidates = set(raw.candidates)
    data = frame.filter(~pl.col(ROW).is_in(list(candidates)))
    everything = data.select(pl.col(numbers).cast(FLOAT).sum()).row(0) if numbers else ()
    totals: list[int] = []
    previous = 0
    for row in sorted(candidates):
        own = frame.filter(pl.col(ROW) == row).select(pl.col(numbers).cast(FLOAT)).row(0) if numbers else ()
        above = data.filter((pl.col(ROW) > previous) & (pl.col(ROW) < row)).select(
            pl.col(numbers).cast(FLOAT).sum()).row(0) if numbers else ()

        def equal(sums: tuple[Any, ...], own: tuple[Any, ...] = own) -> bool:
            present = [(v, t) for v, t in zip(own, sums, strict=True) if v is not None]
            return bool(present) and any(v != 0 for v, _ in present) and all(
                abs(v - t) <= max(0.01, 0.0005 * abs(t)) for v, t in present)

        if equal(above) or equal(everything):
            totals.append(row)
            previous = row
    for row in totals:
        report.totals_excluded.append(f"row {row}: total row (labelled as a total, and its numbers are the sum of "
                                      "the rows above it)")
    kept = sorted(candidates - set(totals))
    if kept:
        report.warnings.append(
            f"row(s) {', '.join(map(str, kept[:_MAX_LISTED]))} are labelled like a total row but their numbers are "
            "not the other rows' sums; kept as data (a campaign may be named so)")
    return frame.filter(~pl.col(ROW).is_in(totals)) if totals else frame


def _apply_stage(raw: RawTable, frame: pl.DataFrame, mapping: Mapping, report: Report) -> pl.DataFrame:
    rule = mapping.stage
    assert rule is not None
    stage = raw.frame[rule.column].str.strip_chars().str.to_lowercase()
    closed: pl.Series | None = None
    approx_rows: list[int] = []
    for col in rule.date_columns:
        parsed = parse_dates(raw.frame[col], mapping.dayfirst)
        if parsed is None:
            continue
        values = parsed.values
        if closed is None:
            closed = values
            if col in rule.approximate:
                approx_rows = raw.frame.filter(values.is_not_null())[ROW].to_list()
        else:
            fill = closed.is_null() & values.is_not_null()
            if col in rule.approximate:
                approx_rows += raw.frame.filter(fill)[ROW].to_list()
            closed = pl.select(pl.when(pl.lit(fill)).then(pl.lit(values)).otherwise(pl.lit(closed))).to_series()
    if closed is None:
        report.warnings.append(f"stage column '{rule.column}' has no date column to date won/lost; left empty")
        return frame
    won = stage.is_in(list(rule.won)) if rule.won else pl.Series([False] * len(stage))
    lost = stage.is_in(list(rule.lost)) if rule.lost else pl.Series([False] * len(stage))
    out = frame
    for fld, mask in (("won_at", won), ("lost_at", lost)):
        if fld in frame.columns or not mask.any():
            continue
        values = pl.select(pl.when(pl.lit(mask)).then(pl.lit(closed)).otherwise(None)).to_series().alias(fld)
        out = out.with_columns(values.cast(TIMESTAMP))
        approx = sorted(set(approx_rows) & set(raw.frame.filter(mask)[ROW].to_list()))
        if approx:
            report.issues.append(RowIssue(
                f"{fld} taken from a 'last modified' date (an upper bound: the export has no close date)",
                tuple(approx), raw.detected.name, rejected=False))
    return out


def _with_period(raw: RawTable, frame: pl.DataFrame, mapping: Mapping, report: Report) -> pl.DataFrame:
    """Spend or traffic rows without a date: each covers the range in its own columns (Meta's reporting
    starts/ends), else the period given, else the range the file states (a GA4 '# Start date' line);
    refused when none is known."""
    if mapping.range_columns:
        a, b = mapping.range_columns
        start, end = parse_dates(raw.frame[a]), parse_dates(raw.frame[b])
        if start is not None and end is not None:
            return frame.with_columns(start.values.dt.date().alias("period_start"),
                                      end.values.dt.date().alias("period_end"))
    period = mapping.period or raw.detected.period
    if period is None:
        said = f" ('{raw.detected.period_text}')" if raw.detected.period_text else ""
        again = ("Export the report again with a custom date range (or a Day column)" if mapping.table == "spend"
                 else "Download the report again with its date range lines (GA4 writes '# Start date' and "
                      "'# End date' above the header) or with 'Date' as a dimension")
        raise ImportRefused(
            f"{raw.detected.name}: the rows are totals over a period{said} without dates, and {mapping.table} "
            f"needs the days it covers. {again}, or give the period (Data page: 'Period the rows cover'; "
            "command line: --period 2025-01-01..2025-01-31).")
    if mapping.period is None:
        report.warnings.append(f"each row covers {period[0]}..{period[1]} (from the file's date-range line)")
    return frame.with_columns(pl.lit(period[0]).alias("period_start"), pl.lit(period[1]).alias("period_end"))


def finish(table: str, frame: pl.DataFrame, report: Report, stage_columns: tuple[str, ...] | None = None
           ) -> ImportResult:
    """Reject rows that break the canonical rules, check the rest with `validate`, fill the report."""
    _check_required_columns(table, frame, report)
    frame = _within_precision(table, frame, report)
    keep = _without_rejected(frame, _canonical_rules(table, frame), report)
    keep = _without_duplicates(table, keep, report)
    out = conform(table, keep.drop(ROW))
    problems = validate(table, out, stage_columns)
    if any(p.severity == "error" for p in problems):
        raise ImportRefused(f"{report.file}: " + "; ".join(str(p) for p in problems if p.severity == "error"))
    report.warnings += [str(p) for p in problems]
    report.rows_accepted = out.height
    report.date_range = _date_range(table, out)
    if out.height == 0:
        raise ImportRefused(f"{report.file}: no row could be accepted; " + "; ".join(str(i) for i in report.issues[:3]))
    return ImportResult(table, out, report)


def _check_required_columns(table: str, frame: pl.DataFrame, report: Report) -> None:
    """Refuse a file with no column for a required field (a ranged table needs no date when it has the
    range); a leads file without created_at may be the second half of a join, and the message says so."""
    spec = TABLES[table]
    missing = [c for c in spec.required if c not in frame.columns]
    if table in RANGED_TABLES and "date" in missing and {"period_start", "period_end"} <= set(frame.columns):
        missing.remove("date")
    if missing:
        hint = ""
        if table == "leads" and missing == ["created_at"] and "lead_id" in frame.columns:
            hint = (" If this file completes another one (closed deals for a file of leads), join the two: "
                    "Data page 'Join with a second file', or python -m kpi import LEADS.csv --join THIS.csv.")
        raise ImportRefused(f"{report.file}: no column for required field(s) {', '.join(missing)} of {table}."
                            f"{hint} Map a column of the file to each.")


def _canonical_rules(table: str, frame: pl.DataFrame) -> list[tuple[str, pl.Expr]]:
    """The canonical rules a row must keep to be accepted, as (reason, the rows breaking it), in the order
    they are reported: required values present, no lead stage before creation, no negative amount or
    measure, no range ending before it starts."""
    spec = TABLES[table]
    checks: list[tuple[str, pl.Expr]] = [(f"'{c}' is empty", pl.col(c).is_null()) for c in spec.required
                                         if c in frame.columns]
    if table == "leads":
        for c in ("first_contact_at", "mql_at", "sql_at", "opportunity_at", "won_at", "lost_at"):
            if c in frame.columns:
                checks.append((f"{c} is before created_at", pl.col(c) < pl.col("created_at")))
        if "amount" in frame.columns:
            checks.append(("amount is negative", pl.col("amount") < 0))
    for c in ("spend", "impressions", "clicks", "sessions", "users", "new_users", "engaged_sessions", "key_events"):
        if c in frame.columns and c in spec.dtypes:
            checks.append((f"{c} is negative", pl.col(c) < 0))
    if {"period_start", "period_end"} <= set(frame.columns):
        checks.append(("period_end is before period_start", pl.col("period_end") < pl.col("period_start")))
    return checks


def _without_rejected(frame: pl.DataFrame, checks: list[tuple[str, pl.Expr]], report: Report) -> pl.DataFrame:
    """`frame` without the rows already rejected for this file or breaking a rule; each row is reported
    once, for the first rule it breaks."""
    rejected = {r for i in report.issues if i.rejected and i.file == report.file for r in i.rows}
    for reason, mask in checks:
        rows = _issue_rows(frame, mask)
        new = tuple(r for r in rows if r not in rejected)
        if new:
            report.issues.append(RowIssue(reason, new, report.file))
            rejected |= set(new)
    return frame.filter(~pl.col(ROW).is_in(list(rejected))) if rejected else frame


def _without_duplicates(table: str, keep: pl.DataFrame, report: Report) -> pl.DataFrame:
    """With a one-column key (lead_id), exact copies of an earlier row and rows repeating its key with other
    values are rejected (the first kept). Without one, identical rows are kept (exports often have them
    for different breakdown values) and counted in a warning."""
    spec = TABLES[table]
    body = [c for c in keep.columns if c != ROW]
    if not (len(spec.key) == 1 and spec.key[0] in keep.columns):
        report.duplicates = keep.height - _distinct_rows(keep.select(body))
        if report.duplicates:
            report.warnings.append(f"{report.duplicates} row(s) repeat an earlier row exactly; kept, as exports "
                                   "often have identical rows for different breakdown values")
        return keep
    key = spec.key[0]
    exact = ~_row_hashes(keep.select(body)).is_first_distinct()
    repeated_key = keep.select(~pl.col(key).is_first_distinct()).to_series() & ~exact
    report.duplicates = int(exact.sum()) + int(repeated_key.sum())
    if exact.any():
        report.issues.append(RowIssue("exact copy of an earlier row", tuple(keep.filter(exact)[ROW].to_list()),
                                      report.file))
    if repeated_key.any():
        report.issues.append(RowIssue(f"{key} repeats an earlier row's {key} with other values (first kept)",
                                      tuple(keep.filter(repeated_key)[ROW].to_list()), report.file))
    if exact.any() or repeated_key.any():
        keep = keep.filter(~(exact | repeated_key))
    return keep


def _hash_slices(frame: pl.DataFrame, rows: int) -> Iterator[tuple[int, pl.Series]]:
    """`frame.hash_rows()` a slice of `rows` at a time (with where each starts), so that constant columns
    are never spelled out whole; an empty frame gives one empty slice."""
    for start in range(0, max(frame.height, 1), rows):
        yield start, frame.slice(start, rows).hash_rows()


def _row_hashes(frame: pl.DataFrame, rows: int = 1_000_000) -> pl.Series:
    """`frame.hash_rows()`, a slice at a time."""
    return pl.concat([hashes for _, hashes in _hash_slices(frame, rows)])


def _distinct_rows(frame: pl.DataFrame, rows: int = 1_000_000) -> int:
    """`frame.hash_rows().n_unique()` by sorting the hashes in one numpy array (no hash table, and memory
    the system gets back at once)."""
    hashes = np.empty(frame.height, dtype=np.uint64)
    for start, part in _hash_slices(frame, rows):
        hashes[start:start + len(part)] = part.to_numpy()
    hashes.sort()
    return int(np.count_nonzero(hashes[1:] != hashes[:-1])) + 1 if len(hashes) else 0


def _within_precision(table: str, frame: pl.DataFrame, report: Report) -> pl.DataFrame:
    """A stage written to the minute (or the day) that falls in the same minute (or day) as the
    creation time, but reads as earlier, happened at or after creation as far as the file can tell:
    it is set to created_at and reported, instead of rejecting the lead."""
    if table != "leads" or "created_at" not in frame.columns:
        return frame
    created = pl.col("created_at")
    for c in ("first_contact_at", "mql_at", "sql_at", "opportunity_at", "won_at", "lost_at"):
        if c not in frame.columns:
            continue
        stage = pl.col(c)
        same_minute = (stage.dt.second() == 0) & (stage.dt.truncate("1m") == created.dt.truncate("1m"))
        same_day = (stage == stage.dt.truncate("1d")) & (stage.dt.truncate("1d") == created.dt.truncate("1d"))
        fix = (stage < created) & (same_minute | same_day)
        rows = _issue_rows(frame, fix)
        if rows:
            frame = frame.with_columns(pl.when(fix).then(created).otherwise(stage).alias(c))
            report.issues.append(RowIssue(f"{c} is only precise to the minute or day and falls in created_at's; "
                                          "set to created_at", rows, report.file, rejected=False))
    return frame


def _date_range(table: str, frame: pl.DataFrame) -> tuple[str, str] | None:
    cols = {"leads": ["created_at"], "spend": ["date", "period_start", "period_end"],
            "traffic": ["date", "period_start", "period_end"],
            "touches": ["touched_at"], "events": ["timestamp"]}.get(table, [])
    lo: list[date | datetime] = []
    hi: list[date | datetime] = []
    for c in cols:
        if c in frame.columns and frame[c].is_not_null().any():
            lo.append(frame[c].min())  # type: ignore[arg-type]
            hi.append(frame[c].max())  # type: ignore[arg-type]
    if not lo:
        return None
    return str(min(lo))[:10], str(max(hi))[:10]


# --- choosing a mapping --------------------------------------------------------------------------------

def resolve(raw: RawTable, preset: str = "auto", store: MappingStore | None = None) -> tuple[Mapping, Preset | None]:
    """The mapping for a file: a named preset, the recognised one, or one saved in `store` for this header
    shape. Raises ImportRefused for formats that are not performance data or that nothing recognises, and
    when the mapping saved for this shape is damaged (naming it)."""
    name = raw.detected.name
    if preset != "auto":
        if preset not in BY_ID:
            raise ImportRefused(f"unknown preset '{preset}'; choose auto or one of {', '.join(BY_ID)}")
        chosen: Preset | None = BY_ID[preset]
    else:
        chosen = recognise(raw)
    if chosen is not None and chosen.refuse:
        raise ImportRefused(f"{name}: {chosen.refuse}")
    if chosen is not None:
        return chosen.mapping_for(raw), chosen
    try:
        saved = store.get(raw.columns) if store is not None else None
    except DamagedMapping as exc:
        raise ImportRefused(f"{name}: {exc}") from None
    if saved is not None:
        return saved, None
    raise ImportRefused(
        f"{name}: not an export format I recognise (columns: {', '.join(raw.columns[:8])}"
        f"{', …' if len(raw.columns) > 8 else ''}). If it is marketing data (leads, ad spend, traffic, touches, or "
        "events: one row per event with a person, a time and an event name), map its columns on the Data page or "
        "with --table and --map field=column.")


def import_raw(raw: RawTable, mapping: Mapping) -> ImportResult:
    if mapping.touch_sets:
        return _derived_touches(raw, mapping)
    if mapping.table == "events":
        mapping = _checked_event_mapping(raw, mapping)
    filled, fallbacks = _coalesced(raw, mapping)
    frame, report = convert(filled, mapping)
    report.issues += [replace(issue, file=report.file) for issue in fallbacks]
    if mapping.table == "events" and mapping.event_id:
        report.issues += _repeated_events(filled, mapping, report.file)
    frame = _row_rules(frame, mapping, report)
    result = finish(mapping.table, frame, report)
    if mapping.table == "events":
        _summarise_events(result, mapping)
    return result


def _checked_event_mapping(raw: RawTable, mapping: Mapping) -> Mapping:
    """An events mapping with a known time zone and unit; refused (naming them) otherwise."""
    try:
        timezone = check_timezone(mapping.timezone)
    except BadTimezone as exc:
        raise ImportRefused(f"{raw.detected.name}: {exc}") from None
    if mapping.time_unit is not None and mapping.time_unit not in ("s", "ms", "us", "epoch"):
        raise ImportRefused(f"{raw.detected.name}: time unit {mapping.time_unit!r} is not one of s, ms, us, epoch")
    if timezone and mapping.utc_times:
        mapping = replace(mapping, notes=(*mapping.notes, f"the time zone {timezone} was not applied: this export "
                                                         "writes its times in UTC"))
    return replace(mapping, timezone=timezone)


def _repeated_events(raw: RawTable, mapping: Mapping, file: str) -> list[RowIssue]:
    """Events that repeat an earlier one's person, time, name and event id: copies (Mixpanel's raw export is not
    deduplicated: its documentation asks for deduplication on event name, distinct_id, time and $insert_id).
    Events without an id are never taken for copies."""
    ids = [c for c in mapping.event_id if c in raw.sample.columns]
    key = [*(c for c in (mapping.fields.get(f) for f in ("user_id", "timestamp", "event")) if c), *ids]
    if not ids:
        return []
    has_id = pl.all_horizontal(~is_missing(pl.col(c)) for c in ids)
    copies = _issue_rows(raw.frame, has_id & ~pl.struct(key).is_first_distinct())
    if not copies:
        return []
    return [RowIssue(f"repeats an earlier event (same {', '.join(key)}): a copy, left out", copies, file)]


def with_event_properties(raw: RawTable, mapping: Mapping) -> Mapping:
    """A mapping made by hand (the Data page's mapping screen, --map) to the events table, keeping the file's other
    columns as properties, capped as a preset's are (`kpi.sources.eventrules.event_properties`)."""
    if mapping.table != "events" or mapping.extras:
        return mapping
    extras, dropped = event_properties(raw, set(mapping.fields.values()), {})
    notes = mapping.notes
    if dropped:
        notes += (f"{len(dropped)} more column(s) left out as properties (at most {MAX_PROPERTIES} are kept, the most "
                  f"filled first): {', '.join(dropped[:15])}{' …' if len(dropped) > 15 else ''}",)
    return replace(mapping, extras=extras, notes=notes)


def _summarise_events(result: ImportResult, mapping: Mapping) -> None:
    """The report's summary of an events table: events, persons and how many persons each identity column gave,
    and the properties kept."""
    frame, report = result.frame, result.report
    persons = frame["user_id"].n_unique()
    props = [c for c in frame.columns if c not in ("user_id", "timestamp", "event")]
    report.warnings.append(f"{frame.height} events of {persons} persons, {frame['event'].n_unique()} event names; "
                           f"{len(props)} properties kept as columns: {', '.join(props) or 'none'}")


def _derived_touches(raw: RawTable, mapping: Mapping) -> ImportResult:
    """The touches a contacts export holds in its columns (`Mapping.touch_sets`): each set is imported on its
    own from the rows that have it (so a bad date in one set's column leaves that row's other touches in), its
    issues named by touch type; a touch that repeats another of the same contact (time and channel) counts
    once. rows_read counts the contacts, rows_accepted the touches."""
    name = raw.detected.name
    lead = mapping.fields.get("lead_id")
    if lead is None or lead not in raw.sample.columns:
        raise ImportRefused(f"{name}: no column for required field(s) lead_id of touches. Map a column of the file "
                            "to it.")
    report = Report(name, raw.detected.describe(), mapping.label, "touches")
    report.warnings += list(mapping.notes)
    frames: list[pl.DataFrame] = []
    first = True
    for ts in mapping.touch_sets:
        needs = ts.campaign if ts.needs == "campaign" else ts.channel
        if needs is None:
            continue
        rows = RawTable(raw.frame.filter(~is_missing(pl.col(needs))), raw.detected)
        if rows.frame.height == 0:
            continue
        fields = {"lead_id": lead, "touched_at": ts.touched_at, "channel": ts.channel}
        if ts.campaign is not None:
            fields["campaign"] = ts.campaign
        part = Mapping("touches", fields, {"touch_type": ts.touch_type}, dict(ts.extras), dayfirst=mapping.dayfirst,
                       label=mapping.label)
        frame, sub = convert(rows, part)
        if first:
            report.totals_excluded = sub.totals_excluded
            first = False
        try:
            done = finish("touches", frame, sub)
            frames.append(done.frame)
        except ImportRefused:
            pass  # every row of this set was rejected: its issues below say why
        report.issues += [replace(i, reason=f"{ts.touch_type}: {i.reason}") for i in sub.issues]
        report.warnings += [w for w in sub.warnings if w not in report.warnings and w not in mapping.notes]
        report.columns_used.update({k if k == "lead_id" else f"{k} ({ts.touch_type})": v for k, v in fields.items()})
    report.rows_read = raw.n_rows + len(raw.excluded)
    if not frames:
        raise ImportRefused(f"{name}: no touch could be read from the source columns; "
                            + ("; ".join(str(i) for i in report.issues[:3]) or "they are empty in every row"))
    out = pl.concat(frames, how="diagonal_relaxed")
    repeats = out.select(pl.struct("lead_id", "touched_at", "channel").is_duplicated()
                         & ~pl.struct("lead_id", "touched_at", "channel").is_first_distinct()).to_series()
    if repeats.any():
        report.warnings.append(f"{int(repeats.sum())} touch(es) repeat another touch of the same contact (same time "
                               "and channel) and are counted once")
        out = out.filter(~repeats)
    used = {c for c in report.columns_used.values()} | {c for ts in mapping.touch_sets for _, c in ts.extras}
    report.columns_ignored = [c for c in raw.columns if c not in used]
    report.rows_accepted = out.height
    report.date_range = _date_range("touches", out)
    report.warnings.append(f"{out.height} touches of {out['lead_id'].n_unique()} contacts from "
                           f"{report.rows_read} rows")
    return ImportResult("touches", out, report)


def utm_channel(source: pl.Expr, medium: pl.Expr) -> pl.Expr:
    """The channel of a touch known by its UTM source and medium, in the default channel vocabulary
    (`kpi.settings.DEFAULT_CHANNELS`): an ad platform's own source first (facebook/cpc is Meta, not Paid Search),
    then the medium (cpc → Paid Search, email → Email), then the source ((direct) → Direct); else the text
    'source / medium' as it was written."""
    from kpi.settings import DEFAULT_CHANNELS

    lookup = {canon.lower(): canon for canon in DEFAULT_CHANNELS}
    for canon, spellings in DEFAULT_CHANNELS.items():
        lookup.update({s.lower(): canon for s in spellings})
    platforms = {k: v for k, v in lookup.items() if v in ("Meta", "LinkedIn")}
    src, med = source.str.strip_chars().str.to_lowercase(), medium.str.strip_chars().str.to_lowercase()
    written = pl.concat_str([source.str.strip_chars(), medium.str.strip_chars()], separator=" / ", ignore_nulls=True)
    return pl.coalesce(src.replace_strict(platforms, default=None, return_dtype=pl.String),
                       med.replace_strict(lookup, default=None, return_dtype=pl.String),
                       src.replace_strict(lookup, default=None, return_dtype=pl.String),
                       pl.when(written != "").then(written))


def _utm_channel(frame: pl.DataFrame, mapping: Mapping, report: Report) -> pl.DataFrame:
    """Touches without a channel column, or rows with an empty channel, take it from utm_source/utm_medium."""
    source = pl.col("source") if "source" in frame.columns else pl.lit(None, pl.String)
    medium = pl.col("medium") if "medium" in frame.columns else pl.lit(None, pl.String)
    derived = utm_channel(source, medium)
    has = "channel" in frame.columns
    rows = _issue_rows(frame, (pl.col("channel").is_null() if has else pl.lit(True)) & derived.is_not_null())
    if not rows:
        return frame
    frame = frame.with_columns((pl.coalesce(pl.col("channel"), derived) if has else derived).alias("channel"))
    report.issues.append(RowIssue("channel taken from utm_source / utm_medium (cpc → Paid Search, facebook → Meta, "
                                  "email → Email; other pairs kept as 'source / medium')", rows, report.file,
                                  rejected=False))
    return frame


def _coalesced(raw: RawTable, mapping: Mapping) -> tuple[RawTable, list[RowIssue]]:
    """`raw` with each coalesced field's column filled, where empty, from the mapping's further columns (a
    campaign member's Lead ID, else its Contact ID; an Amplitude event's user_id, else its device_id), and the
    rows each further column filled for an events table (reported as changed: which identity each event got).
    Reads the file whole: CRM reports and event exports, which are read whole anyway."""
    counted = mapping.table == "events"
    exprs = []
    issues: list[RowIssue] = []
    for fld, others in mapping.coalesce.items():
        col = mapping.fields.get(fld)
        if col is None or col not in raw.sample.columns:
            continue
        out = pl.col(col)
        for other in (o for o in others if o in raw.sample.columns):
            rows = _issue_rows(raw.frame, is_missing(out) & ~is_missing(pl.col(other))) if counted else ()
            if rows:
                issues.append(RowIssue(f"'{col}' is empty: {fld} taken from '{other}'", rows, rejected=False))
            out = pl.when(is_missing(out)).then(pl.col(other)).otherwise(out)
        exprs.append(out.alias(col))
    if not exprs:
        return raw, []
    filled = RawTable(raw.frame.with_columns(exprs), raw.detected, raw.excluded)
    filled.candidates = raw.candidates
    return filled, issues


def _row_rules(frame: pl.DataFrame, mapping: Mapping, report: Report) -> pl.DataFrame:
    """The mapping's rules for empty cells: rows whose `leave_out_empty` field is empty are listed as left out
    with its reason (not a row of this table, not an error of the file); `fill_empty` fields get their text."""
    rejected = {r for i in report.issues if i.rejected for r in i.rows}
    if mapping.table == "touches" and ({"source", "medium"} & set(frame.columns)):
        frame = _utm_channel(frame, mapping, report)
    if mapping.leave_out_empty and mapping.leave_out_empty[0] in frame.columns:
        fld, reason = mapping.leave_out_empty
        rows = tuple(r for r in _issue_rows(frame, pl.col(fld).is_null()) if r not in rejected)
        if rows:
            report.issues.append(RowIssue(reason, rows, report.file))
            rejected |= set(rows)
    for fld, text in mapping.fill_empty.items():
        if fld not in frame.columns or fld not in mapping.fields:
            continue
        rows = tuple(r for r in _issue_rows(frame, pl.col(fld).is_null()) if r not in rejected)
        if rows:
            frame = frame.with_columns(pl.col(fld).fill_null(text))
            report.issues.append(RowIssue(f"'{mapping.fields[fld]}' ({fld}) is empty; set to '{text}'", rows,
                                          report.file, rejected=False))
    return frame


def join(primary: tuple[RawTable, Mapping], secondary: tuple[RawTable, Mapping], on: str = "lead_id"
         ) -> ImportResult:
    """One leads table from two related files (Olist MQLs + closed deals): the secondary file's
    fields fill the primary's rows with the same key; secondary rows whose key is not in the
    primary file are reported as rejected."""
    left, report = convert(*primary)
    right, right_report = convert(*secondary)
    if on not in left.columns or on not in right.columns:
        raise ImportRefused(f"both files need a column mapped to '{on}' to be joined")
    report.issues += right_report.issues
    report.totals_excluded += [f"{right_report.file}: {t}" for t in right_report.totals_excluded]
    report.columns_used.update({f"{k} ({right_report.file})": v for k, v in right_report.columns_used.items()})
    report.preset = f"{report.preset} + {right_report.preset}"
    report.rows_read += right_report.rows_read
    right_rows = right.rename({ROW: "__row_right"})
    dup = right_rows.filter(~pl.col(on).is_first_distinct() & pl.col(on).is_not_null())
    if dup.height:
        report.issues.append(RowIssue(f"{on} repeats an earlier row (first kept)",
                                      tuple(dup["__row_right"].to_list()), right_report.file))
    right_rows = right_rows.unique(on, keep="first", maintain_order=True)
    orphans = right_rows.join(left.select(on), on=on, how="anti")
    if orphans.height:
        report.issues.append(RowIssue(f"no row with this {on} in {report.file}",
                                      tuple(orphans["__row_right"].to_list()), right_report.file))
    shared = [c for c in right_rows.columns if c in left.columns and c != on]
    joined = left.join(right_rows.drop("__row_right"), on=on, how="left", suffix="__r")
    joined = joined.with_columns([pl.coalesce(pl.col(c), pl.col(f"{c}__r")).alias(c) for c in shared]).drop(
        [f"{c}__r" for c in shared])
    report.rows_joined = right_rows.height - orphans.height
    report.warnings.append(f"joined {report.rows_joined} of {right_report.rows_read} rows of "
                           f"{right_report.file} on {on}")
    return finish("leads", joined, report)


# --- command line --------------------------------------------------------------------------------------

def _period_arg(text: str) -> tuple[date, date]:
    try:
        a, b = text.split("..")
        start, end = date.fromisoformat(a), date.fromisoformat(b)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"period must look like 2025-01-01..2025-01-31, got {text!r}") from exc
    if end < start:
        raise argparse.ArgumentTypeError(f"period ends before it starts: {text!r}")
    return start, end


def _map_args(maps: list[str]) -> dict[str, str]:
    """--map FIELD=COLUMN arguments as field → column; a malformed one is refused with what to write."""
    fields: dict[str, str] = {}
    for m in maps:
        fld, eq, col = m.partition("=")
        if not eq or not fld.strip() or not col:
            raise ImportRefused(f"--map {m!r}: write FIELD=COLUMN, for example --map lead_id='Lead ID'")
        if fld.strip() in fields:
            raise ImportRefused(f"--map {m!r}: {fld.strip()} is mapped twice; give each field once")
        fields[fld.strip()] = col
    return fields


def _load(path: str, args: argparse.Namespace, preset: str, maps: list[str]) -> tuple[RawTable, Mapping]:
    raw = read_file(path, encoding=args.encoding, separator=args.sep, decimal=args.decimal,
                    part=None if args.part is None else args.part - 1)
    if maps:
        if not args.table:
            raise ImportRefused("--map needs --table (leads, spend, traffic, touches or events)")
        by_hand = Mapping(args.table, _map_args(maps), label="mapping from the command line")
        mapping = with_event_properties(raw, by_hand)
    else:
        mapping, _ = resolve(raw, preset)
        if mapping.fields == {} and args.table:
            mapping = replace(mapping, fields=suggest(raw.sample, args.table, raw.columns, raw.detected.decimal))
    if args.period:
        mapping = replace(mapping, period=args.period)
    if args.dates != "auto":
        mapping = replace(mapping, dayfirst=args.dates == "dayfirst")
    if args.timezone:
        mapping = replace(mapping, timezone=args.timezone)
    return raw, mapping


def _run(args: argparse.Namespace) -> int:
    from kpi.cli import UsageError

    for sep in ("tab",):
        if args.sep == sep:
            args.sep = "\t"
    try:
        primary = _load(args.file, args, args.preset, args.map or [])
        result = join(primary, _load(args.join, args, "auto", []), args.on) if args.join else import_raw(*primary)
    except FileRefused as exc:
        raise UsageError(str(exc)) from exc
    report = result.report
    if args.format == "json":
        print(json.dumps(report.to_dict(), ensure_ascii=False, indent=1, default=str))
    else:
        print("\n".join(report.lines()))
    if args.out:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        target = out / f"{result.table}.parquet"
        frame = result.frame
        if args.append and target.exists():
            frame = pl.concat([pl.read_parquet(target), frame], how="diagonal_relaxed")
        frame.write_parquet(target)
        if args.format != "json":
            print(f"wrote {target} ({frame.height} rows)")
    return 0


def add_command(sub: Any) -> None:
    """`python -m kpi import FILE ...`"""
    p = sub.add_parser("import", description="Detects the file's format, prints the validation report and writes "
                                   "DIR/<table>.parquet with --out.")
    p.add_argument("file")
    p.add_argument("--preset", default="auto", help=f"auto or one of: {', '.join(BY_ID)}")
    p.add_argument("--encoding", help="override the detected encoding (utf-8, utf-16, cp1251, koi8-r, cp1252)")
    p.add_argument("--sep", help="override the detected separator: ',' ';' tab '|'")
    p.add_argument("--decimal", choices=[".", ","], help="override the detected decimal mark")
    p.add_argument("--part", type=int, help="sheet or section number (1 = first) for workbooks and multi-table CSVs")
    p.add_argument("--period", type=_period_arg, help="START..END the rows cover, for exports without dates")
    p.add_argument("--dates", choices=["auto", "dayfirst", "monthfirst"], default="auto",
                   help="how to read dates like 03/04/2025 when the values cannot tell")
    p.add_argument("--table", choices=["leads", "spend", "traffic", "touches", "events"], help="target table for --map")
    p.add_argument("--timezone", help="events: the IANA time zone (Europe/Stockholm) of times written without a UTC "
                                      "offset, and of a Mixpanel project's time before 2023; default UTC")
    p.add_argument("--map", action="append", metavar="FIELD=COLUMN", help="map a column to a canonical field")
    p.add_argument("--join", metavar="FILE2", help="a related file to join into one leads table (e.g. closed deals)")
    p.add_argument("--on", default="lead_id", help="canonical field to join on (default lead_id)")
    p.add_argument("--out", help="folder to write <table>.parquet into")
    p.add_argument("--append", action="store_true", help="add to an existing <table>.parquet instead of replacing")
    p.add_argument("--format", choices=["text", "json"], default="text")
    p.set_defaults(run=_run)
