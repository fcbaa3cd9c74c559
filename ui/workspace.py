"""Which data the app shows, and every engine call behind a cache keyed on that data's identity.

A workspace lives in the store (the demo is seeded there on first start) or, for uploads not yet
saved, in the browser session. Caches are keyed on the workspace key, which names the exact
dataset versions (or the session's upload generation), never on hashing frames: Streamlit samples
large frames when hashing and would miss changes.
"""

from __future__ import annotations

import itertools
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import polars as pl
import streamlit as st

from kpi import clock, engine
from kpi import funnel as kpi_funnel
from kpi import metrics as kpi_metrics
from kpi import uploads as kpi_uploads
from kpi.attribution import Model
from kpi.data import Tables
from kpi.query import Query, normalise_filters
from kpi.settings import Settings
from kpi.sources.demo import DEMO_SETTINGS, generate
from kpi.sources.mapping import MappingStore, WorkspaceMappings
from kpi.store import Mode, Store, WorkspaceExists, default_data_dir
from kpi.store import Workspace as StoreWorkspace
from kpi.workspace import Workspace as EngineWorkspace
from kpi.workspace import identity_of, stated_currency
from ui.i18n import current_language, stage_label, t
from ui.widgets import translated_select

if TYPE_CHECKING:  # the event rules (and numba) load with the Event funnels page, not on every first paint
    from kpi.events import FunnelSpec

SESSION_TABLES = "session_tables"  # st.session_state key: table name -> polars frame, confirmed uploads
SESSION_MONEY = "session_money"  # st.session_state key: (reporting currency, rates) chosen for the uploads
SESSION_MAPPINGS = "session_mappings"  # st.session_state key: column mappings remembered with those uploads
WORKSPACE_KEY = "ws"
CURRENT = "_workspace"
DEMO = "demo"  # the store id of the demo workspace
SESSION = "session"  # the picker's id for this session's unsaved uploads
_SESSION_PREPARED = "_session_prepared"  # st.session_state key: (the uploads' content, their prepared workspace)
_session_counter = itertools.count()
T = TypeVar("T")

# A stored workspace's prepared tables are shared by every session showing it, a few at a time (least recently
# used go first): each holds its tables in memory, about 100 MiB for a million leads with their spend and
# traffic (bench_app prints it). Answers are cached per session, and go with it.
STORED_KEPT = 4


@dataclass(frozen=True)
class Workspace:
    """The data on screen: the engine's workspace (`data`: prepared tables, settings, identity) with the name
    the reader knows it by; `store_id` is the store's workspace id (None for unsaved uploads) and
    `versions` the dataset versions shown."""

    data: EngineWorkspace
    name: str
    store_id: str | None = None
    versions: dict[str, str] = field(default_factory=dict)

    @property
    def key(self) -> str:
        """Names the exact content on screen: what every cache keys on."""
        return self.data.identity

    @property
    def tables(self) -> Tables:
        return self.data.tables

    @property
    def settings(self) -> Settings:
        return self.data.settings

    @property
    def last_day(self) -> date | None:
        return self.data.last_day

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


@st.cache_resource(show_spinner=False, max_entries=STORED_KEPT)
def _stored(identity: str, store_id: str, _versions: Mapping[str, str], _settings: Settings,
            _slice: Mapping[str, Sequence[str]] | None) -> EngineWorkspace:
    return EngineWorkspace.opened(store().prepared_tables(store_id, _versions, _settings), _settings, identity, _slice)


def stored_workspace(store_id: str, versions: Mapping[str, str] | None = None,
                     settings: Settings | None = None, slice: Mapping[str, Sequence[str]] | None = None) -> Workspace:
    """A store workspace at the given dataset versions (default: the latest) and settings (default: its own);
    with a `slice` (a slice-only link's), only that slice's rows: every engine call on it is bound to the
    slice (`kpi.metrics.restrict`), whatever filters the page adds."""
    db = store()
    versions = dict(versions) if versions is not None else db.latest_versions(store_id)
    settings = settings or db.settings(store_id)
    bound = normalise_filters(slice)
    identity = f"{store_id}@{identity_of(store_id, sorted(versions.items()), settings.to_dict(), bound)}"
    loaded = _stored(identity, store_id, versions, settings, dict(bound) if bound else None)
    return Workspace(loaded, db.workspace(store_id).name, store_id, versions)


def session_settings(tables: Mapping[str, pl.DataFrame]) -> Settings:
    """The settings uploads are shown with, and a new workspace saved from them gets: the default ones
    in the reporting currency and rates chosen for them, else in the currency the uploads state."""
    chosen = st.session_state.get(SESSION_MONEY)
    if chosen is not None:
        return Settings(currency=chosen[0], rates=dict(chosen[1]))
    return Settings(currency=stated_currency(tables) or Settings().currency)


def session_tables() -> dict[str, pl.DataFrame]:
    """This browser session's confirmed uploads, table name -> frame (empty before the first)."""
    return st.session_state.get(SESSION_TABLES) or {}


def session_workspace() -> Workspace | None:
    """This browser session's confirmed uploads, if any, as a workspace of their own (never shared); its
    prepared tables live in the session and go with it."""
    raw = session_tables()
    if not raw:
        return None
    content = (tuple(sorted((name, id(frame), frame.height) for name, frame in raw.items())),
               st.session_state.get(SESSION_MONEY))
    known = st.session_state.get(_SESSION_PREPARED)
    if known is None or known[0] != content:
        identity = f"session:{next(_session_counter)}"
        known = (content, EngineWorkspace.prepared(raw, session_settings(raw), identity))
        st.session_state[_SESSION_PREPARED] = known
    return Workspace(known[1], t("sidebar.session_workspace"))


@st.cache_resource(show_spinner=False)
def warm_event_kernels() -> subprocess.Popen[bytes]:
    """Once a server, after its first page has drawn: compile the event-funnel kernels into numba's cache in a
    process of its own (`python -m kpi.events`), so the first event funnel a reader opens on a new install does
    not wait half a minute for the compiler; with the cache filled it takes about a second."""
    return subprocess.Popen([sys.executable, "-m", "kpi.events"], cwd=Path(__file__).resolve().parent.parent,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def mappings() -> MappingStore:
    """The column mappings an upload is looked up in: those remembered in this session (saved into a
    workspace with the uploads), then those saved in the store workspace on screen."""
    ws = st.session_state.get(CURRENT)
    saved = WorkspaceMappings(store(), ws.store_id) if ws is not None and ws.store_id else None
    return MappingStore(st.session_state.setdefault(SESSION_MAPPINGS, {}), saved)


# Answers are session-scoped: uploads stay private to their session, and a session's answers are
# dropped when it disconnects. The key is the workspace's identity and the query, never the frames.
@st.cache_data(show_spinner=False, max_entries=1024, scope="session")
def _answer(identity: str, entry: str, args: tuple[object, ...], _ws: EngineWorkspace,
            _entry: Callable[..., object]) -> object:
    return _entry(_ws, *args)


def ask(ws: Workspace, entry: Callable[..., T], *args: object) -> T:
    """`entry(ws.data, *args)`, a `kpi.engine` entry point (its query first, where it takes one), cached by
    the workspace's identity, the entry and `args`."""
    return _answer(ws.key, f"{entry.__module__}.{entry.__qualname__}", args, ws.data, entry)  # type: ignore[return-value]


def compute(ws: Workspace, query: Query, metrics: Sequence[str]) -> pl.DataFrame:
    """`kpi.engine.metrics`: the metrics for the query, with deltas when it compares."""
    return ask(ws, engine.metrics, query, tuple(metrics))


def _stage_labels(settings: Settings, lang: str | None = None) -> dict[str, str]:
    lang = lang or current_language()
    labels = {s.id: stage_label(s.id, s.label, lang) for s in settings.stages}
    return labels | {kpi_funnel.SESSIONS_STAGE: t("stage.sessions", lang)}


def with_stage_labels(funnel: pl.DataFrame, settings: Settings, lang: str | None = None) -> pl.DataFrame:
    """A `kpi.engine.funnel` answer with its stages' labels in `lang` (default: the reader's)."""
    return funnel.with_columns(
        pl.col("stage").replace_strict(_stage_labels(settings, lang), default=pl.col("label")).alias("label"))


def funnel(ws: Workspace, query: Query) -> pl.DataFrame:
    """`kpi.engine.funnel` (the comparison period's columns beside it when the query compares); stage
    labels in the reader's language."""
    return with_stage_labels(ask(ws, engine.funnel, query), ws.settings)


def conversion_trend(ws: Workspace, query: Query) -> pl.DataFrame:
    """`kpi.engine.conversion_trend`; step labels in the reader's language."""
    names = _stage_labels(ws.settings)
    steps = {f"{a.id}_to_{b.id}": f"{names[a.id]} → {names[b.id]}"
             for a, b in itertools.pairwise(ws.settings.stages)}
    return ask(ws, engine.conversion_trend, query).with_columns(
        pl.col("step").replace_strict(steps, default=pl.col("label")).alias("label"))


def incomplete_periods(ws: Workspace, query: Query) -> pl.DataFrame:
    """`kpi.engine.incomplete_periods`; stage labels in the reader's language (column `label`)."""
    return ask(ws, engine.incomplete_periods, query).with_columns(
        pl.col("stage").replace_strict(_stage_labels(ws.settings), default=pl.col("stage")).alias("label"))


def leaked_leads(ws: Workspace, query: Query) -> pl.DataFrame:
    """`kpi.engine.leaked_leads`."""
    return ask(ws, engine.leaked_leads, query)


def attribution(ws: Workspace, query: Query, credit: str) -> pl.DataFrame:
    """`kpi.engine.attribution`: every model's credit by `query.by[0]`, a `model` column first."""
    return ask(ws, engine.attribution, query, credit)


def stage_credits(ws: Workspace, query: Query, model: Model) -> pl.DataFrame:
    """`kpi.engine.stage_credits`: each funnel stage credited under `model`."""
    return ask(ws, engine.stage_credits, query, model)


def cost_dimensions_missing(ws: Workspace, query: Query, metrics: Sequence[str]) -> list[str]:
    """`kpi.engine.cost_dimensions_missing`: the query's dimensions spend is not recorded by, when any of
    `metrics` needs spend."""
    return engine.cost_dimensions_missing(ws.data, query, metrics)


def event_funnel(ws: Workspace, query: Query, spec: FunnelSpec, by: str | None, attribution: str) -> dict[str, Any]:
    """`kpi.engine.event_funnel`: persons per step (and per value of `by`), the comparison period's steps under
    "previous" when the query compares."""
    return ask(ws, engine.event_funnel, query, spec, by, attribution)


def event_trend(ws: Workspace, query: Query, spec: FunnelSpec) -> pl.DataFrame:
    """`kpi.engine.event_trend`: persons entered and converted per period of their first step."""
    return ask(ws, engine.event_trend, query, spec)


def event_persons(ws: Workspace, query: Query, spec: FunnelSpec) -> pl.DataFrame:
    """`kpi.engine.event_persons`: each person's furthest step and the step they dropped before."""
    return ask(ws, engine.event_persons, query, spec)


def event_leads(ws: Workspace, query: Query, spec: FunnelSpec) -> pl.DataFrame:
    """`kpi.engine.event_leads`: the lead funnel of the persons who reached the last step; stage labels in the
    reader's language."""
    return with_stage_labels(ask(ws, engine.event_leads, query, spec), ws.settings)


def event_names(ws: Workspace) -> list[str]:
    """The workspace's event names, sorted."""
    return ws.data.values("event")


def event_properties(ws: Workspace) -> list[str]:
    """The events' property columns."""
    from kpi.journeys import properties

    return properties(ws.tables)


def funnel_dimensions(ws: Workspace) -> list[str]:
    return kpi_funnel.funnel_dimensions(ws.tables)


def dimension_values(ws: Workspace, dimension: str) -> list[str]:
    """Every value a dimension takes anywhere in the workspace, sorted."""
    return ws.data.values(dimension)


def dimensions(ws: Workspace) -> list[str]:
    return kpi_metrics.available_dimensions(ws.tables)


def catalog(ws: Workspace) -> dict[str, kpi_metrics.Metric]:
    return kpi_metrics.catalog(ws.settings)


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
    """`kpi.uploads.save_uploads` of this session's confirmed uploads (into a new workspace, with the settings
    the uploads were shown with, when `store_id` is None), with the column mappings remembered with them."""
    db = store()
    target = kpi_uploads.save_uploads(db, uploads, into=store_id, name=name, mode=mode,
                                      settings=session_settings(uploads), created_by=created_by)
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


def currencies(ws: Workspace) -> tuple[str, ...]:
    """Every currency the workspace's money (spend, deal amounts, revenue) is stated in."""
    return ws.data.currencies


def currency_gaps(ws: Workspace, tables: Sequence[str] | None = None) -> tuple[str, ...]:
    """The currencies of the workspace's money (in `tables`, default all) that have no rate to its reporting
    currency: money numbers that include those rows are not available."""
    gaps = ws.data.currency_gaps
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
    """`kpi.uploads.create_workspace` in the app's store."""
    return kpi_uploads.create_workspace(store(), name, created_by, settings)
