"""The Segments page in AppTest: the heatmap's cells are the KPI by the dimension pair (checked against plain
polars and the engine), cost by a dimension spend lacks is either stated as not available or allocated by
lead share, and the page renders with no data, with filters that match nothing, and in Swedish."""

from __future__ import annotations

import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from kpi.metrics import compute
from kpi.period import Period, preset
from kpi.sources.demo import DEMO_SETTINGS
from tests.app.conftest import open_page, use_empty_uploads
from tests.app.test_campaigns_app import chart, in_period
from tests.app.test_overview_app import demo_last_day

PAGE = "pages/segments.py"


def choose(app: AppTest, **values: str) -> AppTest:
    lang = app.query_params.get("lang", "en")  # the pickers are keyed per language (ui.widgets)
    for key, value in values.items():
        app.selectbox(key=f"{key}.{lang}").set_value(value)
    app.run()
    assert not app.exception, app.exception
    return app


@pytest.fixture
def period(demo_tables: dict[str, pl.DataFrame]) -> Period:
    return preset("last_90_days", demo_last_day(demo_tables))


def test_heatmap_cells_are_the_kpi_by_the_pair(app: AppTest, demo_tables: dict[str, pl.DataFrame],
                                               period: Period) -> None:
    choose(open_page(app, PAGE), seg_metric="lead_to_mql")
    spec, cells = chart(app, "Lead → MQL by Segment and Region")
    leads = in_period(demo_tables["leads"], "created_at", period)
    by_hand = leads.group_by("segment", "region").agg(
        pl.len().alias("n"), pl.any_horizontal(pl.col("mql_at", "sql_at", "opportunity_at", "won_at").is_not_null())
        .sum().alias("reached"))
    joined = cells.join(by_hand, on=["segment", "region"])
    assert joined.height == cells.height == by_hand.height == 18
    assert (joined["leads"] == joined["n"]).all() and (joined["mql"] == joined["reached"]).all()  # tooltip counts
    assert joined.select((pl.col("lead_to_mql") - pl.col("reached") / pl.col("n")).abs().max()).item() < 1e-12
    engine = compute(demo_tables, ["lead_to_mql"], by=["segment", "region"], period=period, settings=DEMO_SETTINGS)
    assert cells.sort("segment", "region")["lead_to_mql"].to_list() == pytest.approx(engine["lead_to_mql"].to_list())
    # colour: how much better than the overall rate, which the caption states
    overall = by_hand["reached"].sum() / by_hand["n"].sum()
    assert joined.select((pl.col("vs_overall") - (pl.col("reached") / pl.col("n") / overall - 1)).abs().max()).item() \
        < 1e-9
    assert any(f"Overall: {overall:.1%}" in c.value for c in app.caption)
    # a click selects both dimensions of the cell
    assert spec["params"][0]["select"]["fields"] == ["segment", "region"]  # type: ignore[index]


def test_cost_per_lead_by_segment_is_not_available_until_allocated(app: AppTest, demo_tables: dict[str, pl.DataFrame],
                                                                   period: Period) -> None:
    choose(open_page(app, PAGE), seg_metric="spend")
    assert any("Spend by Segment, Region is not available" in i.value for i in app.info)
    assert not app.get("vega_lite_chart")
    app.toggle(key="allocate_cost").set_value(True).run()
    assert not app.exception
    assert any("allocated by lead share" in c.value for c in app.caption)
    _, cells = chart(app, "Spend by Segment and Region")
    # by hand: no pair dimension is in spend, so each cell gets total spend x its share of leads
    total = in_period(demo_tables["spend"], "date", period)["spend"].sum()
    leads = in_period(demo_tables["leads"], "created_at", period)
    share = leads.group_by("segment", "region").agg((pl.len() / leads.height).alias("share"))
    joined = cells.join(share, on=["segment", "region"])
    assert joined.height == 18
    assert joined.select((pl.col("spend") - total * pl.col("share")).abs().max()).item() < 1e-6


def test_allocation_keeps_the_spend_of_the_dimension_spend_has(app: AppTest, demo_tables: dict[str, pl.DataFrame],
                                                               period: Period) -> None:
    choose(open_page(app, PAGE), seg_rows="channel", seg_columns="segment", seg_metric="spend")
    app.toggle(key="allocate_cost").set_value(True).run()
    _, cells = chart(app, "Spend by Channel and Segment")
    spend = in_period(demo_tables["spend"], "date", period).group_by("channel").agg(pl.col("spend").sum())
    leads = in_period(demo_tables["leads"], "created_at", period)
    share = (leads.group_by("channel", "segment").len("n")
             .with_columns((pl.col("n") / pl.col("n").sum().over("channel")).alias("share")))
    joined = (cells.join(share, on=["channel", "segment"])
              .join(spend, on="channel", how="left", suffix="_channel").fill_null(0))  # Email, organic: no spend
    # six channels x three segments, but Meta reaches no enterprise account (the demo's story): 17 cells
    assert ("Meta", "Enterprise") not in set(cells.select("channel", "segment").iter_rows())
    assert joined.height == cells.height == 17 and (joined["spend"] == 0).sum() == 6
    assert joined.select((pl.col("spend") - pl.col("spend_channel") * pl.col("share")).abs().max()).item() < 1e-6


def test_cost_by_dimensions_spend_has_needs_no_allocation(app: AppTest, demo_tables: dict[str, pl.DataFrame],
                                                          period: Period) -> None:
    choose(open_page(app, PAGE), seg_rows="channel", seg_columns="initiative", seg_metric="cpl")
    assert app.toggle(key="allocate_cost").disabled
    _, cells = chart(app, "Cost per lead (CPL) by Channel and Initiative")
    engine = compute(demo_tables, ["cpl"], by=["channel", "initiative"], period=period,
                     settings=DEMO_SETTINGS).drop_nulls("cpl")
    joined = cells.join(engine, on=["channel", "initiative"], suffix="_engine")
    assert joined.height == cells.height == engine.height
    assert joined.select((pl.col("cpl") - pl.col("cpl_engine")).abs().max()).item() < 1e-9


def test_same_dimension_twice_is_refused_with_a_message(app: AppTest) -> None:
    choose(open_page(app, PAGE), seg_columns="segment")
    assert any("two different dimensions" in w.value for w in app.warning)
    assert not app.get("vega_lite_chart")


def test_empty_uploads_render_without_error(app: AppTest) -> None:
    use_empty_uploads(app)
    open_page(app, PAGE)
    assert any("fewer than two dimensions" in i.value for i in app.info)


def test_filters_that_match_nothing_say_so(app: AppTest) -> None:
    app.query_params.update({"segment": "SMB", "region": "UK", "channel": "Email", "period": "custom",
                             "from": "2001-01-01", "to": "2001-01-31"})
    open_page(app, PAGE)
    assert any("No data matches" in i.value for i in app.info)
    assert not app.get("vega_lite_chart")


def test_a_filtered_pair_shows_only_the_filtered_cells(app: AppTest, demo_tables: dict[str, pl.DataFrame],
                                                       period: Period) -> None:
    app.query_params.update({"segment": "SMB", "region": "UK"})
    choose(open_page(app, PAGE), seg_metric="leads")
    _, cells = chart(app, "Leads by Segment and Region")
    leads = in_period(demo_tables["leads"], "created_at", period)
    assert cells.select("segment", "region", "leads").rows() == [
        ("SMB", "UK", leads.filter((pl.col("segment") == "SMB") & (pl.col("region") == "UK")).height)]


def test_swedish_labels(app: AppTest) -> None:
    app.query_params["lang"] = "sv"
    choose(open_page(app, PAGE), seg_metric="lead_to_mql")
    assert app.title[0].value == "Segment"
    assert [s.label for s in app.selectbox if s.key in ("seg_rows.sv", "seg_columns.sv", "seg_metric.sv")] == [
        "Rader", "Kolumner", "Nyckeltal"]
    chart(app, "Lead → MQL per Segment och Region")
    assert any(c.value.startswith("Totalt:") for c in app.caption)
