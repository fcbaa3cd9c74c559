"""Streamlit components for uploading exports: file, detection with overrides, format/mapping,
validation report, confirm.

Nothing reaches `st.session_state["session_tables"]` until the person presses the confirm button,
and an import that fails leaves it exactly as it was. All reading and checking is done by
`kpi.sources`; this module only draws and keeps widget state.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Mapping as AnyMapping
from dataclasses import dataclass, replace
from datetime import date
from typing import TypeVar
from zoneinfo import available_timezones

import polars as pl
import streamlit as st
from streamlit.runtime.uploaded_file_manager import UploadedFile

from kpi.schema import RANGED_TABLES, TABLES
from kpi.sources.files import ENCODINGS, ROW, FileRefused, RawTable, read_bytes
from kpi.sources.importer import ImportResult, import_raw, join, resolve, with_event_properties
from kpi.sources.mapping import DamagedMapping, Mapping, MappingStore, suggest
from kpi.sources.presets import PRESETS, recognise
from ui.format import number
from ui.i18n import TEXT, current_language, plural, t
from ui.safe import md
from ui.tables import show_table
from ui.workspace import SESSION_TABLES, mappings, session_tables

MAX_UPLOAD_MB = 500  # per widget; the 200 MB benchmark file fits with room to spare
UPLOAD_TYPES = ["csv", "tsv", "txt", "xlsx", "xlsm", "xls", "parquet", "json", "jsonl", "ndjson", "gz", "zip"]
AUTO = "auto"
CUSTOM = "custom"
NONE = "—"
SEPARATORS = {AUTO: "upload.auto", ",": "upload.sep.comma", ";": "upload.sep.semicolon", "\t": "upload.sep.tab",
              "|": "upload.sep.pipe"}  # separator -> text key
DATE_ORDERS = {"day_month": "day/month", "month_day": "month/day"}  # radio option -> how the report names it
UPLOAD_TABLES = ("leads", "spend", "traffic", "touches", "events")
UTC = "UTC"
CUSTOM_LABEL = "custom mapping"  # what a custom mapping is called in the report and the mapping store
MEMOS = ("read", "part", "join", "import", "order")  # the panel's remembered reads and imports, by step

T = TypeVar("T")


def table_label(name: str, lang: str | None = None) -> str:
    """A session table's name in `lang` (leads, spend, traffic, ...); unknown tables keep their name."""
    key = f"data.table.{name}"
    return t(key, lang) if key in TEXT else name


def field_label(name: str, lang: str | None = None) -> str:
    """A canonical field as the mapping screen shows it: its name in `lang`, then the field id errors use.
    A field named as the dimension or metric it feeds (channel, spend) takes that text."""
    key = next((k for k in (f"field.{name}", f"dim.{name}", f"metric.{name}") if k in TEXT), None)
    return f"{t(key, lang)} ({name})" if key else name


def mapping_label(label: str, lang: str | None = None) -> str:
    """A preset's or saved mapping's name; a custom mapping's in `lang`, presets keep their product names."""
    return t("upload.custom_mapping", lang) if label == CUSTOM_LABEL else label


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
        mapping = with_event_properties(raw, Mapping(choices.table, dict(choices.fields), label=CUSTOM_LABEL))
    else:
        mapping, _ = resolve(raw, choices.preset, store)
    return replace(mapping, period=choices.period or mapping.period,
                   dayfirst=choices.dayfirst if choices.dayfirst is not None else mapping.dayfirst)


def needs_period(raw: RawTable, mapping: Mapping) -> bool:
    """Whether a spend or traffic mapping has neither dates nor a period of its own to place its rows."""
    return (mapping.table in RANGED_TABLES and "date" not in mapping.fields and mapping.range_columns is None
            and raw.detected.period is None)


def remembered(slot: str, identity: object, make: Callable[[], T]) -> T:
    """`make()`, run again only when `identity` differs from the one remembered in session-state `slot`
    (a one-slot memo, as in `ui.workspace.session_workspace`): every click reruns the page, and reading
    or importing a large file again for a click elsewhere takes about a second per 50 MB. A refusal is remembered
    too and raised again, so its message shows on every run."""
    known = st.session_state.get(slot)
    if known is None or known[0] != identity:
        try:
            outcome: T | FileRefused = make()
        except FileRefused as exc:
            outcome = exc
        known = (identity, outcome)
        st.session_state[slot] = known
    if isinstance(known[1], FileRefused):
        raise known[1].with_traceback(None)
    return known[1]


# --- drawing -------------------------------------------------------------------------------------------

def _detection(key: str, lang: str) -> Choices:
    def auto(value: str) -> str:
        return t("upload.auto", lang) if value == AUTO else value

    cols = st.columns(3)
    encoding = cols[0].selectbox(t("upload.encoding", lang), [AUTO, *ENCODINGS], format_func=auto, key=f"{key}_enc")
    separator = cols[1].selectbox(t("upload.separator", lang), list(SEPARATORS),
                                  format_func=lambda sep: t(SEPARATORS[sep], lang), key=f"{key}_sep")
    decimal = cols[2].selectbox(t("upload.decimal", lang), [AUTO, ".", ","], format_func=auto, key=f"{key}_dec")
    return Choices(encoding, separator, decimal)


def _report(result: ImportResult, source: str, lang: str, joined_from: str | None = None) -> None:
    """The validation report. `source` names the format or mapping the file was read with; `joined_from`
    the second file joined into it, whose joined rows are counted beside the others.

    The issues, warnings and left-out rows come from kpi.sources and stay in English: they name the
    file's rows, columns and fields exactly as the importer saw them.
    """
    rep = result.report
    cols = st.columns(5 if rep.rows_joined else 4)
    cols[0].metric(t("upload.rows_read", lang), number(rep.rows_read, lang))
    cols[1].metric(t("upload.accepted", lang), number(rep.rows_accepted, lang))
    cols[2].metric(t("upload.rejected", lang), number(rep.rows_rejected, lang))
    cols[3].metric(t("upload.totals_left_out", lang), number(len(rep.totals_excluded), lang))
    if rep.rows_joined:
        cols[4].metric(t("upload.joined", lang), number(rep.rows_joined, lang),
                       help=t("upload.joined_help", lang, file=md(joined_from or ""),
                              field=field_label("lead_id", lang)))
    table = table_label(rep.table, lang)
    if rep.date_range:
        st.caption(t("upload.into_table_dates", lang, source=md(source), table=table, start=rep.date_range[0],
                     end=rep.date_range[1]))
    else:
        st.caption(t("upload.into_table", lang, source=md(source), table=table))
    for issue in rep.issues:
        if issue.rejected:
            st.warning(t("upload.issue_rejected", lang, issue=md(issue)))
        else:
            st.info(t("upload.issue_changed", lang, issue=md(issue)))
    if rep.totals_excluded:
        with st.expander(t("upload.totals_rows", lang)):
            st.text("\n".join(rep.totals_excluded))
    if rep.columns_ignored:
        st.caption(t("upload.columns_ignored", lang, columns=", ".join(md(c) for c in rep.columns_ignored)))
    if rep.duplicates:
        st.caption(t("upload.duplicates", lang, count=number(rep.duplicates, lang)))
    for w in rep.warnings:
        st.caption("ℹ️ " + md(w))
    show_table(result.frame.head(50), lang)


def _custom_fields(raw: RawTable, key: str, table: str, lang: str) -> tuple[tuple[str, str], ...]:
    guess = suggest(raw.frame, table, raw.columns, raw.detected.decimal)
    options = [NONE, *raw.columns]
    chosen: list[tuple[str, str]] = []
    cols = st.columns(3)
    for i, col_spec in enumerate(TABLES[table].columns):
        default = guess.get(col_spec.name, NONE)
        label = field_label(col_spec.name, lang) + (" *" if col_spec.required else "")
        value = cols[i % 3].selectbox(label, options, index=options.index(default),
                                      key=f"{key}_f_{table}_{col_spec.name}")
        if value != NONE:
            chosen.append((col_spec.name, value))
    st.caption(t("upload.required_note", lang))
    return tuple(chosen)


def _saved(store: MappingStore, raw: RawTable) -> Mapping | None:
    """The mapping saved for the file's header shape; a damaged one is shown (what and what to do), not used."""
    try:
        return store.get(raw.columns)
    except DamagedMapping as exc:
        st.warning(str(exc))
        return None


def _mapping_choices(raw: RawTable, key: str, base: Choices, store: MappingStore, lang: str) -> Choices:
    recognised = recognise(raw)
    saved = None if recognised else _saved(store, raw)
    ids = [AUTO, *(p.id for p in PRESETS if not p.refuse), CUSTOM]
    labels = {p.id: p.label for p in PRESETS}  # export formats keep their product names
    if recognised:
        auto_label = t("upload.recognised", lang, label=recognised.label)
    elif saved:
        auto_label = t("upload.saved_mapping", lang, label=mapping_label(saved.label, lang))
    else:
        auto_label = t("upload.not_recognised", lang)
    labels.update({AUTO: auto_label, CUSTOM: t("upload.custom_mapping", lang)})
    start = ids.index(CUSTOM) if recognised is None and saved is None else 0
    preset = st.selectbox(t("upload.format", lang), ids, index=start, format_func=labels.__getitem__,
                          key=f"{key}_preset")
    choices = replace(base, preset=preset)
    if preset == CUSTOM:
        table = st.selectbox(t("upload.table", lang), UPLOAD_TABLES, format_func=lambda n: table_label(n, lang),
                             key=f"{key}_table")
        choices = replace(choices, table=table, fields=_custom_fields(raw, key, table, lang))
    return choices


def _in_order(result: ImportResult, order: str) -> ImportResult:
    """`result`, imported again with the date order the person chose, reported as chosen."""
    result.report.ambiguous_dates = [f"read as {DATE_ORDERS[order]}, as chosen"]
    return result


def upload_panel(key: str = "upload", store: MappingStore | None = None) -> None:
    """The whole upload flow on one page. Confirmed tables go to st.session_state['session_tables']."""
    store = store or mappings()
    lang = current_language()
    file = st.file_uploader(t("upload.file", lang), type=UPLOAD_TYPES, max_upload_size=MAX_UPLOAD_MB,
                            key=f"{key}_file")
    _announce_added(key, lang)
    if file is None:
        _forget_reads(key)
        return
    with st.expander(t("upload.detection", lang), expanded=False):
        choices = _detection(key, lang)
    picked = _read_upload(file, key, choices, lang)
    if picked is None:
        return
    raw, choices = picked
    st.caption(t("upload.detected", lang, what=md(raw.detected.describe())))
    show_table(raw.frame.drop(ROW).head(20), lang)

    choices = _mapping_choices(raw, key, choices, store, lang)
    try:
        mapping = mapping_for(raw, choices, store)
    except FileRefused as exc:
        st.error(md(exc))
        return
    mapping = _with_period_picked(raw, mapping, key, lang)
    mapping = _with_timezone_picked(mapping, key, lang)
    second = _second_upload(mapping, key, lang)
    try:
        other: tuple[RawTable, Mapping] | None = None
        if second is not None:
            other_raw = remembered(f"{key}_memo_join", second.file_id,
                                   lambda: read_bytes(second.getvalue(), second.name))
            other = (other_raw, resolve(other_raw, store=store)[0])
        # the import of this file, joined with the second when there is one: the same on every path
        identity = (file.file_id, choices, second.file_id if second else None, other[1] if other else None)

        def imported(mapping: Mapping) -> ImportResult:
            return join((raw, mapping), other) if other else import_raw(raw, mapping)

        result = remembered(f"{key}_memo_import", (*identity, mapping), lambda: imported(mapping))
        if result.report.ambiguous_dates:
            order = st.radio(t("upload.date_order", lang), list(DATE_ORDERS), horizontal=True,
                             format_func=lambda o: t(f"upload.order.{o}", lang), key=f"{key}_order")
            if (order == "month_day") != (mapping.dayfirst is False):
                mapping = replace(mapping, dayfirst=order == "day_month")
                result = remembered(f"{key}_memo_order", (*identity, mapping),
                                    lambda: _in_order(imported(mapping), order))
    except FileRefused as exc:
        st.error(md(exc))
        return
    _report(result, mapping_label(result.report.preset, lang), lang, second.name if second is not None else None)
    remember = choices.preset == CUSTOM and st.checkbox(t("upload.remember", lang), value=True,
                                                         key=f"{key}_remember")
    if st.button(t("upload.confirm", lang), type="primary", key=f"{key}_confirm"):
        st.session_state[SESSION_TABLES] = add_to_session(session_tables(), result)
        if remember:
            store.save(raw.columns, mapping)
        st.session_state[f"{key}_done"] = (result.report.rows_accepted, file.name, result.table)
        st.rerun()


def _announce_added(key: str, lang: str) -> None:
    """Once, after a confirm: how many rows of which file went into which table."""
    done = st.session_state.pop(f"{key}_done", None)
    if done:
        rows, name, table = done
        st.success(plural("upload.added", rows, lang, rows=number(rows, lang), file=md(name),
                          table=table_label(table, lang)))


def _forget_reads(key: str) -> None:
    """With no file on the panel, its remembered reads and imports go (they hold the file's data)."""
    for memo in MEMOS:
        st.session_state.pop(f"{key}_memo_{memo}", None)


def _read_upload(file: UploadedFile, key: str, choices: Choices, lang: str) -> tuple[RawTable, Choices] | None:
    """The file read with the detection choices; a file of several parts (a workbook's sheets) shows a picker
    and is read again at the part picked, which joins the choices. None, with the reason shown, when the file
    is refused."""
    try:
        raw = remembered(f"{key}_memo_read", (file.file_id, choices), lambda: read(file.getvalue(), file.name, choices))
        if len(raw.detected.parts) > 1:  # the picker stays on screen when the sheet picked is refused
            part = st.selectbox(t("upload.part", lang), range(len(raw.detected.parts)), index=raw.detected.part,
                                format_func=lambda i: raw.detected.parts[i], key=f"{key}_part")
            if part != raw.detected.part:
                choices = replace(choices, part=part)
                raw = remembered(f"{key}_memo_part", (file.file_id, choices),
                                 lambda: read(file.getvalue(), file.name, choices))
    except FileRefused as exc:
        st.error(md(exc))
        return None
    return raw, choices


def _with_period_picked(raw: RawTable, mapping: Mapping, key: str, lang: str) -> Mapping:
    """Rows without dates that the file does not say the period of: the mapping with the period the person
    picks (unchanged until both its days are picked)."""
    if needs_period(raw, mapping):
        picked = st.date_input(t("upload.period", lang), value=[], key=f"{key}_period")
        if isinstance(picked, tuple) and len(picked) == 2:
            return replace(mapping, period=(picked[0], picked[1]))
    return mapping


def _with_timezone_picked(mapping: Mapping, key: str, lang: str) -> Mapping:
    """Events whose times may be wall-clock times (a generic file, Mixpanel's time in older projects): the mapping
    with the time zone picked (UTC unless changed). Exports that write UTC by definition are not asked."""
    if mapping.table != "events" or mapping.utc_times:
        return mapping
    zones = [UTC, *sorted(z for z in available_timezones() if "/" in z and not z.startswith(("Etc/", "SystemV/")))]
    picked = st.selectbox(t("upload.timezone", lang), zones, key=f"{key}_tz", help=t("upload.timezone_help", lang))
    return replace(mapping, timezone=None if picked == UTC else picked)


def _second_upload(mapping: Mapping, key: str, lang: str) -> UploadedFile | None:
    """For leads, a second file to join with this one (closed deals for a file of leads), when one is given."""
    if mapping.table != "leads":
        return None
    with st.expander(t("upload.join", lang)):
        return st.file_uploader(t("upload.join_file", lang), type=UPLOAD_TYPES, max_upload_size=MAX_UPLOAD_MB,
                                key=f"{key}_join")
