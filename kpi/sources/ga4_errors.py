"""What can go wrong talking to GA4, phrased for the marketer, and when to try again.

Both transports of the Google client raise `google.api_core.exceptions` classes: gRPC codes map to
subclasses of the HTTP ones (PermissionDenied < Forbidden, ResourceExhausted < TooManyRequests,
DeadlineExceeded < GatewayTimeout), so one classification covers both. The REST transport can also
raise `requests` exceptions (timeouts, refused connections) and google-auth errors (token refresh).

No message built here ever carries a credential: server text passes through `redact` first.
"""

from __future__ import annotations

import logging
import random
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Literal, TypeVar
from zoneinfo import ZoneInfo

import requests
from google.api_core import exceptions as gexc
from google.auth import exceptions as auth_exc

log = logging.getLogger(__name__)

ErrorKind = Literal[
    "no_access", "unauthenticated", "no_credentials", "quota_daily", "quota_hourly", "rate_limited", "unavailable",
    "invalid_field", "invalid_request", "not_found", "timeout", "network", "incomplete", "error",
]

#: GA4 property quotas reset at midnight Pacific Time (daily) and on the hour (hourly).
QUOTA_TZ = ZoneInfo("America/Los_Angeles")


class Ga4Error(Exception):
    """A failure talking to GA4: `kind` says which, `message` what to do about it (never a credential)."""

    def __init__(self, kind: ErrorKind, message: str, *, retryable: bool = False, until: datetime | None = None):
        super().__init__(message)
        self.kind: ErrorKind = kind
        self.message = message
        self.retryable = retryable
        self.until = until  # when a spent quota is available again (UTC)

    def during(self, what: str) -> Ga4Error:
        """The same error, saying which request or page it interrupted."""
        return Ga4Error(self.kind, f"{self.message} (while fetching {what})", retryable=self.retryable,
                        until=self.until)


_REDACTIONS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(-----END [A-Z ]*PRIVATE KEY-----|$)", re.S), "[private key]"),
    (re.compile(r"MII[A-Za-z0-9+/=\\n]{40,}"), "[private key]"),
    (re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}"), "[email]"),
    (re.compile(r"(?i)(bearer|token|key|secret|password|assertion)([\"']?\s*[:=]\s*[\"']?|\s+)[A-Za-z0-9._\-~+/=]{8,}"),
     r"\1\2[redacted]"),
    (re.compile(r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*"), "[token]"),  # a JWT (signed assertion)
    (re.compile(r"ya29\.[A-Za-z0-9._~+/=-]{8,}"), "[token]"),  # an OAuth access token
    (re.compile(r"1//0[A-Za-z0-9._~+/=-]{8,}"), "[token]"),  # an OAuth refresh token
    (re.compile(r"AIza[0-9A-Za-z_-]{30,}"), "[api key]"),  # a Google API key
    (re.compile(r"GOCSPX-[A-Za-z0-9_-]{8,}"), "[client secret]"),  # an OAuth client secret
    (re.compile(r"(https?://)[^/@\s]+@"), r"\1"),
    (re.compile(r"\b[0-9a-f]{40}\b"), "[key id]"),
)


def redact(text: str) -> str:
    """`text` without anything that looks like a credential, recognised by its shape wherever it stands
    (not only after a `token=` label): private keys, e-mail addresses, `Bearer …`, JWTs, OAuth access
    (`ya29.…`) and refresh (`1//0…`) tokens, API keys (`AIza…`), client secrets (`GOCSPX-…`), key ids and
    URL user:password."""
    for pattern, replacement in _REDACTIONS:
        text = pattern.sub(replacement, text)
    return text


def _scrub(value: object) -> object:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {k: "[redacted]" if str(k).lower() in ("authorization", "x-goog-iam-authorization-token", "cookie")
                else _scrub(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_scrub(v) for v in value)
    return value


class RedactingFilter(logging.Filter):
    """Scrubs credentials from log records of the libraries a GA4 call goes through: urllib3 logs request URLs
    (google-auth's access-boundary lookup puts the service account's email in one) and google-auth / the API
    clients attach request headers (the bearer token) to their debug records."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage())
        record.args = None
        if record.exc_info:  # tracebacks quote URLs and request details too
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        for attr in ("httpRequest", "httpResponse"):
            if hasattr(record, attr):
                setattr(record, attr, _scrub(getattr(record, attr)))
        return True


_FILTER = RedactingFilter()


def protect_logs() -> None:
    """Attach the redacting filter to every google.* and urllib3.* logger that exists (idempotent)."""
    names = [n for n in logging.Logger.manager.loggerDict if n.split(".")[0] in ("google", "urllib3", "grpc")]
    for name in ["urllib3.connectionpool", "urllib3.util.retry", *names]:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)


def next_quota_reset(kind: Literal["day", "hour"], now: datetime | None = None) -> datetime:
    """When a GA4 property's daily (midnight Pacific Time) or hourly quota is available again, in UTC."""
    now = (now or datetime.now(UTC)).astimezone(QUOTA_TZ)
    if kind == "hour":
        reset = now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    else:
        reset = datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), QUOTA_TZ)
    return reset.astimezone(UTC)


def _server_text(exc: BaseException) -> str:
    message = getattr(exc, "message", None) or str(exc)
    return redact(str(message)).strip()


def classify(exc: BaseException, property_id: str, timeout: float, now: datetime | None = None) -> Ga4Error:
    """The Ga4Error for an exception raised by a GA4 client call on `property_id`."""
    if isinstance(exc, Ga4Error):
        return exc
    text = _server_text(exc)
    prop = f"property {property_id}"
    if isinstance(exc, gexc.Forbidden):
        return Ga4Error("no_access", f"No access to GA4 {prop}: add the service account's email (client_email in "
                        f"its key file) as Viewer on {prop} (GA4 Admin → Property access management), then retry.")
    if isinstance(exc, gexc.Unauthorized | auth_exc.RefreshError):
        return Ga4Error("unauthenticated", "Google rejected the credentials (expired, revoked or not a service-account "
                        "key?). Create a new JSON key for the service account and configure it again.")
    if isinstance(exc, auth_exc.DefaultCredentialsError):
        return Ga4Error("no_credentials", "No GA4 credentials found: set GOOGLE_APPLICATION_CREDENTIALS to a "
                        "service-account key file, or run `gcloud auth application-default login "
                        "--scopes=https://www.googleapis.com/auth/analytics.readonly`.")
    if isinstance(exc, gexc.TooManyRequests):
        return _too_many_requests(text, prop, now)
    own_deadline = isinstance(exc, gexc.DeadlineExceeded) and text == "Deadline Exceeded"  # gRPC's own timeout
    if isinstance(exc, gexc.GatewayTimeout) and not own_deadline:  # the server's 504: retry with backoff
        return Ga4Error("timeout", f"GA4 did not answer in time (504: {text}). Try a shorter date range or fewer "
                        "dimensions.", retryable=True)
    if isinstance(exc, requests.Timeout) or own_deadline:  # our own timeout: waiting as long again would not help
        return Ga4Error("timeout", f"GA4 did not answer within {timeout:g} s. Try a shorter date range or fewer "
                        "dimensions, or raise the timeout.")
    if isinstance(exc, gexc.InternalServerError | gexc.BadGateway):  # 500, 502: transient on Google's side
        return Ga4Error("unavailable", f"GA4 had a server error ({exc.code}: {text}). Try again in a few minutes.",
                        retryable=True)
    if isinstance(exc, gexc.ServiceUnavailable):
        return _service_unavailable(text)
    if isinstance(exc, requests.ConnectionError | auth_exc.TransportError | ConnectionError):
        return Ga4Error("network", "Cannot reach GA4: the network is down or the proxy / GA4_API_ENDPOINT is wrong.",
                        retryable=True)
    if isinstance(exc, gexc.BadRequest):
        return _bad_request(text, prop)
    if isinstance(exc, gexc.NotFound):
        return Ga4Error("not_found", f"GA4 knows no {prop}: check the property id (GA4 Admin → Property details).")
    if isinstance(exc, gexc.GoogleAPICallError):
        return Ga4Error("error", f"GA4 answered with an error for {prop} ({exc.code}: {text}).")
    return Ga4Error("error", f"Unexpected failure talking to GA4 about {prop}: {type(exc).__name__}: {text}")


def _too_many_requests(text: str, prop: str, now: datetime | None) -> Ga4Error:
    """A 429 is a spent daily or hourly quota when the server's text says which (no retry: it is spent until
    the reset), else rate limiting (retried after a while)."""
    lowered = text.lower()
    if "per day" in lowered or "daily" in lowered:
        until = next_quota_reset("day", now)
        return Ga4Error("quota_daily", f"The daily GA4 quota of {prop} is spent until {_when(until)} (midnight "
                        "Pacific Time). Pull a shorter date range or fewer dimensions after that.", until=until)
    if "per hour" in lowered or "hourly" in lowered:
        until = next_quota_reset("hour", now)
        return Ga4Error("quota_hourly", f"The hourly GA4 quota of {prop} is spent until {_when(until)}.",
                        until=until)
    return Ga4Error("rate_limited", f"GA4 is rate-limiting requests for {prop} (429: {text}). Wait a minute and "
                    "retry.", retryable=True)


def _service_unavailable(text: str) -> Ga4Error:
    """A 503 is the network when the text says the connection failed, else GA4 itself being down; both retry."""
    lowered = text.lower()
    if any(s in lowered for s in ("failed to connect", "connection refused", "dns resolution", "unreachable")):
        return Ga4Error("network", "Cannot reach GA4: the network is down or the proxy / GA4_API_ENDPOINT is "
                        "wrong.", retryable=True)
    return Ga4Error("unavailable", f"GA4 is temporarily unavailable (503: {text}). Try again in a few minutes.",
                    retryable=True)


def _bad_request(text: str, prop: str) -> Ga4Error:
    """A 400 names the field to fix when the server's text does (unknown, or not combinable with the others),
    else passes the server's reason on."""
    invalid = re.search(r"Field (\S+) is not a valid (dimension|metric)", text)
    if invalid:
        return Ga4Error("invalid_field", f"'{invalid.group(1)}' is not a valid GA4 {invalid.group(2)} for {prop}; "
                        "check its spelling (custom ones look like customEvent:name).")
    incompatible = re.search(r"[Pp]lease remove (\S+?)\.? to make the request compatible", text)
    if incompatible:
        return Ga4Error("invalid_field", f"'{incompatible.group(1)}' cannot be combined with the other fields of "
                        f"this request on {prop}.")
    return Ga4Error("invalid_request", f"GA4 rejected the request for {prop}: {text}")


def _when(moment: datetime) -> str:
    local = moment.astimezone()
    return f"{local:%Y-%m-%d %H:%M} {local.tzname() or ''}".strip()


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with full jitter, as Google advises, for rate limits (429), server errors (500, 502),
    unavailability (503), gateway timeouts (504) and network failures: attempt n waits a random time in
    [0, min(max_delay, base_delay * 2**n)], `attempts` calls in all. Spent quotas, bad requests, permission and
    credential errors never retry."""

    attempts: int = 5
    base_delay: float = 1.0
    max_delay: float = 32.0
    timeout: float = 60.0
    sleep: Callable[[float], None] = field(default=time.sleep, compare=False)
    rng: random.Random = field(default_factory=random.Random, compare=False)

    def delay(self, attempt: int) -> float:
        return self.rng.uniform(0, min(self.max_delay, self.base_delay * 2**attempt))


T = TypeVar("T")


def call_with_retry(call: Callable[..., T], *, policy: RetryPolicy, property_id: str, what: str) -> T:
    """`call(timeout=...)` under `policy`; a failure comes out as a Ga4Error naming `what` was being fetched.

    The original exception is dropped (`from None`) so its text, which may echo request details, cannot
    reach a traceback or log unredacted.
    """
    attempt = 0
    while True:
        try:
            return call(timeout=policy.timeout)
        except Exception as exc:
            error = classify(exc, property_id, policy.timeout)
        if error.retryable and attempt + 1 < policy.attempts:
            wait = policy.delay(attempt)
            log.info("GA4 %s: %s; retry %d/%d in %.2f s", what, error.kind, attempt + 1, policy.attempts - 1, wait)
            policy.sleep(wait)
            attempt += 1
            continue
        if error.retryable:
            error = Ga4Error(error.kind, f"{error.message} Gave up after {policy.attempts} attempts.", retryable=True)
        raise error.during(what) from None
