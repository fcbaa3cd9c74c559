"""The one display builder of every table (ui.tables): cells in the reader's language as the KPI cards write
them, "–" for missing, raw numbers under them, text from data neutralised for the toolbar's CSV download."""

from __future__ import annotations

from datetime import date, datetime

import polars as pl
import pytest

from kpi.download import neutralise
from ui.tables import cell_text, display

NBSP = "\u00a0"


def shown(frame: pl.DataFrame, lang: str, kinds: dict[str, str]) -> list[list[str]]:
    """The cells as drawn (the Styler's display values), row by row, without the index."""
    lines = display(frame, lang, "EUR", kinds).to_string(delimiter="|").splitlines()
    return [line.split("|")[1:] for line in lines[1:]]


FRAME = pl.DataFrame({
    "campaign": ['=HYPERLINK("http://evil.example","x")', "+cmd", "@SUM(A1)", "-1+1", "Spring sale", None],
    "leads": [7196, 12, None, 3, 0, 1_234_567],
    "spend": [9701.97, 95.55, None, 0.0, 1000.0, 12.5],
    "ctr": [0.0178, 0.25, None, 0.1, 1.0, 0.001],
    "leads__delta": [53.4, -2.0, None, 0.0, 100.0, 0.05],
    "ctr__delta": [1.25, -0.5, None, 0.0, 10.0, 0.0],
    "roas": [4.6912, 0.5, None, 1.0, 12.0, 0.0],
    "day": [date(2026, 12, 3), None, date(2026, 1, 1), date(2026, 5, 5), date(2026, 2, 28), date(2026, 9, 9)],
})
KINDS = {"spend": "currency", "ctr": "ratio", "leads__delta": "delta_pct", "ctr__delta": "delta_pp",
         "roas": "multiple"}


def test_swedish_cells_are_written_like_the_cards() -> None:
    rows = [[c.replace(NBSP, " ").replace("\u202f", " ") for c in row] for row in shown(FRAME, "sv", KINDS)]
    assert rows[0][1:] == ["7 196", "9 702 €", "1,78 %", "+53,4 %", "+1,3", "4,69×", "3 dec. 2026"]
    assert rows[1][1:] == ["12", "95,55 €", "25,0 %", "-2,0 %", "-0,5", "0,50×", "–"]
    assert rows[2][1:] == ["–"] * 6 + ["1 jan. 2026"]  # missing values are a dash, never "None"
    assert rows[5][1] == "1 234 567"


def test_russian_and_english_cells() -> None:
    ru = [[c.replace(NBSP, " ").replace("\u202f", " ") for c in row] for row in shown(FRAME, "ru", KINDS)]
    assert ru[0][1:4] == ["7 196", "9 702 €", "1,78 %"]
    assert ru[0][7] == "3 дек. 2026 г."
    en = shown(FRAME, "en", KINDS)
    assert en[0][1:] == ["7,196", "€9,702", "1.78%", "+53.4%", "+1.3", "4.69×", "3 Dec 2026"]
    assert en[1][2] == "€95.55"


def test_text_shows_as_typed_over_data_neutralised_for_spreadsheets() -> None:
    styler = display(FRAME, "en", "EUR", KINDS)
    data = styler.data
    # what the toolbar's "Download as CSV" writes: every formula-looking text prefixed, numbers raw
    assert data["campaign"].tolist()[:5] == ["'=HYPERLINK(\"http://evil.example\",\"x\")", "'+cmd", "'@SUM(A1)",
                                             "'-1+1", "Spring sale"]
    assert data["campaign"].tolist()[:5] == neutralise(FRAME)["campaign"].to_list()[:5]  # the download rule
    assert data["spend"].tolist()[0] == 9701.97 and data["leads"].tolist()[0] == 7196
    # what the reader sees: the names as they are
    assert [row[0] for row in shown(FRAME, "en", KINDS)][:5] == FRAME["campaign"].to_list()[:5]


def test_kinds_by_type_when_not_given() -> None:
    assert cell_text(1234.5, "number", "sv").replace(NBSP, " ") == "1 234,50"
    assert cell_text(2.0, "number", "en") == "2"
    assert cell_text(datetime(2026, 12, 3, 14, 5), "datetime", "en") == "3 Dec 2026 14:05"
    assert cell_text(float("nan"), "count", "en") == "–"
    frame = pl.DataFrame({"n": [1500], "x": [0.5], "when": [datetime(2026, 1, 2, 9, 30)]})
    assert shown(frame, "en", {}) == [["1,500", "0.50", "2 Jan 2026 09:30"]]


@pytest.mark.parametrize("value", [None, float("nan")])
def test_missing_is_a_dash_in_every_kind(value: float | None) -> None:
    for kind in ("count", "currency", "ratio", "multiple", "days", "delta_pct", "delta_pp", "number", "date", "text"):
        assert cell_text(value, kind, "ru") == "–"


def test_a_change_that_rounds_to_nothing_has_no_sign() -> None:
    assert cell_text(-0.02, "delta_pp", "sv") == "0,0"
    assert cell_text(0.04, "delta_pp", "en") == "0.0"
    assert cell_text(-0.06, "delta_pp", "en") == "-0.1"
    assert cell_text(-0.04, "delta_pct", "en") == "0.0%"
    assert cell_text(-12.34, "delta_pct", "en") == "-12.3%"
