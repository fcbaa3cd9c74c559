"""The Review page's helpers: conclusions on the cached engine, each verdict's sentence in the reader's
language, the decisions table to and from the notes model, and the jump to the filtered Campaigns view."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

import polars as pl
import streamlit as st
from babel.dates import format_date

from kpi import review as kpi_review
from kpi.period import Period
from kpi.query import Query
from kpi.review import Rules, SavedReview
from kpi.workspace import Workspace as EngineWorkspace
from ui import format as fmt
from ui import navigation
from ui import workspace as data
from ui.i18n import t
from ui.safe import md
from ui.state import ViewState, url_for

DIMENSION_KEY = "review_dimension"  # the dimension the Review page reviews by (the summary report's too)
EDITOR_COLUMNS = ("subject", "verdict", "budget", "decision", "owner", "date", "note")


#: Each threshold's input on the page: (lowest, highest, step, shown in percent).
THRESHOLD_INPUTS: dict[str, tuple[float, float, float, bool]] = {
    "stop_spend_share": (0.5, 99.0, 0.5, True), "stop_cpl_multiple": (0.1, 100.0, 0.1, False),
    "weak_mql_rate": (0.5, 99.0, 0.5, True), "less_cpl_multiple": (0.1, 100.0, 0.1, False),
    "best_quantile": (0.5, 99.0, 0.5, True), "start_cac_multiple": (0.1, 100.0, 0.1, False),
    "target_cac": (1.0, 1e9, 100.0, False), "stop_cac_multiple": (0.1, 100.0, 0.1, False),
    "roas_break_even": (0.1, 100.0, 0.1, False), "less_cac_multiple": (0.1, 100.0, 0.1, False),
    "roas_healthy": (0.1, 100.0, 0.1, False), "min_leads": (1.0, 100_000.0, 1.0, False),
    "min_expected": (0.1, 1000.0, 0.5, False), "trend_periods": (2.0, 12.0, 1.0, False),
    "trend_z": (0.1, 10.0, 0.1, False), "start_budget_share": (0.5, 99.0, 0.5, True),
    "start_rate_multiple": (0.1, 100.0, 0.1, False), "cycle_min_won": (1.0, 10_000.0, 1.0, False),
}


def threshold_shown(name: str, value: float | None) -> float | None:
    """A threshold as its input shows it: fractions in percent."""
    return None if value is None else float(value) * 100 if THRESHOLD_INPUTS[name][3] else float(value)


def rules_from_inputs(entered: Mapping[str, float | None]) -> Rules:
    """The rules from the thresholds as entered (fractions in percent); an emptied input keeps its
    default, except the target CAC, which may be left empty (then the KPI tree's or the median)."""
    defaults = Rules()
    values: dict[str, Any] = {}
    for name, value in entered.items():
        if value is None:
            values[name] = getattr(defaults, name)
        else:
            values[name] = float(value) / 100 if THRESHOLD_INPUTS[name][3] else float(value)
    return Rules(**values)


def conclusions(ws: data.Workspace, dimension: str, state: ViewState, rules: Rules,
                budgets: Mapping[str, float]) -> pl.DataFrame:
    """`kpi.review.conclusions` for the view's period on the cached engine (ReviewError when the review
    cannot be made by `dimension`); the filter on the reviewed dimension itself is left out so that
    every subject meets all its peers."""
    def cached(_ws: EngineWorkspace, query: Query, metrics: Sequence[str]) -> pl.DataFrame:
        return data.compute(ws, query, metrics)

    inputs = kpi_review.review_inputs(ws.data, state.query().without(dimension), dimension, compute=cached,
                                      rules=rules)
    return kpi_review.conclusions(inputs, dimension, rules, budgets, ws.settings)


def period_label(period: Period, lang: str) -> str:
    """'October 2026', 'Q4 2026' or '2026' for a whole calendar month, quarter or year (a review's
    term), else its first and last day."""
    term = kpi_review.review_term(period)
    if term == period:
        pattern = {1: "LLLL y", 3: "QQQ y", 12: "y"}[term.end.month - term.start.month + 1]
        return format_date(period.start, pattern, locale=fmt.locale_of(lang))
    return f"{fmt.day(period.start, lang)} – {fmt.day(period.end, lang)}"


def change(before: float | None, now: float | None, lang: str, significant: bool = False) -> str:
    """'rose from 40.0% to 45.0%', 'fell from …', or 'held at 41.7%' when the two rates look the same
    at the precision shown: a change nobody can see is not called one. A `significant` change is shown
    with as many more decimals as it takes to be seen (up to three)."""
    if before is None or now is None:
        return t("review.change.now", lang, now=fmt.percent(now, lang))
    digits = 1
    while significant and fmt.percent(before, lang, digits) == fmt.percent(now, lang, digits) and digits < 3:
        digits += 1
    shown_before, shown_now = fmt.percent(before, lang, digits), fmt.percent(now, lang, digits)
    if shown_before == shown_now:
        return t("review.change.held", lang, now=shown_now)
    return t("review.change.rose" if now > before else "review.change.fell", lang, before=shown_before, now=shown_now)


def reason(row: Mapping[str, Any], rules: Rules, lang: str, currency: str, qualified: bool = True) -> str:
    """Why the subject got its verdict, as plain text: the numbers that led to it and the thresholds
    they were compared with; `qualified` is False in a funnel without a qualified stage, which has no
    MQL rate to show. Every verdict's text reads the shared values (`_shared_values`) and the rule's own
    (`_RULE_VALUES`)."""
    shown = _Shown(row, lang, currency)
    values = _shared_values(shown, rules, qualified)
    rule = row["rule"]
    if rule == "stop_no_mql" and not row["leads"]:
        rule = "stop_no_mql.no_leads"
    elif rule == "wait" and row["maturity_days"] is None:
        return t("review.rule.wait.no_won", lang, so_far=_so_far(shown, values))
    elif rule in _RULE_VALUES:
        values.update(_RULE_VALUES[rule](shown, rules, values))
    return t(f"review.rule.{rule}", lang, **values)


@dataclass(frozen=True)
class _Shown:
    """A conclusion's numbers as its reason shows them, in the reader's language and the currency."""

    row: Mapping[str, Any]
    lang: str
    currency: str

    def money(self, name: str) -> str:
        return fmt.money(self.row[name], self.currency, self.lang)

    def pct(self, name: str, digits: int = 1) -> str:
        return fmt.percent(self.row[name], self.lang, digits)

    def times(self, value: float | None, digits: int = 1) -> str:
        """A multiple: '2.4×' (a dash when unknown)."""
        return fmt.DASH if value is None else fmt.number(value, self.lang, digits) + "×"

    def count(self, name: str) -> str:
        return fmt.number(self.row[name] or 0, self.lang)

    def day(self, name: str) -> str:
        return fmt.DASH if self.row[name] is None else fmt.day(self.row[name], self.lang)


def _shared_values(shown: _Shown, rules: Rules, qualified: bool) -> dict[str, object]:
    """The values any verdict's text may show: spend, leads, costs and rates beside their thresholds, the
    mature cohort, the MQL-rate trend and the MQL rate's change (or that the funnel has no MQL stage)."""
    row, lang, money, pct, times, count = shown.row, shown.lang, shown.money, shown.pct, shown.times, shown.count
    roas = (t("review.part.roas_unknown", lang) if row["mature_roas"] is None else times(row["mature_roas"]))
    values: dict[str, object] = {
        "spend": money("spend"), "share": pct("spend_share"), "min_share": fmt.percent(rules.stop_spend_share, lang),
        "leads": count("leads"), "cpl": money("cpl"), "median": money("median_cpl"),
        "multiple": times(row["cpl_multiple"]), "rate": pct("mql_rate"), "median_rate": pct("median_mql_rate"),
        "weak": fmt.percent(rules.weak_mql_rate, lang), "quantile": fmt.percent(rules.best_quantile, lang, 0),
        "best": money("best_cac"), "budget": money("budget"), "target": money("target_cac"),
        "cac_multiple": times(row["cac_multiple"]), "m_cac": money("mature_cac"), "m_won": count("mature_won"),
        "m_leads": count("mature_leads"), "m_opps": count("mature_opportunities"), "m_spend": money("mature_spend"),
        "m_rate": pct("mature_lead_to_won"), "all_rate": pct("all_lead_to_won"), "roas": roas,
        "healthy": times(rules.roas_healthy), "break_even": times(rules.roas_break_even),
        "expected": fmt.number(row["expected_won"], lang, 1),
        "days": fmt.number(row["maturity_days"], lang), "min_leads": fmt.number(rules.min_leads, lang),
    }
    values["mature"] = t("review.part.mature", lang, m_leads=values["m_leads"], start=shown.day("mature_start"),
                         end=shown.day("mature_end"), days=values["days"])
    z = fmt.number(row["mql_rate_z"], lang, 1) if row["mql_rate_z"] is not None else fmt.DASH
    values["trend"] = t("review.part.trend", lang, change=change(row["mql_rate_before"], row["mql_rate"], lang,
                                                                  significant=bool(row["mql_falling"])),
                        n=int(rules.trend_periods) - 1, z=z, trend_z=fmt.number(rules.trend_z, lang, 2))
    if not qualified:
        values["mql"] = t("review.no_qualified_part", lang)
    else:
        values["mql"] = t("review.mql_part", lang, change=change(row["mql_rate_before"], row["mql_rate"], lang))
    return values


def _so_far(shown: _Shown, values: Mapping[str, object]) -> str:
    """What a subject still waiting for data has shown so far: its leads, and its spend and CPL when it cost."""
    return t("review.part.so_far_cost" if shown.row["spend"] else "review.part.so_far", shown.lang,
             leads=values["leads"], spend=values["spend"], cpl=values["cpl"], mql=values["mql"])


def _no_mql_values(shown: _Shown, rules: Rules, values: Mapping[str, object]) -> dict[str, object]:
    """No MQL from leads: how many were expected at the median rate."""
    return {"expected": fmt.number(shown.row["expected_mql"], shown.lang, 1)}


def _stop_values(shown: _Shown, rules: Rules, values: Mapping[str, object]) -> dict[str, object]:
    """Stop as too expensive: the CPL multiple, or the CAC, it had to stay under."""
    return {"threshold": shown.times(rules.stop_cpl_multiple) if shown.row["rule"] == "stop_expensive"
            else shown.money("stop_cac_min")}


def _less_values(shown: _Shown, rules: Rules, values: Mapping[str, object]) -> dict[str, object]:
    """Do less as expensive: the CPL multiple, or the CAC, it had to stay under."""
    return {"threshold": shown.times(rules.less_cpl_multiple) if shown.row["rule"] == "less_expensive"
            else shown.money("less_cac_min")}


def _low_budget_values(shown: _Shown, rules: Rules, values: Mapping[str, object]) -> dict[str, object]:
    """Start (spend more) on a small budget that converts well: its share, its rate against all, and its cost."""
    row, lang = shown.row, shown.lang
    return dict(max_share=fmt.percent(rules.start_budget_share, lang, 0),
                rate_multiple=shown.times((row["mature_lead_to_won"] or 0) / row["all_lead_to_won"]
                                          if row["all_lead_to_won"] else None),
                start_multiple=shown.times(rules.start_rate_multiple),
                cost=("" if row["mature_cac"] is None else
                      t("review.part.start_cost", lang, m_cac=values["m_cac"], target=values["target"])))


def _best_cac_values(shown: _Shown, rules: Rules, values: Mapping[str, object]) -> dict[str, object]:
    """Do more of the best CAC: the budget headroom, when a budget is known."""
    return {"budget": (t("review.budget_headroom", shown.lang, spend=values["spend"], budget=shown.money("budget"))
                       if shown.row["headroom"] else t("review.budget_unknown", shown.lang))}


def _won_before_values(shown: _Shown, rules: Rules, values: Mapping[str, object]) -> dict[str, object]:
    """Start again what won deals cheaply before: when, how many and at what CAC."""
    row, lang = shown.row, shown.lang
    return dict(then=t(f"review.then.{row['then']}", lang), won=fmt.number(row["then_won"], lang),
                cac=shown.money("then_cac"), threshold=shown.money("start_cac_max"),
                factor=fmt.number(rules.start_cac_multiple, lang, 1))


def _wait_values(shown: _Shown, rules: Rules, values: Mapping[str, object]) -> dict[str, object]:
    """Wait for more data: what it has shown so far, and the day its leads will be mature."""
    cutoff = shown.row["as_of"] - timedelta(days=int(shown.row["maturity_days"]))
    return dict(so_far=_so_far(shown, values), cutoff=fmt.day(cutoff, shown.lang))


def _continue_values(shown: _Shown, rules: Rules, values: Mapping[str, object]) -> dict[str, object]:
    """Continue: too few mature leads to judge, else their CAC against the target, else their lead-to-won rate."""
    row, lang = shown.row, shown.lang
    return {"won_part": (
        t("review.part.no_mature", lang, m_leads=values["m_leads"], min_leads=values["min_leads"])
        if (row["mature_leads"] or 0) < rules.min_leads else
        t("review.part.won_cost", lang, mature=values["mature"], m_cac=values["m_cac"],
          cac_multiple=values["cac_multiple"], target=values["target"], roas=values["roas"])
        if row["mature_cac"] is not None else
        t("review.part.won_rate", lang, mature=values["mature"], m_won=values["m_won"], m_rate=values["m_rate"]))}


#: The values a verdict's text shows beyond the shared ones, by rule.
_RULE_VALUES: dict[str, Callable[[_Shown, Rules, Mapping[str, object]], dict[str, object]]] = {
    "stop_no_mql": _no_mql_values, "stop_expensive": _stop_values, "stop_cac": _stop_values,
    "less_expensive": _less_values, "less_cac": _less_values, "start_low_budget": _low_budget_values,
    "more_best_cac": _best_cac_values, "start_won_before": _won_before_values, "wait": _wait_values,
    "continue": _continue_values, "continue_rates": _continue_values,
}


def line(row: Mapping[str, Any], rules: Rules, lang: str, currency: str, qualified: bool = True) -> str:
    """'**Enterprise ABM**: CPL 812 € is 2.4× the median 338 € … → **do less**', as markdown: the subject
    and the reason are text (`ui.safe.md`), so a name from data or a '$' in an amount never becomes markup."""
    verdict = row["verdict"]
    return t("review.line", lang, subject=md(row["subject"]), reason=md(reason(row, rules, lang, currency, qualified)),
             action=t(f"review.action.{verdict}", lang))


def target_note(table: pl.DataFrame, lang: str, currency: str) -> str:
    """Where the target CAC the rules compare with comes from, as markdown (a KPI's name is text)."""
    if table.is_empty() or table["target_cac"][0] is None:
        return t("review.target.none", lang)
    row = table.row(0, named=True)
    target = fmt.money(row["target_cac"], currency, lang)
    source = row["target_cac_source"]
    return md(t(f"review.target.{source}", lang, target=target, name=row["target_cac_name"] or "",
                period=row["target_cac_period"] or ""))


def campaigns_params(state: ViewState, dimension: str, subject: str) -> dict[str, str | list[str]]:
    """The Campaigns view filtered to one subject, in this view's period: the address keeps the
    parameters the view state does not manage (workspace, a shared view's token)."""
    return url_for(replace(state, filters={**state.active_filters, dimension: [subject]}))


def filter_on(dimension: str, subject: str) -> None:
    """on_click callback: make the subject the dimension's global filter before the sidebar draws."""
    st.session_state[dimension] = [subject]


def open_campaigns(state: ViewState, dimension: str, subject: str) -> None:
    navigation.switch("campaigns", query_params=campaigns_params(state, dimension, subject))


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
