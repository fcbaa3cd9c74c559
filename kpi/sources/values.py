"""Turning exported text cells into numbers and timestamps, vectorised over polars columns.

Exports write numbers and dates the way their locale does: `1 234,56`, `"2,472,851"`, `2,60%`,
`< 10%`, ` --`, `22.03.2022 13:32:57`, `03/04/2024`, Excel serials. Every function here works on
whole columns (no Python loops over rows) and never guesses silently: a day/month order that the
values cannot decide is reported as ambiguous so the person importing can choose.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

import polars as pl

#: Cell values that mean "no value" in the exports we know (compared after trimming, case-insensitive).
MISSING_MARKERS: tuple[str, ...] = (
    "", "--", "-", "—", "n/a", "na", "#n/a", "null", "none", "nan", "(not set)", "(none)", "not set",
    "unknown", "не закрыта", "нет данных", "no data available.",
)

_CURRENCY = r"(?:€|\$|£|₹|₽|kr\.?|sek|nok|dkk|eur|usd|gbp|inr|rub|руб\.?|р\.)"
_SPACES = "\u00a0\u202f\u2009 '"


_MISSING_RE = "(?i)^\\s*(?:" + "|".join(re.escape(m) for m in MISSING_MARKERS if m) + ")?\\s*$"


def is_missing(expr: pl.Expr) -> pl.Expr:
    """True where a text cell is null, blank or one of the missing markers (one regex pass, no copies)."""
    return expr.is_null() | expr.str.contains(_MISSING_RE)


#: in a number column 'nan' is not an empty cell but a value that is not a number (reported with its row)
_MISSING_NUMBER_RE = "(?i)^\\s*(?:" + "|".join(re.escape(m) for m in MISSING_MARKERS if m and m != "nan") + ")?\\s*$"


def _is_missing_number(expr: pl.Expr) -> pl.Expr:
    return expr.is_null() | expr.str.contains(_MISSING_NUMBER_RE)


def _bare_number_text(expr: pl.Expr) -> pl.Expr:
    """The cell without surrounding blanks, currency, a leading bound sign and group spaces, lower case."""
    text = expr.str.strip_chars().str.to_lowercase()
    text = text.str.replace_all(rf"^{_CURRENCY}\s*|\s*{_CURRENCY}$", "")
    text = text.str.replace_all(r"^[<>≤≥~]\s*", "")  # '< 10%' is kept as its bound
    return text.str.replace_all(f"[{_SPACES}]", "")


def decimal_conflicts(expr: pl.Expr, decimal: str = ".") -> pl.Expr:
    """True where a number is written with the other decimal mark than the file's: the mark that groups
    thousands in this file ('.' when the decimal mark is ',', ',' when it is '.') is not followed by
    groups of exactly three digits. `12.50` in a file of `1 234,56` (read with the file's mark it would be
    1250) and `12,50` in a file of `1,234.56`; `1.234,56` and `2,472,851` are fine."""
    other = re.escape("." if decimal == "," else ",")
    mark = re.escape(decimal)
    text = _bare_number_text(expr)
    numeric = text.str.contains(r"^[-+]?[\d.,]*\d[\d.,]*%?$")
    grouped = text.str.contains(rf"^[-+]?\d{{1,3}}(?:{other}\d{{3}})+(?:{mark}\d*)?%?$")
    return numeric & text.str.contains(other) & ~grouped


def _clean_number_text(expr: pl.Expr, decimal: str) -> pl.Expr:
    text = _bare_number_text(expr)
    if decimal == ",":
        text = text.str.replace_all(".", "", literal=True).str.replace_all(",", ".", literal=True)
    else:
        text = text.str.replace_all(",", "", literal=True)
    return text


def parse_number(expr: pl.Expr, decimal: str = ".") -> pl.Expr:
    """Float value of a text column: decimal comma or point, thousands separators (space, no-break
    space, apostrophe, the other mark in groups of three), currency symbols, percent strings as fractions
    (`2,60%` → 0.026), bounds (`< 10%` → 0.10). Missing markers, unparseable text, numbers written with
    the other decimal mark (`decimal_conflicts`) and values that are not finite (`inf`, `nan`, `1e309`)
    become null."""
    text = _clean_number_text(expr, decimal)
    pct = text.str.ends_with("%")
    value = text.cast(pl.Float64, strict=False)
    # percentages divide in decimal so that '2,60%' is exactly the float nearest 0.026
    share = (text.str.strip_suffix("%").cast(pl.Decimal(38, 12), strict=False) / 100).cast(pl.Float64)
    number = pl.when(_is_missing_number(expr) | decimal_conflicts(expr, decimal)).then(None).when(pct).then(
        share).otherwise(value)
    return pl.when(number.is_finite()).then(number)


def number_failures(expr: pl.Expr, decimal: str = ".") -> pl.Expr:
    """True where a cell holds text that is neither missing nor a finite number in the file's decimal
    mark (an error to report); 'nan' counts as such text here."""
    return ~_is_missing_number(expr) & parse_number(expr, decimal).is_null()


def looks_numeric(series: pl.Series, decimal: str = ".") -> bool:
    """Whether every non-missing cell of a text column parses as a number (and there is at least one)."""
    frame = series.to_frame("v").select(
        present=(~is_missing(pl.col("v"))).sum(), bad=number_failures(pl.col("v"), decimal).sum())
    present, bad = frame.row(0)
    return bool(present) and not bad


# --- dates -------------------------------------------------------------------------------------------

_TIME_SUFFIXES = ("", " %H:%M", " %H:%M:%S")
_ISO = ["%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%d", "%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%M:%S%.fZ", "%Y-%m-%d %H:%M:%S UTC"]
_UNAMBIGUOUS = [
    *_ISO,
    *(f"%d.%m.%Y{t}" for t in _TIME_SUFFIXES),
    *(f"%Y.%m.%d{t}" for t in _TIME_SUFFIXES),
    *(f"%Y/%m/%d{t}" for t in _TIME_SUFFIXES),
    "%Y%m%d",
    "%b %d, %Y", "%B %d, %Y", "%d %b %Y", "%d %B %Y", "%b %d %Y",
]
_DAY_FIRST = [*(f"%d/%m/%Y{t}" for t in _TIME_SUFFIXES), *(f"%d-%m-%Y{t}" for t in _TIME_SUFFIXES),
              "%d/%m/%Y, %I:%M %p", "%d/%m/%Y %I:%M %p"]
_MONTH_FIRST = [*(f"%m/%d/%Y{t}" for t in _TIME_SUFFIXES), *(f"%m-%d-%Y{t}" for t in _TIME_SUFFIXES),
                "%m/%d/%Y, %I:%M %p", "%m/%d/%Y %I:%M %p"]
_EXCEL_EPOCH = datetime(1899, 12, 30)


@dataclass(frozen=True)
class DateParse:
    """How a text column was read as timestamps.

    `format` is the strptime format used (or 'excel serial'); `ambiguous` is True when both
    day-first and month-first read every value and no value tells them apart (all parts <= 12):
    the caller must ask which one is meant. `failed` counts non-missing cells that did not parse.
    `from_sample` is True when the format was decided by the first `DATE_SAMPLE` values alone, so
    that the rest of a long column can be read with `parse_dates_as` as it arrives.
    """

    values: pl.Series
    format: str
    ambiguous: bool = False
    failed: int = 0
    from_sample: bool = False


DATE_SAMPLE = 2000  #: how many values (the first non-missing ones) choose a column's date format


def _try(text: pl.Series, fmt: str) -> pl.Series:
    return text.str.to_datetime(fmt, strict=False, time_unit="us")


def parse_dates_as(series: pl.Series, fmt: str, from_sample: bool = False) -> DateParse:
    """Read a text column as timestamps in the strptime format `fmt` (as chosen by `parse_dates`)."""
    text = series.cast(pl.String).str.strip_chars()
    missing = text.to_frame("v").select(is_missing(pl.col("v"))).to_series()
    return _parse_as(text, missing, fmt, from_sample)


def _parse_as(text: pl.Series, missing: pl.Series, fmt: str, from_sample: bool) -> DateParse:
    """`parse_dates_as` of stripped `text` whose `missing` cells are known."""
    values = _try(text.str.to_uppercase() if "%p" in fmt else text, fmt)
    values = values.set(missing, None) if missing.any() else values
    failed = int(values.is_null().sum()) - int(missing.sum())
    return DateParse(values, fmt, failed=failed, from_sample=from_sample)


def parse_dates(series: pl.Series, dayfirst: bool | None = None) -> DateParse | None:
    """Read a text column as timestamps, or None when it does not look like dates at all.

    Formats tried: ISO (with or without time), `DD.MM.YYYY[ HH:MM[:SS]]`, `YYYY.MM.DD`, `YYYYMMDD`,
    `DD/MM/YYYY` vs `MM/DD/YYYY` (decided from the values: a first part above 12 means day-first, a
    second part above 12 month-first; otherwise `dayfirst` decides, and without it the result is
    flagged ambiguous and read day-first), month names, and Excel serial day numbers. Unpadded
    days and hours are accepted.
    """
    text = series.cast(pl.String).str.strip_chars()
    missing = text.to_frame("v").select(is_missing(pl.col("v"))).to_series()
    present = text.filter(~missing)
    n = present.len()
    if n == 0:
        return None
    sample = present.head(DATE_SAMPLE)

    def full(fmt: str, from_sample: bool = False) -> DateParse:
        return _parse_as(text, missing, fmt, from_sample)

    def best(formats: list[str]) -> str | None:
        scored = [(int(_try(sample.str.to_uppercase() if "%p" in f else sample, f).is_not_null().sum()), f)
                  for f in formats]
        top = max(scored, key=lambda s: s[0])
        return top[1] if top[0] >= max(1, int(0.98 * sample.len())) else None

    fmt = best(_UNAMBIGUOUS)
    if fmt is not None:
        return full(fmt, from_sample=True)
    day_fmt, month_fmt = best(_DAY_FIRST), best(_MONTH_FIRST)
    if day_fmt or month_fmt:
        if day_fmt and not month_fmt:
            return full(day_fmt, from_sample=True)
        if month_fmt and not day_fmt:
            return full(month_fmt, from_sample=True)
        assert day_fmt and month_fmt
        parts = present.str.extract_groups(r"^(\d{1,2})[/-](\d{1,2})[/-]")
        first = parts.struct.field("1").cast(pl.Int32, strict=False)
        second = parts.struct.field("2").cast(pl.Int32, strict=False)
        if (first > 12).any():
            return full(day_fmt)
        if (second > 12).any():
            return full(month_fmt)
        if dayfirst is None:
            result = full(day_fmt)
            return DateParse(result.values, result.format, ambiguous=True, failed=result.failed)
        return full(day_fmt if dayfirst else month_fmt)
    numbers = present.cast(pl.Float64, strict=False)
    if numbers.is_not_null().all() and numbers.min() >= 20000 and numbers.max() <= 80000:  # type: ignore[operator]
        days = text.cast(pl.Float64, strict=False).to_frame("d")
        values = pl.lit(_EXCEL_EPOCH) + pl.duration(milliseconds=(pl.col("d") * 86_400_000).round())
        out = days.select(values.cast(pl.Datetime("us")).alias(series.name)).to_series()
        return DateParse(out, "excel serial")
    return None


# --- date ranges written in titles and preambles -----------------------------------------------------

_RANGE_FORMATS = ("%B %d, %Y", "%b %d, %Y", "%d %B %Y", "%d %b %Y", "%Y-%m-%d", "%d.%m.%Y", "%Y%m%d", "%m/%d/%Y",
                  "%d/%m/%Y", "%b %d %Y", "%B %d %Y")


def parse_day(text: str) -> date | None:
    """A single date written in any format that range lines use, or None."""
    text = re.sub(r",?\s+\d{1,2}:\d{2}(:\d{2})?\s*([AP]M)?$", "", text.strip().strip('"'), flags=re.IGNORECASE)
    for fmt in _RANGE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None


def parse_range(text: str) -> tuple[date, date] | None:
    """`July 8, 2025 - July 31, 2025`, `27 January 2026 - 23 February 2026`, `20251213-20260312`,
    `2024-01-01 – 2024-01-31` → (start, end); None when the text is not a date range."""
    text = text.strip().lstrip("#").strip().strip('"').strip()
    for sep in (" - ", " – ", " — ", " to ", "-", "–"):
        if sep in text:
            parts = text.split(sep)
            if len(parts) == 2:
                start, end = parse_day(parts[0]), parse_day(parts[1])
                if start and end and start <= end:
                    return start, end
    return None
