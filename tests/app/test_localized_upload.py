"""The Data page recognises exports downloaded with a Swedish or Russian interface, and files already named like
the canonical tables, without a manual mapping (they were refused or sent to mapping before)."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.app.conftest import page_alone
from tests.conftest import REPO

LOCAL = REPO / "tests" / "fixtures" / "uploads" / "localized"


@pytest.fixture
def page(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setenv("KPI_MAPPINGS", str(tmp_path / "mappings.json"))
    at = page_alone("data", default_timeout=60)
    at.run()
    assert not at.exception
    return at


@pytest.mark.parametrize(("name", "table", "column", "total", "label"), [
    # the account-total row Meta wrote says 33245,34 spent
    ("meta_ads_sv_teefusion_age.csv", "spend", "spend", 33245.34, "Meta Ads Manager export"),
    # 2 447 400,25 + 150 000 + 98 500,50
    ("bitrix24_leads_ru_cp1251.csv", "leads", "amount", 2695900.75, "Bitrix24 leads export"),
    ("amocrm_leads_cp1251_semicolon.csv", "leads", "amount", 2533600.5, "amoCRM deals export"),
    ("ga4_ru_traffic_acquisition_daily.csv", "traffic", "sessions", 350, "GA4 report download"),
    ("canonical_leads.csv", "leads", "amount", 2000.5, "Canonical leads table"),
])
def test_localized_file_is_recognised_and_added(page: AppTest, name: str, table: str, column: str, total: float,
                                                label: str) -> None:
    page.file_uploader(key="upload_file").upload(name, (LOCAL / name).read_bytes())
    page.run()
    assert not page.exception
    assert not page.error, [e.value for e in page.error]
    assert page.selectbox(key="upload_preset").options[0].startswith(f"Recognised: {label}")
    page.button(key="upload_confirm").click()
    page.run()
    assert not page.exception
    added = page.session_state["session_tables"][table]
    assert added[column].sum() == pytest.approx(total)
