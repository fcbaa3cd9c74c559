"""A one-shot `metrics` or `funnel` asks lazy scans of the folder's files (only the columns and leads its question
needs are read, in the file's order) and answers exactly what the engine answers over the whole prepared
workspace."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

import bench.generate
from kpi import engine
from kpi.cli import main
from kpi.data import load_dir, read_dir, write_dir, write_settings
from kpi.metrics import catalog
from kpi.period import Period, compare_period
from kpi.query import Query
from kpi.settings import InitiativeRule, Settings
from kpi.sources.demo import DEMO_SETTINGS, generate
from kpi.workspace import Workspace

ALL = list(catalog(DEMO_SETTINGS))
Q1 = Period(date(2026, 1, 1), date(2026, 3, 31))


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    demo = tmp_path_factory.mktemp("one-shot-demo")
    write_dir(generate(today=date(2026, 12, 3)), demo)
    write_settings(DEMO_SETTINGS, demo)
    big = tmp_path_factory.mktemp("one-shot-generated")
    tables = bench.generate.generate(30_000, 4)
    tables["leads"] = tables["leads"].sample(fraction=1.0, shuffle=True, seed=9)  # not in order of creation
    write_dir(tables, big)
    write_settings(Settings(initiative_rules=(InitiativeRule("(?i)brand", "Brand"), InitiativeRule("^c", "C"))),
                   big)
    return {"demo": demo, "generated": big}


def _csv(frame: pl.DataFrame) -> str:
    buffer = io.StringIO()
    frame.write_csv(buffer, float_precision=None, date_format="%Y-%m-%d")
    return buffer.getvalue()


def _whole(folder: Path) -> Workspace:
    settings = load_dir(folder)[1]
    return Workspace.prepared(read_dir(folder), settings)


CASES: list[tuple[str, list[str], Query, list[str]]] = [
    ("funnel", ["--by", "segment"], Query.of(by=["segment"]), []),
    ("funnel", ["--by", "channel", "--filter", "region=Sweden,DACH"],
     Query.of(by=["channel"], filters={"region": ["Sweden", "DACH"]}), []),
    ("funnel", ["--by", "initiative", "--from", "2026-01-01", "--to", "2026-03-31"],
     Query.of(by=["initiative"], period=Q1), []),
    ("funnel", ["--view", "flow", "--from", "2026-01-01", "--to", "2026-03-31"],
     Query.of(period=Q1, view="flow"), []),
    ("funnel", ["--from", "2026-01-01", "--to", "2026-03-31", "--compare", "previous"],
     Query.of(period=Q1, compare=compare_period(Q1, "previous")), []),
    ("metrics", ["--by", "campaign"], Query.of(by=["campaign"]), ALL),
    ("metrics", ["--by", "initiative,segment", "--from", "2026-01-01", "--to", "2026-03-31"],
     Query.of(by=["initiative", "segment"], period=Q1), ALL),
    ("metrics", ["--by", "channel", "--grain", "month", "--from", "2026-01-01", "--to", "2026-03-31"],
     Query.of(by=["channel"], period=Q1, grain="month"), ["leads", "won", "revenue", "cpl", "sla_leads",
                                                          "leaked_leads", "days_lead_to_mql"]),
]


@pytest.mark.parametrize("data", ["demo", "generated"])
@pytest.mark.parametrize(("command", "flags", "query", "metrics"), CASES)
def test_one_shot_answers_exactly_what_the_whole_workspace_answers(
        folders: dict[str, Path], capsys: pytest.CaptureFixture[str], data: str, command: str, flags: list[str],
        query: Query, metrics: list[str]) -> None:
    folder = folders[data]
    if data == "generated":  # its regions and periods: 2024-2025
        flags = [f.replace("Sweden,DACH", "Norway,UK").replace("2026-", "2025-") for f in flags]
        query = Query.of(by=query.by, filters={d: ["Norway", "UK"] for d, _ in query.filters},
                         period=query.period and Period(date(2025, 1, 1), date(2025, 3, 31)), view=query.view,
                         grain=query.grain)
        if "--compare" in flags:
            query = query.but(compare=compare_period(query.period, "previous"))  # type: ignore[arg-type]
    whole = _whole(folder)
    metric_flags = ["--metrics", ",".join(metrics)] if metrics else []
    assert main([command, "--data", str(folder), *flags, *metric_flags, "--format", "csv"]) == 0
    expected = engine.funnel(whole, query) if command == "funnel" else engine.metrics(whole, query, metrics)
    assert expected.height
    # the same rows and values; sums to 1e-12 relative: polars adds a group's values across threads in any order
    assert_frame_equal(pl.read_csv(io.StringIO(capsys.readouterr().out)), pl.read_csv(io.StringIO(_csv(expected))),
                       rel_tol=1e-12, abs_tol=1e-9)


def test_an_unknown_dimension_still_lists_every_valid_one(folders: dict[str, Path],
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["metrics", "--data", str(folders["demo"]), "--by", "colour", "--metrics", "leads"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "unknown dimension(s): colour" in err and "owner" in err and "source" in err
