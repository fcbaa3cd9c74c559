"""Reading, writing and preparing a set of canonical tables (one Parquet file per table)."""

from __future__ import annotations

import json
from collections.abc import Mapping
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


def prepare_frame(name: str, frame: Frame, settings: Settings) -> Frame:
    """One table ready for the engine: canonical types, channel names in the workspace vocabulary,
    initiatives filled from the workspace's campaign rules where a row has none, and dimensions
    stored as categoricals (grouping and filtering on them is several times faster than on text;
    the engine's results carry plain text again). Leads also get the furthest stage each reached
    (`kpi.metrics.furthest_column`), so stage counts read one small integer, and are put in order of
    creation, so a period's leads lie together and the engine reads them as one stretch instead of
    picking them out of the whole table. Works on a lazy scan too."""
    frame = conform(name, frame) if name in TABLES else frame
    if name == "kpis":  # definitions, not facts: their text is read as text, never grouped
        return frame
    cols = frame.collect_schema().names()
    exprs = []
    if "channel" in cols and name != "touches":
        exprs.append(normalise_channel(pl.col("channel"), settings.channels).alias("channel"))
    if "campaign" in cols and settings.initiative_rules:
        derived = initiative_for(pl.col("campaign"), settings.initiative_rules)
        exprs.append((pl.coalesce(pl.col("initiative"), derived) if "initiative" in cols else derived)
                     .alias("initiative"))
    if name == "leads":
        exprs.append(furthest_stage(settings.stages, cols).alias(furthest_column(settings.stages)))
    frame = frame.with_columns(exprs) if exprs else frame
    frame = frame.with_columns(pl.col(d).cast(pl.Categorical) for d in dimensions(frame))
    if name == "leads" and "created_at" in cols:
        frame = frame.sort("created_at", nulls_last=True, maintain_order=True)
    return frame


def prepare(tables: Mapping[str, pl.DataFrame], settings: Settings | None = None) -> Tables:
    """Every table ready for the engine (see `prepare_frame`)."""
    settings = settings or Settings()
    return {name: prepare_frame(name, frame, settings) for name, frame in tables.items()}


def load_dir(path: str | Path) -> tuple[Tables, Settings]:
    """The tables in `path`, prepared with the settings saved beside them.

    Each file is scanned and prepared in one pass, so its text columns are never held twice: peak
    memory stays close to the prepared tables' size.
    """
    files = _table_files(path)
    settings = read_settings(path)
    tables = {name: prepare_frame(name, pl.scan_parquet(file), settings).collect() for name, file in files.items()}
    return tables, settings


SETTINGS_FILE = "settings.json"


def read_settings(path: str | Path) -> Settings:
    """The workspace settings saved next to the tables (`settings.json`), else the defaults."""
    file = Path(path) / SETTINGS_FILE
    return Settings.from_dict(json.loads(file.read_text(encoding="utf-8"))) if file.exists() else Settings()


def write_settings(settings: Settings, path: str | Path) -> Path:
    file = Path(path) / SETTINGS_FILE
    file.write_text(json.dumps(settings.to_dict(), ensure_ascii=False, indent=2), encoding="utf-8")
    return file
