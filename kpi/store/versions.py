"""Datasets and their immutable versions: save, append, load, history and the checks that refuse bad data.

A save writes the Parquet file durably (`StoreCore._write_file`) and only then records it in one catalog
transaction; version numbers are assigned inside that transaction, and an append whose base changed
meanwhile is rebuilt on the new latest version.
"""

from __future__ import annotations

import hashlib
import io
import json
import sqlite3
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import polars as pl

from kpi.schema import TABLES, Problem, validate
from kpi.settings import Settings
from kpi.store.core import StoreCore, _dumps, _ts
from kpi.store.errors import CorruptVersion, InvalidDataset, SaveConflict, StoreError, VersionNotFound

#: How many times an append is rebuilt when another writer saved the same dataset meanwhile.
APPEND_ATTEMPTS = 50

Mode = Literal["replace", "append"]


@dataclass(frozen=True)
class Version:
    """One immutable version of a dataset."""

    id: str  # 32 hex digits; also the file name
    workspace: str
    dataset: str
    number: int  # 1, 2, 3 ... per workspace and dataset, in commit order
    created_at: datetime
    mode: Mode  # 'append' versions hold the parent's rows followed by the appended rows
    parent_id: str | None  # the version that was latest when this one was committed
    source: str  # what the data came from, e.g. "hubspot-deals.csv (HubSpot preset)"
    report: dict[str, Any]  # the import report, as given
    sha256: str  # of the Parquet file's bytes
    rows: int
    bytes: int
    created_by: str | None

    @property
    def label(self) -> str:
        return f"v{self.number}"


class VersionStore(StoreCore):
    """Datasets of a workspace, one immutable version per save."""

    def save(
        self,
        workspace: str,
        dataset: str,
        frame: pl.DataFrame,
        *,
        source: str,
        report: Mapping[str, Any] | None = None,
        created_by: str | None = None,
    ) -> Version:
        """Replace `dataset` with `frame` as a new version; earlier versions stay loadable.

        The frame must pass `kpi.schema.validate` (errors only; warnings are fine), else
        InvalidDataset is raised and nothing is saved.
        """
        return self._commit(workspace, dataset, "replace", frame, source, report, created_by)

    def append(
        self,
        workspace: str,
        dataset: str,
        frame: pl.DataFrame,
        *,
        source: str,
        report: Mapping[str, Any] | None = None,
        created_by: str | None = None,
    ) -> Version:
        """A new version holding the latest version's rows followed by `frame`'s; the old version stays.

        Columns are matched by name (missing ones become null, types widen as needed). The result
        must pass `kpi.schema.validate`, so appending the same leads twice fails on duplicate lead_id.
        """
        return self._commit(workspace, dataset, "append", frame, source, report, created_by)

    def problems(self, workspace: str, dataset: str, frame: pl.DataFrame, mode: Mode = "replace") -> list[Problem]:
        """What would refuse `save` (mode "replace") or `append` of `frame` to `dataset` right now: the
        `refusals` of the version it would write, under the workspace's settings. Nothing is written."""
        _check_dataset(dataset)
        return refusals(dataset, self._candidate(workspace, dataset, frame, mode)[1], self.settings(workspace))

    def _candidate(self, workspace: str, dataset: str, frame: pl.DataFrame,
                   mode: Mode) -> tuple[Version | None, pl.DataFrame]:
        """The version a save builds on (the latest, when appending) and the frame it would write."""
        base = self._latest(workspace, dataset) if mode == "append" else None
        return base, frame if base is None else pl.concat([self._read(base), frame], how="diagonal_relaxed")

    def _commit(
        self,
        workspace: str,
        dataset: str,
        mode: Mode,
        new_rows: pl.DataFrame,
        source: str,
        report: Mapping[str, Any] | None,
        created_by: str | None,
    ) -> Version:
        _check_dataset(dataset)
        report_json = _dumps(dict(report or {}), "the import report")
        settings = self.settings(workspace)
        for _attempt in range(APPEND_ATTEMPTS):
            base, frame = self._candidate(workspace, dataset, new_rows, mode)
            errors = refusals(dataset, frame, settings)
            if errors:
                listed = "; ".join(str(p) for p in errors[:5])
                raise InvalidDataset(
                    f"cannot save {dataset} to workspace '{workspace}': {listed}. Nothing was saved.", errors
                )
            version_id = uuid.uuid4().hex
            path, digest, size = self._write_file(workspace, dataset, version_id, frame)
            try:
                with self._tx(write=True) as db:
                    self._require_workspace(db, workspace)
                    latest = db.execute(
                        "SELECT id, number FROM versions WHERE workspace_id = ? AND dataset = ? "
                        "ORDER BY number DESC LIMIT 1",
                        (workspace, dataset),
                    ).fetchone()
                    latest_id = latest["id"] if latest else None
                    if mode == "append" and latest_id != (base.id if base else None):
                        raise _Retry
                    number = (latest["number"] if latest else 0) + 1
                    created = _ts(self._now())
                    db.execute(
                        "INSERT INTO versions (id, workspace_id, dataset, number, created_at, mode, parent_id, "
                        "source, report, sha256, rows, bytes, created_by) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                        (version_id, workspace, dataset, number, created, mode, latest_id, source, report_json,
                         digest, frame.height, size, created_by),
                    )
            except _Retry:
                path.unlink(missing_ok=True)
                continue
            except BaseException:
                path.unlink(missing_ok=True)
                raise
            saved = Version(version_id, workspace, dataset, number, datetime.fromisoformat(created), mode, latest_id,
                            source, json.loads(report_json), digest, frame.height, size, created_by)
            self._committed(saved, frame, settings)
            return saved
        raise SaveConflict(
            f"could not append to {dataset} in workspace '{workspace}': other saves kept changing it; try again"
        )

    def _committed(self, version: Version, frame: pl.DataFrame, settings: Settings) -> None:
        """Called with each version once it is committed (its rows and the workspace's settings): the
        prepared store writes its prepared form here."""

    def _read(self, version: Version) -> pl.DataFrame:
        """The frame of `version`, after checking its file against the catalog's hash."""
        path = self._dataset_dir(version.workspace, version.dataset) / f"{version.id}.parquet"
        where = (f"workspace '{version.workspace}', dataset '{version.dataset}', version {version.number} "
                 f"(id {version.id})")
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise CorruptVersion(f"{where}: its file {path} is missing; it cannot be served. "
                                 "Open another version or save the data again.") from None
        if hashlib.sha256(data).hexdigest() != version.sha256:
            raise CorruptVersion(f"{where}: its file {path} is corrupted (content hash does not match the catalog); "
                                 "it will not be served. Open another version or save the data again.")
        try:
            frame = pl.read_parquet(io.BytesIO(data))
        except Exception as exc:
            raise CorruptVersion(f"{where}: its file {path} cannot be read as Parquet ({exc})") from exc
        if frame.height != version.rows:
            raise CorruptVersion(f"{where}: its file has {frame.height} rows, the catalog says {version.rows}")
        return frame

    @staticmethod
    def _version(row: sqlite3.Row) -> Version:
        return Version(
            row["id"], row["workspace_id"], row["dataset"], row["number"], datetime.fromisoformat(row["created_at"]),
            row["mode"], row["parent_id"], row["source"], json.loads(row["report"]), row["sha256"], row["rows"],
            row["bytes"], row["created_by"],
        )

    def _latest(self, workspace: str, dataset: str) -> Version | None:
        with self._tx() as db:
            self._require_workspace(db, workspace)
            row = db.execute(
                "SELECT * FROM versions WHERE workspace_id = ? AND dataset = ? ORDER BY number DESC LIMIT 1",
                (workspace, dataset),
            ).fetchone()
        return self._version(row) if row else None

    def versions(self, workspace: str, dataset: str) -> list[Version]:
        """Every version of `dataset`, newest first."""
        _check_dataset(dataset)
        with self._tx() as db:
            self._require_workspace(db, workspace)
            rows = db.execute(
                "SELECT * FROM versions WHERE workspace_id = ? AND dataset = ? ORDER BY number DESC",
                (workspace, dataset),
            ).fetchall()
        return [self._version(r) for r in rows]

    def version(self, workspace: str, dataset: str, version: str | int | None = None) -> Version:
        """One version's record: by id (str), by number (int), or the latest (None)."""
        _check_dataset(dataset)
        with self._tx() as db:
            self._require_workspace(db, workspace)
            if version is None:
                row = db.execute(
                    "SELECT * FROM versions WHERE workspace_id = ? AND dataset = ? ORDER BY number DESC LIMIT 1",
                    (workspace, dataset),
                ).fetchone()
            else:
                column = "number" if isinstance(version, int) else "id"
                row = db.execute(
                    f"SELECT * FROM versions WHERE workspace_id = ? AND dataset = ? AND {column} = ?",
                    (workspace, dataset, version),
                ).fetchone()
        if row is None:
            which = "any version" if version is None else f"version {version}"
            raise VersionNotFound(f"workspace '{workspace}' has no {which} of dataset '{dataset}'")
        return self._version(row)

    def load(self, workspace: str, dataset: str, version: str | int | None = None) -> pl.DataFrame:
        """The rows of one version (latest by default), checked against its content hash."""
        return self._read(self.version(workspace, dataset, version))

    def datasets(self, workspace: str) -> dict[str, Version]:
        """The latest version of each dataset the workspace has, in canonical table order."""
        with self._tx() as db:
            self._require_workspace(db, workspace)
            rows = db.execute(
                "SELECT v.* FROM versions v JOIN (SELECT dataset, MAX(number) AS n FROM versions "
                "WHERE workspace_id = ? GROUP BY dataset) m ON v.dataset = m.dataset AND v.number = m.n "
                "WHERE v.workspace_id = ?",
                (workspace, workspace),
            ).fetchall()
        latest = {r["dataset"]: self._version(r) for r in rows}
        return {name: latest[name] for name in TABLES if name in latest}

    def latest_versions(self, workspace: str) -> dict[str, str]:
        """dataset -> id of its latest version: what a share link pins."""
        return {name: v.id for name, v in self.datasets(workspace).items()}

    def tables(self, workspace: str, versions: Mapping[str, str] | None = None) -> dict[str, pl.DataFrame]:
        """The workspace's tables: the latest version of each dataset, or exactly the given versions
        (datasets not in `versions` are left out, as they were when a view was pinned)."""
        chosen = (self.datasets(workspace) if versions is None
                  else {name: self.version(workspace, name, vid) for name, vid in versions.items()})
        return {name: self._read(v) for name, v in chosen.items()}


def refusals(dataset: str, frame: pl.DataFrame, settings: Settings) -> list[Problem]:
    """The problems that refuse saving `frame` as `dataset` in a workspace with `settings`: the errors
    `kpi.schema.validate` finds (warnings never refuse). A frame that is not a polars DataFrame is refused
    with StoreError."""
    if not isinstance(frame, pl.DataFrame):
        raise StoreError(f"cannot save {dataset}: expected a polars DataFrame, got {type(frame).__name__}")
    return [p for p in validate(dataset, frame, settings.stage_columns) if p.severity == "error"]


class _Retry(Exception):
    """An append's base changed before its commit; rebuild on the new latest version."""


def _latest_ids(db: sqlite3.Connection, workspace: str) -> dict[str, str]:
    """dataset -> id of its latest version, in canonical table order."""
    rows = db.execute(
        "SELECT dataset, id, MAX(number) FROM versions WHERE workspace_id = ? GROUP BY dataset", (workspace,)
    ).fetchall()  # SQLite returns the id of the row holding MAX(number)
    latest = {r["dataset"]: r["id"] for r in rows}
    return {name: latest[name] for name in TABLES if name in latest}


def _check_dataset(dataset: str) -> None:
    if dataset not in TABLES:
        raise StoreError(f"unknown dataset '{dataset}'; expected one of {', '.join(TABLES)}")
