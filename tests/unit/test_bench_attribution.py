"""The attribution benchmark's workspace and its DuckDB SQL, a second, independent implementation of the linear
and U-shaped rules: on the same generated workspace it must give kpi.attribution.attribute's credits."""

from __future__ import annotations

from datetime import date

import duckdb
import polars as pl
import pytest

from bench.bench_attribution import SQL_MODELS, attribution_sql, differences, generate
from kpi.attribution import NO_TOUCH, NOT_SET, attribute
from kpi.data import prepare
from kpi.period import Period

N = 3_000


@pytest.fixture(scope="module")
def tables() -> dict[str, pl.DataFrame]:
    return generate(N, seed=7)


@pytest.fixture(scope="module")
def con(tables: dict[str, pl.DataFrame]) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(config={"threads": 1})
    con.register("leads_arrow", tables["leads"].to_arrow())
    con.register("touches_arrow", tables["touches"].with_row_index("_row").to_arrow())
    con.execute("CREATE TABLE leads AS SELECT * FROM leads_arrow")
    con.execute("CREATE TABLE touches AS SELECT * FROM touches_arrow")
    return con


def test_the_workspace_has_what_the_rules_need(tables: dict[str, pl.DataFrame]) -> None:
    leads, touches = tables["leads"], tables["touches"]
    assert (leads.height, touches.height) == (N, 5 * N)
    per_lead = touches.group_by("lead_id").len()["len"]
    assert per_lead.min() == 3 and per_lead.max() == 7
    untouched = leads.height - per_lead.len()
    assert 0.01 * N < untouched < 0.06 * N
    joined = touches.join(leads.select("lead_id", "created_at", "won_at"), on="lead_id")
    assert joined.filter(pl.col("touched_at") > pl.col("created_at")).height > 0.05 * touches.height
    assert joined.filter(pl.col("touched_at") == pl.col("created_at")).height > 0.2 * N  # form submits
    assert joined.filter(pl.col("touched_at") > pl.col("won_at")).height > 0  # after a won deal
    assert touches.select(pl.struct("lead_id", "touched_at").is_duplicated().sum()).item() > 0.02 * touches.height
    assert 0 < touches["channel"].null_count() < 0.01 * touches.height
    assert touches["touched_at"].is_sorted()
    assert generate(N, seed=7)["touches"].equals(touches)


@pytest.mark.parametrize("model", SQL_MODELS)
@pytest.mark.parametrize(("credit", "period"), [
    ("leads", None),
    ("leads", Period(date(2025, 3, 1), date(2025, 5, 31))),
    ("won", None),  # the lead-creation touch is then not the last eligible one
    ("revenue", Period(date(2025, 1, 1), date(2025, 12, 31))),
])
def test_duckdb_sql_gives_the_engines_credit(tables: dict[str, pl.DataFrame], con: duckdb.DuckDBPyConnection,
                                             model: str, credit: str, period: Period | None) -> None:
    expected = attribute(prepare(tables), model, credit, "channel", period)  # type: ignore[arg-type]
    actual = con.sql(attribution_sql(model, credit, period)).pl()
    assert differences(expected, actual) == []
    assert expected.height == actual.height >= 4
    if credit == "leads":  # six channels, (not set) and (no touch)
        assert actual.height == 8 and {NO_TOUCH, NOT_SET} <= set(actual["channel"])
    if credit != "revenue":
        conversions = tables["leads"].filter(pl.col("won_at" if credit == "won" else "created_at").is_not_null())
        if period is not None:
            conversions = conversions.filter(period.contains(pl.col("created_at")))
        assert actual["credit"].sum() == pytest.approx(conversions.height)


def test_differences_sees_a_missing_row_and_a_wrong_credit() -> None:
    frame = pl.DataFrame({"channel": ["Meta", "Email"], "credit": [2.0, 1.0]})
    assert differences(frame, frame.with_columns(pl.col("credit") * (1 + 1e-12))) == []
    assert len(differences(frame, frame.head(1))) == 1
    assert len(differences(frame, frame.with_columns(pl.col("credit") + 1e-6))) == 2
