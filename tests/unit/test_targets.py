"""Target periods as written in the kpis table."""

from __future__ import annotations

from datetime import date

import pytest

from kpi.period import Period
from kpi.targets import period_label, target_period


def test_target_periods() -> None:
    assert target_period("2026-Q4") == Period(date(2026, 10, 1), date(2026, 12, 31))
    assert target_period("2026-02").days == 28 and target_period("2024-02").days == 29
    assert target_period("2026") == Period(date(2026, 1, 1), date(2026, 12, 31))
    assert target_period(" 2026-11 ") == Period(date(2026, 11, 1), date(2026, 11, 30))
    for bad in ("someday", "2026-Q5", "2026-13", "2026-00", "26-Q1"):
        with pytest.raises(ValueError, match="target period"):
            target_period(bad)


def test_the_label_of_the_period_containing_a_day_reads_back_to_that_period() -> None:
    day = date(2026, 11, 22)
    assert [period_label(day, g) for g in ("year", "quarter", "month")] == ["2026", "2026-Q4", "2026-11"]
    for g in ("year", "quarter", "month"):
        period = target_period(period_label(day, g))
        assert period.start <= day <= period.end
    assert period_label(date(2026, 3, 31), "quarter") == "2026-Q1"
    assert period_label(date(2026, 4, 1), "month") == "2026-04"
