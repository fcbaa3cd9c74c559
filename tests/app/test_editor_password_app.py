"""The shared editor password (no [auth]): the editing app asks for it, slows guessing, and share links open
without it; without any sign-in on a server reachable beyond localhost, every editing page says so."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator

import pytest
from streamlit import config
from streamlit.testing.v1 import AppTest

from kpi.access import Throttle
from tests.app.conftest import metric
from tests.unit.handmade import tables
from ui.workspace import store

PASSWORD = "lagom-stark-2026"
EDITOR = {"password_sha256": hashlib.sha256(PASSWORD.encode()).hexdigest()}
OPEN_WARNING = "No sign-in is configured and this server listens beyond localhost"


def _try(app: AppTest, password: str) -> list[str]:
    app.text_input(key="editor_password_input").set_value(password)
    [unlock] = [b for b in app.button if b.label == "Open the app"]
    unlock.click().run()
    assert not app.exception, app.exception
    return [e.value for e in app.error]


def test_editing_app_needs_the_password_and_slows_guessing(app: AppTest) -> None:
    app.secrets["editor"] = EDITOR
    app.run()
    assert not app.exception, app.exception
    assert [t.value for t in app.title] == ["Editor password"]
    assert not app.metric and not [s for s in app.selectbox if s.key == "ws"]  # no data, no workspace names
    for wrong in ("wrong-1", "wrong-2", "wrong-3"):
        [error] = _try(app, wrong)
        assert "Wrong password" in error
    # the fourth try comes at once, with the right password: not even checked, the session must wait ~2 s
    [waiting] = _try(app, PASSWORD)
    assert "wait 2 s" in waiting or "wait 3 s" in waiting
    assert [t.value for t in app.title] == ["Editor password"] and not app.metric
    # a minute later (the wrong tries moved back in time) the right password opens the app
    throttle: Throttle = app.session_state["_editor_throttle"]
    app.session_state["_editor_throttle"] = Throttle(tuple(f - 120 for f in throttle.failures))
    assert _try(app, PASSWORD) == []
    assert metric(app, "Leads")  # the overview of the demo workspace
    assert not [w for w in app.warning if OPEN_WARNING in w.value]  # a password is set: not open


def test_five_wrong_tries_lock_the_session_for_the_minute(app: AppTest) -> None:
    app.secrets["editor"] = EDITOR
    app.run()
    now = time.monotonic()  # the five wrong tries of the last minute, 50 to 10 s ago
    app.session_state["_editor_throttle"] = Throttle(tuple(now - s for s in (50.0, 40.0, 30.0, 20.0, 10.0)))
    [locked] = _try(app, PASSWORD)
    assert "Too many wrong tries" in locked  # locked until the first of the five is a minute old (~10 s)
    assert not app.metric


def test_a_share_link_opens_without_the_password(app: AppTest) -> None:
    created = store().create_workspace("Password link AT")
    for name, frame in tables().items():
        store().save(created.id, name, frame, source="test")
    token = store().create_view(created.id, "overview", {"period": "custom", "from": "2025-01-01",
                                                          "to": "2025-03-31"})
    app.secrets["editor"] = EDITOR
    app.query_params["view"] = token
    app.run()
    assert not app.exception, app.exception
    assert metric(app, "Leads") == "6"
    assert not [t for t in app.title if t.value == "Editor password"]


@pytest.fixture
def address() -> Iterator[None]:
    before = config.get_option("server.address")
    yield
    config.set_option("server.address", before)


@pytest.mark.parametrize("page", ["pages/data.py", "pages/workspaces.py", "pages/kpis.py"])
def test_open_server_is_said_on_editing_pages(app: AppTest, address: None, page: str) -> None:
    config.set_option("server.address", "0.0.0.0")
    app.run()
    app.switch_page(page).run()
    assert not app.exception, app.exception
    assert [w for w in app.warning if OPEN_WARNING in w.value]
    config.set_option("server.address", "127.0.0.1")
    app.run()
    assert not [w for w in app.warning if OPEN_WARNING in w.value]
