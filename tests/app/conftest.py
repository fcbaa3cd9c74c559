"""AppTest helpers: run the real app script headless, in-process."""

from __future__ import annotations

import re

import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from kpi import clock
from kpi.data import prepare
from kpi.sources.demo import DEMO_SETTINGS, generate
from tests.conftest import REPO
from ui.safe import JOINER

APP = str(REPO / "app.py")


@pytest.fixture
def app() -> AppTest:
    return AppTest.from_file(APP, default_timeout=120)


@pytest.fixture(scope="session")
def demo_tables() -> dict[str, pl.DataFrame]:
    """The same demo workspace the app shows today, prepared the same way, for independent checks
    (dimensions back as plain text so the tests' own polars results join with the app's)."""
    prepared = prepare(generate(today=clock.today()), DEMO_SETTINGS)
    return {name: frame.with_columns(pl.col(pl.Categorical).cast(pl.String)) for name, frame in prepared.items()}


def plain(markdown: str) -> str:
    """The text a reader sees of markdown whose values went through `ui.safe.md` (AppTest gives the source)."""
    return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", markdown).replace(JOINER, "")


def metric(at: AppTest, label: str) -> str:
    found = [m.value for m in at.metric if plain(m.label) == label]
    assert found, f"no metric card '{label}' among {[m.label for m in at.metric]}"
    return str(found[0])


def use_uploads(app: AppTest, tables: dict[str, pl.DataFrame], period: tuple[str, str] | None = None,
                **params: str) -> None:
    """Open the app on this session's uploads `tables`, over the custom `period` (first and last day,
    ISO) when given, with any further query parameters."""
    app.session_state["session_tables"] = tables
    if period:
        params |= {"period": "custom", "from": period[0], "to": period[1]}
    app.query_params.update({"ws": "session", **params})


def use_empty_uploads(app: AppTest) -> None:
    """Open the app on this session's uploads: a leads table with no rows."""
    use_uploads(app, {"leads": pl.DataFrame(schema={"lead_id": pl.String, "created_at": pl.Datetime("us")})})


def open_page(app: AppTest, page: str) -> AppTest:
    """Run the app, switch to `page` (as clicking it in the navigation would) and check it rendered."""
    app.run()
    app.switch_page(page).run()
    assert not app.exception, app.exception
    return app


def page_alone(name: str, default_timeout: float = 60) -> AppTest:
    """The page pages/NAME.py on its own, without app.py's sidebar: its `render()` (the file itself, run on its
    own, runs app.py; see ui.navigation)."""
    return AppTest.from_string(f"from pages.{name} import render\n\nrender()\n", default_timeout=default_timeout)
