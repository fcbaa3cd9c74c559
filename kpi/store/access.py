"""Who may edit a workspace: its editors' e-mail addresses (the sign-in itself is the app's, see ui/auth.py)."""

from __future__ import annotations

import re
from collections.abc import Iterable

from kpi.store.core import StoreCore
from kpi.store.errors import StoreError


class EditorStore(StoreCore):
    """The editors of each workspace."""

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


def _clean_email(email: str) -> str:
    cleaned = email.strip().lower() if isinstance(email, str) else ""
    if not re.fullmatch(r"[^@\s]+@[^@\s]+", cleaned):
        raise StoreError("an editor must be given as an e-mail address (one '@', no spaces)")
    return cleaned
