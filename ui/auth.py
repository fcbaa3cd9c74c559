"""Optional sign-in (st.login with an OIDC provider configured under [auth] in secrets).

Without [auth], the app is open: anyone who can reach it can edit, and anyone with a link can view;
the share dialog says so. With [auth], editing a workspace needs a signed-in editor of it (any
signed-in person while a workspace has no editors listed).
"""

from __future__ import annotations

import streamlit as st

from ui.workspace import Workspace, store


def auth_configured() -> bool:
    try:
        return "auth" in st.secrets
    except FileNotFoundError:  # no secrets.toml at all
        return False


def user_email() -> str | None:
    if not auth_configured() or not st.user.get("is_logged_in", False):
        return None
    email = st.user.get("email")
    return str(email) if email else None


def can_edit(ws: Workspace) -> bool:
    """May the person at this browser change `ws` (save data, rename, delete, revoke links)?"""
    return can_edit_id(ws.store_id)


def can_edit_id(store_id: str | None) -> bool:
    """`can_edit` for a stored workspace known by its id (None: this session's uploads), without loading it."""
    if not auth_configured() or store_id is None:
        return True
    email = user_email()
    if email is None:
        return False
    return not store().editors(store_id) or store().is_editor(store_id, email)


def can_create() -> bool:
    """May the person at this browser create a workspace? With sign-in configured: anyone signed in."""
    return not auth_configured() or user_email() is not None
