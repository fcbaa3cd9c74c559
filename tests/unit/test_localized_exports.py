"""Exports downloaded with a Swedish or Russian interface (and files that already carry the canonical column
names) import to the right table with the same sums as their English originals.

The fixtures in tests/fixtures/uploads/localized/ were typed by hand or written once by a script from the
English originals (see its README); nothing here translates with the vocabularies under test. Expected
numbers are worked out by hand from the files, or are the totals the tool itself wrote into the file
(Meta's account-total row, Yandex's 'Итого' row), or the English original's import.
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from pathlib import Path

import polars as pl
import pytest

from kpi.schema import validate
from kpi.sources.files import read_bytes, read_file
from kpi.sources.importer import ImportResult, import_raw, resolve
from kpi.sources.presets import PRESETS
from kpi.sources.vocabularies import LANGUAGES, VocabularyError, header_key, load, parse, values, words

UPLOADS = Path(__file__).resolve().parent.parent / "fixtures" / "uploads"
LOCAL = UPLOADS / "localized"
VOCABULARIES = Path(__file__).resolve().parents[2] / "kpi" / "sources" / "vocabularies"


def load_import(path: Path, preset: str) -> ImportResult:
    raw = read_file(path)
    mapping, chosen = resolve(raw)
    assert chosen is not None and chosen.id == preset, f"{path.name} recognised as {chosen and chosen.id}"
    result = import_raw(raw, mapping)
    assert [p for p in validate(result.table, result.frame) if p.severity == "error"] == []
    return result


def sums(result: ImportResult, *columns: str) -> dict[str, float]:
    return {c: float(result.frame[c].sum()) for c in columns}


# --- Meta Ads Manager ------------------------------------------------------------------------------------

def test_meta_swedish_interface_with_decimal_commas() -> None:
    r = load_import(LOCAL / "meta_ads_sv_teefusion_age.csv", "meta_ads")
    assert r.table == "spend"
    assert (r.report.detected.split(", ")[:3]) == ["CSV", "utf-8", "separator ';'"]
    assert "decimal ','" in r.report.detected
    # the account-total first row (empty Kampanjnamn) is left out, and what remains adds up to it:
    # Meta wrote 33245,34 spent, 878306 impressions, 39581 link clicks in that row
    assert r.frame["spend"].sum() == pytest.approx(33245.34)
    assert r.frame["impressions"].sum() == 878306 and r.frame["clicks"].sum() == 39581
    assert (r.report.rows_read, r.report.rows_accepted, r.report.rows_rejected) == (92, 91, 0)
    assert set(r.frame["currency"]) == {"INR"} and set(r.frame["channel"]) == {"Meta"}
    assert set(r.frame["period_start"]) == {date(2025, 2, 1)} and set(r.frame["period_end"]) == {date(2025, 8, 4)}
    assert r.frame["age"].drop_nulls().unique().sort().to_list()[:2] == ["18-24", "25-34"]
    # the first campaign row: 2236,71510474 spent by 18-24 year olds on 'Add to Cart_28/06'
    first = r.frame.row(0, named=True)
    assert (first["campaign"], first["age"]) == ("Add to Cart_28/06", "18-24")
    assert first["spend"] == pytest.approx(2236.71510474)


def test_meta_russian_interface() -> None:
    r = load_import(LOCAL / "meta_ads_ru_teefusion_gender.csv", "meta_ads")
    # the account total row says 33245.34 spent, 878306 impressions, 39581 link clicks, 3437 purchases
    assert sums(r, "spend", "impressions", "clicks", "platform_conversions") == pytest.approx(
        {"spend": 33245.34, "impressions": 878306, "clicks": 39581, "platform_conversions": 3437})
    assert (r.report.rows_read, r.report.rows_accepted) == (46, 45)
    assert set(r.frame["currency"]) == {"INR"}
    assert r.report.columns_used["spend"] == "Потраченная сумма (INR)"


@pytest.mark.corpus
@pytest.mark.parametrize(("localized", "original"), [
    ("meta_ads_sv_teefusion_age.csv", "Teefusion_Untitled-report-Feb-1-2025-to-Aug-4-2025_Age.csv"),
    ("meta_ads_ru_teefusion_gender.csv", "Teefusion_Untitled-report-Feb-1-2025-to-Aug-4-2025_Gender.csv"),
])
def test_meta_localized_equals_its_english_original(shared_dir: Path, localized: str, original: str) -> None:
    english = load_import(shared_dir / "real-exports" / "meta_ads_manager_exports" / original, "meta_ads")
    local = load_import(LOCAL / localized, "meta_ads")
    assert (local.report.rows_read, local.report.rows_accepted) == (english.report.rows_read,
                                                                      english.report.rows_accepted)
    columns = ["campaign", "spend", "impressions", "clicks", "currency", "period_start", "period_end"]
    assert local.frame.select(columns).equals(english.frame.select(columns))


def test_meta_russian_header_written_with_yo() -> None:
    """Russian interfaces write 'отчётности' or 'отчетности'; both are the same header."""
    text = ("Название кампании,Потраченная сумма (RUB),Показы,Дата начала отчётности,Дата окончания отчётности\n"
            "Весна,1500.50,10000,2025-03-01,2025-03-31\nОсень,499.50,4000,2025-03-01,2025-03-31\n")
    raw = read_bytes(text.encode("utf-8"), "meta_ru.csv")
    mapping, chosen = resolve(raw)
    assert chosen is not None and chosen.id == "meta_ads"
    r = import_raw(raw, mapping)
    assert r.frame["spend"].sum() == pytest.approx(2000.0) and set(r.frame["currency"]) == {"RUB"}
    assert set(r.frame["period_end"]) == {date(2025, 3, 31)}


# --- GA4 -----------------------------------------------------------------------------------------------

def test_ga4_russian_interface_equals_the_english_report() -> None:
    russian = load_import(LOCAL / "ga4_ru_traffic_acquisition_daily.csv", "ga4_traffic")
    english = load_import(UPLOADS / "ga4_traffic_daily.csv", "ga4_traffic")
    assert russian.table == "traffic"
    # by hand: 120+60+130+40 sessions, 80+30+90+20 engaged, 100+55+110+38 users, 120.5 revenue
    assert sums(russian, "sessions", "engaged_sessions", "users", "new_users", "key_events", "revenue") == \
        pytest.approx({"sessions": 350, "engaged_sessions": 220, "users": 303, "new_users": 205, "key_events": 9,
                       "revenue": 120.5})
    assert russian.frame.equals(english.frame)


def test_ga4_german_interface_with_decimal_comma_equals_the_english_report() -> None:
    german = load_import(LOCAL / "ga4_de_traffic_acquisition_daily.csv", "ga4_traffic")
    english = load_import(UPLOADS / "ga4_traffic_daily.csv", "ga4_traffic")
    assert "separator ';'" in german.report.detected and "decimal ','" in german.report.detected
    assert german.frame["revenue"].to_list() == [0.0, 120.5, 0.0, 0.0]  # '120,5'
    assert german.frame.equals(english.frame)


def test_ga4_swedish_interface_by_date() -> None:
    r = load_import(LOCAL / "ga4_sv_traffic_by_date.csv", "ga4_traffic")
    assert r.frame["date"].to_list() == [date(2025, 3, 1), date(2025, 3, 2)]
    assert r.frame["sessions"].to_list() == [180, 170] and r.frame["engaged_sessions"].to_list() == [110, 110]
    # the English daily report summed by date gives the same numbers
    english = load_import(UPLOADS / "ga4_traffic_daily.csv", "ga4_traffic").frame
    by_date = english.group_by("date").agg(pl.col("sessions", "engaged_sessions", "users", "new_users").sum())
    assert by_date.sort("date").equals(r.frame.select("date", "sessions", "engaged_sessions", "users", "new_users"))


# --- Google Ads ------------------------------------------------------------------------------------------

def test_google_ads_russian_interface_utf16_equals_english() -> None:
    russian = load_import(LOCAL / "google_ads_ru_campaigns_utf16le.csv", "google_ads")
    english = load_import(UPLOADS / "google_ads_daily_utf16le.csv", "google_ads")
    assert russian.frame["impressions"].to_list() == [1200, 1350, 980]  # '1 200' with a no-break space
    assert russian.frame["spend"].sum() == pytest.approx(45.10 + 51.25 + 30.00)
    assert len(russian.report.totals_excluded) == 2  # 'Итого: кампании' and 'Итого: аккаунт'
    assert russian.frame.equals(english.frame)


# --- Russian ad platforms and analytics -------------------------------------------------------------------

def test_yandex_direct_report_wizard() -> None:
    r = load_import(LOCAL / "yandex_direct_ru_by_day.csv", "yandex_direct")
    # by hand: 2 304,96 + 1 050,00 + 2 496,00 + 900,60 = 6 751,56 — what the 'Итого' row says
    assert sums(r, "spend", "impressions", "clicks", "platform_conversions") == pytest.approx(
        {"spend": 6751.56, "impressions": 18860, "clicks": 165, "platform_conversions": 8})
    assert r.frame["date"].to_list() == [date(2025, 2, 28)] * 2 + [date(2025, 3, 1)] * 2
    assert set(r.frame["currency"]) == {"RUB"} and set(r.frame["channel"]) == {"Yandex Direct"}
    assert r.frame["platform_conversions"].to_list() == [3.0, 1.0, 4.0, None]  # '-' is no value
    assert (r.report.rows_read, r.report.rows_accepted) == (5, 4)
    assert any("Итого" in t for t in r.report.totals_excluded)


def test_vk_ads_statistics() -> None:
    r = load_import(LOCAL / "vk_ads_ru_by_day.csv", "vk_ads")
    # by hand: 2 555,98 + 1 591,88 + 2 402,14 = 6 550,00; 12 500 + 8 905 + 13 020 shows
    assert sums(r, "spend", "impressions", "clicks") == pytest.approx(
        {"spend": 6550.0, "impressions": 34425, "clicks": 245})
    assert set(r.frame["currency"]) == {"RUB"} and set(r.frame["channel"]) == {"VK Ads"}
    assert r.frame["campaign"].to_list() == ["Ворота — видео", "Ворота — карусель", "Ворота — видео"]


def test_yandex_metrica_report() -> None:
    r = load_import(LOCAL / "yandex_metrica_ru_by_day.csv", "yandex_metrica")
    assert r.table == "traffic"
    # 420 + 180 + 455 + 148 visits (the 'Итого и средние' row under the header is left out); visitors add
    # up per row to 1070, not the 1010 unique visitors Metrica writes for the whole period
    assert sums(r, "sessions", "users") == {"sessions": 1203.0, "users": 1070.0}
    assert r.frame["channel"].to_list() == ["Переходы из поисковых систем", "Прямые заходы",
                                            "Переходы из поисковых систем", "Переходы по рекламе"]
    assert (r.report.rows_read, r.report.rows_accepted) == (5, 4)


# --- Russian CRMs: cp1251, ';', multi-line comments -------------------------------------------------------

def test_bitrix24_leads_cp1251_with_multiline_comments() -> None:
    r = load_import(LOCAL / "bitrix24_leads_ru_cp1251.csv", "bitrix24_leads")
    assert "cp1251" in r.report.detected and "separator ';'" in r.report.detected
    f = r.frame.sort("lead_id")
    assert f["lead_id"].to_list() == ["101", "102", "103", "104"]  # comment lines did not become rows
    assert f["amount"].to_list() == [2447400.25, 150000.0, None, 98500.5]
    assert f["amount"].sum() == pytest.approx(2695900.75)
    assert f["created_at"][0] == datetime(2025, 3, 13, 9, 15)
    # 'Некачественный лид' is lost, dated by its last change (reported as approximate)
    assert f["lost_at"].to_list() == [None, None, datetime(2025, 3, 16, 16, 45), None]
    assert f["campaign"].to_list() == ["vorota_mart", None, "vorota_mart", "promo_mart"]


def test_amocrm_cp1251_semicolon_multiline_notes() -> None:
    r = load_import(LOCAL / "amocrm_leads_cp1251_semicolon.csv", "amocrm_leads")
    f = r.frame.sort("lead_id")
    assert f["amount"].to_list() == [2447400.0, 85000.5, 1200.0]
    assert f["won_at"].to_list() == [datetime(2022, 3, 24, 9, 59), None, None]
    assert f["lost_at"].to_list() == [None, None, datetime(2022, 3, 26, 12, 30)]
    assert (r.report.rows_read, r.report.rows_accepted) == (3, 3)


@pytest.mark.corpus
def test_real_amocrm_export_saved_as_cp1251_with_semicolons(shared_dir: Path) -> None:
    """The real amoCRM export, saved again the way Excel in a Russian locale writes it, reads exactly like
    the original (it was refused with 'found only one column')."""
    path = shared_dir / "real-exports" / "amocrm_export_anonymized" / "amocrm_leads_test.csv"
    rows = list(csv.reader(io.StringIO(path.read_text("utf-8"))))
    out = io.StringIO()
    csv.writer(out, delimiter=";", lineterminator="\r\n").writerows(rows)
    resaved = read_bytes(out.getvalue().encode("cp1251", errors="replace"), "amocrm_leads.csv")
    original = read_file(path)
    assert (resaved.detected.encoding, resaved.detected.separator) == ("cp1251", ";")
    assert resaved.columns == original.columns
    a = import_raw(resaved, resolve(resaved)[0])
    b = import_raw(original, resolve(original)[0])
    assert (a.report.rows_read, a.report.rows_accepted) == (b.report.rows_read, b.report.rows_accepted) == (20, 19)
    for c in ("lead_id", "created_at", "won_at", "lost_at", "amount"):
        assert a.frame[c].to_list() == b.frame[c].to_list()


def test_pipedrive_german_interface_equals_the_english_export() -> None:
    german = load_import(LOCAL / "pipedrive_de_deals.csv", "pipedrive_deals")
    english = load_import(UPLOADS / "pipedrive_deals.csv", "pipedrive_deals")
    assert german.frame["amount"].sum() == 15000.0  # 5000 + 3000 + 7000
    columns = ["lead_id", "created_at", "won_at", "lost_at", "amount", "owner", "pipeline", "deal_stage"]
    common = [c for c in columns if c in german.frame.columns]
    assert common == [c for c in columns if c in english.frame.columns]
    assert german.frame.select(common).equals(english.frame.select(common))


# --- files that already carry the canonical names -----------------------------------------------------------

def test_canonical_leads_file() -> None:
    r = load_import(LOCAL / "canonical_leads.csv", "canonical_leads")
    assert r.frame["lead_id"].to_list() == ["L-1", "L-2", "L-3"]
    assert r.frame["amount"].sum() == pytest.approx(2000.5)
    assert r.frame["mql_at"].drop_nulls().len() == 2 and r.frame["won_at"].drop_nulls().len() == 1
    assert r.frame["initiative"].to_list() == ["Brand", None, "Spring"]
    assert r.frame["partner"].to_list() == ["Acme", None, None]  # another column stays an extra dimension


def test_canonical_spend_files_daily_and_range() -> None:
    daily = load_import(LOCAL / "canonical_spend.csv", "canonical_spend")
    assert sums(daily, "spend", "impressions", "clicks") == pytest.approx(
        {"spend": 300.0, "impressions": 10800, "clicks": 205})
    ranged = load_import(LOCAL / "canonical_spend_range.csv", "canonical_spend")
    assert ranged.frame["spend"].sum() == pytest.approx(2200.25)
    assert set(ranged.frame["period_start"]) == {date(2025, 2, 1)}
    assert set(ranged.frame["period_end"]) == {date(2025, 2, 28)}


def test_canonical_traffic_file() -> None:
    r = load_import(LOCAL / "canonical_traffic.csv", "canonical_traffic")
    assert r.frame["sessions"].sum() == 310 and r.frame["users"].sum() == 265
    assert r.frame["region"].to_list() == ["SE", "SE", "NO"]


def test_canonical_presets_come_after_every_tool_format() -> None:
    ids = [p.id for p in PRESETS]
    assert ids[-4:] == ["canonical_leads", "canonical_spend", "canonical_traffic", "canonical_touches"]


# --- the vocabularies themselves ---------------------------------------------------------------------------

def test_every_vocabulary_file_reads() -> None:
    files = sorted(p.stem for p in VOCABULARIES.glob("*.csv"))
    assert files == ["amocrm", "bitrix24", "ga4", "google_ads", "hubspot", "linkedin_ads", "meta_ads", "pipedrive",
                     "salesforce", "touches", "vk_ads", "yandex_direct", "yandex_metrica"]
    for source in files:
        vocab = load(source)
        assert vocab, source
        for key, by_lang in vocab.items():
            assert set(by_lang) == set(LANGUAGES)
            assert any(by_lang.values()), f"{source}.{key} has no header text"
    assert {"sv", "ru"} <= {lang for lang in LANGUAGES if load("meta_ads")["spend"][lang]}
    assert words("meta_ads", "spend")[0] == "amount spent"  # English first


def test_headers_fold_yo_but_stage_values_keep_their_letters() -> None:
    assert header_key("Дата окончания отчётности (RUB)") == "дата окончания отчетности"
    assert values("amocrm", "won_stage", "lost_stage") == ("успешно реализовано", "закрыто и не реализовано")
    assert values("bitrix24", "lead_lost_status") == ("некачественный лид", "забраковано")


@pytest.mark.parametrize(("text", "message"), [
    ("field,en,sv\nspend,Cost,Kostnad\n", "line 1: the header must be"),
    ("# a comment\nfield,en,sv,ru,de,nb,da,fi\nspend,Cost,Kostnad\n", "line 3: 3 cells, expected 8"),
    ("field,en,sv,ru,de,nb,da,fi\nspend,Cost,,,,,,\nspend,Costs,,,,,,\n", "line 3: field 'spend' is empty or repeated"),
])
def test_a_malformed_vocabulary_names_its_line(text: str, message: str) -> None:
    with pytest.raises(VocabularyError, match=message):
        parse("broken.csv", text)
