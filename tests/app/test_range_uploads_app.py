"""Real exports whose rows cover a date range (Meta Ads Manager, a Google Ads UI report, GA4 reports
without a Date column), imported as the Data page imports them and opened on every page: no page may
raise. Before range rows were handled everywhere, Overview and Campaigns & initiatives crashed with
`ColumnNotFoundError: unable to find column "date"` on a Meta export."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from kpi.sources.files import read_file
from kpi.sources.importer import import_raw, resolve
from tests.app.conftest import use_uploads
from ui.upload import add_to_session

PAGES = ("app_pages/overview.py", "app_pages/funnel.py", "app_pages/campaigns.py", "app_pages/segments.py",
         "app_pages/kpis.py", "app_pages/review.py", "app_pages/data.py", "app_pages/workspaces.py")
META = "meta_ads_manager_exports/Teefusion_Untitled-report-Feb-1-2025-to-Aug-4-2025_Age.csv"
GOOGLE_ADS = "google_ads_ui_exports/DanielTheC_Campaign report (1)_GBP.csv"
AMOCRM = "amocrm_export_anonymized/amocrm_leads_test.csv"
GA4_LANDING = "ga4_report_exports/Teefusion_Landing_page_Landing_page.csv"


def imported(shared_dir: Path, *names: str) -> dict[str, pl.DataFrame]:
    """The session tables after adding each file on the Data page (auto-detected mapping)."""
    tables: dict[str, pl.DataFrame] = {}
    for name in names:
        raw = read_file(shared_dir / "real-exports" / name)
        tables = add_to_session(tables, import_raw(raw, resolve(raw)[0]))
    return tables


def render_every_page(app: AppTest) -> None:
    app.run()
    assert not app.exception, app.exception
    for page in PAGES:
        app.switch_page(page).run()
        assert not app.exception, f"{page}: {app.exception}"


@pytest.mark.parametrize("period", [None, ("2022-01-01", "2026-06-30")], ids=["default_period", "all_data"])
@pytest.mark.parametrize("files", [(META,), (META, GOOGLE_ADS, AMOCRM)], ids=["meta", "meta+google_ads+amocrm"])
def test_range_spend_uploads_render_every_page(app: AppTest, shared_dir: Path, files: tuple[str, ...],
                                               period: tuple[str, str] | None) -> None:
    use_uploads(app, imported(shared_dir, *files), period, grain="month")
    render_every_page(app)
