"""Streamlit components for uploading exports: file, detection with overrides, format/mapping,
validation report, confirm.

Nothing reaches `st.session_state["session_tables"]` until the person presses the confirm button,
and an import that fails leaves it exactly as it was. All reading and checking is done by
`kpi.sources`; this module only draws and keeps widget state.
"""

from __future__ import annotations

from collections.abc import Mapping as AnyMapping
from dataclasses import dataclass, replace
from datetime import date

import polars as pl
import streamlit as st

from kpi.schema import TABLES
from kpi.sources.files import ENCODINGS, ROW, FileRefused, RawTable, read_bytes
from kpi.sources.importer import ImportResult, import_raw, join, resolve
from kpi.sources.mapping import Mapping, MappingStore, suggest
from kpi.sources.presets import PRESETS, recognise

SESSION_TABLES = "session_tables"
MAX_UPLOAD_MB = 500  # per widget; the 200 MB benchmark file fits with room to spare
UPLOAD_TYPES = ["csv", "tsv", "txt", "xlsx", "xlsm", "xls", "parquet"]
AUTO = "auto"
CUSTOM = "custom"
NONE = "—"
SEPARATOR_LABELS = {AUTO: "auto", ",": ", (comma)", ";": "; (semicolon)", "\t": "tab", "|": "| (pipe)"}
UPLOAD_LABEL = "Upload an export (CSV, TSV, TXT, Excel or Parquet)"
JOIN_LABEL = "Second file to join (optional)"
CONFIRM_LABEL = "Add to workspace"


def add_to_session(tables: AnyMapping[str, pl.DataFrame], result: ImportResult) -> dict[str, pl.DataFrame]:
    """A new session-tables dict with the result appended to the table of the same name."""
    out = dict(tables)
    if result.table in out:
        out[result.table] = pl.concat([out[result.table], result.frame], how="diagonal_relaxed")
    else:
        out[result.table] = result.frame
    return out


@dataclass(frozen=True)
class Choices:
    """What the person chose on the screen; `AUTO` leaves a choice to detection."""

    encoding: str = AUTO
    separator: str = AUTO
    decimal: str = AUTO
    part: int | None = None
    preset: str = AUTO  # AUTO, a preset id, or CUSTOM
    table: str = "leads"
    fields: tuple[tuple[str, str], ...] = ()  # custom mapping: (field, column)
    period: tuple[date, date] | None = None
    dayfirst: bool | None = None


def read(data: bytes, name: str, choices: Choices) -> RawTable:
    """The uploaded file read with the person's overrides."""
    return read_bytes(data, name, encoding=None if choices.encoding == AUTO else choices.encoding,
                      separator=None if choices.separator == AUTO else choices.separator,
                      decimal=None if choices.decimal == AUTO else choices.decimal, part=choices.part)


def mapping_for(raw: RawTable, choices: Choices, store: MappingStore | None = None) -> Mapping:
    """The mapping the choices describe: a preset (recognised or picked), a saved one, or custom fields."""
    if choices.preset == CUSTOM:
        mapping = Mapping(choices.table, dict(choices.fields), label="custom mapping")
    else:
        mapping, _ = resolve(raw, choices.preset, store)
    return replace(mapping, period=choices.period or mapping.period,
                   dayfirst=choices.dayfirst if choices.dayfirst is not None else mapping.dayfirst)


def needs_period(raw: RawTable, mapping: Mapping) -> bool:
    """Whether a spend mapping has neither dates nor a period of its own to place its rows."""
    return (mapping.table == "spend" and "date" not in mapping.fields and mapping.range_columns is None
            and raw.detected.period is None)


# --- drawing -------------------------------------------------------------------------------------------

def _detection(key: str) -> Choices:
    cols = st.columns(3)
    encoding = cols[0].selectbox("Encoding", [AUTO, *ENCODINGS], key=f"{key}_enc")
    separator = cols[1].selectbox("Separator", list(SEPARATOR_LABELS), format_func=SEPARATOR_LABELS.__getitem__,
                                  key=f"{key}_sep")
    decimal = cols[2].selectbox("Decimal mark", [AUTO, ".", ","], key=f"{key}_dec")
    return Choices(encoding, separator, decimal)


def _report(result: ImportResult) -> None:
    rep = result.report
    cols = st.columns(4)
    cols[0].metric("Rows read", rep.rows_read)
    cols[1].metric("Accepted", rep.rows_accepted)
    cols[2].metric("Rejected", rep.rows_rejected)
    cols[3].metric("Totals and footers left out", len(rep.totals_excluded))
    st.caption(f"{rep.preset} → table **{rep.table}**" + (
        f", dates {rep.date_range[0]} … {rep.date_range[1]}" if rep.date_range else ""))
    for issue in rep.issues:
        (st.warning if issue.rejected else st.info)(("Rejected: " if issue.rejected else "Changed: ") + str(issue))
    if rep.totals_excluded:
        with st.expander("Rows left out as totals or footers"):
            st.text("\n".join(rep.totals_excluded))
    if rep.columns_ignored:
        st.caption("Columns not used: " + ", ".join(rep.columns_ignored))
    if rep.duplicates:
        st.caption(f"Duplicates found: {rep.duplicates}")
    for w in rep.warnings:
        st.caption("ℹ️ " + w)
    st.dataframe(result.frame.head(50), hide_index=True)


def _custom_fields(raw: RawTable, key: str, table: str) -> tuple[tuple[str, str], ...]:
    guess = suggest(raw.frame, table, raw.columns, raw.detected.decimal)
    options = [NONE, *raw.columns]
    chosen: list[tuple[str, str]] = []
    cols = st.columns(3)
    for i, col_spec in enumerate(TABLES[table].columns):
        default = guess.get(col_spec.name, NONE)
        label = col_spec.name + (" *" if col_spec.required else "")
        value = cols[i % 3].selectbox(label, options, index=options.index(default),
                                      key=f"{key}_f_{table}_{col_spec.name}")
        if value != NONE:
            chosen.append((col_spec.name, value))
    return tuple(chosen)


def _mapping_choices(raw: RawTable, key: str, base: Choices, store: MappingStore) -> Choices:
    recognised = recognise(raw)
    saved = store.get(raw.columns)
    ids = [AUTO, *(p.id for p in PRESETS if not p.refuse), CUSTOM]
    labels = {p.id: p.label for p in PRESETS}
    auto_label = (f"Recognised: {recognised.label}" if recognised else
                  f"Saved mapping: {saved.label}" if saved else "Not recognised: map the columns")
    labels.update({AUTO: auto_label, CUSTOM: "Custom mapping"})
    start = ids.index(CUSTOM) if recognised is None and saved is None else 0
    preset = st.selectbox("Format", ids, index=start, format_func=labels.__getitem__, key=f"{key}_preset")
    choices = replace(base, preset=preset)
    if preset == CUSTOM:
        table = st.selectbox("Table", ["leads", "spend", "traffic", "touches"], key=f"{key}_table")
        choices = replace(choices, table=table, fields=_custom_fields(raw, key, table))
    return choices


def upload_panel(key: str = "upload", store: MappingStore | None = None) -> None:
    """The whole upload flow on one page. Confirmed tables go to st.session_state['session_tables']."""
    store = store or MappingStore()
    file = st.file_uploader(UPLOAD_LABEL, type=UPLOAD_TYPES, max_upload_size=MAX_UPLOAD_MB, key=f"{key}_file")
    done = st.session_state.pop(f"{key}_done", None)
    if done:
        st.success(done)
    if file is None:
        return
    with st.expander("Detected format (change if the preview looks wrong)", expanded=False):
        choices = _detection(key)
    try:
        raw = read(file.getvalue(), file.name, choices)
    except FileRefused as exc:
        st.error(str(exc))
        return
    if len(raw.detected.parts) > 1:
        part = st.selectbox("Sheet or table", range(len(raw.detected.parts)), index=raw.detected.part,
                            format_func=lambda i: raw.detected.parts[i], key=f"{key}_part")
        if part != raw.detected.part:
            choices = replace(choices, part=part)
            raw = read(file.getvalue(), file.name, choices)
    st.caption("Detected: " + raw.detected.describe())
    st.dataframe(raw.frame.drop(ROW).head(20), hide_index=True)

    choices = _mapping_choices(raw, key, choices, store)
    try:
        mapping = mapping_for(raw, choices, store)
    except FileRefused as exc:
        st.error(str(exc))
        return
    if needs_period(raw, mapping):
        picked = st.date_input("Period the rows cover", value=[], key=f"{key}_period")
        if isinstance(picked, tuple) and len(picked) == 2:
            mapping = replace(mapping, period=(picked[0], picked[1]))
    second = None
    if mapping.table == "leads":
        with st.expander("Join with a second file (for example closed deals for these leads)"):
            second = st.file_uploader(JOIN_LABEL, type=UPLOAD_TYPES, max_upload_size=MAX_UPLOAD_MB,
                                      key=f"{key}_join")
    try:
        if second is not None:
            other = read_bytes(second.getvalue(), second.name)
            result = join((raw, mapping), (other, resolve(other, store=store)[0]))
        else:
            result = import_raw(raw, mapping)
    except FileRefused as exc:
        st.error(str(exc))
        return
    if result.report.ambiguous_dates:
        order = st.radio("Dates like 03/04/2025 mean", ["day/month", "month/day"], horizontal=True,
                         key=f"{key}_order")
        if (order == "month/day") != (mapping.dayfirst is False):
            mapping = replace(mapping, dayfirst=order == "day/month")
            result = import_raw(raw, mapping)
            result.report.ambiguous_dates = [f"read as {order}, as chosen"]
    _report(result)
    remember = choices.preset == CUSTOM and st.checkbox("Remember this mapping for files with the same columns",
                                                         value=True, key=f"{key}_remember")
    if st.button(CONFIRM_LABEL, type="primary", key=f"{key}_confirm"):
        st.session_state[SESSION_TABLES] = add_to_session(st.session_state.get(SESSION_TABLES) or {}, result)
        if remember:
            store.save(raw.columns, mapping)
        st.session_state[f"{key}_done"] = (f"Added {result.report.rows_accepted} rows from {file.name} "
                                           f"to {result.table}.")
        st.rerun()
