"""Slice-only share links: whatever the viewer does to the URL or the sidebar, every number is the slice's.

The handmade workspace (tests/unit/handmade.py) over 2025-01-01..2025-03-31: Meta has leads L2, L3, L5 and
spend 100 + 200 + 300 + 310 (the March range row) = 910; Email has L1, L4, L6 and spend 50. The whole
workspace has 6 leads and spend 960.
"""

from __future__ import annotations

import polars as pl
from streamlit.testing.v1 import AppTest

from tests.app.conftest import metric
from tests.unit.handmade import tables
from ui.workspace import store

Q1 = {"period": "custom", "from": "2025-01-01", "to": "2025-03-31"}


def _workspace(name: str) -> str:
    created = store().create_workspace(name)
    for table, frame in tables().items():
        store().save(created.id, table, frame, source="handmade")
    return created.id


def _open(app: AppTest, token: str, **params: str) -> AppTest:
    app.query_params.update({"view": token, **params})
    app.run()
    assert not app.exception, app.exception
    return app


def _numbers(app: AppTest) -> tuple[str, str]:
    return metric(app, "Leads"), metric(app, "Spend")


def test_slice_only_link_stays_in_its_slice(app: AppTest) -> None:
    ws = _workspace("Slice AT")
    token = store().create_view(ws, "overview", {**Q1, "channel": ["Meta"]}, slice={"channel": ["Meta"]})
    # the address edited: another channel, another filter, no filter at all on channel
    _open(app, token, channel="Email", segment="ENT")
    assert metric(app, "Leads") == "3"
    assert "910" in metric(app, "Spend") and "960" not in metric(app, "Spend")
    assert any("shows only this slice: Channel: Meta" in i.value for i in app.info)
    channel = app.multiselect(key="channel")
    assert channel.options == ["Meta"] and channel.value == ["Meta"]  # Email is not even offered
    channel.set_value([]).run()  # the viewer clears the sidebar filter
    assert not app.exception, app.exception
    assert metric(app, "Leads") == "3"
    assert "910" in metric(app, "Spend")
    app.multiselect(key="segment").set_value(["SMB"]).run()  # a further filter narrows within the slice: L3, L5
    assert metric(app, "Leads") == "2"
    app.multiselect(key="segment").set_value([]).run()

    app.switch_page("pages/review.py").run()  # the review leaves out the filter on its own dimension
    assert not app.exception, app.exception
    subjects = [m.value for m in app.markdown if "→" in m.value]
    assert subjects and all("Meta" in s for s in subjects) and not any("Email" in s for s in subjects)


def test_explore_link_lets_viewers_clear_the_filter(app: AppTest) -> None:
    """Today's kind of link, for contrast: the filter is only where it opens."""
    ws = _workspace("Explore AT")
    token = store().create_view(ws, "overview", {**Q1, "channel": ["Meta"]})
    _open(app, token)
    assert metric(app, "Leads") == "3"
    assert any("can explore the whole workspace" in i.value for i in app.info)
    app.multiselect(key="channel").set_value([]).run()
    assert metric(app, "Leads") == "6"
    assert "960" in metric(app, "Spend")


def test_share_dialog_makes_a_slice_only_link(app: AppTest) -> None:
    ws = _workspace("Dialog AT")
    app.query_params.update({"ws": ws, **Q1, "channel": "Meta"})
    app.run()
    app.radio(key="share_scope").set_value("slice").run()
    app.button(key="share_create").click().run()
    assert not app.exception, app.exception
    [view] = store().list_views(ws)
    assert view.slice == {"channel": ["Meta"]}
    assert any("shows only this slice: Channel: Meta" in c.value for c in app.caption)


def test_share_dialog_refuses_a_personal_filter_value(app: AppTest) -> None:
    """A campaign column that holds a person's e-mail (a mis-mapped export): filtering on it works, but a
    link pinning that value is refused with a message naming the filter, and nothing is saved."""
    ws = store().create_workspace("Personal AT")
    handmade = tables()
    handmade["leads"] = handmade["leads"].with_columns(
        pl.when(pl.col("lead_id") == "L1").then(pl.lit("anna@example.se")).otherwise(pl.col("campaign"))
        .alias("campaign"))
    for table, frame in handmade.items():
        store().save(ws.id, table, frame, source="handmade")
    app.query_params.update({"ws": ws.id, **Q1, "campaign": "anna@example.se"})
    app.run()
    assert metric(app, "Leads") == "1"
    app.button(key="share_create").click().run()
    assert not app.exception, app.exception
    assert store().list_views(ws.id) == []
    [error] = [e.value for e in app.error]
    assert "the filter on Campaign holds an e-mail address" in error and "anna@" not in error
