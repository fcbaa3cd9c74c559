"""The Review page in AppTest: on the demo every verdict is shown, by initiative or by channel, each with the
numbers that led to it, checked against cost per won deal over mature cohorts worked out with plain polars and
numpy; a threshold changes verdicts; decisions are saved with the workspace and come back as the last review's;
a bad decision saves nothing; shared and session views cannot edit."""

from __future__ import annotations

import math
import os
import re
import uuid
from datetime import datetime, time, timedelta

import numpy as np
import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from kpi import clock
from kpi.period import Period, preset
from kpi.review import DOC_KIND, RULES, VERDICTS, Rules, notes_to_doc, review, review_key
from kpi.settings import Settings, Stage
from kpi.sources.demo import DEMO_SETTINGS, generate
from kpi.store import Store
from tests.app.conftest import APP, open_page, plain, use_uploads
from tests.app.test_overview_app import demo_last_day
from tests.app.test_workspaces_app import AUTH
from tests.unit.test_review import COST, EARLY, MARCH, NOW, RATES, TARGET, Cohort, build
from ui.i18n import plural
from ui.review import change, line

PAGE = "pages/review.py"
LINE = re.compile(r"^\*\*(?P<subject>.+?)\*\*: (?P<reason>.+) → \*\*(?P<action>.+)\*\*$")
ACTIONS = {"stop": "stop", "do less": "less", "do more": "more", "start": "start", "continue": "continue",
           "wait for more data": "wait"}


def store() -> Store:
    return Store(os.environ["KPI_DATA_DIR"])


def conclusions(app: AppTest) -> dict[str, tuple[str, str]]:
    """Subject -> (verdict, reason) as the page shows them."""
    found = {}
    for element in app.markdown:
        match = LINE.match(plain(element.value))
        if match:
            found[plain(match["subject"])] = (ACTIONS[match["action"]], plain(match["reason"]))
    return found


def in_period(frame: pl.DataFrame, column: str, period: Period) -> pl.DataFrame:
    if frame.schema[column] == pl.Date:
        return frame.filter(pl.col(column).is_between(period.start, period.end))
    return frame.filter(pl.col(column).is_between(datetime.combine(period.start, time()),
                                                  datetime.combine(period.end, time.max)))


def mature_cost(tables: dict[str, pl.DataFrame], dimension: str, subject: str,
                period: Period) -> tuple[int, int, float]:
    """(mature leads, their won deals, spend per won deal) of `subject`, by plain polars and numpy: its own
    75th percentile of days from lead to won (numpy's linear interpolation, whole days up), counted back from
    the last lead's day; leads created from four periods back up to that day, and spend on the same days."""
    leads = tables["leads"].filter(pl.col(dimension) == subject)
    won = leads.filter(pl.col("won_at").is_not_null())
    days = ((won["won_at"] - won["created_at"]).dt.total_microseconds() / 86_400e6).to_numpy()
    assert len(days) >= 10  # its own time to won
    as_of = tables["leads"]["created_at"].max().date()  # type: ignore[union-attr]
    end = as_of - timedelta(days=math.ceil(np.quantile(days, 0.75)))
    window = Period(period.start - timedelta(days=3 * period.days), min(end, period.end))
    mature = in_period(leads, "created_at", window)
    spend = in_period(tables["spend"].filter(pl.col(dimension) == subject), "date", window)["spend"].sum()
    n_won = mature["won_at"].is_not_null().sum()
    return mature.height, n_won, spend / n_won


@pytest.fixture
def period(demo_tables: dict[str, pl.DataFrame]) -> Period:
    return preset("last_90_days", demo_last_day(demo_tables))


@pytest.fixture(scope="module")
def review_ws() -> str:
    """A workspace of its own with the demo data, so that saved decisions touch no other test."""
    # a name of its own: under pytest -n each worker that runs this module makes one, in the one data folder
    created = store().create_workspace(f"Review AT {uuid.uuid4().hex[:8]}", settings=DEMO_SETTINGS)
    for name, frame in generate(today=clock.today()).items():
        store().save(created.id, name, frame, source="demo for the review test")
    return created.id


def money(value: float) -> str:
    return f"€{value:,.0f}" if value >= 1000 else f"€{value:,.2f}"


def test_the_demo_shows_every_verdict_with_its_numbers(app: AppTest, demo_tables: dict[str, pl.DataFrame],
                                                      period: Period) -> None:
    by_initiative = conclusions(open_page(app, PAGE))
    active = (set(in_period(demo_tables["leads"], "created_at", period)["initiative"])
              | set(in_period(demo_tables["spend"], "date", period)["initiative"]))
    # every initiative active in the period, and Review Sites, stopped eight months ago, worth starting again
    assert set(by_initiative) == active | {"Review Sites"} and "Review Sites" not in active
    assert any(c.value.startswith("Target CAC €") and "Customer acquisition cost" in plain(c.value)
               for c in app.caption)
    app.get("button_group")[0].set_value("channel").run()
    assert not app.exception
    by_channel = conclusions(app)
    assert set(by_channel) == set(in_period(demo_tables["leads"], "created_at", period)["channel"])
    shown = {**{("initiative", s): v for s, v in by_initiative.items()},
             **{("channel", s): v for s, v in by_channel.items()}}
    assert {v for v, _ in shown.values()} == set(VERDICTS)

    # each cost verdict's sentence carries the cost per won deal of mature cohorts, worked out independently
    checked = set()
    for (dimension, subject), (verdict, reason) in shown.items():
        if verdict in ("stop", "less", "more") and "per won deal" in reason and "spent" not in reason:
            leads, won, cost = mature_cost(demo_tables, dimension, subject, period)
            assert f"over the {leads:,} leads old enough to judge" in reason, (subject, reason)
            assert f"{money(cost)} per won deal ({won} won)" in reason, (subject, reason)
            checked.add(verdict)
    assert checked == {"stop", "less", "more"}
    # the start again and the wait say why
    assert by_initiative["Review Sites"][1].startswith("no spend this period, but in the same period last year it won")
    assert by_initiative["AI Assistant Launch"] == ("wait", by_initiative["AI Assistant Launch"][1])
    assert by_initiative["AI Assistant Launch"][1].startswith("0 leads are old enough to judge on won deals")
    # no rate is said to change when it looks the same
    for _verdict, reason in shown.values():
        for before, after in re.findall(r"(?:rose|fell) from ([\d.]+%) to ([\d.]+%)", reason):
            assert before != after, reason


def test_a_threshold_changes_verdicts(app: AppTest) -> None:
    open_page(app, PAGE)
    app.get("button_group")[0].set_value("channel").run()
    stopped = {s for s, (v, _) in conclusions(app).items() if v == "stop"}
    assert stopped
    app.number_input(key="rule.stop_cac_multiple").set_value(50).run()
    assert not app.exception
    after = conclusions(app)
    for subject in stopped:  # far above the target still, but no longer 50 times it: do less
        assert after[subject][0] == "less" and "(do less from €" in after[subject][1]
    app.number_input(key="rule.target_cac").set_value(100_000).run()
    assert any(plain(c.value) == "Target CAC €100,000, as set in the thresholds." for c in app.caption)
    assert not {s for s, (v, _) in conclusions(app).items() if v in ("stop", "less")} & stopped


def test_no_cost_channels_are_judged_on_rates(app: AppTest) -> None:
    open_page(app, PAGE)
    app.get("button_group")[0].set_value("channel").run()
    shown = conclusions(app)
    assert {"Email", "Organic & Content"} <= set(shown)
    for channel in ("Email", "Organic & Content"):
        assert shown[channel][1].startswith("no spend this period, judged on rates only")
    paid = shown["Paid Search"][1]  # a paid channel is judged on what it costs
    assert "CPL" in paid or "cost per won" in paid or "per won deal" in paid, paid


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
    assert [plain(s.value) for s in app.success] == [f"Saved 1 decision for {last_month.start:%B %Y}."]
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
    assert any(f"Last review ({month})" in plain(m.value) for m in later.markdown)
    assert any(plain(m.value).startswith(f"**{subjects[1]}**") and "Move 20 % to webinars (Åsa," in plain(m.value)
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
    errors = [plain(e.value) for e in app.error]
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
    assert any("read-only" in plain(c.value) for c in app.caption)


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
    assert any("these uploads are not saved yet" in plain(i.value) for i in app.info)
    assert not [d for d in app.dataframe if d.editing_mode != "read_only"]


def test_swedish(app: AppTest) -> None:
    app.query_params["lang"] = "sv"
    open_page(app, PAGE)
    assert app.title[0].value == "Uppföljning"
    assert any(s.value.startswith("Gör mer (") for s in app.subheader)
    assert any("→ **gör mer**" in plain(m.value) for m in app.markdown)


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
    assert any("Save them on the Workspaces & links page" in plain(i.value) for i in app.info)


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
    assert any("no qualified stage (MQL)" in plain(c.value) for c in app.caption)
    shown = conclusions(app)
    assert set(shown) == {"Paid Search", "Display"}
    # the one won deal took 19 days, so no lead of 1–3 March is old enough to judge on won deals yet
    assert shown["Display"] == ("wait", "0 leads are old enough to judge on won deals (created by 13 Feb 2024; "
                                        "a deal takes up to 19 days, p75), fewer than 30; so far 1 leads for €900.00 "
                                        "(CPL €900.00), no qualified stage")


def test_the_saved_message_agrees_with_the_count() -> None:
    assert [plural("review.saved", n, "en", period="May 2026") for n in (1, 3)] == [
        "Saved 1 decision for May 2026.", "Saved 3 decisions for May 2026."]
    assert [plural("review.saved", n, "ru", period="май 2026") for n in (1, 3, 5, 11, 21)] == [
        "Сохранено 1 решение за май 2026.", "Сохранено 3 решения за май 2026.", "Сохранено 5 решений за май 2026.",
        "Сохранено 11 решений за май 2026.", "Сохранено 21 решение за май 2026."]


def test_a_rate_change_is_only_called_one_when_it_shows() -> None:
    assert change(0.4172, 0.4168, "en") == "held at 41.7%"  # the "fell from 41.7% to 41.7%"
    assert change(0.4172, 0.4168, "en", significant=True) == "fell from 41.72% to 41.68%"
    assert change(0.40, 0.45, "en") == "rose from 40.0% to 45.0%"
    assert change(0.45, 0.40, "sv") == "föll från 45,0\xa0% till 40,0\xa0%"  # Swedish and Russian: a space before %
    assert change(None, 0.45, "ru") == "45,0\xa0%"


def test_a_line_shows_names_and_amounts_as_text() -> None:
    # a campaign name with markup and a dollar amount (two '$' would otherwise start maths)
    row = {"subject": "![x](http://evil) :red[$1]", "verdict": "stop", "rule": "stop_no_mql", "spend": 1200.0,
           "spend_share": 0.5, "leads": 0, "expected_mql": 0.0}
    row |= dict.fromkeys(("cpl", "median_cpl", "cpl_multiple", "mql_rate", "median_mql_rate", "best_cac", "budget",
                          "target_cac", "cac_multiple", "mature_cac", "mature_won", "mature_leads",
                          "mature_opportunities", "mature_spend", "mature_lead_to_won", "all_lead_to_won",
                          "mature_roas", "expected_won", "maturity_days", "mature_start", "mature_end",
                          "mql_rate_z", "mql_rate_before"))
    row["mql_falling"] = False
    text = line(row, Rules(), "en", "USD")
    assert text.startswith(r"**\!\[x\]\(http\:")  # escaped: no image, no link, no colour
    assert plain(text) == "**![x](http://evil) :red[$1]**: US$1,200 spent (50.0% of all spend; meaningful from " \
                             "2.0%) and not one lead → **stop**"
    assert "$1" not in text.replace(r"\$1", "")  # every dollar sign escaped


def test_every_rule_reads_in_every_language() -> None:
    frames = [review(build(COST), "initiative", MARCH, TARGET, budgets={"A": 2000}),
              review(build(COST), "initiative", MARCH, TARGET), review(build(EARLY), "initiative", MARCH, TARGET),
              review(build(RATES, "channel"), "channel", MARCH, Rules(target_cac=300)),
              # 20 leads and no MQL, where 20 x the median .2 = 4 were expected
              review(build([Cohort("Q", NOW, 5000, 20, 0), Cohort("R", NOW, 1000, 40, 16)]), "initiative", MARCH),
              review({"leads": build(RATES, "channel")["leads"].drop("won_at")}, "channel", MARCH)]
    seen = set()
    for frame in frames:
        for row in frame.iter_rows(named=True):
            seen.add(row["rule"])
            for lang in ("en", "sv", "ru"):
                text = plain(line(row, TARGET, lang, "EUR"))
                assert text.startswith(f"**{row['subject']}**: ") and "{" not in text and "None" not in text, text
    assert seen == {r.id for r in RULES}
