"""Event exports of product-analytics tools, read into the same raw table of text columns as any other file.

What arrives here, as those tools write it:

- JSON lines (one event object a line) or a JSON array of events: Mixpanel's raw export API
  (`{"event": …, "properties": {"time": …, "distinct_id": …}}`), PostHog's batch export in JSONLines (`properties`
  and `person_properties` nested objects), a GA4 BigQuery table extracted as newline-delimited JSON, optionally
  gzipped (`.gz`).
- A zip of gzipped JSON-lines files: Amplitude's Export API (one or more `…_YYYY-MM-DD_H#n.json.gz` a hour).
- Parquet with nested columns: a GA4 BigQuery `events_*` table (`event_params` ARRAY<STRUCT<key, value STRUCT<
  string_value, int_value, float_value, double_value>>>, `device`, `geo`, `traffic_source` … records), or
  PostHog's batch export in Parquet (`properties` as JSON-encoded text).

Nested values become dotted text columns: `properties.$current_url`, `geo.country`, `device.web_info.browser`;
a key/value list (GA4's `event_params`, `user_properties`) becomes one column a key (`event_params.page_location`)
holding whichever of its typed values is set, as text; a JSON object held as text in a `properties`-like column
is unpacked the same way. Lists of records that are not key/value pairs (GA4's `items`) are left out and named
in the file's notes. Which of these columns become the events table's properties is the preset's business
(`kpi.sources.presets`), with a cap.

Limits: a zip or gzip is inflated a MB at a time and refused once it gives more than `MAX_UNZIPPED_BYTES`
(or `MAX_ZIP_RATIO` times its size past 50 MB), as workbooks are.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
import zlib
from dataclasses import replace

import polars as pl
from polars.datatypes.classes import DataTypeClass

from kpi.sources.files import MAX_UNZIPPED_BYTES, MAX_ZIP_RATIO, ROW, Detected, FileRefused, RawTable

#: columns whose text may be a JSON object to unpack (PostHog Parquet/CSV, Amplitude, Mixpanel)
JSON_TEXT_COLUMNS = ("properties", "person_properties", "event_properties", "user_properties", "group_properties")
WHOLE_EVENT = "*"  #: PostHog's activity and SQL exports write the whole event as JSON in a column named `*`
_STEP = 1 << 20


def _limit(size: int) -> int:
    return min(MAX_UNZIPPED_BYTES, max(50_000_000, MAX_ZIP_RATIO * size))


def _inflate_gzip(data: bytes, name: str, limit: int) -> bytes:
    """The content of gzip `data` (several members allowed), refused past `limit` bytes."""
    out = io.BytesIO()
    pending = data
    try:
        while pending:
            inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)
            chunk = inflate.decompress(pending, _STEP)
            out.write(chunk)
            while inflate.unconsumed_tail and out.tell() <= limit:
                out.write(inflate.decompress(inflate.unconsumed_tail, _STEP))
            if out.tell() > limit:
                raise FileRefused(f"{name}: refused: it unpacks to more than {limit / 1e6:,.0f} MB (a zip bomb or a "
                                  "damaged file); export a shorter period")
            if not inflate.eof:
                raise FileRefused(f"{name}: the gzip file is cut short; download it again")
            pending = inflate.unused_data.lstrip(b"\x00")
    except zlib.error as exc:
        raise FileRefused(f"{name}: is a damaged gzip file ({exc}); download it again") from exc
    return out.getvalue()


def is_event_zip(data: bytes) -> bool:
    """A zip holding JSON or gzipped JSON files (Amplitude's export), not a workbook."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            names = [i.filename for i in zf.infolist() if not i.is_dir()]
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return False
    return bool(names) and not any(n.startswith("xl/") for n in names) and all(
        n.lower().endswith((".json", ".json.gz", ".jsonl", ".jsonl.gz", ".ndjson", ".gz")) for n in names)


def _zip_members(data: bytes, name: str) -> list[tuple[str, bytes]]:
    """(member name, its JSON text) for every file of an Amplitude-style zip, in name order."""
    limit = _limit(len(data))
    total = 0
    out = []
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        for info in sorted((i for i in zf.infolist() if not i.is_dir()), key=lambda i: i.filename):
            if info.file_size > limit - total:
                raise FileRefused(f"{name}: refused: {info.filename} would unpack past {limit / 1e6:,.0f} MB; export "
                                  "a shorter period")
            buf = io.BytesIO()
            try:
                with zf.open(info) as fh:
                    while chunk := fh.read(_STEP):
                        buf.write(chunk)
                        if buf.tell() > info.file_size or total + buf.tell() > limit:
                            raise FileRefused(f"{name}: refused: {info.filename} unpacks to more than its index "
                                              "states (a zip bomb or a damaged file)")
            except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
                raise FileRefused(f"{name}: {info.filename} is damaged ({exc}); download the export again") from exc
            content = buf.getvalue()
            if content[:2] == b"\x1f\x8b":
                content = _inflate_gzip(content, f"{name}/{info.filename}", limit - total)
            total += len(content)
            out.append((info.filename, content))
    return out


def looks_like_json(data: bytes) -> bool:
    """Whether the bytes start like a JSON object (`{"…` or `{}`) or a list of them (`[{…`, `[]`): a CSV whose
    first header is `[date]` or `{campaign}` does not."""
    head = re.sub(rb"\s+", b"", data[:256].lstrip(b"\xef\xbb\xbf"))
    return head[:2] in (b'{"', b"{}", b"[{", b"[]")


def _json_records(text: bytes, name: str) -> pl.DataFrame:
    """The events of JSON-lines (or JSON array) `text` as a frame, nested values as structs and lists."""
    body = text.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not body:
        raise FileRefused(f"{name}: the file is empty; export a period that has events")
    try:
        if body[:1] == b"[":
            frame = pl.read_json(io.BytesIO(body), infer_schema_length=None)
        else:
            frame = pl.read_ndjson(io.BytesIO(body), infer_schema_length=None, ignore_errors=False)
    except Exception:  # polars cannot type it (a key that is an object in one line and text in another): by hand
        frame = _records_by_hand(body, name)
    if frame.height == 0:
        raise FileRefused(f"{name}: the file holds no events")
    return frame


def _records_by_hand(body: bytes, name: str) -> pl.DataFrame:
    """JSON lines read one line at a time, every leaf as text: slower, but any shape reads, and a line that is
    not JSON is named."""
    rows: list[dict[str, str | None]] = []
    lines: list[object] | None = None
    if body[:1] == b"[":
        try:
            lines = json.loads(body)
        except (ValueError, RecursionError) as exc:
            raise FileRefused(f"{name}: is not valid JSON ({exc}); upload the export as the tool wrote it") from None
        if not isinstance(lines, list):
            raise FileRefused(f"{name}: is not a list of events")
    else:
        lines = []
        for number, line in enumerate(body.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                lines.append(json.loads(line))
            except (ValueError, RecursionError) as exc:
                raise FileRefused(f"{name}: line {number} is not JSON ({exc}); the file must hold one event "
                                  "object a line, as the tool exports it") from None
    for number, record in enumerate(lines, start=1):
        if not isinstance(record, dict):
            raise FileRefused(f"{name}: record {number} is not an object but {type(record).__name__}; the file must "
                              "hold one event object a line")
        flat: dict[str, str | None] = {}
        _flatten_python(record, "", flat)
        rows.append(flat)
    columns = list(dict.fromkeys(k for r in rows for k in r))
    return pl.DataFrame({c: [r.get(c) for r in rows] for c in columns}, schema={c: pl.String for c in columns})


def _flatten_python(value: object, path: str, out: dict[str, str | None]) -> None:
    if isinstance(value, dict):
        if path and _is_key_value_list([value]):
            return
        for k, v in value.items():
            _flatten_python(v, f"{path}.{k}" if path else str(k), out)
    elif isinstance(value, list) and value and _is_key_value_list(value):
        for item in value:
            typed = item.get("value")
            if isinstance(typed, dict):
                found = next((v for v in typed.values() if v is not None), None)
                out[f"{path}.{item['key']}"] = None if found is None else str(found)
    elif isinstance(value, list):
        out[path] = json.dumps(value, ensure_ascii=False)
    else:
        out[path] = None if value is None else str(value) if not isinstance(value, bool) else str(value).lower()


def _is_key_value_list(items: list[object]) -> bool:
    return all(isinstance(i, dict) and "key" in i and "value" in i for i in items)


# --- flattening a typed frame -----------------------------------------------------------------------------

def _is_key_value(dtype: pl.DataType) -> bool:
    """GA4's key/value lists: a list of records with a `key` and a `value` record of typed values."""
    if not isinstance(dtype, pl.List) or not isinstance(dtype.inner, pl.Struct):
        return False
    names = {f.name: f.dtype for f in dtype.inner.fields}
    return "key" in names and isinstance(names.get("value"), pl.Struct)


AnyType = DataTypeClass | pl.DataType  #: a field's type as polars gives it: an instance or a class


def _as_text(expr: pl.Expr, dtype: AnyType) -> pl.Expr:
    """A scalar column as text: timestamps in ISO 8601 (with +00:00 when the zone is known), booleans lower case."""
    if isinstance(dtype, pl.Datetime):
        if dtype.time_zone:
            return expr.dt.convert_time_zone("UTC").dt.strftime("%Y-%m-%dT%H:%M:%S%.6f+00:00")
        return expr.dt.strftime("%Y-%m-%d %H:%M:%S%.6f")
    if dtype == pl.Boolean:
        return pl.when(expr).then(pl.lit("true")).when(~expr).then(pl.lit("false"))
    return expr.cast(pl.String)


def _leaves(expr: pl.Expr, path: str, dtype: AnyType, out: dict[str, pl.Expr], left_out: list[str]) -> None:
    if isinstance(dtype, pl.Struct):
        for f in dtype.fields:
            _leaves(expr.struct.field(f.name), f"{path}.{f.name}", f.dtype, out, left_out)
    elif isinstance(dtype, pl.List | pl.Array):
        inner = dtype.inner
        if isinstance(inner, pl.Struct | pl.List | pl.Array):
            left_out.append(path)
        else:
            out[path] = pl.when(expr.list.len() > 0).then(expr.list.eval(pl.element().cast(pl.String)).list.join(", "))
    elif dtype != pl.Null:
        out[path] = _as_text(expr, dtype)
    else:
        out[path] = pl.lit(None, pl.String)


def _key_values(frame: pl.DataFrame, column: str) -> pl.DataFrame:
    """ROW plus one text column per key of the key/value list `column` (`event_params.page_location`)."""
    dtype = frame.schema[column]
    assert isinstance(dtype, pl.List) and isinstance(dtype.inner, pl.Struct)
    value_type = next(f.dtype for f in dtype.inner.fields if f.name == "value")
    assert isinstance(value_type, pl.Struct)
    value = pl.col(column).struct.field("value")
    typed = [_as_text(value.struct.field(f.name), f.dtype) for f in value_type.fields if f.name.endswith("_value")]
    pairs = frame.select(ROW, pl.col(column)).explode(column).filter(pl.col(column).is_not_null()).select(
        ROW, pl.col(column).struct.field("key").cast(pl.String).alias("key"),
        (pl.coalesce(typed) if typed else pl.lit(None, pl.String)).alias("value"))
    pairs = pairs.filter(pl.col("key").is_not_null())
    if pairs.height == 0:
        return frame.select(ROW)
    wide = pairs.pivot(on="key", index=ROW, values="value", aggregate_function="first")
    return wide.rename({c: f"{column}.{c}" for c in wide.columns if c != ROW})


def _is_whole_event(column: str) -> bool:
    """PostHog's `*` column (the CSV reader names it `* (column N)`, since polars reads `*` as every column)."""
    return column == WHOLE_EVENT or column.startswith(f"{WHOLE_EVENT} (column ")


def _json_text_columns(frame: pl.DataFrame) -> list[str]:
    """The columns in `JSON_TEXT_COLUMNS` (or `*`, a whole event) whose every value is a JSON object as text."""
    found = []
    whole = [c for c in frame.columns if _is_whole_event(c)]
    for column in (*JSON_TEXT_COLUMNS, *whole):
        if column in frame.columns and frame.schema[column] == pl.String:
            present = frame[column].drop_nulls().str.strip_chars()
            present = present.filter(present != "")
            if present.len() and bool(present.str.starts_with("{").all()):
                found.append(column)
    return found


def _unpack_json_text(frame: pl.DataFrame) -> pl.DataFrame:
    """Columns holding JSON objects as text (`_json_text_columns`), decoded into records (then flattened); a whole
    event (PostHog's `*` column) gives its fields as columns of their own, beside those the file already has."""
    for column in _json_text_columns(frame):
        text = frame[column].str.strip_chars()
        try:
            decoded = text.set(text == "", None).str.json_decode(infer_schema_length=None)
        except Exception:  # polars cannot type it (a key holding an object here, text there): left as text
            continue
        if _is_whole_event(column) and isinstance(decoded.dtype, pl.Struct):
            fields = [f.name for f in decoded.dtype.fields if f.name not in frame.columns]
            frame = frame.drop(column).with_columns(decoded.struct.field(f) for f in fields)
        else:
            frame = frame.with_columns(decoded.alias(column))
    return frame


def flatten(frame: pl.DataFrame, name: str) -> tuple[pl.DataFrame, list[str]]:
    """`frame` (nested) as text columns with dotted names plus `ROW`, and the notes on what was left out."""
    frame = _unpack_json_text(frame)
    if ROW not in frame.columns:
        frame = frame.with_row_index(ROW, offset=1).with_columns(pl.col(ROW).cast(pl.Int64))
    exprs: dict[str, pl.Expr] = {}
    left_out: list[str] = []
    key_value = [c for c, t in frame.schema.items() if _is_key_value(t)]
    for column, dtype in frame.schema.items():
        if column != ROW and column not in key_value:
            _leaves(pl.col(column), column, dtype, exprs, left_out)
    flat = frame.select(ROW, *(e.alias(n) for n, e in exprs.items()))
    for column in key_value:
        flat = flat.join(_key_values(frame, column), on=ROW, how="left", maintain_order="left")
    notes = [f"{', '.join(left_out)}: lists of records, not kept as properties"] if left_out else []
    if key_value:
        notes.append(f"{', '.join(key_value)}: one column per key")
    if flat.height == 0:
        raise FileRefused(f"{name}: the file holds no events")
    return flat, notes


# --- entry points ------------------------------------------------------------------------------------------

def read_event_bytes(data: bytes, name: str) -> RawTable:
    """An event export (JSON lines, JSON array, gzip of either, zip of them) as a raw table of text columns."""
    notes: list[str] = []
    if data[:2] == b"\x1f\x8b":
        data = _inflate_gzip(data, name, _limit(len(data)))
        notes.append("gzip")
        if not looks_like_json(data) and data[:4] != b"PK\x03\x04":  # a gzipped CSV: read as one
            from kpi.sources.files import read_bytes

            inner = name[:-3] if name.lower().endswith(".gz") else name
            return read_bytes(data, inner)
    if data[:4] == b"PK\x03\x04":
        members = _zip_members(data, name)
        frames = []
        for member, content in members:
            if content.strip():
                frames.append(_json_records(content, f"{name}/{member}"))
        if not frames:
            raise FileRefused(f"{name}: the zip holds no events; export a period that has events")
        frame = pl.concat(frames, how="diagonal_relaxed")
        notes.append(f"{len(members)} file(s) in the zip")
    elif looks_like_json(data):
        frame = _json_records(data, name)
    else:
        raise FileRefused(f"{name}: is neither JSON lines nor a zip of them; upload the export as the tool wrote it")
    flat, more = flatten(frame, name)
    detected = Detected(name, "json", "utf-8", notes=tuple(notes + more))
    return RawTable(flat, detected)


def read_nested_parquet(frame: pl.DataFrame, name: str) -> RawTable:
    """A Parquet table with nested columns (GA4's BigQuery export) or JSON-text properties (PostHog's)."""
    flat, notes = flatten(frame, name)
    return RawTable(flat, Detected(name, "parquet", notes=tuple(notes)))


def unpack_csv(raw: RawTable) -> RawTable:
    """A CSV read whole whose `properties`-like (or `*`) columns hold JSON objects, with them unpacked into dotted
    columns as a JSON export's are; any other file as it is. A large CSV streamed from disk is left as text."""
    if raw.source is not None or not _json_text_columns(raw.frame):
        return raw
    flat, notes = flatten(raw.frame, raw.detected.name)
    unpacked = RawTable(flat, replace(raw.detected, notes=(*raw.detected.notes, "JSON properties unpacked", *notes)),
                        raw.excluded)
    unpacked.candidates = raw.candidates
    return unpacked


def nested(frame: pl.DataFrame) -> bool:
    """Whether a Parquet table needs flattening: nested columns, or properties held as JSON text."""
    return any(isinstance(t, pl.Struct | pl.List | pl.Array) for t in frame.schema.values()) or any(
        c in frame.columns and frame.schema[c] == pl.String for c in JSON_TEXT_COLUMNS)


