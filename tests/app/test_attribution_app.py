"""The Attribution page: numbers worked by hand on the attribution tests' workspace, the model kept in the
address and in share links, the demo in three languages, and what it says without touches or on a slice.

January 2026 of tests/unit/test_attribution.py's workspace: six leads; by first touch Meta earns 3 (A, D, E),
Email 1 (B), and C and F have no touch before they were created (2 of 6: 33.3 %). Spend in January: Meta 300,
Email 50, so a first-touch lead cost 100 on Meta and 50 on Email.
"""

from __future__ import annotations

import polars as pl
from streamlit.testing.v1 import AppTest

from kpi.period import preset
from tests.app.conftest import APP, metric, open_page, plain, use_uploads
from tests.app.test_overview_app import demo_last_day
from tests.unit.test_attribution import workspace
from ui.workspace import store

PAGE = "pages/attribution.py"
JAN = {"period": "custom", "from": "2026-01-01", "to": "2026-01-31"}


def _saved(name: str, segments: bool = False) -> str:
    created = store().create_workspace(name)
    for table, frame in workspace().items():
        if segments and table == "leads":
            frame = frame.with_columns(segment=pl.Series(["Enterprise", "SMB", "SMB", "Enterprise", "SMB", "SMB"]),
                                       channel=pl.Series(["Meta", "Email", "Email", "Meta", "Meta", "Meta"]))
        store().save(created.id, table, frame, source="hand-made")
    return created.id


def _costs(app: AppTest) -> pl.DataFrame:
    return pl.from_pandas(app.dataframe[0].value)


def test_first_touch_numbers_are_the_hand_worked_ones(app: AppTest) -> None:
    app.query_params.update({"ws": _saved("Attribution AT"), "model": "first", **JAN})
    open_page(app, PAGE)
    assert metric(app, "Conversions credited") == "6"
    assert metric(app, "Without a touch") == "33.3%"
    costs = _costs(app)
    first = dict(zip(costs["channel"], costs["First touch"], strict=True))
    assert first["Meta"] == 100.0 and first["Email"] == 50.0
    assert dict(zip(costs["channel"], costs["spend"], strict=True))["Meta"] == 300.0
    assert app.selectbox(key="model.en").value == "first"
    assert any(c.value == "All credit to the first touch: what brought the person in." for c in app.caption)


def test_the_model_is_kept_in_the_address_and_in_a_share_link(app: AppTest) -> None:
    ws = _saved("Attribution link AT")
    app.query_params.update({"ws": ws, **JAN})
    open_page(app, PAGE)
    assert app.selectbox(key="model.en").value == "linear" and "model" not in app.query_params  # the default
    app.selectbox(key="model.en").set_value("u_shaped").run()
    assert app.query_params["model"] == "u_shaped"

    shared = AppTest.from_file(APP, default_timeout=120)
    shared.query_params["view"] = store().create_view(ws, "attribution", {**JAN, "model": "w_shaped"})
    shared.run()
    assert not shared.exception, shared.exception
    assert shared.selectbox(key="model.en").value == "w_shaped"
    assert any(t.value == "Attribution" for t in shared.title)


def test_an_unknown_model_in_the_address_is_named_and_the_default_shown(app: AppTest) -> None:
    app.query_params.update({"ws": _saved("Attribution bad AT"), "model": "best", **JAN})
    open_page(app, PAGE)
    assert any("model" in plain(w.value) and "best" in plain(w.value) for w in app.warning)
    assert app.selectbox(key="model.en").value == "linear"


def test_a_slice_shows_its_credit_and_says_why_cost_is_missing(app: AppTest) -> None:
    app.query_params.update({"ws": _saved("Attribution slice AT", segments=True), "model": "first",
                             "segment": "Enterprise", **JAN})
    open_page(app, PAGE)
    assert metric(app, "Conversions credited") == "2"  # A and D, both first touched on Meta
    assert any("spend is not recorded per lead" in i.value for i in app.info)
    stages = pl.from_pandas(app.dataframe[0].value)  # the cost table is left out: only the stages
    assert dict(zip(stages["channel"], stages["Leads"], strict=True)) == {"Meta": 2.0}


def test_without_touches_the_page_says_what_to_upload(app: AppTest) -> None:
    use_uploads(app, {"leads": workspace()["leads"]})
    open_page(app, PAGE)
    assert any("Upload a touches file" in i.value for i in app.info)
    assert not app.dataframe


def test_the_demo_credits_every_lead_of_the_period_in_each_language(demo_tables: dict[str, pl.DataFrame]) -> None:
    period = preset("last_90_days", demo_last_day(demo_tables))
    leads = demo_tables["leads"].filter(pl.col("created_at").dt.date().is_between(period.start, period.end)).height
    labels = {"en": ("Conversions credited", f"{leads:,}"), "sv": ("Fördelade konverteringar", f"{leads:,}"),
              "ru": ("Распределено конверсий", f"{leads:,}")}
    for lang, (label, total) in labels.items():
        app = AppTest.from_file(APP, default_timeout=120)
        app.query_params["lang"] = lang
        open_page(app, PAGE)
        shown = next(m.value for m in app.metric if m.label == label)
        assert shown.replace("\xa0", ",") == total, (lang, shown)  # sv and ru group thousands with a space
        assert len(app.get("vega_lite_chart")) == 1 and len(app.dataframe) == 2


def test_a_slice_only_link_credits_every_touch_of_the_slice_s_leads(app: AppTest) -> None:
    """A Meta slice (leads A, D, E, F by their own channel) keeps their e-mail and LinkedIn touches. Last touch
    before creation: A LinkedIn (t3, at creation), D Email (the tie's last row), E Meta, F none."""
    ws = _saved("Attribution slice link AT", segments=True)
    app.query_params["view"] = store().create_view(ws, "attribution", {**JAN, "model": "last", "channel": ["Meta"]},
                                                   slice={"channel": ["Meta"]})
    app.run()
    assert not app.exception, app.exception
    assert metric(app, "Conversions credited") == "4" and metric(app, "Without a touch") == "25.0%"
    stages = pl.from_pandas(app.dataframe[-1].value)
    assert dict(zip(stages["channel"], stages["Leads"], strict=True)) == {
        "LinkedIn": 1.0, "Email": 1.0, "Meta": 1.0, "(no touch)": 1.0}


def test_touches_derived_from_crm_source_fields_are_said_to_be_so(app: AppTest) -> None:
    tables = workspace()
    derived = tables["touches"].with_columns(touch_type=pl.lit("original source (derived)"))
    use_uploads(app, {"leads": tables["leads"], "touches": derived}, period=("2026-01-01", "2026-01-31"))
    open_page(app, PAGE)
    assert any(c.value.startswith("Some touches are derived from source fields") for c in app.caption)
    use_uploads(app, {"leads": tables["leads"], "touches": tables["touches"]}, period=("2026-01-01", "2026-01-31"))
    app.run()
    assert not any(c.value.startswith("Some touches are derived") for c in app.caption)
