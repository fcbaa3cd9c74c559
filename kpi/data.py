"""Reading, writing and preparing a set of canonical tables (one Parquet file per table)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from pathlib import Path

import polars as pl

from kpi.metrics import furthest_column, furthest_stage
from kpi.schema import TABLES, Frame, conform, dimensions
from kpi.settings import Settings, initiative_for, normalise_channel

Tables = dict[str, pl.DataFrame]


def _table_files(path: str | Path) -> dict[str, Path]:
    """The canonical tables' files in `path` (`<table>.parquet`), those that are there."""
    folder = Path(path)
    if not folder.is_dir():
        raise FileNotFoundError(f"data folder '{folder}' does not exist")
    files = {name: folder / f"{name}.parquet" for name in TABLES}
    return {name: file for name, file in files.items() if file.exists()}


def read_dir(path: str | Path) -> Tables:
    """The canonical tables found in `path` as `<table>.parquet`; absent tables are simply missing."""
    return {name: pl.read_parquet(file) for name, file in _table_files(path).items()}


def write_dir(tables: Mapping[str, pl.DataFrame], path: str | Path) -> list[Path]:
    """Write each table as `path/<table>.parquet`; returns the files written."""
    folder = Path(path)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, frame in tables.items():
        target = folder / f"{name}.parquet"
        frame.write_parquet(target)
        written.append(target)
    return written


#: The version of what `prepare_frame` computes; a stored prepared form of another version is never read.
PREPARED_FORMAT = 1


def prepared_key(settings: Settings) -> str:
    """Names everything a prepared table depends on besides its rows: the format, the funnel stages (the
    furthest-stage column), the channel vocabulary and the initiative rules. Currency, rates and the SLA
    are applied when a question is answered, so changing them keeps the key."""
    parts = (PREPARED_FORMAT, [s.__dict__ for s in settings.stages], sorted(settings.channels.items()),
             [r.__dict__ for r in settings.initiative_rules])
    return hashlib.sha256(json.dumps(parts, ensure_ascii=False).encode()).hexdigest()[:16]


def per_value(series: pl.Series, mapping: Callable[[pl.Series], pl.Series]) -> pl.Series:
    """`mapping` (text to text, value by value) applied to each distinct value of `series` once and spread
    back over the rows, as a categorical: a few dozen channel names instead of millions of rows."""
    codes = series.cast(pl.Categorical)
    distinct = codes.unique().drop_nulls()
    mapped = mapping(distinct.cast(pl.String)).cast(pl.Categorical)
    where = codes.to_physical().replace_strict(
        distinct.to_physical(), pl.int_range(distinct.len(), dtype=pl.UInt32, eager=True), default=None,
        return_dtype=pl.UInt32)
    return mapped.gather(where)


def _mapped(column: str, expr: Callable[[pl.Expr], pl.Expr]) -> pl.Expr:
    """`expr` of `column` computed per distinct value (`per_value`); works on a lazy scan too."""
    return pl.col(column).map_batches(lambda s: per_value(s, lambda v: pl.select(expr(pl.lit(v))).to_series()),
                                      return_dtype=pl.Categorical, is_elementwise=True)


def prepare_frame(name: str, frame: Frame, settings: Settings, in_order: bool = True) -> Frame:
    """One table ready for the engine: canonical types, channel names in the workspace vocabulary,
    initiatives filled from the workspace's campaign rules where a row has none, and dimensions
    stored as categoricals (grouping and filtering on them is several times faster than on text;
    the engine's results carry plain text again). Channels and initiatives are worked out once per
    distinct value, not per row. Leads also get the furthest stage each reached
    (`kpi.metrics.furthest_column`), so stage counts read one small integer, and are put in order of
    creation (`in_order`), so a period's leads lie together and the engine reads them as one stretch
    instead of picking them out of the whole table; leads already in that order are not sorted again.
    A one-shot question over a scan passes `in_order=False`: it reads each row once, in any order.
    Works on a lazy scan too."""
    frame = conform(name, frame) if name in TABLES else frame
    if name == "kpis":  # definitions, not facts: their text is read as text, never grouped
        return frame
    cols = frame.collect_schema().names()
    exprs = []
    if "channel" in cols and name != "touches":
        exprs.append(_mapped("channel", lambda c: normalise_channel(c, settings.channels)).alias("channel"))
    if "campaign" in cols and settings.initiative_rules:
        derived = _mapped("campaign", lambda c: initiative_for(c, settings.initiative_rules))
        exprs.append((pl.coalesce(pl.col("initiative").cast(pl.Categorical), derived) if "initiative" in cols
                      else derived).alias("initiative"))
    if name == "leads":
        exprs.append(furthest_stage(settings.stages, cols).alias(furthest_column(settings.stages)))
    frame = frame.with_columns(exprs) if exprs else frame
    frame = frame.with_columns(pl.col(d).cast(pl.Categorical) for d in dimensions(frame))
    if name == "leads" and "created_at" in cols and in_order:
        frame = in_creation_order(frame)
    return frame


def in_creation_order(frame: Frame) -> Frame:
    """Leads sorted by creation (stable, nulls last), marked sorted; rows already in that order (and without
    a null creation time) are only marked, since sorting would keep them as they are (Parquet does not keep
    the mark: a stored prepared form is marked again when read)."""
    if isinstance(frame, pl.DataFrame) and not frame["created_at"].has_nulls() and frame["created_at"].is_sorted():
        return frame.with_columns(pl.col("created_at").set_sorted())
    return frame.sort("created_at", nulls_last=True, maintain_order=True)


def prepare(tables: Mapping[str, pl.DataFrame], settings: Settings | None = None) -> Tables:
    """Every table ready for the engine (see `prepare_frame`)."""
    settings = settings or Settings()
    return {name: prepare_frame(name, frame, settings) for name, frame in tables.items()}


def load_dir(path: str | Path) -> tuple[Tables, Settings]:
    """The tables in `path`, prepared with the settings saved beside them.

    Each file is scanned and prepared in one pass, so its text columns are never held twice: peak
    memory stays close to the prepared tables' size.
    """
    scans, settings = scan_dir(path, in_order=True)
    return {name: scan.collect() for name, scan in scans.items()}, settings


def scan_dir(path: str | Path, in_order: bool = False) -> tuple[dict[str, pl.LazyFrame], Settings]:
    """Each table in `path` as a prepared lazy scan (`prepare_frame`; nothing read yet), with the settings
    saved beside them. A one-shot question (a command that answers once and exits) asks them directly: it
    reads only the columns it needs, a period filter goes into the scan (which skips row groups outside it
    once the file is in order of creation), and its rows stream through without the table being held; leads
    stay in the file's order, which one pass over them does not need (`in_order`)."""
    settings = read_settings(path)
    scans = {name: prepare_frame(name, pl.scan_parquet(file), settings, in_order)
             for name, file in _table_files(path).items()}
    return scans, settings


SETTINGS_FILE = "settings.json"


def read_settings(path: str | Path) -> Settings:
    """The workspace settings saved next to the tables (`settings.json`), else the defaults."""
    file = Path(path) / SETTINGS_FILE
    return Settings.from_dict(json.loads(file.read_text(encoding="utf-8"))) if file.exists() else Settings()


def write_settings(settings: Settings, path: str | Path) -> Path:
    file = Path(path) / SETTINGS_FILE
    file.write_text(json.dumps(settings.to_dict(), ensure_ascii=False, indent=2), encoding="utf-8")
    return file
