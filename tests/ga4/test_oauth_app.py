"""Sign in with Google (kpi.sources.ga4_oauth, ui/ga4.py) in AppTest: the consent-page address asks for read-only
Analytics with PKCE, Google's return in a new session trades the code at a local OAuth token endpoint on
127.0.0.1 (RFC 6749 / 7636), the code and state leave the address at once, the real GA4 client then lists the
properties with the bearer token it refreshed, and a replayed, forged or declined return connects nothing.

The token endpoint checks the PKCE verifier against the challenge the consent address carried (S256) itself,
so the test does not read the verifier back from the code under test.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from streamlit.testing.v1 import AppTest

from kpi.sources import ga4_oauth
from tests.ga4.ga4_server import RestServer

pytestmark = pytest.mark.usefixtures("fresh_caches")

CLIENT_ID = "1234-kpi.apps.googleusercontent.com"
CLIENT_SECRET = "GOCSPX-test-secret"
REDIRECT = "http://127.0.0.1:8501/data"
CODE = "4/0AQSTgQ-one-time-code"
REFRESH = "1//0g-refresh-token-for-test"


@dataclass
class TokenEndpoint:
    """Google's token endpoint in miniature: one authorisation code, its PKCE challenge, refresh grants."""

    challenge: str = ""
    url: str = ""
    grants: list[dict[str, str]] = field(default_factory=list)
    issued: list[str] = field(default_factory=list)

    def answer(self, form: dict[str, str], authorization: str) -> tuple[int, dict[str, Any]]:
        """RFC 6749 §2.3.1: the client authenticates by HTTP Basic or by id and secret in the form."""
        self.grants.append(form)
        if authorization.startswith("Basic "):
            client_id, _, secret = base64.b64decode(authorization[6:]).decode().partition(":")
            form = {**form, "client_id": client_id, "client_secret": secret}
        if form.get("client_id") != CLIENT_ID or form.get("client_secret") != CLIENT_SECRET:
            return 401, {"error": "invalid_client"}
        if form.get("grant_type") == "authorization_code":
            verifier = form.get("code_verifier", "")
            s256 = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
            if form.get("code") != CODE or s256 != self.challenge or form.get("redirect_uri") != REDIRECT:
                return 400, {"error": "invalid_grant"}
            return 200, self._token(refresh=True)
        if form.get("grant_type") == "refresh_token" and form.get("refresh_token") == REFRESH:
            return 200, self._token(refresh=False)
        return 400, {"error": "invalid_grant"}

    def _token(self, refresh: bool) -> dict[str, Any]:
        access = f"ya29.access-{len(self.issued) + 1}"
        self.issued.append(access)
        token: dict[str, Any] = {"access_token": access, "expires_in": 3599, "token_type": "Bearer",
                                 "scope": ga4_oauth.SCOPE}
        return {**token, "refresh_token": REFRESH} if refresh else token


@pytest.fixture
def token_endpoint() -> Iterator[TokenEndpoint]:
    endpoint = TokenEndpoint()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
            status, payload = endpoint.answer({k: v[0] for k, v in parse_qs(body).items()},
                                              self.headers.get("Authorization", ""))
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    endpoint.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    try:
        yield endpoint
    finally:
        httpd.shutdown()


def panel_script() -> None:
    from datetime import date

    from ui.ga4 import render_ga4_panel

    render_ga4_panel(today=date(2025, 3, 4))


def app(served: RestServer, endpoint: TokenEndpoint, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    # oauthlib refuses plain http; the local endpoint is http on 127.0.0.1, Google's is https.
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    at = AppTest.from_function(panel_script, default_timeout=60)
    at.secrets["ga4_oauth"] = {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "redirect_uri": REDIRECT,
                               "auth_uri": f"{endpoint.url}/auth", "token_uri": f"{endpoint.url}/token",
                               "api_endpoint": served.endpoint}
    return at


def consent_address(at: AppTest) -> dict[str, str]:
    buttons = at.get("link_button")
    assert [b.proto.label for b in buttons] == ["Sign in with Google"]
    url = urlparse(buttons[0].proto.url)
    return {k: v[0] for k, v in parse_qs(url.query).items()} | {"_path": url.path}


def texts(at: AppTest) -> str:
    return "\n".join(str(e.value) for kind in ("error", "warning", "info", "success", "caption", "markdown")
                     for e in getattr(at, kind))


def test_sign_in_with_google_connects_read_only_ga4(served: RestServer, token_endpoint: TokenEndpoint,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    first = app(served, token_endpoint, monkeypatch).run()
    assert not first.exception
    asked = consent_address(first)
    assert asked["_path"] == "/auth"
    assert asked["scope"] == "https://www.googleapis.com/auth/analytics.readonly"
    assert asked["client_id"] == CLIENT_ID and asked["redirect_uri"] == REDIRECT
    assert asked["access_type"] == "offline" and asked["code_challenge_method"] == "S256"
    assert "How to connect Google Analytics 4" in [e.proto.label for e in first.expander]
    token_endpoint.challenge = asked["code_challenge"]
    first.run()  # a rerun keeps the same address: one sign-in under way per session
    assert consent_address(first)["state"] == asked["state"]

    # Google sends the browser back to the Data page: a new session, with the code and state on the address.
    back = app(served, token_endpoint, monkeypatch)
    back.query_params.update({"code": CODE, "state": asked["state"], "scope": ga4_oauth.SCOPE})
    back.run()
    assert not back.exception, back.exception
    assert not {"code", "state", "scope"} & set(back.query_params), "the one-time code stays off the address"
    assert "Connected to Google Analytics with your Google account (read-only)." in texts(back)
    assert [o for o in back.selectbox(key="ga4_property").options] == [
        "Demo shop (123456) · Demo account", "Blog (654321) · Demo account"]
    grants = [g["grant_type"] for g in token_endpoint.grants]
    assert grants == ["authorization_code", "refresh_token"]  # the refresh token, not the code, opens GA4
    bearer = {h.get("Authorization") or h.get("authorization") for h in served.headers}
    assert bearer == {f"Bearer {token_endpoint.issued[-1]}"}
    assert REFRESH not in texts(back) and CODE not in texts(back)

    # The same return again (a reload, or someone who copied the address) connects nothing.
    replay = app(served, token_endpoint, monkeypatch)
    replay.query_params.update({"code": CODE, "state": asked["state"]})
    replay.run()
    assert "This sign-in link has expired or was already used." in texts(replay)
    assert not replay.selectbox, "no property list without a sign-in"
    assert len(token_endpoint.grants) == 2, "a used state never reaches Google's token endpoint"


def test_a_forged_or_declined_return_connects_nothing(served: RestServer, token_endpoint: TokenEndpoint,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    forged = app(served, token_endpoint, monkeypatch)
    forged.query_params.update({"code": CODE, "state": "made-up-state"})
    forged.run()
    assert not forged.exception
    assert "This sign-in link has expired or was already used." in texts(forged)
    assert token_endpoint.grants == []

    first = app(served, token_endpoint, monkeypatch).run()
    declined = app(served, token_endpoint, monkeypatch)
    declined.query_params.update({"error": "access_denied", "state": consent_address(first)["state"]})
    declined.run()
    assert "Google sign-in was cancelled" in texts(declined)
    assert not {"error", "state"} & set(declined.query_params)
    assert token_endpoint.grants == []


def test_the_guide_says_what_to_do_when_the_server_offers_no_sign_in() -> None:
    at = AppTest.from_function(panel_script, default_timeout=60)
    at.query_params["lang"] = "sv"
    at.run()
    assert not at.exception
    assert not at.get("link_button")
    shown = texts(at)
    assert "Logga in med Google" in shown and "[ga4_oauth]" in shown  # step 1 for the administrator
    assert "client_email" in shown  # the service-account route, step by step


def test_sign_ins_and_tokens_on_disk(tmp_path: Path) -> None:
    tokens = ga4_oauth.TokenStore(tmp_path)
    sign_in = ga4_oauth.SignIn("https://accounts.google.com/o/oauth2/auth?…", "state-1", "verifier-1")
    tokens.remember_sign_in(sign_in, now=1_000.0)
    assert tokens.take_sign_in("state-1", now=1_000.0 + ga4_oauth.PENDING_SECONDS + 1) is None  # expired
    tokens.remember_sign_in(sign_in, now=1_000.0)
    assert tokens.take_sign_in("state-1", now=1_300.0) == "verifier-1"
    assert tokens.take_sign_in("state-1", now=1_300.0) is None  # used once
    tokens.save_refresh_token("ann@example.com", REFRESH)
    assert tokens.refresh_token("ann@example.com") == REFRESH
    assert tokens.refresh_token("bo@example.com") is None
    files = [p for p in (tmp_path / "oauth").rglob("*") if p.is_file()]
    assert [p.stat().st_mode & 0o777 for p in files] == [0o600]
    assert all("ann" not in str(p) for p in files), "file names do not carry the e-mail"
    tokens.forget("ann@example.com")
    assert tokens.refresh_token("ann@example.com") is None


def test_missing_client_fields_are_named() -> None:
    with pytest.raises(ga4_oauth.Ga4Error, match="lacks client_secret, redirect_uri"):
        ga4_oauth.OAuthClient.from_settings({"client_id": CLIENT_ID})
