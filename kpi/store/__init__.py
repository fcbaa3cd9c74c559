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
unreferenced file remains, which nothing reads (versions are found through the catalog only) and
which is left on disk. Loading checks the file's sha256 against the catalog and refuses to serve a
file that does not match.

Several threads and processes may use one data directory at once: SQLite serialises catalog
writes (WAL mode, busy timeout), version numbers are assigned inside that transaction, and an
append whose base changed meanwhile is rebuilt on the new latest version.

Share tokens are never stored: the catalog keeps the sha256 of each token (the view id), so a
leaked catalog does not leak working links. Nothing here logs tokens, e-mail addresses or data.

The parts: `core` (data directory, catalog, transactions, durable writes, workspaces), `versions` (datasets
and their versions), `views` (saved views and share links), `access` (editors), `docs` (workspace documents),
`prepared` (each version's prepared form) and `errors`. `Store` combines them; import everything from `kpi.store`.
"""

from __future__ import annotations

from kpi.store.access import EditorStore
from kpi.store.core import (
    BUSY_TIMEOUT_S,
    CATALOG_FILE,
    DATA_DIR_ENV,
    SCHEMA_VERSION,
    Workspace,
    default_data_dir,
)
from kpi.store.errors import (
    CorruptVersion,
    DamagedDocument,
    InvalidDataset,
    PersonalData,
    SaveConflict,
    StoreError,
    UnsafeViewState,
    VersionNotFound,
    ViewError,
    ViewExpired,
    ViewNotFound,
    ViewRevoked,
    WorkspaceExists,
    WorkspaceNotFound,
)
from kpi.store.prepared import PREPARED_KIND, PreparedStore
from kpi.store.versions import APPEND_ATTEMPTS, Mode, Version, refusals
from kpi.store.views import (
    MAX_STATE_BYTES,
    MAX_STATE_DEPTH,
    MAX_STATE_LIST,
    MAX_STATE_STRING,
    SLICE_KEY,
    TOKEN_BYTES,
    View,
    ViewStatus,
    ViewStore,
    check_view_state,
    personal_kind,
    token_id,
)

__all__ = [
    "APPEND_ATTEMPTS",
    "BUSY_TIMEOUT_S",
    "CATALOG_FILE",
    "DATA_DIR_ENV",
    "MAX_STATE_BYTES",
    "MAX_STATE_DEPTH",
    "MAX_STATE_LIST",
    "MAX_STATE_STRING",
    "PREPARED_KIND",
    "SCHEMA_VERSION",
    "SLICE_KEY",
    "TOKEN_BYTES",
    "CorruptVersion",
    "DamagedDocument",
    "InvalidDataset",
    "Mode",
    "PersonalData",
    "PreparedStore",
    "SaveConflict",
    "Store",
    "StoreError",
    "UnsafeViewState",
    "Version",
    "VersionNotFound",
    "View",
    "ViewError",
    "ViewExpired",
    "ViewNotFound",
    "ViewRevoked",
    "ViewStatus",
    "Workspace",
    "WorkspaceExists",
    "WorkspaceNotFound",
    "check_view_state",
    "default_data_dir",
    "personal_kind",
    "refusals",
    "token_id",
]


class Store(PreparedStore, ViewStore, EditorStore):
    """A data directory with its catalog. Safe to share between threads; each process opens its own.

    `clock` returns the current time (timezone-aware); tests pass their own to move time.
    """
