"""The Overview page in AppTest: renders on the demo, with no data, and with filters that match nothing;
its numbers equal the engine's."""

from __future__ import annotations

import re
from datetime import date, timedelta

import polars as pl
from streamlit.testing.v1 import AppTest

from kpi.metrics import compute
from kpi.period import Period, preset
from kpi.targets import target_period
from tests.app.conftest import APP, metric, use_empty_uploads, use_uploads


def demo_last_day(tables: dict[str, pl.DataFrame]) -> date:
    return max(tables["leads"]["created_at"].max().date(), tables["spend"]["date"].max(),
               tables["traffic"]["date"].max())


def test_overview_numbers_equal_the_engine(app: AppTest, demo_tables: dict[str, pl.DataFrame]) -> None:
    app.run()
    assert not app.exception
    period = preset("last_90_days", demo_last_day(demo_tables))
    expected = compute(demo_tables, ["leads", "mql", "won"], period=period).row(0, named=True)
    assert metric(app, "Leads") == f"{expected['leads']:,}"
    assert metric(app, "MQL") == f"{expected['mql']:,}"
    assert metric(app, "Won deals") == f"{expected['won']:,}"


def test_filter_from_the_url_changes_the_numbers(app: AppTest, demo_tables: dict[str, pl.DataFrame]) -> None:
    app.query_params["channel"] = "Email"
    app.query_params["period"] = "last_30_days"
    app.run()
    assert not app.exception
    period = preset("last_30_days", demo_last_day(demo_tables))
    expected = compute(demo_tables, ["leads"], period=period, filters={"channel": ["Email"]}).item()
    assert metric(app, "Leads") == f"{expected:,}"


def test_invalid_url_parameters_are_ignored_with_a_notice(app: AppTest) -> None:
    app.query_params.update({"period": "forever", "channel": "Carrier pigeon", "from": "2025-13-45"})
    app.run()
    assert not app.exception
    notices = " ".join(w.value for w in app.sidebar.warning)
    assert "period=forever" in notices and "channel=Carrier pigeon" in notices
    assert metric(app, "Leads") not in ("", "–")


def test_period_with_no_data_says_so(app: AppTest) -> None:
    app.query_params.update({"period": "custom", "from": "2001-01-01", "to": "2001-01-31"})
    app.run()
    assert not app.exception
    assert metric(app, "Leads") == "0"
    assert any("No data matches" in i.value for i in app.info)


def test_empty_uploads_render_without_error(app: AppTest) -> None:
    use_empty_uploads(app)
    app.run()
    assert not app.exception
    assert metric(app, "Leads") == "0"
    assert metric(app, "Spend") == "–"  # no spend table: not available, not zero


def test_swedish_labels_and_number_format(app: AppTest, demo_tables: dict[str, pl.DataFrame]) -> None:
    app.query_params["lang"] = "sv"
    app.run()
    assert not app.exception
    period = preset("last_90_days", demo_last_day(demo_tables))
    leads = compute(demo_tables, ["leads"], period=period).item()
    assert metric(app, "Leads") == f"{leads:,}".replace(",", "\u00a0")
    assert any(m.label == "Vunna affärer" for m in app.metric)
    assert Period(period.start, period.end).days == 90 and period.end - period.start == timedelta(days=89)


def test_kpi_cards_show_the_quarter_target_pace_and_forecast(app: AppTest,
                                                              demo_tables: dict[str, pl.DataFrame]) -> None:
    app.run()
    assert not app.exception
    day = demo_last_day(demo_tables)
    quarter = target_period(f"{day.year}-Q{(day.month - 1) // 3 + 1}")
    label = f"{day.year}-Q{(day.month - 1) // 3 + 1}"
    kpis = demo_tables["kpis"]
    target = kpis.filter((pl.col("kpi_id") == "kpi_leads") & (pl.col("period") == label))["target"].item()
    # independent counts: leads from the quarter's first day to the data's last day, and the share of
    # last year's same quarter that had come in by the same day (the seasonal pace)
    created = demo_tables["leads"]["created_at"].dt.date()
    actual = created.is_between(quarter.start, day).sum()
    a_year = quarter.start.replace(year=quarter.start.year - 1)
    so_far = created.is_between(a_year, a_year + (day - quarter.start)).sum()
    whole = created.is_between(a_year, quarter.end.replace(year=quarter.end.year - 1)).sum()
    expected = target * so_far / whole
    notes = [c.value for c in app.caption if f"target {label}" in c.value]
    leads_note = next(n for n in notes if f"target {label}: {round(target):,}" in n)
    assert f"So far {actual:,} of {round(expected):,} expected by" in leads_note
    # the status rates the forecast shown against the target: on track from 100 %, at risk from 90 %
    shown = re.search(r"Forecast ([\d,]+) \(([\d,]+)–([\d,]+)\)", leads_note)
    assert shown is not None
    forecast, low, high = (int(g.replace(",", "")) for g in shown.groups())
    assert low <= forecast <= high and forecast >= actual
    share = forecast / target
    status = "On track" if share >= 1 else "At risk" if share >= 0.9 else "Off track"
    assert status in leads_note
    # the Overview's won deals answer to the company-wide KPI, not to the enterprise-only one
    won = kpis.filter((pl.col("kpi_id") == "kpi_won") & (pl.col("period") == label))["target"].item()
    won_notes = [n for n in notes if f"target {label}: {round(won):,}" in n]
    enterprise = kpis.filter((pl.col("kpi_id") == "kpi_won_enterprise") & (pl.col("period") == label))["target"].item()
    assert len(won_notes) == 1 and not any(f"target {label}: {round(enterprise):,}." in n for n in notes)


def test_targets_are_not_compared_under_filters(app: AppTest) -> None:
    app.query_params["channel"] = "Email"
    app.run()
    assert not any("target 20" in c.value for c in app.caption)
    assert any("clear the filters to compare" in c.value for c in app.caption)


def test_spend_over_a_date_range_is_explained(app: AppTest) -> None:
    from tests.unit.handmade import tables

    use_uploads(app, tables(), ("2025-03-01", "2025-03-31"), grain="day")  # a March spend row for 1..31 March
    app.run()
    assert not app.exception
    assert metric(app, "Spend") == "€310.00"  # the range lies inside March: counted whole
    assert any("cover a date range" in c.value for c in app.caption)


def test_cost_cards_say_why_they_are_empty_and_offer_the_lead_share_allocation(
        app: AppTest, demo_tables: dict[str, pl.DataFrame]) -> None:
    app.query_params["segment"] = "Enterprise"
    app.run()
    assert not app.exception
    for label in ("Spend", "Cost per lead (CPL)", "Customer acquisition cost (CAC)", "ROAS"):
        assert metric(app, label) == "–"
    missing = [c.value for c in app.caption if c.value == "Not available: spend is not recorded by Segment."]
    assert len(missing) == 4  # one under each cost card
    assert any("is not available: spend is not recorded by Segment" in i.value for i in app.info)
    # ranking initiatives by ROAS has nothing to draw: a message instead of empty axes
    assert any(i.value.startswith("ROAS by Segment is not available") for i in app.info)
    assert not [c for c in app.get("vega_lite_chart") if "Best" in str(c.proto.spec) or "Worst" in str(c.proto.spec)]

    app.toggle(key="allocate_cost").set_value(True).run()
    assert not app.exception
    # by hand: spend has no segment, so Enterprise gets the period's spend × its share of the leads created;
    # its CPL is then the spend over all leads, whatever the segment
    period = preset("last_90_days", demo_last_day(demo_tables))
    spend = demo_tables["spend"].filter(pl.col("date").is_between(period.start, period.end))["spend"].sum()
    created = demo_tables["leads"].filter(pl.col("created_at").dt.date().is_between(period.start, period.end))
    assert metric(app, "Cost per lead (CPL)") == f"€{spend / created.height:,.2f}"
    assert metric(app, "Spend") != "–"
    assert len([c for c in app.caption if c.value.startswith("Allocated by lead share (spend has no Segment)")]) == 4
    assert any("allocated by lead share" in c.value for c in app.caption)
    # Enterprise rarely wins a deal from leads this young (its deals take months): with none, every ROAS is
    # 0 and there is nothing to rank; on the days the demo has one, the card counts it
    won = created.filter((pl.col("segment") == "Enterprise") & pl.col("won_at").is_not_null()).height
    assert metric(app, "Won deals") == f"{won:,}"
    nothing = any(i.value == "No initiative has a ROAS above zero in this view: nothing to rank." for i in app.info)
    assert nothing == (won == 0)
    app.selectbox(key="rank_by.en").set_value("cpl").run()
    charts = [str(c.proto.spec) for c in app.get("vega_lite_chart")]
    assert any("Best" in c for c in charts) and any("Worst" in c for c in charts)


def test_cards_say_when_the_latest_cohorts_are_still_young(app: AppTest, demo_tables: dict[str, pl.DataFrame]) -> None:
    app.run()
    assert not app.exception
    leads = demo_tables["leads"]
    p75 = ((leads["won_at"] - leads["created_at"]).dt.total_seconds() / 86_400).drop_nulls().quantile(0.75, "linear")
    young = [c.value for c in app.caption if c.value.startswith("The latest leads have not all had time")]
    assert len(young) == 1 and f"Won deals {round(p75)} d" in young[0]
    old = AppTest.from_file(APP, default_timeout=120)  # a year ago every cohort has had time
    old.query_params.update({"period": "custom", "from": "2025-09-01", "to": "2025-09-30"})
    old.run()
    assert not old.exception
    assert not [c for c in old.caption if c.value.startswith("The latest leads")]
