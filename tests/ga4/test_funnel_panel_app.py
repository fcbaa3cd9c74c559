"""The GA4 funnel on the Funnel page (ui.ga4.render_ga4_funnel) in AppTest: the whole app (app.py) switched to the
Funnel page, the real google-analytics-data client talking REST to the local GA4 server.

Expected users are worked out by hand from conftest.JOURNEYS, for the steps
  1. Pricing: a page path beginning with /pricing, 2. Form: event form_start, 3. Lead: event generate_lead.
  u1 desktop  /pricing → form_start → generate_lead   closed: steps 1, 2, 3   open: 1, 2, 3
  u2 desktop  /pricing → form_start                   closed: 1, 2            open: 1, 2
  u3 mobile   /blog → /pricing                        closed: 1               open: 1
  u4 mobile   form_start → generate_lead              closed: -               open: enters at 2: 2, 3
  u5 mobile   generate_lead → /pricing                closed: 1               open: 1; enters at 3: 3
  u6 desktop  /home                                   closed: -               open: -
Closed: 4, 2, 1 users (desktop 2, 2, 1; mobile 2, 0, 0). Open: 4, 3, 3.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import polars as pl
import pytest
from google.analytics.data_v1alpha import types as alpha
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1.element_tree import Dataframe

from kpi import clock
from tests.app.conftest import APP, plain
from tests.ga4.ga4_server import Fault, RestServer

PAGE = "pages/funnel.py"
USERS = "ga4_users"  # a column only the GA4 funnel table has (st.dataframe without selection drops its key)
# The editor starts with session_start / /pricing / generate_lead; these edits make the steps of the docstring.
EDITS = {"edited_rows": {0: {"name": "Pricing", "kind": "page_path", "value": "/pricing"},
                         1: {"name": "Form", "kind": "event", "value": "form_start"},
                         2: {"name": "Lead"}},
         "added_rows": [], "deleted_rows": []}

pytestmark = pytest.mark.usefixtures("fresh_caches")


def funnel_page(server: RestServer | None, lang: str | None = None, edits: dict[str, object] | None = None,
                page: str = PAGE) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    if server is not None:
        at.secrets["connections"] = {"ga4": {"api_endpoint": server.endpoint, "anonymous": True}}
    at.query_params.update({"period": "custom", "from": "2025-03-01", "to": "2025-03-03"})
    if lang:
        at.query_params["lang"] = lang
    at.session_state["ga4_funnel_steps"] = edits or EDITS
    at.run()
    at.switch_page(page)
    at.run()
    assert not at.exception, at.exception
    return at


def funnel_tables(at: AppTest) -> list[Dataframe]:
    return [d for d in at.dataframe if USERS in d.value.columns]


def table(at: AppTest) -> pl.DataFrame:
    found = funnel_tables(at)
    assert len(found) == 1, f"{len(found)} GA4 funnel tables"
    return pl.from_pandas(found[0].value)


def labels(at: AppTest) -> dict[str, str]:
    """Column id -> label on screen, of the GA4 funnel table."""
    found = funnel_tables(at)[0]
    return {c: cfg["label"] for c, cfg in json.loads(found.proto.columns).items() if "label" in cfg}


def chart_data(at: AppTest, title: str) -> pl.DataFrame:
    from streamlit import dataframe_util

    for element in at.get("vega_lite_chart"):
        if json.loads(element.proto.spec).get("title") == title:
            return pl.from_pandas(dataframe_util.convert_arrow_bytes_to_pandas_df(element.proto.datasets[0].data.data))
    raise AssertionError(f"no chart titled {title!r}")


def last_funnel_request(server: RestServer) -> alpha.RunFunnelReportRequest:
    return next(r for m, r in reversed(server.backend.calls) if m == "RunFunnelReport")


def test_users_per_step_match_the_journeys(served: RestServer) -> None:
    at = funnel_page(served)
    assert [h.value for h in at.subheader if "GA4" in h.value] == ["Website funnel (GA4)"]
    shown = table(at)
    assert shown["ga4_step"].to_list() == ["1. Pricing", "2. Form", "3. Lead"]
    assert shown["ga4_users"].to_list() == [4, 2, 1]
    assert shown["ga4_completion_rate"].to_list()[:2] == [pytest.approx(2 / 4), pytest.approx(1 / 2)]
    assert shown["ga4_abandonments"].to_list()[:2] == [2, 1]
    bars = chart_data(at, "Users per step (GA4)").sort("step")
    assert bars["users"].to_list() == [4, 2, 1]
    assert bars["next_rate"].to_list()[:2] == [0.5, 0.5] and bars["next_rate"][2] is None  # no step after the last
    assert any(c.value.startswith("From GA4 at ") and "closed funnel: Pricing → Form → Lead" in c.value
               for c in at.caption)

    # What went to GA4: the sidebar period, the steps as event / page-path filters, a closed funnel.
    sent = last_funnel_request(served)
    assert (sent.date_ranges[0].start_date, sent.date_ranges[0].end_date) == ("2025-03-01", "2025-03-03")
    assert sent.property == "properties/123456" and not sent.funnel.is_open_funnel
    first = sent.funnel.steps[0].filter_expression.funnel_field_filter
    assert (first.field_name, first.string_filter.value) == ("unifiedPagePathScreen", "/pricing")
    assert sent.funnel.steps[1].filter_expression.funnel_event_filter.event_name == "form_start"

    at.toggle(key="ga4_funnel_open").set_value(True).run()
    assert table(at)["ga4_users"].to_list() == [4, 3, 3]
    assert last_funnel_request(served).funnel.is_open_funnel
    calls = served.backend.count("RunFunnelReport")
    at.toggle(key="ga4_funnel_open").set_value(False).run()  # asked before: from the cache
    assert served.backend.count("RunFunnelReport") == calls
    assert table(at)["ga4_users"].to_list() == [4, 2, 1]


def test_the_event_funnels_page_shows_the_ga4_funnel_beside_the_events(served: RestServer) -> None:
    at = funnel_page(served, page="pages/events.py")
    assert [h.value for h in at.subheader if "GA4" in h.value] == ["Website funnel (GA4)"]
    assert table(at)["ga4_users"].to_list() == [4, 2, 1]


def test_breakdown_by_device_shows_a_row_per_device(served: RestServer) -> None:
    at = funnel_page(served)
    at.selectbox(key="ga4_funnel_breakdown").set_value("deviceCategory").run()
    assert not at.exception
    assert last_funnel_request(served).funnel_breakdown.breakdown_dimension.name == "deviceCategory"
    shown = table(at)
    assert shown.columns == ["ga4_step", "device", "ga4_users", "ga4_completion_rate", "ga4_abandonments",
                             "ga4_abandonment_rate"]
    users = {(r["ga4_step"], r["device"]): r["ga4_users"] for r in shown.iter_rows(named=True)}
    assert users == {("1. Pricing", "All users"): 4, ("1. Pricing", "desktop"): 2, ("1. Pricing", "mobile"): 2,
                     ("2. Form", "All users"): 2, ("2. Form", "desktop"): 2, ("2. Form", "mobile"): 0,
                     ("3. Lead", "All users"): 1, ("3. Lead", "desktop"): 1, ("3. Lead", "mobile"): 0}
    bars = chart_data(at, "Users per step (GA4)")
    assert sorted(bars["breakdown"].unique().to_list()) == ["desktop", "mobile"]  # devices only, no total bar
    assert labels(at)["device"] == "Device"


def test_failure_names_the_problem_and_keeps_the_last_funnel_marked_stale(served: RestServer) -> None:
    at = funnel_page(served)
    served.backend.script("RunFunnelReport", Fault.forbidden())
    at.toggle(key="ga4_funnel_open").set_value(True).run()
    assert not at.exception
    assert [plain(e.value) for e in at.error] == [
        "No access to GA4 property 123456: add the service account's email (client_email in its key file) as "
        "Viewer on property 123456 (GA4 Admin → Property access management), then retry. (while fetching the "
        "funnel report)"]
    stale = [plain(w.value) for w in at.warning]
    assert len(stale) == 1 and stale[0].startswith("Stale: still showing the funnel GA4 returned at ")
    assert "closed funnel" in stale[0]  # the funnel on screen is the closed one that arrived
    assert table(at)["ga4_users"].to_list() == [4, 2, 1]

    calls = served.backend.count("RunFunnelReport")
    at.run()  # the request that failed is not sent again on every rerun ...
    assert served.backend.count("RunFunnelReport") == calls and at.warning
    at.button(key="ga4_funnel_refresh").click().run()  # ... only Refresh asks again
    assert served.backend.count("RunFunnelReport") == calls + 1
    assert not at.error and not at.warning
    assert table(at)["ga4_users"].to_list() == [4, 3, 3]


def test_steps_that_cannot_run_are_named_and_nothing_is_asked(served: RestServer) -> None:
    edits = {"edited_rows": {1: {"value": None}}, "added_rows": [], "deleted_rows": [0, 2]}
    at = funnel_page(served, edits=edits)
    assert [plain(w.value) for w in at.warning] == [
        "Step 1: enter an event name or a page path, and choose what it counts."]
    assert served.backend.count("RunFunnelReport") == 0
    assert not funnel_tables(at)


def test_no_connection_no_section_and_no_request(served: RestServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GA4_API_ENDPOINT", served.endpoint)  # an endpoint alone is no connection
    at = funnel_page(None)
    assert not at.exception
    assert at.title[0].value == "Funnel"
    assert not [h for h in at.subheader if "GA4" in h.value]
    assert not funnel_tables(at)
    assert served.backend.calls == []


def test_property_picked_on_the_data_page_is_used(served: RestServer) -> None:
    def panel() -> None:
        from ui.ga4 import render_ga4_panel

        render_ga4_panel()

    data = AppTest.from_function(panel, default_timeout=60)
    data.secrets["connections"] = {"ga4": {"api_endpoint": served.endpoint, "anonymous": True}}
    data.run()
    data.selectbox(key="ga4_property").select_index(1).run()
    assert data.session_state["ga4_chosen_property"] == "654321"

    at = AppTest.from_file(APP, default_timeout=120)
    at.secrets["connections"] = {"ga4": {"api_endpoint": served.endpoint, "anonymous": True}}
    at.session_state["ga4_chosen_property"] = "654321"  # what the Data page kept in this session
    at.session_state["ga4_funnel_steps"] = EDITS
    at.run()
    at.switch_page(PAGE)
    at.run()
    assert not at.exception
    assert at.selectbox(key="ga4_funnel_property").value.property_id == "654321"
    assert last_funnel_request(served).property == "properties/654321"


def test_swedish_labels(served: RestServer) -> None:
    at = funnel_page(served, lang="sv")
    at.selectbox(key="ga4_funnel_breakdown").set_value("deviceCategory").run()
    assert not at.exception
    assert [h.value for h in at.subheader if "GA4" in h.value] == ["Webbplatstratt (GA4)"]
    assert at.toggle(key="ga4_funnel_open").label == "Öppen tratt"
    assert at.selectbox(key="ga4_funnel_breakdown").label == "Dela upp efter"
    assert at.selectbox(key="ga4_funnel_breakdown").options == ["Ingen uppdelning", "Enhet",
                                                                 "Standardkanalgrupp (GA4)", "Land"]
    shown_labels = labels(at)
    assert (shown_labels["ga4_step"], shown_labels["device"], shown_labels["ga4_users"]) == ("Steg", "Enhet",
                                                                                               "Användare")
    assert table(at).filter(pl.col("device") == "Alla användare")["ga4_users"].to_list() == [4, 2, 1]
    assert any(c.value.startswith("Från GA4 ") and "stängd tratt" in plain(c.value) for c in at.caption)
    assert [b.label for b in at.button if b.key == "ga4_funnel_refresh"] == ["Uppdatera"]


def test_shared_read_only_view_never_asks_ga4(served: RestServer, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    from kpi.store import Store

    monkeypatch.setenv("KPI_DATA_DIR", str(tmp_path))
    store = Store(tmp_path)
    workspace = store.create_workspace("Shared shop")
    leads = pl.DataFrame({"lead_id": ["L1", "L2"], "created_at": [datetime(2025, 3, 1, 9), datetime(2025, 3, 2, 9)]})
    store.save(workspace.id, "leads", leads, source="test")
    token = store.create_view(workspace.id, "funnel", {"lang": "en"})
    at = AppTest.from_file(APP, default_timeout=120)
    at.secrets["connections"] = {"ga4": {"api_endpoint": served.endpoint, "anonymous": True}}
    at.query_params["view"] = token
    at.run()
    assert not at.exception
    assert at.title[0].value == "Funnel"
    assert not [h for h in at.subheader if "GA4" in h.value]
    assert served.backend.calls == []


def test_sampling_and_todays_partial_data_are_noted(served: RestServer) -> None:
    served.backend.sampling = [(1_000, 5_000)]
    at = AppTest.from_file(APP, default_timeout=120)
    at.secrets["connections"] = {"ga4": {"api_endpoint": served.endpoint, "anonymous": True}}
    today = clock.today()
    at.query_params.update({"period": "custom", "from": "2025-03-01", "to": today.isoformat()})
    at.session_state["ga4_funnel_steps"] = EDITS
    at.run()
    at.switch_page(PAGE)
    at.run()
    assert not at.exception
    assert last_funnel_request(served).date_ranges[0].end_date == today.isoformat()
    notes = [plain(i.value) for i in at.info]
    assert "funnel: sampled — GA4 read 1,000 of 5,000 events (20.0%); totals are estimates." in notes
    assert any(n.startswith(f"funnel: data from {today:%Y-%m-%d} on is partial") for n in notes)
