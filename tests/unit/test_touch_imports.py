"""Touch histories from real data: a generic touches file in English, Swedish and Russian (and as a workbook),
files with the canonical names, and bad input.

The fixtures in tests/fixtures/uploads/touches/ are small and typed by hand (see its README); every expected
touch below (count, time, channel, campaign) is read off those files by hand.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import polars as pl
import pytest

from kpi.schema import validate
from kpi.sources.files import RawTable, read_bytes, read_file
from kpi.sources.importer import ImportRefused, ImportResult, import_raw, resolve
from kpi.sources.mapping import Mapping
from kpi.sources.presets import DERIVED_TOUCH_TYPES

UPLOADS = Path(__file__).resolve().parent.parent / "fixtures" / "uploads"
TOUCHES = UPLOADS / "touches"
REPO = Path(__file__).resolve().parents[2]

#: the five touches of generic_touches_en.csv, in file order: (lead, time, channel, campaign)
EXPECTED = [
    ("L-1", datetime(2025, 3, 1, 9, 0), "Paid Search", "brand_se"),
    ("L-1", datetime(2025, 3, 4, 14, 30), "Email", "march_newsletter"),
    ("L-2", datetime(2025, 3, 2, 10, 15), "Meta", "spring_leads"),
    ("L-1", datetime(2025, 3, 10, 8, 0), "Events & Webinars", "webinar_q1"),
    ("L-3", datetime(2025, 3, 15, 16, 45), "Organic & Content", None),
]


def load(path: Path, preset: str) -> ImportResult:
    raw = read_file(path)
    mapping, chosen = resolve(raw)
    assert chosen is not None and chosen.id == preset, f"{path.name} recognised as {chosen and chosen.id}"
    result = import_raw(raw, mapping)
    assert result.table == "touches"
    assert [p for p in validate("touches", result.frame) if p.severity == "error"] == []
    return result


def rows(result: ImportResult) -> list[tuple[object, ...]]:
    return result.frame.select("lead_id", "touched_at", "channel", "campaign").rows()


@pytest.mark.parametrize("name", ["generic_touches_en.csv", "generic_touches_en.xlsx",
                                  "generic_touches_sv_semicolon.csv", "generic_touches_ru_cp1251.csv"])
def test_generic_touches_file_in_every_language(name: str) -> None:
    r = load(TOUCHES / name, "generic_touches")
    assert rows(r) == EXPECTED
    assert (r.report.rows_read, r.report.rows_accepted, r.report.rows_rejected) == (5, 5, 0)
    assert r.report.date_range == ("2025-03-01", "2025-03-15")
    # touches per lead: L-1 three, L-2 and L-3 one each
    assert dict(r.frame.group_by("lead_id").len().rows()) == {"L-1": 3, "L-2": 1, "L-3": 1}


def test_localized_touch_types_and_what_the_reader_detected() -> None:
    sv = load(TOUCHES / "generic_touches_sv_semicolon.csv", "generic_touches")
    assert "separator ';'" in sv.report.detected and "decimal ','" in sv.report.detected
    assert sv.frame["touch_type"].to_list() == ["besök", "klick i e-post", "formulär", "evenemang", "besök"]
    assert sv.report.columns_ignored == ["Kostnad"]
    ru = load(TOUCHES / "generic_touches_ru_cp1251.csv", "generic_touches")
    assert "cp1251" in ru.report.detected and ru.report.columns_used["touched_at"] == "Время касания"
    assert ru.frame["touch_type"][0] == "визит"
    en = load(TOUCHES / "generic_touches_en.csv", "generic_touches")
    assert en.frame["touch_type"].to_list() == ["visit", "email click", "form", "event", "visit"]


def test_canonical_touches_keep_extra_dimensions() -> None:
    r = load(TOUCHES / "canonical_touches.csv", "canonical_touches")
    assert rows(r) == [("L-1", datetime(2025, 3, 1, 9, 0), "Paid Search", "brand_se"),
                       ("L-2", datetime(2025, 3, 2, 10, 15), "Meta", "spring_leads")]
    assert r.frame["landing_page"].to_list() == ["/pricing", "/demo"]


def test_missing_lead_id_column_is_refused_naming_the_file_and_field() -> None:
    raw = read_bytes(b"Touch time,Channel,Campaign\n2025-03-01 09:00,Email,news\n", "no_lead.csv")
    with pytest.raises(ImportRefused, match=r"no_lead\.csv: not an export format I recognise"):
        resolve(raw)
    mapping, _ = resolve(raw, "generic_touches")
    with pytest.raises(ImportRefused, match=r"no_lead.csv: no column for required field\(s\) lead_id of touches"):
        import_raw(raw, mapping)


def test_unparseable_time_rejects_that_row_naming_row_and_column() -> None:
    text = ("Lead ID,Touch time,Channel\nL-1,2025-03-01 09:00,Email\nL-2,yesterday-ish,Meta\n"
            "L-3,2025-03-03 11:00,Paid Search\n")
    r = import_raw(*_resolved(read_bytes(text.encode(), "bad_time.csv")))
    assert r.frame["lead_id"].to_list() == ["L-1", "L-3"]
    [issue] = [i for i in r.report.issues if i.rejected]
    assert issue.rows == (2,) and issue.file == "bad_time.csv"
    assert str(issue).startswith("bad_time.csv: 'Touch time' (touched_at) is not a date")
    # every time unreadable: nothing can be accepted, and the refusal names file, field and rows
    bad = read_bytes(b"Lead ID,Touch time,Channel\nL-1,soon,Email\nL-2,later,Meta\n", "all_bad.csv")
    with pytest.raises(ImportRefused, match=r"all_bad.csv: no row could be accepted; .*'Touch time' \(touched_at\) "
                                            r"is not a date — 2 row\(s\): 1, 2"):
        import_raw(*_resolved(bad))


def _resolved(raw: RawTable) -> tuple[RawTable, Mapping]:
    return raw, resolve(raw)[0]


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "kpi", "import", *args], cwd=REPO, capture_output=True,
                          text=True, timeout=120)


def test_command_line_writes_the_touches_table_and_a_refusal_writes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "out"
    done = run_cli(str(TOUCHES / "generic_touches_ru_cp1251.csv"), "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert "Touches file (lead, time, channel, campaign) → touches" in done.stdout
    written = pl.read_parquet(out / "touches.parquet")
    assert written.select("lead_id", "touched_at", "channel", "campaign").rows() == EXPECTED
    bad = tmp_path / "bad.csv"
    bad.write_text("Lead ID,Touch time,Channel\nL-1,soon,Email\n")
    refused = run_cli(str(bad), "--out", str(tmp_path / "nothing"))
    assert refused.returncode != 0 and "bad.csv" in refused.stderr and "Touch time" in refused.stderr
    assert not (tmp_path / "nothing").exists()


# --- Salesforce campaign members ----------------------------------------------------------------------------

def test_salesforce_campaign_members_give_one_touch_per_responded_member() -> None:
    r = load(TOUCHES / "salesforce_campaign_members.csv", "salesforce_campaign_members")
    # 6 member rows: 4 responded (rows 1, 3, 4, 6), 2 only registered or sent (rows 2, 5); dates are month-first
    assert rows(r) == [("00Q1", datetime(2025, 3, 5), "Webinar", "Q1 Webinar: Pipeline"),
                       ("0031", datetime(2025, 3, 5), "Webinar", "Q1 Webinar: Pipeline"),  # a contact: Contact ID
                       ("00Q1", datetime(2025, 3, 12), "Email", "March Newsletter"),
                       ("0032", datetime(2025, 3, 18), "Salesforce campaign", "Nordic Trade Show")]  # no Type
    [left_out] = [i for i in r.report.issues if i.rejected]
    assert left_out.rows == (2, 5) and "never responded" in left_out.reason
    [filled] = [i for i in r.report.issues if not i.rejected]
    assert filled.rows == (6,) and filled.reason == "'Type' (channel) is empty; set to 'Salesforce campaign'"
    assert r.report.totals_excluded[0] == "row 7: total row: Grand Totals (6 records)"
    assert r.frame["member_status"].to_list() == ["Attended", "Attended", "Clicked", "Visited Booth"]
    assert "Contact ID" not in r.report.columns_ignored


def test_salesforce_members_without_type_column_or_any_response() -> None:
    head = "Campaign Name,Member Status,First Responded Date,Lead ID\n"
    raw = read_bytes((head + "Spring Promo,Responded,2025-04-02,00Q7\n").encode(), "members.csv")
    mapping, chosen = resolve(raw)
    assert chosen is not None and chosen.id == "salesforce_campaign_members"
    assert import_raw(raw, mapping).frame.row(0) == ("00Q7", datetime(2025, 4, 2), "Spring Promo",
                                                     "Salesforce campaign", "Responded")
    nobody = read_bytes((head + "Spring Promo,Sent,,00Q7\nSpring Promo,Sent,,00Q8\n").encode(), "sent.csv")
    with pytest.raises(ImportRefused, match=r"sent.csv: no row could be accepted; .*never responded"):
        import_raw(nobody, resolve(nobody)[0])


# --- HubSpot contacts: touches from the source fields --------------------------------------------------------

ORIGINAL, LATEST, CONVERTING = DERIVED_TOUCH_TYPES[:3]


def hubspot_touches(path: Path) -> ImportResult:
    raw = read_file(path)
    assert resolve(raw)[1].id == "hubspot_contacts"  # type: ignore[union-attr]  # recognised: still the leads
    result = import_raw(raw, resolve(raw, "hubspot_contact_touches")[0])
    assert result.table == "touches"
    assert [p for p in validate("touches", result.frame) if p.severity == "error"] == []
    return result


def test_hubspot_contacts_give_their_original_latest_and_converting_touches() -> None:
    r = hubspot_touches(TOUCHES / "hubspot_contacts_sources.csv")
    got = r.frame.sort("lead_id", "touched_at", maintain_order=True).select(
        "lead_id", "touched_at", "channel", "campaign", "touch_type").rows()
    assert got == [
        ("101", datetime(2025, 3, 1, 9, 0), "Paid Search", "Spring Launch", ORIGINAL),
        ("101", datetime(2025, 3, 20, 8, 30), "Email", None, LATEST),
        ("101", datetime(2025, 3, 20, 8, 35), "Email", "March Newsletter", CONVERTING),
        ("102", datetime(2025, 3, 2, 10, 0), "Organic Social", None, ORIGINAL),  # latest = original: once
        ("103", datetime(2025, 3, 5, 12, 0), "Direct Traffic", None, ORIGINAL),
        ("103", datetime(2025, 3, 9, 18, 15), "Paid Social", None, LATEST),  # no converting campaign: no third
        ("104", datetime(2025, 3, 6, 7, 45), "Referrals", None, ORIGINAL),
    ]
    assert (r.report.rows_read, r.report.rows_accepted) == (4, 7)
    [bad] = [i for i in r.report.issues if i.rejected]  # 104's latest source date is not a date; its original stays
    assert bad.rows == (4,) and bad.file == "hubspot_contacts_sources.csv"
    assert bad.reason.startswith(f"{LATEST}: 'Latest Traffic Source Date' (touched_at) is not a date")
    assert any("counted once" in w for w in r.report.warnings)
    assert r.frame.filter(pl.col("lead_id") == "101")["source_detail_1"].to_list() == ["google", "march-newsletter",
                                                                                        None]


def test_hubspot_touches_need_the_record_id() -> None:
    raw = read_file(TOUCHES / "hubspot_contacts_sources.csv")
    mapping = resolve(raw, "hubspot_contact_touches")[0]
    assert len(mapping.touch_sets) == 3
    assert Mapping.from_dict(json.loads(json.dumps(mapping.to_dict()))) == mapping  # a saved mapping reads back
    with pytest.raises(ImportRefused, match=r"hubspot_contacts_sources.csv: no column for required field\(s\) "
                                            "lead_id"):
        import_raw(raw, replace(mapping, fields={}))


@pytest.mark.corpus
def test_hubspot_touches_from_the_real_redacted_export(shared_dir: Path) -> None:
    # SOURCE.txt: 1,001 contacts; Original Traffic Source on every row; both converting campaign columns empty
    r = hubspot_touches(shared_dir / "real-exports" / "hubspot_contacts_export_redacted" / "all-contacts_REDACTED.csv")
    counts = dict(r.frame.group_by("touch_type").len().rows())
    assert counts[ORIGINAL] == 1001 and CONVERTING not in counts
    assert counts[LATEST] == r.frame.height - 1001 and r.report.rows_rejected == 0
    per_contact = r.frame.group_by("lead_id").len()["len"]
    assert per_contact.min() == 1 and per_contact.max() == 2
    # SOURCE.txt's tally of Original Traffic Source: Organic Social 637, Direct Traffic 267, Paid Social 61
    original = dict(r.frame.filter(pl.col("touch_type") == ORIGINAL).group_by("channel").len().rows())
    assert (original["Organic Social"], original["Direct Traffic"], original["Paid Social"]) == (637, 267, 61)


# --- UTM history: a form-submissions export ------------------------------------------------------------------

def test_utm_columns_give_the_channel_of_each_submission() -> None:
    r = load(TOUCHES / "form_submissions_utm.csv", "generic_touches")
    assert rows(r) == [("L-1", datetime(2025, 4, 1, 9, 12), "Paid Search", "brand_se"),  # google / cpc
                       ("L-2", datetime(2025, 4, 2, 14, 3), "Meta", "spring_leads"),  # facebook / cpc
                       ("L-1", datetime(2025, 4, 3, 8, 40), "Email", "april_news"),  # newsletter / email
                       ("L-3", datetime(2025, 4, 4, 19, 55), "Direct", None),  # (direct) / (none)
                       ("L-4", datetime(2025, 4, 5, 11, 20), "podcast-x / audio", "ep42")]  # unknown: as written
    assert r.frame["source"].to_list() == ["google", "facebook", "newsletter", "(direct)", "podcast-x"]
    [changed] = [i for i in r.report.issues if not i.rejected]
    assert changed.rows == (1, 2, 3, 4, 5) and changed.reason.startswith("channel taken from utm_source")


# --- GA4 per-user exploration: where GA4 is all there is ------------------------------------------------------

def test_ga4_per_user_campaigns_give_first_user_and_session_touches() -> None:
    """ga4_user_campaigns.csv by hand: L-1's first session (1 Mar, Paid Search, brand_se) is both its first-user
    and its session touch, counted once, then an e-mail session on 6 Mar; L-2 likewise with Paid Social on 2 Mar,
    then a direct session on 9 Mar; L-3 first came on 5 Mar (organic) and had an organic session on 11 Mar."""
    raw = read_file(TOUCHES / "ga4_user_campaigns.csv")
    assert resolve(raw)[1].id == "ga4_traffic"  # type: ignore[union-attr]  # recognised: still traffic, unless picked
    r = import_raw(raw, resolve(raw, "ga4_user_campaigns")[0])
    assert r.table == "touches" and [p for p in validate("touches", r.frame) if p.severity == "error"] == []
    first, session = "GA4 first-user campaign (derived)", "GA4 session campaign (derived)"
    assert first in DERIVED_TOUCH_TYPES and session in DERIVED_TOUCH_TYPES
    got = r.frame.sort("lead_id", "touched_at").select("lead_id", "touched_at", "channel", "campaign",
                                                        "touch_type").rows()
    assert got == [
        ("L-1", datetime(2025, 3, 1), "Paid Search", "brand_se", first),
        ("L-1", datetime(2025, 3, 6), "Email", "march_newsletter", session),
        ("L-2", datetime(2025, 3, 2), "Paid Social", "spring_leads", first),
        ("L-2", datetime(2025, 3, 9), "Direct", "(direct)", session),
        ("L-3", datetime(2025, 3, 5), "Organic Search", "(organic)", first),
        ("L-3", datetime(2025, 3, 11), "Organic Search", "(organic)", session),
    ]
    assert (r.report.rows_read, r.report.rows_accepted) == (5, 6)
    assert any("4 touch(es) repeat another touch of the same contact" in w for w in r.report.warnings)
