"""Review: what to stop, start, continue, do more and do less of, per initiative or channel, with the numbers
behind each conclusion, and the team's decisions saved with the workspace for the next review to start from."""

from __future__ import annotations

from dataclasses import fields

import polars as pl
import streamlit as st

from kpi import clock
from kpi import review as kpi_review
from kpi.period import Period
from kpi.review import (
    PRESET_TERMS,
    VERDICTS,
    ReviewError,
    Rules,
    SavedReview,
    review_dimensions,
    review_key,
    review_term,
    trend_periods,
)
from ui import format as fmt
from ui import review as ui_review
from ui import workspace as data
from ui.auth import can_edit
from ui.components import page_header
from ui.i18n import dim_label, plural, t
from ui.navigation import render_page
from ui.review import DIMENSION_KEY
from ui.safe import md
from ui.share import read_only
from ui.state import ViewState, current
from ui.tables import EDITOR_DATE, show_table

EDITOR_KEY = "review_notes"
SAVED_KEY = "_review_saved"  # the confirmation to show after saving and redrawing with the saved budgets


def render_thresholds(lang: str) -> Rules:
    """Number inputs for every threshold of the rules (fractions as percentages); returns the rules."""
    defaults = Rules()
    entered: dict[str, float | None] = {}
    with st.expander(t("review.thresholds", lang), icon=":material/tune:"):
        st.caption(t("review.thresholds_help", lang))
        columns = st.columns(3)
        for i, field in enumerate(fields(Rules)):
            low, high, step, _percent = ui_review.THRESHOLD_INPUTS[field.name]
            entered[field.name] = columns[i % 3].number_input(
                t(f"review.t.{field.name}", lang), min_value=low, max_value=high,
                value=ui_review.threshold_shown(field.name, getattr(defaults, field.name)), step=step,
                format="%.0f" if step >= 1 else "%.1f", key=f"rule.{field.name}")
    return ui_review.rules_from_inputs(entered)


def render_last_review(last: SavedReview | None, lang: str) -> None:
    """The decisions of the latest earlier review, so that this one starts from them."""
    if last is None:
        st.caption(t("review.no_last", lang))
        return
    with st.container(border=True):
        st.markdown(f"**{t('review.last', lang, period=ui_review.period_label(last.period, lang))}**")
        for note in last.notes:
            text = t("review.last_line", lang, subject=md(note.subject), verdict=t(f"verdict.{note.verdict}", lang),
                     decision=md(note.decision), owner=md(note.owner), date=fmt.day(note.date, lang))
            st.markdown(text + (f" — {md(note.note)}" if note.note else ""))


def render_conclusions(table: pl.DataFrame, rules: Rules, dimension: str, state: ViewState, currency: str,
                       qualified: bool) -> None:
    """The subjects grouped by verdict, each with its reason and a way to the Campaigns view filtered to it."""
    for verdict in VERDICTS:
        group = table.filter(pl.col("verdict") == verdict)
        if group.is_empty():
            continue
        st.subheader(t("review.group", state.lang, verdict=t(f"verdict.{verdict}", state.lang), count=group.height))
        for row in group.iter_rows(named=True):
            text, button = st.columns([5, 2], vertical_alignment="center")
            text.markdown(ui_review.line(row, rules, state.lang, currency, qualified))
            if button.button(t("review.open_campaigns", state.lang), key=f"open.{row['subject']}",
                             on_click=ui_review.filter_on, args=(dimension, row["subject"]),
                             icon=":material/campaign:"):
                ui_review.open_campaigns(state, dimension, row["subject"])


def render_saved_notes(saved: SavedReview | None, dimension: str, lang: str) -> None:
    """The decisions of this review, read-only."""
    if saved is None or not saved.notes:
        st.caption(t("review.no_decisions", lang))
        return
    st.caption(t("review.read_only", lang))
    rows = pl.DataFrame([{"subject": n.subject, "verdict": t(f"verdict.{n.verdict}", lang), "decision": n.decision,
                          "owner": n.owner, "date": n.date, "note": n.note} for n in saved.notes],
                        schema={"subject": pl.String, "verdict": pl.String, "decision": pl.String,
                                "owner": pl.String, "date": pl.Date, "note": pl.String})
    labels = {c: t(f"review.col.{c}", lang) for c in rows.columns if c != "subject"}
    show_table(rows, lang, labels=labels | {"subject": dim_label(dimension, lang)}, pinned=["subject"],
               wide=["decision", "note"])


def render_editor(ws: data.Workspace, table: pl.DataFrame, dimension: str, saved: SavedReview | None,
                  state: ViewState, term: Period) -> None:
    """The decisions table in a form; saving validates every row first and saves nothing when one is wrong.
    The decisions are saved for the review's `term` (see kpi.review.review_term)."""
    lang = state.lang
    st.caption(t("review.decisions_help", lang, dimension=md(dim_label(dimension, lang).lower())))
    with st.form("review_form", border=False):
        edited = st.data_editor(
            ui_review.editor_frame(table, saved, clock.today()), key=EDITOR_KEY, hide_index=True, num_rows="fixed",
            disabled=["subject"], column_order=ui_review.EDITOR_COLUMNS, placeholder=fmt.DASH,
            column_config={
                "subject": st.column_config.TextColumn(dim_label(dimension, lang), pinned=True),
                "verdict": st.column_config.SelectboxColumn(t("review.col.verdict", lang), options=VERDICTS,
                                                            format_func=lambda v: t(f"verdict.{v}", lang),
                                                            required=True, width="medium"),
                "budget": st.column_config.NumberColumn(t("review.col.budget", lang, currency=ws.settings.currency),
                                                        min_value=0.0, format="localized"),
                "decision": st.column_config.TextColumn(t("review.col.decision", lang), width="large"),
                "owner": st.column_config.TextColumn(t("review.col.owner", lang)),
                "date": st.column_config.DateColumn(t("review.col.date", lang), format=EDITOR_DATE[lang]),
                "note": st.column_config.TextColumn(t("review.col.note", lang), width="large"),
            })
        submitted = st.form_submit_button(t("review.save", lang), key="review_save", icon=":material/save:")
    if not submitted:
        return
    notes, budgets = ui_review.from_editor(edited)
    assert ws.store_id is not None
    try:
        kpi_review.save_review(data.store(), ws.store_id, dimension, term, notes, budgets)
    except ReviewError as exc:
        st.error(t("review.refused", lang, problems=md(exc)), icon=":material/error:")
        return
    st.session_state[SAVED_KEY] = plural("review.saved", len(notes), lang, period=ui_review.period_label(term, lang))
    st.rerun()  # judge again with the budgets just saved


def render_decisions(ws: data.Workspace, table: pl.DataFrame, dimension: str, saved: SavedReview | None,
                     state: ViewState, term: Period) -> None:
    st.subheader(t("review.decisions", state.lang))
    if SAVED_KEY in st.session_state:
        st.success(st.session_state.pop(SAVED_KEY), icon=":material/check:")
    if ws.store_id is None:
        st.info(t("review.session_only", state.lang, page=t("page.workspaces", state.lang)))
    elif read_only() or not can_edit(ws):
        render_saved_notes(saved, dimension, state.lang)
    else:
        render_editor(ws, table, dimension, saved, state, term)


def saved_reviews(ws: data.Workspace, key: str, lang: str) -> tuple[SavedReview | None, SavedReview | None]:
    """This review as saved, and the latest one before it (None when there is none or no store workspace)."""
    if ws.store_id is None:
        return None, None
    found = kpi_review.saved_reviews(data.store(), ws.store_id, key)
    for problem in found.problems:
        st.warning(t("review.unreadable", lang, reason=md(problem)))
    return found.saved, found.previous


def render() -> None:
    ws = data.current()
    state = current()
    page_header("page.review", state)
    if data.currency_gaps(ws):  # a review compares costs; the header's warning says which currencies need a rate
        st.stop()
    dimensions = review_dimensions(ws.tables)
    if not dimensions:
        st.info(t("review.no_dimension", state.lang))
        st.stop()
    dimension = st.segmented_control(t("review.dimension", state.lang), dimensions, default=dimensions[0],
                                     required=True, format_func=lambda d: dim_label(d, state.lang),
                                     key=DIMENSION_KEY) or dimensions[0]
    qualified = ws.settings.qualified is not None
    if not qualified:
        st.caption(t("review.no_qualified", state.lang))
    if state.active_filters.get(dimension):
        st.caption(t("review.filter_left_out", state.lang, dimension=md(dim_label(dimension, state.lang))))
    term = review_term(state.period, PRESET_TERMS.get(state.preset))  # None for a custom period: by its length
    st.caption(t("review.term", state.lang, term=ui_review.period_label(term, state.lang)))
    key = review_key(dimension, term)
    saved, last = saved_reviews(ws, key, state.lang)
    render_last_review(last, state.lang)
    rules = render_thresholds(state.lang)
    trend = trend_periods(state.period, int(rules.trend_periods))
    st.caption(t("review.explain", state.lang, start=fmt.day(trend[-1].start, state.lang),
                 end=fmt.day(trend[1].end, state.lang)))
    table = ui_review.conclusions(ws, dimension, state, rules, saved.budgets if saved else {})
    if table.is_empty():
        st.info(t("review.nothing", state.lang))
        st.stop()
    st.caption(ui_review.target_note(table, state.lang, ws.settings.currency))
    render_conclusions(table, rules, dimension, state, ws.settings.currency, qualified)
    render_decisions(ws, table, dimension, saved, state, term)


if __name__ == "__main__":
    render_page(render)
