"""Saved views behind share links: pinning, revoking, expiry, token strength and what a view may hold."""

from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest

from kpi.settings import Settings
from kpi.store import (
    PersonalData,
    Store,
    StoreError,
    UnsafeViewState,
    VersionNotFound,
    ViewExpired,
    ViewNotFound,
    ViewRevoked,
    token_id,
)


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(tmp_path: Path, clock: Clock) -> Store:
    return Store(tmp_path / "data", clock=clock)


def leads(ids: list[str]) -> pl.DataFrame:
    return pl.DataFrame({"lead_id": ids, "created_at": [datetime(2025, 1, 1)] * len(ids)})


@pytest.fixture
def ws(store: Store) -> str:
    ws = store.create_workspace("Nordic B2B").id
    store.save(ws, "leads", leads(["a", "b"]), source="crm-may.csv")
    return ws


STATE = {"filters": {"channel": ["Email", "Продажи"], "segment": "SMB"}, "period": "2025-Q2", "lang": "sv"}


def test_view_pins_page_state_versions_and_settings(store: Store, ws: str, clock: Clock) -> None:
    pinned = store.latest_versions(ws)
    token = store.create_view(ws, "funnel", STATE, created_by="Åsa Öberg", title="Board Q2")
    follow = store.create_view(ws, "funnel", STATE, follow_latest=True)

    clock.now += timedelta(days=1)
    store.save(ws, "leads", leads(["a", "b", "c"]), source="crm-june.csv")  # a later upload
    store.save(ws, "spend", pl.DataFrame({"date": [datetime(2025, 1, 1).date()], "spend": [10.0]}), source="ads")
    store.save_settings(ws, Settings(currency="SEK"))

    view = store.resolve_view(token)
    assert (view.page, view.state, view.created_by, view.title) == ("funnel", STATE, "Åsa Öberg", "Board Q2")
    assert view.created_at == datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
    assert view.dataset_versions == pinned  # no spend: it did not exist when the link was made
    assert view.settings.currency == "EUR"
    assert view.status == "active" and not view.follow_latest
    tables = store.tables(ws, view.dataset_versions)
    assert list(tables) == ["leads"] and tables["leads"]["lead_id"].to_list() == ["a", "b"]  # the old numbers

    latest = store.resolve_view(follow)
    assert latest.dataset_versions == store.latest_versions(ws) and set(latest.dataset_versions) == {"leads", "spend"}
    assert latest.settings.currency == "SEK"
    assert store.tables(ws, latest.dataset_versions)["leads"].height == 3


def test_explicit_versions_must_belong_to_the_workspace(store: Store, ws: str) -> None:
    other = store.create_workspace("Other").id
    foreign = store.save(other, "leads", leads(["x"]), source="o").id
    with pytest.raises(VersionNotFound, match="has no version"):
        store.create_view(ws, "funnel", {}, {"leads": foreign})
    v1 = store.version(ws, "leads").id
    store.save(ws, "leads", leads(["c"]), source="later")
    token = store.create_view(ws, "funnel", {}, {"leads": v1})
    assert store.resolve_view(token).dataset_versions == {"leads": v1}


def test_token_has_at_least_128_bits_and_is_not_stored(store: Store, ws: str) -> None:
    tokens = [store.create_view(ws, "funnel", STATE) for _ in range(50)]
    for token in tokens:
        assert re.fullmatch(r"[A-Za-z0-9_-]{43}", token)  # 43 chars x 6 bits = 258 bits (32 random bytes)
    assert len(set(tokens)) == len(tokens)
    assert len({t[:8] for t in tokens}) == len(tokens)  # no shared prefix or counter

    catalog = b"".join(p.read_bytes() for p in store.data_dir.glob("catalog.sqlite*"))
    assert token_id(tokens[0]).encode() in catalog  # the search below can see what is stored...
    for token in tokens:
        assert token.encode() not in catalog  # ...and the tokens themselves are not there
    assert all(tokens[0] not in repr(v) for v in store.list_views(ws))


def test_random_tokens_never_resolve(store: Store, ws: str) -> None:
    real = store.create_view(ws, "funnel", STATE)
    guesses = [secrets.token_urlsafe(32) for _ in range(10_000)]
    guesses += [real[:-1] + ("A" if real[-1] != "A" else "B"), real.upper(), real + "x", "", "' OR 1=1 --"]
    guesses += [token_id(real)]  # the id from a leaked catalog is not a link
    for guess in guesses:
        with pytest.raises(ViewNotFound, match="This link is not valid"):
            store.resolve_view(guess)
    assert store.resolve_view(real).page == "funnel"


def test_revoke_by_token_or_listed_id(store: Store, ws: str, clock: Clock) -> None:
    a = store.create_view(ws, "funnel", STATE)
    clock.now += timedelta(minutes=1)
    b = store.create_view(ws, "campaigns", {})
    listed = store.list_views(ws)
    assert [v.page for v in listed] == ["campaigns", "funnel"]  # newest first

    clock.now = datetime(2025, 6, 2, 9, 30, tzinfo=UTC)
    store.revoke_view(a)
    with pytest.raises(ViewRevoked, match="revoked on 2025-06-02 09:30 UTC") as err:
        store.resolve_view(a)
    assert a not in str(err.value)
    store.revoke_view(listed[0].id)  # the list gives ids, not tokens
    with pytest.raises(ViewRevoked):
        store.resolve_view(b)
    assert {v.status for v in store.list_views(ws)} == {"revoked"}
    with pytest.raises(ViewNotFound):
        store.revoke_view(secrets.token_urlsafe(32))


def test_expiry(store: Store, ws: str, clock: Clock) -> None:
    token = store.create_view(ws, "funnel", STATE, expires_at=clock.now + timedelta(hours=1))
    assert store.resolve_view(token).expires_at == datetime(2025, 6, 1, 13, 0, tzinfo=UTC)
    clock.now += timedelta(minutes=59)
    assert store.resolve_view(token).status == "active"
    clock.now += timedelta(minutes=1)
    with pytest.raises(ViewExpired, match="expired on 2025-06-01 13:00 UTC"):
        store.resolve_view(token)
    assert store.list_views(ws)[0].status == "expired"

    never = store.create_view(ws, "funnel", STATE)  # the share dialog's "never"
    week = store.create_view(ws, "funnel", STATE, expires_at=clock.now + timedelta(days=7))
    assert store.resolve_view(never).expires_at is None
    assert store.resolve_view(week).status == "active"
    clock.now += timedelta(days=8)
    with pytest.raises(ViewExpired):
        store.resolve_view(week)
    assert store.resolve_view(never).status == "active"

    with pytest.raises(StoreError, match="must be in the future"):
        store.create_view(ws, "funnel", STATE, expires_at=clock.now - timedelta(seconds=1))
    with pytest.raises(ValueError, match="timezone-aware"):
        store.create_view(ws, "funnel", STATE, expires_at=datetime(2030, 1, 1))


@pytest.mark.parametrize(
    ("state", "named"),
    [
        ({"password": "x"}, "password"),
        ({"filters": {"ga4": {"access_token": "ya29.x"}}}, "filters.ga4.access_token"),
        ({"clientSecret": "x"}, "clientSecret"),
        ({"private_key": "x"}, "private_key"),
        ({"service_account": {"credentials": {}}}, "service_account.credentials"),
        ({"API-Key": "x"}, "API-Key"),
        ({"note": "-----BEGIN PRIVATE KEY-----\nMIIE"}, "note"),
        ({"auth": "Bearer abc.def"}, "auth"),
        ({"q": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig"}, "q"),
        ({"rows": "lead_id;email\n" + "L1;anna@example.com\n" * 200}, "rows"),
        ({"campaign": [f"c{i}" for i in range(5000)]}, "campaign"),
        ({"data": [{"lead_id": f"L{i}", "email": f"p{i}@example.com"} for i in range(900)]}, "data[0].email"),
        ({"data": [{"lead_id": f"L{i}", "name": "Anna Svensson Lindqvist"} for i in range(900)]}, "view state is"),
        ({"when": datetime(2025, 1, 1)}, "when"),
    ],
)
def test_state_with_credentials_or_data_is_refused(store: Store, ws: str, state: dict[str, object],
                                                   named: str) -> None:
    with pytest.raises(UnsafeViewState) as err:
        store.create_view(ws, "funnel", state)
    assert named in str(err.value)
    assert "ya29" not in str(err.value) and "anna@" not in str(err.value)  # the value is never echoed
    assert store.list_views(ws) == []


def test_ordinary_filter_states_are_accepted(store: Store, ws: str) -> None:
    state = {"filters": {"channel": ["Email"] * 300, "region": "Москва", "author": "Åsa"}, "compare": None,
             "period": {"start": "2025-01-01", "end": "2025-03-31"}, "cohort": True, "top_n": 10, "lang": "ru"}
    assert store.resolve_view(store.create_view(ws, "campaigns", state)).state == state


@pytest.mark.parametrize(("value", "kind"), [
    ("anna.svensson@example.se", "email"), ("Lead: <ivan@пример.рф>", None), ("mailto:ivan@example.ru", "email"),
    ("+46 70-123 45 67", "phone"), ("070-123 45 67", "phone"), ("0701234567", "phone"), ("(555) 123-4567", "phone"),
    ("555-123-4567", "phone"), ("+7 (495) 123-45-67", "phone"), ("0046 8 123 456 78", "phone"),
])
def test_personal_filter_values_are_refused(store: Store, ws: str, value: str, kind: str | None) -> None:
    """An e-mail address or phone number as a filter value: refused with the filter named, never the value."""
    state = {"lang": "sv", "owner": ["Åsa", value]}
    if kind is None:  # an address in a non-ASCII domain has no Latin top-level domain: not recognised (a known gap)
        assert store.resolve_view(store.create_view(ws, "funnel", state)).state == state
        return
    with pytest.raises(PersonalData) as err:
        store.create_view(ws, "funnel", state)
    assert err.value.kind == kind and err.value.path == "owner[1]"
    assert "owner[1]" in str(err.value) and value not in str(err.value)
    assert ("e-mail address" if kind == "email" else "phone number") in str(err.value)
    assert store.list_views(ws) == []


def test_values_that_only_resemble_personal_data_are_accepted(store: Store, ws: str) -> None:
    """Dates, plain numeric ids, short numbers and formula-like campaign names are not personal data."""
    state = {"from": "2026-01-31", "to": "2026-03-31T00:00:00", "campaign": ["12345678901", "2025-10", "+cmd",
             "-1+1", "@SUM(A1)", "=HYPERLINK(\"http://evil.example\",\"x\")", "Q4 2026", "10.000", "+1"]}
    assert store.resolve_view(store.create_view(ws, "campaigns", state)).state == state


def test_a_slice_only_link_keeps_its_slice(store: Store, ws: str) -> None:
    explore = store.resolve_view(store.create_view(ws, "funnel", {"channel": ["Meta"]}))
    assert explore.slice is None
    token = store.create_view(ws, "funnel", {"channel": ["Meta"]}, slice={"channel": ["Meta"], "region": []})
    view = store.resolve_view(token)
    assert view.slice == {"channel": ["Meta"]}
    assert view.state == {"channel": ["Meta"], "slice": {"channel": ["Meta"]}}


def test_a_slice_only_link_needs_a_filter_and_no_personal_value(store: Store, ws: str) -> None:
    with pytest.raises(StoreError, match="at least one filter"):
        store.create_view(ws, "funnel", {}, slice={"channel": []})
    with pytest.raises(StoreError, match="set through `slice`"):
        store.create_view(ws, "funnel", {"slice": {"channel": ["Meta"]}})
    with pytest.raises(PersonalData):
        store.create_view(ws, "funnel", {}, slice={"owner": ["anna@example.com"]})
    assert store.list_views(ws) == []
