"""How much better or worse a cell is than overall (kpi.segments.vs_overall), worked out by hand."""

from __future__ import annotations

import polars as pl
import pytest

from kpi.segments import VS_OVERALL, vs_overall


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
