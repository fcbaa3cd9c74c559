"""Workspaces & links: save this session's uploads, see dataset versions, manage workspaces and share links."""

from __future__ import annotations

import streamlit as st

from kpi.store import Mode, StoreError
from ui import format as fmt
from ui import money
from ui import workspace as data
from ui.auth import can_create, can_edit, can_edit_id, user_email
from ui.i18n import t
from ui.navigation import render_page
from ui.safe import md
from ui.state import current
from ui.tables import show_table

MODES: tuple[Mode, ...] = ("replace", "append")
NEW = "__new__"


def render_save_uploads(lang: str) -> None:
    uploads = data.session_tables()
    if not uploads:
        return
    st.subheader(t("ws.save_uploads", lang))
    st.caption(", ".join(f"{name} ({fmt.number(frame.height, lang)})" for name, frame in uploads.items()))
    workspaces = {w.id: w.name for w in data.store().workspaces()}
    target = st.selectbox(t("ws.save_into", lang), [*workspaces, NEW], key="save_target",
                          format_func=lambda w: t("ws.new_workspace", lang) if w == NEW else workspaces[w])
    name = st.text_input(t("ws.new_name", lang), key="save_new_name") if target == NEW else workspaces[target]
    mode = st.radio(t("ws.mode", lang), MODES, key="save_mode",
                    format_func=lambda m: t(f"ws.mode.{m}", lang))
    allowed = can_create() if target == NEW else can_edit_id(target)
    if not allowed:
        st.warning(t("ws.not_editor", lang))
    if st.button(t("ws.save", lang), type="primary", key="save_uploads",
                 disabled=not allowed or (target == NEW and not name.strip())):
        try:
            saved = data.save_uploads(uploads, None if target == NEW else target, name, mode, user_email())
        except StoreError as exc:
            st.error(t("ws.save_failed", lang, reason=md(exc)))
        else:
            st.success(t("ws.saved", lang, tables=", ".join(uploads), name=md(saved.name)))


def render_datasets(ws: data.Workspace, lang: str) -> None:
    st.subheader(t("ws.datasets", lang))
    if ws.store_id is None:
        return
    versions = data.version_table(ws.store_id)
    if versions.is_empty():
        st.info(t("ws.no_datasets", lang))
        return
    show_table(versions, lang, labels={c: t(f"col.{c}", lang) for c in versions.columns})


def render_links(ws: data.Workspace, lang: str, editable: bool) -> None:
    st.subheader(t("ws.links", lang))
    if ws.store_id is None:
        return
    views = data.store().list_views(ws.store_id)
    if not views:
        st.caption(t("ws.no_links", lang))
        return
    for view in views:
        cols = st.columns([2, 2, 2, 2, 1], vertical_alignment="center")
        cols[0].text(f"{view.page} · {t('ws.scope.slice' if view.slice else 'ws.scope.explore', lang)}")
        cols[1].text(view.created_by or t("share.someone", lang))
        cols[2].write(fmt.day(view.created_at.date(), lang))
        cols[3].write(view.status + (f" · {fmt.day(view.expires_at.date(), lang)}" if view.expires_at else ""))
        if view.status == "active" and editable and cols[4].button(t("ws.revoke", lang), key=f"revoke_{view.id}"):
            data.store().revoke_view(view.id)
            st.toast(t("ws.revoked", lang))
            st.rerun()


def render_manage(ws: data.Workspace, lang: str, editable: bool) -> None:
    st.subheader(t("ws.manage", lang))
    if not can_create():
        return
    with st.form("create_workspace", clear_on_submit=True):
        name = st.text_input(t("ws.new_name", lang))
        if st.form_submit_button(t("ws.create", lang)) and name.strip():
            try:
                created = data.create_workspace(name, user_email())
            except StoreError as exc:
                st.error(md(exc))
            else:
                st.success(t("ws.created", lang, name=md(created.name)))
    if ws.store_id is None or not editable:
        return
    with st.form("rename_workspace"):
        new_name = st.text_input(t("ws.rename", lang), value=ws.name)
        if st.form_submit_button(t("ws.rename_button", lang)) and new_name.strip() and new_name != ws.name:
            try:
                data.store().rename_workspace(ws.store_id, new_name)
            except StoreError as exc:
                st.error(md(exc))
            else:
                st.rerun()
    with st.expander(t("ws.delete", lang), icon=":material/delete:"):
        confirm = st.text_input(t("ws.delete_confirm", lang), key="delete_confirm")
        if st.button(t("ws.delete_button", lang), type="primary", disabled=confirm != ws.name, key="delete_ws"):
            data.store().delete_workspace(ws.store_id)
            st.session_state.pop(data.WORKSPACE_KEY, None)
            st.toast(t("ws.deleted", lang, name=md(ws.name)))
            st.rerun()


def render() -> None:
    ws = data.current()
    lang = current().lang
    editable = can_edit(ws)
    st.title(t("ws.current", lang, name=md(data.workspace_name(ws.store_id or "", ws.name, lang))))
    if not editable:
        st.warning(t("ws.not_editor", lang))
    render_save_uploads(lang)
    render_datasets(ws, lang)
    render_links(ws, lang, editable)
    money.render_settings(ws, lang, editable)
    render_manage(ws, lang, editable)


if __name__ == "__main__":
    render_page(render)
