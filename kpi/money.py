"""Money in several currencies: conversion to the workspace's reporting currency, or a refusal.

The workspace reports in one currency (`Settings.currency`) and may hold rates (`Settings.rates`:
currency code -> how many units of the reporting currency one unit of it is worth). A money value
(spend, a deal's amount, GA4 revenue) whose row states another currency is multiplied by that rate.
A row with no currency stated is taken to be in the reporting currency. A row in a currency without
a rate cannot be converted: its money becomes NaN, so every sum that includes it is NaN and the
engine shows that number as not available (null) instead of adding up unlike units. Sums that do not
include such a row (another channel, another period) are unaffected.
"""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl

from kpi.settings import Settings

#: The money columns of each canonical table, in the currency its `currency` column states.
MONEY_COLUMNS: dict[str, tuple[str, ...]] = {"spend": ("spend",), "leads": ("amount",), "traffic": ("revenue",)}


def _code(raw: str | None) -> str | None:
    """A currency as a row states it, as an upper-case code; None when the row states none."""
    code = (raw or "").strip().upper()
    return code or None


def _stated(frame: pl.LazyFrame | pl.DataFrame, money: list[str]) -> list[str]:
    """The distinct currency values as written in rows that carry money (a few values, read in one pass)."""
    rows = frame.lazy().filter(pl.any_horizontal(pl.col(c).is_not_null() for c in money))
    return rows.select(pl.col("currency").cast(pl.String).unique()).collect()["currency"].drop_nulls().to_list()


def _money_columns(frame: pl.LazyFrame | pl.DataFrame, table: str) -> list[str]:
    """The table's money columns present in `frame`, when it states a currency; else none."""
    schema = frame.collect_schema()
    return [c for c in MONEY_COLUMNS.get(table, ()) if c in schema] if "currency" in schema else []


def converted(frame: pl.LazyFrame, table: str, settings: Settings) -> pl.LazyFrame:
    """`frame` with its money columns in the reporting currency (NaN where the row's currency has no rate).
    A table all in the reporting currency is returned as it is."""
    money = _money_columns(frame, table)
    if not money:
        return frame
    reporting = settings.currency.upper()
    factors: dict[str, float] = {}
    for raw in _stated(frame, money):
        code = _code(raw)
        factor = 1.0 if code is None or code == reporting else settings.rates.get(code, float("nan"))
        if factor != 1.0:
            factors[raw] = factor
    if not factors:
        return frame
    factor_of_row = pl.col("currency").cast(pl.String).replace_strict(factors, default=1.0, return_dtype=pl.Float64)
    return frame.with_columns((pl.col(c).cast(pl.Float64) * factor_of_row.fill_null(1.0)).alias(c) for c in money)


def currencies(tables: Mapping[str, pl.DataFrame | pl.LazyFrame]) -> tuple[str, ...]:
    """Every currency (upper-case code, sorted) that a row with money in `tables` states."""
    found: set[str] = set()
    for table in MONEY_COLUMNS:
        frame = tables.get(table)
        money = _money_columns(frame, table) if frame is not None else []
        if frame is not None and money:
            found.update(code for code in map(_code, _stated(frame, money)) if code)
    return tuple(sorted(found))


def currency_gaps(tables: Mapping[str, pl.DataFrame | pl.LazyFrame], settings: Settings) -> tuple[str, ...]:
    """The currencies that money in `tables` is stated in but that have no rate to the reporting currency
    (sorted): money metrics over rows in these currencies are not available until a rate is given."""
    known = {settings.currency.upper(), *settings.rates}
    return tuple(c for c in currencies(tables) if c not in known)


def table_gaps(tables: Mapping[str, pl.DataFrame | pl.LazyFrame], settings: Settings) -> dict[str, tuple[str, ...]]:
    """`currency_gaps` of each table that has any: which table's money is not available, in which currencies."""
    found = {name: currency_gaps({name: frame}, settings) for name, frame in tables.items() if name in MONEY_COLUMNS}
    return {name: gaps for name, gaps in found.items() if gaps}


def gaps_reason(gaps: tuple[str, ...], settings: Settings) -> str:
    """Why money metrics are not available, and what to do, in English (the app translates its own)."""
    example = f"{gaps[0]}=0.011" if gaps else "INR=0.011"
    return (f"money in {', '.join(gaps)} has no rate to the reporting currency {settings.currency}, so spend, "
            f"revenue and the ratios built on them are not available where those rows count (never summed across "
            f"currencies). Give a rate per currency: {settings.currency} per 1 unit, e.g. --rate {example} on the "
            "command line, or the workspace's currency settings in the app.")
