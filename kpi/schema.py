"""Canonical tables: their columns, types, and one validation function.

Every source (demo, files, GA4) lands its rows in these tables; the engine reads nothing else.
Column names are snake_case English. Dimension columns are strings, and a table keeps any extra
string column as an extra dimension.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, TypeVar

import polars as pl

Frame = TypeVar("Frame", pl.DataFrame, pl.LazyFrame)
TableName = Literal["leads", "spend", "traffic", "touches", "events", "kpis"]

TIMESTAMP: pl.DataType = pl.Datetime("us")
DATE: pl.DataType = pl.Date()
STR: pl.DataType = pl.String()
FLOAT: pl.DataType = pl.Float64()
INT: pl.DataType = pl.Int64()


@dataclass(frozen=True)
class Column:
    name: str
    dtype: pl.DataType
    required: bool = False
    description: str = ""


@dataclass(frozen=True)
class Table:
    name: TableName
    grain: str
    columns: tuple[Column, ...]
    key: tuple[str, ...] = ()

    @property
    def required(self) -> list[str]:
        return [c.name for c in self.columns if c.required]

    @property
    def dtypes(self) -> dict[str, pl.DataType]:
        return {c.name: c.dtype for c in self.columns}

    def empty(self) -> pl.DataFrame:
        """A frame with every known column and no rows."""
        return pl.DataFrame(schema=self.dtypes)


LEADS = Table(
    "leads",
    "one lead, contact or deal",
    (
        Column("lead_id", STR, True, "unique id of the lead in its source system"),
        Column("created_at", TIMESTAMP, True, "when the lead was created"),
        Column("first_contact_at", TIMESTAMP, description="first contact by sales"),
        Column("mql_at", TIMESTAMP, description="became marketing-qualified"),
        Column("sql_at", TIMESTAMP, description="accepted by sales (sales-ready)"),
        Column("opportunity_at", TIMESTAMP, description="became an opportunity"),
        Column("won_at", TIMESTAMP, description="deal won"),
        Column("lost_at", TIMESTAMP, description="deal or lead lost / disqualified"),
        Column("amount", FLOAT, description="deal value (expected, or actual once won)"),
        Column("currency", STR),
        Column("channel", STR),
        Column("source", STR),
        Column("medium", STR),
        Column("campaign", STR),
        Column("initiative", STR),
        Column("segment", STR),
        Column("region", STR),
        Column("owner", STR),
    ),
    key=("lead_id",),
)

SPEND = Table(
    "spend",
    "day x campaign (x platform dimensions); range exports carry period_start/period_end",
    (
        Column("date", DATE, True, "day of the spend (or period_start + period_end)"),
        Column("period_start", DATE, description="first day of a row that covers a range"),
        Column("period_end", DATE, description="last day of a row that covers a range"),
        Column("spend", FLOAT, True, "media cost in the workspace currency"),
        Column("impressions", INT),
        Column("clicks", INT),
        Column("platform_conversions", FLOAT),
        Column("channel", STR),
        Column("campaign", STR),
        Column("initiative", STR),
        Column("currency", STR),
    ),
)

TRAFFIC = Table(
    "traffic",
    "day x channel x campaign (x dimensions); reports over a range carry period_start/period_end",
    (
        Column("date", DATE, True, "day of the visits (or period_start + period_end)"),
        Column("period_start", DATE, description="first day of a row that covers a range"),
        Column("period_end", DATE, description="last day of a row that covers a range"),
        Column("sessions", INT, True),
        Column("users", INT),
        Column("new_users", INT),
        Column("engaged_sessions", INT),
        Column("key_events", FLOAT),
        Column("revenue", FLOAT),
        Column("channel", STR),
        Column("source", STR),
        Column("medium", STR),
        Column("campaign", STR),
        Column("initiative", STR),
        Column("device", STR),
        Column("country", STR),
        Column("landing_page", STR),
    ),
)

TOUCHES = Table(
    "touches",
    "one marketing touch of a lead",
    (
        Column("lead_id", STR, True),
        Column("touched_at", TIMESTAMP, True),
        Column("channel", STR, True),
        Column("campaign", STR),
        Column("touch_type", STR),
    ),
)

EVENTS = Table(
    "events",
    "one event of a user",
    (
        Column("user_id", STR, True),
        Column("timestamp", TIMESTAMP, True),
        Column("event", STR, True),
    ),
)

KPIS = Table(
    "kpis",
    "KPI definitions and their targets per period",
    (
        Column("kpi_id", STR, True),
        Column("name", STR, True),
        Column("metric", STR, True, "metric id from the catalog, or a formula over them: revenue / spend"),
        Column("parent", STR, description="kpi_id of the KPI or goal this one breaks down"),
        Column("owner", STR),
        Column("why", STR, description="the goal it serves"),
        Column("how", STR, description="how it is measured (data source)"),
        Column("direction", STR, description="'up' or 'down': which way is good"),
        Column("target", FLOAT),
        Column("period", STR, description="target period: 2025, 2025-Q3 or 2025-07"),
        Column("filters", STR, description="the slice it is measured on: 'segment=Enterprise; initiative=ABM'"),
        Column("warning", FLOAT, description="value relative to target where it turns amber (1.0 = the target)"),
        Column("critical", FLOAT, description="value relative to target where it turns red (0.9 = 10 % short)"),
        Column("cadence", STR, description="how often it is reviewed: weekly, monthly or quarterly"),
    ),
    key=("kpi_id", "period"),
)

#: Tables whose rows may cover a date range (period_start..period_end) instead of one day (date).
RANGED_TABLES = ("spend", "traffic")

TABLES: dict[str, Table] = {t.name: t for t in (LEADS, SPEND, TRAFFIC, TOUCHES, EVENTS, KPIS)}

#: Stage timestamp columns the default funnel knows, in order.
DEFAULT_STAGE_COLUMNS = ("mql_at", "sql_at", "opportunity_at", "won_at")


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a table, phrased for the person who has to fix it."""

    table: str
    column: str | None
    message: str
    rows: tuple[int, ...] = ()  # 1-based row numbers in the frame as given
    n_rows: int = 0  # how many rows have the problem (rows lists at most the first 20)
    severity: Literal["error", "warning"] = "error"

    def __str__(self) -> str:
        where = f"{self.table}" + (f".{self.column}" if self.column else "")
        rows = ""
        if self.n_rows:
            shown = ", ".join(str(r) for r in self.rows)
            more = f" and {self.n_rows - len(self.rows)} more" if self.n_rows > len(self.rows) else ""
            rows = f" (rows {shown}{more})"
        return f"{self.severity}: {where}: {self.message}{rows}"


_MAX_ROWS_LISTED = 20


def _rows_where(df: pl.DataFrame, mask: pl.Expr) -> tuple[tuple[int, ...], int]:
    hits = df.select(pl.int_range(1, pl.len() + 1).filter(mask.fill_null(False)).alias("row"))["row"]
    return tuple(hits.head(_MAX_ROWS_LISTED).to_list()), hits.len()


def _type_ok(actual: pl.DataType, expected: pl.DataType) -> bool:
    if expected == TIMESTAMP:
        return isinstance(actual, pl.Datetime)
    if expected in (FLOAT, INT):
        return actual.is_numeric()
    return actual == expected


def validate(table: str, df: pl.DataFrame, stage_columns: tuple[str, ...] | None = None) -> list[Problem]:
    """Every problem found in `df` as the canonical `table`; an empty list means it is usable.

    Rows are never dropped here: each problem names the rows so the person importing can fix them.
    The column rules (`_COLUMN_RULES`) run first; the row rules (`_ROW_RULES`) only when no column
    rule found an error, as they need the right columns and types.
    """
    checked = _Checked(table, df, stage_columns)
    problems = [p for rule in _COLUMN_RULES for p in rule(checked)]
    if any(p.severity == "error" for p in problems):
        return problems  # row checks need the right columns and types
    return problems + [p for rule in _ROW_RULES for p in rule(checked)]


@dataclass(frozen=True)
class _Checked:
    """A frame being validated as a canonical table, with what the rules ask of it."""

    table: str
    df: pl.DataFrame
    stage_columns: tuple[str, ...] | None

    @property
    def spec(self) -> Table:
        return TABLES[self.table]

    @property
    def columns(self) -> set[str]:
        return set(self.df.schema)

    @property
    def ranged(self) -> bool:
        """Rows may cover a range: a spend or traffic table with period_start and period_end."""
        return self.table in RANGED_TABLES and {"period_start", "period_end"} <= self.columns

    @property
    def required(self) -> list[str]:
        """The required columns; a ranged table without a date column needs no date."""
        if self.ranged and "date" not in self.columns:
            return [c for c in self.spec.required if c != "date"]
        return self.spec.required

    def flag(self, mask: pl.Expr, column: str | None, message: str,
             severity: Literal["error", "warning"] = "error") -> list[Problem]:
        """The problem of the rows where `mask` holds; none when no row does."""
        rows, n = _rows_where(self.df, mask)
        return [Problem(self.table, column, message, rows, n, severity)] if n else []


def _required_present(c: _Checked) -> list[Problem]:
    """Each required column is there."""
    return [Problem(c.table, col, f"required column '{col}' is missing; map a column of your file to it")
            for col in c.required if col not in c.columns]


def _canonical_types(c: _Checked) -> list[Problem]:
    """A canonical column has its type (any number for a number, any timestamp for a timestamp); an
    all-empty column of no type passes."""
    schema = c.df.schema
    return [Problem(c.table, col, f"column '{col}' has type {schema[col]}, expected {expected}; convert it on import")
            for col, expected in c.spec.dtypes.items()
            if col in schema and not _type_ok(schema[col], expected) and schema[col] != pl.Null]


def _extra_columns_are_text(c: _Checked) -> list[Problem]:
    """A column the table does not know is kept as a dimension, so it should be text (a warning)."""
    return [Problem(c.table, col, f"extra column '{col}' is {dtype}; extra columns must be text dimensions",
                    severity="warning")
            for col, dtype in c.df.schema.items()
            if col not in c.spec.dtypes and dtype not in (pl.String, pl.Categorical) and not isinstance(dtype, pl.Enum)]


def _required_filled(c: _Checked) -> list[Problem]:
    """Required values are not empty (a range row has no single date: see `_ranges`)."""
    return [p for col in c.required if not (c.ranged and col == "date")
            for p in c.flag(pl.col(col).is_null(), col, f"'{col}' is empty")]


def _unique_keys(c: _Checked) -> list[Problem]:
    """A one-column key (lead_id) is unique where given; a key of several columns is unique as a whole."""
    key = c.spec.key
    if len(key) == 1:
        col = key[0]
        return c.flag(pl.col(col).is_duplicated() & pl.col(col).is_not_null(), col,
                      f"duplicate {col}: each must be unique")
    if len(key) > 1 and set(key) <= c.columns:
        return c.flag(pl.struct(list(key)).is_duplicated(), None, f"duplicate rows for ({', '.join(key)})")
    return []


def _lead_stages_in_order(c: _Checked) -> list[Problem]:
    """A lead reaches no stage (nor is contacted, nor lost) before it is created; its amount is not
    negative, and it is not both won and lost (a warning)."""
    if c.table != "leads":
        return []
    stages = c.stage_columns or tuple(col for col in (*DEFAULT_STAGE_COLUMNS, "lost_at", "first_contact_at"))
    problems = [p for col in stages if col in c.columns
                for p in c.flag(pl.col(col) < pl.col("created_at"), col, f"'{col}' is before created_at")]
    if "amount" in c.columns:
        problems += c.flag(pl.col("amount") < 0, "amount", "amount is negative")
    if {"won_at", "lost_at"} <= c.columns:
        problems += c.flag(pl.col("won_at").is_not_null() & pl.col("lost_at").is_not_null(), "lost_at",
                           "lead is both won and lost", "warning")
    return problems


def _measures_not_negative(c: _Checked) -> list[Problem]:
    """Spend and traffic measures are never negative, and a click needs an impression (a warning)."""
    if c.table not in ("spend", "traffic"):
        return []
    measures = ("spend", "impressions", "clicks") if c.table == "spend" else (
        "sessions", "users", "new_users", "engaged_sessions", "key_events")
    problems = [p for col in measures if col in c.columns for p in c.flag(pl.col(col) < 0, col, f"{col} is negative")]
    if c.table == "spend" and {"clicks", "impressions"} <= c.columns:
        problems += c.flag(pl.col("clicks") > pl.col("impressions"), "clicks", "more clicks than impressions",
                           "warning")
    return problems


def _ranges(c: _Checked) -> list[Problem]:
    """A range row ends on or after its start, and every row has a date or a range."""
    if not c.ranged:
        return []
    problems = c.flag(pl.col("period_end") < pl.col("period_start"), "period_end", "period_end is before period_start")
    if "date" in c.columns:
        problems += c.flag(pl.col("date").is_null() & pl.col("period_start").is_null(), "date",
                           "row has neither date nor period_start/period_end")
    return problems


def _engagement_within_sessions(c: _Checked) -> list[Problem]:
    """Traffic has no more engaged sessions than sessions (a warning)."""
    if c.table != "traffic" or not {"engaged_sessions", "sessions"} <= c.columns:
        return []
    return c.flag(pl.col("engaged_sessions") > pl.col("sessions"), "engaged_sessions",
                  "more engaged sessions than sessions", "warning")


def _kpi_direction(c: _Checked) -> list[Problem]:
    """A KPI's direction, when written, is 'up' or 'down'."""
    if c.table != "kpis" or "direction" not in c.columns:
        return []
    return c.flag(~pl.col("direction").is_in(["up", "down"]) & pl.col("direction").is_not_null(), "direction",
                  "direction must be 'up' or 'down'")


#: The rules on the frame's columns, in the order their problems are listed.
_COLUMN_RULES: tuple[Callable[[_Checked], list[Problem]], ...] = (
    _required_present, _canonical_types, _extra_columns_are_text,
)

#: The rules on the rows, in the order their problems are listed (run when the columns are right).
_ROW_RULES: tuple[Callable[[_Checked], list[Problem]], ...] = (
    _required_filled, _unique_keys, _lead_stages_in_order, _measures_not_negative, _ranges,
    _engagement_within_sessions, _kpi_direction,
)


def conform(table: str, df: Frame) -> Frame:
    """`df` with the canonical column types (numbers widened, timestamps in microseconds).

    Only safe, lossless casts; anything else is left for `validate` to report. Works on a lazy scan too.
    """
    spec = TABLES[table]
    casts = []
    schema = df.collect_schema()
    for col, dtype in schema.items():
        expected = spec.dtypes.get(col)
        if expected is None or dtype == expected:
            continue
        if expected == TIMESTAMP and isinstance(dtype, pl.Datetime):
            casts.append(pl.col(col).dt.replace_time_zone(None).cast(TIMESTAMP) if dtype.time_zone
                         else pl.col(col).cast(TIMESTAMP))
        elif expected == TIMESTAMP and dtype == pl.Date:
            casts.append(pl.col(col).cast(TIMESTAMP))
        elif dtype == pl.Null or (dtype.is_numeric() and expected == FLOAT) or (expected == INT and dtype.is_integer()):
            casts.append(pl.col(col).cast(expected))
        elif expected == STR and (dtype == pl.Categorical or isinstance(dtype, pl.Enum)):
            casts.append(pl.col(col).cast(pl.String))
    return df.with_columns(casts) if casts else df


def is_text(dtype: pl.DataType) -> bool:
    """Text columns: strings, or categoricals (the engine keeps dimensions categorical once prepared)."""
    return dtype in (pl.String, pl.Categorical) or isinstance(dtype, pl.Enum)


def dimensions(df: pl.DataFrame | pl.LazyFrame) -> list[str]:
    """The dimension columns of a canonical table: every text column except ids."""
    schema = df.collect_schema()
    return [c for c, t in schema.items() if is_text(t) and c not in ("lead_id", "user_id", "currency")]
