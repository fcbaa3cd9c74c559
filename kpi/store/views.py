"""Saved views behind share links: creating, opening, listing, revoking and expiring them, and the check that
keeps credentials and personal data out of a view's state.

Share tokens are never stored: the catalog keeps the sha256 of each token (the view id), so a leaked catalog
does not leak working links.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Literal

from kpi.settings import Settings
from kpi.store.core import StoreCore, _dt, _dumps, _ts
from kpi.store.errors import (
    PersonalData,
    StoreError,
    UnsafeViewState,
    VersionNotFound,
    ViewExpired,
    ViewNotFound,
    ViewRevoked,
)
from kpi.store.versions import _check_dataset, _latest_ids

#: Bytes of entropy in a share token: secrets.token_urlsafe(32) is 256 bits in 43 url-safe characters.
TOKEN_BYTES = 32
_TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{43}")
_VIEW_ID_RE = re.compile(r"[0-9a-f]{64}")

ViewStatus = Literal["active", "revoked", "expired"]


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
MAX_STATE_DEPTH = 8


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
    if not isinstance(state, Mapping):
        raise UnsafeViewState("view state must be a dict of filters")
    _check_value(state, "", 0)
    size = len(_dumps(dict(state), "view state").encode("utf-8"))
    if size > MAX_STATE_BYTES:
        raise UnsafeViewState(f"view state is {size} bytes as JSON (at most {MAX_STATE_BYTES}); views hold filters")


def _check_value(value: object, path: str, depth: int) -> None:
    """Check one value of a view state, found at `path` `depth` levels down, and everything inside it."""
    if depth > MAX_STATE_DEPTH:
        raise UnsafeViewState(f"view state is nested too deeply at '{path}'; views hold filters, not data")
    if isinstance(value, Mapping):
        _check_mapping(value, path, depth)
    elif isinstance(value, list | tuple):
        _check_list(value, path, depth)
    elif isinstance(value, str):
        _check_text(value, path)
    elif not (value is None or isinstance(value, bool | int | float)):
        raise UnsafeViewState(
            f"view state '{path}' is a {type(value).__name__}; use text, numbers, booleans, lists or objects"
        )


def _check_mapping(value: Mapping[object, object], path: str, depth: int) -> None:
    for key, item in value.items():
        if not isinstance(key, str):
            raise UnsafeViewState(f"view state keys must be text, got {type(key).__name__} at '{path}'")
        where = f"{path}.{key}" if path else key
        if _SECRET_KEY_RE.search(re.sub(r"[^a-z]", "", key.lower())):
            raise UnsafeViewState(
                f"view state key '{where}' looks like a credential; views must never hold credentials"
            )
        _check_value(item, where, depth + 1)


def _check_list(value: list[object] | tuple[object, ...], path: str, depth: int) -> None:
    if len(value) > MAX_STATE_LIST:
        raise UnsafeViewState(
            f"view state '{path}' has {len(value)} items (at most {MAX_STATE_LIST}); "
            "views hold filters, not data"
        )
    for i, item in enumerate(value):
        _check_value(item, f"{path}[{i}]", depth + 1)


def _check_text(value: str, path: str) -> None:
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


class ViewStore(StoreCore):
    """Saved views of a workspace and their share links."""

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
        expires = _ts(expires_at) if expires_at is not None else None  # refuses a time without a time zone
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
                 expires),
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


_NOT_FOUND = "This link is not valid: no shared view matches it. Ask the person who shared it for a new link."
