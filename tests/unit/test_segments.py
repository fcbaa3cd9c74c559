"""How much better or worse a cell is than overall (kpi.segments), worked out by hand."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from kpi.segments import VS_OVERALL, vs_overall, with_vs_overall


def compared(values: list[float | None], overall: float | None, higher_is_better: bool) -> list[float | None]:
    frame = pl.DataFrame({"m": values}, schema={"m": pl.Float64})
    return frame.select(vs_overall("m", overall, higher_is_better))[VS_OVERALL].to_list()


def test_a_rate_above_overall_is_better_by_its_share_of_overall() -> None:
    # 30 % and 20 % lead → MQL against 25 % overall: 5 points of 25 either way
    assert compared([0.30, 0.20, 0.25], 0.25, True) == pytest.approx([0.2, -0.2, 0.0])


def test_a_cost_below_overall_is_better() -> None:
    # CPL 80 against 100 overall is 20 % cheaper (better), 125 is 25 % dearer (worse)
    assert compared([80.0, 125.0], 100.0, False) == pytest.approx([0.2, -0.25])


def test_against_a_negative_overall_a_higher_value_is_still_better() -> None:
    # ROI +0.5 against −0.5 overall: one whole overall's size better, twice; −1.0 is one size worse
    assert compared([0.5, -1.0, -0.5], -0.5, True) == pytest.approx([2.0, -1.0, 0.0])


def test_without_an_overall_value_nothing_is_better_or_worse_and_a_missing_value_stays_missing() -> None:
    assert compared([3.0, None], None, True) == [0.0, None]
    assert compared([3.0, None], 0.0, False) == [0.0, None]
    assert compared([None], 2.0, True) == [None]


def test_with_vs_overall_adds_a_column_per_metric_against_one_overall_row() -> None:
    cells = pl.DataFrame({"channel": ["Email", "Meta"], "leads": [30, 10], "cpl": [None, 150.0]})
    overall = pl.DataFrame({"leads": [40], "cpl": [100.0]})
    out = with_vs_overall(cells, overall, {"leads": True, "cpl": False})
    assert out.columns == ["channel", "leads", "cpl", "leads_vs_overall", "cpl_vs_overall"]
    # 30 of 40 leads is 25 % under the total; Meta's CPL of 150 is half again the overall 100: −0.5 (worse)
    assert out["leads_vs_overall"].to_list() == pytest.approx([-0.25, -0.75])
    assert out["cpl_vs_overall"].to_list()[0] is None and out["cpl_vs_overall"][1] == pytest.approx(-0.5)


def test_with_vs_overall_per_period_compares_each_cell_with_its_own_period() -> None:
    jan, feb, mar = date(2025, 1, 1), date(2025, 2, 1), date(2025, 3, 1)
    cells = pl.DataFrame({"period": [jan, jan, feb, mar], "channel": ["Email", "Meta", "Meta", "Meta"],
                          "lead_to_mql": [0.5, 0.25, 0.6, 0.1]})
    overall = pl.DataFrame({"period": [jan, feb], "lead_to_mql": [0.4, 0.0]})
    out = with_vs_overall(cells, overall, {"lead_to_mql": True}, on=["period"])
    assert out.select("period", "channel").rows() == cells.select("period", "channel").rows()  # order kept
    # January: 0.5 and 0.25 against 0.4 are +25 % and −37.5 %; February's overall is 0 and March has none
    assert out["lead_to_mql_vs_overall"].to_list() == pytest.approx([0.25, -0.375, 0.0, 0.0])
