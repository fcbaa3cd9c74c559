"""Metric tables: a polars frame of metrics as a sortable st.dataframe with CSV and Excel downloads.

Columns are formatted by each metric's unit and labelled in the reader's language. When the frame
carries comparison columns (from `kpi.metrics.with_deltas`), each metric is followed by its change:
"Δ %" for counts, money and multiples, "Δ pp" (percentage points) for rates. The downloads hold the
same columns as the screen, with the same labels, as numbers.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl
import streamlit as st
from streamlit.elements.lib.column_types import ColumnConfig

from kpi.metrics import Metric
from ui.download import to_csv_bytes, to_xlsx_bytes
from ui.format import DASH
from ui.i18n import TEXT, dim_label, metric_label, t

DELTA = "__delta"  # suffix of a change column on screen

_FORMATS = {"count": "localized", "currency": "localized", "ratio": "percent", "multiple": "%.2f×",
            "days": "%.1f", "hours": "%.1f"}


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


def _config(shown: pl.DataFrame, dimensions: Sequence[str], metrics: Sequence[Metric], lang: str,
            currency: str) -> dict[str, ColumnConfig | str]:
    config: dict[str, ColumnConfig | str] = {
        d: st.column_config.TextColumn(dim_label(d, lang), pinned=True) for d in dimensions}
    for m in metrics:
        config[m.id] = st.column_config.NumberColumn(metric_column_label(m, lang, currency), help=m.description,
                                                     format=_FORMATS.get(m.unit, "localized"))
        if m.id + DELTA in shown.columns:
            config[m.id + DELTA] = st.column_config.NumberColumn(
                delta_label(m, lang), format=f"%+.2f {t('table.pp', lang)}" if m.unit == "ratio" else "%+.1f%%")
    return config


def export_frame(shown: pl.DataFrame, dimensions: Sequence[str], metrics: Sequence[Metric], lang: str,
                 currency: str) -> pl.DataFrame:
    """The shown table with its on-screen labels as column names, for download."""
    names = {d: dim_label(d, lang) for d in dimensions}
    for m in metrics:
        names[m.id] = metric_column_label(m, lang, currency)
        names[m.id + DELTA] = delta_label(m, lang)
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
                 currency: str, key: str, file_name: str, select_row: bool = False) -> list[int]:
    """Draw `frame` as a sortable table with CSV and Excel download buttons under it.

    With `select_row`, the reader can select one row; the positions of the selected rows in `frame`
    are returned (an empty list otherwise).
    """
    shown = table_frame(frame, dimensions, metrics, lang)
    event = st.dataframe(shown, column_config=_config(shown, dimensions, metrics, lang, currency), hide_index=True,
                         key=key, on_select="rerun" if select_row else "ignore", selection_mode="single-row",
                         placeholder=DASH)
    export = export_frame(shown, dimensions, metrics, lang, currency)
    downloads(export, lang, key, file_name)
    if not select_row:
        return []
    return [r for r in event.selection.rows if r < frame.height]  # type: ignore[union-attr]


def column_label(column: str, lang: str) -> str:
    """A column's name on screen: its own text (col.*), else a metric's or dimension's name, else as is."""
    for key in (f"col.{column}", f"metric.{column}", f"dim.{column}"):
        if key in TEXT:
            return t(key, lang)
    return column


def data_table(frame: pl.DataFrame, lang: str, key: str, file_name: str,
               formats: dict[str, str] | None = None) -> None:
    """Any table (stages, lead lists, rankings) as a sortable st.dataframe with CSV and Excel downloads.

    `formats` maps columns to Streamlit number formats ("percent", "localized", "%.1f", ...).
    """
    labels = {c: column_label(c, lang) for c in frame.columns}
    config: dict[str, ColumnConfig | str] = {
        c: st.column_config.NumberColumn(labels[c], format=fmt) for c, fmt in (formats or {}).items() if c in labels}
    config.update({c: labels[c] for c in frame.columns if c not in config})
    st.dataframe(frame, column_config=config, hide_index=True, key=key, placeholder=DASH)
    export = frame.rename(labels)
    downloads(export, lang, key, file_name)
