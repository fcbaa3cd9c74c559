"""Today's date for the engine and the app: the calendar day, or a fixed one.

Everything that depends on "today" (the demo's 24 months, period presets, pace and forecasts) asks
`today()`, so a run with `KPI_TODAY=2028-02-29` sees the same day everywhere: the tests pin it and
give the same result on any date the suite runs.
"""

from __future__ import annotations

import os
from datetime import date, datetime
from zoneinfo import ZoneInfo

ENV = "KPI_TODAY"


def today(time_zone: str = "") -> date:
    """The date `KPI_TODAY` names (YYYY-MM-DD), else the calendar day in `time_zone` (an IANA name such as
    a GA4 property's; the machine's own when empty or unknown)."""
    fixed = os.environ.get(ENV, "").strip()
    if not fixed:
        try:
            return datetime.now(ZoneInfo(time_zone)).date() if time_zone else date.today()
        except (KeyError, ValueError):
            return date.today()
    try:
        return date.fromisoformat(fixed)
    except ValueError:
        raise ValueError(f"{ENV}={fixed!r} is not a date; write it as YYYY-MM-DD, or unset it") from None
