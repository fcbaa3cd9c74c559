"""The Event funnels page: the hand-made journeys of tests/unit/test_journeys.py uploaded and read on screen in
three languages, the funnel kept in the address and in share links, a filter the events cannot answer, saved
funnels, and a workspace without events.

First week of November 2026: u1, u2, u3 and L9 land; u1, u2 and L9 view pricing; u1 and L9 submit the form
-> 4, 3, 2 (50 %). Median page -> pricing 300 s, pricing -> submit 180 s: 480 s to convert, "8 minutes".
Only L9 is a lead: the lead row holds 1.
"""

from __future__ import annotations

import json
import uuid

import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from kpi.journeys import EventQuestion, saved_funnels
from tests.app.conftest import APP, metric, open_page, plain, use_uploads
from tests.unit.test_journeys import EVENTS, LEADS
from ui.workspace import store

PAGE = "pages/events.py"
WEEK = ("2026-11-02", "2026-11-08")
TABLES = {"leads": LEADS, "events": EVENTS}


def _steps(app: AppTest) -> pl.DataFrame:
    return pl.from_pandas(app.dataframe[0].value)


@pytest.mark.parametrize(("lang", "cards"), [
    ("en", ("Entered the funnel", "Reached the last step", "Conversion", "Median time to convert", "50.00%",
            "8 minutes")),
    ("sv", ("Gick in i tratten", "Nådde sista steget", "Konvertering", "Mediantid till konvertering", "50,00\u00a0%",
            "8 minuter")),
    ("ru", ("Вошли в воронку", "Дошли до последнего шага", "Конверсия", "Медианное время до конверсии", "50,00\u00a0%",
            "8 минут")),
])
def test_the_hand_worked_funnel_in_three_languages(app: AppTest, lang: str, cards: tuple[str, ...]) -> None:
    use_uploads(app, TABLES, WEEK, lang=lang, compare="none")
    open_page(app, PAGE)
    entered, converted, conversion, median, rate, time = cards
    assert metric(app, entered) == "4" and metric(app, converted) == "2"
    assert metric(app, conversion) == rate and metric(app, median) == time
    steps = _steps(app)
    assert steps.to_series(1).to_list() == [4, 3, 2]  # the count column, whatever its heading
    persons = pl.from_pandas(app.dataframe[-1].value)
    assert sorted(persons.to_series(0).to_list()) == ["L9", "u1", "u2", "u3"]
    assert not app.warning


def test_the_lead_row_continues_with_the_converters_who_are_leads(app: AppTest) -> None:
    use_uploads(app, TABLES, WEEK)
    open_page(app, PAGE)
    note = next(plain(c.value) for c in app.caption if "are leads in the CRM" in plain(c.value))
    assert "“3. form_submit”" in note
    assert not [i for i in app.info if "None of the persons" in plain(i.value)]


def test_the_funnel_comes_from_the_link_and_goes_back_into_it(app: AppTest) -> None:
    # page_view -> pricing_view in 30 minutes: u1 (5 min) and L9 (2 min) make it, u2 (60 min) does not
    linked = EventQuestion(("page_view", "pricing_view"), window="30m").encode()
    use_uploads(app, TABLES, WEEK, funnel=linked)
    open_page(app, PAGE)
    assert metric(app, "Entered the funnel") == "4" and metric(app, "Reached the last step") == "2"
    assert app.number_input(key="ev_window_n").value == 30
    # two hours let u2 in too; the address carries the new window
    app.selectbox(key="ev_window_unit.en").set_value("hour").run()
    app.number_input(key="ev_window_n").set_value(2).run()
    assert metric(app, "Reached the last step") == "3"
    assert json.loads(app.query_params["funnel"])["window"] == "2h"


def test_a_bad_funnel_in_the_link_is_named_and_the_first_funnel_shown(app: AppTest) -> None:
    use_uploads(app, TABLES, WEEK, funnel='{"steps": [["page_view"]], "order": "sideways"}')
    open_page(app, PAGE)
    assert any("funnel" in plain(w.value) and "sideways" in plain(w.value) for w in app.warning)
    assert metric(app, "Entered the funnel") == "4"  # page_view -> pricing_view -> form_submit


def test_a_filter_the_events_cannot_answer_is_named(app: AppTest) -> None:
    leads = LEADS.with_columns(pl.Series("segment", ["SMB", "Enterprise"]))
    use_uploads(app, {"leads": leads, "events": EVENTS}, WEEK, segment="SMB")
    open_page(app, PAGE)
    assert any("The web events have no Segment" in plain(i.value) for i in app.info)
    assert not app.metric


def test_a_workspace_without_events_says_where_to_get_them(app: AppTest) -> None:
    use_uploads(app, {"leads": LEADS}, WEEK)
    open_page(app, PAGE)
    assert any("has no web events" in plain(i.value) for i in app.info)


def test_a_funnel_saved_in_the_workspace_opens_again_and_in_a_share_link(app: AppTest) -> None:
    created = store().create_workspace(f"Events AT {uuid.uuid4().hex[:8]}")
    for table, frame in TABLES.items():
        store().save(created.id, table, frame, source="hand-made")
    app.query_params.update({"ws": created.id, "period": "custom", "from": WEEK[0], "to": WEEK[1]})
    open_page(app, PAGE)
    app.selectbox(key="ev_by").set_value("channel").run()
    app.text_input(key="ev_save_name").set_value("By <b>channel</b>").run()
    app.button(key="ev_save").click().run()
    found, _ = saved_funnels(store(), created.id)
    assert list(found) == ["By <b>channel</b>"] and found["By <b>channel</b>"].by == "channel"
    assert any("By <b>channel</b>" in plain(s.value) for s in app.success)  # the name as text, not markup
    app.selectbox(key="ev_by").set_value("").run()
    app.selectbox(key="ev_saved").set_value("By <b>channel</b>").run()  # opening it sets the builder again
    assert app.selectbox(key="ev_by").value == "channel"

    shared = AppTest.from_file(APP, default_timeout=120)
    view = {"period": "custom", "from": WEEK[0], "to": WEEK[1], "funnel": found["By <b>channel</b>"].encode()}
    shared.query_params["view"] = store().create_view(created.id, "events", view)
    shared.run()
    assert not shared.exception, shared.exception
    assert shared.selectbox(key="ev_by").value == "channel"
    assert metric(shared, "Entered the funnel") == "4"
    assert not [b for b in shared.button if b.key == "ev_save"]  # a shared view saves nothing


def test_the_funnel_built_is_still_there_after_another_page(app: AppTest) -> None:
    use_uploads(app, TABLES, WEEK)
    open_page(app, PAGE)
    app.selectbox(key="ev_step_1").set_value("form_submit").run()
    app.number_input(key="ev_window_n").set_value(3).run()
    app.switch_page("pages/funnel.py").run()
    app.switch_page(PAGE).run()
    assert not app.exception, app.exception
    assert app.number_input(key="ev_n").value == 3  # page_view, form_submit, form_submit
    assert [app.selectbox(key=f"ev_step_{k}").value for k in range(2)] == ["page_view", "form_submit"]
    assert app.number_input(key="ev_window_n").value == 3
