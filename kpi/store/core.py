"""The store's core: the data directory, the catalog (schema, connections, transactions, the write lock),
durable file writes and workspaces. The other parts of `Store` (versions, views, editors, documents) build on
`StoreCore`; the helpers here (timestamps, JSON, fsync) are shared by them."""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import shutil
import sqlite3
import threading
import time
import unicodedata
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl

from kpi.settings import Settings
from kpi.store.errors import StoreError, WorkspaceExists, WorkspaceNotFound

#: Environment variable that sets the data directory (else `<repo>/data`, which git ignores).
DATA_DIR_ENV = "KPI_DATA_DIR"
CATALOG_FILE = "catalog.sqlite"
SCHEMA_VERSION = 1
BUSY_TIMEOUT_S = 30.0
_WORKSPACE_ID_RE = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")


def default_data_dir() -> Path:
    """The data directory: env KPI_DATA_DIR if set, else `data/` in the project folder."""
    configured = os.environ.get(DATA_DIR_ENV, "").strip()
    return Path(configured).expanduser() if configured else Path(__file__).resolve().parents[2] / "data"


@dataclass(frozen=True)
class Workspace:
    id: str  # stable, url- and path-safe; every other call takes this id
    name: str  # shown to people; unique (case-insensitive), can be renamed
    created_at: datetime


def _ts(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("timestamps must be timezone-aware (use datetime.now(UTC) or .replace(tzinfo=...))")
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def _dt(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def _json_default(value: object) -> str:
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _dumps(value: object, what: str) -> str:
    try:
        return json.dumps(value, ensure_ascii=False, default=_json_default)
    except (TypeError, ValueError) as exc:
        raise StoreError(f"{what} must be JSON data (text, numbers, lists, objects): {exc}") from exc


def _fsync_dir(folder: Path) -> None:
    if os.name != "posix":  # directories cannot be opened for fsync on Windows
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _sha256_file(path: Path) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def _slug(name: str) -> str:
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:40].strip("-")
    return slug or f"ws-{secrets.token_hex(3)}"


_SCHEMA = """
CREATE TABLE IF NOT EXISTS workspaces (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE COLLATE NOCASE,
    created_at  TEXT NOT NULL,
    settings    TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS versions (
    id           TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    dataset      TEXT NOT NULL,
    number       INTEGER NOT NULL,
    created_at   TEXT NOT NULL,
    mode         TEXT NOT NULL CHECK (mode IN ('replace', 'append')),
    parent_id    TEXT,
    source       TEXT NOT NULL,
    report       TEXT NOT NULL,
    sha256       TEXT NOT NULL,
    rows         INTEGER NOT NULL,
    bytes        INTEGER NOT NULL,
    created_by   TEXT,
    UNIQUE (workspace_id, dataset, number)
);
CREATE TABLE IF NOT EXISTS views (
    id            TEXT PRIMARY KEY,  -- sha256 of the share token; the token itself is never stored
    workspace_id  TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    page          TEXT NOT NULL,
    state         TEXT NOT NULL,
    versions      TEXT NOT NULL,
    settings      TEXT NOT NULL,
    title         TEXT,
    created_by    TEXT,
    created_at    TEXT NOT NULL,
    follow_latest INTEGER NOT NULL,
    expires_at    TEXT,
    revoked_at    TEXT
);
CREATE INDEX IF NOT EXISTS views_by_workspace ON views(workspace_id);
CREATE TABLE IF NOT EXISTS docs (
    workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    kind         TEXT NOT NULL,
    key          TEXT NOT NULL,
    body         TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    PRIMARY KEY (workspace_id, kind, key)
);
CREATE TABLE IF NOT EXISTS editors (
    workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    email        TEXT NOT NULL,
    PRIMARY KEY (workspace_id, email)
);
"""


def _utcnow() -> datetime:
    return datetime.now(UTC)


class StoreCore:
    """A data directory with its catalog: the plumbing every part of `Store` uses, and workspaces.

    `clock` returns the current time (timezone-aware); tests pass their own to move time.
    """

    def __init__(self, data_dir: str | Path, *, clock: Callable[[], datetime] = _utcnow) -> None:
        self.data_dir = Path(data_dir)
        self._datasets_dir = self.data_dir / "datasets"
        self._catalog = self.data_dir / CATALOG_FILE
        self._now = clock
        self._local = threading.local()  # one catalog connection per thread, opened on first use
        self._datasets_dir.mkdir(parents=True, exist_ok=True)
        self._init_catalog()

    def __repr__(self) -> str:
        return f"Store({str(self.data_dir)!r})"

    # -- catalog plumbing --------------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self._catalog, timeout=BUSY_TIMEOUT_S, isolation_level=None)
        db.row_factory = sqlite3.Row
        db.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
        db.execute("PRAGMA foreign_keys = ON")
        db.execute("PRAGMA synchronous = FULL")
        return db

    @contextmanager
    def _tx(self, write: bool = False) -> Iterator[sqlite3.Connection]:
        """One transaction on this thread's connection; a write transaction takes the write lock up front."""
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None or self._local.pid != os.getpid():
            db = self._local.db = self._connect()
            self._local.pid = os.getpid()
        db.execute("BEGIN IMMEDIATE" if write else "BEGIN")
        try:
            yield db
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise

    def _init_catalog(self) -> None:
        db = self._connect()
        try:
            for attempt in range(50):  # switching to WAL needs a moment when no other process holds a lock
                try:
                    mode = db.execute("PRAGMA journal_mode = WAL").fetchone()[0]
                    break
                except sqlite3.OperationalError:
                    if attempt == 49:
                        raise
                    time.sleep(0.05)
            if str(mode).lower() != "wal":
                raise StoreError(f"catalog {self._catalog} could not switch to WAL mode (got {mode})")
            found = db.execute("PRAGMA user_version").fetchone()[0]
            if found > SCHEMA_VERSION:
                raise StoreError(
                    f"catalog {self._catalog} has schema version {found}, newer than this app ({SCHEMA_VERSION}); "
                    "update the app"
                )
            if found < SCHEMA_VERSION:
                db.executescript(f"BEGIN IMMEDIATE;{_SCHEMA}PRAGMA user_version = {SCHEMA_VERSION};COMMIT;")
        finally:
            db.close()

    @staticmethod
    def _require_workspace(db: sqlite3.Connection, workspace: str) -> sqlite3.Row:
        row = db.execute("SELECT * FROM workspaces WHERE id = ?", (workspace,)).fetchone()
        if row is None:
            raise WorkspaceNotFound(f"workspace '{workspace}' does not exist")
        return row  # type: ignore[no-any-return]

    # -- workspaces --------------------------------------------------------------------------

    def create_workspace(
        self, name: str, *, workspace_id: str | None = None, settings: Settings | None = None
    ) -> Workspace:
        """A new, empty workspace. Its id is `workspace_id` or derived from the name ('Nordic B2B' -> 'nordic-b2b')."""
        name = _clean_name(name)
        if workspace_id is not None and not _WORKSPACE_ID_RE.fullmatch(workspace_id):
            raise StoreError(
                f"workspace id '{workspace_id}' is not valid: use 1-63 lower-case letters, digits and '-'"
            )
        body = _dumps((settings or Settings()).to_dict(), "settings")
        created = _ts(self._now())
        with self._tx(write=True) as db:
            if db.execute("SELECT 1 FROM workspaces WHERE name = ?", (name,)).fetchone():
                raise WorkspaceExists(f"a workspace named '{name}' already exists; pick another name")
            if workspace_id is None:
                base = _slug(name)
                workspace_id, n = base, 1
                while db.execute("SELECT 1 FROM workspaces WHERE id = ?", (workspace_id,)).fetchone():
                    n += 1
                    workspace_id = f"{base}-{n}"
            elif db.execute("SELECT 1 FROM workspaces WHERE id = ?", (workspace_id,)).fetchone():
                raise WorkspaceExists(f"workspace id '{workspace_id}' is taken; pick another")
            db.execute(
                "INSERT INTO workspaces (id, name, created_at, settings) VALUES (?, ?, ?, ?)",
                (workspace_id, name, created, body),
            )
        return Workspace(workspace_id, name, datetime.fromisoformat(created))

    def workspaces(self) -> list[Workspace]:
        """Every workspace, by name."""
        with self._tx() as db:
            rows = db.execute("SELECT id, name, created_at FROM workspaces").fetchall()
        return sorted((Workspace(r["id"], r["name"], datetime.fromisoformat(r["created_at"])) for r in rows),
                      key=lambda w: (w.name.casefold(), w.id))

    def workspace(self, workspace: str) -> Workspace:
        with self._tx() as db:
            row = self._require_workspace(db, workspace)
        return Workspace(row["id"], row["name"], datetime.fromisoformat(row["created_at"]))

    def rename_workspace(self, workspace: str, name: str) -> Workspace:
        """Change the name people see; the id (and every link and file) stays the same."""
        name = _clean_name(name)
        with self._tx(write=True) as db:
            row = self._require_workspace(db, workspace)
            clash = db.execute("SELECT id FROM workspaces WHERE name = ? AND id <> ?", (name, workspace)).fetchone()
            if clash:
                raise WorkspaceExists(f"a workspace named '{name}' already exists; pick another name")
            db.execute("UPDATE workspaces SET name = ? WHERE id = ?", (name, workspace))
        return Workspace(workspace, name, datetime.fromisoformat(row["created_at"]))

    def delete_workspace(self, workspace: str) -> None:
        """Delete a workspace with all its versions, views, documents and editors. Its share links stop working."""
        with self._tx(write=True) as db:
            self._require_workspace(db, workspace)
            db.execute("DELETE FROM workspaces WHERE id = ?", (workspace,))  # cascades to every other table
        folder = self._datasets_dir / workspace
        if folder.exists():  # files without catalog rows are never read: an interrupted delete only leaves disk space
            shutil.rmtree(folder, ignore_errors=True)

    def settings(self, workspace: str) -> Settings:
        with self._tx() as db:
            row = self._require_workspace(db, workspace)
        return Settings.from_dict(json.loads(row["settings"]))

    def save_settings(self, workspace: str, settings: Settings) -> None:
        body = _dumps(settings.to_dict(), "settings")
        with self._tx(write=True) as db:
            self._require_workspace(db, workspace)
            db.execute("UPDATE workspaces SET settings = ? WHERE id = ?", (body, workspace))

    # -- dataset files -----------------------------------------------------------------------

    def _dataset_dir(self, workspace: str, dataset: str) -> Path:
        return self._datasets_dir / workspace / dataset

    def _write_file(self, workspace: str, dataset: str, version_id: str, frame: pl.DataFrame) -> tuple[Path, str, int]:
        """Write `frame` durably under its final immutable name; returns (path, sha256, size)."""
        folder = self._dataset_dir(workspace, dataset)
        new_folder = not folder.is_dir()
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / f".{version_id}.parquet.tmp"
        final = folder / f"{version_id}.parquet"
        try:
            with open(tmp, "xb") as fh:
                frame.write_parquet(fh, compression="zstd", statistics=True)
                fh.flush()
                os.fsync(fh.fileno())
            digest, size = _sha256_file(tmp)
            os.replace(tmp, final)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        _fsync_dir(folder)
        if new_folder:
            _fsync_dir(folder.parent)
            _fsync_dir(folder.parent.parent)
        return final, digest, size


#: Invisible characters that can reorder how a name is shown (bidirectional overrides and isolates).
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def _clean_name(name: str) -> str:
    """A workspace name as stored: blanks collapsed to single spaces; 1-100 characters, no control characters
    (NUL, escape, ...; tabs and line breaks count as blanks), no bidirectional overrides, no lone surrogates."""
    for i, char in enumerate(name if isinstance(name, str) else ""):
        if (unicodedata.category(char) in ("Cc", "Cs") and char not in "\t\n\r") or char in _BIDI_CONTROLS:
            raise StoreError(f"a workspace name cannot contain control characters (found U+{ord(char):04X} at "
                             f"character {i + 1}); type the name again without it")
    cleaned = " ".join(name.split()) if isinstance(name, str) else ""
    if not cleaned or len(cleaned) > 100:
        raise StoreError("a workspace name must be 1-100 characters")
    return cleaned
