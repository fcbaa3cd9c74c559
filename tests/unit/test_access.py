"""The shared editor password: hashed constant-time compare, the throttle's waits, and which addresses are open."""

from __future__ import annotations

import hashlib

import pytest

from kpi.access import Throttle, listens_beyond_localhost, password_hash, password_matches

# sha256("correct horse") worked out with hashlib directly, the way the README tells a team to make it
HASH = hashlib.sha256(b"correct horse").hexdigest()


def test_password_matches_only_the_hashed_password() -> None:
    assert password_hash("correct horse") == HASH
    assert password_matches("correct horse", HASH)
    assert password_matches("correct horse", f"  {HASH.upper()}\n")  # as pasted into secrets
    for wrong in ("correct horse ", "Correct horse", "", HASH):
        assert not password_matches(wrong, HASH)
    for broken in ("", "abc", HASH[:-1], HASH[:-1] + "g"):  # a malformed setting opens nothing
        assert not password_matches("correct horse", broken)
        assert not password_matches("", broken)


def test_throttle_waits_grow_and_lock_after_five_in_a_minute() -> None:
    """By hand: tries 1-2 free; after the 3rd wrong try wait 2 s, after the 4th 4 s; five in 60 s lock the
    session until the first of them is 60 s old."""
    th = Throttle()
    assert th.wait(0.0) == 0
    th = th.failed(0.0).failed(1.0)
    assert th.wait(1.0) == 0
    th = th.failed(2.0)
    assert th.wait(2.0) == pytest.approx(2.0) and th.wait(3.5) == pytest.approx(0.5) and th.wait(4.0) == 0
    th = th.failed(4.0)
    assert th.wait(4.0) == pytest.approx(4.0) and th.wait(8.0) == 0
    th = th.failed(8.0)  # the fifth wrong try within a minute
    assert th.wait(8.0) == pytest.approx(52.0)  # until 0.0 + 60
    assert th.wait(59.9) == pytest.approx(0.1)
    # at 60 s the first try leaves the window: four remain, two beyond the free ones, the last at 8 s -> 8 + 4
    assert th.wait(60.0) == 0
    assert th.recent(60.0) == (1.0, 2.0, 4.0, 8.0)


def test_throttle_forgets_tries_older_than_a_minute() -> None:
    th = Throttle((0.0, 1.0, 2.0, 3.0))
    assert th.failed(100.0).failures == (100.0,)
    assert th.wait(100.0) == 0


@pytest.mark.parametrize(("address", "open_"), [
    (None, True), ("", True), ("0.0.0.0", True), ("::", True), ("192.168.1.20", True), ("kpi.example.se", True),
    ("127.0.0.1", False), ("localhost", False), ("::1", False), (" LOCALHOST ", False),
])
def test_listens_beyond_localhost(address: str | None, open_: bool) -> None:
    assert listens_beyond_localhost(address) is open_
