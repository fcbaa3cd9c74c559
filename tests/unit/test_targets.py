"""Target periods and pacing, worked out by hand."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from kpi.metrics import catalog
from kpi.period import Period
from kpi.targets import pace, target_period, targets_on

KPIS = pl.DataFrame({
    "kpi_id": ["k_leads", "k_leads", "k_cpl", "k_bad"],
    "metric": ["leads", "leads", "cpl", "leads"],
    "direction": ["up", "up", "down", "up"],
    "target": [920.0, 4000.0, 100.0, 1.0],
    "period": ["2026-Q4", "2026", "2026-11", "someday"],
})


def test_target_periods() -> None:
    assert target_period("2026-Q4") == Period(date(2026, 10, 1), date(2026, 12, 31))
    assert target_period("2026-02").days == 28 and target_period("2024-02").days == 29
    assert target_period("2026") == Period(date(2026, 1, 1), date(2026, 12, 31))
    for bad in ("someday", "2026-Q5", "2026-13"):
        with pytest.raises(ValueError, match="target period"):
            target_period(bad)


def test_the_shortest_target_period_containing_the_day_wins() -> None:
    found = targets_on(KPIS, ["leads", "cpl"], date(2026, 11, 15))
    assert found["leads"].label == "2026-Q4" and found["leads"].value == 920
    assert found["cpl"].label == "2026-11" and not found["cpl"].higher_is_better
    assert targets_on(KPIS, ["cpl"], date(2026, 12, 1)) == {}  # November's CPL target is over
    assert targets_on(KPIS, ["leads"], date(2027, 1, 1)) == {}


def test_pace_of_a_count_is_pro_rata_over_the_period() -> None:
    target = targets_on(KPIS, ["leads"], date(2026, 11, 15))["leads"]
    leads = catalog()["leads"]
    # Q4 has 92 days; by 15 November 46 have gone: 920 * 46 / 92 = 460 leads expected
    on = pace(460, target, leads, date(2026, 11, 15))
    assert on is not None and on.expected == 460 and on.status == "on_track"
    risk = pace(420, target, leads, date(2026, 11, 15))
    assert risk is not None and risk.share == pytest.approx(420 / 460) and risk.status == "at_risk"
    off = pace(400, target, leads, date(2026, 11, 15))
    assert off is not None and off.status == "off_track"


def test_a_cost_target_holds_as_is_and_lower_is_better() -> None:
    target = targets_on(KPIS, ["cpl"], date(2026, 11, 15))["cpl"]
    cpl = catalog()["cpl"]
    assert pace(90, target, cpl, date(2026, 11, 15)).status == "on_track"  # type: ignore[union-attr]
    assert pace(105, target, cpl, date(2026, 11, 15)).status == "at_risk"  # type: ignore[union-attr]  # 100/105 = 95 %
    assert pace(120, target, cpl, date(2026, 11, 15)).status == "off_track"  # type: ignore[union-attr]
    assert pace(None, target, cpl, date(2026, 11, 15)) is None


def test_a_target_on_a_slice_is_not_the_target_of_the_whole() -> None:
    scoped = KPIS.with_columns(filters=pl.Series([None, None, "segment=Enterprise", None]))
    assert "cpl" not in targets_on(scoped, ["cpl"], date(2026, 11, 15))
    assert targets_on(scoped, ["leads"], date(2026, 11, 15))["leads"].value == 920
