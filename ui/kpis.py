"""Streamlit helpers for the KPI page: the workspace's KPI tree and its scorecards, trends and target
history behind caches keyed on the workspace's identity (never on hashing frames); the tree as a
Graphviz diagram; the trend chart; the reason of a status in words; and saving an edited tree. The rules
of editing it (adding a KPI, setting a target, percent in the editors and fractions in the data) live in
`kpi.tree_edit`.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence
from datetime import UTC, date

import altair as alt
import polars as pl
import streamlit as st
from streamlit.elements.lib.column_types import ColumnConfig

from kpi import engine
from kpi import tree as kpi_tree
from kpi.metrics import Metric, table_dimensions
from kpi.period import PRESETS, Grain, Period, preset
from kpi.query import View
from kpi.schema import Problem
from kpi.scorecard import Card
from kpi.store import InvalidDataset
from kpi.summary import headline_targets
from kpi.tree import Kpi
from kpi.tree_edit import KPIS, canonical, from_editors, metrics
from kpi.tree_edit import unit as kpi_unit
from ui import format as fmt
from ui import workspace as data
from ui.charts import PALETTE
from ui.i18n import dim_label, t
from ui.safe import md

SOURCE = "edited on the KPI page"
STATUS_COLOUR = {"on_track": "#009E73", "at_risk": "#E69F00", "off_track": "#D55E00"}  # Okabe–Ito
NODE_WIDTH = 24  # characters a line of a KPI name takes in a tree box before it wraps
STATUS_FILL = {"on_track": "#D4EFE6", "at_risk": "#FBEBCB", "off_track": "#F6D9C8"}
NO_STATUS_COLOUR, NO_STATUS_FILL = "#8C8C8C", "#EEEEEE"
STATUS_BADGE = {"on_track": "green", "at_risk": "orange", "off_track": "red"}
STATUS_DOT = {"on_track": ":green[●]", "at_risk": ":orange[●]", "off_track": ":red[●]"}  # Markdown, no emoji font
NO_STATUS_DOT = ":gray[●]"
PERCENT_FORMAT = "%.0f %%"  # the editors' threshold columns (st.number_input takes no suffix)
DEFS_EDITOR, TARGETS_EDITOR = "kpi_defs", "kpi_targets"  # the editors' keys (with the kpis version shown)
NO_VALUE = ("no_data", "not_available")  # a card's reasons for having no value to rate


def kpi_table(ws: data.Workspace) -> pl.DataFrame:
    """The workspace's kpis table as shown (see `canonical`); a workspace without one starts from an empty tree."""
    return canonical(ws.tables.get(KPIS))


def check(ws: data.Workspace, frame: pl.DataFrame) -> list[Problem]:
    """`kpi.tree.check` against the workspace's catalog, each table's dimensions and their values."""
    return kpi_tree.check(frame, data.catalog(ws), table_dimensions(ws.tables), dimension_values(ws))


def dimension_values(ws: data.Workspace) -> dict[str, list[str]]:
    """The values each dimension takes in the workspace, to catch a misspelt filter value."""
    return {d: data.dimension_values(ws, d) for d in data.dimensions(ws)}


def errors(problems: Sequence[Problem]) -> list[Problem]:
    """The problems that stop a tree from being shown or saved (warnings do not)."""
    return [p for p in problems if p.severity == "error"]


def tree(ws: data.Workspace) -> list[Kpi]:
    """The workspace's KPIs (call only when `check` found no errors)."""
    return kpi_tree.kpis(kpi_table(ws), data.catalog(ws))


def cards(ws: data.Workspace, today: date) -> dict[str, Card]:
    """`kpi.engine.scorecards` as of `today`, by KPI id (cached)."""
    return {c.kpi.id: c for c in data.ask(ws, engine.scorecards, today)}


def headline(ws: data.Workspace, metrics: Sequence[str], today: date) -> dict[str, Card]:
    """For each metric, the card of the first KPI that measures exactly it on all the data (no filters)
    and has a target for `today`: the target a metric's number on the Overview answers to."""
    frame = kpi_table(ws)
    if frame.is_empty() or errors(check(ws, frame)):
        return {}
    return headline_targets(list(cards(ws, today).values()), metrics)


def trend(ws: data.Workspace, kpi_id: str, today: date, grain: Grain) -> pl.DataFrame:
    """`kpi.engine.kpi_trend` of one KPI (cached)."""
    return data.ask(ws, engine.kpi_trend, kpi_id, today, grain)


@st.cache_data(show_spinner=False, max_entries=32, scope="session")
def _history(store_id: str, upto: str, shared: bool) -> pl.DataFrame:
    db = data.store()
    oldest_first = list(reversed(db.versions(store_id, KPIS)))
    last = next(i for i, v in enumerate(oldest_first) if v.id == upto)
    saved = [(v.created_at.astimezone(UTC).replace(tzinfo=None), v.source if shared else v.created_by or v.source,
              canonical(db.load(store_id, KPIS, v.id))) for v in oldest_first[:last + 1]]
    return kpi_tree.target_history([(saved[0][0], None, canonical(None)), *saved])  # the first targets were added


def target_history(ws: data.Workspace, shared: bool) -> pl.DataFrame | None:
    """Every target change up to the kpis version shown (newest first, `when` in UTC), or None for unsaved
    data. `who` is who saved the version (its source when nobody signed in did); in a `shared` read-only
    view always the source, so a link never shows a colleague's email."""
    version = ws.versions.get(KPIS)
    if ws.store_id is None or version is None:
        return None
    return _history(ws.store_id, version, shared)


def history_table(history: pl.DataFrame, frame: pl.DataFrame, catalog: Mapping[str, Metric], lang: str,
                  currency: str, shared: bool) -> pl.DataFrame:
    """The target history as shown: when (UTC; the table writes it to the minute), who saved it (`source` in a
    shared view), the KPI's name, the period and the target before and after in the KPI's unit (rates in percent)."""
    metric_of = metrics(frame)

    def shown(column: str) -> pl.Series:
        return pl.Series(column, [None if v is None else metric_text(metric_of.get(k, ""), v, catalog, lang, currency)
                                  for k, v in zip(history["kpi_id"], history[column], strict=True)], pl.String)

    return history.select("when",
                          pl.col("who").fill_null(fmt.DASH).alias("source" if shared else "who"),
                          pl.coalesce("name", "kpi_id").alias("name"), "period",
                          shown("before"), shown("after"))


def save(ws: data.Workspace, frame: pl.DataFrame, user: str | None) -> list[Problem]:
    """Save `frame` as the workspace's new kpis version; when the tree has errors nothing is saved and they
    are returned (warnings do not stop it: the page lists them once saved)."""
    assert ws.store_id is not None, "only a stored workspace can be saved"
    refused = errors(check(ws, frame))
    if refused:
        return refused
    try:
        data.store().save(ws.store_id, KPIS, frame, source=SOURCE, created_by=user)
    except InvalidDataset as exc:
        return errors(exc.problems)
    return []


def save_edit(ws: data.Workspace, defs: pl.DataFrame, goals: pl.DataFrame, user: str | None) -> list[Problem]:
    """Save the tree as edited in the two tables of `kpi.tree_edit.editor_tables` (percentages as shown there):
    nothing is saved when `kpi.tree.check_edit` finds errors, which are returned with rows numbered in the table
    the person edited (a target whose kpi_id matches no KPI is one of them, never silently dropped)."""
    defs, goals = from_editors(defs, goals, data.catalog(ws))
    refused = errors(kpi_tree.check_edit(defs, goals, data.catalog(ws), table_dimensions(ws.tables),
                                          dimension_values(ws)))
    if refused:
        return refused
    return save(ws, kpi_tree.join(defs, goals), user)


def names(frame: pl.DataFrame) -> dict[str, str]:
    """Each KPI's name by its id, in tree order."""
    return {k: n for k, n in zip(frame["kpi_id"], frame["name"], strict=True) if k}


def definition_columns(lang: str) -> dict[str, ColumnConfig | str]:
    """The column configuration of the definitions editor (its columns are `kpi.tree.DEFINITION`)."""
    text = st.column_config.TextColumn
    return {
        "kpi_id": text(t("kpis.col.kpi_id", lang), required=True),
        "name": text(t("kpis.col.name", lang), required=True),
        "metric": text(t("kpis.col.metric", lang), required=True, help=t("kpis.add.formula_help", lang)),
        "parent": text(t("kpis.col.parent", lang), help=t("kpis.col.parent_help", lang)),
        "owner": text(t("kpis.col.owner", lang)),
        "why": text(t("kpis.col.why", lang)),
        "how": text(t("kpis.col.how", lang), help=t("kpis.add.how_help", lang)),
        "direction": st.column_config.SelectboxColumn(t("kpis.col.direction", lang), options=["up", "down"],
                                                      format_func=lambda d: t(f"kpis.direction.{d}", lang),
                                                      help=t("kpis.add.direction_help", lang)),
        "filters": text(t("kpis.col.filters", lang), help="segment=Enterprise; initiative=ABM"),
        "warning": st.column_config.NumberColumn(t("kpis.col.warning", lang), help=t("kpis.add.warning_help", lang),
                                                 format=PERCENT_FORMAT, min_value=0.0),
        "critical": st.column_config.NumberColumn(t("kpis.col.critical", lang), help=t("kpis.add.critical_help", lang),
                                                  format=PERCENT_FORMAT, min_value=0.0),
        "cadence": st.column_config.SelectboxColumn(t("kpis.col.cadence", lang), options=list(kpi_tree.CADENCES),
                                                    format_func=lambda c: t(f"kpis.cadence.{c}", lang)),
    }


def target_columns(lang: str) -> dict[str, ColumnConfig | str]:
    """The column configuration of the targets editor (its columns are `kpi.tree.TARGET`)."""
    return {"kpi_id": st.column_config.TextColumn(t("kpis.col.kpi_id", lang), required=True),
            "period": st.column_config.TextColumn(t("kpis.col.period", lang), required=True,
                                                  help=t("kpis.period_help", lang)),
            "target": st.column_config.NumberColumn(t("kpis.col.target_rates", lang), required=True,
                                                    help=t("kpis.add.target_help", lang))}


def template_preview(added: pl.DataFrame, merged: pl.DataFrame, skipped: Sequence[str],
                     catalog: Mapping[str, Metric], lang: str, currency: str, period: str
                     ) -> tuple[pl.DataFrame, dict[str, str]]:
    """A template's KPIs as the page previews them, with their column labels: name, metric, the
    target suggested for `period` in the KPI's unit (rates in percent; only for KPIs it adds), parent,
    owner, filters, and whether the KPI is already in the tree (then it is left as it is)."""
    new = merged.filter(pl.col("kpi_id").is_in(list(names(added))) & ~pl.col("kpi_id").is_in(list(skipped))
                        & (pl.col("period") == period))
    suggested = dict(zip(new["kpi_id"], new["target"], strict=True))
    defs = kpi_tree.definitions(added)
    preview = defs.select(
        "name", "metric",
        pl.Series("target", [metric_text(m, suggested.get(k), catalog, lang, currency) if k in suggested else None
                             for k, m in zip(defs["kpi_id"], defs["metric"], strict=True)], pl.String),
        "parent", "owner", "filters", pl.col("kpi_id").is_in(list(skipped)).alias("already"))
    labels = {c: t(f"kpis.col.{c}", lang) for c in ("name", "metric", "parent", "owner", "filters")}
    labels["target"] = t("kpis.templates.suggested", lang, period=period)
    labels["already"] = t("kpis.templates.already", lang)
    return preview, labels


# -- words and numbers ---------------------------------------------------------------------------------------


def metric_text(metric: str, value: float | None, catalog: Mapping[str, Metric], lang: str, currency: str) -> str:
    """A value of a KPI measured by `metric`, formatted by the metric's unit (rates in percent); a formula
    by its unit when it has one (revenue − spend is money), else, like an unknown metric, as a plain
    number (cents below 100)."""
    unit = kpi_unit(metric, catalog)
    if unit is None:
        return fmt.number(value, lang, 2 if value is not None and abs(value) < 100 else 0)
    return fmt.metric_value(value, unit, lang, currency, compact=True)


def value_text(kpi: Kpi, value: float | None, catalog: Mapping[str, Metric], lang: str, currency: str) -> str:
    """A KPI's value formatted by its metric's unit (see `metric_text`)."""
    return metric_text(kpi.metric, value, catalog, lang, currency)


def filters_text(filters: Mapping[str, Sequence[str]], lang: str) -> str:
    """A KPI's slice in words ('Segment = Enterprise; Initiative = ABM, Brand'), or 'all the data', as literal
    markdown text (names and values come from data)."""
    return ("; ".join(f"{md(dim_label(d, lang))} = {', '.join(md(x) for x in v)}" for d, v in filters.items())
            or t("kpis.def.all", lang))


def status_text(card: Card | None, lang: str) -> str:
    """On track / at risk / off track, else why there is no status (no target, no data, not available)."""
    if card is not None and card.status is not None:
        return t(f"target.{card.status}", lang)
    if card is not None and card.target is not None and card.reason not in NO_VALUE:
        return t("kpis.status.unrated", lang)
    return t(f"kpis.status.{card.reason if card is not None else 'no_target'}", lang)


def _position(card: Card, lang: str) -> str:
    """Where the rated value stands against the KPI's warning and critical lines, in words."""
    kpi = card.kpi
    if card.status is None:
        return t("kpis.line.unrated", lang)
    return t(f"kpis.line.{card.status}.{kpi.direction}", lang, warning=fmt.percent(kpi.warning, lang, 0),
             critical=fmt.percent(kpi.critical, lang, 0))


def reason_text(card: Card, catalog: Mapping[str, Metric], lang: str, currency: str, today: date) -> str:
    """The status and why, as one sentence: 'Forecast 1 180 (1 050–1 310) against a target of 1 200: 98 %,
    below the 100 % warning line.' Whatever fields the card lacks, it says what the card gives."""
    def v(x: float | None) -> str:
        return value_text(card.kpi, x, catalog, lang, currency)

    if card.reason in NO_VALUE:
        return t(f"kpis.reason.{card.reason}", lang, filters=filters_text(card.kpi.filters, lang))
    if card.reason == "no_target" or card.target is None:
        return t("kpis.reason.no_target", lang, value=v(card.value), day=fmt.day(today, lang))
    if card.reason == "forecast" and card.forecast is not None:
        return t("kpis.reason.forecast", lang, forecast=v(card.forecast), low=v(card.low), high=v(card.high),
                 target=v(card.target), share=_share(card.forecast, card.target, lang), position=_position(card, lang))
    if card.reason == "pace" and card.expected is not None:
        return t("kpis.reason.pace", lang, value=v(card.value), expected=v(card.expected), day=fmt.day(today, lang),
                 share=_share(card.value, card.expected, lang), position=_position(card, lang))
    return t("kpis.reason.current", lang, value=v(card.value), target=v(card.target),
             share=_share(card.value, card.target, lang), position=_position(card, lang))


def scope_text(card: Card, lang: str) -> str:
    """The days a KPI's value covers and how it counts them: '1 Oct 2026 – 3 Dec 2026, counted as flow (…)'."""
    if card.so_far is None:
        return ""
    return t("kpis.scope", lang, start=fmt.day(card.so_far.start, lang), end=fmt.day(card.so_far.end, lang))


def matching_preset(card: Card, today: date) -> str | None:
    """The sidebar period preset that covers exactly the days of the card's value as of `today`, if any."""
    return next((p for p in PRESETS if card.so_far is not None and preset(p, today) == card.so_far), None)


def note(card: Card, catalog: Mapping[str, Metric], lang: str, currency: str, today: date,
         shown: tuple[Period, View] | None = None) -> str:
    """One line under a number that has a target: status dot and word, the target and its period, the KPI's
    value so far and which days and counting it covers, and why. With the period and counting of the number
    it stands under (`shown`), it says plainly whether that is the same measure or another."""
    dot = STATUS_DOT.get(card.status or "", NO_STATUS_DOT)
    reason = reason_text(card, catalog, lang, currency, today)
    value = value_text(card.kpi, card.value, catalog, lang, currency)
    if card.reason == "forecast" and card.pace_basis in ("seasonal", "pro_rata"):
        so_far = t("target.so_far", lang, value=value, expected=value_text(card.kpi, card.expected, catalog, lang,
                                                                           currency), day=fmt.day(today, lang))
    elif card.reason == "forecast":
        so_far = t("target.value_now", lang, value=value)
    else:
        so_far = ""  # the reason states the value
    scope = scope_text(card, lang)
    if shown is not None and scope:
        scope = t("target.scope.same" if card.measures(*shown) else "target.scope.other", lang, scope=scope)
    body = " ".join(part for part in (so_far, scope, reason) if part)
    return t("target.note", lang, dot=dot, status=status_text(card, lang), period=card.period_label,
             target=value_text(card.kpi, card.target, catalog, lang, currency), reason=body)


def _share(value: float | None, of: float | None, lang: str) -> str:
    return fmt.percent(value / of, lang, 0) if value is not None and of else fmt.DASH


# -- the tree diagram ----------------------------------------------------------------------------------------


def _dot_text(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")


def tree_dot(kpis: Sequence[Kpi], by_id: Mapping[str, Card], catalog: Mapping[str, Metric], lang: str,
             currency: str) -> str:
    """The tree as a top-down Graphviz digraph: a box per KPI (name, current value, target and its period,
    status, owner) filled by status colour, an arrow from each KPI to the ones breaking it down.

    Top-down with narrow boxes (the name wrapped, one fact a line), so the drawing scaled to the page's
    width keeps its text readable: a left-to-right tree five levels deep was shrunk to 7 px text."""
    lines = ["digraph kpis {", "  rankdir=TB;", '  bgcolor="transparent";', "  nodesep=0.15; ranksep=0.3;",
             '  node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=14, margin="0.12,0.06"];',
             '  edge [color="#8C8C8C", arrowsize=0.7];']
    for kpi, _depth in kpi_tree.walk(kpis):
        card = by_id.get(kpi.id)
        status = card.status if card is not None else None
        facts = [t("kpis.node.value", lang, value=value_text(kpi, card.value if card else None, catalog, lang,
                                                            currency))]
        if card is not None and card.target is not None:
            facts.append(t("kpis.node.target", lang, target=value_text(kpi, card.target, catalog, lang, currency),
                           period=card.period_label))
        facts.append(status_text(card, lang))
        if kpi.owner:
            facts.append(kpi.owner)
        parts = ["<b>" + "<br/>".join(_html(line) for line in textwrap.wrap(kpi.name, NODE_WIDTH)) + "</b>",
                 *(_html(fact) for fact in facts)]
        fill = STATUS_FILL.get(status or "", NO_STATUS_FILL)
        border = STATUS_COLOUR.get(status or "", NO_STATUS_COLOUR)
        lines.append(f'  "{_dot_text(kpi.id)}" [label=<{"<br/>".join(parts)}>, fillcolor="{fill}", '
                     f'color="{border}", penwidth=2, tooltip="{_dot_text(kpi.why or kpi.name)}"];')
        if kpi.parent:
            lines.append(f'  "{_dot_text(kpi.parent)}" -> "{_dot_text(kpi.id)}";')
    lines.append("}")
    return "\n".join(lines)


def _html(text: str) -> str:
    """Text for a Graphviz HTML-like label."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def anomaly_text(frame: pl.DataFrame, kpi: Kpi, grain: Grain, catalog: Mapping[str, Metric], lang: str,
                 currency: str) -> str | None:
    """The anomalies of a `trend` frame in one sentence (when, the value against the expected), 'no week falls
    far outside' when there are none, or None when the KPI has no value in any bucket."""
    if frame["value"].is_null().all():
        return None
    flagged = frame.filter(pl.col("anomaly"))
    if flagged.is_empty():
        return t("kpis.trend.no_anomalies", lang, grain=t(f"grain.{grain}", lang).lower())
    when = ", ".join(f"{fmt.day(row['period'], lang)} ({value_text(kpi, row['value'], catalog, lang, currency)} "
                     f"{t('kpis.trend.against', lang)} {value_text(kpi, row['expected'], catalog, lang, currency)})"
                     for row in flagged.iter_rows(named=True))
    return t("kpis.trend.anomalies", lang, n=flagged.height, when=when)


# -- the trend chart -----------------------------------------------------------------------------------------


def trend_chart(frame: pl.DataFrame, unit: str, lang: str, title: str) -> alt.LayerChart:
    """The KPI per bucket (line with points), its target (dashed), the expected value with its range
    (shaded band) and the anomalies (large red points). A bucket still in progress is drawn hollow."""
    axis = alt.Axis(format=fmt.d3_format(unit))
    x = alt.X("period:T", title=t("chart.period", lang))
    names = {"value": t("kpis.series.value", lang), "target": t("kpis.series.target", lang),
             "expected": t("kpis.series.expected", lang)}
    lines = frame.unpivot(index=["period", "partial"], on=list(names), variable_name="series", value_name="y")
    lines = lines.filter(~(pl.col("partial") & (pl.col("series") == "value")))  # drawn on its own, hollow
    lines = lines.with_columns(pl.col("series").replace_strict(names)).drop_nulls("y")
    colour = alt.Color("series:N", title=None, scale=alt.Scale(domain=list(names.values()),
                                                               range=[PALETTE[0], "#333333", PALETTE[4]]),
                       legend=alt.Legend(orient="top"))
    dash = alt.StrokeDash("series:N", legend=None, scale=alt.Scale(domain=list(names.values()),
                                                                   range=[[1, 0], [6, 4], [2, 2]]))
    band = alt.Chart(frame.drop_nulls("low")).mark_area(opacity=0.18, color=PALETTE[4]).encode(
        x=x, y=alt.Y("low:Q", title=t("chart.value", lang), axis=axis), y2="high:Q",
        tooltip=[alt.Tooltip("period:T", title=t("chart.period", lang)),
                 alt.Tooltip("low:Q", title=t("kpis.series.low", lang), format=fmt.d3_format(unit)),
                 alt.Tooltip("high:Q", title=t("kpis.series.high", lang), format=fmt.d3_format(unit))])
    drawn = alt.Chart(lines).mark_line(point=alt.OverlayMarkDef(filled=True, size=30)).encode(
        x=x, y=alt.Y("y:Q", title=t("chart.value", lang), axis=axis), color=colour, strokeDash=dash,
        tooltip=[alt.Tooltip("period:T", title=t("chart.period", lang)), alt.Tooltip("series:N", title=None),
                 alt.Tooltip("y:Q", title=t("chart.value", lang), format=fmt.d3_format(unit))])
    flagged = alt.Chart(frame.filter(pl.col("anomaly"))).mark_point(
        shape="circle", size=160, filled=False, strokeWidth=2.5, color=STATUS_COLOUR["off_track"]).encode(
        x=x, y=alt.Y("value:Q", axis=axis),
        tooltip=[alt.Tooltip("period:T", title=t("kpis.series.anomaly", lang)),
                 alt.Tooltip("value:Q", title=t("kpis.series.value", lang), format=fmt.d3_format(unit)),
                 alt.Tooltip("expected:Q", title=t("kpis.series.expected", lang), format=fmt.d3_format(unit))])
    so_far = alt.Chart(frame.filter(pl.col("partial")).drop_nulls("value")).mark_point(
        shape="circle", size=60, filled=False, strokeWidth=2, color=PALETTE[0]).encode(
        x=x, y=alt.Y("value:Q", axis=axis),
        tooltip=[alt.Tooltip("period:T", title=t("kpis.series.so_far", lang)),
                 alt.Tooltip("value:Q", title=t("kpis.series.value", lang), format=fmt.d3_format(unit))])
    chart: alt.LayerChart = (band + drawn + so_far + flagged).properties(title=title, height=320)
    return chart
