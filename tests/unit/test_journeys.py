"""From web events to won deals (kpi.journeys and the engine's event entries): hand-made journeys, numbers
worked out by hand in the comments.

Day 0 is 2026-11-02; M = one minute in seconds.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import polars as pl
import pytest

from kpi import engine
from kpi.events import EventFunnelError, FunnelSpec, funnel
from kpi.journeys import (
    EventFilterError,
    EventQuestion,
    NoEvents,
    breakdown_frame,
    default_question,
    events_in,
    journey,
    save_funnel,
    saved_funnels,
    step_frame,
    step_labels,
)
from kpi.period import Period
from kpi.query import Query
from kpi.settings import Settings
from kpi.store import Store
from kpi.workspace import Workspace

M = 60
T0 = datetime(2026, 11, 2, 10, 0)


def ev(user: str, seconds: int, event: str, channel: str = "Meta", page: str = "/") -> dict[str, Any]:
    return {"user_id": user, "timestamp": T0 + timedelta(seconds=seconds), "event": event, "channel": channel,
            "page": page}


# u1 converts (views pricing 5 min after landing, submits 5 min later) · u2 looks at pricing after an hour ·
# u3 only lands · L9 (a lead) converts in 2 + 1 minutes, from e-mail · u4 acts on 2026-11-10, in the next week
EVENTS = pl.DataFrame([
    ev("u1", 0, "page_view"), ev("u1", 5 * M, "pricing_view", page="/pricing"), ev("u1", 10 * M, "form_submit"),
    ev("u2", 0, "page_view", "Paid Search"), ev("u2", 60 * M, "pricing_view", "Paid Search", "/pricing"),
    ev("u3", 86_400, "page_view"),
    ev("L9", 2 * 86_400, "page_view", "Email"), ev("L9", 2 * 86_400 + 2 * M, "pricing_view", "Email", "/pricing"),
    ev("L9", 2 * 86_400 + 3 * M, "form_submit", "Email"),
    ev("u4", 8 * 86_400, "page_view"), ev("u4", 8 * 86_400 + M, "pricing_view", page="/pricing"),
])
LEADS = pl.DataFrame({
    "lead_id": ["L9", "L10"], "created_at": [T0 + timedelta(days=2, minutes=3), datetime(2026, 11, 5)],
    "mql_at": [datetime(2026, 11, 6), None], "sql_at": [datetime(2026, 11, 9), None],
    "opportunity_at": [None, None], "won_at": [None, None], "channel": ["Email", "Meta"]},
    schema_overrides={"opportunity_at": pl.Datetime("us"), "won_at": pl.Datetime("us")})
STEPS = ("page_view", "pricing_view", "form_submit")
FIRST_WEEK = Period(date(2026, 11, 2), date(2026, 11, 8))
NEXT_WEEK = Period(date(2026, 11, 9), date(2026, 11, 15))


@pytest.fixture(scope="module")
def ws() -> Workspace:
    return Workspace.prepared({"leads": LEADS, "events": EVENTS}, Settings(), "journeys-test")


def counts(steps: list[dict[str, Any]]) -> list[int]:
    return [int(s["count"]) for s in steps]


def test_the_period_keeps_only_its_days_events(ws: Workspace) -> None:
    # first week: u1, u2, u3, L9 land; u2 and u1 and L9 view pricing; u1 and L9 submit -> [4, 3, 2]
    result = engine.event_funnel(ws, Query.of(period=FIRST_WEEK), FunnelSpec(STEPS))
    assert counts(result["steps"]) == [4, 3, 2]
    # the next week holds u4 only, who never submits -> [1, 1, 0]
    assert counts(engine.event_funnel(ws, Query.of(period=NEXT_WEEK), FunnelSpec(STEPS))["steps"]) == [1, 1, 0]


def test_a_compared_query_adds_the_previous_periods_steps(ws: Workspace) -> None:
    result = engine.event_funnel(ws, Query.of(period=NEXT_WEEK, compare=FIRST_WEEK), FunnelSpec(STEPS))
    assert counts(result["steps"]) == [1, 1, 0]
    assert counts(result["previous"]) == [4, 3, 2]


def test_filters_keep_events_with_the_value_and_name_a_dimension_events_lack(ws: Workspace) -> None:
    # Meta events: u1 (all three), u3, u4 (both); u2 is Paid Search and L9 Email -> over both weeks [3, 2, 1]
    meta = Query.of(period=Period(date(2026, 11, 1), date(2026, 11, 30)), filters={"channel": ["Meta"]})
    assert counts(engine.event_funnel(ws, meta, FunnelSpec(STEPS))["steps"]) == [3, 2, 1]
    with pytest.raises(EventFilterError) as raised:
        engine.event_funnel(ws, meta.but(filters=(("segment", ("SMB",)),)), FunnelSpec(STEPS))
    assert raised.value.dimensions == ("segment",)
    with pytest.raises(NoEvents):
        events_in({"leads": LEADS}, FIRST_WEEK)


def test_a_step_filter_needs_the_property_value_too() -> None:
    # the second step is any event on /pricing... only u1, u2, L9, u4 have one; a page_view on "/" does not count
    spec = FunnelSpec(("page_view", "pricing_view"), where=((), (("page", "/pricing"),)))
    assert counts(funnel(EVENTS, spec)["steps"]) == [5, 4]
    # a page_view filtered to /pricing: nobody lands there -> nobody enters
    spec = FunnelSpec(("page_view", "form_submit"), where=((("page", "/pricing"),), ()))
    assert counts(funnel(EVENTS, spec)["steps"]) == [0, 0]
    with pytest.raises(EventFunnelError, match="one per step"):
        FunnelSpec(("page_view", "form_submit"), where=((),))


def test_step_table_rates_times_and_the_compared_period() -> None:
    # first week: [4, 3, 2]; page -> pricing: u1 300 s, u2 3600 s, L9 120 s -> median 300, mean 1340;
    # pricing -> submit: u1 300 s, L9 60 s -> median = mean = 180. Previous: [1, 1, 0]
    question = EventQuestion(STEPS)
    labels = step_labels(question)
    assert labels == ["1. page_view", "2. pricing_view", "3. form_submit"]
    now = funnel(EVENTS.filter(pl.col("timestamp") < datetime(2026, 11, 9)), question.spec)["steps"]
    before = funnel(EVENTS.filter(pl.col("timestamp") >= datetime(2026, 11, 9)), question.spec)["steps"]
    frame = step_frame(now, labels, before)
    assert frame["count"].to_list() == [4, 3, 2]
    assert frame["step_conversion"].to_list() == [None, 0.75, 2 / 3]
    assert frame["overall_conversion"].to_list() == [1.0, 0.75, 0.5]
    assert frame["drop_off"].to_list() == [None, 1, 1]
    assert frame["median_s"].to_list() == [None, 300.0, 180.0]
    assert frame["mean_s"].to_list() == [None, 1340.0, 180.0]
    assert frame["count_prev"].to_list() == [1, 1, 0]
    assert frame["step_conversion_prev"].to_list() == [None, 1.0, 0.0]


def test_breakdown_frame_per_value_with_its_own_rates() -> None:
    # first touch channel over everything: Meta u1 [1,1,1], u3 [1,0,0], u4 [1,1,0] -> [3, 2, 1];
    # Paid Search u2 -> [1, 1, 0]; Email L9 -> [1, 1, 1]
    question = EventQuestion(STEPS, by="channel")
    result = funnel(EVENTS, question.spec, "channel")
    frame = breakdown_frame(result["breakdown"], step_labels(question), "channel")
    by_value = {v: frame.filter(pl.col("channel") == v)["count"].to_list() for v in ("Meta", "Paid Search", "Email")}
    assert by_value == {"Meta": [3, 2, 1], "Paid Search": [1, 1, 0], "Email": [1, 1, 1]}
    assert frame.filter(pl.col("channel") == "Meta")["step_conversion"].to_list() == [None, 2 / 3, 0.5]
    assert frame["channel"].unique(maintain_order=True).to_list()[0] == "Meta"  # the most persons first


def test_the_converters_who_are_leads_continue_into_the_lead_stages(ws: Workspace) -> None:
    # converters in the first week: u1 and L9; only L9 is a lead (MQL and SQL, no opportunity)
    query, spec = Query.of(period=FIRST_WEEK), FunnelSpec(STEPS)
    leads = engine.event_leads(ws, query, spec)
    assert dict(zip(leads["stage"], leads["count"], strict=True)) == {"lead": 1, "mql": 1, "sql": 1,
                                                                      "opportunity": 0, "won": 0}
    steps = step_frame(engine.event_funnel(ws, query, spec)["steps"], step_labels(EventQuestion(STEPS)))
    path = journey(steps, leads)
    assert path["label"].to_list()[:4] == ["1. page_view", "2. pricing_view", "3. form_submit", "Leads"]
    assert path["count"].to_list() == [4, 3, 2, 1, 1, 1, 0, 0]
    # the lead row: 1 of the 2 converters is a lead; overall from step 0: 1 of 4
    assert path["step_conversion"].to_list()[3] == 0.5 and path["overall_conversion"].to_list()[3] == 0.25
    # MQL days after the lead: L9 created 2026-11-04 10:03 (T0 + 2 days 3 min), MQL 2026-11-06 00:00
    assert path["days_from_previous"].to_list()[4] == pytest.approx((datetime(2026, 11, 6) - datetime(
        2026, 11, 4, 10, 3)).total_seconds() / 86_400)
    assert path["days_from_previous"].to_list()[1] == 300 / 86_400


def test_persons_by_step_and_where_they_dropped(ws: Workspace) -> None:
    persons = engine.event_persons(ws, Query.of(period=FIRST_WEEK), FunnelSpec(STEPS))
    assert persons.rows() == [("L9", 2, "form_submit", None), ("u1", 2, "form_submit", None),
                              ("u2", 1, "pricing_view", "form_submit"), ("u3", 0, "page_view", "pricing_view")]


def test_trend_counts_persons_by_the_week_of_their_first_step(ws: Workspace) -> None:
    # weeks from Monday 2 November: u1, u2, u3, L9 enter (u1 and L9 convert); week of 9 November: u4 enters
    query = Query.of(period=Period(date(2026, 11, 2), date(2026, 11, 15)), grain="week")
    trend = engine.event_trend(ws, query, FunnelSpec(STEPS))
    assert trend.rows() == [(date(2026, 11, 2), 4, 2), (date(2026, 11, 9), 1, 0)]


def test_a_question_round_trips_through_a_link_and_names_what_is_wrong() -> None:
    question = EventQuestion(STEPS, ((), (("page", "/pricing"),), ()), "strict", "2h", ("page_leave",), "channel",
                             "step:1")
    assert EventQuestion.decode(question.encode()) == question
    assert question.spec.window_s == 7200 and question.spec.exclusions[0].to_step == 2
    for bad, words in ((["page_view"], "'steps'"), ({"steps": [["a", "page"]]}, "step 0"),
                       ({"steps": [["a"], ["b"]], "order": "sideways"}, "order 'sideways'"),
                       ({"steps": [["a"], ["b"]], "window": "soon"}, "window"),
                       ({"steps": [["a"], ["b"]], "exclude": "a"}, "'exclude'"),
                       ({"steps": [["a"], ["b"]], "by": "channel", "attribution": "step:5"}, "step")):
        with pytest.raises(EventFunnelError, match=words):
            EventQuestion.from_doc(bad)
    with pytest.raises(EventFunnelError, match="not JSON"):
        EventQuestion.decode("{")


def test_the_first_funnel_offered_goes_from_a_page_view_to_a_lead_event() -> None:
    names = ["case_study_view", "form_start", "form_submit", "page_view", "pricing_view"]
    assert default_question(names) == EventQuestion(("page_view", "pricing_view", "form_submit"))
    assert default_question(["$pageview", "signed_up", "$identify"]) == EventQuestion(("$pageview", "$identify"))
    assert default_question(["open", "close"]) == EventQuestion(("open", "close"))
    assert default_question(["only"]) is None


def test_saved_funnels_round_trip_and_a_damaged_one_is_reported(tmp_path: Any) -> None:
    store = Store(tmp_path)
    ws_id = store.create_workspace("Journeys").id
    question = EventQuestion(STEPS, by="page", attribution="last_touch")
    save_funnel(store, ws_id, "  Pricing to demo  ", question)
    store.put_doc(ws_id, "event_funnel", "broken", {"steps": []})
    found, problems = saved_funnels(store, ws_id)
    assert found == {"Pricing to demo": question}
    assert list(problems) == ["broken"] and "steps" in problems["broken"]
    with pytest.raises(EventFunnelError, match="name"):
        save_funnel(store, ws_id, "   ", question)
