"""The KPI page in AppTest: the demo's scorecards, building a two-level tree through the form in a fresh
workspace and watching a target give it a status, refusals that save nothing (bad formula, a cycle),
the history of a target change, a template with its suggested targets, and who may edit.

Numbers are counted independently from the same tables with polars (leads created, deals won in the
quarter so far), never read back from the page's own engine calls.
"""

from __future__ import annotations

import os
from datetime import date, datetime, timedelta

import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from kpi.sources.demo import generate
from kpi.store import Store
from kpi.targets import target_period
from tests.app.conftest import APP, open_page

PAGE = "app_pages/kpis.py"
TODAY = date.today()
QUARTER = f"{TODAY.year}-Q{(TODAY.month - 1) // 3 + 1}"


def store() -> Store:
    return Store(os.environ["KPI_DATA_DIR"])


@pytest.fixture(scope="module")
def small() -> dict[str, pl.DataFrame]:
    """A tenth of the demo's data (two years up to today), without its KPI tree."""
    tables = generate(today=TODAY, scale=0.1)
    return {name: tables[name] for name in ("leads", "spend", "traffic")}


def workspace(name: str, tables: dict[str, pl.DataFrame]) -> str:
    created = store().create_workspace(name)
    for table, frame in tables.items():
        store().save(created.id, table, frame, source="test")
    return created.id


def count_between(leads: pl.DataFrame, column: str, start: date, end: date) -> int:
    """Leads whose `column` falls from `start` to `end` (both days included): counted by hand."""
    since, until = datetime.combine(start, datetime.min.time()), datetime.combine(end + timedelta(days=1),
                                                                                 datetime.min.time())
    return leads.filter((pl.col(column) >= since) & (pl.col(column) < until)).height


def badges(app: AppTest) -> list[str]:
    return [m.value for m in app.markdown if "-badge[" in m.value]


def dot(app: AppTest) -> str:
    charts = app.get("graphviz_chart")
    assert charts, "no tree diagram"
    return str(charts[0].proto.spec)


def versions(ws_id: str) -> int:
    return len(store().versions(ws_id, "kpis"))


def add_kpi(app: AppTest, name: str, metric: str = "leads", formula: str = "", parent: str = "",
            target: float | None = None) -> None:
    app.text_input(key="kpi_add_name").set_value(name)
    app.selectbox(key="kpi_add_metric").set_value(metric)
    app.text_input(key="kpi_add_formula").set_value(formula)
    app.selectbox(key="kpi_add_parent").set_value(parent)
    app.number_input(key="kpi_add_target").set_value(target)
    app.text_input(key="kpi_add_period").set_value(QUARTER)
    app.button(key="kpi_add_submit").click().run()
    assert not app.exception, app.exception


def set_target(app: AppTest, kpi_id: str, target: float) -> None:
    app.selectbox(key="kpi_target_kpi").set_value(kpi_id)
    app.text_input(key="kpi_target_period").set_value(QUARTER)
    app.number_input(key="kpi_target_value").set_value(target)
    app.button(key="kpi_target_submit").click().run()
    assert not app.exception, app.exception


def test_the_demo_shows_a_status_for_every_kpi_with_a_target(app: AppTest,
                                                             demo_tables: dict[str, pl.DataFrame]) -> None:
    open_page(app, PAGE)
    kpis = store().load("demo", "kpis")
    current = kpis.filter(pl.col("period").is_not_null()).filter(
        pl.col("period").map_elements(lambda p: target_period(p).start <= TODAY <= target_period(p).end,
                                      return_dtype=pl.Boolean))
    names = current["name"].unique().to_list()
    assert names, "the demo has targets for the current quarter"
    cards = {m.label: m.value for m in app.metric}
    assert sorted(cards) == sorted(names)
    statuses = badges(app)
    assert len(statuses) == len(names)
    assert all(any(s in b for s in ("[On track]", "[At risk]", "[Off track]")) for b in statuses)
    # the value of two count KPIs over the quarter so far, counted by hand in the same tables
    start = target_period(QUARTER).start
    leads = demo_tables["leads"]
    assert cards["New leads"] == f"{count_between(leads, 'created_at', start, TODAY):,}"
    assert cards["Won deals"] == f"{count_between(leads, 'won_at', start, TODAY):,}"
    assert "ETS" in " ".join(c.value for c in app.caption)  # the forecast method is stated
    assert "digraph" in dot(app) and '"kpi_won" -> ' in dot(app)


def test_a_two_level_tree_built_with_the_form_gets_a_status_from_its_target(
        app: AppTest, small: dict[str, pl.DataFrame]) -> None:
    ws_id = workspace("KPI tree AT", small)
    app.query_params["ws"] = ws_id
    open_page(app, PAGE)
    assert any("no KPIs yet" in i.value for i in app.info)

    add_kpi(app, "Revenue goal", metric="revenue")
    assert any("Added “Revenue goal”" in s.value for s in app.success)
    assert app.text_input(key="kpi_add_name").value == ""  # the form starts afresh for the next KPI
    add_kpi(app, "New leads", metric="leads", parent="kpi_revenue_goal")
    saved = store().load(ws_id, "kpis")
    assert saved.select("kpi_id", "parent").rows() == [("kpi_revenue_goal", None),
                                                       ("kpi_new_leads", "kpi_revenue_goal")]
    assert '"kpi_revenue_goal" -> "kpi_new_leads"' in dot(app)
    assert len(app.metric) == 0 and not badges(app)  # no target, no scorecard and no status
    assert dot(app).count("No target") == 2

    leads_so_far = count_between(small["leads"], "created_at", target_period(QUARTER).start, TODAY)
    assert leads_so_far > 0
    set_target(app, "kpi_new_leads", 1.0)  # far below what the quarter already has: on track
    assert [m.label for m in app.metric] == ["New leads"]
    assert app.metric[0].value == f"{leads_so_far:,}"
    assert badges(app) == [":green-badge[On track]"]
    assert any(m.value.startswith("Forecast ") and "against a target of 1:" in m.value for m in app.markdown)
    assert "On track" in dot(app) and dot(app).count("No target") == 1
    assert versions(ws_id) == 3


def test_a_changed_target_changes_the_status_and_shows_in_the_history(
        app: AppTest, small: dict[str, pl.DataFrame]) -> None:
    ws_id = workspace("KPI history AT", small)
    app.query_params["ws"] = ws_id
    open_page(app, PAGE)
    add_kpi(app, "New leads", metric="leads", target=1.0)
    assert badges(app) == [":green-badge[On track]"]
    leads_so_far = count_between(small["leads"], "created_at", target_period(QUARTER).start, TODAY)
    set_target(app, "kpi_new_leads", float(100 * leads_so_far))  # a hundred times what it has: off track
    assert badges(app) == [":red-badge[Off track]"]
    assert any("below the 90% critical line" in m.value for m in app.markdown)

    history = pl.from_pandas(next(d.value for d in app.dataframe if "before" in d.value.columns))
    assert history.select("kpi", "period", "before", "after").rows() == [
        ("New leads", QUARTER, 1.0, float(100 * leads_so_far)),  # newest first
        ("New leads", QUARTER, None, 1.0)]  # the target was added: nothing before


def test_a_bad_formula_or_a_cycle_is_refused_and_saves_nothing(app: AppTest,
                                                                small: dict[str, pl.DataFrame]) -> None:
    ws_id = workspace("KPI refusals AT", small)
    app.query_params["ws"] = ws_id
    open_page(app, PAGE)
    add_kpi(app, "Goal", metric="revenue")
    assert versions(ws_id) == 1

    add_kpi(app, "Margin", formula="(revenue - - * spend", parent="kpi_goal")
    assert any("Nothing was saved" in e.value and "is not a formula" in e.value for e in app.error)
    add_kpi(app, "Margin", formula="revenue / spendd", parent="kpi_goal")
    assert any("Nothing was saved" in e.value and "'spendd'" in e.value for e in app.error)
    assert versions(ws_id) == 1
    assert app.text_input(key="kpi_add_formula").value == "revenue / spendd"  # kept to be corrected

    # a tree saved elsewhere (an upload, the command line) that goes round in a circle
    loop = pl.DataFrame({"kpi_id": ["a", "b"], "name": ["A", "B"], "metric": ["leads", "mql"], "parent": ["b", "a"]})
    store().save(ws_id, "kpis", loop, source="test")
    app.run()
    assert any("go round in a circle" in e.value for e in app.error)
    assert any("problems (listed above)" in w.value for w in app.warning)
    app.button(key="kpi_save_tables").click().run()
    assert any("Nothing was saved" in e.value and "a → b → a" in e.value for e in app.error)
    assert versions(ws_id) == 2


def test_a_template_adds_its_kpis_with_targets_from_last_year(app: AppTest,
                                                              small: dict[str, pl.DataFrame]) -> None:
    ws_id = workspace("KPI template AT", small)
    app.query_params["ws"] = ws_id
    open_page(app, PAGE)
    app.selectbox(key="kpi_template").set_value("funnel").run()
    app.text_input(key="kpi_template_period").set_value(QUARTER)
    app.number_input(key="kpi_template_uplift").set_value(10).run()
    app.button(key="kpi_template_add").click().run()
    assert not app.exception, app.exception
    saved = store().load(ws_id, "kpis")
    goal = saved.filter(pl.col("kpi_id") == "funnel_won")
    assert goal.height == 1 and goal["parent"][0] is None
    # leads created in the same quarter last year, counted by hand, plus the 10 % stretch
    quarter = target_period(QUARTER)
    last_year = count_between(small["leads"], "created_at", quarter.start.replace(year=TODAY.year - 1),
                              quarter.end.replace(year=TODAY.year - 1))
    target = saved.filter((pl.col("kpi_id") == "funnel_leads") & (pl.col("period") == QUARTER))["target"]
    assert target.to_list() == pytest.approx([last_year * 1.1])
    assert any("Added" in s.value and "Conversion funnel" in s.value for s in app.success)

    assert app.button(key="kpi_template_add").disabled  # every KPI of the template is in the tree now
    assert versions(ws_id) == 1


def test_editing_is_offered_only_where_it_can_be_saved(app: AppTest, small: dict[str, pl.DataFrame]) -> None:
    app.session_state["session_tables"] = {"leads": small["leads"].head(50)}
    app.query_params["ws"] = "session"
    open_page(app, PAGE)
    assert any("save the workspace first" in i.value for i in app.info)
    assert not [b for b in app.button if b.key == "kpi_add_submit"]

    token = store().create_view("demo", "kpis", {})
    shared = AppTest.from_file(APP, default_timeout=120)  # a shared, read-only link
    shared.query_params["view"] = token
    shared.run()
    assert not shared.exception, shared.exception
    labels = [tab.label for tab in shared.tabs]
    assert "Scorecards" in labels and "Edit" not in labels and "Templates" not in labels
    assert not [b for b in shared.button if b.key in ("kpi_add_submit", "kpi_save_tables")]
    assert shared.metric.len > 0
