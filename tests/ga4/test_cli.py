"""`python -m kpi ga4` in a subprocess against the local REST server (GA4_API_ENDPOINT=http://127.0.0.1:PORT).

Credentials: GOOGLE_APPLICATION_CREDENTIALS points at a throwaway service-account key made in the test (a fresh
RSA key); the REST transport signs a self-signed JWT with it, so no token endpoint is contacted.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections import defaultdict
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from tests.ga4.conftest import PROPERTY, ads_rows, fake_service_account, traffic_rows
from tests.ga4.ga4_server import Fault, RestServer

REPO = Path(__file__).resolve().parents[2]


def run(server: RestServer, tmp_path: Path, *args: str, creds: bool = True) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "GOOGLE_APPLICATION_CREDENTIALS"}
    env["GA4_API_ENDPOINT"] = server.endpoint
    env["PYTHONPATH"] = str(REPO)
    if creds:
        env["GOOGLE_APPLICATION_CREDENTIALS"] = str(fake_service_account(tmp_path)[0])
    return subprocess.run([sys.executable, "-m", "kpi", "ga4", *args], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=120)


def test_pull_writes_traffic_and_spend(served: RestServer, tmp_path: Path) -> None:
    out = tmp_path / "out"
    proc = run(served, tmp_path, "--property", PROPERTY, "--from", "2025-03-01", "--to", "2025-03-02",
               "--out", str(out), "--page-size", "5", "--dimensions", "device")
    assert proc.returncode == 0, proc.stderr
    traffic = pl.read_parquet(out / "traffic.parquet")

    # Independent: the fixture's rows on 1-2 March, summed by (day, device, campaign) with '(not set)' -> None.
    expected: dict[tuple[date, str, str | None], int] = defaultdict(int)
    for row in traffic_rows():
        if row["date"] in ("20250301", "20250302"):
            day = date(int(row["date"][:4]), int(row["date"][4:6]), int(row["date"][6:]))
            campaign = None if row["sessionCampaignName"] == "(not set)" else row["sessionCampaignName"]
            expected[(day, row["deviceCategory"], campaign)] += row["sessions"]
    got = traffic.group_by("date", "device", "campaign").agg(pl.col("sessions").sum())
    assert {(d, dev, c): s for d, dev, c, s in got.iter_rows()} == dict(expected)
    assert traffic.height == 2 * 8 * 2  # days x GA4 keys x devices: 32 rows = 7 pages of 5
    assert sum(1 for m, r in served.backend.calls if m == "RunReport" and r.metrics[0].name == "sessions") == 7
    assert traffic.schema["date"] == pl.Date and traffic.schema["sessions"] == pl.Int64

    spend = pl.read_parquet(out / "spend.parquet")
    cost = sum(r["advertiserAdCost"] for r in ads_rows() if r["date"] <= "20250302")
    assert spend["spend"].sum() == pytest.approx(cost) == pytest.approx(300.5)
    assert (out / "key_events.parquet").exists()
    assert "traffic.parquet: 32 rows" in proc.stdout

    # The requests carried a JWT header, and nothing of the key reached the URLs or the output.
    assert all(h.get("authorization", "").startswith("Bearer ey") for h in served.headers)
    assert not any("@" in h["path"] or "key" in h["path"].lower() for h in served.headers)
    assert "gserviceaccount" not in proc.stdout + proc.stderr


def test_anonymous_on_a_local_http_endpoint(served: RestServer, tmp_path: Path) -> None:
    proc = run(served, tmp_path, "--property", PROPERTY, "--from", "2025-03-03", "--to", "2025-03-03",
               "--out", str(tmp_path / "o"), creds=False)
    assert proc.returncode == 0, proc.stderr
    sessions = sum(r["sessions"] for r in traffic_rows() if r["date"] == "20250303")
    assert pl.read_parquet(tmp_path / "o" / "traffic.parquet")["sessions"].sum() == sessions
    assert not any("authorization" in h for h in served.headers)


def test_a_missing_page_fails_and_writes_nothing(served: RestServer, tmp_path: Path) -> None:
    served.backend.script("RunReport", None, Fault.unavailable())  # page 2 of the traffic report is lost
    out = tmp_path / "out"
    proc = run(served, tmp_path, "--property", PROPERTY, "--from", "2025-03-01", "--to", "2025-03-03",
               "--out", str(out), "--page-size", "10", "--attempts", "1")
    assert proc.returncode == 1
    assert "page 2 (rows from 11) of the traffic report" in proc.stderr
    assert "temporarily unavailable" in proc.stderr
    assert not out.exists()


def test_no_access_message(served: RestServer, tmp_path: Path) -> None:
    proc = run(served, tmp_path, "--property", "777", "--from", "2025-03-01", "--to", "2025-03-03",
               "--out", str(tmp_path / "o"))
    assert proc.returncode == 1
    assert "add the service account's email (client_email in its key file) as Viewer on property 777" in proc.stderr
    assert "kpi-puller" not in proc.stderr


@pytest.mark.parametrize(("args", "message"), [
    (("--property", "abc", "--from", "2025-03-01", "--to", "2025-03-02"), "'abc' is not a GA4 property id"),
    (("--property", PROPERTY, "--from", "1 March", "--to", "2025-03-02"), "--from '1 March' is not a date"),
    (("--property", PROPERTY, "--from", "2025-03-05", "--to", "2025-03-02"), "ends (2025-03-02) before it starts"),
    (("--property", PROPERTY, "--from", "2025-03-01", "--to", "2025-03-02", "--page-size", "300000"),
     "page size must be between 1 and 250,000"),
    (("--property", PROPERTY, "--from", "2025-03-01", "--to", "2025-03-02", "--dimensions", "browser"),
     "unknown optional dimension(s) browser"),
])
def test_bad_arguments_exit_2(served: RestServer, tmp_path: Path, args: tuple[str, ...], message: str) -> None:
    proc = run(served, tmp_path, *args, "--out", str(tmp_path / "o"))
    assert proc.returncode == 2
    assert message in proc.stderr
    assert served.backend.calls == []
