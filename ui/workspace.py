"""Which data the app shows, and every engine call behind a cache keyed on that data's identity.

Caches are keyed on a workspace key (demo + its date, or a session's upload generation), never on
hashing frames: Streamlit samples large frames when hashing and would miss changes. Results
derived from one person's uploads live in a session-scoped cache.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

import polars as pl
import streamlit as st

from kpi import funnel as kpi_funnel
from kpi import handover as kpi_handover
from kpi import metrics as kpi_metrics
from kpi.data import Tables, prepare
from kpi.period import Grain, Period
from kpi.settings import Settings
from kpi.sources.demo import DEMO_SETTINGS, generate
from ui.i18n import t

SESSION_TABLES = "session_tables"  # st.session_state key: table name -> polars frame, confirmed uploads
WORKSPACE_KEY = "ws"
CURRENT = "_workspace"
DEMO = "demo"
SESSION = "session"

FilterKey = tuple[tuple[str, tuple[str, ...]], ...]

_loaded: dict[str, tuple[Tables, Settings]] = {}
_session_counter = itertools.count()


@dataclass(frozen=True)
class Workspace:
    """The data on screen: `key` identifies its exact content for caching and share links."""

    key: str
    kind: str
    settings: Settings
    last_day: date | None

    @property
    def tables(self) -> Tables:
        return _loaded[self.key][0]


@st.cache_resource(show_spinner=False, max_entries=4)
def _demo(today: date) -> tuple[str, Tables]:
    key = f"demo:{today.isoformat()}"
    tables = prepare(generate(today=today), DEMO_SETTINGS)
    _loaded[key] = (tables, DEMO_SETTINGS)
    return key, tables


def _last_day(tables: Mapping[str, pl.DataFrame]) -> date | None:
    ends = []
    if "leads" in tables:
        ends.append(tables["leads"]["created_at"].max())
    for name in ("spend", "traffic"):
        if name in tables and "date" in tables[name].columns:
            ends.append(tables[name]["date"].max())
    found = [e.date() if hasattr(e, "date") else e for e in ends if e is not None]
    return max(found) if found else None  # type: ignore[type-var]


def demo_workspace() -> Workspace:
    key, tables = _demo(date.today())
    return Workspace(key, DEMO, DEMO_SETTINGS, _last_day(tables))


def session_workspace() -> Workspace | None:
    """This browser session's confirmed uploads, if any, as a workspace of their own."""
    raw: dict[str, pl.DataFrame] = st.session_state.get(SESSION_TABLES) or {}
    if not raw:
        return None
    identity = tuple(sorted((name, id(frame), frame.height) for name, frame in raw.items()))
    known = st.session_state.get("_session_ws")
    if known is None or known[0] != identity:
        key = f"session:{next(_session_counter)}"
        settings = Settings()
        _loaded[key] = (prepare(raw, settings), settings)
        known = (identity, key)
        st.session_state["_session_ws"] = known
    key = known[1]
    if key not in _loaded:  # the server restarted under a live session
        _loaded[key] = (prepare(raw, Settings()), Settings())
    return Workspace(key, SESSION, _loaded[key][1], _last_day(_loaded[key][0]))


def _filters_key(filters: Mapping[str, Sequence[str]]) -> FilterKey:
    return tuple(sorted((d, tuple(sorted(v))) for d, v in filters.items() if v))


def _period_key(period: Period | None) -> tuple[date, date] | None:
    return (period.start, period.end) if period else None


# Derived results are session-scoped: uploads stay private to their session, and a session's
# results are dropped when it disconnects.
@st.cache_data(show_spinner=False, max_entries=512, scope="session")
def _compute(key: str, metrics: tuple[str, ...], by: tuple[str, ...], period: tuple[date, date] | None,
             grain: Grain | None, filters: FilterKey, view: kpi_metrics.View, allocate: bool) -> pl.DataFrame:
    tables, settings = _loaded[key]
    return kpi_metrics.compute(tables, metrics, by=by, period=Period(*period) if period else None, grain=grain,
                               filters=dict(filters), view=view, settings=settings, allocate_cost=allocate)


def compute(ws: Workspace, metrics: Sequence[str], by: Sequence[str] = (), period: Period | None = None,
            grain: Grain | None = None, filters: Mapping[str, Sequence[str]] | None = None,
            view: kpi_metrics.View = "cohort", allocate_cost: bool = False) -> pl.DataFrame:
    """`kpi.metrics.compute` on the workspace, cached by its key and the request."""
    return _compute(ws.key, tuple(metrics), tuple(by), _period_key(period), grain, _filters_key(filters or {}), view,
              allocate_cost)


@st.cache_data(show_spinner=False, max_entries=256, scope="session")
def _funnel(key: str, by: tuple[str, ...], period: tuple[date, date] | None, filters: FilterKey,
            view: kpi_metrics.View) -> pl.DataFrame:
    tables, settings = _loaded[key]
    return kpi_funnel.stage_funnel(tables, by=by, period=Period(*period) if period else None, filters=dict(filters),
                                   view=view, settings=settings)


def funnel(ws: Workspace, by: Sequence[str] = (), period: Period | None = None,
           filters: Mapping[str, Sequence[str]] | None = None, view: kpi_metrics.View = "cohort") -> pl.DataFrame:
    """`kpi.funnel.stage_funnel` on the workspace, cached by its key and the request."""
    return _funnel(ws.key, tuple(by), _period_key(period), _filters_key(filters or {}), view)


@st.cache_data(show_spinner=False, max_entries=128, scope="session")
def _trend(key: str, grain: Grain, period: tuple[date, date] | None, by: tuple[str, ...], filters: FilterKey,
           view: kpi_metrics.View) -> pl.DataFrame:
    tables, settings = _loaded[key]
    return kpi_funnel.conversion_trend(tables, grain, period=Period(*period) if period else None, by=by,
                                       filters=dict(filters), view=view, settings=settings)


def conversion_trend(ws: Workspace, grain: Grain, period: Period | None = None, by: Sequence[str] = (),
                     filters: Mapping[str, Sequence[str]] | None = None,
                     view: kpi_metrics.View = "cohort") -> pl.DataFrame:
    """`kpi.funnel.conversion_trend` on the workspace, cached."""
    return _trend(ws.key, grain, _period_key(period), tuple(by), _filters_key(filters or {}), view)


@st.cache_data(show_spinner=False, max_entries=64, scope="session")
def _leaked(key: str, period: tuple[date, date] | None, filters: FilterKey) -> pl.DataFrame:
    tables, settings = _loaded[key]
    return kpi_handover.leaked_leads(tables, period=Period(*period) if period else None, filters=dict(filters),
                                     settings=settings)


def leaked_leads(ws: Workspace, period: Period | None = None,
                 filters: Mapping[str, Sequence[str]] | None = None) -> pl.DataFrame:
    """`kpi.handover.leaked_leads` on the workspace, cached."""
    return _leaked(ws.key, _period_key(period), _filters_key(filters or {}))


def best_and_worst(ws: Workspace, funnel_by: pl.DataFrame, dimension: str, min_base: int) -> pl.DataFrame:
    """`kpi.funnel.best_and_worst` of a broken-down funnel (small: not cached)."""
    return kpi_funnel.best_and_worst(funnel_by, dimension, min_base)


def funnel_dimensions(ws: Workspace) -> list[str]:
    return kpi_funnel.funnel_dimensions(ws.tables)


@st.cache_data(show_spinner=False, max_entries=64, scope="session")
def _values(key: str, dimension: str) -> list[str]:
    tables, _ = _loaded[key]
    found: set[str] = set()
    for frame in tables.values():
        if dimension in frame.columns and frame.schema[dimension] == pl.String:
            found.update(v for v in frame[dimension].unique().to_list() if v is not None)
    return sorted(found)


def dimension_values(ws: Workspace, dimension: str) -> list[str]:
    """Every value a dimension takes anywhere in the workspace, sorted."""
    return _values(ws.key, dimension)


def dimensions(ws: Workspace) -> list[str]:
    return kpi_metrics.available_dimensions(ws.tables)


def catalog(ws: Workspace) -> dict[str, kpi_metrics.Metric]:
    return kpi_metrics.catalog(ws.settings)


def compare(ws: Workspace, metrics: Sequence[str], period: Period, compare_period: Period | None,
            by: Sequence[str] = (), filters: Mapping[str, Sequence[str]] | None = None,
            view: kpi_metrics.View = "cohort") -> pl.DataFrame:
    """`metrics` in `period` with deltas against `compare_period` (see `kpi.metrics.with_deltas`)."""
    current_values = compute(ws, metrics, by=by, period=period, filters=filters, view=view)
    if compare_period is None:
        return current_values
    previous = compute(ws, metrics, by=by, period=compare_period, filters=filters, view=view)
    return kpi_metrics.with_deltas(current_values, previous, metrics, by)


def select_workspace(lang: str) -> Workspace:
    """The workspace picker in the sidebar: the demo, or this session's confirmed uploads."""
    options = {DEMO: t("sidebar.demo_workspace", lang)}
    uploads = session_workspace()
    if uploads is not None:
        options[SESSION] = t("sidebar.session_workspace", lang)
    if st.query_params.get(WORKSPACE_KEY) in options and WORKSPACE_KEY not in st.session_state:
        st.session_state[WORKSPACE_KEY] = st.query_params[WORKSPACE_KEY]
    choice = st.sidebar.selectbox(t("sidebar.workspace", lang), list(options), format_func=options.__getitem__,
                                  key=WORKSPACE_KEY)
    if choice == DEMO:
        st.query_params.pop(WORKSPACE_KEY, None)
    else:
        st.query_params[WORKSPACE_KEY] = choice
    ws = uploads if choice == SESSION and uploads is not None else demo_workspace()
    st.session_state[CURRENT] = ws
    return ws


def current() -> Workspace:
    """The workspace chosen on this run (pages call this)."""
    return st.session_state[CURRENT]  # type: ignore[no-any-return]
