"""Fixtures for the GA4 tests: a recorded-shape property served over REST and gRPC on 127.0.0.1."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from kpi.sources.ga4 import Clients, make_clients
from tests.ga4.ga4_server import CURRENCY, FLOAT, INTEGER, Backend, Cube, Journey, RestServer, grpc_server, rest_server

PROPERTY = "123456"
DAYS = ("20250301", "20250302", "20250303")

# (channel group, source, medium, campaign) as GA4 reports them, including '(not set)' and '(other)'.
TRAFFIC_KEYS = (
    ("Paid Search", "google", "cpc", "spring_sale"),
    ("Paid Social", "facebook", "paid", "spring_sale"),
    ("Paid Social", "linkedin", "paid", "abm_q1"),
    ("Organic Search", "google", "organic", "(not set)"),
    ("Direct", "(direct)", "(none)", "(not set)"),
    ("Email", "newsletter", "email", "march_news"),
    ("Cross-network", "google", "cpc", "pmax_all"),
    ("Unassigned", "(not set)", "(not set)", "(other)"),
)
DEVICES = ("desktop", "mobile")


def traffic_rows(seed: int = 7) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    rows = []
    for day in DAYS:
        for group, source, medium, campaign in TRAFFIC_KEYS:
            for device in DEVICES:
                sessions = rng.randint(5, 400)
                engaged = rng.randint(0, sessions)
                users = rng.randint(1, sessions)
                rows.append({
                    "date": day, "sessionDefaultChannelGroup": group, "sessionSource": source,
                    "sessionMedium": medium, "sessionCampaignName": campaign, "deviceCategory": device,
                    "country": "Sweden" if device == "desktop" else "Norway", "landingPage": f"/{campaign}",
                    "sessions": sessions, "engagedSessions": engaged, "totalUsers": users,
                    "newUsers": rng.randint(0, users), "keyEvents": rng.randint(0, 9) * 1.0,
                    "totalRevenue": round(rng.uniform(0, 900), 2),
                })
    return rows


def event_rows() -> list[dict[str, Any]]:
    rows = []
    for i, day in enumerate(DAYS):
        for event, key in (("generate_lead", 3 + i), ("purchase", 2 * i), ("page_view", 0)):
            for group, source, campaign in (("Paid Search", "google", "spring_sale"), ("Email", "newsletter",
                                                                                      "march_news")):
                rows.append({"date": day, "eventName": event, "sessionDefaultChannelGroup": group,
                             "sessionSource": source, "sessionCampaignName": campaign, "keyEvents": float(key),
                             "eventCount": 10 + key})
    return rows


def ads_rows() -> list[dict[str, Any]]:
    return [
        {"date": "20250301", "sessionGoogleAdsCampaignName": "spring_sale", "advertiserAdCost": 120.5,
         "advertiserAdClicks": 40, "advertiserAdImpressions": 1500},
        {"date": "20250301", "sessionGoogleAdsCampaignName": "pmax_all", "advertiserAdCost": 80.25,
         "advertiserAdClicks": 22, "advertiserAdImpressions": 3100},
        {"date": "20250302", "sessionGoogleAdsCampaignName": "spring_sale", "advertiserAdCost": 99.75,
         "advertiserAdClicks": 31, "advertiserAdImpressions": 1420},
        {"date": "20250303", "sessionGoogleAdsCampaignName": "pmax_all", "advertiserAdCost": 0.0,
         "advertiserAdClicks": 0, "advertiserAdImpressions": 0},
    ]


TRAFFIC_DIMS = ("date", "sessionDefaultChannelGroup", "sessionSource", "sessionMedium", "sessionCampaignName",
                "deviceCategory", "country", "landingPage")
TRAFFIC_METRICS = {"sessions": INTEGER, "engagedSessions": INTEGER, "totalUsers": INTEGER, "newUsers": INTEGER,
                   "keyEvents": FLOAT, "totalRevenue": CURRENCY}

# Funnel journeys: (user, device, events). Worked by hand in test_funnel.
JOURNEYS = [
    Journey("u1", "desktop", [("page_view", "/pricing"), ("form_start", "/demo"), ("generate_lead", "/demo")]),
    Journey("u2", "desktop", [("page_view", "/pricing"), ("form_start", "/demo")]),
    Journey("u3", "mobile", [("page_view", "/blog"), ("page_view", "/pricing")]),
    Journey("u4", "mobile", [("form_start", "/demo"), ("generate_lead", "/demo")]),
    Journey("u5", "mobile", [("generate_lead", "/demo"), ("page_view", "/pricing")]),
    Journey("u6", "desktop", [("page_view", "/home")]),
]


def make_backend(**kwargs: Any) -> Backend:
    cubes = [
        Cube(TRAFFIC_DIMS, TRAFFIC_METRICS, traffic_rows()),
        Cube(("date", "eventName", "sessionDefaultChannelGroup", "sessionSource", "sessionCampaignName"),
             {"keyEvents": FLOAT, "eventCount": INTEGER}, event_rows()),
        Cube(("date", "sessionGoogleAdsCampaignName"),
             {"advertiserAdCost": CURRENCY, "advertiserAdClicks": INTEGER, "advertiserAdImpressions": INTEGER},
             ads_rows()),
    ]
    return Backend(cubes=cubes, properties={PROPERTY: "Demo shop", "654321": "Blog"}, journeys=list(JOURNEYS),
                   **kwargs)


@pytest.fixture
def backend() -> Backend:
    return make_backend()


@pytest.fixture(params=["rest", "grpc"])
def transport(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@contextmanager
def serve_clients(backend: Backend, transport: str) -> Iterator[Clients]:
    """Real google-analytics clients talking to `backend` on 127.0.0.1 over REST (anonymous credentials on an
    http:// endpoint) or gRPC (insecure channel)."""
    if transport == "rest":
        with rest_server(backend) as server:
            yield make_clients(None, server.endpoint)
    else:
        with grpc_server(backend) as address:
            yield make_clients(None, f"grpc://{address}")


@pytest.fixture
def clients(backend: Backend, transport: str) -> Iterator[Clients]:
    with serve_clients(backend, transport) as made:
        yield made


def fake_service_account(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """A throwaway service-account key with a fresh RSA key: it can sign JWTs but opens nothing."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    info = {
        "type": "service_account", "project_id": "kpi-test", "private_key_id": "0123456789abcdef" * 2 + "01234567",
        "private_key": pem, "client_email": "kpi-puller@kpi-test.iam.gserviceaccount.com", "client_id": "1234567890",
        "token_uri": "https://oauth2.googleapis.com/token",
    }
    path = tmp_path / "sa.json"
    path.write_text(json.dumps(info))
    return path, info


@pytest.fixture
def served() -> Iterator[RestServer]:
    """The local GA4 REST server with the standard fixture data."""
    with rest_server(make_backend()) as server:
        yield server


@pytest.fixture
def fresh_caches() -> None:
    """Each test's server has a new port: drop connections (st.connection caches them as resources) and
    cached GA4 answers."""
    import streamlit as st

    from ui.ga4 import _cached_funnel, _cached_properties, _cached_pull

    st.cache_resource.clear()
    for cached in (_cached_pull, _cached_funnel, _cached_properties):
        cached.clear()
