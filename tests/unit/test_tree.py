"""The KPI tree: validation, formulas, thresholds, editing round trip and target history, by hand."""

from __future__ import annotations

from datetime import date, datetime

import numpy as np
import polars as pl
import pytest

from kpi.metrics import catalog
from kpi.schema import TABLES
from kpi.settings import Settings
from kpi.sources.demo import DEMO_SETTINGS, generate
from kpi.tree import (
    Formula,
    FormulaError,
    Kpi,
    check,
    check_edit,
    join,
    kpis,
    new_id,
    parse_filters,
    target_history,
    walk,
)
from kpi.tree import definitions as tree_definitions
from kpi.tree import targets as tree_targets

CAT = catalog()
DIMS = {"leads": ("channel", "segment", "region", "initiative", "campaign"),
        "spend": ("channel", "initiative", "campaign")}


def table(rows: list[dict[str, object]]) -> pl.DataFrame:
    """A kpis table with every canonical column (absent ones empty)."""
    schema = TABLES["kpis"].dtypes
    return pl.DataFrame([{c: r.get(c) for c in schema} for r in rows], schema=schema)


GOAL = {"kpi_id": "goal", "name": "Revenue", "metric": "revenue"}
TREE = table([
    {**GOAL, "period": "2026-Q4", "target": 1_000_000.0},
    {**GOAL, "period": "2026", "target": 3_500_000.0},
    {"kpi_id": "won", "name": "Won deals", "metric": "won", "parent": "goal"},
    {"kpi_id": "ent_roi", "name": "Meta ROI", "metric": "(revenue - spend) / spend", "parent": "goal",
     "filters": "channel=Meta", "period": "2026-11", "target": 2.0},
    {"kpi_id": "cpl", "name": "CPL", "metric": "cpl", "parent": "won", "warning": 1.05, "critical": 1.2},
])


def messages(frame: pl.DataFrame) -> list[str]:
    return [p.message for p in check(frame, CAT, DIMS)]


def test_a_valid_tree_has_no_problems_and_reads_back() -> None:
    assert check(TREE, CAT, DIMS) == []
    tree = kpis(TREE, CAT)
    assert [k.id for k in tree] == ["goal", "won", "ent_roi", "cpl"]
    goal, _, roi, cpl = tree
    assert goal.targets == {"2026-Q4": 1_000_000.0, "2026": 3_500_000.0}
    assert roi.filters == {"channel": ("Meta",)} and roi.targets == {"2026-11": 2.0}
    # direction follows the metric when not given: CPL is a cost, so down is good, critical 110 %
    assert goal.direction == "up" and (goal.warning, goal.critical) == (1.0, 0.9)
    assert cpl.direction == "down" and (cpl.warning, cpl.critical) == (1.05, 1.2)
    assert [(k.id, depth) for k, depth in walk(tree)] == [("goal", 0), ("won", 1), ("cpl", 2), ("ent_roi", 1)]


def test_the_demo_tree_is_valid() -> None:
    tables = generate(date(2026, 11, 22), scale=0.05)
    assert check(tables["kpis"], catalog(DEMO_SETTINGS), DIMS) == []


def test_a_circle_of_parents_is_refused_naming_the_kpis() -> None:
    looped = TREE.with_columns(parent=pl.when(pl.col("kpi_id") == "goal").then(pl.lit("cpl"))
                               .otherwise(pl.col("parent")))
    problems = check(looped, CAT, DIMS)
    assert len(problems) == 1 and problems[0].column == "parent"
    assert "goal → cpl → won → goal" in problems[0].message and problems[0].rows == (1, 3, 5)
    itself = table([{"kpi_id": "a", "name": "A", "metric": "leads", "parent": "a"}])
    assert "a → a" in messages(itself)[0]


def test_unknown_parents_metrics_and_bad_formulas_are_refused_with_the_reason() -> None:
    bad = table([
        {"kpi_id": "a", "name": "A", "metric": "leeds"},
        {"kpi_id": "b", "name": "B", "metric": "revenue / ", "parent": "a"},
        {"kpi_id": "c", "name": "C", "metric": "__import__('os')", "parent": "zz"},
        {"kpi_id": "d", "name": "D", "metric": "2 * 3"},
        {"kpi_id": "e", "name": "E", "metric": "revenue ** 2"},
    ])
    found = messages(bad)
    assert any("KPI 'a'" in m and "'leeds'" in m and "is not a metric" in m for m in found)
    assert any("KPI 'b'" in m and "not a formula" in m for m in found)
    assert any("KPI 'c'" in m and "may only" in m for m in found)
    assert any("KPI 'c' breaks down 'zz'" in m for m in found)
    assert any("KPI 'd'" in m and "uses no metric" in m for m in found)
    assert any("KPI 'e'" in m and "+ - * /" in m for m in found)


def test_filters_periods_thresholds_and_duplicates_are_checked() -> None:
    bad = table([
        {"kpi_id": "a", "name": "A", "metric": "leads", "filters": "colour=red", "period": "2026-Q5", "target": 1.0},
        {"kpi_id": "a", "name": "A", "metric": "leads", "filters": "colour=red", "period": "2026", "target": 1.0},
        {"kpi_id": "a", "name": "A", "metric": "leads", "filters": "colour=red", "period": "2026", "target": 2.0},
        {"kpi_id": "b", "name": "B", "metric": "cpl", "warning": 1.2, "critical": 1.1, "target": 5.0},
        {"kpi_id": "c", "name": "Other name", "metric": "won", "filters": "segment", "cadence": "daily"},
        {"kpi_id": "c", "name": "C", "metric": "won", "filters": "segment", "period": "2026", "cadence": "daily"},
    ])
    found = messages(bad)
    assert any("colour" in m and "does not have" in m for m in found)
    assert any("2026-Q5" in m for m in found)
    assert any("two targets for 2026" in m for m in found)
    assert any("KPI 'b'" in m and "critical threshold (1.1) must be above the warning threshold (1.2)" in m
               for m in found)
    assert any("KPI 'b' has a target without a period" in m for m in found)
    assert any("KPI 'c' has different name" in m for m in found)
    assert any("KPI 'c'" in m and "not a filter" in m for m in found)
    assert any("KPI 'c'" in m and "weekly, monthly, quarterly" in m for m in found)


def test_filters_parse_and_bad_ones_say_how_to_write_them() -> None:
    assert parse_filters("segment=Enterprise; initiative = ABM, Brand ;") == {
        "segment": ("Enterprise",), "initiative": ("ABM", "Brand")}
    assert parse_filters(None) == {} and parse_filters("  ") == {}
    with pytest.raises(ValueError, match="dimension=value"):
        parse_filters("Enterprise")
    with pytest.raises(ValueError, match="filtered twice"):
        parse_filters("segment=SMB; segment=Enterprise")


def test_formulas_evaluate_by_hand_on_numbers_and_on_simulated_paths() -> None:
    roi = Formula.parse("(revenue - spend) / spend", CAT)
    assert roi.metrics == ("revenue", "spend")
    assert roi.evaluate({"revenue": 300.0, "spend": 100.0}) == pytest.approx(2.0)
    assert np.isnan(roi.evaluate({"revenue": 300.0, "spend": 0.0}))  # type: ignore[arg-type]
    assert roi.evaluate({"revenue": None, "spend": 100.0}) is None
    paths = roi.evaluate({"revenue": np.array([200.0, 300.0]), "spend": np.array([100.0, 0.0])})
    assert isinstance(paths, np.ndarray) and paths[0] == 1.0 and np.isnan(paths[1])
    assert Formula.parse("-leads + 2 * mql", CAT).evaluate({"leads": 10.0, "mql": 4.0}) == -2.0
    with pytest.raises(FormulaError, match="not a metric"):
        Formula.parse("revenue / spnd", CAT)


def test_a_sum_of_counts_accrues_but_a_ratio_holds() -> None:
    assert Formula.parse("mql + sql", CAT).additive(CAT)
    assert Formula.parse("revenue * 0.2 - spend", CAT).additive(CAT)
    assert Formula.parse("spend / 2", CAT).additive(CAT)
    assert not Formula.parse("revenue / spend", CAT).additive(CAT)
    assert not Formula.parse("cpl + 1", CAT).additive(CAT)
    assert Kpi("a", "A", "leads").additive(CAT) and not Kpi("b", "B", "cpl").additive(CAT)
    # open pipeline is a level at the period's end, not something that adds up over it
    assert not Kpi("p", "P", "pipeline").additive(CAT) and not Formula.parse("pipeline + won", CAT).additive(CAT)


def test_thresholds_rate_the_projection_for_either_direction() -> None:
    up = Kpi("a", "A", "leads", warning=1.0, critical=0.9)
    assert [up.rating(p, 100) for p in (100, 95, 90, 89.9)] == ["on_track", "at_risk", "at_risk", "off_track"]
    down = Kpi("b", "B", "cpl", direction="down", warning=1.0, critical=1.1)
    assert [down.rating(p, 100) for p in (80, 100, 105, 110, 111)] == [
        "on_track", "on_track", "at_risk", "at_risk", "off_track"]
    slack = Kpi("c", "C", "leads", warning=0.95, critical=0.8)
    assert slack.rating(96, 100) == "on_track" and slack.rating(85, 100) == "at_risk"


def test_definitions_and_targets_edit_separately_and_join_back() -> None:
    defs, goals = tree_definitions(TREE), tree_targets(TREE)
    assert defs.height == 4 and goals.height == 3
    assert join(defs, goals).sort("kpi_id", "period").equals(TREE.sort("kpi_id", "period"))
    # a new target for a KPI that had none replaces its empty row
    more = pl.concat([goals, pl.DataFrame({"kpi_id": ["won"], "period": ["2026-Q4"], "target": [40.0]})])
    joined = join(defs, more)
    assert joined.filter(pl.col("kpi_id") == "won").select("period", "target").rows() == [("2026-Q4", 40.0)]
    assert joined.height == TREE.height


def test_target_history_lists_each_change_with_before_and_after() -> None:
    v1 = TREE
    v2 = TREE.with_columns(target=pl.when(pl.col("period") == "2026-Q4").then(1_200_000.0)
                           .otherwise(pl.col("target")))
    v3 = join(tree_definitions(v2), pl.concat([
        tree_targets(v2).filter(pl.col("period") != "2026-11"),
        pl.DataFrame({"kpi_id": ["won"], "period": ["2026-Q4"], "target": [40.0]})]))
    history = target_history([(datetime(2026, 11, 1), "ann", v1), (datetime(2026, 11, 2), "bo", v2),
                              (datetime(2026, 11, 3), None, v3)])
    assert history.select("who", "kpi_id", "period", "before", "after").rows() == [
        (None, "ent_roi", "2026-11", 2.0, None),
        (None, "won", "2026-Q4", None, 40.0),
        ("bo", "goal", "2026-Q4", 1_000_000.0, 1_200_000.0),
    ]
    assert history["name"].to_list() == ["Meta ROI", "Won deals", "Revenue"]
    assert target_history([(datetime(2026, 11, 1), None, v1)]).is_empty()


def test_the_qualified_stage_is_mql_else_the_first_after_leads() -> None:
    from kpi.settings import Stage

    assert Settings().qualified is not None and Settings().qualified.id == "mql"
    lead = Stage("lead", "Leads", "created_at", "leads")
    contacted, mql, won = (Stage("contacted", "Contacted", "contacted_at"), Stage("mql", "MQL", "mql_at"),
                           Stage("won", "Won", "won_at"))
    assert Settings(stages=(lead, contacted, mql, won)).qualified == mql
    assert Settings(stages=(lead, contacted, won)).qualified == contacted
    assert Settings(stages=(lead, won)).qualified is None


def test_a_negative_target_is_met_from_above_when_up_is_good() -> None:
    roi = Kpi("r", "ROI", "roi", warning=1.0, critical=0.9)
    # target −0.5: −0.4 beats it, −0.52 is 4 % of |target| short (at risk), −0.6 is 20 % short
    assert [roi.rating(p, -0.5) for p in (-0.4, 0.1, -0.5, -0.52, -0.6)] == [
        "on_track", "on_track", "on_track", "at_risk", "off_track"]
    loss = Kpi("l", "Loss", "spend - revenue", direction="down", warning=1.0, critical=1.1)
    assert [loss.rating(p, -100) for p in (-150, -100, -95, -80)] == ["on_track", "on_track", "at_risk", "off_track"]
    zero = Kpi("z", "Leaked", "leaked_leads", direction="down")
    assert zero.rating(0, 0) == "on_track" and zero.rating(3, 0) == "off_track"


def test_a_filter_that_a_metrics_table_lacks_is_flagged() -> None:
    tree = table([{"kpi_id": "e", "name": "Enterprise CPL", "metric": "cpl", "filters": "segment=Enterprise"},
                  {"kpi_id": "l", "name": "Enterprise leads", "metric": "leads", "filters": "segment=Enterprise"}])
    (problem,) = check(tree, CAT, DIMS)
    assert problem.severity == "warning" and problem.rows == (1,)
    assert problem.message.startswith("KPI 'e': cpl reads spend, which has no segment")


def test_an_edit_in_two_tables_names_rows_as_the_person_sees_them() -> None:
    defs = pl.DataFrame({"kpi_id": ["goal", "leads"], "name": ["Revenue", "Leads"], "metric": ["revenue", "leeds"],
                         "parent": [None, "goal"]})
    goals = pl.DataFrame({"kpi_id": ["goal", "lead", "goal", "goal"], "period": ["2026", "2026", "2026-13", "2026"],
                          "target": [1.0, 2.0, 3.0, 4.0]})
    problems = {(p.table, p.column, p.rows) for p in check_edit(defs, goals, CAT, DIMS)}
    assert problems == {("kpis", "metric", (2,)),  # 'leeds' in the definitions' second row
                        ("targets", "kpi_id", (2,)),  # 'lead' is no KPI: not silently dropped
                        ("targets", "period", (3,)),  # no 13th month
                        ("targets", "period", (1, 4))}  # two targets for goal in 2026
    fixed = check_edit(defs.with_columns(metric=pl.Series(["revenue", "leads"])), goals.head(1), CAT, DIMS)
    assert fixed == []


def test_new_ids_keep_any_script_and_never_collide() -> None:
    assert new_id("Cost per lead", []) == "kpi_cost_per_lead"
    assert new_id("Лиды с вебинаров", []) == "kpi_лиды_с_вебинаров"
    assert new_id("Cost per lead", ["kpi_cost_per_lead", "kpi_cost_per_lead_2"]) == "kpi_cost_per_lead_3"
    assert new_id("!!!", []) == "kpi"


def test_a_filter_value_the_data_does_not_have_is_flagged() -> None:
    tree = table([{"kpi_id": "e", "name": "Enterprise leads", "metric": "leads", "filters": "segment=Enterprse, SMB"}])
    values = {"segment": ["Enterprise", "Mid-market", "SMB"]}
    (problem,) = check(tree, CAT, DIMS, values)
    assert problem.severity == "warning" and "Enterprse, SMB" not in problem.message  # SMB is there
    assert "filters on segment=Enterprse, which the data does not have" in problem.message
    assert "Enterprise, Mid-market, SMB" in problem.message
    assert check(tree.with_columns(filters=pl.lit("segment=Enterprise")), CAT, DIMS, values) == []


def test_a_sum_or_difference_of_one_unit_keeps_it() -> None:
    assert Formula.parse("revenue - spend", CAT).unit(CAT) == "currency"
    assert Formula.parse("mql + sql", CAT).unit(CAT) == "count"
    assert Formula.parse("revenue / spend", CAT).unit(CAT) is None  # a multiple, not money
    assert Formula.parse("revenue - leads", CAT).unit(CAT) is None  # money minus a count: no unit
    assert Kpi("c", "CPL", "cpl").unit(CAT) == "currency" and Kpi("m", "M", "revenue - spend").unit(CAT) == "currency"
