"""A local GA4 backend on 127.0.0.1 that speaks the Data API (v1beta, v1alpha funnels) and the Admin API
(account summaries) over REST (JSON, camelCase, the package's own proto messages) and over gRPC
(generic handlers with the package's own request/response (de)serialisers).

The backend is a tiny GA4: it holds fact "cubes" at full grain and answers a report by filtering on the
date range, grouping by the requested dimensions and summing the metrics, then paging with offset/limit.
Faults (429, 403, 400, 503, exhausted quota, slowness) are scripted per method and consumed in order.
Tests compute their expected numbers from the cubes' rows themselves, never from the code under test.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from concurrent import futures
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

import grpc
from google.analytics.admin_v1beta import types as admin
from google.analytics.data_v1alpha import types as alpha
from google.analytics.data_v1beta import types as beta

INTEGER, FLOAT, CURRENCY, SECONDS = "TYPE_INTEGER", "TYPE_FLOAT", "TYPE_CURRENCY", "TYPE_SECONDS"

# HTTP status, gRPC code and canonical status name of each fault kind.
_CODES = {
    "INVALID_ARGUMENT": (400, grpc.StatusCode.INVALID_ARGUMENT),
    "PERMISSION_DENIED": (403, grpc.StatusCode.PERMISSION_DENIED),
    "RESOURCE_EXHAUSTED": (429, grpc.StatusCode.RESOURCE_EXHAUSTED),
    "UNAVAILABLE": (503, grpc.StatusCode.UNAVAILABLE),
    "UNAUTHENTICATED": (401, grpc.StatusCode.UNAUTHENTICATED),
    "NOT_FOUND": (404, grpc.StatusCode.NOT_FOUND),
    "INTERNAL": (500, grpc.StatusCode.INTERNAL),
    "BAD_GATEWAY": (502, grpc.StatusCode.INTERNAL),  # gRPC has no 502: a proxy's 502 only reaches REST clients
    "DEADLINE_EXCEEDED": (504, grpc.StatusCode.DEADLINE_EXCEEDED),
}


@dataclass
class Fault(Exception):
    status: str = ""
    message: str = ""
    delay: float = 0.0  # seconds to sleep before answering (a slow server); status "" then answers normally

    @classmethod
    def rate_limited(cls) -> Fault:
        return cls("RESOURCE_EXHAUSTED", "Exhausted concurrent requests quota.")

    @classmethod
    def daily_quota(cls) -> Fault:
        return cls("RESOURCE_EXHAUSTED", "Exhausted property tokens per day quota. Consumed: 200010, Limit: 200000.")

    @classmethod
    def unavailable(cls) -> Fault:
        return cls("UNAVAILABLE", "The service is currently unavailable.")

    @classmethod
    def forbidden(cls) -> Fault:
        return cls("PERMISSION_DENIED", "User does not have sufficient permissions for this property.")

    @classmethod
    def slow(cls, seconds: float) -> Fault:
        return cls("", "", seconds)


@dataclass
class Cube:
    """Fact rows at full grain: every row has a value for each dimension and each metric."""

    dimensions: tuple[str, ...]
    metrics: dict[str, str]  # api name -> metric type
    rows: list[dict[str, Any]]


@dataclass
class Journey:
    """One user's ordered events for the funnel report."""

    user: str
    device: str
    events: list[tuple[str, str]]  # (event name, page path)


@dataclass
class Backend:
    cubes: list[Cube]
    properties: dict[str, str] = field(default_factory=lambda: {"123456": "Demo shop"})
    account: tuple[str, str] = ("accounts/99", "Demo account")
    currency: str = "EUR"
    time_zone: str = "Europe/Stockholm"
    sampling: list[tuple[int, int]] = field(default_factory=list)
    thresholding: bool = False
    journeys: list[Journey] = field(default_factory=list)
    faults: dict[str, list[Fault | None]] = field(default_factory=lambda: defaultdict(list))
    calls: list[tuple[str, Any]] = field(default_factory=list)
    quota_per_call: int = 10
    _consumed: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # -- plumbing ---------------------------------------------------------------------------------
    def script(self, method: str, *faults: Fault | None) -> None:
        """Answer the next calls of `method` with these faults in order (None = answer normally)."""
        self.faults[method].extend(faults)

    def _enter(self, method: str, request: Any) -> None:
        with self._lock:
            self.calls.append((method, request))
            fault = self.faults[method].pop(0) if self.faults[method] else None
        if fault is None:
            return
        if fault.delay:
            time.sleep(fault.delay)
        if fault.status:
            raise fault

    def count(self, method: str) -> int:
        return sum(1 for m, _ in self.calls if m == method)

    def _check_property(self, prop: str) -> str:
        pid = prop.removeprefix("properties/")
        if pid not in self.properties:
            raise Fault.forbidden()
        return pid

    def _fields(self) -> tuple[set[str], dict[str, str]]:
        dims = {d for c in self.cubes for d in c.dimensions}
        mets = {m: t for c in self.cubes for m, t in c.metrics.items()}
        return dims, mets

    def _cube_for(self, dims: list[str], mets: list[str]) -> Cube:
        known_dims, known_mets = self._fields()
        for name in dims:
            if name not in known_dims:
                raise Fault("INVALID_ARGUMENT", f"Field {name} is not a valid dimension. For a list of valid "
                            "dimensions and metrics, see https://developers.google.com/analytics/devguides/"
                            "reporting/data/v1/api-schema")
        for name in mets:
            if name not in known_mets:
                raise Fault("INVALID_ARGUMENT", f"Field {name} is not a valid metric. For a list of valid "
                            "dimensions and metrics, see https://developers.google.com/analytics/devguides/"
                            "reporting/data/v1/api-schema")
        for cube in self.cubes:
            if set(dims) <= set(cube.dimensions) and set(mets) <= set(cube.metrics):
                return cube
        raise Fault("INVALID_ARGUMENT", f"Please remove {mets[-1] if mets else dims[-1]} to make the request "
                    "compatible. The request's dimensions & metrics are incompatible.")

    # -- Data API v1beta --------------------------------------------------------------------------
    def run_report(self, req: beta.RunReportRequest) -> beta.RunReportResponse:
        self._enter("RunReport", req)
        self._check_property(req.property)
        dims = [d.name for d in req.dimensions]
        mets = [m.name for m in req.metrics]
        if len(dims) > 9 or len(mets) > 10:
            raise Fault("INVALID_ARGUMENT", "Requests are limited to 9 dimensions and 10 metrics.")
        cube = self._cube_for(dims, mets)
        span = req.date_ranges[0]
        start, end = date.fromisoformat(span.start_date), date.fromisoformat(span.end_date)
        groups: dict[tuple[str, ...], list[float]] = {}
        for row in cube.rows:
            day = date(int(row["date"][:4]), int(row["date"][4:6]), int(row["date"][6:]))
            if not start <= day <= end:
                continue
            key = tuple(row[d] for d in dims)
            acc = groups.setdefault(key, [0.0] * len(mets))
            for i, m in enumerate(mets):
                acc[i] += row[m]
        keys = sorted(groups)
        offset, limit = req.offset, req.limit or 10000
        page = keys[offset:offset + limit]

        def fmt(value: float, kind: str) -> str:
            return str(int(value)) if kind == INTEGER else repr(round(value, 6))

        rows = [beta.Row(dimension_values=[beta.DimensionValue(value=v) for v in key],
                         metric_values=[beta.MetricValue(value=fmt(v, cube.metrics[m]))
                                        for v, m in zip(groups[key], mets, strict=True)])
                for key in page]
        meta = beta.ResponseMetaData(currency_code=self.currency, time_zone=self.time_zone,
                                     subject_to_thresholding=self.thresholding,
                                     data_loss_from_other_row=any("(other)" in k for k in keys),
                                     sampling_metadatas=[
                                         beta.SamplingMetadata(samples_read_count=r, sampling_space_size=s)
                                         for r, s in self.sampling])
        return beta.RunReportResponse(
            dimension_headers=[beta.DimensionHeader(name=d) for d in dims],
            metric_headers=[beta.MetricHeader(name=m, type_=cube.metrics[m]) for m in mets],
            rows=rows, row_count=len(keys), metadata=meta,
            property_quota=self._quota() if req.return_property_quota else None,
        )

    def _quota(self) -> beta.PropertyQuota:
        with self._lock:
            self._consumed += self.quota_per_call
            used = self._consumed
        return beta.PropertyQuota(tokens_per_day=beta.QuotaStatus(consumed=used, remaining=200000 - used),
                                  tokens_per_hour=beta.QuotaStatus(consumed=used, remaining=40000 - used))

    def get_metadata(self, req: beta.GetMetadataRequest) -> beta.Metadata:
        self._enter("GetMetadata", req)
        self._check_property(req.name.removesuffix("/metadata"))
        dims, mets = self._fields()
        return beta.Metadata(name=req.name,
                             dimensions=[beta.DimensionMetadata(api_name=d, ui_name=d) for d in sorted(dims)],
                             metrics=[beta.MetricMetadata(api_name=m, ui_name=m, type_=t)
                                      for m, t in sorted(mets.items())])

    def check_compatibility(self, req: beta.CheckCompatibilityRequest) -> beta.CheckCompatibilityResponse:
        self._enter("CheckCompatibility", req)
        self._check_property(req.property)
        dims = [d.name for d in req.dimensions]
        mets = [m.name for m in req.metrics]

        def ok(name: str, is_dim: bool) -> bool:
            """A dimension must live with all the requested metrics, a metric with all the requested dimensions."""
            return any(name in c.dimensions and set(mets) <= set(c.metrics) if is_dim
                       else name in c.metrics and set(dims) <= set(c.dimensions) for c in self.cubes)

        good, bad = beta.Compatibility.COMPATIBLE, beta.Compatibility.INCOMPATIBLE
        return beta.CheckCompatibilityResponse(
            dimension_compatibilities=[beta.DimensionCompatibility(
                dimension_metadata=beta.DimensionMetadata(api_name=d), compatibility=good if ok(d, True) else bad)
                for d in dims],
            metric_compatibilities=[beta.MetricCompatibility(
                metric_metadata=beta.MetricMetadata(api_name=m), compatibility=good if ok(m, False) else bad)
                for m in mets])

    # -- Data API v1alpha: funnels ------------------------------------------------------------------
    def run_funnel_report(self, req: alpha.RunFunnelReportRequest) -> alpha.RunFunnelReportResponse:
        self._enter("RunFunnelReport", req)
        self._check_property(req.property)
        steps = list(req.funnel.steps)

        def matches(step: alpha.FunnelStep, event: tuple[str, str]) -> bool:
            expr = step.filter_expression
            if "funnel_event_filter" in expr:
                return event[0] == expr.funnel_event_filter.event_name
            flt = expr.funnel_field_filter.string_filter
            kind = alpha.StringFilter.MatchType
            value = event[1]
            return {kind.EXACT: value == flt.value, kind.BEGINS_WITH: value.startswith(flt.value),
                    kind.CONTAINS: flt.value in value}.get(flt.match_type, False)

        def reached(journey: Journey) -> set[int]:
            """Step indexes (0-based) the user reached: in order from step 0 (closed) or from any step (open)."""
            out: set[int] = set()
            for entry in range(len(steps)) if req.funnel.is_open_funnel else range(1):
                k, pos = entry, 0
                while k < len(steps):
                    hit = next((i for i in range(pos, len(journey.events))
                                if matches(steps[k], journey.events[i])), None)
                    if hit is None:
                        break
                    out.add(k)
                    k, pos = k + 1, hit + 1
            return out

        breakdown = req.funnel_breakdown.breakdown_dimension.name if "funnel_breakdown" in req else ""
        groups: dict[str, list[int]] = defaultdict(lambda: [0] * len(steps))
        for journey in self.journeys:
            for k in reached(journey):
                groups["RESERVED_TOTAL"][k] += 1
                if breakdown:
                    groups[journey.device][k] += 1
        rows = []
        for k, step in enumerate(steps):
            for value in ["RESERVED_TOTAL", *sorted(g for g in groups if g != "RESERVED_TOTAL")]:
                users = groups[value]
                nxt = users[k + 1] if k + 1 < len(steps) else None
                completion = (nxt / users[k]) if nxt is not None and users[k] else 0.0
                abandon = users[k] - nxt if nxt is not None else 0
                dvals = [f"{k + 1}. {step.name}"] + ([value] if breakdown else [])
                rows.append(alpha.Row(dimension_values=[alpha.DimensionValue(value=v) for v in dvals],
                                      metric_values=[alpha.MetricValue(value=str(x)) for x in (
                                          users[k], completion, abandon, (abandon / users[k]) if users[k] else 0.0)]))
        table = alpha.FunnelSubReport(
            dimension_headers=[alpha.DimensionHeader(name="funnelStepName")]
            + ([alpha.DimensionHeader(name=breakdown)] if breakdown else []),
            metric_headers=[alpha.MetricHeader(name=n, type_=t) for n, t in (
                ("activeUsers", INTEGER), ("funnelStepCompletionRate", FLOAT),
                ("funnelStepAbandonments", INTEGER), ("funnelStepAbandonmentRate", FLOAT))],
            rows=rows,
            metadata=alpha.FunnelResponseMetadata(sampling_metadatas=[
                alpha.SamplingMetadata(samples_read_count=r, sampling_space_size=s) for r, s in self.sampling]))
        return alpha.RunFunnelReportResponse(funnel_table=table, kind="analyticsData#runFunnelReport")

    # -- Admin API ----------------------------------------------------------------------------------
    def list_account_summaries(self, req: admin.ListAccountSummariesRequest) -> admin.ListAccountSummariesResponse:
        """One account summary per page (page_size is ignored) so the client's pager has to follow tokens."""
        self._enter("ListAccountSummaries", req)
        items = sorted(self.properties.items())
        index = int(req.page_token or 0)
        pid, name = items[index]
        summary = admin.AccountSummary(
            name=f"accountSummaries/{index}", account=self.account[0], display_name=self.account[1],
            property_summaries=[admin.PropertySummary(property=f"properties/{pid}", display_name=name)])
        token = str(index + 1) if index + 1 < len(items) else ""
        return admin.ListAccountSummariesResponse(account_summaries=[summary], next_page_token=token)


# ---------------------------------------------------------------------------------------------------
# REST front end
# ---------------------------------------------------------------------------------------------------

_ROUTES: list[tuple[str, re.Pattern[str], str, type, Callable[[Backend], Callable[[Any], Any]]]] = [
    ("POST", re.compile(r"/v1beta/(properties/[^/:]+):runReport"), "property", beta.RunReportRequest,
     lambda b: b.run_report),
    ("GET", re.compile(r"/v1beta/(properties/[^/:]+/metadata)"), "name", beta.GetMetadataRequest,
     lambda b: b.get_metadata),
    ("POST", re.compile(r"/v1beta/(properties/[^/:]+):checkCompatibility"), "property",
     beta.CheckCompatibilityRequest, lambda b: b.check_compatibility),
    ("POST", re.compile(r"/v1alpha/(properties/[^/:]+):runFunnelReport"), "property", alpha.RunFunnelReportRequest,
     lambda b: b.run_funnel_report),
    ("GET", re.compile(r"/v1beta/accountSummaries()"), "", admin.ListAccountSummariesRequest,
     lambda b: b.list_account_summaries),
]


def _rest_handler(backend: Backend, seen_headers: list[dict[str, str]]) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:  # keep test output clean
            return

        def _serve(self, method: str) -> None:
            url = urlparse(self.path)
            seen_headers.append({**dict(self.headers), "path": self.path})
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode() or "{}"
            for verb, pattern, bound, req_type, target in _ROUTES:
                match = pattern.fullmatch(url.path)
                if verb != method or not match:
                    continue
                payload = json.loads(body)
                for key, values in parse_qs(url.query).items():
                    payload[key] = values[0]
                if bound:
                    payload[bound] = match.group(1)
                request = req_type.from_json(json.dumps(payload), ignore_unknown_fields=True)
                try:
                    response = target(backend)(request)
                except Fault as fault:
                    status, _ = _CODES[fault.status]
                    self._send(status, {"error": {"code": status, "message": fault.message, "status": fault.status}})
                    return
                self._send(200, json.loads(type(response).to_json(response)))
                return
            self._send(404, {"error": {"code": 404, "message": f"no route {url.path}", "status": "NOT_FOUND"}})

        def _send(self, status: int, payload: dict[str, Any]) -> None:
            data = json.dumps(payload).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout test)
                pass

        def do_POST(self) -> None:
            self._serve("POST")

        def do_GET(self) -> None:
            self._serve("GET")

    return Handler


@dataclass
class RestServer:
    backend: Backend
    port: int
    headers: list[dict[str, str]]

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@contextmanager
def rest_server(backend: Backend) -> Iterator[RestServer]:
    headers: list[dict[str, str]] = []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _rest_handler(backend, headers))
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield RestServer(backend, httpd.server_address[1], headers)
    finally:
        httpd.shutdown()
        httpd.server_close()


# ---------------------------------------------------------------------------------------------------
# gRPC front end
# ---------------------------------------------------------------------------------------------------

def _unary(req_type: Any, resp_type: Any, fn: Callable[[Any], Any]) -> grpc.RpcMethodHandler:
    def handle(request: Any, context: grpc.ServicerContext) -> Any:
        try:
            return fn(request)
        except Fault as fault:
            context.abort(_CODES[fault.status][1], fault.message)

    return grpc.unary_unary_rpc_method_handler(handle, request_deserializer=req_type.deserialize,
                                               response_serializer=resp_type.serialize)


@contextmanager
def grpc_server(backend: Backend) -> Iterator[str]:
    """Yields the 'host:port' of an insecure gRPC server for the three services."""
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
    server.add_generic_rpc_handlers((
        grpc.method_handlers_generic_handler("google.analytics.data.v1beta.BetaAnalyticsData", {
            "RunReport": _unary(beta.RunReportRequest, beta.RunReportResponse, backend.run_report),
            "GetMetadata": _unary(beta.GetMetadataRequest, beta.Metadata, backend.get_metadata),
            "CheckCompatibility": _unary(beta.CheckCompatibilityRequest, beta.CheckCompatibilityResponse,
                                         backend.check_compatibility),
        }),
        grpc.method_handlers_generic_handler("google.analytics.data.v1alpha.AlphaAnalyticsData", {
            "RunFunnelReport": _unary(alpha.RunFunnelReportRequest, alpha.RunFunnelReportResponse,
                                      backend.run_funnel_report),
        }),
        grpc.method_handlers_generic_handler("google.analytics.admin.v1beta.AnalyticsAdminService", {
            "ListAccountSummaries": _unary(admin.ListAccountSummariesRequest, admin.ListAccountSummariesResponse,
                                           backend.list_account_summaries),
        }),
    ))
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        yield f"127.0.0.1:{port}"
    finally:
        server.stop(grace=None)
