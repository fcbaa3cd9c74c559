"""GA4 in the app: a Streamlit connection and the Data-page panel that pulls a property into the session.

Configure it the Streamlit way in `.streamlit/secrets.toml` (see docs/ga4.md):

    [connections.ga4]
    type = "service_account"          # the fields of the service-account JSON key ...
    client_email = "..."
    private_key = "..."
    token_uri = "https://oauth2.googleapis.com/token"
    # or:  adc = true                 (Application Default Credentials)
    # or:  key_file = "/path/key.json"
    # optional: api_endpoint = "http://127.0.0.1:8080"  (proxy / local server; GA4_API_ENDPOINT also works)

and use it with `st.connection("ga4", type=GA4Connection)`. Without that section the panel offers to upload a
key file; the upload lives only in this browser session (st.session_state), never on disk or in a shared cache.

Results are cached by request (property, dates, dimensions, page size) plus a one-way fingerprint of which
credentials asked, with a TTL, so two people with different access never share rows.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import streamlit as st
from google.auth import credentials as ga_credentials
from streamlit.connections import BaseConnection

from kpi import clock
from kpi.period import Period
from kpi.sources import ga4_oauth
from kpi.sources.ga4 import (
    ENDPOINT_ENV,
    OPTIONAL_DIMENSIONS,
    Clients,
    FunnelStepSpec,
    PropertyChoice,
    PullRequest,
    PullResult,
    ReportInfo,
    default_credentials,
    list_properties,
    make_clients,
    pull,
    run_funnel,
    service_account_credentials,
)
from kpi.sources.ga4_errors import Ga4Error
from kpi.store import default_data_dir
from ui.charts import ga4_funnel_chart
from ui.components import show_chart
from ui.format import number
from ui.i18n import current_language, dim_label, t
from ui.safe import md
from ui.share import read_only
from ui.tables import data_table
from ui.upload import field_label, table_label
from ui.workspace import SESSION_TABLES, session_tables

KEY_INFO = "ga4_key_info"  # st.session_state: the uploaded service-account key (dict), this session only
OAUTH_SECTION = "ga4_oauth"  # secrets: the OAuth client that offers "Sign in with Google"
OAUTH_TOKEN = "ga4_oauth_refresh_token"  # st.session_state: the refresh token of this session's Google sign-in
OAUTH_SIGN_IN = "ga4_oauth_sign_in"  # st.session_state: the consent-page address made for this session
OAUTH_RETURN = ("code", "state", "scope", "error", "authuser", "prompt", "hd", "iss")  # what Google adds to the URL
LAST_RESULT = "ga4_last_result"  # st.session_state: the last PullResult that arrived in full
LAST_ERROR = "ga4_last_error"  # st.session_state: the message of the last failed pull
CHOSEN_PROPERTY = "ga4_chosen_property"  # st.session_state: id of the property last picked (Data page or Funnel)
FUNNEL_RESULT = "ga4_funnel_result"  # st.session_state: the last FunnelResult that arrived
FUNNEL_ERROR = "ga4_funnel_error"  # st.session_state: (FunnelRequest, message) of the last failed funnel
PULL_TTL = timedelta(hours=1)
PROPERTIES_TTL = timedelta(minutes=10)
_KEY_FIELDS = ("type", "project_id", "private_key_id", "private_key", "client_email", "client_id", "auth_uri",
               "token_uri", "auth_provider_x509_cert_url", "client_x509_cert_url", "universe_domain")


@dataclass(frozen=True)
class FunnelRequest:
    """What identifies a GA4 funnel (and its cache entry): property, steps, dates, open or closed, breakdown."""

    property_id: str
    steps: tuple[FunnelStepSpec, ...]
    start: date
    end: date
    open_funnel: bool = False
    breakdown: str | None = None  # a GA4 dimension api name, e.g. deviceCategory


@dataclass(frozen=True)
class FunnelResult:
    request: FunnelRequest
    frame: pl.DataFrame  # kpi.sources.ga4.run_funnel's frame
    info: ReportInfo
    ran_at: datetime


class GA4Connection(BaseConnection[Clients]):
    """GA4 Data/Admin clients from `[connections.<name>]` secrets, a `key_info` dict (an uploaded key) or ADC.

    Connection kwargs override secrets: `key_info` (dict), `api_endpoint` (str), `adc` (bool).
    """

    def _connect(self, **kwargs: Any) -> Clients:
        section = self._secrets.to_dict()
        if not section and st.secrets.load_if_toml_exists():  # secrets given as plain dicts (AppTest) are skipped
            section = dict(st.secrets.get("connections", {}).get(self._connection_name) or {})  # by _secrets
        config = {**section, **kwargs}
        endpoint = config.get("api_endpoint") or os.environ.get(ENDPOINT_ENV) or None
        if config.get("key_info"):
            info = dict(config["key_info"])
        elif config.get("private_key"):
            info = {k: config[k] for k in _KEY_FIELDS if k in config}
        elif config.get("key_file"):
            try:
                info = json.loads(Path(config["key_file"]).read_text(encoding="utf-8"))
            except (OSError, ValueError):
                raise Ga4Error("unauthenticated", t("ga4.key_file_unreadable", section=self._connection_name)) from None
        else:
            info = {}
        credentials: ga_credentials.Credentials | None
        if config.get("oauth_refresh_token"):
            client = ga4_oauth.OAuthClient.from_settings(config)
            credentials = ga4_oauth.credentials(client, str(config["oauth_refresh_token"]))
            who = "oauth:" + hashlib.sha256(str(config["oauth_refresh_token"]).encode()).hexdigest()
        elif info:
            credentials = service_account_credentials(info)
            who = str(info.get("client_email", ""))
        elif endpoint and endpoint.startswith(("http://", "grpc://")) and config.get("anonymous"):
            credentials, who = None, "anonymous"
        else:
            credentials, who = default_credentials(), "adc"
        self.identity = hashlib.sha256(f"{who}|{endpoint}".encode()).hexdigest()[:16]
        return make_clients(credentials, endpoint)

    @property
    def clients(self) -> Clients:
        return self._instance

    def properties(self) -> list[PropertyChoice]:
        """The GA4 properties these credentials can read (cached for ten minutes)."""
        return _cached_properties(self.identity, _clients=self._instance)

    def pull(self, request: PullRequest) -> PullResult:
        """Traffic, key events and Ads cost for `request` (cached by request for an hour)."""
        with st.spinner(t("ga4.pulling")):
            return _cached_pull(self.identity, request, _clients=self._instance)

    def funnel(self, prop: str, steps: tuple[FunnelStepSpec, ...], start: date, end: date, *,
               open_funnel: bool = False, breakdown: str | None = None) -> pl.DataFrame:
        """A GA4 funnel (see kpi.sources.ga4.run_funnel), cached by request for an hour."""
        return self.funnel_report(FunnelRequest(prop, steps, start, end, open_funnel, breakdown))[0]

    def funnel_report(self, request: FunnelRequest) -> tuple[pl.DataFrame, ReportInfo]:
        """A GA4 funnel and what GA4 said about it (sampling), cached by request for an hour."""
        with st.spinner(t("ga4.running_funnel")):
            return _cached_funnel(self.identity, request, _clients=self._instance)

    def forget(self, request: PullRequest) -> None:
        """Drop the cached result of `request` so the next pull asks GA4 again."""
        _cached_pull.clear(self.identity, request)

    def forget_funnel(self, request: FunnelRequest) -> None:
        """Drop the cached funnel of `request` so the next run asks GA4 again."""
        _cached_funnel.clear(self.identity, request)


@st.cache_data(ttl=PROPERTIES_TTL, show_spinner=False)
def _cached_properties(identity: str, *, _clients: Clients) -> list[PropertyChoice]:
    return list_properties(_clients)


@st.cache_data(ttl=PULL_TTL, show_spinner=False)  # the connection shows a spinner in the reader's language
def _cached_pull(identity: str, request: PullRequest, *, _clients: Clients) -> PullResult:
    return pull(_clients, request)


@st.cache_data(ttl=PULL_TTL, show_spinner=False)
def _cached_funnel(identity: str, request: FunnelRequest, *, _clients: Clients) -> tuple[pl.DataFrame, ReportInfo]:
    return run_funnel(_clients, request.property_id, request.steps, request.start, request.end,
                      open_funnel=request.open_funnel, breakdown=request.breakdown)


def _connection(name: str) -> GA4Connection | None:
    """The configured connection, or one made from this user's Google sign-in or a key uploaded in this
    session, or None."""
    if st.secrets.load_if_toml_exists() and name in st.secrets.get("connections", {}):
        return st.connection(name, type=GA4Connection)
    refresh_token = _oauth_refresh_token()
    if refresh_token:
        signed_in = st.session_state.get("_ga4_oauth_conn")
        fingerprint = hashlib.sha256(refresh_token.encode()).hexdigest()
        if signed_in is None or signed_in[0] != fingerprint:
            signed_in = (fingerprint, GA4Connection(f"{name}_oauth", **_oauth_settings(),
                                                    oauth_refresh_token=refresh_token))
            st.session_state["_ga4_oauth_conn"] = signed_in
        oauth_conn: GA4Connection = signed_in[1]
        return oauth_conn
    info = st.session_state.get(KEY_INFO)
    if not info:
        return None
    cached = st.session_state.get("_ga4_upload_conn")
    fingerprint = hashlib.sha256(json.dumps(info, sort_keys=True).encode()).hexdigest()
    if cached is None or cached[0] != fingerprint:
        cached = (fingerprint, GA4Connection(f"{name}_upload", key_info=info))
        st.session_state["_ga4_upload_conn"] = cached
    conn: GA4Connection = cached[1]
    return conn


# -- Sign in with Google (kpi.sources.ga4_oauth) ------------------------------------------------------------


def _oauth_settings() -> dict[str, Any]:
    """The `[ga4_oauth]` secrets section (client id, secret, redirect URI), or {} when the server offers no sign-in."""
    if not st.secrets.load_if_toml_exists():
        return {}
    return dict(st.secrets.get(OAUTH_SECTION) or {})


def _tokens() -> ga4_oauth.TokenStore:
    return ga4_oauth.TokenStore(default_data_dir())


def _signed_in_user() -> str | None:
    """The app user's e-mail when sign-in (`[auth]`) is on and they are signed in; their Google token is kept
    for them in the store. Without sign-in it stays in this browser session only."""
    try:
        return str(st.user.email) if st.user.is_logged_in and st.user.get("email") else None
    except (AttributeError, KeyError, st.errors.StreamlitAPIException):
        return None


def _oauth_refresh_token() -> str | None:
    token = st.session_state.get(OAUTH_TOKEN)
    if token:
        return str(token)
    user = _signed_in_user()
    return _tokens().refresh_token(user) if user and _oauth_settings() else None


def _finish_sign_in(lang: str) -> None:
    """Google's return to this page: take the code and state off the address at once, check the state was made
    here in the last ten minutes and unused, and trade the code for a refresh token."""
    params = {k: st.query_params[k] for k in OAUTH_RETURN if k in st.query_params}
    if "state" not in params or not ("code" in params or "error" in params):
        return
    for key in params:
        del st.query_params[key]
    verifier = _tokens().take_sign_in(params["state"])
    if "error" in params:
        st.warning(t("ga4.oauth.declined", lang))
        return
    if verifier is None:
        st.error(t("ga4.oauth.expired", lang))
        return
    try:
        client = ga4_oauth.OAuthClient.from_settings(_oauth_settings())
        credentials = ga4_oauth.finish(client, params["code"], verifier)
    except Ga4Error as exc:
        st.error(md(exc.message))
        return
    st.session_state[OAUTH_TOKEN] = credentials.refresh_token
    st.session_state.pop(OAUTH_SIGN_IN, None)
    if user := _signed_in_user():
        _tokens().save_refresh_token(user, str(credentials.refresh_token))
    st.success(t("ga4.oauth.signed_in", lang))


def _sign_in_button(lang: str) -> None:
    """"Sign in with Google" when the server has an OAuth client; the consent page's address is made once per
    session and remembered on the server for the return."""
    settings = _oauth_settings()
    if not settings:
        st.caption(t("ga4.oauth.not_offered", lang))
        return
    try:
        client = ga4_oauth.OAuthClient.from_settings(settings)
    except Ga4Error as exc:
        st.error(md(exc.message))
        return
    sign_in: ga4_oauth.SignIn | None = st.session_state.get(OAUTH_SIGN_IN)
    if sign_in is None:
        sign_in = ga4_oauth.start(client)
        _tokens().remember_sign_in(sign_in)
        st.session_state[OAUTH_SIGN_IN] = sign_in
    st.link_button(t("ga4.oauth.sign_in", lang), sign_in.url, type="primary", icon=":material/login:")


def _sign_out_button(lang: str) -> None:
    if not _oauth_refresh_token() or not st.button(t("ga4.oauth.sign_out", lang), key="ga4_oauth_sign_out"):
        return
    st.session_state.pop(OAUTH_TOKEN, None)
    st.session_state.pop("_ga4_oauth_conn", None)
    if user := _signed_in_user():
        _tokens().forget(user)
    st.rerun()


def _connect_guide(lang: str) -> None:
    """What to do, step by step, for either way of connecting, in the app itself."""
    with st.expander(t("ga4.guide.title", lang), expanded=True):
        st.markdown(t("ga4.guide.oauth", lang))
        st.markdown(t("ga4.guide.service_account", lang))


def _upload_key(lang: str) -> None:
    _connect_guide(lang)
    _sign_in_button(lang)
    uploaded = st.file_uploader(t("ga4.key_upload", lang), type=["json"], key="ga4_key_upload",
                                help=t("ga4.key_upload_help", lang))
    st.caption(t("ga4.not_configured", lang))
    if uploaded is None:
        return
    try:
        info = json.loads(uploaded.getvalue().decode("utf-8"))
        service_account_credentials(info)
    except (ValueError, UnicodeDecodeError):
        st.error(t("ga4.not_a_key", lang, file=md(uploaded.name)))
        return
    except Ga4Error as exc:
        st.error(md(f"{uploaded.name}: {exc.message}"))
        return
    st.session_state[KEY_INFO] = info


def _pick_property(choices: list[PropertyChoice], lang: str, key: str) -> PropertyChoice:
    """A property picker that starts on the property last picked on any page, and remembers the pick."""
    chosen = st.session_state.get(CHOSEN_PROPERTY)
    index = next((i for i, c in enumerate(choices) if c.property_id == chosen), 0)
    prop: PropertyChoice = st.selectbox(t("ga4.property", lang), choices, index=index, format_func=lambda p: p.label,
                                        key=key)
    st.session_state[CHOSEN_PROPERTY] = prop.property_id
    return prop


def _store(result: PullResult) -> None:
    tables = dict(session_tables())
    for name in ("traffic", "spend", "key_events"):
        tables.pop(name, None)
    tables.update(result.tables)
    st.session_state[SESSION_TABLES] = tables
    st.session_state[LAST_RESULT] = result
    st.session_state.pop(LAST_ERROR, None)


def render_ga4_panel(connection_name: str = "ga4", *, today: date | None = None) -> None:
    """Property picker, date range, pull and refresh, and what GA4 says about the numbers pulled.

    GA4's own notices and error messages (kpi.sources.ga4) stay in English; everything around them is in the
    current language.
    """
    lang = current_language()
    st.caption(t("ga4.intro", lang))
    _finish_sign_in(lang)
    try:
        conn = _connection(connection_name)
    except Ga4Error as exc:
        st.error(md(exc.message))
        return
    if conn is None:
        _upload_key(lang)
        conn = _connection(connection_name)
        if conn is None:
            return
    try:
        choices = conn.properties()
    except Ga4Error as exc:
        st.error(md(exc.message))
        return
    _sign_out_button(lang)
    if not choices:
        st.warning(t("ga4.no_properties", lang))
        return
    prop = _pick_property(choices, lang, "ga4_property")
    today = today or clock.today()
    span = st.date_input(t("ga4.dates", lang), (today - timedelta(days=28), today - timedelta(days=1)),
                         max_value=today, key="ga4_dates")
    extra = st.multiselect(t("ga4.extra_dimensions", lang), list(OPTIONAL_DIMENSIONS), key="ga4_dimensions",
                           format_func=lambda d: field_label(d, lang), help=t("ga4.extra_dimensions_help", lang))
    left, right = st.columns(2)
    pull_clicked = left.button(t("ga4.pull", lang), type="primary", key="ga4_pull")
    refresh_clicked = right.button(t("ga4.refresh", lang), key="ga4_refresh", help=t("ga4.refresh_help", lang))
    if not isinstance(span, tuple) or len(span) != 2:
        st.info(t("ga4.pick_end", lang))
        return
    if pull_clicked or refresh_clicked:
        request = PullRequest(prop.property_id, span[0], span[1], tuple(extra))
        if refresh_clicked:
            conn.forget(request)
        try:
            _store(conn.pull(request))
        except Ga4Error as exc:
            st.session_state[LAST_ERROR] = exc.message
    _show_status(lang)


def _summary(result: PullResult, lang: str) -> str:
    req = result.request
    tables = ", ".join(t("ga4.table_rows", lang, table=table_label(name, lang), rows=number(frame.height, lang))
                       for name, frame in result.tables.items())
    summary = t("ga4.summary", lang, property=req.property_id, start=f"{req.start:%Y-%m-%d}",
                end=f"{req.end:%Y-%m-%d}", tables=tables)
    if result.currency:
        summary += " · " + t("ga4.currency", lang, currency=result.currency)
    if result.time_zone:
        summary += " · " + t("ga4.time_zone", lang, time_zone=result.time_zone)
    return summary


def _show_status(lang: str) -> None:
    result: PullResult | None = st.session_state.get(LAST_RESULT)
    error: str | None = st.session_state.get(LAST_ERROR)
    if error:
        st.error(md(error))
    if result is None:
        return
    when = f"{result.pulled_at:%Y-%m-%d %H:%M}"
    if error:
        st.warning(t("ga4.stale", lang, when=when, summary=_summary(result, lang)))
    else:
        st.success(t("ga4.pulled", lang, when=when, summary=_summary(result, lang)))
    for notice in result.notices():
        st.info(md(notice))


# ---------------------------------------------------------------------------------------------------
# The GA4 funnel on the Funnel page
# ---------------------------------------------------------------------------------------------------

FUNNEL_BREAKDOWNS = {  # GA4 breakdown dimension -> the column (and dimension label) the table shows it under
    "deviceCategory": "device", "sessionDefaultChannelGroup": "channel", "country": "country"}
STEP_KINDS = ("event", "page_path")
STEPS_EDITOR = "ga4_funnel_steps"
FUNNEL_KINDS = {"ga4_users": "count", "ga4_completion_rate": "ratio", "ga4_abandonments": "count",
                "ga4_abandonment_rate": "ratio"}


def is_configured(connection_name: str = "ga4") -> bool:
    """True when GA4 credentials are set up: a `[connections.<name>]` secrets section or a key uploaded in this
    session. Asks no server."""
    if st.secrets.load_if_toml_exists() and connection_name in st.secrets.get("connections", {}):
        return True
    return bool(st.session_state.get(KEY_INFO) or _oauth_refresh_token())


def _default_steps(lang: str) -> pl.DataFrame:
    return pl.DataFrame({
        "name": [t("ga4.funnel.default.session", lang), t("ga4.funnel.default.pricing", lang),
                 t("ga4.funnel.default.lead", lang)],
        "kind": ["event", "page_path", "event"],
        "value": ["session_start", "/pricing", "generate_lead"],
    })


def _edit_steps(lang: str) -> pl.DataFrame:
    config = {
        "name": st.column_config.TextColumn(t("ga4.funnel.step_name", lang)),
        "kind": st.column_config.SelectboxColumn(t("ga4.funnel.step_kind", lang), options=STEP_KINDS, default="event",
                                                 required=True, format_func=lambda k: t(f"ga4.funnel.kind.{k}", lang)),
        "value": st.column_config.TextColumn(t("ga4.funnel.step_value", lang), help=t("ga4.funnel.step_value_help",
                                                                                       lang), required=True),
    }
    st.markdown(f"**{t('ga4.funnel.steps', lang)}**")
    edited: pl.DataFrame = st.data_editor(_default_steps(lang), column_config=config, num_rows="dynamic",
                                          hide_index=True, key=STEPS_EDITOR)
    return edited


def funnel_steps(rows: pl.DataFrame, lang: str) -> tuple[tuple[FunnelStepSpec, ...], list[str]]:
    """The steps of the editor's rows (blank rows skipped; a step without a name is named by its event or path),
    and a message per row that cannot be a step."""
    steps: list[FunnelStepSpec] = []
    problems: list[str] = []
    for number_, row in enumerate(rows.iter_rows(named=True), start=1):
        name, kind, value = ((row.get(c) or "").strip() for c in ("name", "kind", "value"))
        if not (name or value):
            continue
        if not value or kind not in STEP_KINDS:
            problems.append(t("ga4.funnel.step_problem", lang, row=number_))
            continue
        steps.append(FunnelStepSpec(name or value, event=value if kind == "event" else None,
                                    page_path=value if kind == "page_path" else None))
    if not problems and len(steps) < 2:
        problems.append(t("ga4.funnel.too_few", lang))
    return tuple(steps), problems


def _run_funnel(conn: GA4Connection, request: FunnelRequest, refresh: bool) -> None:
    """Ask for `request` unless it is the one that just failed (then only Refresh asks again); keep the result
    or the error in the session."""
    failed: tuple[FunnelRequest, str] | None = st.session_state.get(FUNNEL_ERROR)
    if refresh:
        conn.forget_funnel(request)
    elif failed is not None and failed[0] == request:
        return
    try:
        frame, info = conn.funnel_report(request)
    except Ga4Error as exc:
        st.session_state[FUNNEL_ERROR] = (request, exc.message)
        return
    st.session_state[FUNNEL_RESULT] = FunnelResult(request, frame, info, datetime.now().astimezone())
    st.session_state.pop(FUNNEL_ERROR, None)


def _funnel_summary(request: FunnelRequest, lang: str) -> str:
    return t("ga4.funnel.summary", lang, property=request.property_id, start=f"{request.start:%Y-%m-%d}",
             end=f"{request.end:%Y-%m-%d}", steps=" → ".join(md(s.name) for s in request.steps),
             kind=t("ga4.funnel.kind_open" if request.open_funnel else "ga4.funnel.kind_closed", lang))


def _funnel_table(frame: pl.DataFrame, breakdown: str | None, lang: str) -> pl.DataFrame:
    """The funnel as shown and downloaded: step, breakdown value (total rows named), users and rates."""
    columns = [pl.format("{}. {}", "step", "step_name").alias("ga4_step")]
    if breakdown:
        columns.append(pl.col("breakdown").fill_null(t("ga4.funnel.total", lang)).alias(FUNNEL_BREAKDOWNS[breakdown]))
    columns += [pl.col("users").alias("ga4_users"), pl.col("completion_rate").alias("ga4_completion_rate"),
                pl.col("abandonments").alias("ga4_abandonments"),
                pl.col("abandonment_rate").alias("ga4_abandonment_rate")]
    return frame.select(columns)


def _breakdown_label(breakdown: str | None, lang: str) -> str:
    if breakdown is None:
        return t("ga4.funnel.no_breakdown", lang)
    if breakdown == "sessionDefaultChannelGroup":
        return t("ga4.funnel.channel_group", lang)
    return dim_label(FUNNEL_BREAKDOWNS[breakdown], lang)


def _show_funnel(lang: str, today: date) -> None:
    result: FunnelResult | None = st.session_state.get(FUNNEL_RESULT)
    failed: tuple[FunnelRequest, str] | None = st.session_state.get(FUNNEL_ERROR)
    if failed:
        st.error(md(failed[1]))
    if result is None:
        return
    request = result.request
    when, summary = f"{result.ran_at:%Y-%m-%d %H:%M}", _funnel_summary(request, lang)
    if failed:
        st.warning(t("ga4.funnel.stale", lang, when=when, summary=summary))
    else:
        st.caption(t("ga4.funnel.ran", lang, when=when, summary=summary))
    breakdown_title = _breakdown_label(request.breakdown, lang) if request.breakdown else None
    show_chart(st, ga4_funnel_chart(result.frame, lang, t("ga4.funnel.chart", lang), breakdown_title), lang,
                    width="stretch")
    data_table(_funnel_table(result.frame, request.breakdown, lang), lang, key="ga4_funnel_table",
               file_name="ga4-funnel", kinds=FUNNEL_KINDS)
    info = replace(result.info, partial_from=today) if request.end >= today else result.info
    for notice in info.notices():
        st.info(md(notice))


def render_ga4_funnel(period: Period, lang: str, connection_name: str = "ga4", *, today: date | None = None) -> None:
    """The "Website funnel (GA4)" section: a GA4 funnel over the sidebar `period` for the property picked here or
    on the Data page, with editable steps, open/closed, a breakdown, a chart, a table with downloads, GA4's notes
    and, when GA4 fails, its specific message over the last good funnel marked stale.

    Draws nothing and asks no server when GA4 is not configured (no secrets section, no key uploaded), nor in a
    shared read-only view: its reader sees the pinned data only, never live GA4 under the app's credentials."""
    if not is_configured(connection_name) or read_only():
        return
    today = today or clock.today()
    st.subheader(t("ga4.funnel.title", lang))
    try:
        conn = _connection(connection_name)
        choices = conn.properties() if conn is not None else []
    except Ga4Error as exc:
        st.error(md(exc.message))
        return
    if conn is None:
        return
    if not choices:
        st.warning(t("ga4.no_properties", lang))
        return
    prop = _pick_property(choices, lang, "ga4_funnel_property")
    if period.start > today:
        st.info(t("ga4.funnel.future", lang))
        return
    start, end = period.start, min(period.end, today)
    st.caption(t("ga4.funnel.intro", lang, property=prop.property_id, start=f"{start:%Y-%m-%d}",
                 end=f"{end:%Y-%m-%d}"))
    rows = _edit_steps(lang)
    left, middle, right = st.columns([2, 3, 1], vertical_alignment="bottom")
    open_funnel = left.toggle(t("ga4.funnel.open", lang), key="ga4_funnel_open", help=t("ga4.funnel.open_help", lang))
    breakdown: str | None = middle.selectbox(t("ga4.funnel.breakdown", lang), [None, *FUNNEL_BREAKDOWNS],
                                             key="ga4_funnel_breakdown",
                                             format_func=lambda b: _breakdown_label(b, lang))
    refresh = right.button(t("ga4.refresh", lang), key="ga4_funnel_refresh", help=t("ga4.funnel.refresh_help", lang))
    steps, problems = funnel_steps(rows, lang)
    for problem in problems:
        st.warning(md(problem))
    if problems:
        return
    _run_funnel(conn, FunnelRequest(prop.property_id, steps, start, end, open_funnel, breakdown), refresh)
    _show_funnel(lang, today)
