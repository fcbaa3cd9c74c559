"""The marketing → sales hand-over: which leads sales never contacted, or contacted after the SLA.

The rates (speed_to_lead_hours, leakage) live in the metric catalog; this module lists the leads
behind them so someone can act on each one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

import polars as pl

from kpi.metrics import Frames
from kpi.period import Period
from kpi.schema import dimensions
from kpi.settings import Settings

NEVER = "never_contacted"
LATE = "contacted_late"

#: Columns of `leaked_leads`, before any extra dimension columns the leads table has.
LEAK_COLUMNS = ("lead_id", "created_at", "first_contact_at", "hours_to_contact", "reason")


def leaked_leads(
    tables: Frames,
    period: Period | None = None,
    filters: Mapping[str, Sequence[str]] | None = None,
    settings: Settings | None = None,
    as_of: datetime | None = None,
) -> pl.DataFrame:
    """Leads created in the period, old enough to judge, that sales never contacted or contacted
    after the SLA; oldest first. `reason` is 'never_contacted' or 'contacted_late'.

    Judged as of `as_of` (default: the latest created_at), like the leakage metric.
    """
    settings = settings or Settings()
    leads = tables.get("leads")
    if leads is None:
        return pl.DataFrame(schema={"lead_id": pl.String, "reason": pl.String})
    frame = leads.lazy()
    if "first_contact_at" not in frame.collect_schema():
        return pl.DataFrame(schema={"lead_id": pl.String, "reason": pl.String})
    if as_of is None:
        as_of = frame.select(pl.col("created_at").max()).collect().item()
    sla = timedelta(hours=settings.sla_hours)
    for dim, values in (filters or {}).items():
        if values:
            frame = frame.filter(pl.col(dim).is_in(list(values)))
    if period is not None:
        frame = frame.filter(period.contains(pl.col("created_at")))
    waited = pl.col("first_contact_at") - pl.col("created_at")
    dims = dimensions(frame)
    return (
        frame.filter(pl.col("created_at") <= pl.lit(as_of or datetime.max) - sla)
        .filter(pl.col("first_contact_at").is_null() | (waited > sla))
        .select(
            "lead_id", "created_at", "first_contact_at",
            (waited.dt.total_seconds(fractional=True) / 3600).round(1).alias("hours_to_contact"),
            pl.when(pl.col("first_contact_at").is_null()).then(pl.lit(NEVER)).otherwise(pl.lit(LATE)).alias("reason"),
            *[pl.col(d).cast(pl.String) for d in dims],
        )
        .sort("created_at")
        .collect()
    )
