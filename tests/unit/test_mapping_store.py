"""Saved column mappings live per workspace in the store: found by header shape in their own workspace only,
remembered per session until the uploads are saved, kept whole by concurrent writers, and a damaged one is
reported by name, never taken for 'nothing saved'."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from kpi.sources.files import read_bytes, read_file
from kpi.sources.importer import ImportRefused, import_raw, resolve
from kpi.sources.mapping import (
    MAPPING_KIND,
    DamagedMapping,
    Mapping,
    MappingStore,
    WorkspaceMappings,
    shape_key,
)
from kpi.store import Store

REPO = Path(__file__).resolve().parents[2]
FIX = REPO / "tests" / "fixtures" / "uploads"
KUNDLISTA = Mapping("leads", {"lead_id": "Kund-ID", "created_at": "Skapad"}, label="Kundlista")
SAVES = 150


def writer_columns(writer: str, i: int) -> list[str]:
    return [f"{writer} kolumn {i}", "Skapad", "Kund-ID"]


def save_many(data_dir: str, workspace: str, writer: str) -> None:
    """SAVES saves of distinct header shapes, each read back at once; prints how many raised, exits 1 if any."""
    mappings = WorkspaceMappings(Store(data_dir), workspace)
    errors = 0
    for i in range(SAVES):
        columns = writer_columns(writer, i)
        try:
            mappings.save(columns, Mapping("leads", {"lead_id": "Kund-ID", "created_at": "Skapad"},
                                           label=f"{writer}-{i}"))
            found = mappings.get(columns)
            assert found is not None and found.label == f"{writer}-{i}"
        except Exception as exc:  # every failure counts, whatever it is
            errors += 1
            print(f"{writer}-{i}: {type(exc).__name__}: {exc}", file=sys.stderr)
    print(f"errors {errors}")
    raise SystemExit(1 if errors else 0)


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(tmp_path / "data")


def test_a_mapping_saved_in_a_workspace_is_found_there_only(store: Store) -> None:
    acme, other = store.create_workspace("Acme").id, store.create_workspace("Other").id
    raw = read_file(FIX / "generic_leads_pipe.txt")
    WorkspaceMappings(store, acme).save(raw.columns, KUNDLISTA)
    # the same columns in another order and case are the same shape
    later = read_bytes("skapad|KUND-ID|Värde|Kanal\n2025.02.01|K9|5|E-post\n".encode(), "next.txt")
    mapping, preset = resolve(later, store=MappingStore(saved=WorkspaceMappings(store, acme)))
    assert preset is None and mapping.label == "Kundlista" and mapping.fields == KUNDLISTA.fields
    with pytest.raises(ImportRefused, match="not an export format"):
        resolve(later, store=MappingStore(saved=WorkspaceMappings(store, other)))
    with pytest.raises(ImportRefused, match="not an export format"):
        resolve(later)  # no store: nothing global is consulted


def test_session_mappings_come_first_and_are_saved_with_the_uploads(store: Store) -> None:
    acme = store.create_workspace("Acme").id
    raw = read_file(FIX / "generic_leads_pipe.txt")
    WorkspaceMappings(store, acme).save(raw.columns, KUNDLISTA)
    session = MappingStore(saved=WorkspaceMappings(store, acme))
    mine = Mapping("leads", {"lead_id": "Kund-ID", "created_at": "Skapad", "amount": "Värde"}, label="Min lista")
    session.save(raw.columns, mine)
    assert session.get(raw.columns).label == "Min lista"  # type: ignore[union-attr]
    assert WorkspaceMappings(store, acme).get(raw.columns).label == "Kundlista"  # type: ignore[union-attr]
    result = import_raw(raw, resolve(raw, store=session)[0])
    assert result.frame["amount"].to_list() == [1000.5, 250.0, None]  # the file's Värde: 1000,5 / 250 / empty

    WorkspaceMappings(store, acme).save_records(session.records)  # saving the uploads saves their mappings
    assert WorkspaceMappings(store, acme).get(raw.columns).label == "Min lista"  # type: ignore[union-attr]
    record = store.get_doc(acme, MAPPING_KIND, shape_key(raw.columns))
    assert record["columns"] == raw.columns and record["mapping"]["period"] is None


def test_two_writer_processes_keep_every_mapping(store: Store) -> None:
    ws = store.create_workspace("Busy").id
    code = "import sys; from tests.unit.test_mapping_store import save_many as f; f(*sys.argv[1:4])"
    procs = [subprocess.Popen([sys.executable, "-c", code, str(store.data_dir), ws, w], cwd=REPO,
                              stdout=subprocess.PIPE, text=True) for w in ("a", "b")]
    outputs = [p.communicate(timeout=180)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0] and outputs == ["errors 0\n", "errors 0\n"]
    saved = store.docs(ws, MAPPING_KIND)
    assert len(saved) == 2 * SAVES == 300
    mappings = WorkspaceMappings(store, ws)
    for writer in ("a", "b"):
        for i in range(SAVES):
            assert mappings.get(writer_columns(writer, i)).label == f"{writer}-{i}"  # type: ignore[union-attr]


def damage(store: Store, ws: str, key: str, body: str) -> None:
    with sqlite3.connect(store.data_dir / "catalog.sqlite") as db:
        db.execute("UPDATE docs SET body = ? WHERE workspace_id = ? AND kind = ? AND key = ?",
                   (body, ws, MAPPING_KIND, key))


@pytest.mark.parametrize(("body", "why"), [
    ('{"columns": ["Kund-ID", "Sk', "not readable as JSON"),  # a torn write
    ('{"columns": [], "mapping": {"table": "deals", "fields": {}}}', "'deals' is not one of"),
    ('["not", "a", "mapping"]', "not a saved mapping"),
])
def test_a_damaged_mapping_is_reported_by_name_and_nothing_else_is_lost(store: Store, body: str, why: str) -> None:
    ws = store.create_workspace("Acme").id
    raw = read_file(FIX / "generic_leads_pipe.txt")
    mappings = WorkspaceMappings(store, ws)
    mappings.save(raw.columns, KUNDLISTA)
    other = ["Datum", "Kostnad", "Kampanj"]
    mappings.save(other, Mapping("spend", {"date": "Datum", "spend": "Kostnad", "campaign": "Kampanj"}, label="Ads"))
    key = shape_key(raw.columns)
    damage(store, ws, key, body)

    with pytest.raises(DamagedMapping) as caught:
        mappings.get(raw.columns)
    message = str(caught.value)
    assert f"workspace '{ws}'" in message and key in message and why in message
    assert "Map the file's columns again" in message
    with pytest.raises(ImportRefused, match=rf"generic_leads_pipe.txt: .*{key} is damaged"):
        resolve(raw, store=MappingStore(saved=mappings))
    assert mappings.get(other).label == "Ads"  # type: ignore[union-attr]  # the other mapping is untouched
    with sqlite3.connect(store.data_dir / "catalog.sqlite") as db:  # reading changed nothing
        assert db.execute("SELECT body FROM docs WHERE key = ?", (key,)).fetchone() == (body,)

    mappings.save(raw.columns, KUNDLISTA)  # mapping the file again replaces the damaged record
    assert mappings.get(raw.columns).label == "Kundlista"  # type: ignore[union-attr]
