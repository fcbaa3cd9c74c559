"""Real exports whose rows cover a date range (Meta Ads Manager, a Google Ads UI report, GA4 reports
without a Date column), imported as the Data page imports them and opened on every page: no page may
raise. Before range rows were handled everywhere, Overview and Campaigns & initiatives crashed with
`ColumnNotFoundError: unable to find column "date"` on a Meta export."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from kpi.sources.files import read_file
from kpi.sources.importer import import_raw, resolve
from tests.app.conftest import APP, metric, page_alone, use_uploads
from tests.conftest import REPO
from ui import format as fmt
from ui.i18n import t
from ui.upload import add_to_session

PAGES = ("pages/overview.py", "pages/funnel.py", "pages/campaigns.py", "pages/segments.py",
         "pages/kpis.py", "pages/review.py", "pages/data.py", "pages/workspaces.py")
META = "meta_ads_manager_exports/Teefusion_Untitled-report-Feb-1-2025-to-Aug-4-2025_Age.csv"
GOOGLE_ADS = "google_ads_ui_exports/DanielTheC_Campaign report (1)_GBP.csv"
AMOCRM = "amocrm_export_anonymized/amocrm_leads_test.csv"
GA4_LANDING = "ga4_report_exports/Teefusion_Landing_page_Landing_page.csv"
DAILY_SPEND = REPO / "tests" / "fixtures" / "uploads" / "swedish_google_ads_daily.csv"  # dated rows


def imported(shared_dir: Path, *names: str | Path) -> dict[str, pl.DataFrame]:
    """The session tables after adding each file on the Data page (auto-detected mapping); a name is
    a file of the real-exports corpus, a Path one of the repository's fixtures."""
    tables: dict[str, pl.DataFrame] = {}
    for name in names:
        raw = read_file(name if isinstance(name, Path) else shared_dir / "real-exports" / name)
        tables = add_to_session(tables, import_raw(raw, resolve(raw)[0]))
    return tables


def render_every_page(app: AppTest) -> None:
    app.run()
    assert not app.exception, app.exception
    for page in PAGES:
        app.switch_page(page).run()
        assert not app.exception, f"{page}: {app.exception}"


@pytest.mark.parametrize("period", [None, ("2022-01-01", "2026-06-30")], ids=["default_period", "all_data"])
@pytest.mark.parametrize("files", [(META,), (META, GOOGLE_ADS, AMOCRM), (GA4_LANDING, AMOCRM),
                                   (META, GA4_LANDING, GOOGLE_ADS, AMOCRM, DAILY_SPEND)],
                         ids=["meta", "meta+google_ads+amocrm", "ga4_range+amocrm", "range_and_daily_mixed"])
def test_range_spend_uploads_render_every_page(app: AppTest, shared_dir: Path, files: tuple[str | Path, ...],
                                               period: tuple[str, str] | None) -> None:
    use_uploads(app, imported(shared_dir, *files), period, grain="month")
    render_every_page(app)


def test_data_page_asks_for_the_range_of_a_ga4_report_that_states_none(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KPI_MAPPINGS", str(tmp_path / "mappings.json"))
    page = page_alone("data", default_timeout=60)
    page.run()
    text = b"# Landing page: Landing page\n# Account: Demo\n#\nLanding page,Sessions\n/shop,845\n/,544\n"
    page.file_uploader(key="upload_file").upload("landing.csv", text)
    page.run()
    assert any("traffic needs the days it covers" in e.value for e in page.error)
    page.date_input(key="upload_period").set_value((date(2025, 2, 1), date(2025, 8, 4)))
    page.run()
    page.button(key="upload_confirm").click()
    page.run()
    assert not page.exception
    traffic = page.session_state["session_tables"]["traffic"]
    assert traffic.select("sessions", "period_start", "period_end").rows() == [
        (845, date(2025, 2, 1), date(2025, 8, 4)), (544, date(2025, 2, 1), date(2025, 8, 4))]


def test_overview_counts_range_rows_and_says_charts_spread_them(app: AppTest, shared_dir: Path) -> None:
    tables = imported(shared_dir, META, GA4_LANDING)
    sessions = tables["traffic"]["sessions"].sum()  # every row covers Feb 1 .. Aug 4 2025
    use_uploads(app, tables, ("2025-01-01", "2025-12-31"), grain="month", lang="sv")
    app.run()
    app.switch_page("pages/overview.py").run()
    assert not app.exception
    captions = [c.value for c in app.caption]
    assert t("notice.range_spend", "sv") in captions and t("notice.range_traffic", "sv") in captions
    assert any(fmt.number(sessions, "sv") in c for c in captions)  # the funnel's sessions line
    # over a period that cuts the range, the range rows do not count at all
    later = AppTest.from_file(APP, default_timeout=120)
    use_uploads(later, tables, ("2025-03-01", "2025-12-31"), grain="month", lang="sv")
    later.run()
    assert not later.exception
    assert not any(fmt.number(sessions, "sv") in c.value for c in later.caption)


def test_spend_in_two_currencies_is_refused_until_a_rate_is_given(app: AppTest, shared_dir: Path) -> None:
    """Meta bills this account in INR, Google Ads the other in GBP: the uploads report in INR (most rows),
    and without a GBP rate the Spend card is not available and says why; with one it is their sum."""
    tables = imported(shared_dir, META, GOOGLE_ADS)
    inr = tables["spend"].filter(pl.col("currency") == "INR")["spend"].sum()
    gbp = tables["spend"].filter(pl.col("currency") == "GBP")["spend"].sum()
    assert inr > 0 and gbp > 0 and set(tables["spend"]["currency"]) == {"INR", "GBP"}
    use_uploads(app, tables, ("2022-01-01", "2026-06-30"), lang="ru")
    app.run()
    assert not app.exception
    warning = " ".join(w.value for w in app.warning)
    assert "GBP" in warning and "INR" in warning  # the currency without a rate, and the reporting one
    assert metric(app, t("metric.spend", "ru")) == fmt.DASH
    assert t("money.card_na", "ru", currencies="GBP") in [c.value for c in app.caption]
    app.switch_page("pages/workspaces.py").run()
    app.number_input(key="money_rate_GBP").set_value(110.0)  # 110 INR per 1 GBP
    app.button(key="money_save").click().run()
    assert not app.exception
    app.switch_page("pages/overview.py").run()
    assert not app.exception and not any("GBP" in w.value for w in app.warning)
    assert metric(app, t("metric.spend", "ru")) == fmt.metric_value(inr + gbp * 110.0, "currency", "ru", "INR",
                                                                    compact=True)
