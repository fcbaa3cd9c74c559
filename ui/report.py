"""The summary report for leadership as a document: HTML from one template, and its PDF (WeasyPrint).

`document(ws, summary, about, lang)` writes a `kpi.summary.Summary` in the reader's language with the pages'
own words and formatting: numbers through `ui.format` and the tables' `ui.tables.cell_text`, labels through
`ui.i18n`, the status, pace and reasons of `ui.kpis` and `ui.review`, and the charts from the app's Altair
specs (`ui.charts`) turned into SVG by vl-convert. The template is autoescaped, so a campaign, initiative or
owner name is always text, never markup. `pdf(html)` lays the same document out on A4 pages with DejaVu Sans
embedded (Cyrillic and å/ä/ö included).

Nothing here draws with Streamlit: the command line (`python -m kpi report`, `ui.report_command`) and the
app's download button (`ui.summary`) both call `document` and `pdf`.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import altair as alt
import polars as pl
from jinja2 import Environment, FileSystemLoader, select_autoescape

from kpi.attribution import Model
from kpi.funnel import COLUMN_UNITS
from kpi.metrics import Metric, catalog
from kpi.period import Period
from kpi.review import VERDICTS
from kpi.scorecard import Card
from kpi.summary import CREDIT, HEADLINE, RANK_METRIC, Summary
from kpi.tree import Kpi
from ui import attribution as words
from ui import format as fmt
from ui import kpis as kpi_words
from ui import review as review_words
from ui.charts import funnel_chart, model_comparison, ranked_bars, titled
from ui.i18n import dim_label, metric_label, t
from ui.tables import cell_text, column_label
from ui.workspace import Workspace, with_stage_labels

TEMPLATES = Path(__file__).resolve().parent / "templates"
FONT = "DejaVu Sans"  # embedded in the PDF; the charts' text is set in it too
CHART_WIDTH = 560  # px of a full-width chart's plot; a chart beside another gets half
ATTRIBUTION_HEIGHT = 380  # px of the attribution comparison: it fits a page with its heading
TOP = 12  # values drawn in the attribution comparison (as on the Attribution page)
#: The funnel's columns in the report, each followed by its value in the comparison period when compared.
REPORT_COLUMNS = ("label", "count", "count_prev", "step_conversion", "step_conversion_prev", "cost_per_stage",
                  "cost_per_stage_prev", "days_from_previous", "days_from_previous_prev")


@dataclass(frozen=True)
class About:
    """What the report is of, beyond its numbers: the data version in words and when it was made."""

    version: str
    generated: datetime
    model: Model = "linear"  # the attribution model drawn in full colour


@dataclass(frozen=True)
class Cell:
    text: str
    css: str = ""


@dataclass(frozen=True)
class Column:
    label: str
    number: bool = False


@dataclass(frozen=True)
class Table:
    columns: list[Column]
    rows: list[list[Cell]]
    kind: str = "table"


@dataclass(frozen=True)
class Chart:
    src: str  # a data: URL of the SVG
    alt: str
    kind: str = "chart"


@dataclass(frozen=True)
class Text:
    text: str
    kind: str = "note"  # note, heading
    subject: str = ""  # a verdict's subject


@dataclass(frozen=True)
class Side:
    title: str
    chart: str | None
    table: Table


@dataclass(frozen=True)
class Pair:
    sides: list[Side]
    kind: str = "pair"


@dataclass(frozen=True)
class Section:
    title: str
    parts: list[Any] = field(default_factory=list)


def vector(chart: alt.TopLevelMixin, lang: str, width: int = CHART_WIDTH, height: int | None = None) -> str:
    """`chart` as an SVG image (a data: URL), `width` px wide (and `height` px high instead of its own), with the
    reader's number and date locale, in the report's font."""
    size = {"width": width} | ({"height": height} if height else {})
    spec = chart.properties(**size).configure(locale=fmt.vega_locale(lang), font=FONT).to_dict()
    import vl_convert  # loaded with the first chart: the app's pages never need it

    svg = vl_convert.vegalite_to_svg(spec)
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()


def _table(frame: pl.DataFrame, kinds: Mapping[str, str], lang: str, currency: str,
           labels: Mapping[str, str] | None = None) -> Table:
    """`frame` as a table: each cell written by its column's kind as the app's tables write it."""
    numeric = {c for c, k in kinds.items() if k not in ("text", "date", "datetime", "bool")}
    columns = [Column((labels or {}).get(c) or column_label(c, lang), c in numeric) for c in frame.columns]
    rows = [[Cell(cell_text(v, kinds.get(c, "text"), lang, currency), "n" if c in numeric else "")
             for c, v in row.items()] for row in frame.iter_rows(named=True)]
    return Table(columns, rows)


def _range(period: Period, lang: str) -> str:
    return t("report.range", lang, start=fmt.day(period.start, lang), end=fmt.day(period.end, lang))


def _about(ws: Workspace, summary: Summary, about: About, lang: str) -> list[tuple[str, str]]:
    query = summary.query
    assert query.period is not None
    filters = "; ".join(f"{dim_label(d, lang)}: {', '.join(v)}" for d, v in query.filters)
    version = t("report.data_up_to", lang, version=about.version,
                day=fmt.day(ws.last_day, lang) if ws.last_day else fmt.DASH)
    when = about.generated.astimezone(UTC)
    generated = f"{fmt.day(when.date(), lang)} {when:%H:%M} UTC"
    return [(t("report.workspace", lang), ws.name), (t("report.period", lang), _range(query.period, lang)),
            (t("report.compared", lang), _range(query.compare, lang) if query.compare else t("compare.none", lang)),
            (t("report.counting", lang), t(f"view.{query.view}", lang)),
            (t("report.filters", lang), filters or t("report.no_filters", lang)),
            (t("report.data", lang), version), (t("report.generated", lang), generated)]


def _status(card: Card, lang: str) -> Cell:
    return Cell(kpi_words.status_text(card, lang), f"status-{card.status}" if card.status else "")


def _headline(ws: Workspace, summary: Summary, cat: Mapping[str, Metric], lang: str) -> Section:
    """The Overview's cards as a table: value, change, and (when the KPI tree has one for the number) its target,
    its value so far, the pace expected by the day judged on and the status."""
    currency = ws.settings.currency
    row = summary.headline.row(0, named=True) if summary.headline.height else {}
    compared, targets = summary.query.compare is not None, bool(summary.targets)
    day = fmt.day(summary.headline_day, lang)
    columns = [Column(t("report.col.metric", lang)), Column(t("report.col.value", lang), True)]
    columns += [Column(t("report.col.change", lang), True)] if compared else []
    columns += [Column(t("report.col.target", lang), True), Column(t("kpis.series.so_far", lang), True),
                Column(t("report.col.pace", lang, day=day), True), Column(t("report.col.status", lang))
                ] if targets else []
    rows = []
    for metric in (cat[m] for m in HEADLINE if m in row):
        cells = [Cell(metric_label(metric.id, lang)),
                 Cell(fmt.metric_value(row[metric.id], metric.unit, lang, currency, compact=True), "n")]
        if compared:
            cells.append(Cell(fmt.delta(row, metric.id, metric.unit, lang) or fmt.DASH, "n"))
        if targets:
            cells += _target_cells(summary.targets.get(metric.id), cat, lang, currency)
        rows.append(cells)
    parts: list[Any] = [Table(columns, rows)]
    if summary.cost_gaps:  # as under the Overview's cards: why a cost is "–"
        missing = dict.fromkeys(d for found in summary.cost_gaps.values() for d in found)
        dimensions = ", ".join(dim_label(d, lang) for d in missing)
        parts.append(Text(", ".join(metric_label(m, lang) for m in summary.cost_gaps) + ": "
                          + t("overview.cost_card_missing", lang, dimension=dimensions)))
    if summary.query.filters:
        parts.append(Text(t("target.filtered", lang)))
    elif targets:
        parts.append(Text(t("report.targets_note", lang, day=day)))
    return Section(t("overview.headline", lang), parts)


def _target_cells(card: Card | None, cat: Mapping[str, Metric], lang: str, currency: str) -> list[Cell]:
    """A headline number's KPI: its target (and period), value so far, pace and status; dashes without one."""
    if card is None:
        return [Cell(fmt.DASH, "n"), Cell(fmt.DASH, "n"), Cell(fmt.DASH, "n"), Cell(fmt.DASH)]

    def v(x: float | None) -> str:
        return kpi_words.value_text(card.kpi, x, cat, lang, currency)

    return [Cell(t("report.target_of", lang, target=v(card.target), period=card.period_label), "n"),
            Cell(v(card.value), "n"), Cell(v(card.expected), "n"), _status(card, lang)]


def _funnel(ws: Workspace, summary: Summary, lang: str) -> Section:
    funnel = with_stage_labels(summary.funnel, ws.settings, lang)
    chart = funnel_chart(funnel, lang, "", summary.query.view)  # the section's heading is its title
    shown = funnel.select(c for c in REPORT_COLUMNS if c in funnel.columns)
    return Section(t("overview.funnel", lang), [
        Chart(vector(chart, lang), t("overview.funnel", lang)),
        _table(shown, COLUMN_UNITS, lang, ws.settings.currency),
        Text(t("report.funnel_note", lang, currency=ws.settings.currency))])


def _ranking(ws: Workspace, summary: Summary, cat: Mapping[str, Metric], lang: str) -> Section:
    dimension, metric, ranking = summary.dimension, cat[RANK_METRIC], summary.ranking
    named = {"dimension": dim_label(dimension, lang).lower(), "metric": metric_label(metric.id, lang)}
    title = t("report.ranking", lang, **named)
    if ranking is None:
        return Section(title, [Text(t("report.nothing_to_rank", lang, **named))])
    sides = []
    for frame, key in ((ranking.best, "overview.best"), (ranking.worst, "overview.worst")):
        chart = ranked_bars(frame, dimension, metric.id, metric.unit, lang, "", dim_label(dimension, lang))
        sides.append(Side(t(key, lang), vector(chart, lang, CHART_WIDTH // 2 - 90),
                          _table(frame, {metric.id: metric.unit}, lang, ws.settings.currency)))
    return Section(title, [Pair(sides)])


def _verdicts(ws: Workspace, summary: Summary, lang: str) -> Section:
    title = t("report.verdicts", lang, dimension=dim_label(summary.dimension, lang).lower())
    table = summary.verdicts
    if table is None or table.is_empty():
        reason = summary.verdicts_problem or t("review.nothing", lang)
        return Section(title, [Text(t("report.no_verdicts", lang, reason=reason))])
    qualified = ws.settings.qualified is not None
    parts: list[Any] = []
    for verdict in VERDICTS:
        group = table.filter(pl.col("verdict") == verdict)
        if group.is_empty():
            continue
        parts.append(Text(t("review.group", lang, verdict=t(f"verdict.{verdict}", lang), count=group.height),
                          "heading"))
        parts += [Text(review_words.reason(row, summary.rules, lang, ws.settings.currency, qualified), "verdict",
                       row["subject"]) for row in group.iter_rows(named=True)]
    return Section(title, parts)


def _tree(ws: Workspace, summary: Summary, cat: Mapping[str, Metric], lang: str) -> Section:
    title = t("report.tree", lang, day=fmt.day(summary.tree_day, lang))
    if not summary.tree:
        return Section(title, [Text(t("report.no_tree", lang))])
    currency = ws.settings.currency
    columns = [Column(t("report.col.kpi", lang)), Column(t("report.col.value", lang), True),
               Column(t("report.col.target", lang), True), Column(t("kpis.series.expected", lang), True),
               Column(t("report.col.status", lang)), Column(t("kpis.col.owner", lang))]
    rows = []
    for card, depth in summary.tree:
        def v(x: float | None, kpi: Kpi = card.kpi) -> str:
            return kpi_words.value_text(kpi, x, cat, lang, currency)
        target = (t("report.target_of", lang, target=v(card.target), period=card.period_label)
                  if card.target is not None else fmt.DASH)
        rows.append([Cell(card.kpi.name, f"indent-{min(depth, 4)}" if depth else ""), Cell(v(card.value), "n"),
                     Cell(target, "n"), Cell(v(card.expected), "n"), _status(card, lang), Cell(card.kpi.owner or "")])
    return Section(title, [Table(columns, rows)])


def _attribution(ws: Workspace, summary: Summary, model: Model, lang: str) -> Section:
    dimension = dim_label(summary.dimension, lang)
    credit = words.credit_label(ws, CREDIT, lang)
    title = t("report.attribution", lang, credit=credit, dimension=dimension.lower())
    compared = summary.attribution
    if compared is None or not compared.filter(pl.col("model") == model)["credit"].sum():
        return Section(title, [Text(t("report.no_attribution", lang, dimension=dimension.lower()))])
    by = summary.dimension
    top = compared.filter(pl.col("model") == model).sort("credit", descending=True)[by].head(TOP)
    chart = model_comparison(compared.filter(pl.col(by).is_in(top.implode())), by, model, lang,
                             titled("", t("attribution.compare_measure", lang)), dimension,
                             words.model_labels(lang))
    parts: list[Any] = [Chart(vector(chart, lang, height=ATTRIBUTION_HEIGHT), title),
                        Text(t(f"model.{model}.explain", lang))]
    if summary.query.filters:
        return Section(title, [*parts, Text(t("attribution.sliced", lang))])
    costs = words.by_model(compared, by, "cost_per_credit", lang)
    parts += [Text(t("report.attribution_costs", lang, currency=ws.settings.currency), "heading"),
              _table(costs, {"spend": "currency"} | dict.fromkeys(costs.columns[2:], "currency"), lang,
                     ws.settings.currency)]
    return Section(title, parts)


def document(ws: Workspace, summary: Summary, about: About, lang: str) -> str:
    """The report as one self-contained HTML document in `lang` (charts inline as SVG images)."""
    cat = catalog(ws.settings)
    sections = [_headline(ws, summary, cat, lang), _funnel(ws, summary, lang), _ranking(ws, summary, cat, lang),
                _verdicts(ws, summary, lang), _tree(ws, summary, cat, lang),
                _attribution(ws, summary, about.model, lang)]
    assert summary.query.period is not None
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(default=True))
    return env.get_template("report.html").render(
        lang=lang, title=t("report.title", lang), period=_range(summary.query.period, lang),
        page_word=t("report.page", lang), about=_about(ws, summary, about, lang), sections=sections)


def pdf(html: str) -> bytes:
    """The HTML document laid out as A4 pages, its fonts embedded."""
    from weasyprint import HTML  # loaded when a PDF is asked for: the app's pages never need it

    return bytes(HTML(string=html, base_url=str(TEMPLATES)).write_pdf())


def folder_version(folder: str | Path) -> str:
    """A folder's data in words: its path and a fingerprint of its Parquet files' bytes (same files, same
    fingerprint), so two reports say whether they were made from the same data."""
    digest = hashlib.sha256()
    for path in sorted(Path(folder).glob("*.parquet")):
        digest.update(path.name.encode())
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return f"{Path(folder).resolve()} · {digest.hexdigest()[:12]}"


def mail_subject(period: Period, lang: str) -> str:
    return t("report.mail_subject", lang, start=fmt.day(period.start, lang), end=fmt.day(period.end, lang))


def mail_body(ws: Workspace, period: Period, lang: str) -> str:
    return t("report.mail_body", lang, start=fmt.day(period.start, lang), end=fmt.day(period.end, lang),
             workspace=ws.name)
