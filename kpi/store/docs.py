"""A generic JSON document store per workspace, for anything without a table of its own (review notes, the
import mappings people saved, ...)."""

from __future__ import annotations

import json
from typing import Any

from kpi.store.core import StoreCore, _dumps, _ts
from kpi.store.errors import DamagedDocument, StoreError


class DocumentStore(StoreCore):
    """JSON documents of a workspace, by (kind, key)."""

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
