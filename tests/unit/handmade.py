"""A small workspace whose every number is worked out by hand in the tests that use it.

Leads (SLA 24 h):
  L1 2025-01-05 10:00 Email/SMB  EM-1  mql 01-06, sql 01-10, opp 01-15, won 02-14, 10 000; contacted after 2 h
  L2 2025-01-10 09:00 Meta/ENT   FB-1  mql 01-12, sql 01-20, opp 02-01, lost 03-01, 20 000; contacted after 48 h
  L3 2025-01-20 00:00 Meta/SMB   FB-1  mql 01-25; never contacted
  L4 2025-02-03 00:00 Email/ENT  EM-1  no stage; contacted after 1 h
  L5 2025-02-10 00:00 Meta/SMB   FB-1  mql 02-11, sql 02-12, opp 02-20 (open), 5 000; contacted after 5 h
  L6 2025-03-01 00:00 Email/SMB  EM-1  sql 03-05 without an MQL date; contacted after 10 h
Spend: FB-1 (Meta) 100 on 01-05, 200 on 01-20, 300 on 02-10; EM-1 (Email) 50 on 01-15;
       FB-1 310 for the range 2025-03-01..2025-03-31 (no single date).
Traffic: Email 100 sessions on 01-05, Meta 400 on 01-20, Meta 500 on 02-10, Email 200 on 03-01.
"""

from __future__ import annotations

from datetime import date, datetime

import polars as pl

D = datetime


def leads() -> pl.DataFrame:
    rows = [
        ("L1", D(2025, 1, 5, 10), D(2025, 1, 6), D(2025, 1, 10), D(2025, 1, 15), D(2025, 2, 14), None, 10_000.0,
         D(2025, 1, 5, 12), "Email", "SMB", "EM-1"),
        ("L2", D(2025, 1, 10, 9), D(2025, 1, 12), D(2025, 1, 20), D(2025, 2, 1), None, D(2025, 3, 1), 20_000.0,
         D(2025, 1, 12, 9), "Meta", "ENT", "FB-1"),
        ("L3", D(2025, 1, 20), D(2025, 1, 25), None, None, None, None, None, None, "Meta", "SMB", "FB-1"),
        ("L4", D(2025, 2, 3), None, None, None, None, None, None, D(2025, 2, 3, 1), "Email", "ENT", "EM-1"),
        ("L5", D(2025, 2, 10), D(2025, 2, 11), D(2025, 2, 12), D(2025, 2, 20), None, None, 5_000.0,
         D(2025, 2, 10, 5), "Meta", "SMB", "FB-1"),
        ("L6", D(2025, 3, 1), None, D(2025, 3, 5), None, None, None, None, D(2025, 3, 1, 10), "Email", "SMB", "EM-1"),
    ]
    columns = ["lead_id", "created_at", "mql_at", "sql_at", "opportunity_at", "won_at", "lost_at", "amount",
               "first_contact_at", "channel", "segment", "campaign"]
    ts = pl.Datetime("us")
    schema = {c: ts for c in columns if c.endswith("_at")} | {"amount": pl.Float64}
    return pl.DataFrame(rows, schema=columns, orient="row", schema_overrides=schema)


def spend() -> pl.DataFrame:
    daily = pl.DataFrame({
        "date": [date(2025, 1, 5), date(2025, 1, 20), date(2025, 2, 10), date(2025, 1, 15)],
        "campaign": ["FB-1", "FB-1", "FB-1", "EM-1"],
        "channel": ["Meta", "Meta", "Meta", "Email"],
        "spend": [100.0, 200.0, 300.0, 50.0],
        "impressions": [10_000, 20_000, 30_000, 1_000],
        "clicks": [100, 150, 250, 50],
    })
    ranged = pl.DataFrame({
        "period_start": [date(2025, 3, 1)], "period_end": [date(2025, 3, 31)],
        "campaign": ["FB-1"], "channel": ["Meta"], "spend": [310.0], "impressions": [31_000], "clicks": [310],
    })
    return pl.concat([daily, ranged], how="diagonal")


def traffic() -> pl.DataFrame:
    return pl.DataFrame({
        "date": [date(2025, 1, 5), date(2025, 1, 20), date(2025, 2, 10), date(2025, 3, 1)],
        "channel": ["Email", "Meta", "Meta", "Email"],
        "campaign": ["EM-1", "FB-1", "FB-1", "EM-1"],
        "sessions": [100, 400, 500, 200],
    })


def tables() -> dict[str, pl.DataFrame]:
    return {"leads": leads(), "spend": spend(), "traffic": traffic()}
