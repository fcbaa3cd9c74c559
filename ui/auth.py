"""Optional sign-in (st.login with an OIDC provider configured under [auth] in secrets).

Without [auth], the app is open: anyone who can reach it can edit, and anyone with a link can view;
the share dialog says so. With [auth], editing a workspace needs a signed-in editor of it (any
signed-in person while a workspace has no editors listed).

Teams without an identity provider can set a shared editor password instead (`[editor] password_sha256`
in secrets, see kpi.access): the editing app (everything but a `?view=` link) then asks for it once per
browser session. With neither, and a server that listens beyond localhost, every editing page says so.
"""

from __future__ import annotations

import time

import streamlit as st

from kpi.access import Throttle, listens_beyond_localhost, password_matches
from ui.i18n import t
from ui.workspace import Workspace, store

_UNLOCKED = "_editor_unlocked"
_THROTTLE = "_editor_throttle"


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


def editor_password_sha256() -> str | None:
    """The shared editor password's sha256 from `[editor] password_sha256` in secrets, if set."""
    try:
        section = st.secrets.get("editor")
    except FileNotFoundError:
        return None
    value = section.get("password_sha256") if section else None
    return str(value) if value else None


def require_editor_password(lang: str) -> None:
    """Without [auth] but with an editor password: ask for it once per session and stop the page until it
    is given. Wrong tries are slowed (kpi.access.Throttle); a try during the wait is not even checked."""
    expected = editor_password_sha256()
    if auth_configured() or expected is None or st.session_state.get(_UNLOCKED):
        return
    st.title(t("editor.title", lang))
    st.caption(t("editor.explain", lang))
    with st.form("editor_password"):
        entered = st.text_input(t("editor.password", lang), type="password", key="editor_password_input")
        submitted = st.form_submit_button(t("editor.unlock", lang), type="primary")
    if submitted:
        throttle: Throttle = st.session_state.get(_THROTTLE, Throttle())
        now = time.monotonic()
        wait = throttle.wait(now)
        if wait > 0:
            st.error(t("editor.wait", lang, seconds=int(wait) + 1), icon=":material/timer:")
        elif password_matches(entered, expected):
            st.session_state[_UNLOCKED] = True
            st.session_state.pop(_THROTTLE, None)
            st.rerun()
        else:
            st.session_state[_THROTTLE] = throttle.failed(now)
            st.error(t("editor.wrong", lang), icon=":material/lock:")
    st.stop()


def warn_if_open(lang: str) -> None:
    """On the editing app's pages: say so when anyone who reaches the server may edit (no sign-in, no editor
    password, and a server address other than localhost)."""
    if auth_configured() or editor_password_sha256() is not None:
        return
    address = st.get_option("server.address")
    if listens_beyond_localhost(str(address) if address else None):
        st.warning(t("editor.open_server", lang), icon=":material/lock_open:")
