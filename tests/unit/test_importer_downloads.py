"""Downloads neutralise spreadsheet formulas in text and keep numbers as numbers."""

from __future__ import annotations

import io

import polars as pl

from kpi.download import to_csv_bytes, to_xlsx_bytes

FRAME = pl.DataFrame({
    "campaign": ["=HYPERLINK(\"http://x\")", "+1-2", "-cmd", "@SUM(A1)", "\tTab", "Brand – Q1", None],
    "spend": [-5.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
})
SAFE = ["'=HYPERLINK(\"http://x\")", "'+1-2", "'-cmd", "'@SUM(A1)", "'\tTab", "Brand – Q1", None]


def test_csv_download_neutralises_formulas() -> None:
    data = to_csv_bytes(FRAME)
    assert data.startswith(b"\xef\xbb\xbf")
    back = pl.read_csv(io.BytesIO(data[3:]))
    assert back["campaign"].to_list() == SAFE
    assert back["spend"].to_list() == [-5.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0]  # numbers untouched


def test_xlsx_download_neutralises_formulas() -> None:
    back = pl.read_excel(io.BytesIO(to_xlsx_bytes(FRAME)))
    assert back["campaign"].to_list() == SAFE
    assert back["spend"].to_list() == [-5, 1, 2, 3, 4, 5, 6]
