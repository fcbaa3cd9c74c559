"""Event exports through the Data page (AppTest): each format is recognised, checked, confirmed into this
session's events table and saved into a workspace; the time-zone question, the custom mapping to events and a
refusal that changes nothing; the page's event texts in en/sv/ru. Numbers as in tests/unit/test_event_imports.py."""

from __future__ import annotations

import os
import uuid
from datetime import datetime

import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from kpi.settings import Settings
from kpi.store import Store
from kpi.uploads import save_uploads
from tests.app.conftest import open_page, page_alone, plain
from tests.app.test_data_page import confirm, metric
from tests.app.test_data_page import upload as data_page_upload
from tests.conftest import REPO

EV = REPO / "tests" / "fixtures" / "events"


def store() -> Store:
    return Store(os.environ["KPI_DATA_DIR"])


def upload(at: AppTest, name: str, data: bytes | None = None) -> AppTest:
    return data_page_upload(at, name, data if data is not None else (EV / name).read_bytes())


def data_page(lang: str = "en") -> AppTest:
    at = page_alone("data", default_timeout=90)
    if lang != "en":
        at.query_params["lang"] = lang
    at.run()
    assert not at.exception
    return at


@pytest.mark.parametrize(("name", "label", "copies", "events", "persons", "fallback"), [
    ("posthog_events.csv", "PostHog events export", 0, 24, 11, "2 row(s)"),
    ("posthog_events.jsonl", "PostHog events export", 0, 24, 11, "2 row(s)"),
    ("mixpanel_export.jsonl", "Mixpanel raw event export", 1, 18, 5, None),
    ("amplitude_export.zip", "Amplitude export", 0, 20, 5, "12 row(s)"),
    ("ga4_events_20250303.parquet", "GA4 BigQuery export (events_*)", 0, 16, 4, "8 row(s)"),
    ("ga4_events_20250303.ndjson", "GA4 BigQuery export (events_*)", 0, 16, 4, "8 row(s)"),
    ("generic_events_ru_cp1251.csv", "Events file (user, time, event)", 0, 6, 3, None),
])
def test_each_event_export_is_recognised_added_and_saved(name: str, label: str, copies: int, events: int,
                                                         persons: int, fallback: str | None) -> None:
    page = upload(data_page(), name)
    assert page.selectbox(key="upload_preset").options[0] == f"Recognised: {label}"
    assert (metric(page, "Rows read"), metric(page, "Accepted"), metric(page, "Rejected")) == (
        str(events + copies), str(events), str(copies))
    if copies:  # Mixpanel's copy of an event is named as rejected
        assert any("repeats an earlier event" in plain(w.value) for w in page.warning)
    assert any("→ table **Events**, dates 2025-03-0" in c.value for c in page.caption)
    infos = [plain(i.value) for i in page.info]
    if fallback:  # the identity fallback is shown with its count
        assert [i for i in infos if "user_id taken from" in i and fallback in i], infos
    else:
        assert not [i for i in infos if "user_id taken from" in i]
    summary = f"{events} events of {persons} persons"
    assert any(summary in plain(c.value) for c in page.caption)
    assert "session_tables" not in page.session_state  # nothing before confirming
    confirm(page)
    assert any(f"Added {events} rows from {name} to Events." == plain(s.value) for s in page.success)
    table: pl.DataFrame = page.session_state["session_tables"]["events"]
    assert (table.height, table["user_id"].n_unique()) == (events, persons)
    # what the Workspaces page's save does with these uploads: the events table is in the workspace
    ws = save_uploads(store(), page.session_state["session_tables"], into=None, name=f"Events {uuid.uuid4().hex[:8]}",
                      mode="replace", settings=Settings())
    saved = store().load(ws.id, "events")
    assert saved.height == events and saved.schema["timestamp"] == pl.Datetime("us")


def test_events_saved_into_a_workspace_through_the_app(app: AppTest) -> None:
    open_page(app, "pages/data.py")
    upload(app, "amplitude_export.zip")
    confirm(app)
    app.switch_page("pages/workspaces.py").run()
    assert not app.exception
    name = f"Amplitude events {uuid.uuid4().hex[:8]}"
    app.selectbox(key="save_target").set_value("__new__").run()
    app.text_input(key="save_new_name").set_value(name).run()
    app.button(key="save_uploads").click().run()
    assert not app.exception
    assert any(f"Saved events into “{name}”" in plain(s.value) for s in app.success)
    ws = next(w for w in store().workspaces() if w.name == name)
    events = store().load(ws.id, "events")
    assert events.height == 20 and sorted(events["user_id"].unique().to_list()) == ["d-1", "d-2", "d-4", "u-100",
                                                                                    "u-300"]


def test_a_generic_file_asks_for_its_time_zone() -> None:
    page = upload(data_page(), "generic_events_sv.csv")
    tz = page.selectbox(key="upload_tz")
    assert tz.value == "UTC" and "Europe/Stockholm" in tz.options
    tz.set_value("Europe/Stockholm").run()
    assert not page.exception
    confirm(page)
    events = page.session_state["session_tables"]["events"]
    assert events["timestamp"][0] == datetime(2025, 3, 3, 8, 0)  # 09:00 in Stockholm


def test_a_utc_export_is_not_asked_for_a_time_zone() -> None:
    page = upload(data_page(), "ga4_events_20250303.parquet")
    assert not [s for s in page.selectbox if s.key == "upload_tz"]


def test_an_unrecognised_file_maps_to_events_by_hand() -> None:
    data = b"Who,When,What,Page\nv1,2025-03-03 09:00,visit,/\nv2,2025-03-03 09:05,visit,/p\n"
    page = upload(data_page(), "visits.csv", data)
    assert page.selectbox(key="upload_preset").value == "custom"
    page.selectbox(key="upload_table").set_value("events").run()
    assert page.selectbox(key="upload_f_events_user_id").label == "Person (user ID) (user_id) *"
    page.selectbox(key="upload_f_events_user_id").set_value("Who")
    page.selectbox(key="upload_f_events_timestamp").set_value("When")
    page.selectbox(key="upload_f_events_event").set_value("What")
    page.run()
    assert not page.exception and not page.error
    confirm(page)
    events = page.session_state["session_tables"]["events"]
    assert events.columns == ["user_id", "timestamp", "event", "page"] and events["page"].to_list() == ["/", "/p"]


def test_a_refused_event_file_shows_why_and_changes_nothing() -> None:
    page = upload(data_page(), "posthog_events.csv")
    confirm(page)
    before = page.session_state["session_tables"]["events"]
    page.file_uploader(key="upload_file").set_value(("broken.jsonl", b'{"event": "a"}\n{oops\n', "application/json"))
    page.run()
    assert any("broken.jsonl: line 2 is not JSON" in plain(e.value) for e in page.error)
    assert not [b for b in page.button if b.key == "upload_confirm"]
    assert page.session_state["session_tables"]["events"] is before


@pytest.mark.parametrize(("lang", "table", "tz_label"), [
    ("sv", "Händelser", "Tider utan UTC-förskjutning är i tidszonen"),
    ("ru", "События", "Время без смещения от UTC указано в часовом поясе"),
])
def test_event_texts_in_swedish_and_russian(lang: str, table: str, tz_label: str) -> None:
    page = upload(data_page(lang), "generic_events_sv.csv")
    assert page.selectbox(key="upload_tz").label == tz_label
    page.selectbox(key="upload_preset").set_value("custom").run()
    assert page.selectbox(key="upload_table").options[-1] == table
