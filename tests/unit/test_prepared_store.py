"""A stored dataset version opens from its stored prepared form, which holds exactly what `kpi.data.prepare`
makes of it; other settings, versions saved before prepared forms and damaged forms are prepared again."""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from kpi import engine
from kpi.data import prepare, prepared_key
from kpi.query import Query
from kpi.settings import InitiativeRule, Settings
from kpi.sources.demo import DEMO_SETTINGS, generate
from kpi.store import PREPARED_KIND, Store
from kpi.store import prepared as prepared_module
from kpi.workspace import Workspace

TODAY = date(2026, 12, 3)


@pytest.fixture(scope="module")
def demo() -> dict[str, pl.DataFrame]:
    return generate(today=TODAY)


def _saved(tmp_path: Path, tables: dict[str, pl.DataFrame], settings: Settings) -> Store:
    store = Store(tmp_path / "data")
    store.create_workspace("Prepared demo", workspace_id="prep-demo", settings=settings)
    for name, frame in tables.items():
        store.save("prep-demo", name, frame, source="demo")
    return store


def _same(opened: dict[str, pl.DataFrame], expected: dict[str, pl.DataFrame]) -> None:
    assert list(opened) == list(expected)
    for name, frame in expected.items():
        assert opened[name].schema == frame.schema, name
        assert opened[name].equals(frame), name


def _no_prepare(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_args: object) -> pl.DataFrame:
        raise AssertionError("prepared again instead of read from its stored form")
    monkeypatch.setattr(prepared_module, "prepare_frame", refuse)


def test_a_saved_version_opens_from_its_stored_form_with_exactly_what_prepare_gives(
        tmp_path: Path, demo: dict[str, pl.DataFrame], monkeypatch: pytest.MonkeyPatch) -> None:
    store = _saved(tmp_path, demo, DEMO_SETTINGS)
    expected = prepare(store.tables("prep-demo"), DEMO_SETTINGS)
    _no_prepare(monkeypatch)  # every form was written by the save

    opened = store.prepared_tables("prep-demo")

    _same(opened, expected)
    assert opened["leads"]["created_at"].flags["SORTED_ASC"]
    from_store = Workspace.opened(opened, DEMO_SETTINGS)
    from_raw = Workspace.prepared(store.tables("prep-demo"), DEMO_SETTINGS)
    # sums to 1e-12 relative: polars adds a group's values across threads in any order, run to run
    for query in (Query.of(by=["segment"]), Query.of(by=["channel", "campaign"], view="flow")):
        assert_frame_equal(engine.funnel(from_store, query), engine.funnel(from_raw, query), rel_tol=1e-12,
                           abs_tol=1e-9)
        names = ["leads", "mql", "won", "revenue", "spend", "cpl", "cac", "roas", "pipeline", "days_lead_to_mql"]
        assert_frame_equal(engine.metrics(from_store, query, names), engine.metrics(from_raw, query, names),
                           rel_tol=1e-12, abs_tol=1e-9)
    sliced = Workspace.opened(opened, DEMO_SETTINGS, slice={"segment": ["SMB"]})
    assert_frame_equal(engine.funnel(sliced, Query.of()), engine.funnel(
        Workspace.prepared(store.tables("prep-demo"), DEMO_SETTINGS, slice={"segment": ["SMB"]}), Query.of()),
        rel_tol=1e-12, abs_tol=1e-9)


def test_other_settings_and_versions_saved_before_prepared_forms_are_prepared_then_stored(
        tmp_path: Path, demo: dict[str, pl.DataFrame], monkeypatch: pytest.MonkeyPatch) -> None:
    store = _saved(tmp_path, {t: demo[t] for t in ("leads", "spend")}, DEMO_SETTINGS)
    raw = store.tables("prep-demo")
    other = Settings(channels={"Paid Search": ("cpc",), "Meta": ("fb", "facebook")},
                     initiative_rules=(InitiativeRule("(?i)brand", "Brand"),))
    assert prepared_key(other) != prepared_key(DEMO_SETTINGS)
    assert prepared_key(DEMO_SETTINGS) == prepared_key(Settings.from_dict(DEMO_SETTINGS.to_dict() | {"rates": {
        "USD": 0.9}, "currency": "USD", "sla_hours": 4}))  # money and the SLA apply at question time

    with store._tx(write=True) as db:  # as a workspace saved before prepared forms existed
        db.execute("DELETE FROM docs WHERE kind = ?", (PREPARED_KIND,))
    _same(store.prepared_tables("prep-demo"), prepare(raw, DEMO_SETTINGS))
    _same(store.prepared_tables("prep-demo", settings=other), prepare(raw, other))

    _no_prepare(monkeypatch)  # both are stored now
    _same(store.prepared_tables("prep-demo", settings=other), prepare(raw, other))
    _same(store.prepared_tables("prep-demo"), prepare(raw, DEMO_SETTINGS))


@pytest.mark.parametrize("damage", ["flipped byte", "truncated", "missing", "wrong rows"])
def test_a_damaged_prepared_form_is_never_served(tmp_path: Path, demo: dict[str, pl.DataFrame], damage: str,
                                                 caplog: pytest.LogCaptureFixture) -> None:
    store = _saved(tmp_path, {"leads": demo["leads"]}, DEMO_SETTINGS)
    expected = prepare(store.tables("prep-demo"), DEMO_SETTINGS)
    version = store.version("prep-demo", "leads")
    doc_key = f"leads/{version.id}/{prepared_key(DEMO_SETTINGS)}"
    doc = store.get_doc("prep-demo", PREPARED_KIND, doc_key)
    path = tmp_path / "data" / "datasets" / "prep-demo" / "leads" / doc["file"]
    data = bytearray(path.read_bytes())
    if damage == "flipped byte":
        data[len(data) // 2] ^= 0xFF
        path.write_bytes(bytes(data))
    elif damage == "truncated":
        path.write_bytes(bytes(data[: len(data) // 3]))
    elif damage == "missing":
        path.unlink()
    else:  # a form of other rows, its catalogued hash made to match
        store._write_prepared(version, expected["leads"].head(10), prepared_key(DEMO_SETTINGS))

    with caplog.at_level(logging.WARNING, logger=prepared_module.__name__):
        _same(store.prepared_tables("prep-demo"), expected)
    assert "is not used" in caplog.text
    repaired = store.get_doc("prep-demo", PREPARED_KIND, doc_key)
    assert repaired["rows"] == version.rows  # written anew, and served from now on
    _same(store.prepared_tables("prep-demo"), expected)
