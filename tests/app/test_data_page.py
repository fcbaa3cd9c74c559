"""The Data page in AppTest: upload, report, confirm into session_tables; refusals change nothing."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import REPO

PAGE = str(REPO / "pages" / "data.py")
FIX = REPO / "tests" / "fixtures" / "uploads"


@pytest.fixture
def page(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setenv("KPI_MAPPINGS", str(tmp_path / "mappings.json"))
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.run()
    assert not at.exception
    return at


def upload(at: AppTest, name: str) -> AppTest:
    at.file_uploader[0].upload(name, (FIX / name).read_bytes())
    at.run()
    assert not at.exception
    return at


def metric(at: AppTest, label: str) -> str:
    return str(next(m.value for m in at.metric if m.label == label))


def confirm(at: AppTest) -> None:
    next(b for b in at.button if b.label == "Add to workspace").click()
    at.run()
    assert not at.exception


def test_swedish_file_is_checked_then_added_on_confirm(page: AppTest) -> None:
    upload(page, "swedish_google_ads_daily.csv")
    assert (metric(page, "Rows read"), metric(page, "Accepted"), metric(page, "Rejected")) == ("5", "3", "1")
    fmt = page.selectbox(key="upload_preset")
    assert fmt.value == "auto" and fmt.options[0].startswith("Recognised: Google Ads report")
    assert "session_tables" not in page.session_state  # nothing before confirming
    confirm(page)
    spend = page.session_state["session_tables"]["spend"]
    assert spend["spend"].sum() == pytest.approx(3044.75)
    assert any("Added 3 rows" in s.value for s in page.success)


def test_cp1251_file_appends_to_the_same_table(page: AppTest) -> None:
    upload(page, "amocrm_leads_cp1251.csv")
    confirm(page)
    page.file_uploader[0].set_value(("bitrix24_deals_koi8r.csv", (FIX / "bitrix24_deals_koi8r.csv").read_bytes(),
                                     "text/csv"))
    page.run()
    confirm(page)
    leads: pl.DataFrame = page.session_state["session_tables"]["leads"]
    assert leads.height == 4 + 3
    assert leads["amount"].sum() == pytest.approx(15000.5 + 8200 + 4999.99 + 120000 + 45000.5 + 300000)


def test_refused_file_shows_the_reason_and_changes_nothing(page: AppTest) -> None:
    upload(page, "amocrm_leads_cp1251.csv")
    confirm(page)
    before = page.session_state["session_tables"]["leads"]
    page.file_uploader[0].set_value(("html_saved_as.csv", (FIX / "html_saved_as.csv").read_bytes(), "text/csv"))
    page.run()
    assert any("web page (HTML)" in e.value for e in page.error)
    assert not [b for b in page.button if b.label == "Add to workspace"]
    assert page.session_state["session_tables"]["leads"] is before


def test_unknown_file_gets_a_mapping_screen_with_suggestions(page: AppTest) -> None:
    upload(page, "generic_leads_pipe.txt")
    assert page.selectbox(key="upload_preset").value == "custom"
    assert page.selectbox(key="upload_f_leads_created_at").value == "Skapad"
    assert page.selectbox(key="upload_f_leads_amount").value == "Värde"
    assert page.selectbox(key="upload_f_leads_lead_id").value == "Kund-ID"
    assert metric(page, "Accepted") == "3"
    page.selectbox(key="upload_f_leads_lead_id").set_value("—")
    page.run()
    assert any("required field(s) lead_id" in e.value for e in page.error)
    page.selectbox(key="upload_f_leads_lead_id").set_value("Kund-ID")
    page.run()
    confirm(page)
    assert page.session_state["session_tables"]["leads"]["lead_id"].to_list() == ["K1", "K2", "K3"]


def test_range_export_asks_for_the_period(page: AppTest) -> None:
    text = b"Campaign report\nAll time\nCampaign,Cost,Impr.,Clicks\nA,10.50,100,5\nTotal: Campaigns,10.50,100,5\n"
    page.file_uploader[0].upload("ads.csv", text)
    page.run()
    assert any("All time" in e.value for e in page.error)
    page.date_input(key="upload_period").set_value((date(2025, 1, 1), date(2025, 1, 31)))
    page.run()
    assert metric(page, "Accepted") == "1"
    confirm(page)
    spend = page.session_state["session_tables"]["spend"]
    assert spend["period_start"].to_list() == [date(2025, 1, 1)] and spend["spend"].to_list() == [10.5]
