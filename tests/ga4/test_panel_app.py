"""The GA4 panel (ui/ga4.py) in AppTest, against the local REST server: pick a property, pull into the session's
tables, keep the last good data on screen marked stale when a pull fails, and never show a credential."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from tests.app.conftest import plain
from tests.ga4.conftest import PROPERTY, fake_service_account, traffic_rows
from tests.ga4.ga4_server import Fault, RestServer

pytestmark = pytest.mark.usefixtures("fresh_caches")


def panel_script() -> None:
    from datetime import date

    from ui.ga4 import render_ga4_panel

    render_ga4_panel(today=date(2025, 3, 4))


def configured_app(server: RestServer) -> AppTest:
    at = AppTest.from_function(panel_script, default_timeout=60)
    at.secrets["connections"] = {"ga4": {"api_endpoint": server.endpoint, "anonymous": True}}
    return at


def pull(at: AppTest, button: str = "ga4_pull") -> AppTest:
    at.date_input(key="ga4_dates").set_value((date(2025, 3, 1), date(2025, 3, 3)))
    return at.button(key=button).click().run()


def texts(at: AppTest) -> str:
    parts = [e.value for kind in ("error", "warning", "info", "success", "caption", "markdown")
             for e in getattr(at, kind)]
    return "\n".join(str(p) for p in parts)


def test_pull_lands_tables_in_the_session(served: RestServer) -> None:
    at = configured_app(served).run()
    assert not at.exception
    assert [o for o in at.selectbox(key="ga4_property").options] == [
        "Demo shop (123456) · Demo account", "Blog (654321) · Demo account"]
    pull(at)
    assert not at.exception
    tables = at.session_state["session_tables"]
    assert set(tables) == {"traffic", "spend", "key_events"}
    assert tables["traffic"]["sessions"].sum() == sum(r["sessions"] for r in traffic_rows())
    assert "Pulled at" in plain(at.success[0].value) and "Traffic 24 rows" in plain(at.success[0].value)
    assert any("'(other)'" in plain(i.value) for i in at.info)

    # The same request again comes from the cache; Refresh asks GA4 again.
    calls = served.backend.count("RunReport")
    pull(at)
    assert served.backend.count("RunReport") == calls
    pull(at, "ga4_refresh")
    assert served.backend.count("RunReport") == 2 * calls


def test_failed_refresh_keeps_the_last_data_marked_stale(served: RestServer) -> None:
    at = pull(configured_app(served).run())
    before = at.session_state["session_tables"]["traffic"]
    served.backend.script("GetMetadata", Fault.daily_quota())
    pull(at, "ga4_refresh")
    assert not at.exception
    assert "daily GA4 quota of property 123456 is spent until" in plain(at.error[0].value)
    assert plain(at.warning[0].value).startswith("Stale: still showing the data pulled at")
    assert at.session_state["session_tables"]["traffic"].equals(before)


def test_panel_speaks_swedish_and_russian(served: RestServer) -> None:
    at = configured_app(served)
    at.query_params["lang"] = "ru"
    pull(at.run())
    assert not at.exception
    assert at.selectbox(key="ga4_property").label == "Ресурс"
    assert at.button(key="ga4_pull").label == "Загрузить из GA4"
    assert at.multiselect(key="ga4_dimensions").options == ["Устройство (device)", "Страна (country)",
                                                          "Страница входа (landing_page)"]
    done = plain(at.success[0].value)
    assert done.startswith("Загружено ") and "Ресурс 123456, 2025-03-01 – 2025-03-03" in done
    assert "Трафик: строк — 24" in done and "валюта EUR" in done
    assert any("'(other)'" in plain(i.value) for i in at.info)  # GA4's own notes stay as kpi.sources writes them

    served.backend.script("GetMetadata", Fault.daily_quota())
    at.session_state["lang"] = "sv"  # what the sidebar's language box sets
    pull(at, "ga4_refresh")
    assert plain(at.warning[0].value).startswith("Inaktuellt: visar fortfarande data som hämtades")
    assert "Trafik 24 rader" in plain(at.warning[0].value)
    assert at.button(key="ga4_refresh").label == "Uppdatera"


def test_no_access_to_list_properties(served: RestServer) -> None:
    served.backend.script("ListAccountSummaries", Fault.forbidden())
    at = configured_app(served).run()
    assert not at.exception
    assert "as Viewer on property" in plain(at.error[0].value)


def test_uploaded_key_lives_in_the_session_and_never_shows(served: RestServer, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GA4_API_ENDPOINT", served.endpoint)
    _, info = fake_service_account(tmp_path)
    at = AppTest.from_function(panel_script, default_timeout=60)
    at.run()
    assert not at.exception
    assert any("upload the service account's JSON key" in plain(c.value) for c in at.caption)  # not configured yet
    at.session_state["ga4_key_info"] = info  # what the uploader stores after checking the file
    at.run()
    served.backend.script("RunReport", Fault.forbidden())
    pull(at)
    assert not at.exception
    assert "Viewer" in plain(at.error[0].value)
    assert all(h.get("authorization", "").startswith("Bearer ey") for h in served.headers)
    shown = texts(at)
    for secret in (info["client_email"], info["private_key_id"], info["private_key"][40:80]):
        assert secret not in shown
    served.backend.script("RunReport")
    pull(at)
    traffic: pl.DataFrame = at.session_state["session_tables"]["traffic"]
    assert traffic.filter(pl.col("ga4_channel_group") == "Email")["sessions"].sum() == sum(
        r["sessions"] for r in traffic_rows() if r["sessionDefaultChannelGroup"] == "Email")
    assert PROPERTY in plain(at.success[0].value)


def test_connection_runs_a_cached_funnel(served: RestServer) -> None:
    def script() -> None:
        from datetime import date

        import streamlit as st

        from kpi.sources.ga4 import FunnelStepSpec
        from ui.ga4 import GA4Connection

        conn = st.connection("ga4", type=GA4Connection)
        steps = (FunnelStepSpec("Pricing", page_path="/pricing"), FunnelStepSpec("Lead", event="generate_lead"))
        frame = conn.funnel("123456", steps, date(2025, 3, 1), date(2025, 3, 3))
        st.session_state["users"] = frame["users"].to_list()

    at = AppTest.from_function(script, default_timeout=60)
    at.secrets["connections"] = {"ga4": {"api_endpoint": served.endpoint, "anonymous": True}}
    at.run()
    at.run()
    assert not at.exception
    # By hand (conftest.JOURNEYS): /pricing by u1, u2, u3, u5; generate_lead after it only by u1.
    assert at.session_state["users"] == [4, 1]
    assert served.backend.count("RunFunnelReport") == 1  # the second run came from the cache


def test_unreadable_key_file_is_named_in_the_chosen_language(tmp_path: Path) -> None:
    key_file = tmp_path / "key.json"
    key_file.write_text("not json", encoding="utf-8")
    at = AppTest.from_function(panel_script, default_timeout=60)
    at.secrets["connections"] = {"ga4": {"key_file": str(key_file)}}
    at.query_params["lang"] = "ru"
    at.run()
    assert not at.exception
    assert [plain(e.value) for e in at.error] == [
        "Файл ключа, указанный в [connections.ga4] key_file, не читается как JSON."]
    assert not at.selectbox  # nothing to pick without working credentials


def test_uploaded_file_that_is_not_a_key_gets_a_swedish_notice() -> None:
    at = AppTest.from_function(panel_script, default_timeout=60)
    at.query_params["lang"] = "sv"
    at.run()
    assert at.file_uploader(key="ga4_key_upload").label == "Nyckel för tjänstekonto (JSON)"
    at.file_uploader(key="ga4_key_upload").upload("nyckel.json", b"{not json")
    at.run()
    assert not at.exception
    assert plain(at.error[0].value).startswith("nyckel.json är ingen JSON-nyckelfil. Ladda ner nyckeln igen")
    assert "ga4_key_info" not in at.session_state
