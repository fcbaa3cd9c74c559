"""Share links: "Share this view" in the sidebar, and opening `?view=TOKEN` read-only.

A shared view pins the page, the view parameters (period, filters, language) and the exact dataset
versions and settings, so the link shows the same numbers later, whatever is uploaded meanwhile,
unless the sharer chose to follow the latest data. Tokens are shown once and stored only hashed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit, urlunsplit

import streamlit as st

from kpi.store import SLICE_KEY, PersonalData, StoreError, View, ViewError
from ui import format as fmt
from ui.auth import auth_configured, user_email
from ui.i18n import dim_label, t
from ui.safe import md
from ui.state import ViewState, view_params
from ui.workspace import Workspace, store, stored_workspace, workspace_name

VIEW_PARAM = "view"
SIGN_IN = "sign_in"  # a view's state flag: only signed-in people may open it
EXPIRY_DAYS = (None, 7, 30, 90)
SCOPES = ("explore", "slice")  # viewers may explore the workspace / see only the filtered slice
_LINK = "_share_link"


@dataclass(frozen=True)
class Shared:
    view: View
    workspace: Workspace

    @property
    def params(self) -> dict[str, list[str]]:
        return {k: v if isinstance(v, list) else [str(v)] for k, v in self.view.state.items()
                if k not in (SIGN_IN, SLICE_KEY)}


def describe_slice(slice: dict[str, list[str]], lang: str) -> str:
    """'Channel: Meta; Region: Nord' as literal markdown text (the values come from data)."""
    return "; ".join(f"{md(dim_label(d, lang))}: {', '.join(md(v) for v in values)}" for d, values in slice.items())


def read_only() -> bool:
    """Is this page opened from a shared link? Then it shows and changes nothing beyond the view
    (a bad link has stopped the app already, in `open_shared_view`)."""
    return bool(st.query_params.get(VIEW_PARAM))


def open_shared_view(lang: str) -> Shared | None:
    """The shared view named in the URL, or None when there is none. A bad link stops the app with
    a message and shows no data."""
    token = st.query_params.get(VIEW_PARAM)
    if not token:
        return None
    try:
        view = store().resolve_view(token)
    except ViewError as exc:
        st.error(t("share.invalid", lang, reason=str(exc)), icon=":material/link_off:")
        st.stop()
    if view.state.get(SIGN_IN) and auth_configured() and not st.user.get("is_logged_in", False):
        st.info(t("share.sign_in_to_view", lang))
        st.button(t("share.sign_in", lang), on_click=st.login)
        st.stop()
    return Shared(view, stored_workspace(view.workspace, view.dataset_versions, view.settings, slice=view.slice))


def _scope_caption(slice: dict[str, list[str]] | None, lang: str) -> str:
    return (t("share.is_slice", lang, slice=describe_slice(slice, lang)) if slice
            else t("share.is_explore", lang))


def render_banner(shared: Shared, lang: str) -> None:
    view = shared.view
    who = view.created_by or t("share.someone", lang)
    when = fmt.day(view.created_at.date(), lang)
    who, scope = md(who), _scope_caption(view.slice, lang)
    if view.follow_latest:
        st.info(t("share.banner_latest", lang, who=who, when=when) + " " + scope, icon=":material/visibility:")
        return
    st.info(t("share.banner", lang, who=who, when=when, data=data_description(shared, lang)) + " " + scope,
            icon=":material/visibility:")


def data_description(shared: Shared, lang: str) -> str:
    """The pinned data in words a reader outside the team follows: the workspace, the last day its data
    covers and when it was saved (not the internal dataset versions and their sources)."""
    ws = shared.workspace
    saved = [store().version(shared.view.workspace, d, v).created_at.date()
             for d, v in shared.view.dataset_versions.items()]
    return t("share.data_as_of", lang, workspace=md(workspace_name(shared.view.workspace, ws.name, lang)),
             day=fmt.day(ws.last_day, lang) if ws.last_day else fmt.DASH,
             saved=fmt.day(max(saved), lang) if saved else fmt.DASH)


def _link(token: str) -> str:
    """The app's root with the token: the shared view itself says which page opens first."""
    parts = urlsplit(st.context.url or "http://localhost:8501/")
    return urlunsplit((parts.scheme, parts.netloc, "/", f"{VIEW_PARAM}={token}", ""))


def render_share_button(ws: Workspace, state: ViewState, page: str, lang: str) -> None:
    """The sidebar's "Share this view" popover: options, then the link, shown once."""
    with st.sidebar.popover(t("share.button", lang), icon=":material/share:", width="stretch"):
        if ws.store_id is None:
            st.info(t("share.save_first", lang))
            return
        follow = st.checkbox(t("share.follow_latest", lang), key="share_follow")
        days = st.selectbox(t("share.expiry", lang), EXPIRY_DAYS, key="share_expiry",
                            format_func=lambda d: t(f"share.expiry.{d or 'never'}", lang))
        sign_in = auth_configured() and st.checkbox(t("share.require_sign_in", lang), key="share_sign_in")
        scope = st.radio(t("share.scope", lang), SCOPES, key="share_scope",
                         format_func=lambda s: t(f"share.scope.{s}", lang))
        sliced = scope == "slice"
        if sliced and not state.active_filters:
            st.caption(t("share.slice_needs_filter", lang))
        if st.button(t("share.create", lang), type="primary", key="share_create",
                     disabled=sliced and not state.active_filters):
            expires = datetime.now(UTC) + timedelta(days=days) if days else None
            params = view_params(state) | ({SIGN_IN: True} if sign_in else {})
            try:
                token = store().create_view(ws.store_id, page, params,
                                            None if follow else ws.versions, created_by=user_email(),
                                            follow_latest=follow, expires_at=expires,
                                            slice=state.active_filters if sliced else None)
            except PersonalData as exc:
                dim = md(dim_label(exc.path.split("[")[0].split(".")[0], lang))
                st.session_state.pop(_LINK, None)
                st.error(t(f"share.personal.{exc.kind}", lang, filter=dim), icon=":material/block:")
            except StoreError as exc:
                st.session_state.pop(_LINK, None)
                st.error(t("share.refused", lang, reason=md(str(exc))), icon=":material/block:")
            else:
                st.session_state[_LINK] = (_link(token), state.active_filters if sliced else None)
        made = st.session_state.get(_LINK)
        if made:
            link, slice = made
            st.code(link, language=None)
            st.caption(t("share.created", lang))
            st.caption(_scope_caption(slice, lang))
        st.caption(t("share.signed_in_only", lang) if auth_configured() else t("share.anyone", lang))
