"""Fixtures shared by every test suite."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
from streamlit import config

REPO = Path(__file__).resolve().parent.parent
IN_CI = os.environ.get("CI", "").lower() == "true"

# The app seeds and writes its workspace store here; tests never touch the repo's data/ folder.
os.environ.setdefault("KPI_DATA_DIR", tempfile.mkdtemp(prefix="kpi-test-data-"))
# One fixed "today" for the engine, the app and the servers the tests start, so the suite gives the same
# result on any day it runs; set KPI_TODAY yourself to run it as of another day (a leap day, a year-end).
os.environ.setdefault("KPI_TODAY", "2026-12-03")
# AppTests run the app as one person runs it on their own machine (the e2e servers pass --server.address
# 127.0.0.1 too): only the tests of the open-server notice set another address.
config.set_option("server.address", "127.0.0.1")


def require(condition: bool, reason: str) -> None:
    """Skip a test whose outside dependency is missing; under CI=true that is a failure instead."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"{reason} (required under CI=true)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """The team's shared folder (../shared next to the repo), with the real-exports corpus."""
    path = Path(os.environ.get("KPI_SHARED_DIR", REPO.parent / "shared"))
    require((path / "real-exports").is_dir(), f"shared corpus not found at {path}/real-exports")
    return path
