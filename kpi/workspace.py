"""The data the engine answers over: prepared tables, the settings they were prepared with, and an
identity that names their exact content.

The identity is what a cache keys on: two workspaces with the same identity hold the same numbers.
The store names its datasets by version, so a stored workspace's identity is the versions, settings
and slice it was loaded with (`identity_of`); frames are never hashed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cached_property

import polars as pl

from kpi.data import Tables, prepare
from kpi.metrics import Frames, has_range_rows, restrict
from kpi.money import currencies, table_gaps
from kpi.schema import RANGED_TABLES, is_text
from kpi.settings import Settings


def identity_of(*parts: object) -> str:
    """A short, stable name for what `parts` (their repr) describe."""
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:16]


def stated_currency(tables: Mapping[str, pl.DataFrame]) -> str | None:
    """The currency the tables state (spend's most common, then leads'), if they state one."""
    for name in ("spend", "leads"):
        frame = tables.get(name)
        if frame is not None and "currency" in frame.columns:
            found = frame["currency"].drop_nulls().mode()
            if found.len():
                return str(found.sort()[0])
    return None


def last_day(tables: Mapping[str, pl.DataFrame]) -> date | None:
    """The last day the data describes: its latest lead, spend or traffic day (a row covering a range
    ends on its `period_end`)."""
    ends = []
    if "leads" in tables:
        ends.append(tables["leads"]["created_at"].max())
    for name in ("spend", "traffic"):
        for col in ("date", "period_end"):
            if name in tables and col in tables[name].columns:
                ends.append(tables[name][col].max())
    found = [e.date() if isinstance(e, datetime) else e for e in ends if isinstance(e, date)]
    return max(found) if found else None


@dataclass(frozen=True, eq=False)
class Workspace:
    """Prepared canonical tables (`kpi.data.prepare`) and their settings; `identity` names the content."""

    tables: Tables
    settings: Settings
    identity: str
    _values: dict[str, list[str]] = field(default_factory=dict, repr=False)
    #: more tables as prepared lazy scans (`kpi.data.scan_dir`), for a one-shot question: `kpi.engine.metrics` and
    #: `funnel` read from them (`frames`) only the columns and rows they need; every other entry reads `tables`
    scans: Mapping[str, pl.LazyFrame] = field(default_factory=dict)

    @property
    def frames(self) -> Frames:
        """Every table a metrics or funnel question reads: the prepared tables and the scans."""
        return {**self.tables, **self.scans}

    @classmethod
    def prepared(cls, raw: Mapping[str, pl.DataFrame], settings: Settings | None = None, identity: str = "",
                 slice: Mapping[str, Sequence[str]] | None = None) -> Workspace:
        """Raw canonical tables prepared with `settings` (default ones); see `opened` for `identity` and `slice`."""
        settings = settings or Settings()
        return cls.opened(prepare(raw, settings), settings, identity, slice)

    @classmethod
    def opened(cls, tables: Tables, settings: Settings, identity: str = "",
               slice: Mapping[str, Sequence[str]] | None = None) -> Workspace:
        """Tables already prepared with `settings` (`kpi.data.prepare`, or a store's stored prepared forms:
        `kpi.store.Store.prepared_tables`); with a `slice`, only that slice's rows (`kpi.metrics.restrict`), so
        no query on the workspace can see past it. Without an identity, one is made from the object's id:
        right for a workspace that lives as long as its caller."""
        if slice:
            tables = restrict(tables, slice)
        return cls(tables, settings, identity or f"local:{id(tables):x}")

    @cached_property
    def last_day(self) -> date | None:
        return last_day(self.tables)

    @cached_property
    def range_tables(self) -> tuple[str, ...]:
        """The tables (spend, traffic) holding rows that cover a date range instead of a day (a monthly ads
        report, a GA4 report without a date column): charts over time spread those rows over their days."""
        return tuple(n for n in RANGED_TABLES if n in self.tables and has_range_rows(self.tables[n]))

    @cached_property
    def has_derived_touches(self) -> bool:
        """Whether some touches were derived from source fields (HubSpot's original and latest source, GA4's
        first-user and session campaign), not recorded one by one: a few a contact, not the whole journey."""
        from kpi.sources.presets import DERIVED_TOUCH_TYPES  # here: the importers are not needed to answer

        touches = self.tables.get("touches")
        if touches is None or "touch_type" not in touches.columns:
            return False
        kinds = touches["touch_type"].unique().cast(pl.String)  # a few kinds, however many touches
        return bool(kinds.is_in(DERIVED_TOUCH_TYPES).any())

    @cached_property
    def size_bytes(self) -> int:
        """The prepared tables' size in memory (polars' estimate)."""
        return int(sum(frame.estimated_size() for frame in self.tables.values()))

    @cached_property
    def currencies(self) -> tuple[str, ...]:
        """Every currency the workspace's money (spend, deal amounts, revenue) is stated in."""
        return currencies(self.tables)

    @cached_property
    def currency_gaps(self) -> dict[str, tuple[str, ...]]:
        """Per table, the currencies its money is stated in that have no rate to the reporting currency:
        money numbers that include those rows are not available (`kpi.money.table_gaps`)."""
        return table_gaps(self.tables, self.settings)

    def values(self, dimension: str) -> list[str]:
        """Every value `dimension` takes anywhere in the workspace, sorted."""
        if dimension not in self._values:
            found: set[str] = set()
            for frame in self.tables.values():
                if dimension in frame.columns and is_text(frame.schema[dimension]):
                    found.update(v for v in frame[dimension].unique().cast(pl.String).to_list() if v is not None)
            self._values[dimension] = sorted(found)
        return self._values[dimension]
