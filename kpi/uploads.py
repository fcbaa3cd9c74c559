"""Saving uploaded tables into the store: all checked first, then all written, or nothing."""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl

from kpi.schema import TABLES
from kpi.settings import Settings
from kpi.store import InvalidDataset, Mode, Store, refusals
from kpi.store import Workspace as StoreWorkspace

SOURCE = "uploaded in the app"


def create_workspace(db: Store, name: str, created_by: str | None, settings: Settings | None = None
                     ) -> StoreWorkspace:
    """A new workspace (default settings unless given); whoever creates it while signed in becomes its
    first editor."""
    created = db.create_workspace(name, settings=settings)
    if created_by:
        db.set_editors(created.id, [created_by])
    return created


def save_uploads(db: Store, uploads: Mapping[str, pl.DataFrame], *, into: str | None, name: str, mode: Mode,
                 settings: Settings, created_by: str | None = None, source: str = SOURCE) -> StoreWorkspace:
    """Save canonical tables into the workspace `into`, or into a new workspace called `name` with
    `settings` when `into` is None; returns the workspace written to.

    Every table is checked before the first one is written (against the workspace's saved data in
    `mode`, or on its own for a new workspace), so a refusal (InvalidDataset, naming the table and its
    first problems) saves nothing and creates no workspace. Each saved table becomes a new version;
    with `mode="append"` it adds to the latest version of a table the workspace already has. Older
    versions stay for the links that show them. Tables that are not canonical are left out.
    """
    tables = {n: f for n, f in uploads.items() if n in TABLES}
    existing = db.datasets(into) if into else {}
    for table, frame in tables.items():
        errors = db.problems(into, table, frame, mode) if into else refusals(table, frame, settings)
        if errors:
            raise InvalidDataset(f"{table}: " + "; ".join(str(p) for p in errors[:5]), errors)
    target = db.workspace(into) if into else create_workspace(db, name, created_by, settings)
    for table, frame in tables.items():
        write = db.append if mode == "append" and table in existing else db.save
        write(target.id, table, frame, source=source, created_by=created_by)
    return target
