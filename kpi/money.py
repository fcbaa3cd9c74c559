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


def _code() -> pl.Expr:
    """The row's currency as an upper-case code; null when the row states none."""
    code = pl.col("currency").cast(pl.String).str.strip_chars().str.to_uppercase()
    return pl.when(code == "").then(None).otherwise(code)


def converted(frame: pl.LazyFrame, table: str, settings: Settings) -> pl.LazyFrame:
    """`frame` with its money columns in the reporting currency (NaN where the row's currency has no rate)."""
    schema = frame.collect_schema()
    money = [c for c in MONEY_COLUMNS.get(table, ()) if c in schema]
    if "currency" not in schema or not money:
        return frame
    code = _code()
    rate = code.replace_strict(dict(settings.rates), default=float("nan"), return_dtype=pl.Float64)
    same = code.is_null() | (code == settings.currency.upper())
    return frame.with_columns(pl.when(same).then(pl.col(c).cast(pl.Float64))
                              .otherwise(pl.col(c).cast(pl.Float64) * rate).alias(c) for c in money)


def currencies(tables: Mapping[str, pl.DataFrame | pl.LazyFrame]) -> tuple[str, ...]:
    """Every currency (upper-case code, sorted) that a row with money in `tables` states."""
    found: set[str] = set()
    for table, columns in MONEY_COLUMNS.items():
        frame = tables.get(table)
        if frame is None:
            continue
        schema = frame.collect_schema()
        money = [c for c in columns if c in schema]
        if "currency" not in schema or not money:
            continue
        codes = (frame.lazy().filter(pl.any_horizontal(pl.col(c).is_not_null() for c in money))
                 .select(_code().unique().alias("code")).collect()["code"])
        found.update(codes.drop_nulls().to_list())
    return tuple(sorted(found))


def currency_gaps(tables: Mapping[str, pl.DataFrame | pl.LazyFrame], settings: Settings) -> tuple[str, ...]:
    """The currencies that money in `tables` is stated in but that have no rate to the reporting currency
    (sorted): money metrics over rows in these currencies are not available until a rate is given."""
    known = {settings.currency.upper(), *settings.rates}
    return tuple(c for c in currencies(tables) if c not in known)


def gaps_reason(gaps: tuple[str, ...], settings: Settings) -> str:
    """Why money metrics are not available, and what to do, in English (the app translates its own)."""
    example = f"{gaps[0]}=0.011" if gaps else "INR=0.011"
    return (f"money in {', '.join(gaps)} has no rate to the reporting currency {settings.currency}, so spend, "
            f"revenue and the ratios built on them are not available where those rows count (never summed across "
            f"currencies). Give a rate per currency: {settings.currency} per 1 unit, e.g. --rate {example} on the "
            "command line, or the workspace's currency settings in the app.")
