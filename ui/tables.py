"""Every table the app shows goes through here: one display builder for st.dataframe.

`show_table` hands Streamlit a frame whose cells keep their raw values (numbers sort as numbers, dates as
dates) with the text the reader sees laid over them: numbers, money, percentages, changes and dates in the
reader's language through the same Babel formatting as the KPI cards (`ui.format`), "–" for a missing value.
Streamlit's own "localized" number format follows the browser's locale, not the language picked in the
app, so cells are formatted here instead (a pandas Styler's display values, which Streamlit draws over the
data).

Text from data (campaign names, owners, notes) is shown as it is, but the frame under it holds that text
neutralised for spreadsheets (`kpi.download.neutralise`): the table toolbar's "Download as CSV" writes the
data, not what is drawn, so it gets `'=HYPERLINK(…)` like the app's own CSV and Excel buttons, and raw
numbers.

`metric_table` (metrics by dimensions, with their changes) and `data_table` (any other table) add the app's
own CSV and Excel buttons under the table; their files hold the raw numbers with the on-screen labels.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache, partial
from typing import Any

import polars as pl
import streamlit as st
from streamlit.elements.lib.column_types import ColumnConfig

from kpi.download import neutralise, to_csv_bytes, to_xlsx_bytes, typed
from kpi.metrics import Metric
from ui import format as fmt
from ui.i18n import TEXT, dim_label, metric_label, t

DELTA = "__delta"  # suffix of a change column on screen
# How a column's cells are written. A metric's unit ("count", "currency", "ratio", "multiple", "days", "hours")
# is a kind; so are "delta_pct" (a change in percent, 53.4 for +53.4 %), "delta_pp" (a change of a rate in
# percentage points, 1.2 for +1.2 pp), "number" (two decimals), "date", "datetime", "text" and "bool".
# Editable tables (st.data_editor) cannot take display values; their date columns get the reader's order.
EDITOR_DATE = {"en": "D MMM YYYY", "sv": "YYYY-MM-DD", "ru": "DD.MM.YYYY"}
NUMERIC = ("count", "currency", "ratio", "multiple", "days", "hours", "delta_pct", "delta_pp", "number", "duration")


def cell_text(value: Any, kind: str, lang: str, currency: str = "EUR") -> str:
    """One cell as the reader sees it: `value` written by its `kind` in `lang`, "–" when missing."""
    if value is None or (isinstance(value, float) and value != value):  # NaN: a missing number in pandas
        return fmt.DASH
    if kind == "delta_pct":
        text = fmt.percent(abs(value) / 100, lang)
        if not any(c in "123456789" for c in text):  # rounds to nothing: no sign
            return text
        return ("+" if value > 0 else "-") + text
    if kind == "delta_pp":
        return fmt.points(value / 100, lang)
    if kind == "number":
        return fmt.number(value, lang, 0 if float(value).is_integer() else 2)
    if kind in ("days", "hours"):
        return fmt.number(value, lang, 1)
    if kind == "duration":  # seconds
        return fmt.duration(value, lang)
    if kind == "date":
        return fmt.day(value, lang)
    if kind == "datetime":
        return f"{fmt.day(value, lang)} {value:%H:%M}"
    if kind == "text":
        return typed(str(value))
    if kind == "bool":
        return str(value)
    return fmt.metric_value(float(value), kind, lang, currency)


@lru_cache(maxsize=100_000)
def _cell_text(value: Any, kind: str, lang: str, currency: str) -> str:
    """`cell_text`, remembered: a long table repeats its counts, dates and names, and Babel takes ~0.1 ms a cell."""
    return cell_text(value, kind, lang, currency)


def kind_of(dtype: pl.DataType) -> str:
    """The kind of a column that was not given one, by its type."""
    if dtype.is_integer():
        return "count"
    if dtype.is_float() or dtype.is_decimal():
        return "number"
    if dtype == pl.Date:
        return "date"
    if isinstance(dtype, pl.Datetime):
        return "datetime"
    if dtype == pl.Boolean:
        return "bool"
    return "text"


def column_label(column: str, lang: str) -> str:
    """A column's name on screen: its own text (col.*), else a metric's or dimension's name, else as is."""
    for key in (f"col.{column}", f"metric.{column}", f"dim.{column}"):
        if key in TEXT:
            return t(key, lang)
    return column


def display(frame: pl.DataFrame, lang: str, currency: str = "EUR",
            kinds: Mapping[str, str] | None = None) -> Any:
    """`frame` as Streamlit draws it: a pandas Styler over the data (text neutralised for spreadsheets, numbers
    and dates raw) whose display values are the cells written for the reader (`cell_text`)."""
    kinds = {c: (kinds or {}).get(c) or kind_of(dtype) for c, dtype in frame.schema.items()}
    data = neutralise(frame.with_columns(pl.col(c).cast(pl.String) for c, dtype in frame.schema.items()
                                         if isinstance(dtype, (pl.Categorical, pl.Enum))))
    styler = data.to_pandas().style
    formatters: dict[str, Callable[[Any], str]] = {
        c: partial(_cell_text, kind=kinds[c], lang=lang, currency=currency) for c in frame.columns}
    return styler.format(formatters, na_rep=fmt.DASH)


def _config(frame: pl.DataFrame, kinds: Mapping[str, str], labels: Mapping[str, str], helps: Mapping[str, str],
            pinned: Sequence[str], wide: Sequence[str]) -> dict[str, ColumnConfig | str]:
    """Labels, help texts, pinned and wide columns; never a number format, so the display values show."""
    config: dict[str, ColumnConfig | str] = {}
    for c in frame.columns:
        common: dict[str, Any] = {"help": helps.get(c), "pinned": c in pinned or None,
                                  "width": "large" if c in wide else None}
        kind = kinds.get(c) or kind_of(frame.schema[c])
        if kind in NUMERIC:
            config[c] = st.column_config.NumberColumn(labels[c], **common)
        elif kind == "bool":
            config[c] = st.column_config.CheckboxColumn(labels[c], **common)
        else:
            config[c] = st.column_config.TextColumn(labels[c], **common)
    return config


def show_table(frame: pl.DataFrame, lang: str, key: str | None = None, *, currency: str = "EUR",
               kinds: Mapping[str, str] | None = None, labels: Mapping[str, str] | None = None,
               helps: Mapping[str, str] | None = None, pinned: Sequence[str] = (), wide: Sequence[str] = (),
               select_row: bool = False, hidden: Sequence[str] = ()) -> list[int]:
    """Draw `frame` as a sortable table in the reader's language (see the module's note); returns the positions
    of the selected rows when `select_row` (the reader may select one), else an empty list. Columns in
    `hidden` are left out of the default view (the reader can show them from the table toolbar)."""
    kinds = dict(kinds or {})
    labels = {c: (labels or {}).get(c) or column_label(c, lang) for c in frame.columns}
    config = _config(frame, kinds, labels, helps or {}, pinned, wide)
    order = [c for c in frame.columns if c not in hidden] if hidden else None
    event = st.dataframe(display(frame, lang, currency, kinds), column_config=config, hide_index=True, key=key,
                         on_select="rerun" if select_row else "ignore", selection_mode="single-row",
                         placeholder=fmt.DASH, column_order=order)
    if not select_row:
        return []
    return [r for r in event.selection.rows if r < frame.height]  # type: ignore[union-attr]


# -- metric tables -------------------------------------------------------------------------------------------


def metric_column_label(m: Metric, lang: str, currency: str) -> str:
    label = metric_label(m.id, lang)
    return t("table.in_currency", lang, label=label, currency=currency) if m.unit == "currency" else label


def delta_label(m: Metric, lang: str) -> str:
    if m.unit == "ratio":
        return t("table.delta_pp", lang, label=metric_label(m.id, lang), pp=t("table.pp", lang))
    return t("table.delta_pct", lang, label=metric_label(m.id, lang))


def table_frame(frame: pl.DataFrame, dimensions: Sequence[str], metrics: Sequence[Metric], lang: str) -> pl.DataFrame:
    """The columns shown: dimensions (missing values named), then each metric (money to the cent) and, when
    compared, its change (Δ % as a percentage, Δ pp in percentage points)."""
    columns: list[pl.Expr] = [pl.col(d).fill_null(t("table.none", lang)) for d in dimensions]
    for m in metrics:
        columns.append(pl.col(m.id).round(2) if m.unit == "currency" else pl.col(m.id))
        if f"{m.id}_delta" in frame.columns:
            change = pl.col(f"{m.id}_delta") if m.unit == "ratio" else pl.col(f"{m.id}_delta_pct")
            columns.append((change * 100).alias(m.id + DELTA))
    return frame.select(columns)


def metric_kinds(metrics: Sequence[Metric]) -> dict[str, str]:
    """Each metric column's kind (its unit) and its change column's ("delta_pp" for rates, else "delta_pct")."""
    kinds: dict[str, str] = {m.id: m.unit for m in metrics}
    kinds |= {m.id + DELTA: "delta_pp" if m.unit == "ratio" else "delta_pct" for m in metrics}
    return kinds


def metric_labels(dimensions: Sequence[str], metrics: Sequence[Metric], lang: str,
                  currency: str | None) -> dict[str, str]:
    """Column labels: dimensions, metrics (money with its currency, when given) and their changes."""
    labels = {d: dim_label(d, lang) for d in dimensions}
    for m in metrics:
        labels[m.id] = metric_column_label(m, lang, currency) if currency else metric_label(m.id, lang)
        labels[m.id + DELTA] = delta_label(m, lang)
    return labels


def export_frame(shown: pl.DataFrame, dimensions: Sequence[str], metrics: Sequence[Metric], lang: str,
                 currency: str) -> pl.DataFrame:
    """The shown table with its on-screen labels as column names, for download."""
    names = metric_labels(dimensions, metrics, lang, currency)
    return shown.rename({c: names[c] for c in shown.columns})


def downloads(export: pl.DataFrame, lang: str, key: str, file_name: str) -> None:
    """CSV and Excel download buttons for a table; the files are built only when clicked."""
    csv_col, xlsx_col, _ = st.columns([1, 1, 4])
    csv_col.download_button(t("table.download_csv", lang), lambda: to_csv_bytes(export), file_name=f"{file_name}.csv",
                            mime="text/csv", key=f"{key}_csv", icon=":material/download:", on_click="ignore")
    xlsx_col.download_button(t("table.download_xlsx", lang), lambda: to_xlsx_bytes(export),
                             file_name=f"{file_name}.xlsx", key=f"{key}_xlsx", icon=":material/download:",
                             mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                             on_click="ignore")


def metric_table(frame: pl.DataFrame, dimensions: Sequence[str], metrics: Sequence[Metric], lang: str,
                 currency: str, key: str, file_name: str, select_row: bool = False,
                 shown: Sequence[str] | None = None) -> list[int]:
    """Draw `frame` as a sortable table with CSV and Excel download buttons under it.

    With `shown` (metric ids), only those metrics and their changes are in the default view; the others
    stay in the table (the toolbar can show them) and in the downloads. With `select_row`, the reader can
    select one row; the positions of the selected rows in `frame` are returned (an empty list otherwise).
    """
    table = table_frame(frame, dimensions, metrics, lang)
    hidden = [] if shown is None else [c for m in metrics if m.id not in shown for c in (m.id, m.id + DELTA)]
    rows = show_table(table, lang, key, currency=currency, kinds=metric_kinds(metrics),
                      labels=metric_labels(dimensions, metrics, lang, None),  # cells carry the currency sign
                      helps={m.id: m.description for m in metrics}, pinned=dimensions, select_row=select_row,
                      hidden=[c for c in hidden if c in table.columns])
    downloads(export_frame(table, dimensions, metrics, lang, currency), lang, key, file_name)
    return rows


def data_table(frame: pl.DataFrame, lang: str, key: str, file_name: str, kinds: Mapping[str, str] | None = None,
               currency: str = "EUR", pinned: Sequence[str] = (), first: int | None = None) -> None:
    """Any table (stages, lead lists, rankings) as a sortable table with CSV and Excel downloads.

    `kinds` says how a column's cells are written (see `cell_text`); other columns go by their type. With
    `first`, a long list shows only its first rows on screen (and says so); the downloads hold every row and
    are built only when clicked.
    """
    shown = frame if first is None else frame.head(first)
    show_table(shown, lang, key, currency=currency, kinds=kinds, pinned=pinned)
    if shown.height < frame.height:
        st.caption(t("table.first_rows", lang, shown=fmt.number(shown.height, lang), count=fmt.number(frame.height,
                                                                                                         lang)))
    downloads(frame.rename({c: column_label(c, lang) for c in frame.columns}), lang, key, file_name)
