"""Reporting periods: inclusive date ranges, presets, comparison periods and time grains."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Literal

import polars as pl

Grain = Literal["day", "week", "month", "quarter", "year"]
GRAINS: tuple[Grain, ...] = ("day", "week", "month", "quarter", "year")
Compare = Literal["previous", "last_year", "none"]
COMPARES: tuple[Compare, ...] = ("previous", "last_year", "none")
PRESETS = ("this_month", "last_month", "this_quarter", "last_30_days", "last_90_days", "year_to_date",
           "last_12_months")

#: One step of each grain as a polars duration (for truncate, offset_by and date_range).
STEPS: dict[Grain, str] = {"day": "1d", "week": "1w", "month": "1mo", "quarter": "1q", "year": "1y"}


@dataclass(frozen=True)
class Period:
    """Days `start` to `end`, both included."""

    start: date
    end: date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(f"period ends ({self.end}) before it starts ({self.start})")

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def start_dt(self) -> datetime:
        return datetime.combine(self.start, time())

    @property
    def end_exclusive_dt(self) -> datetime:
        return datetime.combine(self.end + timedelta(days=1), time())

    def contains(self, expr: pl.Expr) -> pl.Expr:
        """True where a timestamp or date column falls inside the period."""
        return (expr >= pl.lit(self.start_dt)) & (expr < pl.lit(self.end_exclusive_dt))

    def __str__(self) -> str:
        return f"{self.start.isoformat()}..{self.end.isoformat()}"


def _shift_years(d: date, years: int) -> date:
    try:
        return d.replace(year=d.year + years)
    except ValueError:  # 29 February
        return d.replace(year=d.year + years, day=28)


def _month_end(d: date) -> date:
    return d.replace(day=calendar.monthrange(d.year, d.month)[1])


def compare_period(period: Period, compare: Compare) -> Period | None:
    """The period to compare against: the same number of days just before, or the same dates a year earlier."""
    if compare == "none":
        return None
    if compare == "last_year":
        end = _shift_years(period.end, -1)
        if period.end == _month_end(period.end):  # February 2029 compares with all of February 2028
            end = _month_end(end)
        return Period(_shift_years(period.start, -1), end)
    # a whole-month period compares with the whole months before it, not with a day count
    if period.start.day == 1 and period.end == _month_end(period.end):
        months = (period.end.year - period.start.year) * 12 + period.end.month - period.start.month + 1
        m = period.start.month - 1 - months
        start = date(period.start.year + m // 12, m % 12 + 1, 1)
        return Period(start, period.start - timedelta(days=1))
    return Period(period.start - timedelta(days=period.days), period.start - timedelta(days=1))


def preset(name: str, today: date) -> Period:
    """A named period relative to `today` (for example 'last_month')."""
    if name == "this_month":
        return Period(today.replace(day=1), today)
    if name == "last_month":
        end = today.replace(day=1) - timedelta(days=1)
        return Period(end.replace(day=1), end)
    if name == "this_quarter":
        return Period(date(today.year, 3 * ((today.month - 1) // 3) + 1, 1), today)
    if name == "last_30_days":
        return Period(today - timedelta(days=29), today)
    if name == "last_90_days":
        return Period(today - timedelta(days=89), today)
    if name == "year_to_date":
        return Period(date(today.year, 1, 1), today)
    if name == "last_12_months":
        return Period(_shift_years(today, -1) + timedelta(days=1), today)
    raise ValueError(f"unknown period preset '{name}'; valid: {', '.join(PRESETS)}")


def bucket(expr: pl.Expr, grain: Grain) -> pl.Expr:
    """The first day of the `grain` bucket (ISO week: Monday) a timestamp or date falls in."""
    return expr.dt.truncate(STEPS[grain]).cast(pl.Date)
