"""The KPI page in AppTest: the demo's scorecards (also in Swedish and Russian), building a two-level tree
through the form in a fresh workspace and watching a target give it a status, the form's direction, slice,
cadence, thresholds and rate targets in percent, refusals that save nothing (bad formula, a cycle, a target
whose KPI does not exist in the editors), a KPI the data cannot answer, the history of a target change and
who it shows, a template with its suggested targets, and who may edit.

Numbers are counted independently from the same tables with polars (leads created, deals won in the
quarter so far), never read back from the page's own engine calls.
"""

from __future__ import annotations

import os
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from kpi import clock
from kpi.metrics import catalog
from kpi.scorecard import Card
from kpi.sources.demo import generate
from kpi.store import Store
from kpi.targets import target_period
from kpi.templates import template
from kpi.tree import Kpi
from tests.app.conftest import APP, open_page, plain
from ui.kpis import note

PAGE = "pages/kpis.py"
TODAY = clock.today()
QUARTER = f"{TODAY.year}-Q{(TODAY.month - 1) // 3 + 1}"
NEXT_YEAR = str(TODAY.year + 1)


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


def open_workspace(app: AppTest, name: str, tables: dict[str, pl.DataFrame]) -> str:
    """A new store workspace `name` of `tables`, opened on the KPI page; its id."""
    ws_id = workspace(name, tables)
    app.query_params["ws"] = ws_id
    open_page(app, PAGE)
    return ws_id


def count_between(leads: pl.DataFrame, column: str, start: date, end: date) -> int:
    """Leads whose `column` falls from `start` to `end` (both days included): counted by hand."""
    since, until = datetime.combine(start, datetime.min.time()), datetime.combine(end + timedelta(days=1),
                                                                                 datetime.min.time())
    return leads.filter((pl.col(column) >= since) & (pl.col(column) < until)).height


def badges(app: AppTest) -> list[str]:
    return [plain(m.value) for m in app.markdown if "-badge[" in m.value]


def dot(app: AppTest) -> str:
    charts = app.get("graphviz_chart")
    assert charts, "no tree diagram"
    return str(charts[0].proto.spec)


def versions(ws_id: str) -> int:
    return len(store().versions(ws_id, "kpis"))


def table(app: AppTest, key: str) -> pl.DataFrame:
    """The table the data editor with widget key `key` shows (before any edit)."""
    found = [d for d in app.data_editor if d.key == key]
    assert found, f"no table '{key}' among {[d.key for d in app.data_editor]}"
    return pl.from_pandas(found[0].value)


def history(app: AppTest) -> pl.DataFrame:
    """The target history table (the one with before and after columns)."""
    found = [d.value for d in app.dataframe if "before" in d.value.columns]
    assert len(found) == 1, "one target history"
    return pl.from_pandas(found[0])


def edit_tables(app: AppTest, ws_id: str, kpis: dict[str, object] | None = None,
                targets: dict[str, object] | None = None) -> None:
    """Edit the "whole tree" tables as a person would in the browser (Streamlit's edit state: edited_rows by
    row position, added_rows, deleted_rows), then press Save."""
    version = store().versions(ws_id, "kpis")[0].id
    empty = {"edited_rows": {}, "added_rows": [], "deleted_rows": []}
    app.session_state[f"kpi_defs_{version}"] = {**empty, **(kpis or {})}
    app.session_state[f"kpi_targets_{version}"] = {**empty, **(targets or {})}
    app.run()
    app.button(key="kpi_save_tables").click().run()
    assert not app.exception, app.exception


def add_kpi(app: AppTest, name: str, metric: str = "leads", formula: str = "", parent: str = "",
            target: float | None = None, **more: object) -> None:
    """Fill in the add form and submit it; `more` sets further fields by their key suffix (filters="...")."""
    app.text_input(key="kpi_add_name").set_value(name)
    app.selectbox(key="kpi_add_metric").set_value(metric)
    app.text_input(key="kpi_add_formula").set_value(formula)
    app.selectbox(key="kpi_add_parent").set_value(parent)
    app.number_input(key="kpi_add_target").set_value(target)
    for field, value in more.items():
        widget = next(w for w in app.get({"direction": "selectbox", "cadence": "selectbox", "warning": "number_input",
                                          "critical": "number_input"}.get(field, "text_input"))
                      if w.key == f"kpi_add_{field}")
        widget.set_value(value)  # type: ignore[attr-defined]
    app.text_input(key="kpi_add_period").set_value(QUARTER)
    app.button(key="kpi_add_submit").click().run()
    assert not app.exception, app.exception


def set_target(app: AppTest, kpi_id: str, target: float, period: str = QUARTER) -> None:
    app.selectbox(key="kpi_target_kpi").set_value(kpi_id)
    app.text_input(key="kpi_target_period").set_value(period)
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
    cards = {plain(m.label): m.value for m in app.metric}
    assert sorted(cards) == sorted(names)
    statuses = badges(app)
    assert len(statuses) == len(names)
    assert all(any(s in b for s in ("[On track]", "[At risk]", "[Off track]")) for b in statuses)
    # the value of two count KPIs over the quarter so far, counted by hand in the same tables
    start = target_period(QUARTER).start
    leads = demo_tables["leads"]
    assert cards["New leads"] == f"{count_between(leads, 'created_at', start, TODAY):,}"
    assert cards["Won deals"] == f"{count_between(leads, 'won_at', start, TODAY):,}"
    assert "ETS" in " ".join(plain(c.value) for c in app.caption)  # the forecast method is stated
    assert "digraph" in dot(app) and '"kpi_won" -> ' in dot(app)


def test_a_two_level_tree_built_with_the_form_gets_a_status_from_its_target(
        app: AppTest, small: dict[str, pl.DataFrame]) -> None:
    ws_id = open_workspace(app, "KPI tree AT", small)
    assert any("no KPIs yet" in plain(i.value) for i in app.info)

    add_kpi(app, "Revenue goal", metric="revenue")
    assert any("Added “Revenue goal”" in plain(s.value) for s in app.success)
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
    assert [plain(m.label) for m in app.metric] == ["New leads"]
    assert app.metric[0].value == f"{leads_so_far:,}"
    assert badges(app) == [":green-badge[On track]"]
    assert any(m.value.startswith("Forecast ") and "against a target of 1:" in plain(m.value) for m in app.markdown)
    assert "On track" in dot(app) and dot(app).count("No target") == 1
    assert versions(ws_id) == 3


def test_a_changed_target_changes_the_status_and_shows_in_the_history(
        app: AppTest, small: dict[str, pl.DataFrame]) -> None:
    open_workspace(app, "KPI history AT", small)
    add_kpi(app, "New leads", metric="leads", target=1.0)
    assert badges(app) == [":green-badge[On track]"]
    leads_so_far = count_between(small["leads"], "created_at", target_period(QUARTER).start, TODAY)
    set_target(app, "kpi_new_leads", float(100 * leads_so_far))  # a hundred times what it has: off track
    assert badges(app) == [":red-badge[Off track]"]
    assert any("below the 90% critical line" in plain(m.value) for m in app.markdown)

    shown = history(app)
    assert shown.select("name", "period", "before", "after").rows() == [
        ("New leads", QUARTER, "1", f"{100 * leads_so_far:,}"),  # newest first
        ("New leads", QUARTER, None, "1")]  # the target was added: nothing before
    assert set(shown["who"]) == {"edited on the KPI page"}  # nobody signed in: the version's source


def test_a_bad_formula_or_a_cycle_is_refused_and_saves_nothing(app: AppTest,
                                                                small: dict[str, pl.DataFrame]) -> None:
    ws_id = open_workspace(app, "KPI refusals AT", small)
    add_kpi(app, "Goal", metric="revenue")
    assert versions(ws_id) == 1

    add_kpi(app, "Margin", formula="(revenue - - * spend", parent="kpi_goal", direction="up")
    assert any("Nothing was saved" in e.value and "is not a formula" in plain(e.value) for e in app.error)
    add_kpi(app, "Margin", formula="revenue / spendd", parent="kpi_goal", direction="up")
    assert any("Nothing was saved" in e.value and "'spendd'" in plain(e.value) for e in app.error)
    assert versions(ws_id) == 1
    assert app.text_input(key="kpi_add_formula").value == "revenue / spendd"  # kept to be corrected

    # a tree saved elsewhere (an upload, the command line) that goes round in a circle
    loop = pl.DataFrame({"kpi_id": ["a", "b"], "name": ["A", "B"], "metric": ["leads", "mql"], "parent": ["b", "a"]})
    store().save(ws_id, "kpis", loop, source="test")
    app.run()
    assert any("go round in a circle" in plain(e.value) for e in app.error)
    assert any("problems (listed above)" in plain(w.value) for w in app.warning)
    app.button(key="kpi_save_tables").click().run()
    assert any("Nothing was saved" in e.value and "a → b → a" in plain(e.value) for e in app.error)
    assert versions(ws_id) == 2


def test_a_template_adds_its_kpis_with_targets_from_last_year(app: AppTest,
                                                              small: dict[str, pl.DataFrame]) -> None:
    ws_id = open_workspace(app, "KPI template AT", small)
    app.selectbox(key="kpi_template").set_value("funnel").run()
    app.text_input(key="kpi_template_period").set_value(QUARTER)
    app.number_input(key="kpi_template_uplift").set_value(10).run()
    # leads created in the same quarter last year, counted by hand, plus the 10 % stretch
    quarter = target_period(QUARTER)
    last_year = count_between(small["leads"], "created_at", quarter.start.replace(year=TODAY.year - 1),
                              quarter.end.replace(year=TODAY.year - 1))
    preview = pl.from_pandas(next(d.value for d in app.dataframe if "already" in d.value.columns))
    suggested = dict(zip(preview["name"], preview["target"], strict=True))
    # a half rounds up on screen (455 leads + 10 % = 500.5 shows as 501)
    assert suggested["Leads"] == f"{(Decimal(last_year) * Decimal('1.1')).quantize(Decimal(1), ROUND_HALF_UP):,}"
    assert suggested["Leads → MQL"].endswith("%")  # a rate's suggestion reads as a percentage
    assert not preview["already"].any()
    assert app.button(key="kpi_template_add").label == f"Add {preview.height} new KPIs to the tree"
    app.button(key="kpi_template_add").click().run()
    assert not app.exception, app.exception
    saved = store().load(ws_id, "kpis")
    goal = saved.filter(pl.col("kpi_id") == "funnel_won")
    assert goal.height == 1 and goal["parent"][0] is None
    target = saved.filter((pl.col("kpi_id") == "funnel_leads") & (pl.col("period") == QUARTER))["target"]
    assert target.to_list() == pytest.approx([last_year * 1.1])
    added = f"Added {saved['kpi_id'].n_unique()} KPIs from “Conversion funnel”"
    assert any(added in plain(s.value) for s in app.success)

    assert app.button(key="kpi_template_add").disabled  # every KPI of the template is in the tree now
    assert versions(ws_id) == 1


def test_a_template_whose_kpis_are_mostly_in_the_tree_adds_the_one_missing(
        app: AppTest, small: dict[str, pl.DataFrame]) -> None:
    ws_id = workspace("KPI template singular AT", small)
    handover = template("handover", store().settings(ws_id))
    store().save(ws_id, "kpis", handover.head(3), source="test")
    app.query_params["ws"] = ws_id
    open_page(app, PAGE)
    app.selectbox(key="kpi_template").set_value("handover").run()
    assert any(c.value == "3 KPIs were already in the tree and are left as they are." for c in app.caption)
    assert app.button(key="kpi_template_add").label == "Add 1 new KPI to the tree"
    app.button(key="kpi_template_add").click().run()
    assert any(s.value.startswith("Added 1 KPI from “Marketing–sales handover”") for s in app.success)
    assert store().load(ws_id, "kpis")["kpi_id"].to_list()[:4] == handover["kpi_id"].to_list()


def test_editing_is_offered_only_where_it_can_be_saved(app: AppTest, small: dict[str, pl.DataFrame]) -> None:
    app.session_state["session_tables"] = {"leads": small["leads"].head(50)}
    app.query_params["ws"] = "session"
    open_page(app, PAGE)
    assert any("save the workspace first" in plain(i.value) for i in app.info)
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


def test_the_whole_tree_editors_refuse_an_orphan_target_by_its_row_and_save_a_valid_edit(
        app: AppTest, small: dict[str, pl.DataFrame]) -> None:
    ws_id = open_workspace(app, "KPI editors AT", small)
    add_kpi(app, "Revenue goal", metric="revenue", target=1000.0)
    set_target(app, "kpi_revenue_goal", 5000.0, NEXT_YEAR)  # the goal has two targets: two rows in the kpis table
    add_kpi(app, "New leads", metric="leads", parent="kpi_revenue_goal", target=10.0)
    assert versions(ws_id) == 3
    # the targets table as shown: one row per target (goal ×2, then New leads)
    assert table(app, f"kpi_targets_{store().versions(ws_id, 'kpis')[0].id}").rows() == [
        ("kpi_revenue_goal", QUARTER, 1000.0), ("kpi_revenue_goal", NEXT_YEAR, 5000.0),
        ("kpi_new_leads", QUARTER, 10.0)]

    # a misspelt kpi_id in a new target (row 4 of the targets table) would vanish in a join: refused by its row
    edit_tables(app, ws_id, targets={"added_rows": [{"kpi_id": "kpi_new_leadz", "period": QUARTER, "target": 5}]})
    refused = [plain(e.value) for e in app.error if "Nothing was saved" in e.value]
    assert refused and "targets.kpi_id" in refused[0] and "'kpi_new_leadz'" in refused[0] and "(rows 4)" in refused[0]
    assert versions(ws_id) == 3
    # a bad metric on New leads: row 2 of the definitions table (row 3 of the joined kpis table)
    edit_tables(app, ws_id, kpis={"edited_rows": {1: {"metric": "leadz"}}})
    refused = [plain(e.value) for e in app.error if "Nothing was saved" in e.value]
    assert refused and "kpis.metric" in refused[0] and "(rows 2)" in refused[0]
    assert versions(ws_id) == 3

    # a valid edit: a rate KPI with its threshold and target typed in percent, and a changed target
    edit_tables(app, ws_id,
                kpis={"added_rows": [{"kpi_id": "kpi_mql_rate", "name": "Lead to MQL", "metric": "lead_to_mql",
                                      "parent": "kpi_new_leads", "warning": 95}]},
                targets={"edited_rows": {2: {"target": 12}},
                         "added_rows": [{"kpi_id": "kpi_mql_rate", "period": QUARTER, "target": 45}]})
    assert any("Saved the KPI tree" in plain(s.value) for s in app.success)
    assert versions(ws_id) == 4
    saved = store().load(ws_id, "kpis")
    rate = saved.filter(pl.col("kpi_id") == "kpi_mql_rate").row(0, named=True)
    assert rate["target"] == pytest.approx(0.45) and rate["warning"] == pytest.approx(0.95)  # fractions in the data
    assert saved.filter(pl.col("kpi_id") == "kpi_new_leads")["target"].to_list() == [12.0]
    assert saved.filter(pl.col("kpi_id") == "kpi_revenue_goal")["target"].to_list() == [1000.0, 5000.0]
    # and the editors show the new version in percent again
    version = store().versions(ws_id, "kpis")[0].id
    assert table(app, f"kpi_targets_{version}").filter(pl.col("kpi_id") == "kpi_mql_rate")["target"].to_list() == [
        pytest.approx(45.0)]
    assert table(app, f"kpi_defs_{version}").filter(pl.col("kpi_id") == "kpi_mql_rate")["warning"].to_list() == [
        pytest.approx(95.0)]

    # saving again without an edit changes no number: percent and back gives the very same fractions
    edit_tables(app, ws_id, targets={"edited_rows": {3: {"target": 12.3}}})
    edit_tables(app, ws_id)
    assert versions(ws_id) == 6
    assert store().load(ws_id, "kpis").filter(pl.col("kpi_id") == "kpi_mql_rate").select("target", "warning").row(0) \
        == (0.123, 0.95)
    assert history(app).filter(pl.col("name") == "Lead to MQL")["after"].to_list() == ["12.3%", "45.0%"]


def test_the_add_form_takes_direction_slice_cadence_thresholds_and_rate_targets_in_percent(
        app: AppTest, small: dict[str, pl.DataFrame]) -> None:
    ws_id = open_workspace(app, "KPI form AT", small)
    add_kpi(app, "Return", formula="(revenue - spend) / spend")  # a formula must say which way is good
    assert any("which way is good" in plain(e.value) for e in app.error)
    assert versions(ws_id) == 0
    add_kpi(app, "Return", formula="(revenue - spend) / spend", direction="up")
    add_kpi(app, "Новые лиды MQL", metric="lead_to_mql", parent="kpi_return", target=45.0, how="CRM lifecycle stage",
            filters="segment=Enterprise", cadence="weekly", warning=95.0, critical=80.0)
    add_kpi(app, "Cost per lead", metric="cpl", parent="kpi_return")  # direction: the metric's own
    saved = store().load(ws_id, "kpis")
    assert saved["kpi_id"].to_list() == ["kpi_return", "kpi_новые_лиды_mql", "kpi_cost_per_lead"]  # Cyrillic kept
    rate = saved.row(1, named=True)
    assert (rate["metric"], rate["direction"], rate["filters"], rate["cadence"], rate["how"], rate["period"]) == (
        "lead_to_mql", "up", "segment=Enterprise", "weekly", "CRM lifecycle stage", QUARTER)
    assert (rate["target"], rate["warning"], rate["critical"]) == pytest.approx((0.45, 0.95, 0.8))
    assert saved.row(0, named=True)["direction"] == "up" and saved.row(2, named=True)["direction"] == "down"
    # the tree shows the rate's target as a percentage
    assert any(f"{QUARTER}: 45.0%" in plain(m.value) for m in app.markdown)


def test_a_kpi_with_a_target_the_data_cannot_answer_says_why_instead_of_a_status(
        app: AppTest, small: dict[str, pl.DataFrame]) -> None:
    ws_id = open_workspace(app, "KPI not available AT", small)
    # spend has no segment: a cost per lead of one segment cannot be measured
    add_kpi(app, "Enterprise CPL", metric="cpl", target=50.0, filters="segment=Enterprise")
    # a segment no lead is in: the rate has nothing to divide
    add_kpi(app, "Nobody's MQL rate", metric="lead_to_mql", target=30.0, filters="segment=Nobody")
    assert versions(ws_id) == 2
    assert any("spend, which has no segment" in plain(w.value) for w in app.warning)  # saved, with the check's warning
    assert sorted(plain(m.label) for m in app.metric) == ["Enterprise CPL", "Nobody's MQL rate"]
    assert sorted(badges(app)) == [":gray-badge[No data]", ":gray-badge[Not available]"]
    reasons = " ".join(plain(m.value) for m in app.markdown)
    assert "Not available: the data cannot answer this KPI on its slice (Segment = Enterprise)" in reasons
    assert "No value: the data has no rows for this KPI's slice (Segment = Nobody)" in reasons


def test_the_overview_note_of_a_card_without_a_value_gives_its_reason() -> None:
    kpi = Kpi("kpi_cpl", "CPL", "cpl", direction="down", targets={QUARTER: 50.0})
    period = target_period(QUARTER)
    card = Card(kpi, None, QUARTER, period, 50.0, None, None, None, None, None, None, "no_data")
    text = note(card, catalog(), "en", "EUR", TODAY)
    assert "No data" in text and "No value: the data has no rows" in text and QUARTER in text


def test_the_page_reads_in_swedish_and_russian(app: AppTest) -> None:
    for lang, heading, tab, status in (("sv", "Nyckeltal", "Resultatkort", ("I fas", "I riskzonen", "Efter plan")),
                                       ("ru", "KPI", "Карточки", ("По плану", "Под угрозой", "Отстаёт от плана"))):
        at = AppTest.from_file(APP, default_timeout=120)
        at.query_params["lang"] = lang
        open_page(at, PAGE)
        assert at.title[0].value == heading
        assert tab in [t.label for t in at.tabs]
        assert badges(at) and all(any(f"[{s}]" in b for s in status) for b in badges(at))
    assert plain(at.caption[0].value).startswith("Каждый KPI считается на своём срезе данных")


def test_the_history_names_who_saved_a_target_but_a_shared_link_shows_only_the_source(
        small: dict[str, pl.DataFrame]) -> None:
    ws_id = workspace("KPI privacy AT", small)
    tree = pl.DataFrame({"kpi_id": ["kpi_leads"], "name": ["Leads"], "metric": ["leads"], "period": [QUARTER],
                         "target": [100.0]})
    store().save(ws_id, "kpis", tree, source="KPI workshop sheet", created_by="anna@example.com")
    store().save(ws_id, "kpis", tree.with_columns(target=pl.lit(120.0)), source="edited on the KPI page",
                 created_by="anna@example.com")
    own = AppTest.from_file(APP, default_timeout=120)
    own.query_params["ws"] = ws_id
    open_page(own, PAGE)
    assert history(own).select("who", "before", "after").rows() == [
        ("anna@example.com", "100", "120"), ("anna@example.com", None, "100")]

    shared = AppTest.from_file(APP, default_timeout=120)
    shared.query_params["view"] = store().create_view(ws_id, "kpis", {})
    shared.run()
    assert not shared.exception, shared.exception
    shown = history(shared)
    assert shown.columns == ["when", "source", "name", "period", "before", "after"]
    assert shown.select("source", "after").rows() == [("edited on the KPI page", "120"),
                                                        ("KPI workshop sheet", "100")]
    assert not any("anna@example.com" in str(e.value) for e in [*shared.dataframe, *shared.markdown, *shared.caption])


def test_a_misspelt_filter_value_is_a_warning_that_names_the_values_there_are(
        app: AppTest, small: dict[str, pl.DataFrame]) -> None:
    ws_id = workspace("KPI filter typo AT", small)
    tree = pl.DataFrame({"kpi_id": ["ent"], "name": ["Enterprise leads"], "metric": ["leads"],
                         "filters": ["segment=Enterprse"]})
    store().save(ws_id, "kpis", tree, source="test")
    app.query_params["ws"] = ws_id
    open_page(app, PAGE)
    assert not app.exception
    segments = sorted(small["leads"]["segment"].unique().to_list())
    warned = [plain(w.value) for w in app.warning
              if "segment=Enterprse, which the data does not have" in plain(w.value)]
    assert len(warned) == 1 and ", ".join(segments) in warned[0]
    assert not app.error  # a warning: the tree is still shown
