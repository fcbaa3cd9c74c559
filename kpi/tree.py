"""The KPI tree: business goals broken down into KPIs and sub-KPIs until each can be measured.

A KPI is measured by a catalog metric (``cpl``) or a formula over catalog metrics
(``revenue / spend``), optionally on a slice of the data (``segment=Enterprise``). It has an owner,
the goal it serves (why), how it is measured (the data source), a direction (which way is good),
targets per period (``2026``, ``2026-Q4``, ``2026-11``), warning and critical thresholds and a
review cadence. The tree lives in the workspace's ``kpis`` table, one row per KPI and target period;
a KPI without targets has one row with an empty period.

Thresholds are the projected value relative to the target. For a KPI where up is good, at or above
`warning` (default 1.0: the target itself) it is on track, at or above `critical` (default 0.9) at
risk, below that off track. Where down is good (a cost), the same with "at or below" and a critical
default of 1.1.
"""

from __future__ import annotations

import ast
import itertools
import math
import operator
import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal, TypeAlias

import polars as pl

from kpi.metrics import Metric
from kpi.schema import TABLES, Problem
from kpi.targets import target_period

if TYPE_CHECKING:  # numpy is imported where a value is computed: a command that never does starts without it
    import numpy as np

Direction = Literal["up", "down"]
CADENCES = ("weekly", "monthly", "quarterly")
WARNING = 1.0
CRITICAL = {"up": 0.9, "down": 1.1}

#: The columns that define a KPI (the same on every one of its rows), and those of one target.
DEFINITION = ("kpi_id", "name", "metric", "parent", "owner", "why", "how", "direction", "filters", "warning",
              "critical", "cadence")
TARGET = ("kpi_id", "period", "target")
TARGET_SCHEMA: dict[str, pl.DataType] = {c: TABLES["kpis"].dtypes[c] for c in TARGET}

Value: TypeAlias = "float | np.ndarray"
SliceKey = tuple[tuple[str, tuple[str, ...]], ...]


class FormulaError(ValueError):
    """A formula that is not arithmetic over known metrics; the message says what to fix."""


_OPS: dict[type, Callable[[Value, Value], Value]] = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
}


@dataclass(frozen=True)
class Formula:
    """Arithmetic (+ − × ÷, parentheses, numbers) over catalog metric ids, e.g. ``(revenue - spend) / spend``.

    The value is computed from the metrics' values on the same slice and period, so a formula over
    additive metrics is itself a ratio of sums, never an average of ratios.
    """

    text: str
    tree: ast.expr = field(compare=False)
    metrics: tuple[str, ...]

    @staticmethod
    def parse(text: str, known: Collection[str]) -> Formula:
        try:
            tree = ast.parse(text.strip(), mode="eval").body
        except SyntaxError as exc:
            raise FormulaError(f"'{text}' is not a formula: check the brackets and operators near "
                               f"position {exc.offset or 0}") from None
        names: list[ast.Name] = []
        for node in ast.walk(tree):
            if isinstance(node, ast.Name):
                if node.id not in known:
                    raise FormulaError(f"'{node.id}' in '{text}' is not a metric; use metric ids from the catalog "
                                       f"such as revenue, spend, leads, won")
                names.append(node)
            elif isinstance(node, ast.Constant):
                if isinstance(node.value, bool) or not isinstance(node.value, int | float):
                    raise FormulaError(f"'{text}' may only contain numbers, metric ids and + - * /")
            elif isinstance(node, ast.BinOp):
                if type(node.op) not in _OPS:
                    raise FormulaError(f"'{text}' may only use + - * / and brackets")
            elif isinstance(node, ast.UnaryOp):
                if not isinstance(node.op, ast.USub | ast.UAdd):
                    raise FormulaError(f"'{text}' may only use + - * / and brackets")
            elif not isinstance(node, ast.operator | ast.unaryop | ast.Load):
                raise FormulaError(f"'{text}' may only contain numbers, metric ids and + - * /")
        if not names:
            raise FormulaError(f"'{text}' uses no metric; a KPI must measure something in the data")
        in_order = sorted(names, key=lambda n: n.col_offset)
        return Formula(text.strip(), tree, tuple(dict.fromkeys(n.id for n in in_order)))

    def evaluate(self, values: Mapping[str, Value | None]) -> Value | None:
        """The formula's value from its metrics' values (floats, or arrays of simulated values).

        None when a metric has no value; NaN where a division has a zero denominator.
        """
        if any(values.get(m) is None for m in self.metrics):
            return None

        def run(node: ast.expr) -> Value:
            if isinstance(node, ast.Name):
                return values[node.id]  # type: ignore[return-value]
            if isinstance(node, ast.Constant):
                return float(node.value)  # type: ignore[arg-type]  # parse() admits only numbers
            if isinstance(node, ast.UnaryOp):
                inner = run(node.operand)
                return -inner if isinstance(node.op, ast.USub) else inner
            assert isinstance(node, ast.BinOp)
            left, right = run(node.left), run(node.right)
            if isinstance(node.op, ast.Div):
                out = safe_divide(left, right)
                return float(out) if out.ndim == 0 else out
            return _OPS[type(node.op)](left, right)

        return run(self.tree)

    def unit(self, catalog: Mapping[str, Metric]) -> str | None:
        """The unit of the formula's value when it has one: a sum or difference of metrics of one
        unit keeps it (revenue − spend is money); anything else (revenue / spend) is a plain number."""
        units = {catalog[m].unit for m in self.metrics}
        return units.pop() if len(units) == 1 and self.additive(catalog) else None

    def additive(self, catalog: Mapping[str, Metric]) -> bool:
        """A sum or difference of counts and amounts (scaled by numbers): it accrues over a period
        like leads do, so its pace is a share of the target."""

        def ok(node: ast.expr) -> bool:
            if isinstance(node, ast.Name):
                return catalog[node.id].accrues
            if isinstance(node, ast.UnaryOp):
                return ok(node.operand)
            if isinstance(node, ast.BinOp):
                if isinstance(node.op, ast.Add | ast.Sub):
                    return ok(node.left) and ok(node.right)
                if isinstance(node.op, ast.Mult):
                    return (isinstance(node.left, ast.Constant) and ok(node.right)) or (
                        isinstance(node.right, ast.Constant) and ok(node.left))
                return isinstance(node.op, ast.Div) and isinstance(node.right, ast.Constant) and ok(node.left)
            return False

        return ok(self.tree)


def safe_divide(num: Value, den: Value) -> np.ndarray:
    """`num / den` as floats, NaN where the denominator is zero (no warning)."""
    import numpy as np

    d = np.asarray(den, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(d != 0, np.asarray(num, dtype=float) / np.where(d != 0, d, 1.0), np.nan)


_FILTER = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.+?)\s*$")


def parse_filters(text: str | None) -> dict[str, tuple[str, ...]]:
    """'segment=Enterprise; initiative=ABM, Brand' → {segment: (Enterprise,), initiative: (ABM, Brand)}."""
    out: dict[str, tuple[str, ...]] = {}
    for part in (text or "").split(";"):
        if not part.strip():
            continue
        match = _FILTER.fullmatch(part)
        if match is None:
            raise ValueError(f"'{part.strip()}' is not a filter; write dimension=value, e.g. segment=Enterprise, "
                             f"and separate filters with ';'")
        dim, values = match[1], tuple(v.strip() for v in match[2].split(",") if v.strip())
        if dim in out:
            raise ValueError(f"'{dim}' is filtered twice; list its values once, separated by commas")
        out[dim] = values
    return out


def format_filters(filters: Mapping[str, Sequence[str]]) -> str:
    return "; ".join(f"{dim}={', '.join(values)}" for dim, values in filters.items())


@dataclass(frozen=True)
class Kpi:
    """One node of the tree, with its targets by period label."""

    id: str
    name: str
    metric: str  # a catalog metric id or a formula
    parent: str | None = None
    owner: str = ""
    why: str = ""
    how: str = ""
    direction: Direction = "up"
    filters: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    warning: float = WARNING
    critical: float = CRITICAL["up"]
    cadence: str = "monthly"
    targets: Mapping[str, float] = field(default_factory=dict)

    @property
    def slice_key(self) -> SliceKey:
        """The slice the KPI is measured on, as a hashable key (KPIs on the same slice share data)."""
        return tuple(sorted((d, tuple(v)) for d, v in self.filters.items()))

    def formula(self, catalog: Mapping[str, Metric]) -> Formula | None:
        """The formula when the KPI is measured by one, else None (a plain catalog metric)."""
        return None if self.metric in catalog else Formula.parse(self.metric, catalog)

    def unit(self, catalog: Mapping[str, Metric]) -> str | None:
        """The unit the KPI's value is in (a formula's, see `Formula.unit`); None for a plain number."""
        formula = self.formula(catalog)
        return formula.unit(catalog) if formula else catalog[self.metric].unit

    def answerable(self, catalog: Mapping[str, Metric], dimensions: Mapping[str, Collection[str]]) -> bool:
        """Whether the data can measure the KPI on its slice: every table its metrics read is there
        (`dimensions`: each table's dimension columns) and has every dimension it is filtered on (cost
        by segment cannot be: spend has no segment)."""
        return all(table in dimensions and set(self.filters) <= set(dimensions[table])
                   for m in self.metrics(catalog) for table in catalog[m].tables)

    def metrics(self, catalog: Mapping[str, Metric]) -> tuple[str, ...]:
        """The catalog metrics the KPI needs."""
        formula = self.formula(catalog)
        return formula.metrics if formula else (self.metric,)

    def additive(self, catalog: Mapping[str, Metric]) -> bool:
        """Whether it accrues over a period (a count or amount) rather than holding at any time (a rate)."""
        formula = self.formula(catalog)
        return formula.additive(catalog) if formula else catalog[self.metric].accrues

    def evaluate(self, values: Mapping[str, Value | None], catalog: Mapping[str, Metric]) -> Value | None:
        """The KPI's value from its metrics' values (floats, or arrays of simulated values); None when
        a metric has no value, NaN where a formula divides by zero."""
        formula = self.formula(catalog)
        return formula.evaluate(values) if formula else values.get(self.metric)

    def rating(self, projected: float, target: float) -> Literal["on_track", "at_risk", "off_track"]:
        """On track, at risk or off track: `projected` against `target` through the thresholds.

        The thresholds are shares of the target: for a target of 100, 0.9 means 90. For a target
        below zero (an ROI of −0.5, say) they are read as the same distance on the other side:
        0.9 means 10 % of |target| short of it, so −0.55 where up is good.
        """
        if target > 0:
            relative = projected / target
        elif target < 0:
            relative = 1 + (projected - target) / abs(target)
        else:
            relative = 1.0 if projected == 0 else (math.inf if projected > 0 else -math.inf)
        if self.direction == "up":
            return "on_track" if relative >= self.warning else "at_risk" if relative >= self.critical else "off_track"
        return "on_track" if relative <= self.warning else "at_risk" if relative <= self.critical else "off_track"


def default_direction(metric: str, catalog: Mapping[str, Metric]) -> Direction:
    """Which way is good when a KPI does not say: the catalog metric's own (down for costs); a formula
    must say, and is read as up until it does."""
    return "down" if metric in catalog and not catalog[metric].higher_is_better else "up"


def _text(value: object) -> str:
    return "" if value is None else str(value).strip()


def _number(value: Any, default: float) -> float:
    return default if value is None or (isinstance(value, float) and math.isnan(value)) else float(value)


def kpis(frame: pl.DataFrame, catalog: Mapping[str, Metric]) -> list[Kpi]:
    """The KPIs of a kpis table in its row order (first row of each KPI defines it).

    Assumes `check` found no errors; a missing direction is the metric's own (down for costs).
    """
    out: dict[str, Kpi] = {}
    targets: dict[str, dict[str, float]] = {}
    for row in frame.iter_rows(named=True):
        kpi_id = _text(row["kpi_id"])
        if kpi_id not in out:
            metric = _text(row["metric"])
            direction: Direction = "down" if (_text(row.get("direction")) or default_direction(metric, catalog)) == \
                "down" else "up"
            out[kpi_id] = Kpi(
                kpi_id, _text(row["name"]), metric, _text(row.get("parent")) or None, _text(row.get("owner")),
                _text(row.get("why")), _text(row.get("how")), direction, parse_filters(row.get("filters")),
                _number(row.get("warning"), WARNING), _number(row.get("critical"), CRITICAL[direction]),
                _text(row.get("cadence")) or "monthly")
            targets[kpi_id] = {}
        if row.get("period") and row.get("target") is not None:
            targets[kpi_id][_text(row["period"])] = float(row["target"])
    return [Kpi(**{**k.__dict__, "targets": targets[k.id]}) for k in out.values()]


def check(frame: pl.DataFrame, catalog: Mapping[str, Metric],
          dimensions: Mapping[str, Collection[str]] | None = None,
          values: Mapping[str, Collection[str]] | None = None) -> list[Problem]:
    """Every problem with a KPI tree, naming the KPI, field and rows; an empty list means it can be saved.

    Beyond the table's own checks: parents must exist and never loop back, metrics must be in the
    catalog or valid formulas, filters must name known dimensions, target periods must be real
    periods, thresholds must be in the right order for the direction, and every row of one KPI
    must agree on its definition. `dimensions` (table -> its dimension columns, see
    `kpi.metrics.table_dimensions`) checks filters against the tables each metric reads: a filter that one of
    them lacks (cost by segment: spend has no segment) is a warning, as the KPI cannot be measured.
    `values` (dimension -> the values it takes in the data) flags filter values the data does not
    have (a typo would otherwise measure an empty slice) as warnings.

    The rules run in order: rows without an id, then `_KPI_RULES` on each KPI in the order of its
    first row, then `_TREE_RULES` on the tree as a whole.
    """
    missing = [c for c in TABLES["kpis"].required if c not in frame.columns]
    if missing:
        return [Problem("kpis", c, f"required column '{c}' is missing") for c in missing]
    rows: list[dict[str, Any]] = frame.with_row_index("row", offset=1).to_dicts()
    problems = _without_id(rows)
    by_id = _rows_by_kpi(rows)
    for kpi_id, group in by_id.items():
        kpi = _KpiRows(kpi_id, group, catalog, dimensions, values)
        for rule in _KPI_RULES:
            problems += rule(kpi)
    for tree_rule in _TREE_RULES:
        problems += tree_rule(by_id)
    return problems


def _problem(column: str | None, message: str, at: Sequence[int], severity: Literal["error", "warning"] = "error"
             ) -> Problem:
    """A problem of the kpis table at the rows `at` (1-based)."""
    return Problem("kpis", column, message, tuple(at), len(at), severity)


def _without_id(rows: Sequence[dict[str, Any]]) -> list[Problem]:
    """Every KPI needs an id: each row without one is a problem of its own."""
    return [_problem("kpi_id", "a KPI has no id; give every KPI a short unique id such as kpi_leads", [row["row"]])
            for row in rows if not _text(row["kpi_id"])]


def _rows_by_kpi(rows: Sequence[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """The rows of each KPI id, in the order the ids first appear (rows without an id left out)."""
    by_id: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        kpi_id = _text(row["kpi_id"])
        if kpi_id:
            by_id.setdefault(kpi_id, []).append(row)
    return by_id


@dataclass(frozen=True)
class _KpiRows:
    """One KPI as `check` reads it: its id, its rows (each with its 1-based `row` number; the first
    defines the KPI) and what is known of the catalog and the data (see `check`)."""

    id: str
    rows: list[dict[str, Any]]
    catalog: Mapping[str, Metric]
    dimensions: Mapping[str, Collection[str]] | None
    values: Mapping[str, Collection[str]] | None

    @property
    def at(self) -> list[int]:
        """The row numbers of all its rows."""
        return [r["row"] for r in self.rows]

    @property
    def first_row(self) -> list[int]:
        """The row number of its first row, where a problem with its definition is shown."""
        return [self.rows[0]["row"]]

    def defined(self, column: str) -> str:
        """The text of a definition column on its first row ('' when empty or absent)."""
        return _text(self.rows[0].get(column))

    def direction(self) -> str | None:
        """The direction as written (None when empty)."""
        return self.defined("direction") or None


def _one_definition(kpi: _KpiRows) -> list[Problem]:
    """Every row of a KPI must agree on each definition column (a KPI has one name, one metric …)."""
    problems = []
    for col in DEFINITION:
        written = {_text(r.get(col)) for r in kpi.rows if col in r}
        if len(written) > 1:
            problems.append(_problem(col, f"KPI '{kpi.id}' has different {col} on its rows; a KPI has one {col}",
                                     kpi.at))
    return problems


def _named(kpi: _KpiRows) -> list[Problem]:
    """A KPI must have a name."""
    if kpi.defined("name"):
        return []
    return [_problem("name", f"KPI '{kpi.id}' has no name", kpi.first_row)]


def _measured(kpi: _KpiRows) -> list[Problem]:
    """A KPI must measure a catalog metric or a valid formula over catalog metrics."""
    metric = kpi.defined("metric")
    if not metric:
        return [_problem("metric", f"KPI '{kpi.id}' measures nothing; choose a metric or write a formula",
                         kpi.first_row)]
    if metric in kpi.catalog:
        return []
    try:
        Formula.parse(metric, kpi.catalog)
    except FormulaError as exc:
        return [_problem("metric", f"KPI '{kpi.id}': {exc}", kpi.first_row)]
    return []


def _direction_known(kpi: _KpiRows) -> list[Problem]:
    """A direction, when written, is 'up' or 'down'."""
    if kpi.direction() in (None, "up", "down"):
        return []
    return [_problem("direction", f"KPI '{kpi.id}': direction must be 'up' or 'down'", kpi.first_row)]


def _filters_valid(kpi: _KpiRows) -> list[Problem]:
    """Filters must read as dimension=value pairs, each with a value; against the data (when known) they
    must name its dimensions and values, on every table the KPI's metrics read (see `_FILTER_RULES`)."""
    try:
        filters = parse_filters(kpi.defined("filters"))
    except ValueError as exc:
        return [_problem("filters", f"KPI '{kpi.id}': {exc}", kpi.first_row)]
    return [p for rule in _FILTER_RULES for p in rule(kpi, filters)]


def _filters_have_values(kpi: _KpiRows, filters: Mapping[str, tuple[str, ...]]) -> list[Problem]:
    """A filter names at least one value of its dimension."""
    empty = [d for d, v in filters.items() if not v]
    if not empty:
        return []
    return [_problem("filters", f"KPI '{kpi.id}' filters on {', '.join(empty)} without a value", kpi.first_row)]


def _known_dimensions(dimensions: Mapping[str, Collection[str]]) -> list[str]:
    """Every dimension of any table, sorted."""
    return sorted({d for dims in dimensions.values() for d in dims})


def _filters_on_known_dimensions(kpi: _KpiRows, filters: Mapping[str, tuple[str, ...]]) -> list[Problem]:
    """A filter names a dimension some table of the data has."""
    if kpi.dimensions is None:
        return []
    known = _known_dimensions(kpi.dimensions)
    unknown = [d for d in filters if d not in known]
    if not unknown:
        return []
    return [_problem("filters", f"KPI '{kpi.id}' filters on {', '.join(unknown)}, which the data does not "
                     f"have; use one of {', '.join(known)}", kpi.first_row)]


def _filters_on_known_values(kpi: _KpiRows, filters: Mapping[str, tuple[str, ...]]) -> list[Problem]:
    """A filter value the data does not have is a warning (a typo would measure an empty slice); only
    checked when the dimensions are known too."""
    if kpi.dimensions is None:
        return []
    problems = []
    for dim, wanted in filters.items():
        known_values = (kpi.values or {}).get(dim)
        missing = [v for v in wanted if known_values is not None and v not in known_values]
        if missing:
            shown = ", ".join(sorted(known_values or ())[:12])
            problems.append(_problem("filters", f"KPI '{kpi.id}' filters on {dim}={', '.join(missing)}, which the "
                                     f"data does not have; check the spelling (values: {shown})", kpi.first_row,
                                     "warning"))
    return problems


def _filters_on_measured_tables(kpi: _KpiRows, filters: Mapping[str, tuple[str, ...]]) -> list[Problem]:
    """A known dimension a table the KPI's metrics read does not have is a warning: the KPI cannot be
    measured on that slice (cost by segment: spend has no segment)."""
    if kpi.dimensions is None:
        return []
    known = _known_dimensions(kpi.dimensions)
    problems = []
    for m in _metrics_of(kpi.defined("metric"), kpi.catalog):
        for table in kpi.catalog[m].tables:
            lacking = [d for d in filters if d in known and d not in kpi.dimensions.get(table, ())]
            if lacking:
                problems.append(_problem("filters", f"KPI '{kpi.id}': {m} reads {table}, which has no "
                                         f"{', '.join(lacking)}, so it cannot be measured on that slice; drop the "
                                         f"filter or measure a metric of another table", kpi.first_row, "warning"))
    return problems


def _cadence_known(kpi: _KpiRows) -> list[Problem]:
    """A review cadence, when written, is one of `CADENCES`."""
    cadence = kpi.defined("cadence")
    if not cadence or cadence in CADENCES:
        return []
    return [_problem("cadence", f"KPI '{kpi.id}': review cadence must be one of {', '.join(CADENCES)}",
                     kpi.first_row)]


def _thresholds_ordered(kpi: _KpiRows) -> list[Problem]:
    """Thresholds are shares of the target above 0, and the critical one lies beyond the warning one:
    below it where up is good, above it where down is good (written or the defaults)."""
    up = (kpi.direction() or default_direction(kpi.defined("metric"), kpi.catalog)) == "up"
    first = kpi.rows[0]
    warning = _number(first.get("warning"), WARNING)
    critical = _number(first.get("critical"), CRITICAL["up" if up else "down"])
    if warning <= 0 or critical <= 0:
        return [_problem("warning", f"KPI '{kpi.id}': thresholds are shares of the target and must be above 0",
                         kpi.first_row)]
    if (critical > warning) if up else (critical < warning):
        return [_problem("critical", f"KPI '{kpi.id}': the critical threshold ({critical:g}) must be "
                         f"{'below' if up else 'above'} the warning threshold ({warning:g}) when "
                         f"{'up' if up else 'down'} is good", kpi.first_row)]
    return []


def _targets_valid(kpi: _KpiRows) -> list[Problem]:
    """Each target row has a real period (2026, 2026-Q4, 2026-11) and a value, and a KPI has one target
    per period."""
    problems = []
    periods: dict[str, int] = {}
    for r in kpi.rows:
        label, target = _text(r.get("period")), r.get("target")
        if not label:
            if target is not None:
                problems.append(_problem("period", f"KPI '{kpi.id}' has a target without a period; write 2026, "
                                         "2026-Q4 or 2026-11", [r["row"]]))
            continue
        try:
            target_period(label)
        except ValueError as exc:
            problems.append(_problem("period", f"KPI '{kpi.id}': {exc}", [r["row"]]))
        if label in periods:
            problems.append(_problem("period", f"KPI '{kpi.id}' has two targets for {label}; keep one",
                                     [periods[label], r["row"]]))
        periods[label] = r["row"]
        if target is None:
            problems.append(_problem("target", f"KPI '{kpi.id}' has the period {label} but no target value",
                                     [r["row"]]))
    return problems


def _parents(by_id: Mapping[str, list[dict[str, Any]]]) -> dict[str, str | None]:
    """Each KPI's parent as its first row writes it (None for a goal)."""
    return {k: _text(g[0].get("parent")) or None for k, g in by_id.items()}


def _parents_exist(by_id: Mapping[str, list[dict[str, Any]]]) -> list[Problem]:
    """A KPI breaks down a KPI of the tree (or is a goal)."""
    parents = _parents(by_id)
    return [_problem("parent", f"KPI '{kpi_id}' breaks down '{parent}', which is not in the tree",
                     [by_id[kpi_id][0]["row"]])
            for kpi_id, parent in parents.items() if parent is not None and parent not in parents]


def _no_loops(by_id: Mapping[str, list[dict[str, Any]]]) -> list[Problem]:
    """Following the parents up from any KPI reaches a goal: a loop is reported once, at all its KPIs."""
    parents = _parents(by_id)
    problems = []
    reported: set[str] = set()
    for start in parents:
        path: list[str] = []
        node: str | None = start
        while node is not None and node in parents and node not in path:
            path.append(node)
            node = parents[node]
        if node is not None and node in path and node not in reported:
            loop = path[path.index(node):]
            reported.update(loop)
            problems.append(_problem(
                "parent", f"KPIs {' → '.join([*loop, node])} (each breaking down the next) go round in a circle; "
                "one of them must break down a goal instead", sorted(by_id[k][0]["row"] for k in loop)))
    return problems


#: The checks of one KPI, in the order their problems are listed.
_KPI_RULES: tuple[Callable[[_KpiRows], list[Problem]], ...] = (
    _one_definition, _named, _measured, _direction_known, _filters_valid, _cadence_known, _thresholds_ordered,
    _targets_valid,
)

#: The checks of a KPI's filters against the data, in the order their problems are listed.
_FILTER_RULES: tuple[Callable[[_KpiRows, Mapping[str, tuple[str, ...]]], list[Problem]], ...] = (
    _filters_have_values, _filters_on_known_dimensions, _filters_on_known_values, _filters_on_measured_tables,
)

#: The checks of the tree as a whole, after every KPI's own.
_TREE_RULES: tuple[Callable[[Mapping[str, list[dict[str, Any]]]], list[Problem]], ...] = (
    _parents_exist, _no_loops,
)


def _metrics_of(metric: str, catalog: Mapping[str, Metric]) -> tuple[str, ...]:
    """The catalog metrics a metric id or formula reads; none when it is not valid."""
    if metric in catalog:
        return (metric,)
    try:
        return Formula.parse(metric, catalog).metrics
    except FormulaError:
        return ()


def check_edit(defs: pl.DataFrame, goals: pl.DataFrame, catalog: Mapping[str, Metric],
               dimensions: Mapping[str, Collection[str]] | None = None,
               values: Mapping[str, Collection[str]] | None = None) -> list[Problem]:
    """`check` for a tree edited as two tables, one row per KPI (`defs`) and one per target (`goals`),
    with each problem's rows numbered in the table the person edits: table "kpis" for the
    definitions, "targets" for the targets. A target for a KPI that is not among the definitions
    (a misspelt id, say) is a problem rather than silently dropped."""
    problems = check(join(defs, goals.clear()), catalog, dimensions, values)
    ids = set(defs["kpi_id"].cast(pl.String).drop_nulls().str.strip_chars())
    rows: list[dict[str, Any]] = goals.with_row_index("row", offset=1).to_dicts()
    seen: dict[tuple[str, str], int] = {}
    for r in rows:
        kpi_id, label, row = _text(r.get("kpi_id")), _text(r.get("period")), r["row"]
        if kpi_id not in ids:
            problems.append(Problem("targets", "kpi_id", f"the target for '{kpi_id}' belongs to no KPI in the tree; "
                                    f"use the id of one of the KPIs", (row,), 1))
        if not label:
            problems.append(Problem("targets", "period", f"the target of '{kpi_id}' has no period; write 2026, "
                                    f"2026-Q4 or 2026-11", (row,), 1))
            continue
        try:
            target_period(label)
        except ValueError as exc:
            problems.append(Problem("targets", "period", f"KPI '{kpi_id}': {exc}", (row,), 1))
        if r.get("target") is None:
            problems.append(Problem("targets", "target", f"KPI '{kpi_id}' has the period {label} but no target value",
                                    (row,), 1))
        if (kpi_id, label) in seen:
            problems.append(Problem("targets", "period", f"KPI '{kpi_id}' has two targets for {label}; keep one",
                                    (seen[(kpi_id, label)], row), 2))
        seen[(kpi_id, label)] = row
    return problems


def new_id(name: str, taken: Collection[str]) -> str:
    """A short id for a new KPI from its name (letters of any script kept, 'Cost per lead' → kpi_cost_per_lead),
    numbered when taken."""
    slug = re.sub(r"[\W_]+", "_", name.strip().lower()).strip("_")[:40] or "kpi"
    base = slug if slug.startswith("kpi") else f"kpi_{slug}"
    candidate, n = base, 2
    while candidate in taken:
        candidate, n = f"{base}_{n}", n + 1
    return candidate


def walk(tree: Sequence[Kpi]) -> list[tuple[Kpi, int]]:
    """Depth-first order from the goals down, with each KPI's depth (goals are 0)."""
    children: dict[str | None, list[Kpi]] = {}
    for k in tree:
        children.setdefault(k.parent, []).append(k)
    out: list[tuple[Kpi, int]] = []

    def visit(parent: str | None, depth: int) -> None:
        for k in children.get(parent, []):
            out.append((k, depth))
            visit(k.id, depth + 1)

    visit(None, 0)
    return out


def definitions(frame: pl.DataFrame) -> pl.DataFrame:
    """One row per KPI with its definition columns, in tree order of first appearance."""
    cols = [c for c in DEFINITION if c in frame.columns]
    return frame.select(cols).unique(subset="kpi_id", keep="first", maintain_order=True)


def targets(frame: pl.DataFrame) -> pl.DataFrame:
    """kpi_id, period and target of every target set."""
    return frame.filter(pl.col("period").is_not_null() & (pl.col("period") != "")).select(TARGET)


def join(defs: pl.DataFrame, goals: pl.DataFrame) -> pl.DataFrame:
    """The kpis table from definitions and targets: one row per KPI and period (a KPI without
    targets keeps one row with an empty period), with every canonical column."""
    schema = TABLES["kpis"].dtypes
    defs = defs.select([pl.col(c).cast(schema[c]) if c in defs.columns else pl.lit(None, schema[c]).alias(c)
                        for c in DEFINITION])
    goals = goals.select(pl.col(c).cast(dtype) for c, dtype in TARGET_SCHEMA.items()).filter(
        pl.col("period").is_not_null())
    out = defs.join(goals, on="kpi_id", how="left", maintain_order="left")
    return out.select(list(schema))


def target_history(versions: Sequence[tuple[datetime, str | None, pl.DataFrame]]) -> pl.DataFrame:
    """Every change to a target between consecutive saved versions of the kpis table, newest first.

    `versions` are (saved at, saved by, kpis table), oldest first; the first is the starting point.
    A row per change: when, who, kpi_id, name, period, before (null when the target was added) and
    after (null when it was removed).
    """
    text, number = pl.String(), pl.Float64()
    schema: dict[str, pl.DataType] = {"when": pl.Datetime("us"), "who": text, "kpi_id": text, "name": text,
                                      "period": text, "before": number, "after": number}
    changes = [pl.DataFrame(schema=schema)]
    for (_, _, old), (when, who, new) in itertools.pairwise(versions):
        diff = (targets(old).rename({"target": "before"})
                .join(targets(new).rename({"target": "after"}), on=["kpi_id", "period"], how="full", coalesce=True)
                .filter(pl.col("before").ne_missing(pl.col("after")))
                .join(definitions(new).select("kpi_id", "name"), on="kpi_id", how="left")
                .with_columns(pl.lit(when, pl.Datetime("us")).alias("when"), pl.lit(who, pl.String).alias("who")))
        changes.append(diff.select(list(schema)))
    return pl.concat(changes).sort(["when", "kpi_id", "period"], descending=[True, False, False])
