"""The Review page in AppTest: a verdict for each initiative of the demo, checked against cost per won deal
worked out with plain polars and numpy; a threshold changes verdicts; decisions are saved with the workspace
and come back as the last review's; a bad decision saves nothing; shared and session views cannot edit."""

from __future__ import annotations

import os
import re
from datetime import datetime, time

import numpy as np
import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from kpi import clock
from kpi.period import Period, preset
from kpi.review import DOC_KIND, notes_to_doc, review_key
from kpi.settings import Settings, Stage
from kpi.sources.demo import DEMO_SETTINGS, generate
from kpi.store import Store
from tests.app.conftest import APP, open_page, use_uploads
from tests.app.test_overview_app import demo_last_day
from tests.app.test_workspaces_app import AUTH
from ui.i18n import plural

PAGE = "app_pages/review.py"
LINE = re.compile(r"^\*\*(?P<subject>.+?)\*\*: (?P<reason>.+) → \*\*(?P<action>.+)\*\*$")
ACTIONS = {"stop": "stop", "do less": "less", "do more": "more", "start again": "start", "continue": "continue"}


def store() -> Store:
    return Store(os.environ["KPI_DATA_DIR"])


def conclusions(app: AppTest) -> dict[str, tuple[str, str]]:
    """Subject -> (verdict, reason) as the page prints them."""
    found = {}
    for element in app.markdown:
        match = LINE.match(element.value)
        if match:
            found[match["subject"]] = (ACTIONS[match["action"]], match["reason"])
    return found


def in_period(frame: pl.DataFrame, column: str, period: Period) -> pl.DataFrame:
    if frame.schema[column] == pl.Date:
        return frame.filter(pl.col(column).is_between(period.start, period.end))
    return frame.filter(pl.col(column).is_between(datetime.combine(period.start, time()),
                                                  datetime.combine(period.end, time.max)))


def best_cac(tables: dict[str, pl.DataFrame], period: Period, quantile: float) -> set[str]:
    """Initiatives whose spend per won deal (leads created in the period that were won) is at or below the
    `quantile` of all initiatives' (numpy's default linear interpolation), by plain polars."""
    won = (in_period(tables["leads"], "created_at", period).filter(pl.col("won_at").is_not_null())
           .group_by("initiative").len("won"))
    spend = in_period(tables["spend"], "date", period).group_by("initiative").agg(pl.col("spend").sum())
    cac = won.join(spend, on="initiative").filter(pl.col("spend") > 0).with_columns(
        (pl.col("spend") / pl.col("won")).alias("cac"))
    limit = np.quantile(cac["cac"].to_numpy(), quantile)
    return set(cac.filter(pl.col("cac") <= limit)["initiative"])


@pytest.fixture
def period(demo_tables: dict[str, pl.DataFrame]) -> Period:
    return preset("last_90_days", demo_last_day(demo_tables))


@pytest.fixture(scope="module")
def review_ws() -> str:
    """A workspace of its own with the demo data, so that saved decisions touch no other test."""
    created = store().create_workspace("Review AT", settings=DEMO_SETTINGS)
    for name, frame in generate(today=clock.today()).items():
        store().save(created.id, name, frame, source="demo for the review test")
    return created.id


def test_every_initiative_gets_a_verdict_with_its_numbers(app: AppTest, demo_tables: dict[str, pl.DataFrame],
                                                          period: Period) -> None:
    shown = conclusions(open_page(app, PAGE))
    active = (set(in_period(demo_tables["leads"], "created_at", period)["initiative"])
              | set(in_period(demo_tables["spend"], "date", period)["initiative"]))
    assert set(shown) == active and len(active) == 8
    stopped = {s for s, (v, _) in shown.items() if v == "stop"}
    assert {s for s, (v, _) in shown.items() if v == "more"} == best_cac(demo_tables, period, 0.25) - stopped
    # the sentence carries the numbers: CPL and its multiple of the median, by plain polars
    leads = in_period(demo_tables["leads"], "created_at", period).group_by("initiative").len("leads")
    spend = in_period(demo_tables["spend"], "date", period).group_by("initiative").agg(pl.col("spend").sum())
    cpl = leads.join(spend, on="initiative").with_columns((pl.col("spend") / pl.col("leads")).alias("cpl"))
    median = float(np.median(cpl["cpl"].to_numpy()))
    for subject, (verdict, reason) in shown.items():
        if verdict == "continue":
            value = cpl.filter(pl.col("initiative") == subject)["cpl"].item()
            assert f"CPL €{value:,.2f} ({value / median:.1f}× the median €{median:,.2f})" in reason
    more = next(reason for verdict, reason in shown.values() if verdict == "more")
    assert "in the best 25% of peers" in more and "no budget is known, so headroom is not checked" in more
    headers = [s.value for s in app.subheader]
    assert f"Do more ({len(best_cac(demo_tables, period, 0.25) - stopped)})" in headers


def test_a_threshold_changes_verdicts(app: AppTest, demo_tables: dict[str, pl.DataFrame], period: Period) -> None:
    before = conclusions(open_page(app, PAGE))
    app.number_input(key="rule.best_quantile").set_value(50).run()
    assert not app.exception
    after = conclusions(app)
    more = {s for s, (v, _) in after.items() if v == "more"}
    assert more == best_cac(demo_tables, period, 0.5) - {s for s, (v, _) in after.items() if v == "stop"}
    assert more > {s for s, (v, _) in before.items() if v == "more"}
    assert all("in the best 50% of peers" in after[s][1] for s in more)


def test_no_cost_channels_are_judged_on_rates(app: AppTest) -> None:
    open_page(app, PAGE)
    app.get("button_group")[0].set_value("channel").run()
    shown = conclusions(app)
    assert {"Email", "Organic & Content"} <= set(shown)
    for channel in ("Email", "Organic & Content"):
        assert shown[channel][1].startswith("no spend this period, judged on rates only")
    assert "CPL" in shown["Paid Search"][1] or "cost per won" in shown["Paid Search"][1]


def test_a_conclusion_opens_campaigns_filtered_to_it(app: AppTest) -> None:
    app.query_params["period"] = "last_month"
    open_page(app, PAGE)
    subject = next(iter(conclusions(app)))
    app.button(key=f"open.{subject}").click().run()
    assert not app.exception
    assert app.title[0].value == "Campaigns & initiatives"
    # the same period and the subject's filter in the address, so the view survives a reload
    assert app.query_params["initiative"] == subject and app.query_params["period"] == "last_month"
    assert app.session_state["initiative"] == [subject]
    shown = pl.from_pandas(app.dataframe[0].value)
    assert shown["initiative"].to_list() == [subject]


def saved_doc(ws: str, period: Period) -> object:
    return store().get_doc(ws, DOC_KIND, review_key("initiative", period))


def editor_subjects(app: AppTest) -> list[str]:
    editor = app.dataframe[-1]
    assert editor.editing_mode == "fixed"
    return list(editor.value["subject"])


def test_a_saved_decision_is_the_next_reviews_starting_point(review_ws: str,
                                                              demo_tables: dict[str, pl.DataFrame]) -> None:
    last_month = preset("last_month", demo_last_day(demo_tables))
    app = AppTest.from_file(APP, default_timeout=120)
    app.query_params.update({"ws": review_ws, "period": "last_month"})
    open_page(app, PAGE)
    assert any(c.value.startswith(f"This is the review of {last_month.start:%B %Y}:") for c in app.caption)
    subjects = editor_subjects(app)
    app.session_state["review_notes"] = {"edited_rows": {1: {"decision": "Move 20 % to webinars", "owner": "Åsa",
                                                             "budget": 1_000_000.0}},
                                         "added_rows": [], "deleted_rows": []}
    app.button(key="review_save").click().run()
    assert not app.exception
    assert [s.value for s in app.success] == [f"Saved 1 decision for {last_month.start:%B %Y}."]
    doc = saved_doc(review_ws, last_month)
    assert isinstance(doc, dict)
    assert [(n["subject"], n["decision"], n["owner"]) for n in doc["notes"]] == [
        (subjects[1], "Move 20 % to webinars", "Åsa")]
    assert doc["budgets"] == {subjects[1]: 1_000_000.0}

    # reopened on the month after: last month's decision is where this review starts
    later = AppTest.from_file(APP, default_timeout=120)
    later.query_params.update({"ws": review_ws, "period": "this_month"})
    open_page(later, PAGE)
    month = last_month.start.strftime("%B %Y")
    assert any(f"Last review ({month})" in m.value for m in later.markdown)
    assert any(m.value.startswith(f"**{subjects[1]}**") and "Move 20 % to webinars (Åsa," in m.value
               for m in later.markdown)

    # reopened on the same month: the table holds what was saved
    again = AppTest.from_file(APP, default_timeout=120)
    again.query_params.update({"ws": review_ws, "period": "last_month"})
    open_page(again, PAGE)
    table = again.dataframe[-1].value
    assert table.loc[table["subject"] == subjects[1], "owner"].item() == "Åsa"


def test_a_decision_without_owner_saves_nothing(review_ws: str, demo_tables: dict[str, pl.DataFrame]) -> None:
    app = AppTest.from_file(APP, default_timeout=120)
    app.query_params.update({"ws": review_ws, "period": "last_30_days"})
    open_page(app, PAGE)
    subjects = editor_subjects(app)
    app.session_state["review_notes"] = {"edited_rows": {0: {"decision": "Pause it", "owner": " "}},
                                         "added_rows": [], "deleted_rows": []}
    app.button(key="review_save").click().run()
    assert not app.exception
    errors = [e.value for e in app.error]
    assert errors == [f"Nothing was saved: note 1 ({subjects[0]}): owner is empty; say who owns the decision"]
    assert saved_doc(review_ws, preset("last_30_days", demo_last_day(demo_tables))) is None


def test_a_shared_view_shows_decisions_read_only(review_ws: str, demo_tables: dict[str, pl.DataFrame]) -> None:
    period = preset("last_12_months", demo_last_day(demo_tables))
    store().put_doc(review_ws, DOC_KIND, review_key("initiative", period), notes_to_doc("initiative", period, [
        {"subject": "Retargeting", "verdict": "less", "decision": "Halve it", "owner": "Maria", "date": "2026-03-02"}]))
    token = store().create_view(review_ws, "review", {"period": "last_12_months"})
    app = AppTest.from_file(APP, default_timeout=120)
    app.query_params["view"] = token
    app.run()
    assert not app.exception
    assert app.title[0].value == "Review"
    assert not [d for d in app.dataframe if d.editing_mode != "read_only"]
    assert not [b for b in app.button if b.key == "review_save"]
    shown = pl.from_pandas(app.dataframe[-1].value)
    # the date stays a date under the table (it sorts as one); ui.tables writes it "2 Mar 2026" on screen
    assert shown.row(0) == ("Retargeting", "Do less", "Halve it", "Maria", datetime(2026, 3, 2), "")
    assert any("read-only" in c.value for c in app.caption)


def test_a_signed_out_person_cannot_edit_decisions(review_ws: str) -> None:
    app = AppTest.from_file(APP, default_timeout=120)
    app.secrets["auth"] = AUTH
    app.query_params.update({"ws": review_ws, "period": "last_30_days"})
    open_page(app, PAGE)
    assert conclusions(app)  # the conclusions are there for everyone
    assert not [d for d in app.dataframe if d.editing_mode != "read_only"]
    assert not [b for b in app.button if b.key == "review_save"]


def test_unsaved_uploads_cannot_keep_decisions(app: AppTest) -> None:
    leads = pl.DataFrame({"lead_id": ["a", "b", "c"], "channel": ["Email", "Email", "Meta"],
                          "created_at": [datetime(2024, 3, 1), datetime(2024, 3, 2), datetime(2024, 3, 3)]})
    use_uploads(app, {"leads": leads}, ("2024-03-01", "2024-03-31"))
    open_page(app, PAGE)
    assert set(conclusions(app)) == {"Email", "Meta"}
    assert any("these uploads are not saved yet" in i.value for i in app.info)
    assert not [d for d in app.dataframe if d.editing_mode != "read_only"]


def test_swedish(app: AppTest) -> None:
    app.query_params["lang"] = "sv"
    open_page(app, PAGE)
    assert app.title[0].value == "Uppföljning"
    assert any(s.value.startswith("Gör mer (") for s in app.subheader)
    assert any("→ **gör mer**" in m.value for m in app.markdown)


def test_only_dimensions_spend_also_has_are_offered(app: AppTest) -> None:
    days = [datetime(2024, 3, d) for d in (1, 2, 3)]
    leads = pl.DataFrame({"lead_id": ["a", "b", "c"], "channel": ["Email", "Email", "Meta"],
                          "initiative": ["ABM", "ABM", "Brand"], "created_at": days})
    spend = pl.DataFrame({"date": [d.date() for d in days], "initiative": ["ABM", "Brand", "Brand"],
                          "spend": [100.0, 50.0, 50.0]})
    use_uploads(app, {"leads": leads, "spend": spend}, ("2024-03-01", "2024-03-31"))
    open_page(app, PAGE)
    # spend is not recorded by channel: a review by channel could not judge cost, so it is not offered
    assert app.get("button_group")[0].options == ["Initiative"]
    assert set(conclusions(app)) == {"ABM", "Brand"}
    # the page that keeps uploads is named as the navigation names it
    assert any("Save them on the Workspaces & links page" in i.value for i in app.info)


def test_a_funnel_without_a_qualified_stage_skips_the_mql_rules() -> None:
    two = Settings(stages=(Stage("lead", "Leads", "created_at", "leads"), Stage("won", "Won deals", "won_at")))
    created = store().create_workspace("Review two stages", settings=two)
    # 2024-03: Display spent 900 on one lead and won nothing; Paid Search spent 200 on two leads, one won.
    # CPLs 900 and 100, median 500. With MQL rules Display would be stopped (meaningful spend, no MQL).
    made = [datetime(2024, 3, d) for d in (1, 2, 3)]
    store().save(created.id, "leads", pl.DataFrame({
        "lead_id": ["a", "b", "c"], "created_at": made, "won_at": [datetime(2024, 3, 20), None, None],
        "channel": ["Paid Search", "Paid Search", "Display"]}), source="review test")
    store().save(created.id, "spend", pl.DataFrame({
        "date": [d.date() for d in made], "channel": ["Paid Search", "Paid Search", "Display"],
        "spend": [100.0, 100.0, 900.0]}), source="review test")
    app = AppTest.from_file(APP, default_timeout=120)
    app.query_params.update({"ws": created.id, "period": "custom", "from": "2024-03-01", "to": "2024-03-31"})
    open_page(app, PAGE)
    assert any("no qualified stage (MQL)" in c.value for c in app.caption)
    shown = conclusions(app)
    assert set(shown) == {"Paid Search", "Display"}
    assert shown["Display"][0] == "continue" and "no qualified stage" in shown["Display"][1]
    assert shown["Display"][1].startswith("CPL €900.00 (1.8× the median €500.00), no qualified stage, ")


def test_the_saved_message_agrees_with_the_count() -> None:
    assert [plural("review.saved", n, "en", period="May 2026") for n in (1, 3)] == [
        "Saved 1 decision for May 2026.", "Saved 3 decisions for May 2026."]
    assert [plural("review.saved", n, "ru", period="май 2026") for n in (1, 3, 5, 11, 21)] == [
        "Сохранено 1 решение за май 2026.", "Сохранено 3 решения за май 2026.", "Сохранено 5 решений за май 2026.",
        "Сохранено 11 решений за май 2026.", "Сохранено 21 решение за май 2026."]
