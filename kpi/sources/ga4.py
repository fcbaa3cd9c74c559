"""Google Analytics 4: pull traffic, key events, Google Ads cost and funnels into the canonical tables.

Everything here takes ready-made clients (`Clients`, built by `make_clients`), so it runs the same from
Streamlit, the command line (`python -m kpi ga4`) and tests against a local server.

What a pull does, per report:
1. checks every field against the property's metadata and `check_compatibility`, naming a wrong field;
2. splits the metrics into requests of at most 10 (GA4's limit; dimensions are capped at 9 and cannot be
   split without changing the grain), pages each with offset/limit until `row_count` rows arrived, and
   joins the parts on the dimensions;
3. types the columns from the metric headers (TYPE_INTEGER -> Int64, every other type -> Float64),
   parses `date` (YYYYMMDD) to pl.Date and turns "(not set)" into null, counting them per column;
4. renames to the canonical columns and maps GA4 channel groups onto the workspace's channel vocabulary.

What GA4 says about the numbers (sampling, thresholding, "(other)" rows, currency, time zone, quota, a range
that includes today) is kept in `ReportInfo` and phrased by `ReportInfo.notices`.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from functools import partial
from typing import Any, Literal

import polars as pl
from google.analytics.admin_v1beta import AnalyticsAdminServiceClient
from google.analytics.admin_v1beta import types as admin_types
from google.analytics.data_v1alpha import AlphaAnalyticsDataClient
from google.analytics.data_v1alpha import types as alpha
from google.analytics.data_v1beta import BetaAnalyticsDataClient
from google.analytics.data_v1beta import types as beta
from google.auth import credentials as ga_credentials

from kpi import clock
from kpi.schema import SPEND, TRAFFIC, validate
from kpi.settings import DEFAULT_CHANNELS, normalise_channel
from kpi.sources.ga4_errors import Ga4Error, RetryPolicy, call_with_retry, protect_logs

SCOPES = ("https://www.googleapis.com/auth/analytics.readonly",)
ENDPOINT_ENV = "GA4_API_ENDPOINT"
MAX_DIMENSIONS = 9
MAX_METRICS = 10
MAX_PAGE_SIZE = 250_000
NOT_SET = "(not set)"
OTHER_ROW = "(other)"

# ---------------------------------------------------------------------------------------------------
# Clients
# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Clients:
    """The three Google clients a pull needs: Data v1beta (reports), Data v1alpha (funnels), Admin (properties)."""

    data: BetaAnalyticsDataClient
    alpha: AlphaAnalyticsDataClient
    admin: AnalyticsAdminServiceClient


ClientFactory = Callable[[], Clients]


def make_clients(credentials: ga_credentials.Credentials | None = None, endpoint: str | None = None) -> Clients:
    """Clients for GA4's Google endpoints, or for `endpoint` (a proxy, or a local server in tests):

    - `http://host:port` or `https://host` uses the REST transport against that address (with no
      credentials given, an `http://` endpoint gets anonymous credentials);
    - `grpc://host:port` uses gRPC over an insecure channel (local servers only);
    - any other `host[:port]` uses gRPC with TLS against that host.
    Without credentials and endpoint, Application Default Credentials are used (GOOGLE_APPLICATION_CREDENTIALS).
    The libraries' loggers get a filter that keeps credentials out of log records.
    """
    protect_logs()
    if not endpoint:
        return Clients(BetaAnalyticsDataClient(credentials=credentials),
                       AlphaAnalyticsDataClient(credentials=credentials),
                       AnalyticsAdminServiceClient(credentials=credentials))
    if endpoint.startswith("grpc://"):
        import grpc
        from google.analytics.admin_v1beta.services.analytics_admin_service.transports import (
            AnalyticsAdminServiceGrpcTransport,
        )
        from google.analytics.data_v1alpha.services.alpha_analytics_data.transports import (
            AlphaAnalyticsDataGrpcTransport,
        )
        from google.analytics.data_v1beta.services.beta_analytics_data.transports import (
            BetaAnalyticsDataGrpcTransport,
        )

        channel = grpc.insecure_channel(endpoint.removeprefix("grpc://"))
        return Clients(BetaAnalyticsDataClient(transport=BetaAnalyticsDataGrpcTransport(channel=channel)),
                       AlphaAnalyticsDataClient(transport=AlphaAnalyticsDataGrpcTransport(channel=channel)),
                       AnalyticsAdminServiceClient(transport=AnalyticsAdminServiceGrpcTransport(channel=channel)))
    rest = endpoint.startswith(("http://", "https://"))
    if credentials is None and endpoint.startswith("http://"):
        credentials = ga_credentials.AnonymousCredentials()  # type: ignore[no-untyped-call]
    options = {"api_endpoint": endpoint}
    transport = "rest" if rest else "grpc"
    return Clients(BetaAnalyticsDataClient(credentials=credentials, transport=transport, client_options=options),
                   AlphaAnalyticsDataClient(credentials=credentials, transport=transport, client_options=options),
                   AnalyticsAdminServiceClient(credentials=credentials, transport=transport, client_options=options))


def service_account_credentials(info: Mapping[str, Any]) -> ga_credentials.Credentials:
    """Credentials from the fields of a service-account JSON key (as in secrets.toml or an uploaded file)."""
    from google.oauth2 import service_account

    missing = [k for k in ("client_email", "private_key", "token_uri") if not info.get(k)]
    if info.get("type", "service_account") != "service_account" or missing:
        detail = f"missing: {', '.join(missing)}" if missing else f"type is '{info.get('type')}'"
        raise Ga4Error("unauthenticated", "This is not a service-account key: it needs type = \"service_account\" "
                       f"and the fields client_email, private_key and token_uri ({detail}).")
    try:
        return service_account.Credentials.from_service_account_info(dict(info), scopes=list(SCOPES))  # type: ignore[no-untyped-call,no-any-return]
    except ValueError:
        raise Ga4Error("unauthenticated", "The service-account key could not be read (damaged private_key?). "
                       "Download a new JSON key for the service account.") from None


def default_credentials() -> ga_credentials.Credentials:
    """Application Default Credentials: GOOGLE_APPLICATION_CREDENTIALS, gcloud's ADC file, or the metadata server."""
    import google.auth
    from google.auth import exceptions as auth_exc

    try:
        creds, _ = google.auth.default(scopes=list(SCOPES))
    except auth_exc.DefaultCredentialsError:
        raise Ga4Error("no_credentials", "No GA4 credentials found: set GOOGLE_APPLICATION_CREDENTIALS to a "
                       "service-account key file, or run `gcloud auth application-default login "
                       "--scopes=https://www.googleapis.com/auth/analytics.readonly`.") from None
    return creds


def clients_from_env(environ: Mapping[str, str] | None = None) -> Clients:
    """Clients configured the command-line way: GA4_API_ENDPOINT (optional) and GOOGLE_APPLICATION_CREDENTIALS
    or ADC. A local `http://` endpoint without GOOGLE_APPLICATION_CREDENTIALS runs with anonymous credentials."""
    env = os.environ if environ is None else environ
    endpoint = env.get(ENDPOINT_ENV, "").strip() or None
    if endpoint and endpoint.startswith(("http://", "grpc://")) and not env.get("GOOGLE_APPLICATION_CREDENTIALS"):
        return make_clients(None, endpoint)
    return make_clients(default_credentials(), endpoint)


def property_id(value: str) -> str:
    """'123456' from '123456' or 'properties/123456'; anything else is rejected with the expected form."""
    pid = value.strip().removeprefix("properties/")
    if not pid.isdigit():
        raise ValueError(f"'{value}' is not a GA4 property id: use the number from GA4 Admin → Property details, "
                         "like 123456789")
    return pid


@dataclass(frozen=True)
class PropertyChoice:
    property_id: str
    name: str
    account: str

    @property
    def label(self) -> str:
        return f"{self.name} ({self.property_id}) · {self.account}"


def list_properties(clients: Clients, policy: RetryPolicy | None = None) -> list[PropertyChoice]:
    """Every GA4 property the credentials can read, from the Admin API's account summaries (all pages)."""
    policy = policy or RetryPolicy()
    out: list[PropertyChoice] = []
    token = ""
    while True:
        request = admin_types.ListAccountSummariesRequest(page_size=200, page_token=token)
        page = call_with_retry(
            partial(clients.admin.list_account_summaries, request=request, retry=None),
            policy=policy, property_id="(all)", what="the list of properties")
        response = next(iter(page.pages))  # only the page just fetched: each page goes through the retry policy
        for account in response.account_summaries:
            out += [PropertyChoice(property_id(p.property), p.display_name, account.display_name)
                    for p in account.property_summaries]
        token = response.next_page_token
        if not token:
            return out


# ---------------------------------------------------------------------------------------------------
# Reports
# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReportSpec:
    """One GA4 report: its name and the GA4 api names of its dimensions and metrics."""

    name: str
    dimensions: tuple[str, ...]
    metrics: tuple[str, ...]


@dataclass
class ReportInfo:
    """What GA4 said about one report's numbers."""

    name: str
    rows: int = 0
    pages: int = 0
    requests: int = 0
    currency: str = ""
    time_zone: str = ""
    sampling: list[tuple[int, int]] = field(default_factory=list)  # (samples read, sampling space) per date range
    thresholded: bool = False
    other_rows: int = 0
    data_loss_from_other_row: bool = False
    not_set: dict[str, int] = field(default_factory=dict)  # GA4 column -> rows where it was "(not set)"
    quota: dict[str, tuple[int, int]] = field(default_factory=dict)  # quota name -> (consumed, remaining)
    partial_from: date | None = None  # first day of the range GA4 may still be processing

    def notices(self) -> list[str]:
        """Plain-language notes on what GA4's limits do to these numbers (empty when nothing to say)."""
        out = []
        if self.sampling:
            read, space = self.sampling[0]
            share = f"{read / space:.1%}" if space else "part"
            out.append(f"{self.name}: sampled — GA4 read {read:,} of {space:,} events ({share}); totals are estimates.")
        if self.thresholded:
            out.append(f"{self.name}: thresholding applied — GA4 withheld rows with few users (Google signals), "
                       "so totals may be lower than in GA4's standard reports.")
        if self.other_rows or self.data_loss_from_other_row:
            out.append(f"{self.name}: {self.other_rows} row(s) are '(other)' — GA4 grouped rare values together "
                       "because the report is too detailed; try a shorter range or fewer dimensions.")
        if self.not_set:
            cols = ", ".join(f"{c} in {n} row(s)" for c, n in sorted(self.not_set.items()))
            out.append(f"{self.name}: '(not set)' became empty: {cols}.")
        if self.partial_from:
            out.append(f"{self.name}: data from {self.partial_from:%Y-%m-%d} on is partial — GA4 is still processing "
                       "today (and sometimes yesterday); refresh later for final numbers.")
        day = self.quota.get("tokens_per_day")
        if day:
            out.append(f"{self.name}: property quota used today {day[0]:,} tokens, {day[1]:,} left.")
        return out


def _metric_dtype(kind: int) -> pl.DataType:
    return pl.Int64() if kind == beta.MetricType.TYPE_INTEGER else pl.Float64()


def _frame(pages: list[Any], dims: Sequence[str], metrics: Sequence[str], types: Sequence[int]) -> pl.DataFrame:
    """Rows of raw protobuf response pages as a typed frame with GA4 api names as columns."""
    rows = [row for page in pages for row in page.rows]
    columns: dict[str, pl.Series] = {}
    for i, name in enumerate(dims):
        columns[name] = pl.Series(name, [r.dimension_values[i].value for r in rows], pl.String)
    for i, (name, kind) in enumerate(zip(metrics, types, strict=True)):
        raw = pl.Series(name, [r.metric_values[i].value for r in rows], pl.String)
        columns[name] = raw.replace("", None).cast(_metric_dtype(kind))
    return pl.DataFrame(columns) if columns else pl.DataFrame()


def _check_range(start: date, end: date, page_size: int) -> None:
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise ValueError(f"page size must be between 1 and {MAX_PAGE_SIZE:,}, got {page_size}")
    if end < start:
        raise ValueError(f"the date range ends ({end}) before it starts ({start})")


class Ga4Report:
    """Runs reports for one property and date range with one retry policy and page size."""

    def __init__(self, clients: Clients, prop: str, start: date, end: date, *, page_size: int = 100_000,
                 policy: RetryPolicy | None = None):
        _check_range(start, end, page_size)
        self.clients = clients
        self.property_id = property_id(prop)
        self.start, self.end = start, end
        self.page_size = page_size
        self.policy = policy or RetryPolicy()
        self._metadata: tuple[dict[str, int], set[str]] | None = None

    @property
    def _name(self) -> str:
        return f"properties/{self.property_id}"

    def _call(self, what: str, fn: Callable[..., Any]) -> Any:
        return call_with_retry(fn, policy=self.policy, property_id=self.property_id, what=what)

    def metadata(self) -> tuple[dict[str, int], set[str]]:
        """(metric api name -> metric type, dimension api names) the property knows, custom ones included."""
        if self._metadata is None:
            request = beta.GetMetadataRequest(name=f"{self._name}/metadata")
            meta = self._call("the property's field list",
                              partial(self.clients.data.get_metadata, request=request, retry=None))
            self._metadata = ({m.api_name: int(m.type_) for m in meta.metrics}, {d.api_name for d in meta.dimensions})
        return self._metadata

    def check(self, spec: ReportSpec) -> None:
        """Raise a Ga4Error naming the first field the property does not know or cannot combine."""
        if len(spec.dimensions) > MAX_DIMENSIONS:
            raise Ga4Error("invalid_request", f"The {spec.name} report asks for {len(spec.dimensions)} dimensions; "
                           f"GA4 allows {MAX_DIMENSIONS} per request. Remove some of: {', '.join(spec.dimensions)}.")
        metrics, dims = self.metadata()
        import difflib

        for name, known, kind in [*((d, dims, "dimension") for d in spec.dimensions),
                                  *((m, set(metrics), "metric") for m in spec.metrics)]:
            if name not in known:
                close = difflib.get_close_matches(name, sorted(known), n=1)
                hint = f" Did you mean '{close[0]}'?" if close else ""
                raise Ga4Error("invalid_field", f"'{name}' is not a valid GA4 {kind} for property "
                               f"{self.property_id} ({spec.name} report).{hint}")
        for chunk in self._chunks(spec):
            request = beta.CheckCompatibilityRequest(property=self._name,
                                                     dimensions=[beta.Dimension(name=d) for d in spec.dimensions],
                                                     metrics=[beta.Metric(name=m) for m in chunk])
            result = self._call(f"the compatibility of the {spec.name} report",
                                partial(self.clients.data.check_compatibility, request=request, retry=None))
            bad = [c.dimension_metadata.api_name for c in result.dimension_compatibilities
                   if c.compatibility == beta.Compatibility.INCOMPATIBLE]
            bad += [c.metric_metadata.api_name for c in result.metric_compatibilities
                    if c.compatibility == beta.Compatibility.INCOMPATIBLE]
            if bad:
                raise Ga4Error("invalid_field", f"GA4 cannot combine {', '.join(repr(b) for b in bad)} with the other "
                               f"fields of the {spec.name} report on property {self.property_id}.")

    @staticmethod
    def _chunks(spec: ReportSpec) -> list[tuple[str, ...]]:
        return [spec.metrics[i:i + MAX_METRICS] for i in range(0, len(spec.metrics), MAX_METRICS)] or [()]

    def run(self, spec: ReportSpec, *, check: bool = True) -> tuple[pl.DataFrame, ReportInfo]:
        """Every row of `spec` over the range: typed, "(not set)" -> null, metric requests joined on the dimensions.

        Raises Ga4Error when any page of any request did not arrive (the error says which).
        """
        if check:
            self.check(spec)
        info = ReportInfo(spec.name)
        parts = [self._run_chunk(spec, chunk, info) for chunk in self._chunks(spec)]
        frame = parts[0]
        for part in parts[1:]:  # GA4 leaves out rows whose metrics are all zero, so a row may be missing in a part
            frame = frame.join(part, on=list(spec.dimensions), how="full", coalesce=True, nulls_equal=True)
        frame = frame.with_columns(pl.col(m).fill_null(0) for m in spec.metrics)
        info.rows = frame.height
        info.other_rows = frame.filter(pl.any_horizontal(pl.col(d) == OTHER_ROW for d in spec.dimensions)).height \
            if spec.dimensions else 0
        not_set = frame.select((pl.col(d) == NOT_SET).sum() for d in spec.dimensions).row(0) if frame.height else ()
        info.not_set = {d: int(n) for d, n in zip(spec.dimensions, not_set, strict=False) if n}
        frame = frame.with_columns(pl.when(pl.col(d) != NOT_SET).then(pl.col(d)).alias(d) for d in spec.dimensions)
        if "date" in spec.dimensions:
            frame = frame.with_columns(pl.col("date").str.strptime(pl.Date, "%Y%m%d"))
        today = clock.today(info.time_zone)
        if self.end >= today:
            info.partial_from = max(self.start, today)
        return frame, info

    def _run_chunk(self, spec: ReportSpec, metrics: tuple[str, ...], info: ReportInfo) -> pl.DataFrame:
        pages: list[Any] = []
        offset, row_count, types = 0, None, [0] * len(metrics)
        while row_count is None or offset < row_count:
            request = beta.RunReportRequest(
                property=self._name, dimensions=[beta.Dimension(name=d) for d in spec.dimensions],
                metrics=[beta.Metric(name=m) for m in metrics],
                date_ranges=[beta.DateRange(start_date=self.start.isoformat(), end_date=self.end.isoformat())],
                offset=offset, limit=self.page_size, return_property_quota=True)
            what = f"page {len(pages) + 1} (rows from {offset + 1}) of the {spec.name} report"
            response = self._call(what, partial(self.clients.data.run_report, request=request, retry=None))
            raw = beta.RunReportResponse.pb(response)
            if not pages:
                types = [int(h.type_) for h in raw.metric_headers]
                self._note(info, raw)
                info.requests += 1
            info.thresholded |= raw.metadata.subject_to_thresholding
            if raw.HasField("property_quota"):
                quota = raw.property_quota
                info.quota = {n: (getattr(quota, n).consumed, getattr(quota, n).remaining)
                              for n in ("tokens_per_day", "tokens_per_hour") if quota.HasField(n)}
            pages.append(raw)
            row_count = raw.row_count
            if not raw.rows:
                break
            offset += len(raw.rows)
        if offset < (row_count or 0):
            raise Ga4Error("incomplete", f"GA4 stopped sending rows of the {spec.name} report at {offset:,} of "
                           f"{row_count:,}; nothing was saved. Retry the pull.")
        info.pages += len(pages)
        return _frame(pages, spec.dimensions, metrics, types)

    @staticmethod
    def _note(info: ReportInfo, raw: Any) -> None:
        meta = raw.metadata
        info.currency = info.currency or meta.currency_code
        info.time_zone = info.time_zone or meta.time_zone
        info.data_loss_from_other_row |= meta.data_loss_from_other_row
        for s in meta.sampling_metadatas:
            if (s.samples_read_count, s.sampling_space_size) not in info.sampling:
                info.sampling.append((s.samples_read_count, s.sampling_space_size))


# ---------------------------------------------------------------------------------------------------
# The canonical tables
# ---------------------------------------------------------------------------------------------------

#: Optional traffic dimensions: canonical column -> GA4 dimension.
OPTIONAL_DIMENSIONS: dict[str, str] = {"device": "deviceCategory", "country": "country", "landing_page": "landingPage"}

TRAFFIC_SPEC = ReportSpec(
    "traffic",
    ("date", "sessionDefaultChannelGroup", "sessionSource", "sessionMedium", "sessionCampaignName"),
    ("sessions", "engagedSessions", "totalUsers", "newUsers", "keyEvents", "totalRevenue"),
)
KEY_EVENTS_SPEC = ReportSpec(
    "key_events",
    ("date", "eventName", "sessionDefaultChannelGroup", "sessionSource", "sessionCampaignName"),
    ("keyEvents",),
)
ADS_SPEC = ReportSpec(
    "ads_cost",
    ("date", "sessionGoogleAdsCampaignName"),
    ("advertiserAdCost", "advertiserAdClicks", "advertiserAdImpressions"),
)

_TRAFFIC_NAMES = {
    "sessionSource": "source", "sessionMedium": "medium", "sessionCampaignName": "campaign",
    "sessions": "sessions", "engagedSessions": "engaged_sessions", "totalUsers": "users", "newUsers": "new_users",
    "keyEvents": "key_events", "totalRevenue": "revenue", "sessionDefaultChannelGroup": "ga4_channel_group",
    **{ga4: canonical for canonical, ga4 in OPTIONAL_DIMENSIONS.items()},
}

#: GA4 default channel groups that the workspace vocabulary spells differently (added when the target exists).
GA4_CHANNEL_SPELLINGS: dict[str, tuple[str, ...]] = {
    "Paid Search": ("cross-network", "paid shopping"),
    "Display": ("paid video",),
    "Organic & Content": ("organic video", "organic shopping"),
    "Referral": ("affiliates",),
}
_META_SOURCE = r"^(facebook|instagram|fb|ig|meta|an)$|facebook\.com$|instagram\.com$"
_LINKEDIN_SOURCE = r"linkedin|^lnkd\.in$"


def ga4_channel(group: pl.Expr, source: pl.Expr,
                channels: Mapping[str, tuple[str, ...]] = DEFAULT_CHANNELS) -> pl.Expr:
    """A GA4 default channel group in the workspace vocabulary: Paid Social from facebook/instagram is 'Meta',
    paid or social traffic from linkedin is 'LinkedIn', GA4-only groups (Cross-network, Paid Video, ...) map to
    their nearest workspace channel; everything else goes through the workspace's own spellings."""
    vocab = {canon: tuple(spellings) for canon, spellings in channels.items()}
    for canon, extra in GA4_CHANNEL_SPELLINGS.items():
        if canon in vocab:
            vocab[canon] = (*vocab[canon], *extra)
    grp = group.str.to_lowercase()
    src = source.str.to_lowercase()
    paid_social = grp == "paid social"
    out = normalise_channel(group, vocab)
    if "LinkedIn" in vocab:
        out = pl.when((paid_social | grp.is_in(["paid other", "display"])) & src.str.contains(_LINKEDIN_SOURCE)) \
            .then(pl.lit("LinkedIn")).otherwise(out)
    if "Meta" in vocab:
        out = pl.when(paid_social & src.str.contains(_META_SOURCE)).then(pl.lit("Meta")).otherwise(out)
    return out


def traffic_table(raw: pl.DataFrame, channels: Mapping[str, tuple[str, ...]] = DEFAULT_CHANNELS) -> pl.DataFrame:
    """The canonical traffic table from a traffic report (GA4 names -> canonical names, GA4's own channel group
    kept as the extra dimension `ga4_channel_group`)."""
    frame = raw.rename({k: v for k, v in _TRAFFIC_NAMES.items() if k in raw.columns})
    frame = frame.with_columns(ga4_channel(pl.col("ga4_channel_group"), pl.col("source"), channels).alias("channel"))
    order = [c for c in TRAFFIC.dtypes if c in frame.columns] + ["ga4_channel_group"]
    return frame.select(order).with_columns(pl.col("key_events").cast(pl.Float64), pl.col("revenue").cast(pl.Float64))


def key_events_table(raw: pl.DataFrame, channels: Mapping[str, tuple[str, ...]] = DEFAULT_CHANNELS) -> pl.DataFrame:
    """Key events by event name (rows of events that are not key events dropped): date, event_name, channel,
    campaign, key_events."""
    return raw.filter(pl.col("keyEvents") > 0).select(
        "date", pl.col("eventName").alias("event_name"),
        ga4_channel(pl.col("sessionDefaultChannelGroup"), pl.col("sessionSource"), channels).alias("channel"),
        pl.col("sessionCampaignName").alias("campaign"), pl.col("keyEvents").cast(pl.Float64).alias("key_events"))


def spend_table(raw: pl.DataFrame, currency: str) -> pl.DataFrame:
    """Google Ads cost linked into GA4 as the canonical spend table (channel 'Paid Search'); days where a campaign
    had no cost, clicks or impressions are dropped."""
    frame = raw.filter((pl.col("advertiserAdCost") != 0) | (pl.col("advertiserAdClicks") != 0)
                       | (pl.col("advertiserAdImpressions") != 0))
    return frame.select(
        "date", pl.col("advertiserAdCost").cast(pl.Float64).alias("spend"),
        pl.col("advertiserAdImpressions").cast(pl.Int64).alias("impressions"),
        pl.col("advertiserAdClicks").cast(pl.Int64).alias("clicks"),
        pl.lit("Paid Search").alias("channel"), pl.col("sessionGoogleAdsCampaignName").alias("campaign"),
        pl.lit(currency or None, pl.String).alias("currency"),
    ).select([c for c in SPEND.dtypes if c in ("date", "spend", "impressions", "clicks", "channel", "campaign",
                                                "currency")])


@dataclass(frozen=True)
class PullRequest:
    """What identifies a pull (and its cache entry): property, dates, optional dimensions, page size."""

    property_id: str
    start: date
    end: date
    dimensions: tuple[str, ...] = ()  # canonical names from OPTIONAL_DIMENSIONS
    page_size: int = 100_000

    def __post_init__(self) -> None:
        _check_range(self.start, self.end, self.page_size)
        unknown = [d for d in self.dimensions if d not in OPTIONAL_DIMENSIONS]
        if unknown:
            raise ValueError(f"unknown optional dimension(s) {', '.join(unknown)}; choose from "
                             f"{', '.join(OPTIONAL_DIMENSIONS)}")

    def traffic_spec(self) -> ReportSpec:
        extra = tuple(OPTIONAL_DIMENSIONS[d] for d in self.dimensions)
        return replace(TRAFFIC_SPEC, dimensions=TRAFFIC_SPEC.dimensions + extra)


@dataclass
class PullResult:
    """Canonical tables from one pull ('traffic', 'key_events', and 'spend' when the property links Google Ads),
    with what GA4 said about each report."""

    request: PullRequest
    tables: dict[str, pl.DataFrame]
    reports: list[ReportInfo]
    pulled_at: datetime = field(default_factory=lambda: datetime.now().astimezone())
    notes: list[str] = field(default_factory=list)

    def notices(self) -> list[str]:
        return self.notes + [n for r in self.reports for n in r.notices()]

    @property
    def currency(self) -> str:
        return next((r.currency for r in self.reports if r.currency), "")

    @property
    def time_zone(self) -> str:
        return next((r.time_zone for r in self.reports if r.time_zone), "")


def pull(clients: Clients, request: PullRequest, *, channels: Mapping[str, tuple[str, ...]] = DEFAULT_CHANNELS,
         policy: RetryPolicy | None = None) -> PullResult:
    """Traffic, key events and (where linked) Google Ads cost for one property and date range.

    All or nothing: a Ga4Error from any page of any report propagates and no partial table is returned.
    """
    report = Ga4Report(clients, request.property_id, request.start, request.end, page_size=request.page_size,
                       policy=policy)
    traffic_raw, traffic_info = report.run(request.traffic_spec())
    traffic_info.not_set = {_TRAFFIC_NAMES.get(k, k): n for k, n in traffic_info.not_set.items()}
    events_raw, events_info = report.run(KEY_EVENTS_SPEC)
    tables = {"traffic": traffic_table(traffic_raw, channels), "key_events": key_events_table(events_raw, channels)}
    infos = [traffic_info, events_info]
    notes = []
    metrics, _ = report.metadata()
    if "advertiserAdCost" in metrics:
        ads_raw, ads_info = report.run(ADS_SPEC)
        infos.append(ads_info)
        spend = spend_table(ads_raw, ads_info.currency)
        if spend.height:
            tables["spend"] = spend
        else:
            notes.append("No Google Ads cost in this range: is Google Ads linked to the property?")
    else:
        notes.append("This property reports no Google Ads cost metrics, so no spend table was made.")
    for name in ("traffic", "spend"):
        if name in tables:
            errors = [str(p) for p in validate(name, tables[name]) if p.severity == "error"]
            if errors:
                raise Ga4Error("error", f"GA4 {name} rows do not fit the {name} table: {'; '.join(errors)}")
    return PullResult(request, tables, infos, notes=notes)


# ---------------------------------------------------------------------------------------------------
# Funnels (Data API v1alpha)
# ---------------------------------------------------------------------------------------------------

StepMatch = Literal["exact", "begins_with", "contains"]


@dataclass(frozen=True)
class FunnelStepSpec:
    """One funnel step: users who fired `event`, or viewed a page whose path matches `page_path`."""

    name: str
    event: str | None = None
    page_path: str | None = None
    match: StepMatch = "begins_with"

    def __post_init__(self) -> None:
        if (self.event is None) == (self.page_path is None):
            raise ValueError(f"funnel step '{self.name}' needs exactly one of an event name or a page path")

    def to_proto(self) -> alpha.FunnelStep:
        if self.event is not None:
            expr = alpha.FunnelFilterExpression(funnel_event_filter=alpha.FunnelEventFilter(event_name=self.event))
        else:
            kind = getattr(alpha.StringFilter.MatchType, self.match.upper())
            expr = alpha.FunnelFilterExpression(funnel_field_filter=alpha.FunnelFieldFilter(
                field_name="unifiedPagePathScreen",
                string_filter=alpha.StringFilter(match_type=kind, value=self.page_path)))
        return alpha.FunnelStep(name=self.name, filter_expression=expr)


def run_funnel(clients: Clients, prop: str, steps: Sequence[FunnelStepSpec], start: date, end: date, *,
               open_funnel: bool = False, breakdown: str | None = None, breakdown_limit: int = 5,
               policy: RetryPolicy | None = None) -> tuple[pl.DataFrame, ReportInfo]:
    """A GA4 funnel as a frame: step (1-based), step_name, breakdown (null on the total rows), users,
    completion_rate (share of the step's users who reached the next step), abandonments, abandonment_rate.

    A closed funnel counts users who entered at step 1; an open funnel lets them enter at any step.
    """
    if len(steps) < 2:
        raise ValueError("a funnel needs at least two steps")
    pid = property_id(prop)
    policy = policy or RetryPolicy()
    request = alpha.RunFunnelReportRequest(
        property=f"properties/{pid}",
        date_ranges=[alpha.DateRange(start_date=start.isoformat(), end_date=end.isoformat())],
        funnel=alpha.Funnel(is_open_funnel=open_funnel, steps=[s.to_proto() for s in steps]),
        funnel_visualization_type=alpha.RunFunnelReportRequest.FunnelVisualizationType.STANDARD_FUNNEL,
        return_property_quota=True)
    if breakdown:
        request.funnel_breakdown = alpha.FunnelBreakdown(breakdown_dimension=alpha.Dimension(name=breakdown),
                                                         limit=breakdown_limit)
    response = call_with_retry(partial(clients.alpha.run_funnel_report, request=request, retry=None),
                               policy=policy, property_id=pid, what="the funnel report")
    table = alpha.FunnelSubReport.pb(response.funnel_table)
    dims = [h.name for h in table.dimension_headers]
    metrics = [h.name for h in table.metric_headers]
    types = [beta.MetricType.TYPE_INTEGER if h.type_ == alpha.MetricType.TYPE_INTEGER else beta.MetricType.TYPE_FLOAT
             for h in table.metric_headers]
    frame = _frame([table], dims, metrics, types)
    step_label = pl.col("funnelStepName").str.extract(r"^(\d+)\.\s*(.*)$", 2)
    breakdown_col = (pl.when(pl.col(breakdown) != "RESERVED_TOTAL").then(pl.col(breakdown)) if breakdown
                     else pl.lit(None, pl.String))
    out = frame.select(
        pl.col("funnelStepName").str.extract(r"^(\d+)\.", 1).cast(pl.Int64).alias("step"),
        pl.coalesce(step_label, pl.col("funnelStepName")).alias("step_name"),
        breakdown_col.alias("breakdown"),
        pl.col("activeUsers").cast(pl.Int64).alias("users"),
        pl.col("funnelStepCompletionRate").cast(pl.Float64).alias("completion_rate"),
        pl.col("funnelStepAbandonments").cast(pl.Int64).alias("abandonments"),
        pl.col("funnelStepAbandonmentRate").cast(pl.Float64).alias("abandonment_rate"),
    ).sort("step", pl.col("breakdown").is_not_null(), "breakdown")
    info = ReportInfo("funnel", rows=out.height, pages=1, requests=1)
    info.sampling = [(s.samples_read_count, s.sampling_space_size) for s in table.metadata.sampling_metadatas]
    return out, info


# ---------------------------------------------------------------------------------------------------
# Command line: python -m kpi ga4 --property ID --from .. --to .. --out DIR
# ---------------------------------------------------------------------------------------------------


def add_command(sub: Any) -> None:
    parser = sub.add_parser(
        "ga4", description="Pull a GA4 property into canonical tables. Credentials: GOOGLE_APPLICATION_CREDENTIALS "
                    f"(service-account key) or Application Default Credentials. {ENDPOINT_ENV}=http://host:port "
                    "sends the requests over REST to that address (proxies, local test servers).")
    parser.add_argument("--property", required=True, help="GA4 property id, e.g. 123456789")
    parser.add_argument("--from", dest="start", required=True, help="first day, YYYY-MM-DD")
    parser.add_argument("--to", dest="end", required=True, help="last day, YYYY-MM-DD")
    parser.add_argument("--out", required=True, help="folder for traffic.parquet, key_events.parquet, spend.parquet")
    parser.add_argument("--dimensions", default="", help=f"extra traffic dimensions, comma-separated: "
                        f"{', '.join(OPTIONAL_DIMENSIONS)}")
    parser.add_argument("--page-size", type=int, default=100_000, help=f"rows per request, 1..{MAX_PAGE_SIZE}")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for each GA4 answer")
    parser.add_argument("--attempts", type=int, default=5,
                        help="tries per request on 429/500/502/503/504 (backoff + jitter)")
    parser.set_defaults(run=run_command)


def _parse_date(value: str, flag: str) -> date:
    from kpi.cli import UsageError

    try:
        return date.fromisoformat(value)
    except ValueError:
        raise UsageError(f"{flag} '{value}' is not a date; use YYYY-MM-DD") from None


def run_command(args: argparse.Namespace, clients_factory: ClientFactory | None = None) -> int:
    """Exit code 0 when every page of every report arrived and the tables were written; 1 with the message on
    stderr when GA4 failed (nothing is written then); 2 for bad arguments."""
    from kpi.cli import UsageError
    from kpi.data import write_dir

    start, end = _parse_date(args.start, "--from"), _parse_date(args.end, "--to")
    if args.timeout <= 0 or args.attempts < 1:
        raise UsageError("--timeout must be positive and --attempts at least 1")
    try:
        request = PullRequest(property_id(args.property), start, end,
                              tuple(d.strip() for d in args.dimensions.split(",") if d.strip()), args.page_size)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    try:
        clients = (clients_factory or clients_from_env)()
        result = pull(clients, request, policy=RetryPolicy(attempts=args.attempts, timeout=args.timeout))
    except Ga4Error as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 1
    written = write_dir(result.tables, args.out)
    for notice in result.notices():
        print(f"note: {notice}", file=sys.stderr)
    for path in written:
        print(f"{path}: {result.tables[path.stem].height} rows")
    return 0
