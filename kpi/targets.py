"""Target periods and the status of a KPI against its target.

A target belongs to a period written as a year ('2026'), a quarter ('2026-Q4') or a month
('2026-11'). How a KPI is paced and judged against it lives in `kpi.scorecard`.
"""

from __future__ import annotations

import calendar
import re
from datetime import date
from typing import Literal

from kpi.period import Period

Status = Literal["on_track", "at_risk", "off_track"]  # against the thresholds of `kpi.tree.Kpi.rating`

_PERIOD = re.compile(r"^(\d{4})(?:-(?:Q([1-4])|(\d{2})))?$")


def target_period(text: str) -> Period:
    """'2026' → the year, '2026-Q4' → October to December, '2026-11' → November."""
    match = _PERIOD.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"target period '{text}' is not a year (2026), quarter (2026-Q4) or month (2026-11)")
    year, quarter, month = int(match[1]), match[2], match[3]
    if quarter:
        first = 3 * (int(quarter) - 1) + 1
        return Period(date(year, first, 1), date(year, first + 2, calendar.monthrange(year, first + 2)[1]))
    if month:
        m = int(month)
        if not 1 <= m <= 12:
            raise ValueError(f"target period '{text}' has no month {m}")
        return Period(date(year, m, 1), date(year, m, calendar.monthrange(year, m)[1]))
    return Period(date(year, 1, 1), date(year, 12, 31))


def period_label(day: date, grain: Literal["year", "quarter", "month"]) -> str:
    """The target period of `grain` that contains `day`, as written in the kpis table: 2026, 2026-Q4, 2026-11."""
    if grain == "year":
        return f"{day.year}"
    if grain == "quarter":
        return f"{day.year}-Q{(day.month - 1) // 3 + 1}"
    return f"{day.year}-{day.month:02d}"
