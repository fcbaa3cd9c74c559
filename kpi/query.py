"""The question a number answers: which slice, which days, counted how.

A `Query` is what crosses the boundary between the app (or the command line) and the engine: every
entry point in `kpi.engine` takes a workspace and a query. It is frozen and hashable, so a cache can
key on it, and it normalises itself, so two queries that ask the same thing are equal.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

from kpi.period import Grain, Period

View = Literal["cohort", "flow"]
Filters = tuple[tuple[str, tuple[str, ...]], ...]


def normalise_filters(filters: Mapping[str, Sequence[str]] | Filters | None) -> Filters:
    """Filters as sorted (dimension, sorted values) pairs, dimensions without values left out: an empty
    list keeps every row, so it asks nothing."""
    pairs = filters.items() if isinstance(filters, Mapping) else (filters or ())
    return tuple(sorted((str(d), tuple(sorted(dict.fromkeys(map(str, v))))) for d, v in pairs if v))


@dataclass(frozen=True)
class Query:
    """Numbers by the dimensions `by` (and by `grain` buckets of time), over `period` (all days when None),
    for the rows whose dimension value is among `filters`' values.

    `view` decides when a lead counts: `cohort` in the period it was created, `flow` in the period each
    stage was reached. With `allocation`, spend is split by lead share where spend is not recorded by a
    dimension the query needs (see `kpi.metrics.compute`). `compare` is the period the numbers are set
    beside (deltas), or None.
    """

    by: tuple[str, ...] = ()
    period: Period | None = None
    grain: Grain | None = None
    filters: Filters = field(default=())
    view: View = "cohort"
    allocation: bool = False
    compare: Period | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "by", tuple(self.by))
        object.__setattr__(self, "filters", normalise_filters(self.filters))

    @classmethod
    def of(cls, *, by: Sequence[str] = (), period: Period | None = None, grain: Grain | None = None,
           filters: Mapping[str, Sequence[str]] | None = None, view: View = "cohort", allocation: bool = False,
           compare: Period | None = None) -> Query:
        """A query from the shapes callers hold (lists, a filter dict)."""
        return cls(tuple(by), period, grain, normalise_filters(filters), view, allocation, compare)

    @property
    def filter_map(self) -> dict[str, list[str]]:
        """The filters as the engine's functions take them: dimension -> values."""
        return {d: list(v) for d, v in self.filters}

    def but(self, **changes: object) -> Query:
        """The same query with some fields changed (`by`, `period`, `grain`, `filters`, `view`, ...)."""
        return replace(self, **changes)  # type: ignore[arg-type]

    def previous(self) -> Query | None:
        """The same query over the comparison period (None when not compared)."""
        return None if self.compare is None else replace(self, period=self.compare, compare=None)

    def without(self, dimension: str) -> Query:
        """The same query without the filter on `dimension` (a breakdown by it meets all its values)."""
        return replace(self, filters=tuple((d, v) for d, v in self.filters if d != dimension))
