"""The store: workspaces, dataset versions, settings, documents, editors, corruption and leftover files."""

from __future__ import annotations

import hashlib
import re
import sqlite3
from datetime import date, datetime
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from kpi.schema import DATE, FLOAT, INT, STR, TABLES, TIMESTAMP
from kpi.settings import InitiativeRule, Settings, Stage
from kpi.store import (
    CorruptVersion,
    InvalidDataset,
    Store,
    StoreError,
    VersionNotFound,
    ViewNotFound,
    WorkspaceExists,
    WorkspaceNotFound,
    default_data_dir,
)


def full_frame(table: str) -> pl.DataFrame:
    """Three rows with every column of `table` in its canonical type, nulls in every optional column,
    non-ASCII text, and an extra dimension column with a non-ASCII name."""
    cols: dict[str, pl.Series] = {}
    for col in TABLES[table].columns:
        req = col.required
        if col.dtype == STR:
            values: list[object] = ([f"{col.name}-1", "Åsa Öberg", "Продажи"] if req
                                    else ["Åsa Öberg", None, "Продажи — 東京 🚀"])
            if col.name == "direction":
                values = ["up", None, "down"]
        elif col.dtype == TIMESTAMP:
            values = ([datetime(2025, 1, 1 + i, 8, 30, 15, 123456) for i in range(3)] if req
                      else [datetime(2025, 1, 5, 23, 59, 59, 999999), None, datetime(2025, 2, 1)])
        elif col.dtype == DATE:
            values = [date(2025, 1, 1), date(2025, 1, 2), date(2025, 1, 3)] if req else [date(2025, 1, 1), None,
                                                                                         date(2025, 1, 31)]
        elif col.dtype == FLOAT:
            values = [1234.5, 0.25, 0.0] if req else [1234.5, None, 0.0]
        else:
            assert col.dtype == INT
            values = [10, 3, 0] if req else [10, None, 0]
        cols[col.name] = pl.Series(col.name, values, dtype=col.dtype)
    cols["Регион"] = pl.Series("Регион", ["Skåne", None, "Москва"], dtype=pl.String)
    return pl.DataFrame(cols)


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(tmp_path / "data")


@pytest.fixture
def ws(store: Store) -> str:
    return store.create_workspace("Nordic B2B").id


def version_file(store: Store, ws: str, dataset: str, version_id: str) -> Path:
    return store.data_dir / "datasets" / ws / dataset / f"{version_id}.parquet"


def refused_versions(store: Store, ws: str) -> list[CorruptVersion]:
    """What opening each version of each dataset (as the version history does) refuses."""
    refused = []
    for dataset in store.datasets(ws):
        for v in store.versions(ws, dataset):
            try:
                store.load(ws, dataset, v.id)
            except CorruptVersion as exc:
                refused.append(exc)
    return refused


@pytest.mark.parametrize("table", list(TABLES))
def test_every_canonical_table_round_trips_exactly(store: Store, ws: str, table: str) -> None:
    frame = full_frame(table)
    assert set(TABLES[table].dtypes) < set(frame.columns)  # every canonical column, plus the extra one
    saved = store.save(ws, table, frame, source="hand-made.csv", report={"rows_read": 3, "date": date(2025, 1, 1)})

    reopened = Store(store.data_dir)  # a fresh process after a browser refresh sees the same thing
    loaded = reopened.load(ws, table)
    assert_frame_equal(loaded, frame)  # same columns, order, dtypes (microseconds kept), nulls and text
    assert loaded["Регион"].to_list() == ["Skåne", None, "Москва"]
    meta = reopened.version(ws, table)
    assert (meta.number, meta.rows, meta.mode, meta.source) == (1, 3, "replace", "hand-made.csv")
    assert meta.report == {"rows_read": 3, "date": "2025-01-01"}
    data = version_file(store, ws, table, saved.id).read_bytes()
    assert meta.sha256 == hashlib.sha256(data).hexdigest()
    assert meta.bytes == len(data)


def test_tables_returns_every_saved_table(store: Store, ws: str) -> None:
    for table in TABLES:
        store.save(ws, table, full_frame(table), source="t")
    tables = store.tables(ws)
    assert list(tables) == list(TABLES)
    for table, frame in tables.items():
        assert_frame_equal(frame, full_frame(table))


def test_version_history_replace_and_append(store: Store, ws: str) -> None:
    v1 = store.save(ws, "leads", pl.DataFrame({"lead_id": ["a", "b", "c"], "created_at": [datetime(2025, 1, 1)] * 3}),
                    source="first.csv")
    v2 = store.save(ws, "leads", pl.DataFrame({"lead_id": ["x", "y"], "created_at": [datetime(2025, 2, 1)] * 2}),
                    source="second.csv")
    v3 = store.append(ws, "leads",
                      pl.DataFrame({"lead_id": ["z"], "created_at": [datetime(2025, 3, 1)], "segment": ["SMB"]}),
                      source="third.csv")
    assert [v.number for v in store.versions(ws, "leads")] == [3, 2, 1]
    assert (v3.mode, v3.parent_id, v2.parent_id, v1.parent_id) == ("append", v2.id, v1.id, None)
    assert store.load(ws, "leads")["lead_id"].to_list() == ["x", "y", "z"]
    assert store.load(ws, "leads")["segment"].to_list() == [None, None, "SMB"]  # new column, nulls for old rows
    assert store.load(ws, "leads", 1)["lead_id"].to_list() == ["a", "b", "c"]  # by number
    assert store.load(ws, "leads", v2.id)["lead_id"].to_list() == ["x", "y"]  # by id
    assert v3.rows == 3
    assert store.tables(ws, {"leads": v1.id})["leads"]["lead_id"].to_list() == ["a", "b", "c"]
    assert store.latest_versions(ws) == {"leads": v3.id}
    with pytest.raises(VersionNotFound, match="no version 4 of dataset 'leads'"):
        store.load(ws, "leads", 4)
    with pytest.raises(VersionNotFound):
        store.tables(ws, {"spend": v1.id})  # a leads version is not a spend version


def test_append_to_empty_dataset_is_version_one(store: Store, ws: str) -> None:
    frame = full_frame("spend")
    v = store.append(ws, "spend", frame, source="ads.csv")
    assert (v.number, v.mode, v.parent_id) == (1, "append", None)
    assert_frame_equal(store.load(ws, "spend"), frame)


def test_invalid_frames_are_refused_and_change_nothing(store: Store, ws: str) -> None:
    store.save(ws, "leads", pl.DataFrame({"lead_id": ["a"], "created_at": [datetime(2025, 1, 1)]}), source="ok")
    files_before = sorted((store.data_dir / "datasets").rglob("*"))
    with pytest.raises(InvalidDataset, match=r"leads\.lead_id: duplicate lead_id") as err:
        store.append(ws, "leads", pl.DataFrame({"lead_id": ["a"], "created_at": [datetime(2025, 1, 2)]}),
                     source="same export again")
    assert err.value.problems[0].rows == (1, 2)
    with pytest.raises(InvalidDataset, match="required column 'created_at' is missing"):
        store.save(ws, "leads", pl.DataFrame({"lead_id": ["b"]}), source="bad")
    with pytest.raises(StoreError, match="unknown dataset 'deals'"):
        store.save(ws, "deals", pl.DataFrame({"x": [1]}), source="bad")
    assert [v.number for v in store.versions(ws, "leads")] == [1]
    assert sorted((store.data_dir / "datasets").rglob("*")) == files_before


def test_problems_tells_what_a_save_would_refuse_and_writes_nothing(store: Store, ws: str) -> None:
    store.save(ws, "leads", pl.DataFrame({"lead_id": ["a"], "created_at": [datetime(2025, 1, 1)]}), source="ok")
    files_before = sorted((store.data_dir / "datasets").rglob("*"))
    again = pl.DataFrame({"lead_id": ["a"], "created_at": [datetime(2025, 1, 2)]})
    appended = store.problems(ws, "leads", again, "append")
    # appended, the stored 'a' (row 1) and the new 'a' (row 2) clash; replaced, the new row stands alone
    assert [(p.column, p.rows, p.severity) for p in appended] == [("lead_id", (1, 2), "error")]
    assert store.problems(ws, "leads", again, "replace") == []
    assert store.problems(ws, "spend", full_frame("spend"), "append") == []  # nothing stored yet to clash with
    missing = store.problems(ws, "leads", pl.DataFrame({"lead_id": ["b"]}))
    assert [p.column for p in missing] == ["created_at"]
    assert missing[0].message.startswith("required column 'created_at' is missing")
    with pytest.raises(InvalidDataset) as err:  # the save itself refuses with the same problems
        store.append(ws, "leads", again, source="same export again")
    assert err.value.problems == appended
    assert [v.number for v in store.versions(ws, "leads")] == [1]
    assert sorted((store.data_dir / "datasets").rglob("*")) == files_before


def test_validation_uses_the_workspace_stages(store: Store) -> None:
    stages = (Stage("lead", "Leads", "created_at", "leads"), Stage("demo", "Demo booked", "demo_at"))
    ws = store.create_workspace("Custom", settings=Settings(stages=stages)).id
    bad = pl.DataFrame({"lead_id": ["a"], "created_at": [datetime(2025, 1, 2)], "demo_at": [datetime(2025, 1, 1)]})
    with pytest.raises(InvalidDataset, match="'demo_at' is before created_at"):
        store.save(ws, "leads", bad, source="crm.csv")


def test_workspaces_create_list_rename_delete(store: Store) -> None:
    a = store.create_workspace("Nordic B2B")
    b = store.create_workspace("  Продажи  Россия ")
    c = store.create_workspace("Nordic  b2b!")  # different name, same slug
    assert (a.id, c.id) == ("nordic-b2b", "nordic-b2b-2")
    assert b.name == "Продажи Россия" and b.id.startswith("ws-")
    assert [w.name for w in store.workspaces()] == ["Nordic B2B", "Nordic b2b!", "Продажи Россия"]
    with pytest.raises(WorkspaceExists, match="named 'nordic b2b' already exists"):
        store.create_workspace("nordic b2b")
    with pytest.raises(StoreError, match="workspace id 'Bad Id' is not valid"):
        store.create_workspace("Other", workspace_id="Bad Id")
    for bad, code, at in (("Acme\x00", "U+0000", 5), ("\x1bAcme", "U+001B", 1), ("Ac\x7fme", "U+007F", 3),
                          ("Acme \u202eevil", "U+202E", 6), ("Ac\ud800me", "U+D800", 3)):
        with pytest.raises(StoreError, match=re.escape(f"cannot contain control characters (found {code} at "
                                                       f"character {at})")):
            store.create_workspace(bad)
        with pytest.raises(StoreError, match=re.escape(f"found {code}")):
            store.rename_workspace(b.id, bad)
    assert [w.name for w in store.workspaces()] == ["Nordic B2B", "Nordic b2b!", "Продажи Россия"]  # nothing changed
    assert store.create_workspace("Sales\tNorth\n").name == "Sales North"  # tabs and line breaks are blanks

    store.save(a.id, "leads", full_frame("leads"), source="x")
    renamed = store.rename_workspace(a.id, "Nordics")
    assert (renamed.id, renamed.name) == (a.id, "Nordics")
    assert store.load(a.id, "leads").height == 3  # data follows the id, not the name
    with pytest.raises(WorkspaceExists):
        store.rename_workspace(c.id, "NORDICS")

    store.delete_workspace(a.id)
    assert [w.id for w in store.workspaces()] == [c.id, "sales-north", b.id]
    assert not (store.data_dir / "datasets" / a.id).exists()
    with pytest.raises(WorkspaceNotFound, match="workspace 'nordic-b2b' does not exist"):
        store.load(a.id, "leads")
    with pytest.raises(WorkspaceNotFound):
        store.delete_workspace(a.id)


def test_delete_workspace_removes_views_docs_editors_and_data(store: Store, ws: str) -> None:
    other = store.create_workspace("Other").id
    store.save(ws, "leads", full_frame("leads"), source="x")
    store.save(other, "leads", full_frame("leads"), source="x")
    token = store.create_view(ws, "funnel", {"period": "2025-Q1"})
    kept = store.create_view(other, "funnel", {})
    store.put_doc(ws, "notes", "q1", {"text": "ok"})
    store.set_editors(ws, ["a@example.com"])

    store.delete_workspace(ws)
    store.create_workspace("Nordic B2B")  # the same id again starts empty
    assert store.datasets(ws) == {} and store.list_views(ws) == [] and store.docs(ws, "notes") == {}
    assert store.editors(ws) == []
    with pytest.raises(ViewNotFound):
        store.resolve_view(token)
    assert store.resolve_view(kept).workspace == other
    assert store.load(other, "leads").height == 3


def test_settings_round_trip(store: Store, ws: str) -> None:
    assert store.settings(ws) == Settings()
    custom = Settings(
        stages=(Stage("lead", "Leads", "created_at", "leads"), Stage("sql", "Säljklar", "sql_at")),
        channels={"Поиск": ("яндекс директ", "cpc"), "Email": ("e-post",)},
        initiative_rules=(InitiativeRule("^nb-", "Nordic launch"),),
        currency="SEK",
        sla_hours=8.0,
    )
    store.save_settings(ws, custom)
    loaded = Store(store.data_dir).settings(ws)
    assert loaded == custom
    assert list(loaded.channels) == ["Поиск", "Email"]  # order kept


def test_documents(store: Store, ws: str) -> None:
    assert store.get_doc(ws, "review", "2025-Q1") is None
    store.put_doc(ws, "review", "2025-Q1", {"stop": ["Display"], "note": "Åsa: mer LinkedIn"})
    store.put_doc(ws, "review", "2025-Q2", ["x"])
    store.put_doc(ws, "review", "2025-Q1", {"stop": []})  # replaces
    assert store.get_doc(ws, "review", "2025-Q1") == {"stop": []}
    assert store.docs(ws, "review") == {"2025-Q1": {"stop": []}, "2025-Q2": ["x"]}
    with pytest.raises(StoreError, match="must be JSON data"):
        store.put_doc(ws, "review", "bad", {"x": object()})


def test_editors(store: Store, ws: str) -> None:
    other = store.create_workspace("Other").id
    assert store.set_editors(ws, [" Anna@Example.com", "bo@example.se", "anna@example.com"]) == [
        "anna@example.com", "bo@example.se"]
    assert store.is_editor(ws, "ANNA@example.com")
    assert not store.is_editor(other, "anna@example.com")
    assert not store.is_editor(ws, None) and not store.is_editor(ws, "")
    store.set_editors(ws, ["bo@example.se"])
    assert store.editors(ws) == ["bo@example.se"]
    with pytest.raises(StoreError, match="e-mail address"):
        store.set_editors(ws, ["not an email"])
    assert store.editors(ws) == ["bo@example.se"]


@pytest.mark.parametrize("damage", ["flip", "truncate", "delete"])
def test_corrupted_file_is_reported_never_served(store: Store, ws: str, damage: str) -> None:
    good = store.save(ws, "leads", full_frame("leads"), source="a")
    bad = store.save(ws, "leads", full_frame("leads").head(2), source="b")
    path = version_file(store, ws, "leads", bad.id)
    data = bytearray(path.read_bytes())
    if damage == "flip":
        data[len(data) // 2] ^= 0xFF
        path.write_bytes(bytes(data))
    elif damage == "truncate":
        path.write_bytes(bytes(data[: len(data) - 100]))
    else:
        path.unlink()
    message = rf"workspace 'nordic-b2b', dataset 'leads', version 2 \(id {bad.id}\)"
    with pytest.raises(CorruptVersion, match=message):
        store.load(ws, "leads")
    with pytest.raises(CorruptVersion, match=message):
        store.tables(ws)
    problems = refused_versions(store, ws)
    assert len(problems) == 1 and "version 2" in str(problems[0])
    assert_frame_equal(store.load(ws, "leads", good.id), full_frame("leads"))  # the rest is untouched


def test_leftovers_of_interrupted_saves_and_deletes_are_never_served(store: Store, ws: str) -> None:
    v = store.save(ws, "leads", full_frame("leads"), source="a")
    folder = store.data_dir / "datasets" / ws / "leads"
    orphan = folder / "0123456789abcdef0123456789abcdef.parquet"  # a save killed before its catalog row
    torn = folder / ".fedcba9876543210fedcba9876543210.parquet.tmp"  # a save killed while writing
    stale_ws = store.data_dir / "datasets" / "deleted-ws" / "spend" / "00.parquet"  # a delete interrupted
    for path in (orphan, torn, stale_ws):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"partial")
    assert [u.id for u in store.versions(ws, "leads")] == [v.id]
    assert refused_versions(store, ws) == [] and store.load(ws, "leads").height == 3
    assert store.save(ws, "leads", full_frame("leads").head(1), source="b").number == 2
    assert store.load(ws, "leads").height == 1
    reused = store.create_workspace("Deleted WS").id  # the id of the workspace whose delete was interrupted
    assert reused == "deleted-ws" and store.datasets(reused) == {} and store.tables(reused) == {}
    assert all(path.read_bytes() == b"partial" for path in (orphan, torn, stale_ws))  # left as they were


def test_default_data_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("KPI_DATA_DIR", str(tmp_path / "elsewhere"))
    assert default_data_dir() == tmp_path / "elsewhere"
    monkeypatch.delenv("KPI_DATA_DIR")
    assert default_data_dir() == Path(__file__).resolve().parents[2] / "data"


def test_newer_catalog_schema_is_refused(store: Store) -> None:
    with sqlite3.connect(store.data_dir / "catalog.sqlite") as db:
        db.execute("PRAGMA user_version = 99")
    with pytest.raises(StoreError, match="schema version 99, newer than this app"):
        Store(store.data_dir)


@pytest.mark.corpus
def test_real_imports_save_append_and_reload(store: Store, ws: str, shared_dir: Path) -> None:
    from kpi.sources.files import read_file
    from kpi.sources.importer import import_raw, resolve

    def imported(path: Path) -> tuple[pl.DataFrame, dict[str, object]]:
        raw = read_file(path)
        result = import_raw(raw, resolve(raw)[0])
        assert result.table == "leads"
        return result.frame, result.report.to_dict()

    exports = shared_dir / "real-exports"
    hubspot, hubspot_report = imported(exports / "hubspot_contacts_export_redacted" / "all-contacts_REDACTED.csv")
    amo, amo_report = imported(exports / "amocrm_export_anonymized" / "amocrm_leads_test.csv")
    v1 = store.save(ws, "leads", hubspot, source="all-contacts_REDACTED.csv (HubSpot)", report=hubspot_report)
    v2 = store.append(ws, "leads", amo, source="amocrm_leads_test.csv (amoCRM)", report=amo_report)

    reopened = Store(store.data_dir)
    assert_frame_equal(reopened.load(ws, "leads", v1.id), hubspot)
    both = reopened.load(ws, "leads")
    assert both.height == v2.rows == hubspot.height + amo.height
    assert_frame_equal(both.head(hubspot.height).select(hubspot.columns), hubspot)
    assert_frame_equal(both.tail(amo.height).select(amo.columns), amo)
    assert reopened.version(ws, "leads").report == amo_report
