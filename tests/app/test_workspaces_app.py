"""The Workspaces & links page in AppTest: save this session's uploads (replace / append, refusals save
nothing), create, rename and delete with confirmation, revoke a share link; the share dialog's notice."""

from __future__ import annotations

import os
import sqlite3

import polars as pl
from streamlit.testing.v1 import AppTest

from kpi.sources.files import read_file
from kpi.sources.mapping import Mapping, WorkspaceMappings, mapping_record, shape_key
from kpi.store import Store
from tests.app.conftest import APP, metric, open_page, plain
from tests.conftest import REPO
from tests.unit.handmade import tables

PAGE = "pages/workspaces.py"
UPLOADS = REPO / "tests" / "fixtures" / "uploads"


def store() -> Store:
    return Store(os.environ["KPI_DATA_DIR"])


def test_uploads_are_saved_into_a_new_workspace_then_appended(app: AppTest) -> None:
    leads = tables()["leads"]
    app.session_state["session_tables"] = {"leads": leads.head(4)}
    open_page(app, PAGE)
    app.selectbox(key="save_target").set_value("__new__").run()
    app.text_input(key="save_new_name").set_value("Saved uploads AT").run()
    app.button(key="save_uploads").click().run()
    assert not app.exception
    assert any("Saved leads into “Saved uploads AT”" in plain(s.value) for s in app.success)
    ws = next(w for w in store().workspaces() if w.name == "Saved uploads AT")
    assert store().load(ws.id, "leads")["lead_id"].to_list() == ["L1", "L2", "L3", "L4"]

    app.session_state["session_tables"] = {"leads": leads.tail(2)}
    app.run()
    app.selectbox(key="save_target").set_value(ws.id).run()
    app.radio(key="save_mode").set_value("append").run()
    app.button(key="save_uploads").click().run()
    versions = store().versions(ws.id, "leads")
    assert [v.number for v in versions] == [2, 1] and versions[0].rows == 6  # the old version stays


def test_a_refused_save_changes_nothing(app: AppTest) -> None:
    broken = tables()["leads"].with_columns(pl.lit(None, pl.String).alias("lead_id"))
    app.session_state["session_tables"] = {"leads": broken}
    open_page(app, PAGE)
    before = [w.id for w in store().workspaces()]
    app.selectbox(key="save_target").set_value("__new__").run()
    app.text_input(key="save_new_name").set_value("Never created").run()
    app.button(key="save_uploads").click().run()
    assert any("Nothing was saved" in plain(e.value) and "lead_id" in plain(e.value) for e in app.error)
    assert [w.id for w in store().workspaces()] == before


def test_delete_needs_the_workspace_name_typed(app: AppTest) -> None:
    created = store().create_workspace("Rename me AT")
    app.query_params["ws"] = created.id
    open_page(app, PAGE)
    app.text_input(key="delete_confirm").set_value("wrong name").run()
    assert app.button(key="delete_ws").disabled
    app.text_input(key="delete_confirm").set_value("Rename me AT").run()
    assert not app.button(key="delete_ws").disabled
    app.button(key="delete_ws").click().run()
    assert created.id not in [w.id for w in store().workspaces()]


def test_revoking_a_link_on_the_page(app: AppTest) -> None:
    created = store().create_workspace("Links AT")
    for name, frame in tables().items():
        store().save(created.id, name, frame, source="test")
    token = store().create_view(created.id, "overview", {"period": "last_month"})
    app.query_params["ws"] = created.id
    open_page(app, PAGE)
    view_id = store().list_views(created.id)[0].id
    app.button(key=f"revoke_{view_id}").click().run()
    assert store().list_views(created.id)[0].status == "revoked"
    assert any("Sign-in is not configured: anyone with the link can view it." in plain(c.value) for c in app.caption)
    assert token not in str(app.query_params)


AUTH = {"redirect_uri": "http://127.0.0.1:8501/oauth2callback", "cookie_secret": "test-only-not-a-secret",
        "client_id": "test", "client_secret": "test-only",
        "server_metadata_url": "http://127.0.0.1:9/.well-known/openid-configuration"}


def test_with_sign_in_configured_a_signed_out_person_cannot_edit(app: AppTest) -> None:
    created = store().create_workspace("Guarded AT")
    app.secrets["auth"] = AUTH
    app.session_state["session_tables"] = {"leads": tables()["leads"]}
    app.query_params["ws"] = created.id
    open_page(app, PAGE)
    assert any("Only the workspace's editors can change it" in plain(w.value) for w in app.warning)
    assert app.button(key="save_uploads").disabled
    assert not [b for b in app.button if b.key == "delete_ws"]
    # no "create workspace" form for someone signed out (the currency of this session's own uploads is theirs)
    assert [f.proto.form.form_id for f in app.get("form")] == ["currency_settings"]


def test_a_link_that_requires_sign_in_shows_no_data_to_a_signed_out_person(app: AppTest) -> None:
    created = store().create_workspace("Private link AT")
    for name, frame in tables().items():
        store().save(created.id, name, frame, source="test")
    token = store().create_view(created.id, "overview", {"sign_in": True})
    app.secrets["auth"] = AUTH
    app.query_params["view"] = token
    app.run()
    assert any("Sign in to open this shared view" in plain(i.value) for i in app.info)
    assert not app.metric


def test_uploads_in_kronor_stay_in_kronor_once_saved_into_a_new_workspace(app: AppTest) -> None:
    kronor = {name: frame.with_columns(pl.lit("SEK").alias("currency"))
              for name, frame in tables().items() if name in ("leads", "spend")}
    app.session_state["session_tables"] = kronor
    open_page(app, PAGE)
    app.selectbox(key="save_target").set_value("__new__").run()
    app.text_input(key="save_new_name").set_value("Kronor AT").run()
    app.button(key="save_uploads").click().run()
    assert not app.exception
    ws = next(w for w in store().workspaces() if w.name == "Kronor AT")
    assert store().settings(ws.id).currency == "SEK"

    overview = AppTest.from_file(APP, default_timeout=120)
    overview.query_params.update({"ws": ws.id, "period": "custom", "from": "2025-01-01", "to": "2025-03-31"})
    overview.run()
    assert not overview.exception
    # spend in the quarter: 100 + 200 + 300 + 50 (daily) + 310 (March as a range) = 960 kronor
    spend = metric(overview, "Spend")
    assert "960" in spend and "SEK" in spend and "€" not in spend, spend


def test_a_mapping_remembered_with_the_uploads_is_saved_with_them_and_maps_the_next_file(app: AppTest) -> None:
    name = "generic_leads_pipe.txt"
    raw = read_file(UPLOADS / name)
    kundlista = Mapping("leads", {"lead_id": "Kund-ID", "created_at": "Skapad", "amount": "Värde"}, label="Kundlista")
    app.session_state["session_tables"] = {"leads": tables()["leads"].head(2)}
    app.session_state["session_mappings"] = {shape_key(raw.columns): mapping_record(raw.columns, kundlista)}
    open_page(app, PAGE)
    app.selectbox(key="save_target").set_value("__new__").run()
    app.text_input(key="save_new_name").set_value("Mapped AT").run()
    app.button(key="save_uploads").click().run()
    assert not app.exception
    ws = next(w for w in store().workspaces() if w.name == "Mapped AT")
    assert WorkspaceMappings(store(), ws.id).get(raw.columns) == kundlista

    def data_page_with_the_file() -> AppTest:  # a new session on that workspace
        at = AppTest.from_file(APP, default_timeout=120)
        at.query_params["ws"] = ws.id
        open_page(at, "pages/data.py")
        at.file_uploader(key="upload_file").upload(name, raw_bytes)
        at.run()
        assert not at.exception
        return at

    raw_bytes = (UPLOADS / name).read_bytes()
    fresh = data_page_with_the_file()
    preset = fresh.selectbox(key="upload_preset")
    assert preset.value == "auto" and preset.options[0] == "Saved mapping: Kundlista"
    assert metric(fresh, "Accepted") == "3"  # K1, K2, K3

    with sqlite3.connect(store().data_dir / "catalog.sqlite") as db:  # a torn record
        db.execute("UPDATE docs SET body = '{\"columns\": [' WHERE workspace_id = ?", (ws.id,))
    damaged = data_page_with_the_file()
    assert any(f"workspace '{ws.id}'" in w.value and "is damaged" in w.value for w in damaged.warning)
    assert damaged.selectbox(key="upload_preset").value == "custom"  # mapped by hand instead, as for a new file


def test_a_name_with_a_control_character_is_refused_on_the_page(app: AppTest) -> None:
    open_page(app, PAGE)
    before = [w.id for w in store().workspaces()]
    next(i for i in app.text_input if i.label == "Name of the new workspace").set_value("Acme\x00Sales")
    next(b for b in app.button if b.label == "Create workspace").click().run()
    assert not app.exception
    assert any("cannot contain control characters (found U+0000 at character 5)" in plain(e.value) for e in app.error)
    assert [w.id for w in store().workspaces()] == before


def test_the_share_banner_names_the_workspace_and_its_data_day_not_internal_sources(app: AppTest) -> None:
    created = store().create_workspace("Banner AT")
    handmade = tables()
    for name, frame in handmade.items():
        store().save(created.id, name, frame, source="demo generator (seed 7, internal)")
    app.query_params["view"] = store().create_view(created.id, "overview", {"lang": "en"})
    app.run()
    assert not app.exception
    banner = next(plain(i.value) for i in app.info if "Shared view" in i.value)
    last = max(handmade["leads"]["created_at"].max().date(),  # type: ignore[union-attr]
               *(handmade[n][c].max() for n in ("spend", "traffic") if n in handmade  # a range ends on period_end
                 for c in ("date", "period_end") if c in handmade[n].columns))
    saved = max(v.created_at.date() for d in store().datasets(created.id) for v in store().versions(created.id, d))
    assert f"Banner AT, up to {last.day} {last:%b %Y} (saved {saved.day} {saved:%b %Y})" in banner
    assert "generator" not in banner and "seed" not in banner
