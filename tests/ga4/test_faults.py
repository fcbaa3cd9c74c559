"""Each GA4 failure through the real clients (REST and gRPC): retried or not, and the message it becomes."""

from __future__ import annotations

import logging
import random
import socket
import time
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from kpi.sources.ga4 import Clients, Ga4Report, PullRequest, ReportSpec, make_clients, pull, service_account_credentials
from kpi.sources.ga4_errors import Ga4Error, RetryPolicy, next_quota_reset, redact
from tests.ga4.conftest import PROPERTY, fake_service_account, make_backend, serve_clients
from tests.ga4.ga4_server import Backend, Fault, rest_server

START, END = date(2025, 3, 1), date(2025, 3, 3)


class Sleeps:
    """Records each backoff delay and really sleeps it (delays are tiny in these tests)."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)
        time.sleep(seconds)


def policy(sleeps: Sleeps, attempts: int = 4, timeout: float = 5.0) -> RetryPolicy:
    return RetryPolicy(attempts=attempts, base_delay=0.02, max_delay=0.05, timeout=timeout, sleep=sleeps,
                       rng=random.Random(3))


def test_rate_limit_then_success_is_retried_with_backoff(clients: Clients, backend: Backend) -> None:
    backend.script("RunReport", Fault.rate_limited(), None)
    sleeps = Sleeps()
    result = pull(clients, PullRequest(PROPERTY, START, END), policy=policy(sleeps))
    assert result.tables["traffic"].height == 24
    assert len(sleeps.delays) == 1 and 0 <= sleeps.delays[0] <= 0.02  # first backoff: at most base_delay
    assert backend.count("RunReport") == 3 + 1  # traffic, key events, ads + the refused one


def test_unavailable_twice_then_success(clients: Clients, backend: Backend) -> None:
    backend.script("RunReport", Fault.unavailable(), Fault.unavailable(), None)
    sleeps = Sleeps()
    result = pull(clients, PullRequest(PROPERTY, START, END), policy=policy(sleeps))
    assert "traffic" in result.tables
    assert len(sleeps.delays) == 2
    assert sleeps.delays[0] <= 0.02 and sleeps.delays[1] <= 0.04  # full jitter under base * 2**attempt


def test_unavailable_beyond_the_attempts_names_the_page(clients: Clients, backend: Backend) -> None:
    backend.script("RunReport", None, None, *[Fault.unavailable()] * 4)  # pages 1 and 2 arrive, page 3 never
    with pytest.raises(Ga4Error) as err:
        pull(clients, PullRequest(PROPERTY, START, END, page_size=7), policy=policy(Sleeps()))
    assert err.value.kind == "unavailable"
    assert "page 3 (rows from 15) of the traffic report" in err.value.message
    assert "Gave up after 4 attempts" in err.value.message


def test_permission_denied_is_not_retried(clients: Clients, backend: Backend) -> None:
    sleeps = Sleeps()
    with pytest.raises(Ga4Error) as err:
        pull(clients, PullRequest("999", START, END), policy=policy(sleeps))
    assert err.value.kind == "no_access"
    assert "as Viewer on property 999" in err.value.message
    assert sleeps.delays == [] and backend.count("GetMetadata") == 1


def test_invalid_field_from_the_server(clients: Clients, backend: Backend) -> None:
    spec = ReportSpec("typo", ("date", "sessionCampaign"), ("sessions",))
    with pytest.raises(Ga4Error) as err:
        Ga4Report(clients, PROPERTY, START, END, policy=policy(Sleeps())).run(spec, check=False)  # let GA4 say it
    assert err.value.kind == "invalid_field"
    assert "'sessionCampaign' is not a valid GA4 dimension for property 123456" in err.value.message
    assert backend.count("RunReport") == 1


def test_exhausted_daily_quota_is_not_retried_and_says_until_when(clients: Clients, backend: Backend) -> None:
    backend.script("RunReport", Fault.daily_quota())
    sleeps = Sleeps()
    before = datetime.now(UTC)
    with pytest.raises(Ga4Error) as err:
        pull(clients, PullRequest(PROPERTY, START, END), policy=policy(sleeps))
    assert err.value.kind == "quota_daily" and sleeps.delays == [] and backend.count("RunReport") == 1
    until = err.value.until
    assert until is not None
    pacific = until.astimezone(ZoneInfo("America/Los_Angeles"))
    assert (pacific.hour, pacific.minute) == (0, 0) and 0 < (until - before).total_seconds() <= 25 * 3600
    assert f"{until.astimezone():%Y-%m-%d %H:%M}" in err.value.message


def test_quota_reset_times() -> None:
    # 2025-03-10 15:30 UTC is 08:30 in Los Angeles (PDT, UTC-7): the day resets at 07:00 UTC on the 11th.
    now = datetime(2025, 3, 10, 15, 30, tzinfo=UTC)
    assert next_quota_reset("day", now) == datetime(2025, 3, 11, 7, 0, tzinfo=UTC)
    assert next_quota_reset("hour", now) == datetime(2025, 3, 10, 16, 0, tzinfo=UTC)


def test_slow_server_hits_the_timeout(clients: Clients, backend: Backend) -> None:
    backend.script("GetMetadata", Fault.slow(2.0))
    started = time.monotonic()
    with pytest.raises(Ga4Error) as err:
        pull(clients, PullRequest(PROPERTY, START, END), policy=policy(Sleeps(), timeout=0.5))
    assert err.value.kind == "timeout"
    assert "did not answer within 0.5 s" in err.value.message
    assert time.monotonic() - started < 1.9


@pytest.mark.parametrize("transport", ["rest", "grpc"])
def test_network_down(transport: str) -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    endpoint = f"http://127.0.0.1:{port}" if transport == "rest" else f"grpc://127.0.0.1:{port}"
    sleeps = Sleeps()
    with pytest.raises(Ga4Error) as err:
        pull(make_clients(None, endpoint), PullRequest(PROPERTY, START, END), policy=policy(sleeps, attempts=2,
                                                                                         timeout=2.0))
    assert err.value.kind == "network", err.value.message
    assert "network is down" in err.value.message
    assert len(sleeps.delays) == 1


def test_no_credential_in_messages_logs_or_urls(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """A real (throwaway) service-account key signs self-signed JWTs for the REST transport; whatever fails,
    neither its email nor its private key nor its key id reaches an error, a log line or a URL."""
    from google.auth import jwt

    _, info = fake_service_account(tmp_path)
    secrets = [info["client_email"], info["client_email"].split("@")[0], info["private_key_id"],
               *[line for line in info["private_key"].splitlines() if "PRIVATE KEY" not in line][:3]]
    backend = make_backend()
    # A proxy that echoes the caller back into its error text: the message must come out redacted.
    backend.script("GetMetadata", Fault("INVALID_ARGUMENT", f"bad caller {info['client_email']} with key "
                                        f"{info['private_key'][:200]} id {info['private_key_id']}"),
                   Fault.forbidden(), Fault.daily_quota(), Fault.slow(1.0))
    messages = []
    caplog.set_level(logging.DEBUG)
    with rest_server(backend) as server:
        clients = make_clients(service_account_credentials(info), server.endpoint)
        for _ in range(4):
            with pytest.raises(Ga4Error) as err:
                pull(clients, PullRequest(PROPERTY, START, END), policy=policy(Sleeps(), attempts=2, timeout=0.4))
            messages.append(str(err.value))
        backend.script("RunReport", Fault.rate_limited())
        pull(clients, PullRequest(PROPERTY, START, END), policy=policy(Sleeps()))
    assert [m.split(":")[0] for m in messages][1].startswith("No access")
    text = "\n".join(messages) + caplog.text + "\n".join(h["path"] for h in server.headers)
    for secret in secrets:
        assert secret not in text
    assert "[email]" in messages[0] and "[private key]" in messages[0]
    # ...while the server did receive a JWT signed with that key, in a header.
    token = server.headers[0]["authorization"].removeprefix("Bearer ")
    public = _public_pem(info["private_key"])
    claims = jwt.decode(token, certs={info["private_key_id"]: public}, verify=True, audience=None)
    assert claims["iss"] == info["client_email"]


def test_redact_removes_credential_shapes() -> None:
    text = ("user a.b@x.iam.gserviceaccount.com token=ya29.abcdefghijklmnop url https://u:pw@proxy:8080/x "
            "-----BEGIN PRIVATE KEY-----\nMIIEv\n-----END PRIVATE KEY----- Bearer eyJhbGciOi.eyJzdWIiOi.sig123")
    out = redact(text)
    for secret in ("a.b@x", "ya29.abcdefghijklmnop", "u:pw@", "MIIEv", "eyJhbGciOi"):
        assert secret not in out


def test_not_a_service_account_key_is_explained() -> None:
    with pytest.raises(Ga4Error, match="missing: private_key"):
        service_account_credentials({"type": "service_account", "client_email": "x@y.z", "token_uri": "t"})


def _public_pem(private_pem: str) -> bytes:
    from cryptography.hazmat.primitives import serialization

    key = serialization.load_pem_private_key(private_pem.encode(), password=None)
    return key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


@pytest.mark.parametrize("transport", ["rest", "grpc"])
def test_both_transports_raise_the_same_kinds(transport: str) -> None:
    backend = make_backend()
    kinds = []
    with serve_clients(backend, transport) as clients:
        for fault in (Fault.forbidden(), Fault.daily_quota(),
                      Fault("INVALID_ARGUMENT", "Field fooBar is not a valid metric.")):
            backend.script("GetMetadata", fault)
            with pytest.raises(Ga4Error) as err:
                pull(clients, PullRequest(PROPERTY, START, END), policy=policy(Sleeps()))
            kinds.append(err.value.kind)
    assert kinds == ["no_access", "quota_daily", "invalid_field"]
