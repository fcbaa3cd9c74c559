"""The rules that turn an event export's text columns into the canonical `events` table: timestamps to UTC and
which properties are kept.

Timestamps (`event_times`): the events table holds naive `Datetime("us")` values meaning UTC.

- Unix time (`unit` "s", "ms", "us", or "epoch" to decide by size: below 10^11 seconds, below 10^14
  milliseconds, else microseconds): Mixpanel's `time` (seconds; milliseconds with `time_in_ms`), GA4's
  `event_timestamp` (microseconds). Unix time is UTC, except in Mixpanel projects created before 2023, whose
  export shifts `time` to the project's time zone: give that zone (`timezone`) and it is shifted back.
- Text with a UTC offset or `Z` (PostHog's `2024-03-01T09:15:02.123000+00:00`): converted to UTC, whatever
  `timezone` says.
- Text without an offset (Amplitude's `event_time` `2024-03-01 09:15:02.123456`, UTC by its documentation; a
  generic file's `2024-03-01 10:15`, `01.03.2024 10:15`): read in every format `kpi.sources.values.parse_dates`
  knows, as wall-clock time in `timezone` (UTC when none is given) and converted to UTC.

A value none of these read is reported with its row and rejected (the events table needs a time); nothing is
guessed.

Properties (`event_properties`): the preset's named properties first (utm_source, current_url, browser …),
then the file's other columns by how many events have a value, up to `MAX_PROPERTIES` in all; the rest are left
out and the report names them. Columns that are ids or bookkeeping of the tool (`uuid`, `$insert_id`,
`created_at` …) are never properties.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import polars as pl

from kpi.sources.files import ROW, RawTable
from kpi.sources.values import is_missing, parse_dates

#: property columns an events table keeps at most (named ones included); the rest are left out and reported
MAX_PROPERTIES = 40
UNITS = ("s", "ms", "us", "epoch")
_AWARE = ("%Y-%m-%dT%H:%M:%S%.f%z", "%Y-%m-%d %H:%M:%S%.f%z")
_UNIT_WORDS = {"s": "Unix seconds", "ms": "Unix milliseconds", "us": "Unix microseconds"}


class BadTimezone(ValueError):
    """A time zone name that is not in the IANA database."""


def check_timezone(name: str | None) -> str | None:
    if name in (None, "", "UTC"):
        return None
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise BadTimezone(f"unknown time zone {name!r}; write an IANA name such as Europe/Stockholm") from exc
    return name


@dataclass
class EventTimes:
    """Timestamps read from one column: the values (naive UTC), the rows not read, and how they were read."""

    values: pl.Series
    bad: list[int]
    how: str
    ambiguous: bool = False
    format: str = ""


def _from_local(values: pl.Series, timezone: str | None) -> pl.Series:
    if timezone is None:
        return values
    return values.dt.replace_time_zone(timezone, ambiguous="earliest", non_existent="null").dt.convert_time_zone(
        "UTC").dt.replace_time_zone(None)


def _epoch(text: pl.Series, unit: str, timezone: str | None, column: str) -> tuple[pl.Series, str]:
    numbers = text.cast(pl.Float64, strict=False)
    if unit == "epoch":
        top = numbers.abs().max()
        biggest = float(top) if isinstance(top, int | float) else 0.0
        unit = "s" if biggest < 1e11 else "ms" if biggest < 1e14 else "us"
    scale = {"s": 1_000_000, "ms": 1_000, "us": 1}[unit]
    whole = text.cast(pl.Int64, strict=False)
    micros = pl.select(pl.when(pl.lit(whole).is_not_null()).then(pl.lit(whole) * scale)
                       .otherwise((pl.lit(numbers) * scale).round(0).cast(pl.Int64, strict=False))).to_series()
    values = pl.select(pl.from_epoch(pl.lit(micros), time_unit="us")).to_series()
    where = f" as wall-clock time in {timezone}, converted to UTC" if timezone else " (UTC)"
    return _from_local(values, timezone), f"'{column}' read as {_UNIT_WORDS[unit]}{where}"


def event_times(text: pl.Series, rows: pl.Series, column: str, unit: str | None = None,
                timezone: str | None = None, dayfirst: bool | None = None) -> EventTimes:
    """`text` (one cell a row, `rows` their data row numbers) as naive UTC timestamps; see the module."""
    text = text.cast(pl.String).str.strip_chars()
    missing = text.to_frame("v").select(is_missing(pl.col("v"))).to_series()
    text = text.set(missing, None) if missing.any() else text
    ambiguous, fmt = False, ""
    if unit is not None:
        values, how = _epoch(text, unit, timezone, column)
    else:
        zoned = text.str.replace(r"(?i)(?:\s*Z|\s+UTC)$", "+00:00")
        aware = pl.select(pl.coalesce([pl.lit(zoned).str.to_datetime(f, strict=False, time_unit="us", time_zone="UTC")
                                       for f in _AWARE])).to_series().dt.replace_time_zone(None)
        rest = text.set(aware.is_not_null(), None) if aware.is_not_null().any() else text
        parsed = parse_dates(rest, dayfirst) if rest.is_not_null().any() else None
        naive = parsed.values.cast(pl.Datetime("us")) if parsed is not None else pl.Series([None] * len(text),
                                                                                           dtype=pl.Datetime("us"))
        values = pl.select(pl.coalesce(pl.lit(aware), pl.lit(_from_local(naive, timezone)))).to_series()
        n_aware, n_naive = int(aware.is_not_null().sum()), int(naive.is_not_null().sum())
        parts = []
        if n_aware:
            parts.append(f"{n_aware} with a UTC offset converted to UTC")
        if n_naive:
            zone = f"wall-clock time in {timezone}, converted to UTC" if timezone else "UTC"
            parts.append(f"{n_naive} without an offset read as {zone}")
        how = f"'{column}': " + ("; ".join(parts) or "no value read as a time")
        if parsed is not None:
            ambiguous, fmt = parsed.ambiguous, parsed.format
    bad_mask = values.is_null() & ~missing
    return EventTimes(values.alias(column), rows.filter(bad_mask).to_list(), how, ambiguous, fmt)


# --- properties ------------------------------------------------------------------------------------------

#: columns that are ids, times or bookkeeping of the tools, never properties to break a funnel down by
NOT_PROPERTIES = {
    "uuid", "$insert_id", "insert_id", "properties.$insert_id", "created_at", "_inserted_at", "elements_chain",
    "team_id", "properties.time", "properties.mp_processing_time_ms", "properties.distinct_id",
    "server_received_time", "server_upload_time", "client_upload_time", "client_event_time", "processed_time",
    "event_id", "amplitude_id", "$schema", "event_date", "event_previous_timestamp", "event_server_timestamp_offset",
    "event_bundle_sequence_id", "batch_event_index", "batch_ordering_id", "batch_page_id", "stream_id",
    "user_first_touch_timestamp", "properties.$time", "properties.$sent_at", "ip_address", "properties.$ip",
}


def property_name(column: str) -> str:
    """The events table's name for a property column: the key without the tool's prefix and `$`, snake case;
    a person's or user's property keeps a `person_` / `user_` prefix (`person_properties.plan` → person_plan)."""
    prefix = ""
    for head, keep in (("person_properties.", "person_"), ("person.properties.", "person_"),
                       ("user_properties.", "user_"), ("properties.", ""), ("event_properties.", ""),
                       ("event_params.", ""), ("group_properties.", "group_")):
        if column.startswith(head):
            column, prefix = column[len(head):], keep
            break
    return prefix + (re.sub(r"[^0-9a-zа-я]+", "_", column.strip().lower()).strip("_") or "property")


def event_properties(raw: RawTable, used: set[str], named: dict[str, str],
                     cap: int = MAX_PROPERTIES) -> tuple[dict[str, str], list[str]]:
    """(property name → column) to keep and the columns left out: `named` first, then the other columns (not in
    `used`, not ids) with a value in any event, most filled first, up to `cap` in all."""
    kept = dict(list(named.items())[:cap])
    taken = set(used) | set(kept.values())
    names = set(kept)
    others = [c for c in raw.columns if c not in taken and c not in NOT_PROPERTIES and c != ROW]
    sample = raw.sample
    # cells with any text (cheaper than the missing markers' regex over every column of a wide export)
    filled = sample.select((pl.col(c).str.strip_chars().str.len_bytes() > 0).sum().alias(c)
                           for c in others).row(0) if others else ()
    ranked = sorted(zip(others, filled, strict=True), key=lambda cf: -cf[1])
    dropped = []
    for column, count in ranked:
        if count == 0:  # empty in every event: listed with the columns not used
            continue
        name = property_name(column)
        if name in names or name in ("user_id", "timestamp", "event") or len(kept) >= cap:
            dropped.append(column)
            continue
        kept[name] = column
        names.add(name)
    return kept, dropped
