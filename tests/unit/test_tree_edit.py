"""Editing the KPI tree (kpi.tree_edit): adding a KPI, setting and removing a target, and percent in, fractions
kept, worked out by hand."""

from __future__ import annotations

import polars as pl
import pytest

from kpi.metrics import catalog
from kpi.schema import TABLES
from kpi.tree import check, join
from kpi.tree_edit import (
    canonical,
    editor_tables,
    from_editors,
    is_rate,
    metrics,
    share_of,
    stored_target,
    unit,
    with_kpi,
    with_target,
)

CAT = catalog()
DIMS = {"leads": ("channel", "segment", "region", "initiative", "campaign"),
        "spend": ("channel", "initiative", "campaign")}
SCHEMA = TABLES["kpis"].dtypes


def table(rows: list[dict[str, object]]) -> pl.DataFrame:
    return pl.DataFrame([{c: r.get(c) for c in SCHEMA} for r in rows], schema=SCHEMA)


LEADS = {"kpi_id": "leads", "name": "Leads", "metric": "leads"}
RATE = {"kpi_id": "mql_rate", "name": "Lead → MQL", "metric": "lead_to_mql", "parent": "leads", "warning": 0.9,
        "critical": 0.75}
TREE = table([{**LEADS, "period": "2026-Q4", "target": 1200.0}, {**LEADS, "period": "2026-11", "target": 400.0},
              {**RATE, "period": "2026-Q4", "target": 0.123}])


def targets(frame: pl.DataFrame) -> list[tuple[str, str | None, float | None]]:
    return frame.select("kpi_id", "period", "target").rows()


def test_canonical_has_every_column_in_its_type_and_none_is_an_empty_tree() -> None:
    empty = canonical(None)
    assert empty.is_empty() and empty.schema == SCHEMA
    typed = canonical(pl.DataFrame({"metric": ["leads"], "kpi_id": [7], "target": [5], "extra": ["x"]}))
    assert typed.schema == SCHEMA  # the extra column is gone, the missing ones are there and empty
    assert typed.row(0, named=True) == {**{c: None for c in SCHEMA}, "kpi_id": "7", "metric": "leads",
                                        "target": 5.0}


def test_a_rate_is_a_ratio_metric_and_only_its_target_is_typed_in_percent() -> None:
    assert is_rate("lead_to_mql", CAT) and not is_rate("leads", CAT) and not is_rate("cpl", CAT)
    assert not is_rate(None, CAT) and not is_rate("revenue / spend", CAT)  # a formula is a plain number
    assert stored_target("lead_to_mql", 45.0, CAT) == 0.45
    assert stored_target("lead_to_mql", 12.3, CAT) == 0.123  # not 0.12300000000000001
    assert stored_target("leads", 1200.0, CAT) == 1200.0 and stored_target("cpl", 80.5, CAT) == 80.5
    assert stored_target("lead_to_mql", None, CAT) is None


def test_thresholds_are_typed_in_percent_of_the_target() -> None:
    assert share_of(90.0) == 0.9 and share_of(110.0) == 1.1 and share_of(None) is None
    assert share_of(33.3) == 0.333


def test_the_unit_of_a_kpi_value() -> None:
    assert unit("leads", CAT) == "count" and unit("lead_to_mql", CAT) == "ratio"
    assert unit("revenue - spend", CAT) == "currency"  # a difference of money is money
    assert unit("revenue / spend", CAT) is None  # a ratio of two amounts is a plain number
    assert unit("no such metric", CAT) is None and unit("leads +", CAT) is None


def test_editor_tables_show_percent_and_from_editors_gives_back_the_very_same_fractions() -> None:
    defs, goals = editor_tables(TREE, CAT)
    assert defs["kpi_id"].to_list() == ["leads", "mql_rate"]
    assert defs.filter(pl.col("kpi_id") == "mql_rate").select("warning", "critical").row(0) == (90.0, 75.0)
    assert targets(goals) == [("leads", "2026-Q4", 1200.0), ("leads", "2026-11", 400.0),
                              ("mql_rate", "2026-Q4", 12.3)]  # only the rate is in percent
    back_defs, back_goals = from_editors(defs, goals, CAT)
    assert join(back_defs, back_goals).equals(TREE)  # untouched: every number exactly as saved


def test_from_editors_reads_a_target_by_the_edited_metric_and_numbers_typed_as_text() -> None:
    defs, goals = editor_tables(TREE, CAT)
    defs = defs.with_columns(pl.when(pl.col("kpi_id") == "leads").then(pl.lit("lead_to_mql"))
                             .otherwise(pl.col("metric")).alias("metric"))  # leads becomes a rate in this edit
    goals = goals.with_columns(pl.col("target").cast(pl.String))
    _, back = from_editors(defs, goals, CAT)
    assert targets(back) == [("leads", "2026-Q4", 12.0), ("leads", "2026-11", 4.0), ("mql_rate", "2026-Q4", 0.123)]


def test_with_kpi_adds_a_kpi_after_the_others_with_its_target() -> None:
    new = with_kpi(TREE, "2026-Q4", 0.45, kpi_id="won", name="Won", metric="won", parent="leads", warning=0.95)
    assert check(new, CAT, DIMS) == []
    assert metrics(new) == {"leads": "leads", "mql_rate": "lead_to_mql", "won": "won"}
    assert targets(new)[-1] == ("won", "2026-Q4", 0.45)
    won = new.filter(pl.col("kpi_id") == "won").row(0, named=True)
    assert (won["parent"], won["warning"], won["critical"], won["cadence"]) == ("leads", 0.95, None, None)
    without = with_kpi(TREE, None, None, kpi_id="won", name="Won", metric="won")
    assert targets(without)[-1] == ("won", None, None)  # one row, no target
    with pytest.raises(AssertionError, match="not KPI definition columns"):
        with_kpi(TREE, None, None, kpi_id="x", name="X", metric="leads", colour="red")


def test_with_target_replaces_only_the_target_of_its_kpi_and_period_and_none_removes_it() -> None:
    changed = with_target(TREE, "leads", "2026-Q4", 1500.0)
    assert sorted(targets(changed)) == [("leads", "2026-11", 400.0), ("leads", "2026-Q4", 1500.0),
                                        ("mql_rate", "2026-Q4", 0.123)]
    added = with_target(TREE, "mql_rate", "2027-Q1", 0.14)
    assert sorted(targets(added))[-2:] == [("mql_rate", "2026-Q4", 0.123), ("mql_rate", "2027-Q1", 0.14)]
    removed = with_target(with_target(TREE, "mql_rate", "2026-Q4", None), "leads", "2026-11", None)
    assert targets(removed) == [("leads", "2026-Q4", 1200.0), ("mql_rate", None, None)]  # the KPI stays
    assert removed.filter(pl.col("kpi_id") == "mql_rate")["warning"].item() == 0.9
