"""`python -m kpi` in a subprocess: the same numbers as the engine, plain fractions, exit code 2 on bad input."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from kpi.data import write_dir
from tests.conftest import REPO
from tests.unit.handmade import tables
from tests.unit.test_review import COST, build


def kpi(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "kpi", *args], cwd=REPO, capture_output=True, text=True,
                          timeout=120)


@pytest.fixture(scope="module")
def handmade_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("handmade")
    write_dir(tables(), folder)
    return folder


def test_metrics_csv_has_dimensions_then_metric_ids_and_hand_numbers(handmade_dir: Path) -> None:
    run = kpi("metrics", "--data", str(handmade_dir), "--metrics", "leads,mql,cpl,roas,lead_to_won",
              "--by", "channel", "--from", "2025-01-01", "--to", "2025-01-31", "--format", "csv")
    assert run.returncode == 0, run.stderr
    out = pl.read_csv(io.StringIO(run.stdout))
    assert out.columns == ["channel", "leads", "mql", "cpl", "roas", "lead_to_won"]
    email = out.filter(pl.col("channel") == "Email").row(0, named=True)
    meta = out.filter(pl.col("channel") == "Meta").row(0, named=True)
    assert (email["leads"], email["mql"], email["cpl"], email["roas"], email["lead_to_won"]) == (1, 1, 50, 200, 1)
    assert (meta["leads"], meta["cpl"], meta["lead_to_won"]) == (2, 150, 0)  # a plain fraction, not 0 %


def test_metrics_json_with_grain_view_and_filter(handmade_dir: Path) -> None:
    run = kpi("metrics", "--data", str(handmade_dir), "--metrics", "leads,won", "--grain", "month",
              "--view", "flow", "--filter", "channel=Email,Meta", "--format", "json")
    assert run.returncode == 0, run.stderr
    rows = json.loads(run.stdout)
    assert rows == [{"period": "2025-01-01", "leads": 3, "won": 0}, {"period": "2025-02-01", "leads": 2, "won": 1},
                    {"period": "2025-03-01", "leads": 1, "won": 0}]


def test_funnel_command(handmade_dir: Path) -> None:
    run = kpi("funnel", "--data", str(handmade_dir), "--from", "2025-01-01", "--to", "2025-03-31", "--format", "csv")
    assert run.returncode == 0, run.stderr
    out = pl.read_csv(io.StringIO(run.stdout))
    assert out["stage"].to_list() == ["sessions", "lead", "mql", "sql", "opportunity", "won"]
    assert out["count"].to_list() == [1200, 6, 5, 4, 3, 1]
    assert out["cost_per_stage"].to_list() == pytest.approx([960 / 1200, 160, 192, 240, 320, 960])


def test_funnel_command_compares_and_allocates(handmade_dir: Path) -> None:
    run = kpi("funnel", "--data", str(handmade_dir), "--from", "2025-02-01", "--to", "2025-02-28",
              "--compare", "previous", "--filter", "segment=SMB", "--allocate-cost", "--format", "json")
    assert run.returncode == 0, run.stderr
    rows = {r["stage"]: r for r in json.loads(run.stdout)}
    # February SMB: L5 alone, 1 of February's 2 leads → 300 × 1/2 = 150 of spend per stage it reached;
    # January SMB: L1, L3 of 3 leads → 350 × 2/3, with 2 leads, 2 MQL, 1 SQL, 1 opportunity, 1 won
    assert [rows[s]["count"] for s in ("lead", "mql", "won")] == [1, 1, 0]
    assert rows["lead"]["cost_per_stage"] == pytest.approx(150)
    assert rows["won"]["cost_per_stage"] is None
    assert rows["lead"]["count_prev"] == 2
    assert rows["lead"]["cost_per_stage_prev"] == pytest.approx(350 * 2 / 3 / 2)
    assert rows["won"]["cost_per_stage_prev"] == pytest.approx(350 * 2 / 3)
    missing = kpi("funnel", "--data", str(handmade_dir), "--compare", "previous")
    assert missing.returncode == 2 and "--compare needs the period" in missing.stderr


@pytest.mark.parametrize(("args", "message"), [
    (["--metrics", "leads,nope"], "unknown metric(s): nope"),
    (["--metrics", "leads", "--by", "colour"], "unknown dimension(s): colour"),
    (["--metrics", "leads", "--from", "2025-02-30"], "is not a date; use YYYY-MM-DD"),
    (["--metrics", "leads", "--from", "2025-03-01", "--to", "2025-01-01"], "is before --from"),
    (["--metrics", "leads", "--filter", "channel"], "must look like dimension=value1,value2"),
    (["--metrics", "leads", "--view", "sideways"], "invalid choice: 'sideways'"),
])
def test_bad_input_exits_2_and_lists_what_is_valid(handmade_dir: Path, args: list[str], message: str) -> None:
    run = kpi("metrics", "--data", str(handmade_dir), *args)
    assert run.returncode == 2
    assert message in run.stderr
    if message.startswith("unknown metric"):
        assert "Valid metrics:" in run.stderr and "cpl" in run.stderr
    if message.startswith("unknown dimension"):
        assert "Valid dimensions:" in run.stderr and "channel" in run.stderr


def test_missing_data_folder_exits_2(tmp_path: Path) -> None:
    run = kpi("metrics", "--data", str(tmp_path / "nowhere"), "--metrics", "leads")
    assert run.returncode == 2 and "does not exist" in run.stderr
    empty = kpi("metrics", "--data", str(tmp_path), "--metrics", "leads")
    assert empty.returncode == 2 and "no canonical tables" in empty.stderr


def test_demo_command_writes_tables_the_engine_reads(tmp_path: Path) -> None:
    run = kpi("demo", "--out", str(tmp_path), "--today", "2026-11-22")
    assert run.returncode == 0, run.stderr
    for name in ("leads", "spend", "traffic", "touches", "kpis"):
        assert (tmp_path / f"{name}.parquet").exists()
    leads = pl.read_parquet(tmp_path / "leads.parquet")
    # independent check: count Email leads created in 2026-Q1 directly from the file
    expected = leads.filter((pl.col("channel") == "Email") & (pl.col("created_at") >= pl.datetime(2026, 1, 1))
                            & (pl.col("created_at") < pl.datetime(2026, 4, 1))).height
    run = kpi("metrics", "--data", str(tmp_path), "--metrics", "leads",
              "--filter", "channel=Email", "--from", "2026-01-01", "--to", "2026-03-31", "--format", "json")
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout) == [{"leads": expected}]
    by_initiative = kpi("metrics", "--data", str(tmp_path), "--metrics", "spend", "--by", "initiative",
                        "--format", "csv")
    spend = pl.read_csv(io.StringIO(by_initiative.stdout))
    assert spend["initiative"].null_count() == 0  # settings.json carried the initiative rules along
    assert spend["spend"].sum() == pytest.approx(pl.read_parquet(tmp_path / "spend.parquet")["spend"].sum())


def test_catalog_command_lists_metrics() -> None:
    run = kpi("catalog", "--format", "csv")
    assert run.returncode == 0, run.stderr
    ids = pl.read_csv(io.StringIO(run.stdout))["id"].to_list()
    assert {"sessions", "leads", "mql", "sql", "opportunities", "won", "revenue", "pipeline", "spend", "impressions",
            "clicks", "ctr", "cpc", "cpl", "cac", "roas", "roi", "win_rate", "lead_to_won"} <= set(ids)


def test_kpis_follows_the_tree_with_hand_counted_values(tmp_path: Path) -> None:
    """Two KPIs on the handmade workspace, judged on 2025-01-31: January had L1, L2 and L3."""
    kpis = pl.DataFrame({"kpi_id": ["goal", "meta_leads"], "name": ["Leads", "Meta leads"],
                         "metric": ["leads", "leads"], "parent": [None, "goal"],
                         "filters": [None, "channel=Meta"], "period": ["2025-Q1", None], "target": [9.0, None]})
    write_dir(tables() | {"kpis": kpis}, tmp_path)
    run = kpi("kpis", "--data", str(tmp_path), "--today", "2025-01-31", "--format", "json")
    assert run.returncode == 0, run.stderr
    goal, meta = json.loads(run.stdout)
    assert (goal["kpi_id"], goal["depth"], goal["period"], goal["value"]) == ("goal", 0, "2025-Q1", 3)
    # 31 of Q1's 90 days: 9 · 31 / 90 = 3.1 leads expected; 27 days of history are too short to forecast
    assert goal["expected"] == pytest.approx(3.1) and goal["pace_basis"] == "pro_rata"
    # 3 / 3.1 = 97 %: under the 100 % warning line, above the 90 % critical one
    assert goal["forecast"] is None and goal["reason"] == "pace" and goal["status"] == "at_risk"
    # no target: the last 30 days (2 to 31 January) had two Meta leads, L2 and L3
    assert (meta["depth"], meta["reason"], meta["value"], meta["filters"]) == (1, "no_target", 2, "channel=Meta")


def test_kpis_refuses_a_tree_that_goes_round_in_a_circle(tmp_path: Path) -> None:
    kpis = pl.DataFrame({"kpi_id": ["a", "b"], "name": ["A", "B"], "metric": ["leads", "mql"], "parent": ["b", "a"]})
    write_dir(tables() | {"kpis": kpis}, tmp_path)
    run = kpi("kpis", "--data", str(tmp_path))
    assert run.returncode == 2 and "circle" in run.stderr and run.stdout == ""


def test_review_lists_a_verdict_per_subject_with_its_numbers(handmade_dir: Path) -> None:
    run = kpi("review", "--data", str(handmade_dir), "--by", "channel", "--from", "2025-01-01", "--to", "2025-01-31",
              "--format", "json")
    assert run.returncode == 0, run.stderr
    rows = {r["subject"]: r for r in json.loads(run.stdout)}
    # January: Email spent 50 on L1 (one lead, an MQL); Meta spent 100 + 200 on L2 and L3 (both MQL)
    assert (rows["Email"]["spend"], rows["Email"]["leads"], rows["Email"]["cpl"]) == (50, 1, 50)
    assert (rows["Meta"]["spend"], rows["Meta"]["leads"], rows["Meta"]["cpl"]) == (300, 2, 150)
    assert {r["verdict"] for r in rows.values()} <= {"stop", "less", "more", "start", "continue", "wait"}
    # the one won deal took 39.6 days, so leads up to 1 March - 40 days = 20 January are old enough to judge on
    # won deals: L1 (Email), L2 and L3 (Meta), far under 30: not enough data yet
    assert {s: (r["verdict"], r["mature_leads"], r["mature_end"]) for s, r in rows.items()} == {
        "Email": ("wait", 1, "2025-01-20"), "Meta": ("wait", 2, "2025-01-20")}


def test_review_decides_on_mature_cohorts_and_a_target_cac_given_as_a_rule(tmp_path: Path) -> None:
    write_dir(build(COST), tmp_path)
    run = kpi("review", "--data", str(tmp_path), "--from", "2026-03-01", "--to", "2026-03-31", "--format", "csv",
              "--rule", "target_cac=1000")
    assert run.returncode == 0, run.stderr
    out = pl.read_csv(io.StringIO(run.stdout))
    assert out.columns[:4] == ["subject", "verdict", "rule", "spend"] and "mature_cac" in out.columns
    # worked out by hand in tests/unit/test_review.py: the cost case
    assert dict(zip(out["subject"], out["rule"], strict=True)) == {
        "A": "more_best_cac", "B": "continue", "C": "less_cac", "D": "stop_cac", "E": "stop_no_won"}
    d = out.filter(pl.col("subject") == "D").row(0, named=True)
    assert (d["mature_cac"], d["target_cac"], d["target_cac_source"], d["mature_roas"]) == (4000, 1000, "rule", 0.75)
    # a threshold moves D from stop to do less: 4000 is under 5 x 1000
    softer = kpi("review", "--data", str(tmp_path), "--from", "2026-03-01", "--to", "2026-03-31", "--format", "json",
                 "--rule", "target_cac=1000", "--rule", "stop_cac_multiple=5")
    assert {r["subject"]: r["rule"] for r in json.loads(softer.stdout)}["D"] == "less_cac"
    bad = kpi("review", "--data", str(tmp_path), "--from", "2026-03-01", "--to", "2026-03-31",
              "--rule", "trend_periods=1")
    assert bad.returncode == 2 and "trend_periods must be a whole number from 2 to 12" in bad.stderr


def test_review_refuses_an_unknown_threshold_or_a_missing_period(handmade_dir: Path) -> None:
    bad = kpi("review", "--data", str(handmade_dir), "--from", "2025-01-01", "--to", "2025-01-31",
              "--rule", "cheapness=2")
    assert bad.returncode == 2 and "less_cpl_multiple" in bad.stderr
    open_ended = kpi("review", "--data", str(handmade_dir), "--by", "channel", "--from", "2025-01-01")
    assert open_ended.returncode == 2 and "--to" in open_ended.stderr


def test_xlsx_neutralises_formula_text_while_csv_stays_raw(tmp_path: Path) -> None:
    """A campaign named like a formula: the workbook (for people) holds it behind a ', the CSV (for machines)
    as it is; the counts are the handmade ones (Email: one lead in January)."""
    hostile = "=HYPERLINK(\"http://127.0.0.1:9\",\"x\")"
    handmade = tables()
    handmade["leads"] = handmade["leads"].with_columns(pl.lit(hostile).alias("campaign"))
    write_dir(handmade, tmp_path)
    args = ("metrics", "--data", str(tmp_path), "--metrics", "leads", "--by", "channel,campaign", "--from",
            "2025-01-01", "--to", "2025-01-31", "--format")
    book = subprocess.run([sys.executable, "-m", "kpi", *args, "xlsx"], cwd=REPO, capture_output=True, timeout=120)
    assert book.returncode == 0, book.stderr
    sheet = pl.read_excel(io.BytesIO(book.stdout))
    email = sheet.filter(pl.col("channel") == "Email").row(0, named=True)
    assert email["campaign"] == "'" + hostile and email["leads"] == 1
    raw = pl.read_csv(io.StringIO(kpi(*args, "csv").stdout))
    assert raw.filter(pl.col("channel") == "Email")["campaign"].to_list() == [hostile]
    assert "neutralised" in kpi("metrics", "--help").stdout


def test_only_the_chosen_command_s_module_is_imported() -> None:
    """`python -m kpi --help` lists every command without importing any; a command imports its own module only
    (not GA4's client for a funnel), so both start in about the time polars takes to import."""
    probe = ("import sys; from kpi.cli import build_parser; build_parser({}); "
             "print(sorted(m for m in ('kpi.commands', 'kpi.sources.ga4', 'kpi.events') if m in sys.modules))")
    loaded = [subprocess.run([sys.executable, "-c", probe.format(arg)], cwd=REPO, capture_output=True, text=True,
                             timeout=120).stdout.strip() for arg in ("None", "'funnel'", "'ga4'")]
    assert loaded == ["[]", "['kpi.commands']", "['kpi.sources.ga4']"]
    listed = kpi("--help").stdout
    assert all(name in listed for name in ("demo", "funnel", "attribution", "ga4", "import", "events"))
    assert "multi-touch attribution" in listed
