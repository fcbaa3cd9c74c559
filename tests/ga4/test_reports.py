"""GA4 reports through the real google-analytics clients against the local server, over REST and gRPC."""

from __future__ import annotations

from collections import defaultdict
from datetime import date

import polars as pl
import pytest

from kpi import clock
from kpi.schema import validate
from kpi.sources.ga4 import (
    Clients,
    FunnelStepSpec,
    Ga4Report,
    PullRequest,
    ReportSpec,
    ga4_channel,
    list_properties,
    pull,
    run_funnel,
)
from kpi.sources.ga4_errors import Ga4Error
from tests.ga4.conftest import PROPERTY, ads_rows, event_rows, make_backend, serve_clients, traffic_rows
from tests.ga4.ga4_server import FLOAT, INTEGER, Backend, Cube

START, END = date(2025, 3, 1), date(2025, 3, 3)


def test_pull_pages_through_every_row_and_sums_match_the_fixture(clients: Clients, backend: Backend) -> None:
    result = pull(clients, PullRequest(PROPERTY, START, END, page_size=7))
    traffic = result.tables["traffic"]

    # 8 (group, source, medium, campaign) keys x 3 days = 24 rows at the report's grain -> pages of 7, 7, 7, 3
    offsets = [req.offset for m, req in backend.calls
               if m == "RunReport" and "sessions" in [x.name for x in req.metrics]]
    assert offsets == [0, 7, 14, 21]
    assert traffic.height == 24
    assert result.reports[0].pages == 4

    expected: dict[tuple[str, str], int] = defaultdict(int)  # (day, GA4 channel group) -> sessions, from the fixture
    revenue = 0.0
    for row in traffic_rows():
        expected[(row["date"], row["sessionDefaultChannelGroup"])] += row["sessions"]
        revenue += row["totalRevenue"]
    got = traffic.group_by("date", "ga4_channel_group").agg(pl.col("sessions").sum())
    assert {(d.strftime("%Y%m%d"), g): s for d, g, s in got.iter_rows()} == dict(expected)
    assert traffic["revenue"].sum() == pytest.approx(revenue)
    assert validate("traffic", traffic) == []


def test_types_dates_and_not_set(clients: Clients) -> None:
    frame, info = Ga4Report(clients, PROPERTY, START, END, page_size=50).run(ReportSpec(
        "raw", ("date", "sessionSource", "sessionCampaignName"), ("sessions", "keyEvents", "totalRevenue")))
    assert frame.schema == pl.Schema({"date": pl.Date, "sessionSource": pl.String, "sessionCampaignName": pl.String,
                                      "sessions": pl.Int64, "keyEvents": pl.Float64, "totalRevenue": pl.Float64})
    assert sorted(frame["date"].unique().to_list()) == [date(2025, 3, 1), date(2025, 3, 2), date(2025, 3, 3)]
    # Fixture: campaign '(not set)' on Organic Search and Direct, source '(not set)' on Unassigned; 3 days each.
    rows = traffic_rows()
    not_set_campaign = {(r["date"], r["sessionSource"]) for r in rows if r["sessionCampaignName"] == "(not set)"}
    not_set_source = {(r["date"], r["sessionCampaignName"]) for r in rows if r["sessionSource"] == "(not set)"}
    assert info.not_set == {"sessionCampaignName": len(not_set_campaign), "sessionSource": len(not_set_source)}
    assert frame["sessionCampaignName"].null_count() == len(not_set_campaign)
    assert "(not set)" not in frame["sessionSource"].to_list()
    assert info.other_rows == 3 and info.data_loss_from_other_row  # '(other)' campaign on each of 3 days
    assert info.currency == "EUR" and info.time_zone == "Europe/Stockholm"
    assert info.quota["tokens_per_day"][0] + info.quota["tokens_per_day"][1] == 200000


def test_sampling_and_thresholding_are_reported(transport: str) -> None:
    backend = make_backend(sampling=[(250_000, 1_000_000)], thresholding=True)
    with serve_clients(backend, transport) as clients:
        result = pull(clients, PullRequest(PROPERTY, START, END))
    info = result.reports[0]
    assert info.sampling == [(250_000, 1_000_000)]
    assert info.thresholded
    text = " ".join(result.notices())
    assert "25.0%" in text and "thresholding" in text


def test_more_than_ten_metrics_are_split_and_joined(transport: str) -> None:
    metrics = {f"m{i}": INTEGER if i % 2 else FLOAT for i in range(12)}
    rows = [{"date": d, "country": c, **{m: (i + 1) * 10 + k for k, m in enumerate(metrics)}}
            for i, (d, c) in enumerate([("20250301", "Sweden"), ("20250301", "Norway"), ("20250302", "Sweden")])]
    backend = Backend(cubes=[Cube(("date", "country"), metrics, rows)])
    with serve_clients(backend, transport) as clients:
        frame, info = Ga4Report(clients, "123456", START, END).run(ReportSpec("wide", ("date", "country"),
                                                                              tuple(metrics)))
    sizes = [len(req.metrics) for m, req in backend.calls if m == "RunReport"]
    assert sizes == [10, 2]
    assert info.requests == 2
    assert frame.height == 3 and frame.width == 14
    norway = frame.filter(pl.col("country") == "Norway").row(0, named=True)
    assert norway["m11"] == 20 + 11 and norway["m0"] == 20.0
    assert frame.schema["m1"] == pl.Int64 and frame.schema["m0"] == pl.Float64


def test_ten_dimensions_are_refused_before_sending(clients: Clients, backend: Backend) -> None:
    spec = ReportSpec("too_wide", tuple(f"d{i}" for i in range(10)), ("sessions",))
    with pytest.raises(Ga4Error, match="10 dimensions; GA4 allows 9") as err:
        Ga4Report(clients, PROPERTY, START, END).run(spec)
    assert err.value.kind == "invalid_request"
    assert backend.calls == []


def test_unknown_field_is_named_before_any_report_request(clients: Clients, backend: Backend) -> None:
    spec = ReportSpec("typo", ("date", "sessionCampaign"), ("sessions",))
    with pytest.raises(Ga4Error, match="'sessionCampaign' is not a valid GA4 dimension") as err:
        Ga4Report(clients, PROPERTY, START, END).run(spec)
    assert "Did you mean 'sessionCampaignName'" in err.value.message
    assert backend.count("RunReport") == 0


def test_incompatible_fields_are_named(clients: Clients, backend: Backend) -> None:
    spec = ReportSpec("mix", ("date", "eventName"), ("sessions",))  # no cube has eventName with sessions
    with pytest.raises(Ga4Error, match="cannot combine 'eventName', 'sessions'"):
        Ga4Report(clients, PROPERTY, START, END).run(spec)
    assert backend.count("CheckCompatibility") == 1 and backend.count("RunReport") == 0


def test_spend_and_key_events_tables(clients: Clients) -> None:
    result = pull(clients, PullRequest(PROPERTY, START, END))
    spend = result.tables["spend"]
    cost_rows = [r for r in ads_rows() if r["advertiserAdCost"] or r["advertiserAdClicks"]]
    assert spend.height == len(cost_rows) == 3
    assert spend["spend"].sum() == pytest.approx(120.5 + 80.25 + 99.75)
    assert spend["clicks"].sum() == 40 + 22 + 31
    assert set(spend["channel"]) == {"Paid Search"} and set(spend["currency"]) == {"EUR"}
    assert validate("spend", spend) == []

    events = result.tables["key_events"]
    assert "page_view" not in events["event_name"].to_list()  # not a key event: 0 key events
    leads = sum(r["keyEvents"] for r in event_rows() if r["eventName"] == "generate_lead")
    assert events.filter(pl.col("event_name") == "generate_lead")["key_events"].sum() == leads == 2 * (3 + 4 + 5)


def test_property_without_ads_cost_gets_no_spend_table(transport: str) -> None:
    backend = make_backend()
    backend.cubes.pop()  # the Ads cube: the property's metadata then lists no advertiser metrics
    with serve_clients(backend, transport) as clients:
        result = pull(clients, PullRequest(PROPERTY, START, END))
    assert "spend" not in result.tables
    assert any("no Google Ads cost" in n for n in result.notices())


def test_channel_groups_map_to_the_workspace_vocabulary() -> None:
    frame = pl.DataFrame({
        "group": ["Paid Social", "Paid Social", "Paid Social", "Paid Search", "Organic Search", "Cross-network",
                  "Unassigned", "Organic Social", "Direct", "Email"],
        "source": ["facebook", "l.instagram.com", "linkedin", "google", "google", "google", "(not set)", "linkedin",
                   "(direct)", "newsletter"],
    })
    got = frame.select(ga4_channel(pl.col("group"), pl.col("source")).alias("channel"))["channel"].to_list()
    assert got == ["Meta", "Meta", "LinkedIn", "Paid Search", "Organic & Content", "Paid Search", "Other",
                   "Organic & Content", "Direct", "Email"]


def test_traffic_channels_follow_source(clients: Clients) -> None:
    traffic = pull(clients, PullRequest(PROPERTY, START, END)).tables["traffic"]
    by_source = dict(traffic.filter(pl.col("ga4_channel_group") == "Paid Social")
                     .select("source", "channel").unique().iter_rows())
    assert by_source == {"facebook": "Meta", "linkedin": "LinkedIn"}


def test_optional_dimensions(clients: Clients) -> None:
    traffic = pull(clients, PullRequest(PROPERTY, START, END, ("device", "country"))).tables["traffic"]
    assert {"device", "country"} <= set(traffic.columns) and "landing_page" not in traffic.columns
    mobile = sum(r["sessions"] for r in traffic_rows() if r["deviceCategory"] == "mobile")
    assert traffic.filter(pl.col("device") == "mobile")["sessions"].sum() == mobile


def test_property_listing_follows_pages(clients: Clients, backend: Backend) -> None:
    found = list_properties(clients)
    assert [(p.property_id, p.name) for p in found] == [("123456", "Demo shop"), ("654321", "Blog")]
    assert backend.count("ListAccountSummaries") == 2  # one summary per page on this server


def test_closed_funnel_with_breakdown(clients: Clients) -> None:
    steps = [FunnelStepSpec("Pricing", page_path="/pricing"), FunnelStepSpec("Form", event="form_start"),
             FunnelStepSpec("Lead", event="generate_lead")]
    frame, _ = run_funnel(clients, PROPERTY, steps, START, END, breakdown="deviceCategory")
    total = frame.filter(pl.col("breakdown").is_null())
    # By hand (conftest.JOURNEYS): /pricing first by u1, u2, u3, u5 -> 4; then form_start: u1, u2 -> 2;
    # then generate_lead: u1 -> 1. u4 never saw /pricing, so a closed funnel leaves it out.
    assert total["users"].to_list() == [4, 2, 1]
    assert total["step_name"].to_list() == ["Pricing", "Form", "Lead"]
    assert total["completion_rate"].to_list()[:2] == [pytest.approx(2 / 4), pytest.approx(1 / 2)]
    assert total["abandonments"].to_list()[:2] == [2, 1]
    desktop = frame.filter(pl.col("breakdown") == "desktop")["users"].to_list()
    assert desktop == [2, 2, 1]  # u1, u2 on desktop; u6 (desktop) never saw /pricing


def test_open_funnel_lets_users_enter_at_any_step(clients: Clients) -> None:
    steps = [FunnelStepSpec("Pricing", page_path="/pricing", match="exact"), FunnelStepSpec("Form", event="form_start"),
             FunnelStepSpec("Lead", event="generate_lead")]
    frame, _ = run_funnel(clients, PROPERTY, steps, START, END, open_funnel=True)
    # By hand: step 1 as before (4); step 2 adds u4 who enters at form_start -> 3; step 3: u1 and u4 -> 2;
    # u5's generate_lead counts too (entering at step 3) -> 3.
    assert frame["users"].to_list() == [4, 3, 3]
    assert frame["breakdown"].null_count() == 3


def test_a_range_that_includes_today_is_marked_partial(clients: Clients) -> None:
    today = clock.today("Europe/Stockholm")  # the property's time zone on the server
    result = pull(clients, PullRequest(PROPERTY, START, today))
    assert result.reports[0].partial_from == today
    assert any("is partial" in n for n in result.notices())
    assert pull(clients, PullRequest(PROPERTY, START, END)).reports[0].partial_from is None
