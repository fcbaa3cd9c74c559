"""Bytes for download buttons, safe to open in a spreadsheet.

Text that starts with `=`, `+`, `-`, `@` (or a tab / carriage return) is read as a formula by Excel,
LibreOffice and Google Sheets; campaign names and CRM notes come from outside, so every download
prefixes such text with an apostrophe (OWASP "CSV injection"). Number columns are left as numbers.
"""

from __future__ import annotations

import io
import re

import polars as pl

_FORMULA_START = r"^[=+\-@\t\r]"


def neutralise(df: pl.DataFrame) -> pl.DataFrame:
    """`df` with every text cell that a spreadsheet would run as a formula prefixed by `'`."""
    text_cols = [c for c, t in df.schema.items() if t in (pl.String, pl.Categorical) or isinstance(t, pl.Enum)]
    return df.with_columns(
        pl.when(pl.col(c).cast(pl.String).str.contains(_FORMULA_START))
        .then(pl.lit("'") + pl.col(c).cast(pl.String))
        .otherwise(pl.col(c).cast(pl.String))
        .alias(c)
        for c in text_cols
    )


def typed(text: str) -> str:
    """The text as it was before `neutralise` (the apostrophe it added taken off), for showing on screen.

    Text typed with an apostrophe before a formula sign (`'=a`) shows without it: the one value two texts share."""
    return text[1:] if text.startswith("'") and re.match(_FORMULA_START, text[1:]) else text


def to_csv_bytes(df: pl.DataFrame) -> bytes:
    """UTF-8 CSV with a BOM (so Excel reads accents and Cyrillic right), formulas neutralised."""
    return b"\xef\xbb\xbf" + neutralise(df).write_csv().encode("utf-8")


def to_xlsx_bytes(df: pl.DataFrame, sheet: str = "data") -> bytes:
    """An Excel workbook with one sheet, formulas neutralised and text written as text."""
    buf = io.BytesIO()
    neutralise(df).write_excel(buf, worksheet=sheet, autofit=True)
    return buf.getvalue()
