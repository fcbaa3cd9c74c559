"""The Data page in AppTest: upload, report, confirm into session_tables; refusals change nothing; the page and
its GA4 tab in English, Swedish and Russian, alone and through app.py."""

from __future__ import annotations

from datetime import date, datetime

import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from tests.app.conftest import page_alone, plain
from tests.conftest import REPO

FIX = REPO / "tests" / "fixtures" / "uploads"


@pytest.fixture
def page() -> AppTest:
    at = page_alone("data", default_timeout=60)
    at.run()
    assert not at.exception
    return at


def upload(at: AppTest, name: str, data: bytes | None = None) -> AppTest:
    """Upload `data` (default: the fixture `name`) on the Data page as `name`."""
    at.file_uploader(key="upload_file").upload(name, data if data is not None else (FIX / name).read_bytes())
    at.run()
    assert not at.exception, at.exception
    return at


def metric(at: AppTest, label: str) -> str:
    return str(next(m.value for m in at.metric if m.label == label))


def confirm(at: AppTest) -> None:
    at.button(key="upload_confirm").click()
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
    assert any("Added 3 rows" in plain(s.value) for s in page.success)


def test_cp1251_file_appends_to_the_same_table(page: AppTest) -> None:
    upload(page, "amocrm_leads_cp1251.csv")
    confirm(page)
    koi8r = (FIX / "bitrix24_deals_koi8r.csv").read_bytes()
    page.file_uploader(key="upload_file").set_value(("bitrix24_deals_koi8r.csv", koi8r, "text/csv"))
    page.run()
    confirm(page)
    leads: pl.DataFrame = page.session_state["session_tables"]["leads"]
    assert leads.height == 4 + 3
    assert leads["amount"].sum() == pytest.approx(15000.5 + 8200 + 4999.99 + 120000 + 45000.5 + 300000)


def test_refused_file_shows_the_reason_and_changes_nothing(page: AppTest) -> None:
    upload(page, "amocrm_leads_cp1251.csv")
    confirm(page)
    before = page.session_state["session_tables"]["leads"]
    html = (FIX / "html_saved_as.csv").read_bytes()
    page.file_uploader(key="upload_file").set_value(("html_saved_as.csv", html, "text/csv"))
    page.run()
    assert any("web page (HTML)" in plain(e.value) for e in page.error)
    assert not [b for b in page.button if b.key == "upload_confirm"]
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
    assert any("required field(s) lead_id" in plain(e.value) for e in page.error)
    page.selectbox(key="upload_f_leads_lead_id").set_value("Kund-ID")
    page.run()
    confirm(page)
    assert page.session_state["session_tables"]["leads"]["lead_id"].to_list() == ["K1", "K2", "K3"]


def test_a_rerun_reuses_the_read_and_the_import_until_a_choice_changes(page: AppTest) -> None:
    def memo(step: str) -> object:
        return page.session_state[f"upload_memo_{step}"][1]

    upload(page, "generic_leads_pipe.txt")
    raw, result = memo("read"), memo("import")
    page.checkbox(key="upload_remember").uncheck().run()  # a click that changes neither file nor mapping
    assert memo("read") is raw and memo("import") is result
    assert (metric(page, "Rows read"), metric(page, "Accepted")) == ("3", "3")  # the report is still drawn
    page.selectbox(key="upload_f_leads_channel").set_value("—").run()  # a new mapping: imported, not read, again
    assert memo("read") is raw and memo("import") is not result
    assert "channel" not in page.session_state["upload_memo_import"][1].frame.columns
    page.selectbox(key="upload_sep").set_value(";").run()  # a new separator: read again
    assert memo("read") is not raw


def test_a_refusal_shows_on_every_run(page: AppTest) -> None:
    html = (FIX / "html_saved_as.csv").read_bytes()
    page.file_uploader(key="upload_file").set_value(("html_saved_as.csv", html, "text/csv"))
    for _ in range(2):  # the upload's run, then a rerun that finds the refusal remembered
        page.run()
        assert [plain(e.value) for e in page.error if "web page (HTML)" in plain(e.value)]


def test_a_refused_sheet_says_why_and_another_can_be_picked(page: AppTest) -> None:
    upload(page, "hubspot_deals_two_sheets.xlsx")
    assert page.selectbox(key="upload_part").options == ["About", "Deals"]
    page.selectbox(key="upload_part").set_value(0).run()  # the notes sheet: a header, no rows
    assert not page.exception
    assert any("sheet 'About' has a header but no data rows" in plain(e.value) for e in page.error)
    assert not [b for b in page.button if b.key == "upload_confirm"]
    page.selectbox(key="upload_part").set_value(1).run()
    assert not page.error and metric(page, "Accepted") == "3"


def test_removing_the_file_forgets_what_was_read(page: AppTest) -> None:
    upload(page, "generic_leads_pipe.txt")
    assert "upload_memo_read" in page.session_state
    page.file_uploader(key="upload_file").clear()
    page.run()
    assert not [k for k in ("upload_memo_read", "upload_memo_import") if k in page.session_state]


def test_choosing_the_date_order_keeps_the_joined_file(page: AppTest) -> None:
    # both first-contact dates read either way (03/04, 05/04): the page asks for the order
    page.file_uploader(key="upload_file").upload(
        "mql.csv", b"mql_id,first_contact_date,landing_page_id,origin\n"
                   b"m1,03/04/2018,p1,organic_search\nm2,05/04/2018,p2,paid_search\n")
    page.run()
    page.file_uploader(key="upload_join").upload(
        "deals.csv", b"mql_id,seller_id,sdr_id,sr_id,won_date,business_segment\nm2,s1,d1,r1,2018-06-01 10:00:00,pet\n")
    page.run()
    assert not page.exception
    page.radio(key="upload_order").set_value("month_day")
    page.run()
    assert not page.exception and not page.error
    confirm(page)
    leads = page.session_state["session_tables"]["leads"].sort("lead_id")
    assert leads["created_at"].dt.date().to_list() == [date(2018, 3, 4), date(2018, 5, 4)]  # month first
    assert leads["won_at"].to_list() == [None, datetime(2018, 6, 1, 10)]  # from the joined deals file
    assert leads["segment"].to_list() == [None, "pet"]


def test_range_export_asks_for_the_period(page: AppTest) -> None:
    text = b"Campaign report\nAll time\nCampaign,Cost,Impr.,Clicks\nA,10.50,100,5\nTotal: Campaigns,10.50,100,5\n"
    page.file_uploader(key="upload_file").upload("ads.csv", text)
    page.run()
    assert any("All time" in plain(e.value) for e in page.error)
    page.date_input(key="upload_period").set_value((date(2025, 1, 1), date(2025, 1, 31)))
    page.run()
    assert metric(page, "Accepted") == "1"
    confirm(page)
    spend = page.session_state["session_tables"]["spend"]
    assert spend["period_start"].to_list() == [date(2025, 1, 1)] and spend["spend"].to_list() == [10.5]


def in_language(lang: str) -> AppTest:
    at = page_alone("data", default_timeout=60)
    at.query_params["lang"] = lang
    at.run()
    assert not at.exception
    return at


def test_swedish_page_checks_adds_lists_and_removes() -> None:
    page = in_language("sv")
    assert [tab.label for tab in page.tabs] == ["Ladda upp en fil", "Google Analytics 4"]
    assert page.file_uploader(key="upload_file").label.startswith("Ladda upp en export")
    assert page.file_uploader(key="ga4_key_upload").label == "Nyckel för tjänstekonto (JSON)"  # the GA4 tab
    upload(page, "swedish_google_ads_daily.csv")
    assert (metric(page, "Lästa rader"), metric(page, "Godkända"), metric(page, "Avvisade")) == ("5", "3", "1")
    assert page.selectbox(key="upload_preset").options[0] == "Igenkänt: Google Ads report"
    assert page.selectbox(key="upload_enc").options[0] == "automatiskt"
    assert any(c.value.startswith("Google Ads report → tabell **Kostnad**, datum") for c in page.caption)
    assert page.button(key="upload_confirm").label == "Lägg till i arbetsytan"
    confirm(page)
    assert plain(page.success[0].value) == "La till 3 rader från swedish_google_ads_daily.csv i Kostnad."
    spend: pl.DataFrame = page.session_state["session_tables"]["spend"]
    assert f"**Kostnad**: 3 rader, {spend.width} kolumner" in [plain(m.value) for m in page.markdown]
    assert page.get("download_button")[0].proto.label == "Ladda ner CSV"
    page.button(key="data_remove").click().run()
    assert page.session_state["session_tables"] == {}
    assert not [m for m in page.markdown if "**Kostnad**" in m.value]


def test_russian_mapping_screen() -> None:
    page = in_language("ru")
    upload(page, "generic_leads_pipe.txt")
    fmt = page.selectbox(key="upload_preset")
    assert fmt.label == "Формат" and fmt.value == "custom" and fmt.options[-1] == "Своё сопоставление столбцов"
    assert page.selectbox(key="upload_table").options == ["Лиды", "Расходы", "Трафик", "Касания", "События"]
    created = page.selectbox(key="upload_f_leads_created_at")
    assert created.label == "Дата создания (created_at) *" and created.value == "Skapad"
    assert page.selectbox(key="upload_f_leads_amount").label == "Сумма сделки (amount)"
    page.selectbox(key="upload_f_leads_lead_id").set_value("—")
    page.run()
    assert any("required field(s) lead_id" in plain(e.value) for e in page.error)  # the importer's diagnostic, verbatim


def test_russian_date_order_question() -> None:
    page = in_language("ru")
    upload(page, "salesforce_leads_ambiguous_dates.csv")
    order = page.radio(key="upload_order")
    assert order.label == "Даты вида 03/04/2025 означают" and order.options == ["день/месяц", "месяц/день"]
    assert metric(page, "Принято") == "3"
    order.set_value("month_day")
    page.run()
    confirm(page)
    created_at = page.session_state["session_tables"]["leads"].sort("lead_id")["created_at"].dt.date().to_list()
    assert created_at == [date(2025, 3, 4), date(2025, 4, 4), date(2025, 2, 3)]  # 03/04, 04/04, 02/03 month first
    assert plain(page.success[0].value) == ("Добавлены 3 строки из файла salesforce_leads_ambiguous_dates.csv "
                                     "в таблицу «Лиды».")


ONE_LEAD = b"Lead ID,Created date,Lead source\nL1,2025-02-03,Email\n"


@pytest.mark.parametrize(("lang", "added", "loaded"), [
    ("en", "Added 1 row from one.csv to Leads.", "**Leads**: 1 row, "),
    ("sv", "La till 1 rad från one.csv i Leads.", "**Leads**: 1 rad, "),
    ("ru", "Добавлена 1 строка из файла one.csv в таблицу «Лиды».", "**Лиды**: 1 строка, "),
])
def test_one_row_is_one_row_in_every_language(lang: str, added: str, loaded: str) -> None:
    page = in_language(lang)
    page.file_uploader(key="upload_file").upload("one.csv", ONE_LEAD)
    page.run()
    page.selectbox(key="upload_f_leads_lead_id").set_value("Lead ID")
    page.selectbox(key="upload_f_leads_created_at").set_value("Created date")
    page.run()
    confirm(page)
    assert [plain(s.value) for s in page.success] == [added]
    assert page.session_state["session_tables"]["leads"].columns == ["lead_id", "created_at", "source"]
    assert [m.value for m in page.markdown if m.value.startswith(loaded)] == [
        loaded + {"en": "3 columns", "sv": "3 kolumner", "ru": "3 столбца"}[lang]]


def test_a_joined_file_s_rows_are_accounted_for_on_screen(page: AppTest) -> None:
    mql = (b"mql_id,first_contact_date,landing_page_id,origin\nm1,2018-01-02,p1,organic_search\n"
           b"m2,2018-01-05,p2,paid_search\nm3,2018-02-01,p1,unknown\n")
    deals = (b"mql_id,seller_id,sdr_id,sr_id,won_date,business_segment\nm2,s1,d1,r1,2018-03-01 10:00:00,pet\n"
             b"m3,s2,d1,r2,2018-03-15 09:00:00,toys\nm9,s3,d2,r1,2018-04-01 00:00:00,pet\n")
    page.file_uploader(key="upload_file").upload("mql.csv", mql)
    page.run()
    page.file_uploader(key="upload_join").upload("deals.csv", deals)
    page.run()
    assert not page.exception
    # 3 leads + 3 deals read = 3 accepted + 1 rejected (m9: no such lead) + 2 deals joined into m2 and m3
    shown = [(m.label, m.value) for m in page.metric]
    assert shown == [("Rows read", "6"), ("Accepted", "3"), ("Rejected", "1"), ("Totals and footers left out", "0"),
                     ("Joined into these rows", "2")]
    assert "deals.csv" in plain(next(m for m in page.metric if m.label == "Joined into these rows").help)


@pytest.mark.parametrize(("lang", "upload_tab", "intro"), [
    ("sv", "Ladda upp en fil", "Hämta sessioner, nyckelhändelser och Google Ads-kostnad"),
    ("ru", "Загрузить файл", "Загрузите сеансы, ключевые события и расходы Google Ads"),
])
def test_data_page_through_the_app(app: AppTest, lang: str, upload_tab: str, intro: str) -> None:
    app.query_params["lang"] = lang
    app.run()
    assert not app.exception
    app.switch_page("pages/data.py").run()
    assert not app.exception
    assert [tab.label for tab in app.tabs] == [upload_tab, "Google Analytics 4"]
    assert any(c.value.startswith(intro) for c in app.caption)
    assert app.title[0].value == {"sv": "Data", "ru": "Данные"}[lang]
