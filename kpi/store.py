"""Workspaces on disk: a SQLite catalog plus immutable dataset versions in Parquet.

Layout of a data directory::

    <data_dir>/catalog.sqlite                                  workspaces, versions, views, docs, editors
    <data_dir>/datasets/<workspace>/<dataset>/<version>.parquet   one immutable file per dataset version

A workspace holds one dataset per canonical table (leads, spend, traffic, touches, events, kpis),
its settings, saved views (share links), editors and a generic JSON document store for anything
else (review notes, ...). Every save makes a new version; versions are never changed or deleted,
so a share link pinned to a version keeps showing the same numbers.

Durability: a save writes the Parquet file to a temporary name in its final folder, fsyncs it,
renames it into place, fsyncs the folder and only then records it in one catalog transaction.
A process killed at any point leaves either the previous state or the new one; at worst an
unreferenced file remains, which `collect_garbage` removes. Loading checks the file's sha256
against the catalog and refuses to serve a file that does not match.

Several threads and processes may use one data directory at once: SQLite serialises catalog
writes (WAL mode, busy timeout), version numbers are assigned inside that transaction, and an
append whose base changed meanwhile is rebuilt on the new latest version.

Share tokens are never stored: the catalog keeps the sha256 of each token (the view id), so a
leaked catalog does not leak working links. Nothing here logs tokens, e-mail addresses or data.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import secrets
import shutil
import sqlite3
import threading
import time
import unicodedata
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import polars as pl

from kpi.schema import TABLES, Problem, validate
from kpi.settings import Settings

#: Environment variable that sets the data directory (else `<repo>/data`, which git ignores).
DATA_DIR_ENV = "KPI_DATA_DIR"
CATALOG_FILE = "catalog.sqlite"
SCHEMA_VERSION = 1
BUSY_TIMEOUT_S = 30.0
#: How many times an append is rebuilt when another writer saved the same dataset meanwhile.
APPEND_ATTEMPTS = 50
#: Bytes of entropy in a share token: secrets.token_urlsafe(32) is 256 bits in 43 url-safe characters.
TOKEN_BYTES = 32
_TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{43}")
_VIEW_ID_RE = re.compile(r"[0-9a-f]{64}")
_WORKSPACE_ID_RE = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")

Mode = Literal["replace", "append"]
ViewStatus = Literal["active", "revoked", "expired"]


def default_data_dir() -> Path:
    """The data directory: env KPI_DATA_DIR if set, else `data/` in the project folder."""
    configured = os.environ.get(DATA_DIR_ENV, "").strip()
    return Path(configured).expanduser() if configured else Path(__file__).resolve().parent.parent / "data"


# ---------------------------------------------------------------------------------------------
# Errors: each message names the workspace, dataset and version concerned, never a token or data.


class StoreError(Exception):
    """Anything the store refuses or cannot do; the message says what and what to do about it."""


class WorkspaceNotFound(StoreError):
    pass


class WorkspaceExists(StoreError):
    pass


class VersionNotFound(StoreError):
    pass


class CorruptVersion(StoreError):
    """A dataset version's file is missing, torn or altered; it is never served."""


class InvalidDataset(StoreError):
    """A frame failed `kpi.schema.validate`; `problems` lists every error. Nothing was saved."""

    def __init__(self, message: str, problems: list[Problem]) -> None:
        super().__init__(message)
        self.problems = problems


class DamagedDocument(StoreError):
    """A stored document's body cannot be read back as JSON; it is never replaced by an empty one."""


class SaveConflict(StoreError):
    """An append could not be applied because other writers kept saving the same dataset."""


class UnsafeViewState(StoreError):
    """A saved view's state holds something that looks like a credential or raw data."""


class PersonalData(UnsafeViewState):
    """A view's filter value looks like personal data (an e-mail address or a phone number): a link must
    not pin a person. `path` names the filter ('owner[0]'), `kind` is "email" or "phone"; never the value."""

    def __init__(self, path: str, kind: Literal["email", "phone"]) -> None:
        what = "an e-mail address" if kind == "email" else "a phone number"
        super().__init__(f"view state '{path}' looks like {what}: links must not pin personal data; "
                         "remove that filter and share again")
        self.path = path
        self.kind = kind


class ViewError(StoreError):
    """A share link cannot be opened; the message is fit to show to whoever opened it."""


class ViewNotFound(ViewError):
    pass


class ViewRevoked(ViewError):
    pass


class ViewExpired(ViewError):
    pass


# ---------------------------------------------------------------------------------------------
# Records returned by the store.


@dataclass(frozen=True)
class Workspace:
    id: str  # stable, url- and path-safe; every other call takes this id
    name: str  # shown to people; unique (case-insensitive), can be renamed
    created_at: datetime


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


@dataclass(frozen=True)
class View:
    """A saved view behind a share link.

    For a view that follows the latest data, `resolve_view` fills `dataset_versions` and `settings`
    with what is current when the link is opened; otherwise they are what was pinned at creation.
    """

    id: str  # sha256 hex of the token: safe to show and to revoke with, useless as a link
    workspace: str
    page: str
    state: dict[str, Any]
    dataset_versions: dict[str, str]  # dataset -> version id
    settings: Settings
    title: str | None
    created_by: str | None
    created_at: datetime
    follow_latest: bool
    expires_at: datetime | None
    revoked_at: datetime | None
    status: ViewStatus

    @property
    def slice(self) -> dict[str, list[str]] | None:
        """The filters a slice-only link is bound to (dimension -> values; every query of the shared view is
        ANDed with them), or None when viewers may explore the whole workspace."""
        pinned = self.state.get(SLICE_KEY)
        return {str(d): [str(v) for v in values] for d, values in pinned.items()} if pinned else None


# ---------------------------------------------------------------------------------------------
# Small helpers.


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


def token_id(token: str) -> str:
    """The view id stored for a share token: sha256 hex of the token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


# Keys and values that a filter state never needs and a credential or a data dump would have.
_SECRET_KEY_RE = re.compile(
    r"passw|passwd|pwd|secret|token|privatekey|credential|apikey|accesskey|authorization|bearer|cookie|session(id|key)"
)
_SECRET_VALUE_RE = re.compile(
    r"-----BEGIN [A-Z ]*(PRIVATE KEY|CERTIFICATE)|^Bearer\s|^eyJ[\w-]+\.[\w-]+\.|AIza[0-9A-Za-z_-]{35}|^ya29\.|^1//0"
)
# Personal data a filter value must not be: an e-mail address anywhere in it, or a whole value that is a phone
# number (7-15 digits with a leading + or 0 or separators between groups; an ISO date or a plain id is not one).
_EMAIL_RE = re.compile(r"[^\s@<>()\[\]]+@[^\s@<>()\[\]]+\.[A-Za-z]{2,}")
_PHONE_RE = re.compile(r"\s*(\+|00|0|\(0?)?\d[\d\s().\-/]*")
_PHONE_GAP_RE = re.compile(r"\d[\s().\-/]+\d")
_ISO_DATE_RE = re.compile(r"\s*\d{4}-\d{2}-\d{2}([T ][\d:.]+)?\s*")
#: The state key of a slice-only link's bound filters (see `View.slice`).
SLICE_KEY = "slice"
MAX_STATE_STRING = 2048
MAX_STATE_LIST = 1000
MAX_STATE_BYTES = 32 * 1024


def personal_kind(value: str) -> Literal["email", "phone"] | None:
    """Is `value` personal data a link must not pin: "email", "phone", or None.

    >>> personal_kind("anna@example.se"), personal_kind("+46 70-123 45 67"), personal_kind("070-1234567")
    ('email', 'phone', 'phone')
    >>> personal_kind("2026-01-31"), personal_kind("12345678901"), personal_kind("@SUM(A1)")
    (None, None, None)
    """
    if _EMAIL_RE.search(value):
        return "email"
    if _PHONE_RE.fullmatch(value) and not _ISO_DATE_RE.fullmatch(value):
        digits = sum(c.isdigit() for c in value)
        stripped = value.strip()
        marked = stripped.startswith(("+", "0", "(")) or _PHONE_GAP_RE.search(stripped) is not None
        if 7 <= digits <= 15 and marked:
            return "phone"
    return None


def check_view_state(state: Mapping[str, Any]) -> None:
    """Raise UnsafeViewState unless `state` is small JSON made of filters, not credentials or data.

    Refused: keys that name a credential (password, token, secret, private_key, credentials, api_key,
    cookie, ...), values that look like one (PEM keys, bearer tokens, JWTs, Google API keys), personal data
    (e-mail addresses and phone numbers, see `personal_kind`: PersonalData), strings over 2 KB, lists over
    1,000 items, and states over 32 KB as JSON. Messages name the key, never the value.
    """

    def walk(value: object, path: str, depth: int) -> None:
        if depth > 8:
            raise UnsafeViewState(f"view state is nested too deeply at '{path}'; views hold filters, not data")
        if isinstance(value, Mapping):
            for key, item in value.items():
                if not isinstance(key, str):
                    raise UnsafeViewState(f"view state keys must be text, got {type(key).__name__} at '{path}'")
                where = f"{path}.{key}" if path else key
                if _SECRET_KEY_RE.search(re.sub(r"[^a-z]", "", key.lower())):
                    raise UnsafeViewState(
                        f"view state key '{where}' looks like a credential; views must never hold credentials"
                    )
                walk(item, where, depth + 1)
        elif isinstance(value, list | tuple):
            if len(value) > MAX_STATE_LIST:
                raise UnsafeViewState(
                    f"view state '{path}' has {len(value)} items (at most {MAX_STATE_LIST}); "
                    "views hold filters, not data"
                )
            for i, item in enumerate(value):
                walk(item, f"{path}[{i}]", depth + 1)
        elif isinstance(value, str):
            if len(value) > MAX_STATE_STRING:
                raise UnsafeViewState(
                    f"view state '{path}' is {len(value)} characters (at most {MAX_STATE_STRING}); "
                    "views hold filters, not data"
                )
            if _SECRET_VALUE_RE.search(value):
                raise UnsafeViewState(f"view state '{path}' looks like a credential; views must never hold credentials")
            kind = personal_kind(value)
            if kind is not None:
                raise PersonalData(path, kind)
        elif not (value is None or isinstance(value, bool | int | float)):
            raise UnsafeViewState(
                f"view state '{path}' is a {type(value).__name__}; use text, numbers, booleans, lists or objects"
            )

    if not isinstance(state, Mapping):
        raise UnsafeViewState("view state must be a dict of filters")
    walk(state, "", 0)
    size = len(_dumps(dict(state), "view state").encode("utf-8"))
    if size > MAX_STATE_BYTES:
        raise UnsafeViewState(f"view state is {size} bytes as JSON (at most {MAX_STATE_BYTES}); views hold filters")


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


class Store:
    """A data directory with its catalog. Safe to share between threads; each process opens its own.

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
        if folder.exists():  # files without catalog rows are harmless; collect_garbage finishes an interrupted delete
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

    # -- datasets ----------------------------------------------------------------------------

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
            return Version(version_id, workspace, dataset, number, datetime.fromisoformat(created), mode, latest_id,
                           source, json.loads(report_json), digest, frame.height, size, created_by)
        raise SaveConflict(
            f"could not append to {dataset} in workspace '{workspace}': other saves kept changing it; try again"
        )

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

    def verify(self, workspace: str | None = None) -> list[CorruptVersion]:
        """Check every version's file (of one workspace or all); returns the problems found."""
        with self._tx() as db:
            sql = "SELECT * FROM versions" + (" WHERE workspace_id = ?" if workspace else "")
            rows = db.execute(sql, (workspace,) if workspace else ()).fetchall()
        problems = []
        for row in rows:
            try:
                self._read(self._version(row))
            except CorruptVersion as exc:
                problems.append(exc)
        return problems

    def collect_garbage(self, older_than: timedelta = timedelta(hours=1)) -> list[Path]:
        """Delete files no catalog row points at (left by interrupted saves or deletes); returns them.

        Only files older than `older_than` go, so a save that wrote its file but has not yet
        committed its catalog row is left alone.
        """
        with self._tx() as db:
            known = {(r["workspace_id"], r["dataset"], r["id"])
                     for r in db.execute("SELECT workspace_id, dataset, id FROM versions")}
        cutoff = time.time() - older_than.total_seconds()
        removed: list[Path] = []
        for path in sorted(self._datasets_dir.glob("*/*/*")):
            ws, dataset, name = path.parts[-3:]
            orphan = name.endswith(".parquet.tmp") or (
                name.endswith(".parquet") and (ws, dataset, name.removesuffix(".parquet")) not in known
            )
            try:
                if orphan and path.is_file() and path.stat().st_mtime <= cutoff:
                    path.unlink()
                    removed.append(path)
            except FileNotFoundError:
                continue
        for folder in sorted(self._datasets_dir.glob("*/*"), reverse=True) + sorted(self._datasets_dir.glob("*")):
            if folder.is_dir() and not any(folder.iterdir()):
                folder.rmdir()
        return removed

    # -- saved views and share links ---------------------------------------------------------

    def create_view(
        self,
        workspace: str,
        page: str,
        state: Mapping[str, Any],
        dataset_versions: Mapping[str, str] | None = None,
        *,
        created_by: str | None = None,
        follow_latest: bool = False,
        expires_at: datetime | None = None,
        title: str | None = None,
        slice: Mapping[str, Sequence[str]] | None = None,
    ) -> str:
        """Save a view and return its share token (256 random bits, url-safe; show it once, it is not stored).

        `dataset_versions` pins the data (default: the latest version of every dataset now); the
        workspace settings are pinned too. With `follow_latest` the link shows whatever is latest
        when opened. `state` holds filters and language only (see `check_view_state`). A `slice`
        (dimension -> values, at least one value) makes the link slice-only: it is kept with the view
        (`View.slice`) and its viewers see only those rows, whatever filters they choose.
        """
        page = page.strip() if isinstance(page, str) else ""
        if not page or len(page) > 200:
            raise StoreError("a view needs the page it shows (1-200 characters)")
        if slice is not None:
            bound = {str(d): [str(v) for v in values] for d, values in slice.items() if values}
            if not bound:
                raise StoreError("a slice-only link needs at least one filter value to bind its viewers to")
            state = {**state, SLICE_KEY: bound}
        elif SLICE_KEY in state:
            raise StoreError(f"'{SLICE_KEY}' in a view's state is set through `slice`, not by hand")
        check_view_state(state)
        if expires_at is not None and expires_at <= self._now():
            raise StoreError("a new view's expiry must be in the future")
        if title is not None and len(title) > 200:
            raise StoreError("a view's title must be at most 200 characters")
        token = secrets.token_urlsafe(TOKEN_BYTES)
        with self._tx(write=True) as db:
            row = self._require_workspace(db, workspace)
            if dataset_versions is None:
                pinned = _latest_ids(db, workspace)
            else:
                pinned = dict(dataset_versions)
                for name, vid in pinned.items():
                    _check_dataset(name)
                    if not db.execute("SELECT 1 FROM versions WHERE id = ? AND workspace_id = ? AND dataset = ?",
                                      (vid, workspace, name)).fetchone():
                        raise VersionNotFound(f"workspace '{workspace}' has no version {vid} of dataset '{name}'")
            db.execute(
                "INSERT INTO views (id, workspace_id, page, state, versions, settings, title, created_by, created_at, "
                "follow_latest, expires_at, revoked_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,NULL)",
                (token_id(token), workspace, page, _dumps(dict(state), "view state"), _dumps(pinned, "versions"),
                 row["settings"], title, created_by, _ts(self._now()), int(follow_latest),
                 _ts(expires_at) if expires_at else None),
            )
        return token

    def resolve_view(self, token: str) -> View:
        """The view behind a share token, or ViewNotFound / ViewRevoked / ViewExpired (never any data)."""
        if not isinstance(token, str) or not _TOKEN_RE.fullmatch(token):
            raise ViewNotFound(_NOT_FOUND)
        now = self._now()
        with self._tx() as db:
            row = db.execute("SELECT * FROM views WHERE id = ?", (token_id(token),)).fetchone()
            if row is None:
                raise ViewNotFound(_NOT_FOUND)
            view = self._view(row, now)
            if view.status == "revoked":
                raise ViewRevoked(f"This link was revoked on {view.revoked_at:%Y-%m-%d %H:%M} UTC. "
                                  "Ask the person who shared it for a new link.")
            if view.status == "expired":
                raise ViewExpired(f"This link expired on {view.expires_at:%Y-%m-%d %H:%M} UTC. "
                                  "Ask the person who shared it for a new link.")
            if view.follow_latest:
                ws = self._require_workspace(db, view.workspace)
                view = replace(view, dataset_versions=_latest_ids(db, view.workspace),
                               settings=Settings.from_dict(json.loads(ws["settings"])))
        return view

    def list_views(self, workspace: str) -> list[View]:
        """Every saved view of the workspace (active, revoked and expired), newest first."""
        now = self._now()
        with self._tx() as db:
            self._require_workspace(db, workspace)
            rows = db.execute("SELECT * FROM views WHERE workspace_id = ? ORDER BY created_at DESC, id",
                              (workspace,)).fetchall()
        return [self._view(r, now) for r in rows]

    def revoke_view(self, token_or_id: str) -> None:
        """Stop a link from working, by its token or its view id. Revoking twice keeps the first time."""
        with self._tx(write=True) as db:
            key = self._existing_view(db, token_or_id)
            db.execute("UPDATE views SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?", (_ts(self._now()), key))

    def set_view_expiry(self, token_or_id: str, expires_at: datetime | None) -> None:
        """Set (or with None clear) when a link stops working, by its token or its view id."""
        with self._tx(write=True) as db:
            key = self._existing_view(db, token_or_id)
            db.execute("UPDATE views SET expires_at = ? WHERE id = ?", (_ts(expires_at) if expires_at else None, key))

    @staticmethod
    def _existing_view(db: sqlite3.Connection, token_or_id: str) -> str:
        key = token_or_id if _VIEW_ID_RE.fullmatch(token_or_id) else token_id(token_or_id)
        if not db.execute("SELECT 1 FROM views WHERE id = ?", (key,)).fetchone():
            raise ViewNotFound(_NOT_FOUND)
        return key

    @staticmethod
    def _view(row: sqlite3.Row, now: datetime) -> View:
        expires, revoked = _dt(row["expires_at"]), _dt(row["revoked_at"])
        status: ViewStatus = "revoked" if revoked else "expired" if expires and expires <= now else "active"
        return View(
            row["id"], row["workspace_id"], row["page"], json.loads(row["state"]), json.loads(row["versions"]),
            Settings.from_dict(json.loads(row["settings"])), row["title"], row["created_by"],
            datetime.fromisoformat(row["created_at"]), bool(row["follow_latest"]), expires, revoked, status,
        )

    # -- editors -----------------------------------------------------------------------------

    def set_editors(self, workspace: str, emails: Iterable[str]) -> list[str]:
        """Replace the workspace's editors (e-mail addresses, compared case-insensitively); returns them sorted."""
        cleaned = sorted({_clean_email(e) for e in emails})
        with self._tx(write=True) as db:
            self._require_workspace(db, workspace)
            db.execute("DELETE FROM editors WHERE workspace_id = ?", (workspace,))
            db.executemany("INSERT INTO editors (workspace_id, email) VALUES (?, ?)",
                           [(workspace, e) for e in cleaned])
        return cleaned

    def editors(self, workspace: str) -> list[str]:
        with self._tx() as db:
            self._require_workspace(db, workspace)
            return [r["email"] for r in db.execute(
                "SELECT email FROM editors WHERE workspace_id = ? ORDER BY email", (workspace,))]

    def is_editor(self, workspace: str, email: str | None) -> bool:
        if not email or not email.strip():
            return False
        with self._tx() as db:
            return db.execute("SELECT 1 FROM editors WHERE workspace_id = ? AND email = ?",
                              (workspace, email.strip().lower())).fetchone() is not None

    # -- documents ---------------------------------------------------------------------------

    def put_doc(self, workspace: str, kind: str, key: str, doc: Any) -> None:
        """Store a JSON document under (kind, key) in the workspace, replacing any earlier one."""
        _check_doc_name(kind, key)
        body = _dumps(doc, f"document {kind}/{key}")
        with self._tx(write=True) as db:
            self._require_workspace(db, workspace)
            db.execute("INSERT INTO docs (workspace_id, kind, key, body, updated_at) VALUES (?,?,?,?,?) "
                       "ON CONFLICT (workspace_id, kind, key) DO UPDATE SET body = excluded.body, "
                       "updated_at = excluded.updated_at",
                       (workspace, kind, key, body, _ts(self._now())))

    def get_doc(self, workspace: str, kind: str, key: str, default: Any = None) -> Any:
        with self._tx() as db:
            self._require_workspace(db, workspace)
            row = db.execute("SELECT body FROM docs WHERE workspace_id = ? AND kind = ? AND key = ?",
                             (workspace, kind, key)).fetchone()
        return _load_doc(row["body"], workspace, kind, key) if row else default

    def docs(self, workspace: str, kind: str) -> dict[str, Any]:
        """Every document of one kind, by key."""
        with self._tx() as db:
            self._require_workspace(db, workspace)
            rows = db.execute("SELECT key, body FROM docs WHERE workspace_id = ? AND kind = ? ORDER BY key",
                              (workspace, kind)).fetchall()
        return {r["key"]: _load_doc(r["body"], workspace, kind, r["key"]) for r in rows}

    def delete_doc(self, workspace: str, kind: str, key: str) -> bool:
        """Remove a document; returns whether there was one."""
        with self._tx(write=True) as db:
            self._require_workspace(db, workspace)
            cur = db.execute("DELETE FROM docs WHERE workspace_id = ? AND kind = ? AND key = ?", (workspace, kind, key))
            return cur.rowcount > 0


_NOT_FOUND = "This link is not valid: no shared view matches it. Ask the person who shared it for a new link."


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


def _clean_email(email: str) -> str:
    cleaned = email.strip().lower() if isinstance(email, str) else ""
    if not re.fullmatch(r"[^@\s]+@[^@\s]+", cleaned):
        raise StoreError("an editor must be given as an e-mail address (one '@', no spaces)")
    return cleaned


def _load_doc(body: str, workspace: str, kind: str, key: str) -> Any:
    """A document's body as JSON, or DamagedDocument naming it and saying what to do."""
    try:
        return json.loads(body)
    except (TypeError, ValueError) as exc:
        raise DamagedDocument(
            f"workspace '{workspace}': the saved {kind} '{key}' is damaged (not readable as JSON: {exc}); "
            "it was not used and nothing was changed. Save it again to replace it."
        ) from None


def _check_doc_name(kind: str, key: str) -> None:
    for what, value in (("kind", kind), ("key", key)):
        if not isinstance(value, str) or not value or len(value) > 200:
            raise StoreError(f"a document {what} must be 1-200 characters")
