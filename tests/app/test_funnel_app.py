"""The Funnel page in AppTest: stage table, best/worst, hand-over numbers equal the engine's; renders with
no data and with filters that match nothing; flow view says what it counts."""

from __future__ import annotations

from datetime import timedelta

import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from kpi.funnel import stage_funnel
from kpi.period import preset
from tests.app.conftest import APP, open_page, use_empty_uploads
from tests.app.test_campaigns_app import chart
from tests.app.test_overview_app import demo_last_day

PAGE = "pages/funnel.py"



def test_stage_table_equals_the_engine(app: AppTest, demo_tables: dict[str, pl.DataFrame]) -> None:
    open_page(app, PAGE)
    period = preset("last_90_days", demo_last_day(demo_tables))
    expected = stage_funnel(demo_tables, period=period)
    stages = pl.from_pandas(app.dataframe[0].value)
    assert stages["count"].to_list() == expected["count"].to_list()
    assert stages["step_conversion"].to_list()[1:] == pytest.approx(expected["step_conversion"].to_list()[1:])
    # independent: visits, leads created in the period and spend, counted straight from the tables
    in_period = pl.col("date").is_between(period.start, period.end)
    visits = demo_tables["traffic"].filter(in_period)["sessions"].sum()
    spend = demo_tables["spend"].filter(in_period)["spend"].sum()
    leads = demo_tables["leads"].filter(pl.col("created_at").dt.date().is_between(period.start, period.end))
    won = leads.filter(pl.col("won_at").is_not_null()).height
    assert stages["label"][0] == "Visits (sessions)"  # visits are the funnel's first stage
    assert stages["count"][:2].to_list() == [visits, leads.height]
    assert stages["count"][-1] == won
    # cost per stage: per visit, per lead (CPL) ... per won deal (CAC)
    assert stages["cost_per_stage"][0] == pytest.approx(spend / visits)
    assert stages["cost_per_stage"][1] == pytest.approx(spend / leads.height)
    assert stages["cost_per_stage"][-1] == pytest.approx(spend / won)
    # beside the previous 90 days
    before = preset("last_90_days", period.start - timedelta(days=1))
    earlier = demo_tables["leads"].filter(pl.col("created_at").dt.date().is_between(before.start, before.end))
    assert stages["count_prev"][1] == earlier.height
    assert stages["cost_per_stage_prev"][1] == pytest.approx(
        demo_tables["spend"].filter(pl.col("date").is_between(before.start, before.end))["spend"].sum()
        / earlier.height)
    # no time from a visit to a lead, nor for the lead itself: not applicable, never "None"
    assert stages["days_from_previous"][:2].to_list() == [None, None]
    assert app.dataframe[0].proto.placeholder == "–"  # what st.dataframe shows in those cells
    assert any("Biggest leak" in m.value for m in app.markdown)


def test_leaked_leads_list_matches_an_independent_count(app: AppTest, demo_tables: dict[str, pl.DataFrame]) -> None:
    open_page(app, PAGE)
    day = demo_last_day(demo_tables)
    period = preset("last_90_days", day)
    leads = demo_tables["leads"]
    as_of = leads["created_at"].max()
    sla = timedelta(hours=24)
    judged = leads.filter(pl.col("created_at").dt.date().is_between(period.start, period.end)
                          & (pl.col("created_at") <= as_of - sla))
    leaked = judged.filter(pl.col("first_contact_at").is_null()
                           | (pl.col("first_contact_at") - pl.col("created_at") > sla))
    assert any(f"({leaked.height})" in e.label for e in app.expander)
    leakage = next(m.value for m in app.metric if m.label == "Leakage")
    assert leakage == f"{leaked.height / judged.height:.1%}"
    # a long list: its first 200 rows on screen, every row in the downloads
    assert leaked.height > 200
    shown = next(d for d in app.dataframe if "reason" in d.value.columns)
    assert len(shown.value) == 200
    assert any(c.value == f"The first 200 of {leaked.height:,} rows; the downloads hold them all." for c in app.caption)


def test_flow_view_says_what_it_counts_and_nothing_matches_renders(app: AppTest) -> None:
    app.query_params.update({"count": "flow"})
    open_page(app, PAGE)
    assert any("Flow view" in c.value for c in app.caption)
    other = AppTest.from_file(APP, default_timeout=120)  # a new session
    other.query_params.update({"period": "custom", "from": "2001-01-01", "to": "2001-01-31"})
    open_page(other, PAGE)
    assert any("No data matches" in i.value for i in other.info)


def test_empty_uploads_render(app: AppTest) -> None:
    use_empty_uploads(app)
    open_page(app, PAGE)
    assert any("No data matches" in i.value for i in app.info)


def test_young_cohorts_are_dashed_with_a_note_and_flow_ratios_say_what_they_are(
        app: AppTest, demo_tables: dict[str, pl.DataFrame]) -> None:
    open_page(app, PAGE)  # cohort view, by week, the last 90 days
    _, drawn = chart(app, "Conversion over time")
    leads = demo_tables["leads"]
    # by hand: 75 % of won deals were won within `p75` days of their lead; a week is too young when its last
    # day is fewer days than that before the latest lead
    p75 = ((leads["won_at"] - leads["created_at"]).dt.total_seconds() / 86_400).drop_nulls().quantile(0.75, "linear")
    last = leads["created_at"].max().date()
    period = preset("last_90_days", demo_last_day(demo_tables))
    weeks = pl.date_range(period.start - timedelta(days=period.start.weekday()), period.end, "1w", eager=True)
    young = [w for w in weeks if (last - min(w + timedelta(days=6), period.end)).days < p75]
    won = drawn.filter(pl.col("label") == "Opportunities → Won deals").with_columns(pl.col("period").cast(pl.Date))
    dashed = won.filter(pl.col("part") == "Still maturing").sort("period")["period"].to_list()
    drawn_young = [w for w in young if w in set(won["period"])]  # a week without opportunities has no rate
    assert dashed[1:] == drawn_young and dashed[0] == young[0] - timedelta(days=7)  # joined to the last solid week
    assert 3 <= len(young) < len(weeks)
    note = next(c.value for c in app.caption if c.value.startswith("Dashed:"))
    assert f"Won deals {round(p75)} d" in note

    flow = AppTest.from_file(APP, default_timeout=120)
    flow.query_params["count"] = "flow"
    open_page(flow, PAGE)
    spec, ratios = chart(flow, "Stage events per previous-stage event over time")
    tooltip = [t.get("title") for t in spec["encoding"]["tooltip"]]  # type: ignore[index]
    assert "Per previous-stage event" in tooltip and "Conversion from previous stage" not in tooltip
    assert (ratios["part"] == "Mature").all()
    assert any("can pass 100 %" in c.value for c in flow.caption)
    assert any(c.value.startswith("Flow view: each count is the stage's events") for c in flow.caption)


def test_overview_trend_dashes_young_cohorts_of_later_stages_only(app: AppTest) -> None:
    app.run()
    assert not app.exception
    assert any(h.value == "Leads, MQL, won deals and spend over time" for h in app.subheader)
    drawn = pl.concat([chart(app, label)[1].drop("value") for label in ("Leads", "MQL", "Won deals", "Spend")])
    young = drawn.filter(pl.col("part") != "Mature")
    assert set(young["metric"]) == {"MQL", "Won deals"}  # leads and spend are never too young
    assert young.filter(pl.col("metric") == "Won deals").height > young.filter(pl.col("metric") == "MQL").height
    assert any(c.value.startswith("Dashed:") for c in app.caption)
