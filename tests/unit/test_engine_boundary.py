"""The engine boundary: `kpi.Query`, the engine-side `kpi.workspace.Workspace`, the `kpi.engine` entry points
and `kpi.uploads`, on the hand-made workspace (tests/unit/handmade.py) whose numbers are worked out by hand."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import pytest

from kpi import engine
from kpi.period import Period
from kpi.query import Query
from kpi.settings import Settings
from kpi.sources.presets import DERIVED_TOUCH_TYPES
from kpi.store import InvalidDataset, Store
from kpi.uploads import save_uploads
from kpi.workspace import Workspace, last_day, stated_currency
from tests.unit.handmade import leads, spend, tables

JAN = Period(date(2025, 1, 1), date(2025, 1, 31))
FEB = Period(date(2025, 2, 1), date(2025, 2, 28))


@pytest.fixture(scope="module")
def ws() -> Workspace:
    return Workspace.prepared(tables(), Settings(), "handmade")


def test_a_query_is_equal_to_every_other_way_of_asking_the_same() -> None:
    asked = Query.of(by=["channel"], filters={"segment": ["SMB", "ENT", "SMB"], "region": []})
    assert asked == Query(("channel",), filters=(("segment", ("ENT", "SMB")),))
    assert asked.filter_map == {"segment": ["ENT", "SMB"]}  # a dimension without values asks nothing
    assert len({asked, Query.of(by=("channel",), filters={"segment": ["ENT", "SMB"]})}) == 1  # hashable, one key
    assert asked.but(filters={"segment": ["SMB"]}).filters == (("segment", ("SMB",)),)
    assert asked.without("segment").filters == ()


def test_a_compared_query_knows_its_previous_one() -> None:
    compared = Query.of(by=["channel"], period=FEB, compare=JAN, view="flow")
    assert compared.previous() == Query.of(by=["channel"], period=JAN, view="flow")
    assert Query.of(period=FEB).previous() is None


def test_metrics_with_a_comparison_carry_the_previous_value_and_the_change(ws: Workspace) -> None:
    # by hand: January leads L1, L2, L3; February L4, L5; spend Jan 100 + 200 + 50 = 350, Feb 300
    row = engine.metrics(ws, Query.of(period=FEB, compare=JAN), ["leads", "spend"]).row(0, named=True)
    assert (row["leads"], row["leads_prev"], row["leads_delta"]) == (2, 3, -1)
    assert row["leads_delta_pct"] == pytest.approx(-1 / 3)
    assert (row["spend"], row["spend_prev"], row["spend_delta"]) == (300.0, 350.0, -50.0)
    plain = engine.metrics(ws, Query.of(period=FEB), ["leads"])
    assert plain.columns == ["leads"] and plain["leads"].item() == 2


def test_metrics_follow_the_query_filters_and_breakdown(ws: Workspace) -> None:
    # January Meta leads by segment: L2 ENT, L3 SMB
    out = engine.metrics(ws, Query.of(by=["segment"], period=JAN, filters={"channel": ["Meta"]}), ["leads"])
    assert out.rows() == [("ENT", 1), ("SMB", 1)]


def test_the_funnel_with_a_comparison_has_the_previous_counts_beside(ws: Workspace) -> None:
    funnel = engine.funnel(ws, Query.of(period=FEB, compare=JAN))
    leads_row = funnel.filter(pl.col("stage") == "lead").row(0, named=True)
    assert (leads_row["count"], leads_row["count_prev"]) == (2, 3)
    mql = funnel.filter(pl.col("stage") == "mql").row(0, named=True)
    assert (mql["count"], mql["count_prev"]) == (1, 3)  # Feb: L5; Jan: L1, L2, L3


def test_leaked_leads_answer_the_query_period(ws: Workspace) -> None:
    # January: L2 contacted after 48 h (SLA 24 h), L3 never contacted; L1 within 2 h
    leaked = engine.leaked_leads(ws, Query.of(period=JAN))
    assert dict(zip(leaked["lead_id"], leaked["reason"], strict=True)) == {
        "L2": "contacted_late", "L3": "never_contacted"}


def test_cost_dimensions_missing_names_what_spend_lacks(ws: Workspace) -> None:
    by_segment = Query.of(by=["segment"], filters={"channel": ["Meta"]})
    assert engine.cost_dimensions_missing(ws, by_segment, ["cpl", "leads"]) == ["segment"]
    assert engine.cost_dimensions_missing(ws, by_segment, ["leads"]) == []
    assert engine.cost_dimensions_missing(ws, Query.of(by=["channel"]), ["cpl"]) == []


def test_a_sliced_workspace_never_sees_past_its_slice() -> None:
    meta = Workspace.prepared(tables(), Settings(), "meta", slice={"channel": ["Meta"]})
    # Meta leads L2, L3, L5 whatever the query asks; a filter outside the slice finds nothing
    assert engine.metrics(meta, Query(), ["leads"])["leads"].item() == 3
    assert engine.metrics(meta, Query.of(filters={"channel": ["Email"]}), ["leads"])["leads"].to_list() in ([], [0])


def test_workspace_facts(ws: Workspace) -> None:
    # the last lead is 2025-03-01 but the March spend range ends 2025-03-31
    assert ws.last_day == date(2025, 3, 31) == last_day(ws.tables)
    assert last_day({"leads": leads()}) == date(2025, 3, 1)
    assert ws.range_tables == ("spend",)
    assert ws.values("channel") == ["Email", "Meta"]
    assert ws.values("segment") == ["ENT", "SMB"]
    assert ws.values("campaign") == ["EM-1", "FB-1"]
    assert not ws.has_derived_touches
    assert ws.size_bytes > 0


def test_the_stated_currency_is_the_most_common_in_spend_then_leads() -> None:
    sek = spend().with_columns(pl.Series("currency", ["SEK", "SEK", "EUR", "SEK", "EUR"]))
    assert stated_currency({"spend": sek}) == "SEK"
    assert stated_currency({"leads": leads().with_columns(pl.lit("RUB").alias("currency"))}) == "RUB"
    assert stated_currency({"leads": leads()}) is None


def test_derived_touches_are_noticed() -> None:
    touches = pl.DataFrame({"lead_id": ["L1", "L2"], "touched_at": [leads()["created_at"][0]] * 2,
                            "channel": ["Email", "Meta"], "touch_type": ["click", DERIVED_TOUCH_TYPES[0]]})
    derived = Workspace.prepared({**tables(), "touches": touches}, Settings(), "derived")
    assert derived.has_derived_touches
    recorded = Workspace.prepared({**tables(), "touches": touches.with_columns(pl.lit("click").alias("touch_type"))})
    assert not recorded.has_derived_touches


def test_uploads_are_all_checked_before_any_is_written(tmp_path: Path) -> None:
    db = Store(tmp_path)
    broken = spend().with_columns(pl.lit("not a number").alias("spend"))
    with pytest.raises(InvalidDataset, match=r"^spend: "):
        save_uploads(db, {"leads": leads(), "spend": broken}, into=None, name="Shop", mode="replace",
                     settings=Settings())
    assert db.workspaces() == []  # the good leads were not saved either, and no workspace was made
    saved = save_uploads(db, {"leads": leads(), "spend": spend(), "notes": pl.DataFrame({"x": [1]})}, into=None,
                         name="Shop", mode="replace", settings=Settings(currency="SEK"), created_by="ann@example.com")
    assert set(db.datasets(saved.id)) == {"leads", "spend"}  # what is not a canonical table is left out
    assert db.tables(saved.id)["leads"].height == 6 and db.settings(saved.id).currency == "SEK"
    more = leads().head(1).with_columns(pl.lit("L7").alias("lead_id"))
    save_uploads(db, {"leads": more}, into=saved.id, name="", mode="append", settings=Settings())
    assert db.tables(saved.id)["leads"].height == 7
    assert len(db.versions(saved.id, "leads")) == 2  # the first version stays for the links that show it
