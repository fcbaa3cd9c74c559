"""Which data the app shows, and every engine call behind a cache keyed on that data's identity.

A workspace lives in the store (the demo is seeded there on first start) or, for uploads not yet
saved, in the browser session. Caches are keyed on the workspace key, which names the exact
dataset versions (or the session's upload generation), never on hashing frames: Streamlit samples
large frames when hashing and would miss changes.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date

import polars as pl
import streamlit as st

from kpi import attribution as kpi_attribution
from kpi import clock
from kpi import funnel as kpi_funnel
from kpi import handover as kpi_handover
from kpi import metrics as kpi_metrics
from kpi import money as kpi_money
from kpi.data import Tables, prepare
from kpi.period import Grain, Period
from kpi.schema import RANGED_TABLES, TABLES, is_text
from kpi.settings import Settings
from kpi.sources.demo import DEMO_SETTINGS, generate
from kpi.sources.mapping import MappingStore, WorkspaceMappings
from kpi.sources.presets import DERIVED_TOUCH_TYPES
from kpi.store import InvalidDataset, Mode, Store, WorkspaceExists, default_data_dir, refusals
from kpi.store import Workspace as StoreWorkspace
from ui.i18n import current_language, stage_label, t
from ui.widgets import translated_select

SESSION_TABLES = "session_tables"  # st.session_state key: table name -> polars frame, confirmed uploads
SESSION_MONEY = "session_money"  # st.session_state key: (reporting currency, rates) chosen for the uploads
SESSION_MAPPINGS = "session_mappings"  # st.session_state key: column mappings remembered with those uploads
WORKSPACE_KEY = "ws"
CURRENT = "_workspace"
DEMO = "demo"  # the store id of the demo workspace
SESSION = "session"  # the picker's id for this session's unsaved uploads

FilterKey = tuple[tuple[str, tuple[str, ...]], ...]

_loaded: dict[str, tuple[Tables, Settings]] = {}
_session_counter = itertools.count()


@dataclass(frozen=True)
class Workspace:
    """The data on screen. `key` identifies its exact content for caching; `store_id` is the store's
    workspace id (None for unsaved uploads) and `versions` the dataset versions shown."""

    key: str
    name: str
    settings: Settings
    last_day: date | None
    store_id: str | None = None
    versions: dict[str, str] = field(default_factory=dict)

    @property
    def tables(self) -> Tables:
        return _loaded[self.key][0]

    @property
    def is_session(self) -> bool:
        return self.store_id is None


@st.cache_resource(show_spinner=False)
def store() -> Store:
    """The workspace store in the configured data directory (KPI_DATA_DIR, else ./data), with the demo seeded."""
    opened = Store(default_data_dir())
    if not any(w.id == DEMO for w in opened.workspaces()):
        today = clock.today()
        try:
            opened.create_workspace(t("sidebar.demo_workspace", "en"), workspace_id=DEMO, settings=DEMO_SETTINGS)
        except WorkspaceExists:  # another process seeded it first
            return opened
        for name, frame in generate(today=today).items():
            opened.save(DEMO, name, frame, source=f"demo generator (seed 7, data up to {today.isoformat()})")
    return opened


def _last_day(tables: Mapping[str, pl.DataFrame]) -> date | None:
    ends = []
    if "leads" in tables:
        ends.append(tables["leads"]["created_at"].max())
    for name in ("spend", "traffic"):
        for col in ("date", "period_end"):  # a row covering a range ends on its period_end
            if name in tables and col in tables[name].columns:
                ends.append(tables[name][col].max())
    found = [e.date() if hasattr(e, "date") else e for e in ends if e is not None]
    return max(found) if found else None  # type: ignore[type-var]


def stored_workspace(store_id: str, versions: Mapping[str, str] | None = None,
                     settings: Settings | None = None, slice: Mapping[str, Sequence[str]] | None = None) -> Workspace:
    """A store workspace at the given dataset versions (default: the latest) and settings (default: its own);
    with a `slice` (a slice-only link's), only that slice's rows: every engine call on it is bound to the
    slice (`kpi.metrics.restrict`), whatever filters the page adds."""
    db = store()
    versions = dict(versions) if versions is not None else db.latest_versions(store_id)
    settings = settings or db.settings(store_id)
    bound = sorted((d, tuple(sorted(v))) for d, v in (slice or {}).items())
    identity = repr((store_id, sorted(versions.items()), settings.to_dict(), bound)).encode()
    key = f"{store_id}@{hashlib.sha256(identity).hexdigest()[:16]}"
    if key not in _loaded:
        tables = prepare(db.tables(store_id, versions), settings)
        _loaded[key] = (kpi_metrics.restrict(tables, slice) if slice else tables, settings)
    return Workspace(key, db.workspace(store_id).name, settings, _last_day(_loaded[key][0]), store_id, versions)


def _currency_of(tables: Mapping[str, pl.DataFrame]) -> str | None:
    """The currency the uploads state (spend's first, then leads'), if they state one."""
    for name in ("spend", "leads"):
        frame = tables.get(name)
        if frame is not None and "currency" in frame.columns:
            found = frame["currency"].drop_nulls().mode()
            if found.len():
                return str(found.sort()[0])
    return None


def session_settings(tables: Mapping[str, pl.DataFrame]) -> Settings:
    """The settings uploads are shown with, and a new workspace saved from them gets: the default ones
    in the reporting currency and rates chosen for them, else in the currency the uploads state."""
    chosen = st.session_state.get(SESSION_MONEY)
    if chosen is not None:
        return Settings(currency=chosen[0], rates=dict(chosen[1]))
    return Settings(currency=_currency_of(tables) or Settings().currency)


def session_tables() -> dict[str, pl.DataFrame]:
    """This browser session's confirmed uploads, table name -> frame (empty before the first)."""
    return st.session_state.get(SESSION_TABLES) or {}


def session_workspace() -> Workspace | None:
    """This browser session's confirmed uploads, if any, as a workspace of their own (never shared)."""
    raw = session_tables()
    if not raw:
        return None
    identity = (tuple(sorted((name, id(frame), frame.height) for name, frame in raw.items())),
                st.session_state.get(SESSION_MONEY))
    known = st.session_state.get("_session_ws")
    if known is None or known[0] != identity or known[1] not in _loaded:
        key = f"session:{next(_session_counter)}"
        settings = session_settings(raw)
        _loaded[key] = (prepare(raw, settings), settings)
        known = (identity, key)
        st.session_state["_session_ws"] = known
    key = known[1]
    return Workspace(key, t("sidebar.session_workspace"), _loaded[key][1], _last_day(_loaded[key][0]))


def mappings() -> MappingStore:
    """The column mappings an upload is looked up in: those remembered in this session (saved into a
    workspace with the uploads), then those saved in the store workspace on screen."""
    ws = st.session_state.get(CURRENT)
    saved = WorkspaceMappings(store(), ws.store_id) if ws is not None and ws.store_id else None
    return MappingStore(st.session_state.setdefault(SESSION_MAPPINGS, {}), saved)


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
            view: kpi_metrics.View, allocate: bool) -> pl.DataFrame:
    tables, settings = _loaded[key]
    return kpi_funnel.stage_funnel(tables, by=by, period=Period(*period) if period else None, filters=dict(filters),
                                   view=view, settings=settings, allocate_cost=allocate)


def _stage_labels(ws: Workspace) -> dict[str, str]:
    lang = current_language()
    labels = {s.id: stage_label(s.id, s.label, lang) for s in ws.settings.stages}
    return labels | {kpi_funnel.SESSIONS_STAGE: t("stage.sessions", lang)}


def funnel(ws: Workspace, by: Sequence[str] = (), period: Period | None = None,
           filters: Mapping[str, Sequence[str]] | None = None, view: kpi_metrics.View = "cohort",
           allocate_cost: bool = False) -> pl.DataFrame:
    """`kpi.funnel.stage_funnel` on the workspace, cached by its key and the request; stage labels
    in the reader's language."""
    frame = _funnel(ws.key, tuple(by), _period_key(period), _filters_key(filters or {}), view, allocate_cost)
    return frame.with_columns(pl.col("stage").replace_strict(_stage_labels(ws), default=pl.col("label"))
                              .alias("label"))


@st.cache_data(show_spinner=False, max_entries=128, scope="session")
def _trend(key: str, grain: Grain, period: tuple[date, date] | None, by: tuple[str, ...], filters: FilterKey,
           view: kpi_metrics.View) -> pl.DataFrame:
    tables, settings = _loaded[key]
    return kpi_funnel.conversion_trend(tables, grain, period=Period(*period) if period else None, by=by,
                                       filters=dict(filters), view=view, settings=settings)


def conversion_trend(ws: Workspace, grain: Grain, period: Period | None = None, by: Sequence[str] = (),
                     filters: Mapping[str, Sequence[str]] | None = None,
                     view: kpi_metrics.View = "cohort") -> pl.DataFrame:
    """`kpi.funnel.conversion_trend` on the workspace, cached; step labels in the reader's language."""
    frame = _trend(ws.key, grain, _period_key(period), tuple(by), _filters_key(filters or {}), view)
    names = _stage_labels(ws)
    steps = {f"{a.id}_to_{b.id}": f"{names[a.id]} → {names[b.id]}"
             for a, b in itertools.pairwise(ws.settings.stages)}
    return frame.with_columns(pl.col("step").replace_strict(steps, default=pl.col("label")).alias("label"))


@st.cache_data(show_spinner=False, max_entries=128, scope="session")
def _incomplete(key: str, grain: Grain, period: tuple[date, date] | None, filters: FilterKey) -> pl.DataFrame:
    tables, settings = _loaded[key]
    return kpi_funnel.incomplete_periods(tables, grain, period=Period(*period) if period else None,
                                         filters=dict(filters), settings=settings)


def incomplete_periods(ws: Workspace, grain: Grain, period: Period | None = None,
                       filters: Mapping[str, Sequence[str]] | None = None) -> pl.DataFrame:
    """`kpi.funnel.incomplete_periods` on the workspace, cached; stage labels in the reader's language
    (column `label`)."""
    frame = _incomplete(ws.key, grain, _period_key(period), _filters_key(filters or {}))
    return frame.with_columns(pl.col("stage").replace_strict(_stage_labels(ws), default=pl.col("stage"))
                              .alias("label"))


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
        if dimension in frame.columns and is_text(frame.schema[dimension]):
            found.update(v for v in frame[dimension].cast(pl.String).unique().to_list() if v is not None)
    return sorted(found)


def dimension_values(ws: Workspace, dimension: str) -> list[str]:
    """Every value a dimension takes anywhere in the workspace, sorted."""
    return _values(ws.key, dimension)


def dimensions(ws: Workspace) -> list[str]:
    return kpi_metrics.available_dimensions(ws.tables)


def catalog(ws: Workspace) -> dict[str, kpi_metrics.Metric]:
    return kpi_metrics.catalog(ws.settings)


def cost_dimensions_missing(ws: Workspace, metrics: Sequence[str], dims: Sequence[str]) -> list[str]:
    """The dimensions among `dims` that spend is not recorded by, when any of `metrics` needs spend."""
    cat = catalog(ws)
    missing = [d for m in metrics for d in kpi_metrics.cost_dimensions_missing(ws.tables, cat[m], dims)]
    return list(dict.fromkeys(missing))


def compare(ws: Workspace, metrics: Sequence[str], period: Period, compare_period: Period | None,
            by: Sequence[str] = (), filters: Mapping[str, Sequence[str]] | None = None,
            view: kpi_metrics.View = "cohort", allocate_cost: bool = False) -> pl.DataFrame:
    """`metrics` in `period` with deltas against `compare_period` (see `kpi.metrics.with_deltas`)."""
    current_values = compute(ws, metrics, by=by, period=period, filters=filters, view=view,
                             allocate_cost=allocate_cost)
    if compare_period is None:
        return current_values
    previous = compute(ws, metrics, by=by, period=compare_period, filters=filters, view=view,
                       allocate_cost=allocate_cost)
    return kpi_metrics.with_deltas(current_values, previous, metrics, by)


def workspace_name(store_id: str, name: str, lang: str) -> str:
    """A stored workspace's name as the reader sees it (the demo's in their language)."""
    return t("sidebar.demo_workspace", lang) if store_id == DEMO else name


def select_workspace(lang: str) -> Workspace:
    """The workspace picker in the sidebar: the store's workspaces, and this session's unsaved uploads."""
    options = {w.id: workspace_name(w.id, w.name, lang) for w in store().workspaces()}
    uploads = session_workspace()
    if uploads is not None:
        options[SESSION] = t("sidebar.session_workspace", lang)
    if uploads is not None and st.session_state.get("_shown_uploads") != uploads.key:
        st.session_state["_shown_uploads"] = uploads.key  # just confirmed an upload: show it
        st.session_state[WORKSPACE_KEY] = SESSION
    if WORKSPACE_KEY not in st.session_state and st.query_params.get(WORKSPACE_KEY) in options:
        st.session_state[WORKSPACE_KEY] = st.query_params[WORKSPACE_KEY]
    default = DEMO if DEMO in options else next(iter(options))
    choice = translated_select(st.sidebar, t("sidebar.workspace", lang), list(options), WORKSPACE_KEY, default, lang,
                               options.__getitem__)
    if choice == DEMO:
        st.query_params.pop(WORKSPACE_KEY, None)
    else:
        st.query_params[WORKSPACE_KEY] = choice
    ws = uploads if choice == SESSION and uploads is not None else stored_workspace(choice)
    st.session_state[CURRENT] = ws
    return ws


def current() -> Workspace:
    """The workspace chosen on this run (pages call this)."""
    return st.session_state[CURRENT]  # type: ignore[no-any-return]


def save_uploads(uploads: Mapping[str, pl.DataFrame], store_id: str | None, name: str, mode: Mode,
                 created_by: str | None) -> StoreWorkspace:
    """Save this session's confirmed uploads into a store workspace (a new one, with the settings the
    uploads were shown with, when `store_id` is None).

    Every table is checked before the first one is written, so a refusal saves nothing; each saved
    table becomes a new version and older versions stay for the links that show them. The column
    mappings remembered with the uploads are saved into the workspace too.
    """
    db = store()
    target = db.workspace(store_id) if store_id else None
    settings = session_settings(uploads)
    tables = {n: f for n, f in uploads.items() if n in TABLES}
    existing = db.datasets(store_id) if store_id else {}
    for table, frame in tables.items():
        errors = db.problems(store_id, table, frame, mode) if store_id else refusals(table, frame, settings)
        if errors:
            raise InvalidDataset(f"{table}: " + "; ".join(str(p) for p in errors[:5]), errors)
    if target is None:
        target = create_workspace(name, created_by, settings)
    for table, frame in tables.items():
        write = db.append if mode == "append" and table in existing else db.save
        write(target.id, table, frame, source="uploaded in the app", created_by=created_by)
    WorkspaceMappings(db, target.id).save_records(st.session_state.get(SESSION_MAPPINGS) or {})
    return target


def version_table(store_id: str) -> pl.DataFrame:
    """Every dataset version of a workspace, newest first per table."""
    db = store()
    rows = [{"dataset": v.dataset, "version": v.label, "rows": v.rows, "source": v.source,
             "saved_at": v.created_at, "created_by": v.created_by or ""}
            for dataset in db.datasets(store_id) for v in db.versions(store_id, dataset)]
    return pl.DataFrame(rows, schema={"dataset": pl.String, "version": pl.String, "rows": pl.Int64, "source": pl.String,
                                      "saved_at": pl.Datetime("us", "UTC"), "created_by": pl.String})


def range_tables(ws: Workspace) -> tuple[str, ...]:
    """The tables (spend, traffic) holding rows that cover a date range (a monthly Google Ads report, a GA4
    report without a Date column) instead of a day: charts over time spread those rows over their days."""
    return tuple(name for name in RANGED_TABLES if name in ws.tables and kpi_metrics.has_range_rows(ws.tables[name]))


@st.cache_data(show_spinner=False, max_entries=64, scope="session")
def _currencies(key: str) -> tuple[tuple[str, ...], dict[str, tuple[str, ...]]]:
    tables, settings = _loaded[key]
    return kpi_money.currencies(tables), kpi_money.table_gaps(tables, settings)


def currencies(ws: Workspace) -> tuple[str, ...]:
    """Every currency the workspace's money (spend, deal amounts, revenue) is stated in."""
    return _currencies(ws.key)[0]


def currency_gaps(ws: Workspace, tables: Sequence[str] | None = None) -> tuple[str, ...]:
    """The currencies of the workspace's money (in `tables`, default all) that have no rate to its reporting
    currency: money numbers that include those rows are not available."""
    gaps = _currencies(ws.key)[1]
    return tuple(sorted({c for name, codes in gaps.items() if tables is None or name in tables for c in codes}))


def save_money(ws: Workspace, currency: str, rates: Mapping[str, float]) -> None:
    """Make `currency` the workspace's reporting currency, converting others with `rates`; a stored
    workspace keeps them in its settings, this session's uploads until it ends. ValueError (nothing
    changed) when a rate is not a positive number."""
    settings = replace(ws.settings, currency=currency, rates=dict(rates))
    if ws.store_id is None:
        st.session_state[SESSION_MONEY] = (settings.currency, tuple(sorted(settings.rates.items())))
    else:
        store().save_settings(ws.store_id, settings)


def create_workspace(name: str, created_by: str | None, settings: Settings | None = None) -> StoreWorkspace:
    """A new workspace (default settings unless given); whoever creates it while signed in becomes its
    first editor."""
    created = store().create_workspace(name, settings=settings)
    if created_by:
        store().set_editors(created.id, [created_by])
    return created


@st.cache_data(show_spinner=False, max_entries=64, scope="session")
def _attribution(key: str, credit: str, by: str, period: tuple[date, date] | None, filters: FilterKey
                 ) -> pl.DataFrame:
    tables, settings = _loaded[key]
    return kpi_attribution.compare_models(tables, credit, by, Period(*period) if period else None,  # type: ignore[arg-type]
                                          settings, dict(filters))


def attribution(ws: Workspace, credit: str, by: str, period: Period | None = None,
                filters: Mapping[str, Sequence[str]] | None = None) -> pl.DataFrame:
    """`kpi.attribution.compare_models` on the workspace (every model, a `model` column first), cached."""
    return _attribution(ws.key, credit, by, _period_key(period), _filters_key(filters or {}))


@st.cache_data(show_spinner=False, max_entries=64, scope="session")
def _stage_credits(key: str, model: str, by: str, period: tuple[date, date] | None, filters: FilterKey
                   ) -> pl.DataFrame:
    tables, settings = _loaded[key]
    return kpi_attribution.stage_credits(tables, model, by, Period(*period) if period else None,  # type: ignore[arg-type]
                                         settings, dict(filters))


def stage_credits(ws: Workspace, model: str, by: str, period: Period | None = None,
                  filters: Mapping[str, Sequence[str]] | None = None) -> pl.DataFrame:
    """`kpi.attribution.stage_credits` on the workspace (each funnel stage credited under `model`), cached."""
    return _stage_credits(ws.key, model, by, _period_key(period), _filters_key(filters or {}))


def has_derived_touches(ws: Workspace) -> bool:
    """Whether some touches were derived from source fields (HubSpot's original and latest source, GA4's
    first-user and session campaign), not recorded one by one: a few a contact, not the whole journey."""
    touches = ws.tables.get("touches")
    return (touches is not None and "touch_type" in touches.columns
            and bool(touches["touch_type"].cast(pl.String).is_in(DERIVED_TOUCH_TYPES).any()))
