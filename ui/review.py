"""The Review page's helpers: conclusions on the cached engine, each verdict's sentence in the reader's
language, the decisions table to and from the notes model, and the jump to the filtered Campaigns view."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import date
from typing import Any

import polars as pl
import streamlit as st
from babel.dates import format_date

from kpi import review as kpi_review
from kpi.metrics import Frames, View
from kpi.period import Period
from kpi.review import Rules, SavedReview
from kpi.settings import Settings
from ui import format as fmt
from ui import workspace as data
from ui.i18n import t
from ui.safe import md
from ui.state import ViewState, url_for

CAMPAIGNS_PAGE = "app_pages/campaigns.py"
PERCENT_RULES = ("stop_spend_share", "weak_mql_rate", "best_quantile")  # fractions, entered as percentages
EDITOR_COLUMNS = ("subject", "verdict", "budget", "decision", "owner", "date", "note")


def conclusions(ws: data.Workspace, dimension: str, state: ViewState, rules: Rules,
                budgets: Mapping[str, float]) -> pl.DataFrame:
    """`kpi.review.conclusions` for the view's period on the cached engine (ReviewError when the review
    cannot be made by `dimension`); the filter on the reviewed dimension itself is left out so that
    every subject meets all its peers."""
    def cached(_tables: Frames, metrics: Sequence[str], *, by: Sequence[str], period: Period,
               filters: Mapping[str, Sequence[str]] | None, view: View, settings: Settings) -> pl.DataFrame:
        return data.compute(ws, metrics, by=by, period=period, filters=filters, view=view)  # ws's tables, settings

    filters = {d: v for d, v in state.active_filters.items() if d != dimension}
    inputs = kpi_review.review_inputs(ws.tables, dimension, state.period, settings=ws.settings, view=state.view,
                                      filters=filters, compute=cached)
    return kpi_review.conclusions(inputs, dimension, rules, budgets, ws.settings)


def period_label(period: Period, lang: str) -> str:
    """'October 2026', 'Q4 2026' or '2026' for a whole calendar month, quarter or year (a review's
    term), else its first and last day."""
    term = kpi_review.review_term(period)
    if term == period:
        pattern = {1: "LLLL y", 3: "QQQ y", 12: "y"}[term.end.month - term.start.month + 1]
        return format_date(period.start, pattern, locale=fmt.locale_of(lang))
    return f"{fmt.day(period.start, lang)} – {fmt.day(period.end, lang)}"


def reason(row: Mapping[str, Any], rules: Rules, lang: str, currency: str, qualified: bool = True) -> str:
    """Why the subject got its verdict, with the numbers and the thresholds they were compared with;
    `qualified` is False in a funnel without a qualified stage, which has no MQL rate to show."""
    def money(name: str) -> str:
        return fmt.money(row[name], currency, lang)

    def pct(name: str) -> str:
        return fmt.percent(row[name], lang)

    def times(value: float | None) -> str:
        return fmt.DASH if value is None else fmt.number(value, lang, 1) + "×"

    rule = row["rule"]
    values: dict[str, object] = {
        "spend": money("spend"), "share": pct("spend_share"), "min_share": fmt.percent(rules.stop_spend_share, lang),
        "cpl": money("cpl"), "median": money("median_cpl"), "multiple": times(row["cpl_multiple"]),
        "rate": pct("mql_rate"), "previous": pct("mql_rate_prev"), "median_rate": pct("median_mql_rate"),
        "weak": fmt.percent(rules.weak_mql_rate, lang), "cac": money("cac"), "best": money("best_cac"),
        "quantile": fmt.percent(rules.best_quantile, lang, 0), "lead_to_won": pct("lead_to_won"),
        "budget": money("budget"),
    }
    if not qualified:
        values["mql"] = t("review.no_qualified_part", lang)
    elif rule == "continue":
        values["mql"] = t("review.mql_part", lang, rate=values["rate"], previous=values["previous"])
    elif rule == "continue_rates":
        values["mql"] = t("review.mql_part_rates", lang, rate=values["rate"], median_rate=values["median_rate"])
    if rule == "stop_expensive":
        values["threshold"] = times(rules.stop_cpl_multiple)
    elif rule == "less_expensive":
        values["threshold"] = times(rules.less_cpl_multiple)
    elif rule == "more_best_cac":
        values["budget"] = (t("review.budget_headroom", lang, spend=values["spend"], budget=money("budget"))
                            if row["headroom"] else t("review.budget_unknown", lang))
    elif rule == "start_won_before":
        then = row["then"]
        values.update(then=t(f"review.then.{then}", lang), won=fmt.number(row["then_won"], lang),
                      cac=money("then_cac"), median=money("then_median_cac"), threshold=money("start_cac_max"),
                      factor=fmt.number(rules.start_cac_multiple, lang, 1))
    elif rule == "more_rates":
        values.update(won=fmt.number(row["won"], lang), rate=pct("lead_to_won"),
                      quantile=fmt.percent(rules.best_quantile, lang, 0), best=pct("best_lead_to_won"))
    return t(f"review.rule.{rule}", lang, **values)


def line(row: Mapping[str, Any], rules: Rules, lang: str, currency: str, qualified: bool = True) -> str:
    """'**Enterprise ABM**: CPL 812 € is 2.4× the median 338 € … → **do less**', as markdown whose subject
    (a name from data) is literal text."""
    verdict = row["verdict"]
    return t("review.line", lang, subject=md(row["subject"]), reason=reason(row, rules, lang, currency, qualified),
             action=t(f"review.action.{verdict}", lang))


def campaigns_params(state: ViewState, dimension: str, subject: str) -> dict[str, str | list[str]]:
    """The Campaigns view filtered to one subject, in this view's period: the address keeps the
    parameters the view state does not manage (workspace, a shared view's token)."""
    return url_for(replace(state, filters={**state.active_filters, dimension: [subject]}))


def filter_on(dimension: str, subject: str) -> None:
    """on_click callback: make the subject the dimension's global filter before the sidebar draws."""
    st.session_state[dimension] = [subject]


def open_campaigns(state: ViewState, dimension: str, subject: str) -> None:
    st.switch_page(CAMPAIGNS_PAGE, query_params=campaigns_params(state, dimension, subject))


def editor_frame(table: pl.DataFrame, saved: SavedReview | None, today: date) -> pl.DataFrame:
    """The decisions table: one row per subject, with what was saved for this review, else its verdict
    and today's date."""
    notes = {n.subject: n for n in saved.notes} if saved else {}
    budgets = saved.budgets if saved else {}
    rows = []
    for subject, verdict in zip(table["subject"], table["verdict"], strict=True):
        note = notes.get(subject)
        rows.append({"subject": subject, "verdict": note.verdict if note else verdict, "budget": budgets.get(subject),
                     "decision": note.decision if note else "", "owner": note.owner if note else "",
                     "date": note.date if note else today, "note": note.note if note else ""})
    return pl.DataFrame(rows, schema={"subject": pl.String, "verdict": pl.String, "budget": pl.Float64,
                                      "decision": pl.String, "owner": pl.String, "date": pl.Date, "note": pl.String})


def from_editor(edited: pl.DataFrame) -> tuple[list[dict[str, Any]], dict[str, float]]:
    """The notes (rows with any decision, owner or note text) and the budgets entered in the table
    (st.data_editor returns a polars frame for a polars frame)."""
    rows = edited.select(EDITOR_COLUMNS).to_dicts()
    notes = [r for r in rows if any(str(r[c] or "").strip() for c in ("decision", "owner", "note"))]
    budgets = {r["subject"]: float(r["budget"]) for r in rows if r["budget"] is not None}
    return notes, budgets
