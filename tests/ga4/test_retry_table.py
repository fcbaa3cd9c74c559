"""Which GA4 failures are retried and how often (through the real clients against the local server), and
redaction of every credential shape a server's message text may echo."""

from __future__ import annotations

import random
import time
from datetime import date

import pytest

from kpi.sources.ga4 import PullRequest, pull
from kpi.sources.ga4_errors import Ga4Error, RetryPolicy, redact
from tests.ga4.conftest import PROPERTY, make_backend, serve_clients
from tests.ga4.ga4_server import Fault

START, END = date(2025, 3, 1), date(2025, 3, 3)
ATTEMPTS = 3

# status the server answers with -> (kind of the error, is it retried?); a 401 over REST makes the anonymous
# test credentials look absent, so its kind is one of the two credential kinds.
RETRY_TABLE = {
    "RESOURCE_EXHAUSTED": ("rate_limited", True),  # 429 without a daily/hourly quota named
    "INTERNAL": ("unavailable", True),  # 500
    "BAD_GATEWAY": ("unavailable", True),  # 502
    "UNAVAILABLE": ("unavailable", True),  # 503
    "DEADLINE_EXCEEDED": ("timeout", True),  # 504
    "INVALID_ARGUMENT": ("invalid_request", False),  # 400
    "UNAUTHENTICATED": ("credentials", False),  # 401
    "PERMISSION_DENIED": ("no_access", False),  # 403
    "NOT_FOUND": ("not_found", False),  # 404
}


class Sleeps:
    def __init__(self) -> None:
        self.delays: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)
        time.sleep(seconds)


def _policy(sleeps: Sleeps) -> RetryPolicy:
    return RetryPolicy(attempts=ATTEMPTS, base_delay=0.01, max_delay=0.02, timeout=5.0, sleep=sleeps,
                       rng=random.Random(1))


@pytest.mark.parametrize("transport", ["rest", "grpc"])
def test_retry_table(transport: str) -> None:
    """Each status, answered to every call: retryable ones are tried ATTEMPTS times with a backoff between
    tries and then give up saying so; the others fail on the first call."""
    backend = make_backend()
    seen: dict[str, tuple[str, int, int]] = {}
    with serve_clients(backend, transport) as clients:
        for status in RETRY_TABLE:
            before = backend.count("GetMetadata")
            backend.faults["GetMetadata"].clear()
            backend.script("GetMetadata", *[Fault(status, "Something went wrong.")] * (ATTEMPTS + 1))
            sleeps = Sleeps()
            with pytest.raises(Ga4Error) as err:
                pull(clients, PullRequest(PROPERTY, START, END), policy=_policy(sleeps))
            kind = "credentials" if err.value.kind in ("unauthenticated", "no_credentials") else err.value.kind
            seen[status] = (kind, backend.count("GetMetadata") - before, len(sleeps.delays))
            assert ("Gave up after 3 attempts" in err.value.message) == RETRY_TABLE[status][1], status
    expected = {status: (kind, ATTEMPTS if retried else 1, ATTEMPTS - 1 if retried else 0)
                for status, (kind, retried) in RETRY_TABLE.items()}
    assert seen == expected


def test_server_errors_then_success_are_ridden_out() -> None:
    """500, 502 and 504 once each, then an answer: the pull succeeds after three backoffs."""
    backend = make_backend()
    backend.script("GetMetadata", Fault("INTERNAL", "x"), Fault("BAD_GATEWAY", "x"), Fault("DEADLINE_EXCEEDED", "x"))
    sleeps = Sleeps()
    with serve_clients(backend, "rest") as clients:
        result = pull(clients, PullRequest(PROPERTY, START, END),
                      policy=RetryPolicy(attempts=4, base_delay=0.01, max_delay=0.02, sleep=sleeps))
    assert result.tables["traffic"].height == 24
    assert len(sleeps.delays) == 3 and backend.count("GetMetadata") == 4


# One sample of every credential shape (made up, of the real lengths and alphabets).
ACCESS = "ya29.a0AfB_byC3xQ-9kLmNoPqRsTuVwXyZ0123456789abcdefGHIJ"
REFRESH = "1//0gLmNoPqRsTuVwCgYIARAAGBASNwF-L9IrXyZ0123456789abcdef"
API_KEY = "AIzaSyD3xQ9kLmNoPqRsTuVwXyZ0123456789ab"
CLIENT_SECRET = "GOCSPX-3xQ9kLmNoPqRsTuVwXyZ01234567"
JWT = "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJ4QHkuY29tIn0.c2lnbmF0dXJlX2J5dGVz"
EMAIL = "kpi-reader@my-project.iam.gserviceaccount.com"
KEY_ID = "0123456789abcdef0123456789abcdef01234567"


@pytest.mark.parametrize(("secret", "placeholder"), [
    (ACCESS, "[token]"), (REFRESH, "[token]"), (API_KEY, "[api key]"), (CLIENT_SECRET, "[client secret]"),
    (JWT, "[token]"), (EMAIL, "[email]"), (KEY_ID, "[key id]"),
])
def test_redact_every_shape_bare_inside_text(secret: str, placeholder: str) -> None:
    """Bare in a sentence, quoted, and after a label: the value is gone and the placeholder says what was there."""
    for text in (f"Request had invalid credential {secret} for this call.", f'invalid value "{secret}"',
                 f"(x-goog-api-client: {secret}) failed", f"{secret}"):
        out = redact(text)
        assert secret not in out, text
        assert secret[:12] not in out, text
        assert placeholder in out or "[redacted]" in out, out


def test_redact_private_key_and_url_credentials() -> None:
    pem = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7\n-----END PRIVATE KEY-----"
    out = redact(f"key was {pem} via https://user:hunter2@proxy.local:8080/v1")
    assert "MIIEvQ" not in out and "hunter2" not in out and "[private key]" in out


def test_redact_keeps_ordinary_text() -> None:
    text = "Field sessionCampaign is not a valid dimension. Property 123456, 2025-03-01, 1//comment ya29 AIza."
    assert redact(text) == text


@pytest.mark.parametrize("transport", ["rest", "grpc"])
def test_server_message_echoing_tokens_is_redacted(transport: str) -> None:
    """A server (or proxy) that echoes credentials into its error text: none of them reaches the message."""
    backend = make_backend()
    echoed = f"bad request from {EMAIL} with {ACCESS}, refresh {REFRESH}, key {API_KEY}, {CLIENT_SECRET}, {JWT}"
    backend.script("GetMetadata", Fault("INVALID_ARGUMENT", echoed))
    with serve_clients(backend, transport) as clients, pytest.raises(Ga4Error) as err:
        pull(clients, PullRequest(PROPERTY, START, END), policy=_policy(Sleeps()))
    assert err.value.kind == "invalid_request"
    for secret in (EMAIL, ACCESS, REFRESH, API_KEY, CLIENT_SECRET, JWT):
        assert secret[:12] not in err.value.message
    assert "bad request from" in err.value.message
