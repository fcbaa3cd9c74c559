"""Event exports (PostHog, Mixpanel, Amplitude, GA4 BigQuery, generic files) into the canonical events table.

The numbers come from tests/fixtures/events/make_fixtures.py, counted by hand from the event plans written there
(see README.md in that folder for the formats)."""

from __future__ import annotations

import gzip
import io
import json
import subprocess
import sys
import zipfile
from datetime import datetime
from pathlib import Path

import polars as pl
import pytest

from kpi.events import check_events
from kpi.schema import validate
from kpi.sources.eventrules import MAX_PROPERTIES, property_name
from kpi.sources.files import FileRefused, read_bytes, read_file
from kpi.sources.importer import ImportRefused, ImportResult, import_raw, resolve
from tests.conftest import REPO

EV = REPO / "tests" / "fixtures" / "events"


def imported(name: str, timezone: str | None = None) -> ImportResult:
    raw = read_file(EV / name)
    mapping, _ = resolve(raw)
    if timezone:
        from dataclasses import replace

        mapping = replace(mapping, timezone=timezone)
    return import_raw(raw, mapping)


def imported_path(path: Path) -> ImportResult:
    raw = read_file(path)
    return import_raw(raw, resolve(raw)[0])


def from_bytes(data: bytes, name: str) -> ImportResult:
    raw = read_bytes(data, name)
    return import_raw(raw, resolve(raw)[0])


def changed(result: ImportResult) -> list[tuple[str, int]]:
    return [(i.reason, len(i.rows)) for i in result.report.issues if not i.rejected]


def test_every_fixture_is_a_valid_events_table() -> None:
    for name in ("posthog_events.csv", "posthog_events_sql.csv", "posthog_events.jsonl", "mixpanel_export.jsonl",
                 "amplitude_export.zip",
                 "ga4_events_20250303.parquet", "ga4_events_20250303.ndjson", "generic_events_sv.csv",
                 "generic_events_ru_cp1251.csv"):
        result = imported(name)
        assert result.table == "events", name
        assert not [p for p in validate("events", result.frame) if p.severity == "error"], name
        assert result.frame.schema["timestamp"] == pl.Datetime("us"), name
        assert check_events(result.frame).height == result.frame.height, name  # the funnel engine reads it as is


# --- PostHog ----------------------------------------------------------------------------------------------

def test_posthog_csv_person_id_else_distinct_id() -> None:
    result = imported("posthog_events.csv")
    frame, report = result.frame, result.report
    assert report.preset == "PostHog events export"
    # A 4 events + B 2 + C 2 + P1..P8 2 each = 24; persons A, B, C (by distinct_id), P1..P8 = 11
    assert (report.rows_read, report.rows_accepted, report.rows_rejected) == (24, 24, 0)
    assert frame["user_id"].n_unique() == 11
    assert changed(result) == [("'person_id' is empty: user_id taken from 'distinct_id'", 2)]  # C's two events
    # anonymous (anon-a) and identified (alice@…) events of A are one person
    alice = frame.filter(pl.col("user_id") == "018e1c7a-0000-7000-8000-00000000000a")
    assert alice["distinct_id"].to_list() == ["anon-a", "anon-a", "alice@acme.example", "alice@acme.example"]
    assert frame.filter(pl.col("user_id") == "anon-c").height == 2
    # B's 09:00:00+01:00 is 08:00 UTC
    b = frame.filter(pl.col("distinct_id") == "anon-b")["timestamp"].to_list()
    assert b == [datetime(2025, 3, 3, 8, 0), datetime(2025, 3, 3, 8, 10)]
    assert frame["utm_campaign"][0] == "spring_sale" and frame["country"][4] == "NO"
    assert frame["current_url"][1] == "https://acme.example/pricing"


def test_posthog_jsonl_batch_export_gives_the_same_events_as_the_csv() -> None:
    csv, jsonl = imported("posthog_events.csv").frame, imported("posthog_events.jsonl").frame
    common = ["user_id", "timestamp", "event", "distinct_id", "current_url", "browser", "utm_source", "country"]
    assert jsonl.select(common).equals(csv.select(common))
    assert jsonl["person_email"].drop_nulls().unique().to_list() == ["alice@acme.example"]  # person_properties
    assert "uuid" not in jsonl.columns and "created_at" not in jsonl.columns  # ids and bookkeeping are no property


def test_posthog_sql_export_with_properties_as_json_text() -> None:
    result = imported("posthog_events_sql.csv")
    assert "JSON properties unpacked" in result.report.detected
    csv = imported("posthog_events.csv").frame
    common = ["user_id", "timestamp", "event", "distinct_id", "current_url", "browser", "utm_source", "country"]
    assert result.frame.select(common).equals(csv.select(common))


def test_posthog_parquet_batch_export_with_json_text_properties(tmp_path: Path) -> None:
    # the batch export's Parquet model: properties and person_properties as JSON-encoded text, timestamp a
    # TIMESTAMP in UTC (microseconds)
    records = [json.loads(line) for line in (EV / "posthog_events.jsonl").read_text(encoding="utf-8").splitlines()]
    frame = pl.DataFrame({
        "uuid": [r["uuid"] for r in records], "event": [r["event"] for r in records],
        "distinct_id": [r["distinct_id"] for r in records], "person_id": [r["person_id"] for r in records],
        "properties": [json.dumps(r["properties"]) for r in records],
        "person_properties": [json.dumps(r["person_properties"]) for r in records],
        "timestamp": [r["timestamp"] for r in records]}).with_columns(
        pl.col("timestamp").str.to_datetime(time_unit="us", time_zone="UTC"))
    frame.write_parquet(tmp_path / "posthog.parquet")
    parquet = imported_path(tmp_path / "posthog.parquet").frame
    csv = imported("posthog_events.csv").frame
    common = ["user_id", "timestamp", "event", "distinct_id", "current_url", "browser", "utm_source", "country"]
    assert parquet.select(common).equals(csv.select(common))


def test_a_whole_event_in_a_star_column_is_unpacked() -> None:
    event = {"uuid": "e1", "event": "$pageview", "distinct_id": "d1", "properties": {"$current_url": "https://a/"},
             "timestamp": "2025-03-03T08:00:00.000000Z"}
    text = 'event,timestamp,*\n$pageview,2025-03-03T08:00:00Z,"' + json.dumps(event).replace('"', '""') + '"\n'
    result = from_bytes(text.encode(), "activity.csv")
    assert result.report.preset == "PostHog events export"
    assert result.frame.select("user_id", "current_url").row(0) == ("d1", "https://a/")


# --- Mixpanel ---------------------------------------------------------------------------------------------

def test_mixpanel_distinct_id_as_written_and_time_in_seconds() -> None:
    result = imported("mixpanel_export.jsonl")
    frame = result.frame
    # 5 persons x (Page View, Pricing Viewed, Page View next day) + 3 Sign Ups of user-41..43 = 18 (+ 1 copy)
    assert (frame.height, frame["user_id"].n_unique()) == (18, 5)
    assert frame["user_id"][0] == "$device:18f0a1b2c3d4-0a"  # an anonymous id kept as it is
    assert frame["timestamp"][0] == datetime(2025, 3, 3, 8, 0)  # time 1740988800
    assert frame.filter(pl.col("event") == "Sign Up").height == 3
    assert frame.filter(pl.col("user_id") == "user-41")["utm_source"].unique().to_list() == ["linkedin"]
    assert frame["country"].to_list()[-1] == "FI"
    assert "'properties.time' read as Unix seconds (UTC)" in result.report.warnings
    assert not changed(result)  # no fallback: distinct_id is the person
    # line 19 copies line 11 (same distinct_id, time, event and $insert_id): the export is not deduplicated
    assert (result.report.rows_read, result.report.rows_rejected) == (19, 1)
    [copy] = [i for i in result.report.issues if i.rejected]
    assert copy.rows == (19,) and copy.reason.startswith("repeats an earlier event")


def test_mixpanel_time_in_an_older_project_s_time_zone_is_shifted_back() -> None:
    # 08:00 written as Stockholm wall-clock time (CET, UTC+1 in March) is 07:00 UTC
    result = imported("mixpanel_export.jsonl", timezone="Europe/Stockholm")
    assert result.frame["timestamp"][0] == datetime(2025, 3, 3, 7, 0)
    assert any("wall-clock time in Europe/Stockholm" in w for w in result.report.warnings)


def test_an_event_without_an_id_is_never_taken_for_a_copy() -> None:
    line = json.dumps({"event": "Page View", "properties": {"time": 1740988800, "distinct_id": "u1"}})
    result = from_bytes(f"{line}\n{line}\n".encode(), "twice.jsonl")
    assert result.report.rows_accepted == 2 and result.report.duplicates == 1  # counted as repeated, kept


def test_mixpanel_time_in_ms() -> None:
    line = {"event": "Page View", "properties": {"time": 1740988800123, "distinct_id": "u1", "$insert_id": "x"}}
    frame = from_bytes(json.dumps(line).encode(), "ms.jsonl").frame
    assert frame["timestamp"].to_list() == [datetime(2025, 3, 3, 8, 0, 0, 123000)]


# --- Amplitude --------------------------------------------------------------------------------------------

def test_amplitude_zip_user_id_else_device_id() -> None:
    result = imported("amplitude_export.zip")
    frame, report = result.frame, result.report
    assert "2 file(s) in the zip" in report.detected
    # 10 visits of 2 events; visits 0, 1, 4, 5, 8, 9 have no user_id: 12 events fall back to device_id
    assert (frame.height, report.rows_rejected) == (20, 0)
    assert changed(result) == [("'user_id' is empty: user_id taken from 'device_id'", 12)]
    # persons d-1 (before login), u-100, d-2, u-300, d-4
    assert sorted(frame["user_id"].unique().to_list()) == ["d-1", "d-2", "d-4", "u-100", "u-300"]
    assert frame["timestamp"][0] == datetime(2025, 3, 3, 8, 0, 0, 123456)  # "2025-03-03 08:00:00.123456" UTC
    assert frame["timestamp"][-1] == datetime(2025, 3, 3, 9, 4, 0, 123456)  # 63 + 1 minutes later, hour-9 file
    assert frame.filter(pl.col("event") == "Sign Up")["user_id"].to_list() == ["u-100", "u-300"]
    assert frame["current_url"][1] == "https://acme.example/pricing"
    assert frame["utm_source"][0] == "google"  # a user property, when the event has none


# --- GA4 BigQuery export ------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["ga4_events_20250303.parquet", "ga4_events_20250303.ndjson"])
def test_ga4_user_id_else_pseudo_id_and_nested_params(name: str) -> None:
    result = imported(name)
    frame = result.frame
    # 4 users x 4 events; users 0 and 2 have no user_id: their 8 events fall back to user_pseudo_id
    assert (frame.height, frame["user_id"].n_unique()) == (16, 4)
    assert changed(result) == [("'user_id' is empty: user_id taken from 'user_pseudo_id'", 8)]
    assert sorted(frame["user_id"].unique().to_list()) == ["1111111111.1740988800", "3333333333.1740989000",
                                                           "crm-7", "crm-9"]
    assert frame["timestamp"][0] == datetime(2025, 3, 3, 8, 0, 0, 123)  # 1740988800000123 µs
    assert frame["timestamp"][5] == datetime(2025, 3, 3, 9, 0, 30, 123)  # user 1, event 1: + 1 h + 30 s
    assert frame["current_url"][2] == "https://acme.example/pricing?utm_source=google"  # string_value
    assert frame["session_id"][0] == "1740988800" and frame["engagement_time_msec"][1] == "1500"  # int_value
    lead = frame.filter(pl.col("event") == "generate_lead")
    assert lead["value"].to_list() == ["49.5", "49.5"] and lead["user_id"].to_list() == ["crm-7", "crm-9"]  # double
    assert frame["utm_campaign"].to_list()[:4] == ["spring_sale"] * 4 and frame["utm_source"][12] is None
    assert frame["first_user_source"][0] == "google" and frame["country"][8] == "Russia"
    assert frame["browser"][0] == "Chrome" and frame["device_type"][4] == "mobile"
    assert frame.filter(pl.col("user_id") == "crm-7")["user_plan"].unique().to_list() == ["pro"]  # user_properties
    assert "items: lists of records, not kept as properties" in result.report.detected


def test_ga4_parquet_and_ndjson_agree() -> None:
    parquet, ndjson = imported("ga4_events_20250303.parquet").frame, imported("ga4_events_20250303.ndjson").frame
    assert ndjson.select(sorted(ndjson.columns)).equals(parquet.select(sorted(parquet.columns)))


# --- generic files ------------------------------------------------------------------------------------------

def test_generic_swedish_file_in_a_chosen_time_zone() -> None:
    result = imported("generic_events_sv.csv", timezone="Europe/Stockholm")
    frame = result.frame
    assert (frame.height, frame["user_id"].n_unique()) == (6, 3)
    assert frame["timestamp"][0] == datetime(2025, 3, 3, 8, 0)  # 09:00 in Stockholm
    assert frame["kampanj"].to_list()[:3] == ["Vårkampanj"] * 3 and frame["kampanj"][3] is None


def test_generic_russian_cp1251_file() -> None:
    result = imported("generic_events_ru_cp1251.csv")
    frame = result.frame
    assert "cp1251" in result.report.detected and "separator ';'" in result.report.detected
    assert (frame.height, frame["user_id"].n_unique()) == (6, 3)
    assert frame["timestamp"][1] == datetime(2025, 3, 3, 9, 4, 10)  # 03.03.2025 09:04:10, UTC by default
    assert frame["сумма_заказа"][1] == "1 234,50"  # properties stay text
    assert frame["event"].to_list()[:3] == ["Визит", "Корзина", "Покупка"]


# --- bad input: named, and nothing half-read --------------------------------------------------------------

def test_an_unreadable_timestamp_is_rejected_by_row() -> None:
    text = (EV / "posthog_events.csv").read_text(encoding="utf-8").splitlines()
    cells = text[3].split(",")
    cells[3] = "yesterday"
    text[3] = ",".join(cells)
    result = from_bytes(("\n".join(text) + "\n").encode(), "posthog_bad.csv")
    rejected = [(i.reason, i.rows) for i in result.report.issues if i.rejected]
    assert rejected == [("'timestamp' (timestamp) is not a date", (3,))]
    assert result.report.rows_accepted == 23


def test_a_missing_required_value_is_rejected_by_row() -> None:
    lines = [{"event": "Page View", "properties": {"time": 1740988800, "distinct_id": "u1"}},
             {"properties": {"time": 1740988860, "distinct_id": "u2"}}]
    result = from_bytes("\n".join(json.dumps(x) for x in lines).encode(), "mp.jsonl")
    assert [(i.reason, i.rows) for i in result.report.issues if i.rejected] == [("'event' is empty", (2,))]


def test_no_valid_time_at_all_is_refused() -> None:
    data = b"user_id,timestamp,event\nu1,soon,visit\nu2,later,visit\n"
    with pytest.raises(ImportRefused, match="no row could be accepted"):
        from_bytes(data, "bad.csv")


def test_a_line_that_is_not_json_is_named() -> None:
    data = b'{"event": "a", "properties": {"time": 1, "distinct_id": "u"}}\n{"event": "b", oops}\n'
    with pytest.raises(FileRefused, match=r"bad\.jsonl: line 2 is not JSON"):
        read_bytes(data, "bad.jsonl")


def test_json_that_is_no_known_export_is_refused_with_its_columns() -> None:
    with pytest.raises(ImportRefused, match=r"not an export format I recognise \(columns: colour, size"):
        from_bytes(b'{"colour": "red", "size": 3}\n', "things.jsonl")


def test_a_csv_whose_header_starts_with_a_bracket_is_still_a_csv() -> None:
    assert read_bytes(b"[date],[clicks]\n2025-01-01,2\n", "brackets.csv").columns == ["[date]", "[clicks]"]


def test_a_zip_of_other_files_is_still_refused_as_before() -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("notes.txt", "hello")
    with pytest.raises(FileRefused, match="zip archive, not an Excel workbook"):
        read_bytes(buf.getvalue(), "notes.zip")


def test_a_gzip_bomb_is_refused() -> None:
    bomb = gzip.compress(b"{" + b" " * 60_000_000 + b"}", compresslevel=9)
    with pytest.raises(FileRefused, match="refused: it unpacks to more than"):
        read_bytes(bomb, "bomb.jsonl.gz")


def test_an_unknown_time_zone_is_refused() -> None:
    with pytest.raises(ImportRefused, match="unknown time zone 'Mars/Olympus'"):
        imported("generic_events_sv.csv", timezone="Mars/Olympus")


def test_a_utc_export_ignores_a_time_zone_and_says_so() -> None:
    result = imported("amplitude_export.zip", timezone="Europe/Stockholm")
    assert result.frame["timestamp"][0] == datetime(2025, 3, 3, 8, 0, 0, 123456)
    assert any("was not applied" in w for w in result.report.warnings)


# --- properties ------------------------------------------------------------------------------------------

def test_properties_are_capped_and_the_rest_named() -> None:
    header = ["user_id", "timestamp", "event"] + [f"p{i:02d}" for i in range(50)]
    rows = [["u1", "2025-03-03 08:00:00", "visit"] + [f"v{i}" if i < 45 else "" for i in range(50)]]
    data = ("\n".join(",".join(r) for r in [header, *rows]) + "\n").encode()
    result = from_bytes(data, "wide.csv")
    props = [c for c in result.frame.columns if c not in ("user_id", "timestamp", "event")]
    assert len(props) == MAX_PROPERTIES == 40
    # 45 columns have a value: 40 kept, 5 left out and named; 5 empty ones are columns not used
    note = next(w for w in result.report.warnings if "left out" in w)
    assert note.startswith("5 more properties left out")
    assert all(c in result.report.columns_ignored for c in ("p45", "p49"))


def test_an_events_mapping_reads_back_as_saved() -> None:
    from kpi.sources.mapping import Mapping

    raw = read_file(EV / "mixpanel_export.jsonl")
    mapping = resolve(raw)[0]
    assert mapping.event_id == ("properties.$insert_id",) and mapping.time_unit == "epoch"
    assert Mapping.from_dict(json.loads(json.dumps(mapping.to_dict()))) == mapping


def test_property_names() -> None:
    assert property_name("properties.$current_url") == "current_url"
    assert property_name("event_params.page_location") == "page_location"
    assert property_name("person_properties.plan") == "person_plan"
    assert property_name("user_properties.utm_source") == "user_utm_source"


# --- command line -----------------------------------------------------------------------------------------

def test_command_line_imports_an_amplitude_zip_for_the_funnel(tmp_path: Path) -> None:
    out = tmp_path / "ws"
    done = subprocess.run([sys.executable, "-m", "kpi", "import", str(EV / "amplitude_export.zip"), "--out", str(out),
                           "--format", "json"], capture_output=True, text=True, cwd=REPO, check=False)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.split("\nwrote")[0])
    assert (report["table"], report["rows_accepted"]) == ("events", 20)
    assert pl.read_parquet(out / "events.parquet")["user_id"].n_unique() == 5
    funnel = subprocess.run([sys.executable, "-m", "kpi", "events", "funnel", "--events", str(out / "events.parquet"),
                             "--step", "[Amplitude] Page Viewed", "--step", "Sign Up", "--order", "ordered",
                             "--window", "1d", "--format", "json"], capture_output=True, text=True, cwd=REPO,
                            check=False)
    assert funnel.returncode == 0, funnel.stderr
    # the two signed-up persons (u-100, u-300) viewed a page first; the 5 persons all viewed one
    assert [s["count"] for s in json.loads(funnel.stdout)["steps"]] == [5, 2]


def test_command_line_maps_an_events_file_with_a_time_zone(tmp_path: Path) -> None:
    src = tmp_path / "visits.csv"
    src.write_text("Who;When;What;Page\nv1;2025-03-03 09:00;visit;/\nv1;2025-03-03 09:05;signup;/s\n", encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "kpi", "import", str(src), "--table", "events", "--map", "user_id=Who",
                           "--map", "timestamp=When", "--map", "event=What", "--timezone", "Europe/Stockholm",
                           "--out", str(tmp_path)], capture_output=True, text=True, cwd=REPO, check=False)
    assert done.returncode == 0, done.stderr
    events = pl.read_parquet(tmp_path / "events.parquet")
    assert events["timestamp"].to_list() == [datetime(2025, 3, 3, 8, 0), datetime(2025, 3, 3, 8, 5)]
    assert events["page"].to_list() == ["/", "/s"]
