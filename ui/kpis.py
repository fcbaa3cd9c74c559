"""Streamlit helpers for the KPI page: the workspace's KPI tree and its scorecards, trends and target
history behind caches keyed on the workspace's identity (never on hashing frames); the tree as a
Graphviz diagram; the trend chart; the reason of a status in words; saving an edited tree.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from datetime import UTC, date

import altair as alt
import polars as pl
import streamlit as st

from kpi import scorecard as kpi_scorecard
from kpi import tree as kpi_tree
from kpi.metrics import Metric
from kpi.period import Grain
from kpi.schema import TABLES, Problem
from kpi.scorecard import Card
from kpi.store import InvalidDataset
from kpi.tree import Kpi
from ui import format as fmt
from ui import workspace as data
from ui.charts import PALETTE
from ui.i18n import t

KPIS = "kpis"
SOURCE = "edited on the KPI page"
STATUS_COLOUR = {"on_track": "#009E73", "at_risk": "#E69F00", "off_track": "#D55E00"}  # Okabe–Ito
STATUS_FILL = {"on_track": "#D4EFE6", "at_risk": "#FBEBCB", "off_track": "#F6D9C8"}
NO_STATUS_COLOUR, NO_STATUS_FILL = "#8C8C8C", "#EEEEEE"
STATUS_BADGE = {"on_track": "green", "at_risk": "orange", "off_track": "red"}
STATUS_DOT = {"on_track": ":green[●]", "at_risk": ":orange[●]", "off_track": ":red[●]"}  # Markdown, no emoji font
NO_STATUS_DOT = ":gray[●]"


def canonical(frame: pl.DataFrame | None) -> pl.DataFrame:
    """A kpis table with exactly the canonical columns as plain text and numbers (an empty tree for None)."""
    schema = TABLES[KPIS].dtypes
    if frame is None:
        return pl.DataFrame(schema=schema)
    return frame.select([pl.col(c).cast(pl.String).cast(schema[c]) if c in frame.columns and schema[c] == pl.String
                         else pl.col(c).cast(schema[c]) if c in frame.columns
                         else pl.lit(None, schema[c]).alias(c) for c in schema])


def kpi_table(ws: data.Workspace) -> pl.DataFrame:
    """The workspace's kpis table as shown (see `canonical`); a workspace without one starts from an empty tree."""
    return canonical(ws.tables.get(KPIS))


def check(ws: data.Workspace, frame: pl.DataFrame) -> list[Problem]:
    """`kpi.tree.check` against the workspace's catalog and dimensions."""
    return kpi_tree.check(frame, data.catalog(ws), data.dimensions(ws))


def tree(ws: data.Workspace) -> list[Kpi]:
    """The workspace's KPIs (call only when `check` found no problems)."""
    return kpi_tree.kpis(kpi_table(ws), data.catalog(ws))


@st.cache_data(show_spinner=False, max_entries=64, scope="session")
def _cards(key: str, today: date, _ws: data.Workspace) -> list[Card]:
    return kpi_scorecard.scorecards(_ws.tables, tree(_ws), _ws.settings, today)


def cards(ws: data.Workspace, today: date) -> dict[str, Card]:
    """`kpi.scorecard.scorecards` on the workspace's tree as of `today`, by KPI id, cached on the workspace key."""
    return {c.kpi.id: c for c in _cards(ws.key, today, ws)}


def headline(ws: data.Workspace, metrics: Sequence[str], today: date) -> dict[str, Card]:
    """For each metric, the card of the first KPI that measures exactly it on all the data (no filters)
    and has a target for `today`: the target a metric's number on the Overview answers to."""
    frame = kpi_table(ws)
    if frame.is_empty() or check(ws, frame):
        return {}
    out: dict[str, Card] = {}
    for card in cards(ws, today).values():
        kpi = card.kpi
        if kpi.metric in metrics and not kpi.filters and card.target is not None and kpi.metric not in out:
            out[kpi.metric] = card
    return out


@st.cache_data(show_spinner=False, max_entries=128, scope="session")
def _trend(key: str, kpi_id: str, today: date, grain: Grain, _ws: data.Workspace) -> pl.DataFrame:
    kpi = next(k for k in tree(_ws) if k.id == kpi_id)
    return kpi_scorecard.trend(_ws.tables, kpi, _ws.settings, today, grain=grain)


def trend(ws: data.Workspace, kpi_id: str, today: date, grain: Grain) -> pl.DataFrame:
    """`kpi.scorecard.trend` of one KPI, cached on the workspace key."""
    return _trend(ws.key, kpi_id, today, grain, ws)


@st.cache_data(show_spinner=False, max_entries=32, scope="session")
def _history(store_id: str, upto: str) -> pl.DataFrame:
    db = data.store()
    oldest_first = list(reversed(db.versions(store_id, KPIS)))
    last = next(i for i, v in enumerate(oldest_first) if v.id == upto)
    saved = [(v.created_at.astimezone(UTC).replace(tzinfo=None), v.created_by or v.source,
              canonical(db.load(store_id, KPIS, v.id))) for v in oldest_first[:last + 1]]
    return kpi_tree.target_history([(saved[0][0], None, canonical(None)), *saved])  # the first targets were added


def target_history(ws: data.Workspace) -> pl.DataFrame | None:
    """Every target change up to the kpis version shown (newest first, `when` in UTC; `who` is the version's
    source when nobody signed in saved it), or None for unsaved data."""
    version = ws.versions.get(KPIS)
    if ws.store_id is None or version is None:
        return None
    return _history(ws.store_id, version)


def save(ws: data.Workspace, frame: pl.DataFrame, user: str | None) -> list[Problem]:
    """Save `frame` as the workspace's new kpis version unless the tree has problems (then nothing is saved)."""
    assert ws.store_id is not None, "only a stored workspace can be saved"
    problems = check(ws, frame)
    if problems:
        return problems
    try:
        data.store().save(ws.store_id, KPIS, frame, source=SOURCE, created_by=user)
    except InvalidDataset as exc:
        return exc.problems
    return []


def new_id(name: str, taken: Sequence[str]) -> str:
    """A short id from a KPI's name ('Enterprise MQL' → kpi_enterprise_mql), unique among `taken`."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    stem = "kpi_" + (re.sub(r"[^a-z0-9]+", "_", ascii_name.lower()).strip("_")[:40] or str(len(taken) + 1))
    found, n = stem, 1
    while found in taken:
        n += 1
        found = f"{stem}_{n}"
    return found


def with_kpi(frame: pl.DataFrame, kpi: Mapping[str, object], period: str | None, target: float | None
             ) -> pl.DataFrame:
    """The tree with one more KPI (a definition row) and, when given, its target for `period`."""
    defs = pl.concat([kpi_tree.definitions(frame), canonical(pl.DataFrame([dict(kpi)])).select(kpi_tree.DEFINITION)],
                     how="vertical_relaxed")
    goals = kpi_tree.targets(frame)
    if period:
        goals = pl.concat([goals, pl.DataFrame({"kpi_id": [kpi["kpi_id"]], "period": [period], "target": [target]},
                                               schema=goals.schema)])
    return kpi_tree.join(defs, goals)


def with_target(frame: pl.DataFrame, kpi_id: str, period: str, target: float | None) -> pl.DataFrame:
    """The tree with the KPI's target for `period` set to `target` (None removes it)."""
    goals = kpi_tree.targets(frame).filter((pl.col("kpi_id") != kpi_id) | (pl.col("period") != period))
    if target is not None:
        goals = pl.concat([goals, pl.DataFrame({"kpi_id": [kpi_id], "period": [period], "target": [target]},
                                               schema=goals.schema)])
    return kpi_tree.join(kpi_tree.definitions(frame), goals)


# -- words and numbers ---------------------------------------------------------------------------------------


def value_text(kpi: Kpi, value: float | None, catalog: Mapping[str, Metric], lang: str, currency: str) -> str:
    """A KPI's value formatted by its metric's unit; a formula's value as a plain number (cents below 100)."""
    if kpi.metric not in catalog:
        return fmt.number(value, lang, 2 if value is not None and abs(value) < 100 else 0)
    return fmt.metric_value(value, catalog[kpi.metric].unit, lang, currency, compact=True)


def status_text(card: Card | None, lang: str) -> str:
    """On track / at risk / off track, else why there is no status (no target, no data)."""
    if card is not None and card.status is not None:
        return t(f"target.{card.status}", lang)
    reason = card.reason if card is not None else "no_target"
    return t(f"kpis.status.{reason}", lang)


def _position(card: Card, lang: str) -> str:
    """Where the rated value stands against the KPI's warning and critical lines, in words."""
    kpi = card.kpi
    assert card.status is not None
    return t(f"kpis.line.{card.status}.{kpi.direction}", lang, warning=fmt.percent(kpi.warning, lang, 0),
             critical=fmt.percent(kpi.critical, lang, 0))


def reason_text(card: Card, catalog: Mapping[str, Metric], lang: str, currency: str, today: date) -> str:
    """The status and why, as one sentence: 'Forecast 1 180 (1 050–1 310) against a target of 1 200: 98 %,
    below the 100 % warning line.'"""
    def v(x: float | None) -> str:
        return value_text(card.kpi, x, catalog, lang, currency)

    if card.reason == "no_target":
        return t("kpis.reason.no_target", lang, value=v(card.value), day=fmt.day(today, lang))
    if card.reason == "no_data":
        return t("kpis.reason.no_data", lang)
    assert card.target is not None and card.status is not None
    if card.reason == "forecast":
        assert card.forecast is not None
        return t("kpis.reason.forecast", lang, forecast=v(card.forecast), low=v(card.low), high=v(card.high),
                 target=v(card.target), share=_share(card.forecast, card.target, lang), position=_position(card, lang))
    if card.reason == "pace":
        return t("kpis.reason.pace", lang, value=v(card.value), expected=v(card.expected), day=fmt.day(today, lang),
                 share=_share(card.value, card.expected, lang), position=_position(card, lang))
    return t("kpis.reason.current", lang, value=v(card.value), target=v(card.target),
             share=_share(card.value, card.target, lang), position=_position(card, lang))


def note(card: Card, catalog: Mapping[str, Metric], lang: str, currency: str, today: date) -> str:
    """One line under a number that has a target: status dot and word, the target and its period, and why."""
    assert card.target is not None
    dot = STATUS_DOT.get(card.status or "", NO_STATUS_DOT)
    reason = reason_text(card, catalog, lang, currency, today)
    if card.reason == "forecast" and card.pace_basis in ("seasonal", "pro_rata"):
        reason = t("target.so_far", lang, value=value_text(card.kpi, card.value, catalog, lang, currency),
                   expected=value_text(card.kpi, card.expected, catalog, lang, currency),
                   day=fmt.day(today, lang)) + " " + reason
    return t("target.note", lang, dot=dot, status=status_text(card, lang), period=card.period_label,
             target=value_text(card.kpi, card.target, catalog, lang, currency), reason=reason)


def _share(value: float | None, of: float | None, lang: str) -> str:
    return fmt.percent(value / of, lang, 0) if value is not None and of else fmt.DASH


# -- the tree diagram ----------------------------------------------------------------------------------------


def _dot_text(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")


def tree_dot(kpis: Sequence[Kpi], by_id: Mapping[str, Card], catalog: Mapping[str, Metric], lang: str,
             currency: str) -> str:
    """The tree as a left-to-right Graphviz digraph: a box per KPI (name, current value, target and its
    period, owner, status) filled by status colour, an arrow from each KPI to the ones breaking it down."""
    lines = ["digraph kpis {", "  rankdir=LR;", '  bgcolor="transparent";',
             '  node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=11, margin="0.15,0.08"];',
             '  edge [color="#8C8C8C", arrowsize=0.7];']
    for kpi, _depth in kpi_tree.walk(kpis):
        card = by_id.get(kpi.id)
        status = card.status if card is not None else None
        value = t("kpis.node.value", lang, value=value_text(kpi, card.value if card else None, catalog, lang,
                                                           currency))
        if card is not None and card.target is not None:
            value += " · " + t("kpis.node.target", lang, target=value_text(kpi, card.target, catalog, lang, currency),
                               period=card.period_label)
        parts = [f"<b>{_html(kpi.name)}</b>", _html(value),
                 _html(status_text(card, lang) + (f" · {kpi.owner}" if kpi.owner else ""))]
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
