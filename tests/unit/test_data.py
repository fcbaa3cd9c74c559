"""Loading a data folder prepares its tables for the engine without changing any number."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import polars as pl

from kpi.data import load_dir, write_dir
from kpi.metrics import compute, furthest_column
from kpi.settings import Settings

TS = pl.Datetime("us")


def test_loaded_leads_are_in_order_of_creation_with_the_furthest_stage(tmp_path: Path) -> None:
    leads = pl.DataFrame({
        "lead_id": ["c", "a", "b", "d"],
        "created_at": [datetime(2025, 3, 1), datetime(2025, 1, 1), datetime(2025, 2, 1), datetime(2025, 1, 1, 12)],
        "mql_at": [datetime(2025, 3, 2), None, datetime(2025, 2, 3), None],
        "won_at": [None, None, datetime(2025, 4, 1), None],
        "amount": [None, None, 900.0, None],
        "channel": ["Email", "Meta", "Email", "Meta"],
    }, schema_overrides={"created_at": TS, "mql_at": TS, "won_at": TS})
    write_dir({"leads": leads}, tmp_path)

    loaded = load_dir(tmp_path)[0]["leads"]

    assert loaded["lead_id"].to_list() == ["a", "d", "b", "c"]
    assert loaded["created_at"].flags["SORTED_ASC"]
    # a has no stage beyond lead, c reached MQL (index 1), b won (index 4 of the default five stages)
    furthest = dict(zip(loaded["lead_id"], loaded[furthest_column(Settings().stages)], strict=True))
    assert furthest == {"a": 0, "d": 0, "b": 4, "c": 1}
    assert loaded.schema["channel"] == pl.Categorical
    by_channel = compute({"leads": loaded}, ["leads", "mql", "won", "revenue"], by=["channel"])
    assert by_channel.rows() == [("Email", 2, 2, 1, 900.0), ("Meta", 2, 0, 0, 0.0)]
