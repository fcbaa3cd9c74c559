"""The Campaigns & initiatives page in AppTest: renders on the demo, with no data and with filters that
match nothing; its tables, scatter and drill-down show the engine's numbers, checked against plain polars."""

from __future__ import annotations

import io
import json
from datetime import datetime, time

import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from kpi.download import to_xlsx_bytes
from kpi.metrics import catalog, compute
from kpi.period import Period, compare_period, preset
from kpi.sources.demo import DEMO_SETTINGS
from tests.app.conftest import open_page, use_empty_uploads, use_uploads
from tests.app.test_overview_app import demo_last_day
from ui.tables import DELTA, export_frame, table_frame

PAGE = "pages/campaigns.py"
KPIS = ("spend", "impressions", "clicks", "ctr", "cpc", "leads", "cpl", "mql", "cost_per_mql", "sql", "opportunities",
        "won", "cac", "pipeline", "revenue", "roas", "roi")


def table(app: AppTest, index: int) -> pl.DataFrame:
    return pl.from_pandas(app.dataframe[index].value)


def labels(app: AppTest, index: int) -> dict[str, str]:
    """Column id -> the label on screen."""
    return {c: cfg["label"] for c, cfg in json.loads(app.dataframe[index].proto.columns).items() if "label" in cfg}


def chart(app: AppTest, title: str) -> tuple[dict[str, object], pl.DataFrame]:
    """The Vega-Lite spec and data of the chart titled `title`."""
    from streamlit import dataframe_util

    for element in app.get("vega_lite_chart"):
        spec = json.loads(element.proto.spec)
        named = spec.get("title")
        if (named.get("text") if isinstance(named, dict) else named) == title:  # a title, or a title and subtitle
            data = dataframe_util.convert_arrow_bytes_to_pandas_df(element.proto.datasets[0].data.data)
            return spec, pl.from_pandas(data)
    raise AssertionError(f"no chart titled {title!r}")


def in_period(frame: pl.DataFrame, column: str, period: Period) -> pl.DataFrame:
    start, end = datetime.combine(period.start, time()), datetime.combine(period.end, time.max)
    if frame.schema[column] == pl.Date:
        return frame.filter(pl.col(column).is_between(period.start, period.end))
    return frame.filter(pl.col(column).is_between(start, end))


@pytest.fixture
def period(demo_tables: dict[str, pl.DataFrame]) -> Period:
    return preset("last_90_days", demo_last_day(demo_tables))


def test_initiative_table_shows_the_engine_numbers_and_changes(app: AppTest, demo_tables: dict[str, pl.DataFrame],
                                                             period: Period) -> None:
    shown = table(open_page(app, PAGE), 0)
    # counts and money by plain polars, straight from the rows
    leads = in_period(demo_tables["leads"], "created_at", period).group_by("initiative").len("leads")
    spend = in_period(demo_tables["spend"], "date", period).group_by("initiative").agg(pl.col("spend").sum())
    by_hand = leads.join(spend, on="initiative", how="full", coalesce=True).sort("initiative")
    assert sorted(shown["initiative"]) == by_hand["initiative"].to_list()
    joined = shown.join(by_hand, on="initiative", suffix="_hand")
    assert (joined["leads"] == joined["leads_hand"]).all()
    assert joined.select((pl.col("spend") - pl.col("spend_hand")).abs().max()).item() < 0.006  # shown to the cent
    # every metric and its change against the previous period from the engine
    previous = compare_period(period, "previous")
    assert previous is not None
    now = compute(demo_tables, KPIS, by=["initiative"], period=period, settings=DEMO_SETTINGS)
    before = compute(demo_tables, KPIS, by=["initiative"], period=previous, settings=DEMO_SETTINGS)
    for row in shown.iter_rows(named=True):
        cur = now.filter(pl.col("initiative") == row["initiative"]).row(0, named=True)
        assert row["won"] == cur["won"] and row["mql"] == cur["mql"]
        if before.filter(pl.col("initiative") == row["initiative"]).is_empty():  # new (AI Assistant Launch)
            assert row["leads" + DELTA] is None and row["ctr" + DELTA] is None  # nothing to change from
            continue
        old = before.filter(pl.col("initiative") == row["initiative"]).row(0, named=True)
        assert row["roas"] == pytest.approx(cur["revenue"] / cur["spend"])
        assert row["cpl"] == pytest.approx(cur["spend"] / cur["leads"], abs=0.006)
        assert row["won"] == cur["won"] and row["mql"] == cur["mql"]
        assert row["leads" + DELTA] == pytest.approx((cur["leads"] - old["leads"]) / old["leads"] * 100)
        assert row["ctr" + DELTA] == pytest.approx((cur["ctr"] - old["ctr"]) * 100)  # percentage points
    # best return first, so the initiatives that pay are on top
    roas = shown["roas"].drop_nulls().to_list()
    assert roas == sorted(roas, reverse=True)
    names = labels(app, 0)
    assert names["spend"] == "Spend" and names["leads" + DELTA] == "Leads Δ %"  # cells say €; downloads "(EUR)"
    assert names["ctr" + DELTA] == "CTR Δ pp"


def test_selecting_an_initiative_shows_only_its_campaigns(app: AppTest, demo_tables: dict[str, pl.DataFrame],
                                                          period: Period) -> None:
    initiatives = table(open_page(app, PAGE), 0)["initiative"].to_list()
    row = initiatives.index("Webinar Series")
    app.session_state["initiative_table"] = {"selection": {"rows": [row], "columns": []}}
    app.run()
    assert not app.exception
    assert "Campaigns of Webinar Series" in [s.value for s in app.subheader]
    campaigns = table(app, 1)
    mine = set(in_period(demo_tables["leads"], "created_at", period).filter(pl.col("initiative") == "Webinar Series")
               ["campaign"]) | set(in_period(demo_tables["spend"], "date", period)
                                   .filter(pl.col("initiative") == "Webinar Series")["campaign"])
    assert set(campaigns["campaign"]) == mine and set(campaigns["initiative"]) == {"Webinar Series"}
    leads = in_period(demo_tables["leads"], "created_at", period).group_by("campaign").len("n")
    expected = dict(zip(leads["campaign"], leads["n"], strict=True))
    assert all(expected.get(c, 0) == n for c, n in zip(campaigns["campaign"], campaigns["leads"], strict=True))


def test_initiative_filter_from_a_chart_click_drills_into_its_campaigns(app: AppTest,
                                                                       demo_tables: dict[str, pl.DataFrame]) -> None:
    app.query_params["initiative"] = "Enterprise ABM"
    open_page(app, PAGE)
    assert table(app, 0)["initiative"].to_list() == ["Enterprise ABM"]
    assert set(table(app, 1)["initiative"]) == {"Enterprise ABM"}
    assert "Campaigns of Enterprise ABM" in [s.value for s in app.subheader]
    # the trend chart's click and legend selection filters by initiative, the scatter's by campaign
    trend, _ = chart(app, "Cost per lead (CPL) per initiative over time")
    assert trend["params"][0]["select"]["fields"] == ["initiative"]  # type: ignore[index]
    assert trend["params"][0]["bind"] == "legend"  # type: ignore[index]
    scatter, _ = chart(app, "Spend against cost per lead (size: revenue)")
    assert scatter["params"][0]["select"]["fields"] == ["campaign"]  # type: ignore[index]
    # an initiative keeps its colour when the filter hides the others
    everyone = sorted(demo_tables["leads"]["initiative"].unique())
    for spec in (trend, scatter):
        scale = spec["encoding"]["color"]["scale"]  # type: ignore[index]
        assert scale["domain"] == everyone and len(set(scale["range"])) == len(everyone)


def test_scatter_points_are_each_campaigns_spend_and_cost_per_lead(app: AppTest, demo_tables: dict[str, pl.DataFrame],
                                                                   period: Period) -> None:
    _, points = chart(open_page(app, PAGE), "Spend against cost per lead (size: revenue)")
    spend = in_period(demo_tables["spend"], "date", period).group_by("campaign").agg(pl.col("spend").sum())
    leads = in_period(demo_tables["leads"], "created_at", period).group_by("campaign").len("leads")
    by_hand = spend.join(leads, on="campaign").with_columns((pl.col("spend") / pl.col("leads")).alias("cpl"))
    joined = points.join(by_hand, on="campaign", suffix="_hand")
    assert joined.height == points.height == by_hand.height
    assert joined.select((pl.col("cpl") - pl.col("cpl_hand")).abs().max()).item() < 1e-6


def test_trend_per_initiative_over_the_grain(app: AppTest, demo_tables: dict[str, pl.DataFrame],
                                             period: Period) -> None:
    open_page(app, PAGE)
    app.selectbox(key="trend_metric.en").set_value("leads").run()
    assert not app.exception
    _, trend = chart(app, "Leads per initiative over time")
    expected = compute(demo_tables, ["leads"], by=["initiative"], period=period, grain="week", settings=DEMO_SETTINGS)
    created = in_period(demo_tables["leads"], "created_at", period).height
    assert trend["leads"].sum() == expected["leads"].sum() == created
    assert trend.height == expected.height


def test_downloads_hold_the_table_with_its_labels(demo_tables: dict[str, pl.DataFrame], period: Period) -> None:
    cat = catalog(DEMO_SETTINGS)
    frame = compute(demo_tables, ["spend", "leads", "ctr"], by=["initiative"], period=period, settings=DEMO_SETTINGS)
    shown = table_frame(frame, ["initiative"], [cat["spend"], cat["leads"], cat["ctr"]], "sv")
    export = export_frame(shown, ["initiative"], [cat["spend"], cat["leads"], cat["ctr"]], "sv", "EUR")
    back = pl.read_excel(io.BytesIO(to_xlsx_bytes(export)))
    assert back.columns == ["Initiativ", "Kostnad (EUR)", "Leads", "CTR"]
    assert back["Leads"].to_list() == frame["leads"].to_list()
    assert back["Kostnad (EUR)"].to_list() == pytest.approx(frame["spend"].to_list(), abs=0.006)


def test_empty_uploads_render_without_error(app: AppTest) -> None:
    use_empty_uploads(app)
    open_page(app, PAGE)
    assert any("neither campaigns nor initiatives" in i.value for i in app.info)


def test_uploads_with_campaigns_but_no_spend_render_cost_as_missing(app: AppTest) -> None:
    leads = pl.DataFrame({"lead_id": ["a", "b", "c"], "campaign": ["Spring", "Spring", "Autumn"],
                          "created_at": [datetime(2024, 3, 1), datetime(2024, 3, 2), datetime(2024, 3, 3)]})
    use_uploads(app, {"leads": leads}, ("2024-03-01", "2024-03-31"))
    open_page(app, PAGE)
    campaigns = table(app, 0).sort("campaign")
    assert campaigns["campaign"].to_list() == ["Autumn", "Spring"] and campaigns["leads"].to_list() == [1, 2]
    assert campaigns["spend"].is_null().all()  # no spend table: not available, not zero


def test_filters_that_match_nothing_say_so(app: AppTest) -> None:
    app.query_params.update({"period": "custom", "from": "2001-01-01", "to": "2001-01-31"})
    open_page(app, PAGE)
    assert any("No data matches" in i.value for i in app.info)


def test_cost_under_a_segment_filter_is_stated_as_not_available(app: AppTest) -> None:
    app.query_params["segment"] = "SMB"
    open_page(app, PAGE)
    assert any("Cost metrics are not available under a filter on Segment" in c.value for c in app.caption)
    assert table(app, 0)["spend"].is_null().all()


def test_swedish_labels(app: AppTest) -> None:
    app.query_params["lang"] = "sv"
    open_page(app, PAGE)
    assert app.title[0].value == "Kampanjer och initiativ"
    assert "Initiativ" in [s.value for s in app.subheader]
    names = labels(app, 0)
    assert names["spend"] == "Kostnad" and names["won"] == "Vunna affärer"
    assert names["ctr" + DELTA] == "CTR Δ p.e."
    assert {b.label for b in app.get("download_button")} >= {"Ladda ner CSV", "Ladda ner Excel"}


def test_flow_view_without_comparison_has_no_change_columns(app: AppTest, demo_tables: dict[str, pl.DataFrame],
                                                            period: Period) -> None:
    app.query_params.update({"compare": "none", "count": "flow"})
    shown = table(open_page(app, PAGE), 0)
    assert not [c for c in shown.columns if c.endswith(DELTA)]
    # flow view: each stage counted when it happened, here won deals by their won date
    won = in_period(demo_tables["leads"], "won_at", period).group_by("initiative").len("won_hand")
    joined = shown.join(won, on="initiative", how="left").with_columns(pl.col("won_hand").fill_null(0))
    assert (joined["won"] == joined["won_hand"]).all() and joined["won"].sum() > 0


def test_tables_show_a_compact_set_of_columns_until_all_are_asked_for(app: AppTest) -> None:
    open_page(app, PAGE)
    order = list(app.dataframe[0].proto.column_order)
    compact = ["initiative", "spend", "spend__delta", "leads", "leads__delta", "cpl", "cpl__delta", "won",
               "won__delta", "cac", "cac__delta", "roas", "roas__delta", "roi", "roi__delta"]
    assert order == compact
    assert len(table(app, 0).columns) == 1 + 2 * len(KPIS)  # every column is still there, for the downloads
    app.toggle(key="campaigns_all_columns").set_value(True).run()
    assert not app.exception
    assert list(app.dataframe[0].proto.column_order) == []  # no order: every column shows
