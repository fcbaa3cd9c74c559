"""The demo workspace: deterministic, canonical, and realistic in the ways the app's stories rely on.

Every rate and count here is recomputed with plain polars from the generated rows (not through
kpi.metrics), so a bug in the generator and one in the engine cannot hide each other.
"""

from __future__ import annotations

import itertools
import re
from datetime import date, datetime, timedelta

import polars as pl
import pytest

from kpi import clock
from kpi.data import prepare
from kpi.metrics import catalog, table_dimensions
from kpi.schema import TABLES, validate
from kpi.settings import DEFAULT_CHANNELS
from kpi.sources.demo import DEMO_SETTINGS, EVENT_DAYS, EVENT_NAMES, generate
from kpi.tree import check

TODAY = date(2026, 11, 22)
FIRST_DAY = date(2024, 11, 23)  # 24 months up to and including TODAY
END = datetime(2026, 11, 23)  # no timestamp may reach the day after TODAY
PAID = ["Paid Search", "LinkedIn", "Meta"]
STAGES = ["created_at", "mql_at", "sql_at", "opportunity_at", "won_at"]
NAMES = ["leads", "spend", "traffic", "touches", "events", "kpis"]


@pytest.fixture(scope="module")
def demo() -> dict[str, pl.DataFrame]:
    return generate(TODAY)


@pytest.fixture(scope="module")
def mature(demo: dict[str, pl.DataFrame]) -> pl.DataFrame:
    """Leads created more than a year before TODAY: nearly every stage that will happen has happened."""
    return demo["leads"].filter(pl.col("created_at") < datetime(2025, 11, 22))


def stage_counts(leads: pl.DataFrame, by: list[str] | None = None) -> pl.DataFrame:
    counts = [pl.col(c).is_not_null().sum().alias(c) for c in STAGES]
    return leads.group_by(by).agg(counts) if by else leads.select(counts)


# --- determinism and shape


def test_same_arguments_give_identical_frames_and_another_seed_differs(demo: dict[str, pl.DataFrame]) -> None:
    again = generate(TODAY, seed=7)
    assert list(again) == NAMES
    for name in NAMES:
        assert again[name].equals(demo[name]), name
    other = generate(TODAY, seed=8)
    assert not other["leads"].equals(demo["leads"])
    assert not other["spend"].equals(demo["spend"])


def test_every_table_validates_with_canonical_types(demo: dict[str, pl.DataFrame]) -> None:
    for name in NAMES:
        frame = demo[name]
        assert validate(name, frame) == [], name
        expected = TABLES[name].dtypes
        properties = pl.String if name == "events" else None  # an event's properties are its other columns, text
        assert {c: expected.get(c, properties) for c in frame.columns} == dict(frame.schema), name
    assert set(TABLES["leads"].dtypes) == set(demo["leads"].columns)
    assert {"date", "spend", "impressions", "clicks", "platform_conversions", "channel", "campaign", "initiative",
            "currency"} == set(demo["spend"].columns)
    assert {"date", "channel", "source", "medium", "campaign", "initiative", "device", "country", "sessions", "users",
            "new_users", "engaged_sessions", "key_events"} == set(demo["traffic"].columns)


def test_scale_multiplies_leads_and_tens_of_thousands_at_one(demo: dict[str, pl.DataFrame]) -> None:
    n = demo["leads"].height
    assert 30_000 <= n <= 40_000
    small = generate(TODAY, scale=0.1)
    assert 0.09 * n <= small["leads"].height <= 0.11 * n
    # costs per lead stay put when the volume scales
    cpl = demo["spend"]["spend"].sum() / n
    assert small["spend"]["spend"].sum() / small["leads"].height == pytest.approx(cpl, rel=0.1)
    with pytest.raises(ValueError, match="scale"):
        generate(TODAY, scale=0)


# --- time range


def test_covers_exactly_24_months_up_to_today_and_nothing_after(demo: dict[str, pl.DataFrame]) -> None:
    for name in ("spend", "traffic"):
        assert demo[name]["date"].min() == FIRST_DAY, name
        assert demo[name]["date"].max() == TODAY, name
    leads = demo["leads"]
    assert leads["created_at"].min().date() == FIRST_DAY
    assert leads["created_at"].max().date() == TODAY
    for col in ("first_contact_at", "mql_at", "sql_at", "opportunity_at", "won_at", "lost_at"):
        assert leads[col].max() < END, col
    touches = demo["touches"]["touched_at"]
    assert touches.min() >= datetime(2024, 11, 23) and touches.max() < END


def test_a_leap_day_today_and_the_default_today() -> None:
    leap = generate(date(2028, 2, 29), scale=0.05)
    assert leap["spend"]["date"].min() == date(2026, 3, 1)
    assert leap["spend"]["date"].max() == date(2028, 2, 29)
    assert leap["kpis"]["period"].unique().sort().to_list() == ["2028-Q1", "2028-Q2", "2028-Q3", "2028-Q4"]
    default = generate(scale=0.05)
    assert default["traffic"]["date"].max() == clock.today()


def test_recent_cohorts_are_less_converted(demo: dict[str, pl.DataFrame], mature: pl.DataFrame) -> None:
    recent = demo["leads"].filter(pl.col("created_at") >= datetime(2026, 9, 1))
    won_rate = {name: f["won_at"].is_not_null().mean() for name, f in (("recent", recent), ("mature", mature))}
    assert won_rate["recent"] < 0.5 * won_rate["mature"]  # type: ignore[operator]
    # still-open opportunities (pipeline) exist, mostly from recent months
    open_opps = demo["leads"].filter(pl.col("opportunity_at").is_not_null() & pl.col("won_at").is_null()
                                     & pl.col("lost_at").is_null())
    assert open_opps.height > 100
    assert open_opps["created_at"].median() > datetime(2026, 5, 1)  # type: ignore[operator]


# --- campaigns, channels, initiatives


def test_paid_campaigns_join_across_spend_traffic_and_leads(demo: dict[str, pl.DataFrame]) -> None:
    def paid_campaigns(name: str) -> set[str]:
        return set(demo[name].filter(pl.col("channel").is_in(PAID))["campaign"].unique())

    spend = paid_campaigns("spend")
    assert len(spend) >= 20
    assert spend == paid_campaigns("traffic") == paid_campaigns("leads")
    all_leads = set(demo["leads"]["campaign"])
    assert set(demo["spend"]["campaign"]) <= all_leads
    assert set(demo["traffic"]["campaign"]) == all_leads
    assert set(demo["touches"]["campaign"]) <= all_leads
    assert 35 <= len(all_leads) <= 45
    # a campaign has one channel everywhere
    pairs = pl.concat([demo[n].select("campaign", "channel") for n in ("leads", "spend", "traffic", "touches")])
    assert pairs.unique().group_by("campaign").len()["len"].max() == 1


def test_six_canonical_channels_survive_prepare(demo: dict[str, pl.DataFrame]) -> None:
    expected = {"Paid Search", "LinkedIn", "Meta", "Email", "Events & Webinars", "Organic & Content"}
    assert expected <= set(DEFAULT_CHANNELS)
    prepared = prepare(demo, DEMO_SETTINGS)
    for name in ("leads", "traffic", "touches"):
        assert set(prepared[name]["channel"]) == expected, name
        assert prepared[name]["channel"].equals(demo[name]["channel"]), name
    assert set(prepared["spend"]["channel"]) == {"Paid Search", "LinkedIn", "Meta", "Events & Webinars"}
    # organic content and email carry no media cost
    assert demo["spend"].filter(pl.col("channel").is_in(["Email", "Organic & Content"])).height == 0


def test_initiative_rules_reproduce_every_initiative(demo: dict[str, pl.DataFrame]) -> None:
    rules = DEMO_SETTINGS.initiative_rules
    for name in ("leads", "spend", "traffic"):
        pairs = demo[name].select("campaign", "initiative").unique()
        assert pairs["initiative"].null_count() == 0
        for campaign, initiative in pairs.iter_rows():
            matches = [r.initiative for r in rules if re.search(r.pattern, campaign, re.IGNORECASE)]
            assert matches == [initiative], (name, campaign)
        # prepare derives initiatives from the rules where a row has none: same answer
        stripped = demo[name].drop("initiative")
        assert prepare({name: stripped}, DEMO_SETTINGS)[name]["initiative"].equals(demo[name]["initiative"])
    assert demo["leads"]["initiative"].n_unique() == 10
    assert DEMO_SETTINGS.currency == "EUR" and DEMO_SETTINGS.sla_hours == 24
    assert [s.column for s in DEMO_SETTINGS.stages] == STAGES


def test_dimensions_of_a_nordic_b2b_company(demo: dict[str, pl.DataFrame]) -> None:
    leads = demo["leads"]
    assert set(leads["segment"]) == {"SMB", "Mid-market", "Enterprise"}
    assert {"Sweden", "Norway", "Denmark", "Finland", "DACH", "UK"} == set(leads["region"])
    assert leads["owner"].n_unique() == 8
    for col in ("source", "medium", "campaign", "initiative", "segment", "region", "owner", "currency", "channel"):
        assert leads[col].null_count() == 0, col
    assert set(leads["currency"]) == {"EUR"} == set(demo["spend"]["currency"])
    assert set(demo["traffic"]["device"]) == {"desktop", "mobile"}
    # traffic countries are the markets of the leads' regions
    country = {"Sweden": "Sweden", "Norway": "Norway", "Denmark": "Denmark", "Finland": "Finland",
               "DACH": "Germany", "UK": "United Kingdom"}
    lead_markets = set(leads.select("campaign", pl.col("region").replace_strict(country)).unique().iter_rows())
    traffic_markets = set(demo["traffic"].select("campaign", "country").unique().iter_rows())
    assert lead_markets <= traffic_markets


# --- funnel


def test_mature_conversion_rates_are_plausible(mature: pl.DataFrame) -> None:
    n = stage_counts(mature).row(0, named=True)
    assert 0.35 <= n["mql_at"] / n["created_at"] <= 0.50
    assert 0.30 <= n["sql_at"] / n["mql_at"] <= 0.45
    assert 0.50 <= n["opportunity_at"] / n["sql_at"] <= 0.60
    assert 0.20 <= n["won_at"] / n["opportunity_at"] <= 0.30


def test_enterprise_converts_less_with_bigger_deals_and_longer_cycles(mature: pl.DataFrame) -> None:
    won = mature.filter(pl.col("won_at").is_not_null())
    by_segment = mature.group_by("segment").agg(pl.col("won_at").is_not_null().mean().alias("win"))
    win = dict(by_segment.iter_rows())
    assert win["Enterprise"] < win["SMB"] and win["Enterprise"] < win["Mid-market"]
    deal = dict(won.group_by("segment").agg(pl.col("amount").median()).iter_rows())
    assert 5_000 <= deal["SMB"] <= 15_000 and 20_000 <= deal["Mid-market"] <= 60_000
    assert 80_000 <= deal["Enterprise"] <= 300_000
    cycle = dict(won.group_by("segment").agg((pl.col("won_at") - pl.col("created_at")).median()).iter_rows())
    assert cycle["Enterprise"] > 1.5 * cycle["SMB"]
    # deal values stay in each segment's band
    opps = mature.filter(pl.col("opportunity_at").is_not_null())
    bands = {"SMB": (5_000, 15_000), "Mid-market": (20_000, 60_000), "Enterprise": (80_000, 300_000)}
    for segment, (low, high) in bands.items():
        amounts = opps.filter(pl.col("segment") == segment)["amount"]
        assert amounts.null_count() == 0 and low <= amounts.min() and amounts.max() <= high  # type: ignore[operator]


def test_some_campaigns_are_much_better_than_others(demo: dict[str, pl.DataFrame]) -> None:
    rate = (demo["leads"].group_by("campaign").agg(pl.len().alias("n"), pl.col("won_at").is_not_null().mean()
                                                   .alias("won")).filter(pl.col("n") >= 500))
    assert rate.height >= 15
    assert rate["won"].max() > 8 * rate["won"].min()  # type: ignore[operator]


def test_stage_counts_never_increase_and_stages_are_ordered(demo: dict[str, pl.DataFrame]) -> None:
    leads = demo["leads"]
    counts = stage_counts(leads, ["campaign", "segment"])
    for a, b in itertools.pairwise(STAGES):
        assert (counts[a] >= counts[b]).all(), (a, b)
        # each lead that reached b also reached a, no later than b
        reached_b = leads.filter(pl.col(b).is_not_null())
        assert reached_b[a].null_count() == 0, (a, b)
        assert (reached_b[a] <= reached_b[b]).all(), (a, b)
    assert leads.filter(pl.col("won_at").is_not_null() & pl.col("lost_at").is_not_null()).height == 0
    lost = leads.filter(pl.col("lost_at").is_not_null())
    assert lost["sql_at"].null_count() == 0 and (lost["lost_at"] >= lost["sql_at"]).all()
    assert (leads["amount"].is_not_null() == leads["opportunity_at"].is_not_null()).all()


# --- speed to lead


def test_contact_leakage_and_its_cost(demo: dict[str, pl.DataFrame]) -> None:
    judged = demo["leads"].filter(pl.col("created_at") < END - timedelta(days=3))
    hours = (pl.col("first_contact_at") - pl.col("created_at")).dt.total_seconds() / 3600
    never = judged["first_contact_at"].is_null().mean()
    late = judged.select((hours > 24).mean()).item()
    assert 0.05 <= never <= 0.10  # type: ignore[operator]
    assert 0.10 <= late <= 0.15
    within = judged.filter(hours <= 24)
    assert 0.5 <= within.select(hours.median()).item() <= 3
    # never-contacted leads rarely become sales-ready
    mql = judged.filter(pl.col("mql_at").is_not_null())
    sql_rate = dict(mql.group_by(pl.col("first_contact_at").is_null().alias("never"))
                    .agg(pl.col("sql_at").is_not_null().mean()).iter_rows())
    assert sql_rate[True] < 0.3 * sql_rate[False]


# --- touches


def test_three_to_six_touches_ending_with_the_lead(demo: dict[str, pl.DataFrame]) -> None:
    touches, leads = demo["touches"], demo["leads"]
    per_lead = touches.group_by("lead_id").len()
    assert per_lead.height == leads.height
    assert per_lead["len"].min() == 3 and per_lead["len"].max() == 6
    joined = touches.join(leads.select("lead_id", "created_at", pl.col("channel").alias("lead_channel"),
                                       pl.col("campaign").alias("lead_campaign")), on="lead_id")
    assert (joined["touched_at"] <= joined["created_at"]).all()
    last = joined.filter(pl.col("touched_at") == pl.col("touched_at").max().over("lead_id"))
    assert last.height == leads.height
    assert (last["touched_at"] == last["created_at"]).all()
    assert (last["touch_type"] == "form_submit").all()
    assert (last["channel"] == last["lead_channel"]).all() and (last["campaign"] == last["lead_campaign"]).all()
    assert set(touches["touch_type"]) == {"ad_click", "email_click", "webinar", "organic_visit", "form_submit"}
    first = joined.filter(pl.col("touched_at") == pl.col("touched_at").min().over("lead_id"))
    assert first["channel"].is_in(["Organic & Content", "Paid Search"]).mean() > 0.5  # type: ignore[operator]


# --- seasonality


def test_summer_and_christmas_dips_and_quiet_weekends(demo: dict[str, pl.DataFrame]) -> None:
    daily = (demo["leads"].group_by(pl.col("created_at").dt.date().alias("day")).len()
             .with_columns(pl.col("day").dt.year().alias("year"), pl.col("day").dt.month().alias("month")))

    def per_day(frame: pl.DataFrame) -> float:
        return float(frame["len"].sum()) / frame.height

    for year in (2025, 2026):
        months = {m: per_day(daily.filter((pl.col("year") == year) & (pl.col("month") == m))) for m in (5, 7, 10)}
        assert months[7] < 0.75 * months[5] and months[7] < 0.75 * months[10], year
    late_december = per_day(daily.filter((pl.col("year") == 2025) & (pl.col("month") == 12)
                                         & (pl.col("day").dt.day() >= 20)))
    may_october = per_day(daily.filter((pl.col("year") == 2025) & pl.col("month").is_in([5, 10])))
    assert late_december < 0.5 * may_october
    weekend = daily.filter(pl.col("day").dt.weekday() >= 6)
    weekday = daily.filter(pl.col("day").dt.weekday() <= 5)
    assert per_day(weekend) < 0.5 * per_day(weekday)
    # growth: this October beats last October
    october = {y: per_day(daily.filter((pl.col("year") == y) & (pl.col("month") == 10))) for y in (2025, 2026)}
    assert october[2026] > 1.15 * october[2025]


# --- spend and traffic


def test_spend_is_plausible_and_follows_leads(demo: dict[str, pl.DataFrame]) -> None:
    spend = demo["spend"]
    ads = spend.filter(pl.col("channel").is_in(PAID))
    assert ads["impressions"].null_count() == 0 and (ads["clicks"] <= ads["impressions"]).all()
    ctr = dict(ads.group_by("channel").agg(pl.col("clicks").sum() / pl.col("impressions").sum()).iter_rows())
    assert 0.03 <= ctr["Paid Search"] <= 0.06
    assert 0.004 <= ctr["LinkedIn"] <= 0.01 and 0.004 <= ctr["Meta"] <= 0.01
    assert spend.group_by("date", "campaign").len()["len"].max() == 1  # one row per day and campaign
    monthly_spend = spend.group_by("campaign", pl.col("date").dt.month_start().alias("m")).agg(pl.col("spend").sum())
    monthly_leads = demo["leads"].group_by("campaign", pl.col("created_at").dt.date().dt.month_start().alias("m")).len()
    corr = (monthly_spend.join(monthly_leads, on=["campaign", "m"], how="left").fill_null(0)
            .group_by("campaign").agg(pl.corr("spend", "len").alias("r"), pl.len().alias("months"))
            .filter(pl.col("months") >= 12))
    assert corr.height >= 15 and corr["r"].min() > 0.6  # type: ignore[operator]


def test_traffic_is_plausible_and_modest(demo: dict[str, pl.DataFrame]) -> None:
    traffic = demo["traffic"]
    assert traffic.height < 200_000
    assert (traffic["engaged_sessions"] <= traffic["sessions"]).all()
    assert (traffic["users"] <= traffic["sessions"]).all() and (traffic["new_users"] <= traffic["users"]).all()
    assert (traffic["sessions"] > 0).all()
    rate = demo["leads"].height / traffic["sessions"].sum()
    assert 0.01 <= rate <= 0.03
    by_channel = (traffic.group_by("channel").agg(pl.col("sessions").sum())
                  .join(demo["leads"].group_by("channel").len(), on="channel"))
    assert ((by_channel["len"] / by_channel["sessions"]) < 0.05).all()


# --- KPIs


def test_kpis_reference_the_catalog_and_form_one_tree(demo: dict[str, pl.DataFrame]) -> None:
    kpis = demo["kpis"]
    metrics = catalog(DEMO_SETTINGS)
    assert 10 <= kpis["kpi_id"].n_unique() <= 16
    assert check(kpis, metrics, table_dimensions(prepare(demo, DEMO_SETTINGS))) == []
    for row in kpis.iter_rows(named=True):
        if row["metric"] in metrics:
            assert row["direction"] == ("up" if metrics[row["metric"]].higher_is_better else "down"), row
        assert row["owner"] and row["why"] and row["how"] and row["target"] is not None, row
    # one KPI is a formula, one is measured on a slice
    assert kpis.filter(~pl.col("metric").is_in(list(metrics)))["metric"].unique().to_list() == ["revenue - spend"]
    assert kpis["filters"].drop_nulls().unique().to_list() == ["segment=Enterprise"]
    ids = set(kpis["kpi_id"])
    roots = kpis.filter(pl.col("parent").is_null())["kpi_id"].unique().to_list()
    assert roots == ["goal_revenue"]
    assert set(kpis["parent"].drop_nulls()) <= ids
    periods = kpis.group_by("kpi_id").agg(pl.col("period").sort())
    # every quarter last year had data for, and Q1 2025 had no enterprise deals closed yet
    quarters = {k: p for k, p in periods.iter_rows()}
    assert quarters.pop("kpi_won_enterprise") == ["2026-Q2", "2026-Q3", "2026-Q4"]
    assert all(p == ["2026-Q1", "2026-Q2", "2026-Q3", "2026-Q4"] for p in quarters.values())
    assert {"revenue", "leads", "mql", "sql", "won", "cpl", "cac", "roas", "lead_to_won", "leakage",
            "speed_to_lead_hours"} <= set(kpis["metric"])


def test_kpi_targets_stretch_last_year(demo: dict[str, pl.DataFrame]) -> None:
    leads = demo["leads"].filter(pl.col("created_at").dt.year() == 2025)
    last_year = dict(leads.group_by(pl.col("created_at").dt.quarter()).len().iter_rows())
    targets = demo["kpis"].filter(pl.col("kpi_id") == "kpi_leads")
    for period, target in targets.select("period", "target").iter_rows():
        quarter = int(period[-1])
        assert 1.0 * last_year[quarter] < target < 1.5 * last_year[quarter], period
    leakage = demo["kpis"].filter(pl.col("metric") == "leakage")["target"]
    assert ((leakage > 0) & (leakage < 0.2)).all()


# --- web events


def test_every_web_lead_of_the_event_days_ends_its_journey_with_the_form_submit_that_created_it(
        demo: dict[str, pl.DataFrame]) -> None:
    events, leads = demo["events"], demo["leads"]
    first_day = datetime.combine(TODAY - timedelta(days=EVENT_DAYS - 1), datetime.min.time())
    assert events["timestamp"].min() >= first_day and events["timestamp"].max() < END
    assert set(events["event"]) == set(EVENT_NAMES)
    submits = events.filter(pl.col("event") == "form_submit")
    assert submits["user_id"].is_unique().all()
    matched = submits.join(leads.select("lead_id", "created_at", "channel", "campaign"),
                           left_on="user_id", right_on="lead_id", how="left")
    # every submit is a lead's, at the minute the lead was created, on the lead's channel and campaign
    assert matched["created_at"].null_count() == 0
    assert (matched["timestamp"] == matched["created_at"]).all()
    assert (matched["channel"] == matched["channel_right"]).all()
    assert (matched["campaign"] == matched["campaign_right"]).all()
    recent = leads.filter(pl.col("created_at") >= first_day)
    web = recent.filter(pl.col("channel") != "Events & Webinars")
    # every lead from the website has its submit; about half of the event leads (badge scans have none)
    assert set(web["lead_id"]) <= set(submits["user_id"])
    events_leads = recent.filter(pl.col("channel") == "Events & Webinars")
    share = submits.filter(pl.col("user_id").is_in(events_leads["lead_id"].implode())).height / events_leads.height
    assert 0.4 < share < 0.6


def test_anonymous_visitors_outnumber_leads_and_meta_brings_the_most_per_lead(demo: dict[str, pl.DataFrame]) -> None:
    events = demo["events"]
    landings = events.filter(pl.col("event") == "page_view").group_by("user_id").agg(pl.col("channel").first())
    visitors = landings.filter(pl.col("user_id").str.starts_with("v-"))
    leads = events.filter(pl.col("event") == "form_submit")
    assert 8 < visitors.height / leads.height < 16
    per_lead = (visitors.group_by("channel").len().join(leads.group_by("channel").len(), on="channel")
                .with_columns((pl.col("len") / pl.col("len_right")).alias("ratio")).sort("ratio", descending=True))
    assert per_lead["channel"][0] == "Meta"


def test_the_other_tables_are_the_same_with_or_without_events(demo: dict[str, pl.DataFrame],
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    # the events come from a random stream of their own: generating none changes nothing else
    monkeypatch.setattr("kpi.sources.demo._events", lambda rng, leads, today: leads.clear())
    without = generate(TODAY)
    for name in ("leads", "spend", "traffic", "touches", "kpis"):
        assert without[name].equals(demo[name]), name
