"""Who may reach the editing app when no identity provider is configured: a shared editor password.

The password is never stored: secrets hold its sha256 (`[editor] password_sha256 = "<hex>"`), and an entered
password is hashed and compared in constant time. Guessing is slowed per browser session: the first
`FREE_TRIES` wrong tries answer at once, each later one doubles the wait before the next try is even
checked, and `MAX_TRIES` wrong tries within `WINDOW_S` seconds lock the session until the oldest of them is
that old. Also here: whether a server address is reachable from other machines.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

#: Wrong tries allowed within WINDOW_S seconds, of which the first FREE_TRIES are answered without a wait.
MAX_TRIES = 5
WINDOW_S = 60.0
FREE_TRIES = 2
#: The wait after the first wrong try beyond FREE_TRIES; it doubles with each further one, up to WINDOW_S.
FIRST_DELAY_S = 2.0
LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})


def password_hash(password: str) -> str:
    """The hex sha256 of `password` (UTF-8), the form secrets hold it in."""
    return hashlib.sha256(password.encode("utf-8")).hexdigest()


def password_matches(entered: str, expected_sha256: str) -> bool:
    """Does `entered` hash to `expected_sha256` (hex, any case)? Constant-time compare; an empty or
    malformed expected hash matches nothing."""
    expected = expected_sha256.strip().lower()
    if len(expected) != 64 or any(c not in "0123456789abcdef" for c in expected):
        return False
    return hmac.compare_digest(password_hash(entered), expected)


@dataclass(frozen=True)
class Throttle:
    """The wrong tries of one session (their times in seconds, oldest first) and what they allow now."""

    failures: tuple[float, ...] = ()

    def recent(self, now: float) -> tuple[float, ...]:
        return tuple(f for f in self.failures if now - f < WINDOW_S)

    def wait(self, now: float) -> float:
        """Seconds until the next try may be checked (0: now)."""
        recent = self.recent(now)
        if len(recent) >= MAX_TRIES:
            return recent[-MAX_TRIES] + WINDOW_S - now
        beyond = len(recent) - FREE_TRIES
        if beyond <= 0:
            return 0.0
        delay = min(WINDOW_S, FIRST_DELAY_S * 2.0 ** (beyond - 1))
        return max(0.0, recent[-1] + delay - now)

    def failed(self, now: float) -> Throttle:
        """This throttle with one more wrong try at `now` (tries older than the window are dropped)."""
        return Throttle((*self.recent(now), now))


def listens_beyond_localhost(address: str | None) -> bool:
    """Is a server bound to `address` reachable from other machines? Unset, '', 0.0.0.0 and :: mean every
    interface (Streamlit's default); only a loopback address keeps it to this machine."""
    return (address or "").strip().lower() not in LOOPBACK

