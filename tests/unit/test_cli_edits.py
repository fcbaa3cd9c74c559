"""`python -m kpi` commands that change or read what the app saves: `kpis set-target` on a folder's KPI tree,
`review decisions` on a workspace store's saved reviews and `metrics --vs-overall`, worked out by hand."""

from __future__ import annotations

import io
import json
import subprocess
from pathlib import Path

import polars as pl
import pytest

from kpi.data import write_dir
from kpi.review import DOC_KIND, save_review
from kpi.store import Store
from tests.unit.handmade import tables
from tests.unit.test_cli import kpi
from tests.unit.test_review import days

TREE = pl.DataFrame({"kpi_id": ["goal", "mql_rate"], "name": ["Leads", "Lead → MQL"],
                     "metric": ["leads", "lead_to_mql"], "parent": [None, "goal"],
                     "period": ["2025-Q1", None], "target": [9.0, None]})
NOVEMBER = "initiative:2026-11-01..2026-11-30"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    write_dir(tables() | {"kpis": TREE}, tmp_path)
    return tmp_path


def targets(folder: Path) -> list[tuple[str, str | None, float | None]]:
    return pl.read_parquet(folder / "kpis.parquet").select("kpi_id", "period", "target").rows()


def test_set_target_changes_the_target_the_kpis_command_judges_against(folder: Path) -> None:
    run = kpi("kpis", "set-target", "--data", str(folder), "--kpi", "goal", "--period", "2025-Q1", "--target", "12",
              "--format", "json")
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout) == [{"kpi_id": "goal", "name": "Leads", "period": "2025-Q1", "before": 9.0,
                                       "after": 12.0}]
    assert targets(folder) == [("goal", "2025-Q1", 12.0), ("mql_rate", None, None)]
    judged = json.loads(kpi("kpis", "--data", str(folder), "--today", "2025-01-31", "--format", "json").stdout)[0]
    # 31 of Q1's 90 days: 12 · 31 / 90 = 4.13 leads expected by 31 January; January had 3, 73 %: under the
    # 90 % critical line (it was at risk against 9: 3 of 3.1)
    assert judged["expected"] == pytest.approx(12 * 31 / 90) and judged["status"] == "off_track"


def test_a_rate_target_is_a_fraction_and_a_percentage_is_kept_but_pointed_out(folder: Path) -> None:
    run = kpi("kpis", "set-target", "--data", str(folder), "--kpi", "mql_rate", "--period", "2025-02",
              "--target", "0.45", "--format", "csv")
    assert run.returncode == 0 and run.stderr == ""
    assert run.stdout == "kpi_id,name,period,before,after\nmql_rate,Lead → MQL,2025-02,,0.45\n"
    assert targets(folder)[-1] == ("mql_rate", "2025-02", 0.45)
    typed = kpi("kpis", "set-target", "--data", str(folder), "--kpi", "mql_rate", "--period", "2025-02",
                "--target", "45", "--format", "csv")
    assert typed.returncode == 0 and "4500 %; for 45 % give --target 0.45" in typed.stderr


def test_remove_takes_out_only_that_period_s_target(folder: Path) -> None:
    kpi("kpis", "set-target", "--data", str(folder), "--kpi", "goal", "--period", "2025-02", "--target", "4")
    run = kpi("kpis", "set-target", "--data", str(folder), "--kpi", "goal", "--period", "2025-Q1", "--remove",
              "--format", "csv")
    assert run.returncode == 0, run.stderr
    assert run.stdout == "kpi_id,name,period,before,after\ngoal,Leads,2025-Q1,9.0,\n"
    assert targets(folder) == [("goal", "2025-02", 4.0), ("mql_rate", None, None)]


@pytest.mark.parametrize(("args", "message"), [
    (["--kpi", "nope", "--period", "2025-Q1", "--target", "1"], "no KPI 'nope' in the tree; its kpi_ids are: goal, "
                                                                 "mql_rate"),
    (["--kpi", "goal", "--period", "Q1", "--target", "1"], "target period 'Q1' is not a year"),
    (["--kpi", "goal", "--period", "2025-Q1"], "give the new target with --target VALUE, or --remove"),
    (["--kpi", "goal", "--period", "2025-Q1", "--target", "1", "--remove"], "or --remove"),
    (["--kpi", "goal", "--target", "1"], "set-target needs the KPI and the period"),
    (["--kpi", "goal", "--period", "2025-Q1", "--target", "nan"], "--target must be a number"),
])
def test_bad_input_exits_2_and_writes_nothing(folder: Path, args: list[str], message: str) -> None:
    before = (folder / "kpis.parquet").read_bytes()
    run = kpi("kpis", "set-target", "--data", str(folder), *args)
    assert run.returncode == 2 and message in run.stderr and run.stdout == ""
    assert (folder / "kpis.parquet").read_bytes() == before


def test_set_target_needs_a_tree(tmp_path: Path) -> None:
    write_dir(tables(), tmp_path)
    run = kpi("kpis", "set-target", "--data", str(tmp_path), "--kpi", "goal", "--period", "2025-Q1", "--target", "1")
    assert run.returncode == 2 and "no kpis.parquet" in run.stderr


# --- review decisions -------------------------------------------------------------------------------------

@pytest.fixture
def store_dir(tmp_path: Path) -> Path:
    """A workspace store with October's and November's initiative reviews, saved as the Review page saves them
    (November's on the 20th, with a budget for ABM)."""
    store = Store(tmp_path / "store")
    ws = store.create_workspace("Acme Nordics").id
    note = {"subject": "ABM", "verdict": "more", "decision": "Double LinkedIn", "owner": "Åsa Öberg",
            "date": "2026-11-02"}
    save_review(store, ws, "initiative", days("2026-10-01", "2026-10-31"), [note])
    save_review(store, ws, "initiative", days("2026-11-01", "2026-11-20"),
                [{**note, "verdict": "continue", "decision": "Keep", "date": "2026-11-21", "note": "Dec?"},
                 {**note, "subject": "Brand", "verdict": "less", "decision": "Cut 20 %", "owner": "Erik"}],
                budgets={"ABM": 5000})
    return tmp_path / "store"


def decisions(store_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return kpi("review", "decisions", "--store", str(store_dir), "--workspace", "acme nordics", *args)


def test_review_decisions_reads_the_review_of_the_term_the_period_ends_in(store_dir: Path) -> None:
    run = decisions(store_dir, "--from", "2026-11-01", "--to", "2026-11-22", "--format", "json")
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout) == [
        {"review": NOVEMBER, "subject": "ABM", "verdict": "continue", "decision": "Keep", "owner": "Åsa Öberg",
         "date": "2026-11-21", "note": "Dec?", "budget": 5000.0},
        {"review": NOVEMBER, "subject": "Brand", "verdict": "less", "decision": "Cut 20 %", "owner": "Erik",
         "date": "2026-11-02", "note": "", "budget": None}]
    previous = json.loads(decisions(store_dir, "--from", "2026-11-01", "--to", "2026-11-22", "--previous",
                                    "--format", "json").stdout)
    assert [(r["review"], r["verdict"]) for r in previous] == [("initiative:2026-10-01..2026-10-31", "more")]
    # the quarter's review is another review: nothing saved for it, and by channel there is nothing at all
    quarter = decisions(store_dir, "--from", "2026-10-01", "--to", "2026-11-22", "--format", "csv")
    assert quarter.returncode == 0 and quarter.stdout == "review,subject,verdict,decision,owner,date,note,budget\n"
    assert "no decisions saved for initiative:2026-10-01..2026-12-31" in quarter.stderr
    month = decisions(store_dir, "--from", "2026-10-01", "--to", "2026-11-22", "--term", "month", "--format", "csv")
    assert pl.read_csv(io.StringIO(month.stdout))["review"].unique().to_list() == [NOVEMBER]
    by_channel = decisions(store_dir, "--from", "2026-11-01", "--to", "2026-11-22", "--by", "channel")
    assert by_channel.returncode == 0 and "no decisions saved for channel:" in by_channel.stderr


def test_a_damaged_review_exits_1_and_the_other_one_is_still_read(store_dir: Path) -> None:
    store = Store(store_dir)
    store.put_doc("acme-nordics", DOC_KIND, "initiative:2026-10-01..2026-10-31", {"format": 99})
    damaged = decisions(store_dir, "--from", "2026-11-01", "--to", "2026-11-30", "--previous")
    assert damaged.returncode == 1 and "unknown format 99" in damaged.stderr and damaged.stdout == ""
    read = decisions(store_dir, "--from", "2026-11-01", "--to", "2026-11-30", "--format", "csv")
    assert read.returncode == 0 and "note: " in read.stderr and "unknown format 99" in read.stderr
    assert pl.read_csv(io.StringIO(read.stdout))["subject"].to_list() == ["ABM", "Brand"]


def test_review_decisions_says_what_is_missing(store_dir: Path, tmp_path: Path) -> None:
    no_ws = kpi("review", "decisions", "--store", str(store_dir), "--workspace", "Nobody",
                "--from", "2026-11-01", "--to", "2026-11-30")
    assert no_ws.returncode == 2 and "its workspaces: Acme Nordics (acme-nordics)" in no_ws.stderr
    nowhere = kpi("review", "decisions", "--store", str(tmp_path / "nowhere"), "--workspace", "x",
                  "--from", "2026-11-01", "--to", "2026-11-30")
    assert nowhere.returncode == 2 and "no workspace store" in nowhere.stderr
    open_ended = decisions(store_dir, "--from", "2026-11-01")
    assert open_ended.returncode == 2 and "a review needs its period" in open_ended.stderr
    # the conclusions still need their data folder, as before
    no_data = kpi("review", "--from", "2026-11-01", "--to", "2026-11-30")
    assert no_data.returncode == 2 and "the following arguments are required: --data" in no_data.stderr


# --- metrics --vs-overall ---------------------------------------------------------------------------------

def test_metrics_vs_overall_by_hand(folder: Path) -> None:
    """January: Email 1 lead for 50 of spend, won; Meta 2 leads (L2, L3) for 300, none won; overall 3 leads,
    CPL 350 / 3 and lead → won 1 / 3."""
    run = kpi("metrics", "--data", str(folder), "--metrics", "leads,cpl,lead_to_won", "--by", "channel",
              "--from", "2025-01-01", "--to", "2025-01-31", "--vs-overall", "--format", "csv")
    assert run.returncode == 0, run.stderr
    out = pl.read_csv(io.StringIO(run.stdout))
    assert out.columns == ["channel", "leads", "cpl", "lead_to_won", "leads_vs_overall", "cpl_vs_overall",
                           "lead_to_won_vs_overall"]
    email, meta = out.sort("channel").select(pl.selectors.ends_with("_vs_overall")).rows()
    # CPL is a cost: Email's 50 against 116.67 is 4/7 cheaper (better), Meta's 150 is 2/7 dearer (worse)
    assert email == pytest.approx((1 / 3 - 1, 4 / 7, 2.0)) and meta == pytest.approx((2 / 3 - 1, -2 / 7, -1.0))
    plain = kpi("metrics", "--data", str(folder), "--metrics", "leads,cpl,lead_to_won", "--by", "channel",
                "--from", "2025-01-01", "--to", "2025-01-31", "--format", "csv")
    assert pl.read_csv(io.StringIO(plain.stdout)).equals(out.select(plain.stdout.splitlines()[0].split(",")))


def test_metrics_vs_overall_per_period_and_only_with_by(folder: Path) -> None:
    run = kpi("metrics", "--data", str(folder), "--metrics", "leads", "--by", "channel", "--grain", "month",
              "--vs-overall", "--format", "json")
    assert run.returncode == 0, run.stderr
    # each month's channels against that month's leads: January 1 and 2 of 3, February 1 and 1 of 2, March 1 of 1
    rows = json.loads(run.stdout)
    assert [(r["channel"], r["period"]) for r in rows] == [("Email", "2025-01-01"), ("Email", "2025-02-01"),
                                                           ("Email", "2025-03-01"), ("Meta", "2025-01-01"),
                                                           ("Meta", "2025-02-01")]
    assert [r["leads_vs_overall"] for r in rows] == pytest.approx([-2 / 3, -0.5, 0.0, -1 / 3, -0.5])
    alone = kpi("metrics", "--data", str(folder), "--metrics", "leads", "--vs-overall")
    assert alone.returncode == 2 and "--vs-overall compares each --by group" in alone.stderr
