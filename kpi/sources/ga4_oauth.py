"""Sign in with Google for GA4: the OAuth web flow with the read-only Analytics scope, and where its tokens live.

A marketer who can open GA4 in the browser can connect it here without a service account: the app sends
them to Google's consent page, Google sends them back to the app's Data page with a one-time code, and
the app trades that code (with its PKCE verifier) for a refresh token that reads Analytics, nothing else.

The browser comes back in a new app session, so what the round trip needs (the `state` that guards
against a forged return and the PKCE verifier) is kept on the server for ten minutes, used once. The
refresh token is kept per signed-in user in the workspace store's folder (`oauth/`, files readable only
by the server's user), or only in the browser session when sign-in is off. Tokens never go into logs,
messages or URLs: the code and state are taken off the address as soon as the app reads them.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from google.oauth2.credentials import Credentials

from kpi.sources.ga4_errors import Ga4Error, redact

SCOPE = "https://www.googleapis.com/auth/analytics.readonly"
GOOGLE_AUTH_URI = "https://accounts.google.com/o/oauth2/auth"
GOOGLE_TOKEN_URI = "https://oauth2.googleapis.com/token"
PENDING_SECONDS = 600  #: how long a sign-in started on the consent page can be finished


@dataclass(frozen=True)
class OAuthClient:
    """The app's OAuth client ("Web application" in Google Cloud → Credentials) and where Google answers."""

    client_id: str
    client_secret: str
    redirect_uri: str  #: the Data page's address, registered as an authorised redirect URI of the client
    auth_uri: str = GOOGLE_AUTH_URI
    token_uri: str = GOOGLE_TOKEN_URI

    @classmethod
    def from_settings(cls, section: Mapping[str, Any]) -> OAuthClient:
        """The client from a `[ga4_oauth]` secrets section; names the missing field when one is."""
        missing = [f for f in ("client_id", "client_secret", "redirect_uri") if not str(section.get(f) or "").strip()]
        if missing:
            raise Ga4Error("unauthenticated", f"[ga4_oauth] in .streamlit/secrets.toml lacks {', '.join(missing)}: "
                                              "copy them from the OAuth client in Google Cloud → Credentials")
        return cls(str(section["client_id"]), str(section["client_secret"]), str(section["redirect_uri"]),
                   str(section.get("auth_uri") or GOOGLE_AUTH_URI), str(section.get("token_uri") or GOOGLE_TOKEN_URI))

    def _config(self) -> dict[str, Any]:
        return {"web": {"client_id": self.client_id, "client_secret": self.client_secret,
                        "auth_uri": self.auth_uri, "token_uri": self.token_uri, "redirect_uris": [self.redirect_uri]}}


@dataclass(frozen=True)
class SignIn:
    """A sign-in under way: the consent page's address, and what the return must match."""

    url: str
    state: str
    code_verifier: str


def start(client: OAuthClient) -> SignIn:
    """The address of Google's consent page for read-only Analytics access, asking for a refresh token."""
    from google_auth_oauthlib.flow import Flow

    flow = Flow.from_client_config(client._config(), scopes=[SCOPE], redirect_uri=client.redirect_uri)
    state = secrets.token_urlsafe(32)
    url, _ = flow.authorization_url(state=state, access_type="offline", prompt="consent",
                                    include_granted_scopes="true")
    return SignIn(url, state, str(flow.code_verifier))


def finish(client: OAuthClient, code: str, code_verifier: str) -> Credentials:
    """Trade the one-time `code` Google sent back for credentials; a refusal is a Ga4Error saying what to do."""
    from google_auth_oauthlib.flow import Flow
    from oauthlib.oauth2 import OAuth2Error

    flow = Flow.from_client_config(client._config(), scopes=[SCOPE], redirect_uri=client.redirect_uri,
                                   code_verifier=code_verifier, autogenerate_code_verifier=False)
    try:
        flow.fetch_token(code=code)
    except (OAuth2Error, ValueError, OSError) as exc:
        raise Ga4Error("unauthenticated", "Google did not accept the sign-in (" + redact(str(exc)) + "); "
                                          "sign in with Google again") from None
    credentials: Credentials = flow.credentials
    if not credentials.refresh_token:
        raise Ga4Error("unauthenticated", "Google gave no refresh token: remove the app's access at "
                                          "myaccount.google.com → Security → Third-party access, then sign in again")
    return credentials


def credentials(client: OAuthClient, refresh_token: str) -> Credentials:
    """Read-only Analytics credentials from a stored refresh token (an access token is fetched when needed)."""
    return Credentials(None, refresh_token=refresh_token, token_uri=client.token_uri,  # type: ignore[no-untyped-call]
                       client_id=client.client_id, client_secret=client.client_secret, scopes=[SCOPE])


class TokenStore:
    """Sign-ins under way and refresh tokens per user, in `<data dir>/oauth/` (mode 0600, atomic writes)."""

    def __init__(self, data_dir: str | Path) -> None:
        self.root = Path(data_dir) / "oauth"

    def _path(self, kind: str, key: str) -> Path:
        return self.root / kind / (hashlib.sha256(key.encode()).hexdigest() + ".json")

    def _write(self, path: Path, payload: dict[str, Any]) -> None:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")  # created 0600
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump(payload, out)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def remember_sign_in(self, sign_in: SignIn, now: float | None = None) -> None:
        """Keep what the return from Google must match, for PENDING_SECONDS."""
        self._write(self._path("pending", sign_in.state),
                    {"code_verifier": sign_in.code_verifier, "created": time.time() if now is None else now})

    def take_sign_in(self, state: str, now: float | None = None) -> str | None:
        """The PKCE verifier of the sign-in started with `state`, once; None when unknown, used or expired."""
        path = self._path("pending", state)
        try:
            taken = path.with_suffix(f".taken-{secrets.token_hex(8)}")
            os.replace(path, taken)  # only one return can take it
        except OSError:
            return None
        try:
            payload = json.loads(taken.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        finally:
            taken.unlink(missing_ok=True)
        fresh = (time.time() if now is None else now) - float(payload.get("created", 0)) <= PENDING_SECONDS
        verifier = payload.get("code_verifier")
        return str(verifier) if fresh and verifier else None

    def save_refresh_token(self, user: str, refresh_token: str) -> None:
        self._write(self._path("users", user), {"refresh_token": refresh_token})

    def refresh_token(self, user: str) -> str | None:
        try:
            payload = json.loads(self._path("users", user).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        token = payload.get("refresh_token")
        return str(token) if token else None

    def forget(self, user: str) -> None:
        self._path("users", user).unlink(missing_ok=True)
