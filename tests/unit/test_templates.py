"""KPI tree templates, merging them into a tree, and suggested targets from last year, by hand."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import polars as pl
import pytest

from kpi.metrics import catalog
from kpi.schema import TABLES
from kpi.settings import Settings, Stage
from kpi.templates import TEMPLATES, apply, merge, suggest_targets, template
from kpi.tree import Kpi, check, join, kpis, parse_filters, walk

DEFAULT = Settings()
#: A three-stage funnel whose stage ids share nothing with the default ones.
THREE = Settings(stages=(Stage("lead", "Leads", "created_at", "leads"), Stage("demo", "Demo booked", "demo_at"),
                         Stage("customer", "Customers", "customer_at")))
#: Each table's dimensions, as kpi.tree.check takes them: spend has no segment or region.
DIMS = {"leads": ("channel", "segment", "region", "initiative", "campaign"),
        "spend": ("channel", "initiative", "campaign"), "traffic": ("channel", "campaign")}
INITIATIVES = ("ABM", "Brand & Awareness", "Вебинары")


def shape(frame: pl.DataFrame, settings: Settings) -> list[tuple[str, str, int]]:
    """(kpi_id, metric, depth) in the tree's walk order."""
    return [(k.id, k.metric, depth) for k, depth in walk(kpis(frame, catalog(settings)))]


@pytest.mark.parametrize("settings", [DEFAULT, THREE], ids=["default stages", "three stages"])
@pytest.mark.parametrize("name", TEMPLATES)
def test_every_template_is_a_valid_tree_of_definitions_without_targets(name: str, settings: Settings) -> None:
    frame = template(name, settings, initiatives=INITIATIVES, initiative="ABM")
    assert check(frame, catalog(settings), DIMS) == []
    assert check(frame, catalog(settings)) == []
    assert frame.columns == list(TABLES["kpis"].dtypes)
    assert frame.schema == pl.Schema(TABLES["kpis"].dtypes)
    assert frame["period"].null_count() == frame["target"].null_count() == frame.height
    assert frame["kpi_id"].is_unique().all() and all(k.startswith(f"{name}_") for k in frame["kpi_id"])
    # every KPI is named and says in a sentence why it matters and how it is measured
    assert frame.select((pl.col("name").str.len_chars() > 2).all(),
                        (pl.col("why", "how").str.len_chars() > 30).all()).row(0) == (True, True, True)
    # each KPI's direction is its metric's own: up where more is better, down for costs and delays
    cat = catalog(settings)
    for row in frame.iter_rows(named=True):
        assert row["direction"] == ("up" if cat[row["metric"]].higher_is_better else "down"), row["kpi_id"]
    assert set(frame["cadence"]) == ({"weekly"} if name == "handover" else {"monthly"})


@pytest.mark.parametrize("settings", [DEFAULT, THREE], ids=["default stages", "three stages"])
def test_all_templates_together_make_one_valid_tree(settings: Settings) -> None:
    tree = template("funnel", settings)
    for name in TEMPLATES[1:]:
        tree, skipped = merge(tree, template(name, settings, initiatives=INITIATIVES, initiative="ABM"))
        assert skipped == []
    assert check(tree, catalog(settings), DIMS) == []


def test_the_funnel_template_walks_from_won_down_to_sessions() -> None:
    assert shape(template("funnel", DEFAULT), DEFAULT) == [
        ("funnel_won", "won", 0),
        ("funnel_opportunity_to_won", "opportunity_to_won", 1),
        ("funnel_cac", "cac", 1),
        ("funnel_opportunities", "opportunities", 1),
        ("funnel_sql_to_opportunity", "sql_to_opportunity", 2),
        ("funnel_cost_per_opportunity", "cost_per_opportunity", 2),
        ("funnel_sql", "sql", 2),
        ("funnel_mql_to_sql", "mql_to_sql", 3),
        ("funnel_cost_per_sql", "cost_per_sql", 3),
        ("funnel_mql", "mql", 3),
        ("funnel_lead_to_mql", "lead_to_mql", 4),
        ("funnel_cost_per_mql", "cost_per_mql", 4),
        ("funnel_leads", "leads", 4),
        ("funnel_session_to_lead", "session_to_lead", 5),
        ("funnel_cpl", "cpl", 5),
        ("funnel_sessions", "sessions", 5),
    ]
    names = dict(template("funnel", DEFAULT).select("kpi_id", "name").iter_rows())
    assert names["funnel_won"] == "Won deals" and names["funnel_cpl"] == "Cost per lead (CPL)"


def test_the_templates_follow_a_three_stage_funnel() -> None:
    assert shape(template("funnel", THREE), THREE) == [
        ("funnel_customer", "customer", 0),
        ("funnel_demo_to_customer", "demo_to_customer", 1),
        ("funnel_cac", "cac", 1),
        ("funnel_demo", "demo", 1),
        ("funnel_lead_to_demo", "lead_to_demo", 2),
        ("funnel_cost_per_demo", "cost_per_demo", 2),
        ("funnel_leads", "leads", 2),
        ("funnel_session_to_lead", "session_to_lead", 3),
        ("funnel_cpl", "cpl", 3),
        ("funnel_sessions", "sessions", 3),
    ]
    # the first stage after leads is the one marketing hands over to sales
    assert shape(template("handover", THREE), THREE) == [
        ("handover_demo_to_customer", "demo_to_customer", 0),
        ("handover_speed_to_lead", "speed_to_lead_hours", 1),
        ("handover_leakage", "leakage", 1),
        ("handover_days_demo_to_customer", "days_demo_to_customer", 1),
    ]
    assert shape(template("initiative", THREE, initiative="ABM"), THREE) == [
        ("initiative_abm_revenue", "revenue", 0),
        ("initiative_abm_customer", "customer", 1),
        ("initiative_abm_demo", "demo", 2),
        ("initiative_abm_leads", "leads", 3),
        ("initiative_abm_roas", "roas", 1),
        ("initiative_abm_cac", "cac", 1),
        ("initiative_abm_cpl", "cpl", 2),
    ]


def test_the_handover_set_is_mql_acceptance_with_speed_leakage_and_days() -> None:
    frame = template("handover", DEFAULT)
    assert shape(frame, DEFAULT) == [
        ("handover_mql_to_sql", "mql_to_sql", 0),
        ("handover_speed_to_lead", "speed_to_lead_hours", 1),
        ("handover_leakage", "leakage", 1),
        ("handover_days_mql_to_sql", "days_mql_to_sql", 1),
    ]
    assert "24 h" in frame.filter(pl.col("kpi_id") == "handover_leakage")["why"].item()


def test_efficiency_has_roas_cpl_and_cac_per_initiative_each_on_its_initiative() -> None:
    frame = template("efficiency", DEFAULT, initiatives=[*INITIATIVES, " ABM ", "abm"])
    # " ABM " is ABM again; "abm" is another initiative whose id needs a number to stay unique
    names = [*INITIATIVES, "abm"]
    assert frame.height == 1 + 3 * len(names)
    tree = kpis(frame, catalog(DEFAULT))
    goal, per_initiative = tree[0], tree[1:]
    assert (goal.id, goal.metric, goal.parent, goal.filters) == ("efficiency_roi", "roi", None, {})
    slugs = ["abm", "brand_awareness", "вебинары", "abm_2"]
    for i, (name, slug) in enumerate(zip(names, slugs, strict=True)):
        roas, cpl, cac = per_initiative[3 * i: 3 * i + 3]
        assert (roas.id, roas.metric, roas.parent) == (f"efficiency_{slug}_roas", "roas", "efficiency_roi")
        assert (cpl.id, cpl.metric, cpl.parent) == (f"efficiency_{slug}_cpl", "cpl", roas.id)
        assert (cac.id, cac.metric, cac.parent) == (f"efficiency_{slug}_cac", "cac", roas.id)
        for k in (roas, cpl, cac):
            assert k.filters == {"initiative": (name,)}
            assert name in k.name
    texts = dict(frame.select("kpi_id", "filters").iter_rows())
    assert texts["efficiency_brand_awareness_cpl"] == "initiative=Brand & Awareness"
    assert parse_filters(texts["efficiency_вебинары_cac"]) == {"initiative": ("Вебинары",)}


def test_the_initiative_set_is_scoped_to_that_initiative() -> None:
    frame = template("initiative", DEFAULT, initiative="Brand & Awareness")
    assert shape(frame, DEFAULT) == [
        ("initiative_brand_awareness_revenue", "revenue", 0),
        ("initiative_brand_awareness_won", "won", 1),
        ("initiative_brand_awareness_mql", "mql", 2),
        ("initiative_brand_awareness_leads", "leads", 3),
        ("initiative_brand_awareness_roas", "roas", 1),
        ("initiative_brand_awareness_cac", "cac", 1),
        ("initiative_brand_awareness_cpl", "cpl", 2),
    ]
    assert set(frame["filters"]) == {"initiative=Brand & Awareness"}


def test_bad_template_names_and_missing_initiatives_are_refused_with_the_fix() -> None:
    with pytest.raises(ValueError, match="no KPI template 'funnnel'; choose one of funnel, handover, efficiency"):
        template("funnnel", DEFAULT)
    with pytest.raises(ValueError, match="efficiency template needs at least one initiative"):
        template("efficiency", DEFAULT)
    with pytest.raises(ValueError, match="efficiency template needs at least one initiative"):
        template("efficiency", DEFAULT, initiatives=["  "])
    with pytest.raises(ValueError, match="initiative template needs the initiative"):
        template("initiative", DEFAULT, initiatives=["ABM"])
    with pytest.raises(ValueError, match="initiative template needs the initiative"):
        template("initiative", DEFAULT, initiative=" ")
    with pytest.raises(ValueError, match=r"initiative 'EMEA; Nordics' contains ';' or ','"):
        template("efficiency", DEFAULT, initiatives=["ABM", "EMEA; Nordics"])


def kpis_table(rows: list[dict[str, object]]) -> pl.DataFrame:
    schema = TABLES["kpis"].dtypes
    return pl.DataFrame([{c: r.get(c) for c in schema} for r in rows], schema=schema)


def test_merge_adds_only_new_kpis_and_keeps_existing_rows_and_targets() -> None:
    ours = {"kpi_id": "funnel_won", "name": "Won (ours)", "metric": "won", "owner": "Ada"}
    tree = kpis_table([
        {**ours, "period": "2026-Q3", "target": 40.0},
        {**ours, "period": "2026-Q4", "target": 50.0},
        {"kpi_id": "my_leads", "name": "Leads", "metric": "leads", "parent": "funnel_won"},
    ])
    added = template("funnel", DEFAULT)
    merged, skipped = merge(tree, added)
    assert skipped == ["funnel_won"]
    assert merged.head(3).equals(tree)  # the tree's rows first and untouched, targets included
    assert merged.slice(3).equals(added.filter(pl.col("kpi_id") != "funnel_won"))
    assert merged.height == 3 + 15
    assert check(merged, catalog(DEFAULT), DIMS) == []
    # the template's KPIs below the goal now break down the team's own goal
    assert kpis(merged, catalog(DEFAULT))[0].targets == {"2026-Q3": 40.0, "2026-Q4": 50.0}

    again, skipped = merge(merged, added)
    assert again.equals(merged) and len(skipped) == 16
    assert merge(pl.DataFrame(), added) == (added, [])


def test_merge_appends_every_target_row_of_a_new_kpi() -> None:
    defs = pl.DataFrame({"kpi_id": ["a", "b"], "name": ["A", "B"], "metric": ["leads", "won"]})
    goals = pl.DataFrame({"kpi_id": ["b", "b"], "period": ["2026", "2026-Q1"], "target": [10.0, 2.0]})
    tree = kpis_table([{"kpi_id": "a", "name": "A (ours)", "metric": "leads", "period": "2026", "target": 99.0}])
    merged, skipped = merge(tree, join(defs, goals))
    assert skipped == ["a"]
    assert merged.select("kpi_id", "name", "period", "target").rows() == [
        ("a", "A (ours)", "2026", 99.0), ("b", "B", "2026", 10.0), ("b", "B", "2026-Q1", 2.0)]


def test_apply_gives_the_suggested_targets_to_the_added_kpis_only() -> None:
    tree = kpis_table([{"kpi_id": "funnel_won", "name": "Won (ours)", "metric": "won", "period": "2026-Q4",
                        "target": 50.0}])
    added = template("funnel", DEFAULT)
    suggested = pl.DataFrame({"kpi_id": ["funnel_won", "funnel_leads", "funnel_leads", "funnel_cpl", "elsewhere"],
                              "period": ["2026-Q4", "2026-Q4", "2027-Q1", "2026-Q4", "2026-Q4"],
                              "target": [80.0, 400.0, 420.0, 45.0, 1.0]})
    merged, skipped = apply(tree, added, suggested)
    assert skipped == ["funnel_won"]
    assert merged.head(1).equals(tree)  # our own Won KPI keeps its target of 50; the suggested 80 is dropped
    assert merged.schema == tree.schema
    # 15 new KPIs: funnel_leads on two rows (one per target), funnel_cpl on one, 13 without a target
    assert merged.height == 1 + 16
    with_targets = merged.filter(pl.col("target").is_not_null()).select("kpi_id", "period", "target").rows()
    assert with_targets == [("funnel_won", "2026-Q4", 50.0), ("funnel_leads", "2026-Q4", 400.0),
                            ("funnel_leads", "2027-Q1", 420.0), ("funnel_cpl", "2026-Q4", 45.0)]
    assert "elsewhere" not in merged["kpi_id"]  # a suggestion for no added KPI adds nothing
    assert check(merged, catalog(DEFAULT), DIMS) == []
    # the definitions are the template's, in its order
    assert merged.slice(1)["kpi_id"].unique(maintain_order=True).to_list() == added["kpi_id"].to_list()[1:]
    goal = kpis(merged, catalog(DEFAULT))[0]
    assert (goal.id, goal.name, goal.targets) == ("funnel_won", "Won (ours)", {"2026-Q4": 50.0})

    # an added KPI's own target for a period stands; a suggestion fills the other periods
    defs = pl.DataFrame({"kpi_id": ["b"], "name": ["B"], "metric": ["won"]})
    own = join(defs, pl.DataFrame({"kpi_id": ["b"], "period": ["2026"], "target": [10.0]}))
    merged, skipped = apply(pl.DataFrame(), own, pl.DataFrame({"kpi_id": ["b", "b"], "period": ["2026", "2027"],
                                                                "target": [12.0, 14.0]}))
    assert skipped == [] and merged.select("kpi_id", "period", "target").rows() == [("b", "2026", 10.0),
                                                                                     ("b", "2027", 14.0)]
    # nothing new: the tree as it was
    assert apply(tree, added.filter(pl.col("kpi_id") == "funnel_won"), suggested) == (tree, ["funnel_won"])


# --- suggested targets on a small workspace worked out by hand
#
# Target period 2026-Q4, so last year is 2025-10-01..2025-12-31 (flow view: each count in the
# period of its own date). SLA 24 h; the latest lead (2026-01-01) makes 2025-12-31 00:00 the last
# creation time old enough to be judged.
#   A0 2025-09-20 ABM    mql 10-05                                   contact +1 h (09-20)
#   A1 2025-10-02 ABM    mql 10-10, sql 10-20, won 11-15, 1 000      contact +2 h
#   A2 2025-11-05 ABM                                                contact +4 h
#   A3 2025-12-20 Brand  mql 2026-01-03                              contact +30 h (12-21, leaked)
#   A4 2025-12-31 23:00 Brand                                        contact +2 h (2026-01-01)
#   A5 2026-01-01 Brand
# Spend: 2025-09-30 70 (none), 2025-10-15 120 ABM, 2025-12-01 80 Brand, 2026-01-02 500 ABM.
# In 2025-Q4: leads 4 (A1-A4), MQL 2 (A0, A1), SQL 1, won 1, revenue 1 000, spend 200;
# ABM: leads 2, won 1, revenue 1 000, spend 120; Brand: leads 2, won 0, revenue 0, spend 80.

def at(day: str, hours: float = 0) -> datetime:
    return datetime.fromisoformat(day) + timedelta(hours=hours)


def workspace() -> dict[str, pl.DataFrame]:
    rows = [
        ("A0", at("2025-09-20"), at("2025-10-05"), None, None, None, at("2025-09-20", 1), "ABM"),
        ("A1", at("2025-10-02"), at("2025-10-10"), at("2025-10-20"), at("2025-11-15"), 1000.0,
         at("2025-10-02", 2), "ABM"),
        ("A2", at("2025-11-05"), None, None, None, None, at("2025-11-05", 4), "ABM"),
        ("A3", at("2025-12-20"), at("2026-01-03"), None, None, None, at("2025-12-20", 30), "Brand"),
        ("A4", at("2025-12-31", 23), None, None, None, None, at("2025-12-31", 25), "Brand"),
        ("A5", at("2026-01-01"), None, None, None, None, None, "Brand"),
    ]
    ts = pl.Datetime("us")
    leads = pl.DataFrame(rows, orient="row", schema={
        "lead_id": pl.String, "created_at": ts, "mql_at": ts, "sql_at": ts, "won_at": ts, "amount": pl.Float64,
        "first_contact_at": ts, "initiative": pl.String})
    spend = pl.DataFrame({
        "date": [date(2025, 9, 30), date(2025, 10, 15), date(2025, 12, 1), date(2026, 1, 2)],
        "spend": [70.0, 120.0, 80.0, 500.0], "initiative": [None, "ABM", "Brand", "ABM"]})
    return {"leads": leads, "spend": spend}


def suggested(tree: list[Kpi], label: str = "2026-Q4", uplift: float = 0.1,
              tables: dict[str, pl.DataFrame] | None = None) -> dict[str, float]:
    out = suggest_targets(tree, tables or workspace(), DEFAULT, label, uplift=uplift)
    assert out.columns == ["kpi_id", "period", "target"] and set(out["period"]) <= {label}
    return dict(zip(out["kpi_id"], out["target"], strict=True))


def test_targets_are_last_years_same_period_stretched_in_the_good_direction() -> None:
    tree = [
        Kpi("leads", "Leads", "leads"),
        Kpi("cpl", "CPL", "cpl", direction="down"),
        Kpi("roi", "ROI formula", "(revenue - spend) / spend"),
        Kpi("mql_and_leads", "MQL + leads", "mql + leads"),
        Kpi("spend_per_mql", "Spend per MQL", "spend / mql", direction="down"),
        Kpi("brand_roi", "Brand ROI", "roi", filters={"initiative": ("Brand",)}),
        Kpi("brand_deal", "Brand deal size", "revenue / won", filters={"initiative": ("Brand",)}),
        Kpi("hurdle", "Revenue over 6× spend", "revenue - 6 * spend"),
        Kpi("sessions", "Sessions", "sessions"),
        Kpi("enterprise", "Enterprise leads", "leads", filters={"segment": ("Enterprise",)}),
    ]
    assert suggested(tree) == pytest.approx({
        "leads": 4 * 1.1,  # 4.4
        "cpl": 200 / 4 * 0.9,  # 50 → 45
        "roi": (1000 - 200) / 200 * 1.1,  # 4 → 4.4
        "mql_and_leads": (2 + 4) * 1.1,
        "spend_per_mql": 200 / 2 * 0.9,
        "hurdle": -200 + 20,  # 1000 − 6 × 200 = −200: 10 % better is −180, not −220
    })
    # left out: Brand won nothing (its ROI from no revenue, and a deal size divided by zero), no
    # traffic table, no segment in the data
    assert suggested(tree, uplift=0.0)["cpl"] == pytest.approx(50.0)
    # the data starts in September 2025, so the year 2025 is not in it: no target for 2026
    assert suggested(tree[:2], "2026") == {}
    # with A0 created and 70 spent on 2025-01-01 it is: leads A0-A4, spend 70 + 120 + 80
    year = workspace()
    year["leads"] = year["leads"].with_columns(created_at=pl.when(pl.col("lead_id") == "A0")
                                               .then(pl.lit(datetime(2025, 1, 1))).otherwise("created_at"))
    year["spend"] = year["spend"].with_columns(date=pl.when(pl.col("spend") == 70).then(pl.lit(date(2025, 1, 1)))
                                               .otherwise("date"))
    assert suggested(tree[:2], "2026", uplift=0.0, tables=year) == pytest.approx({"leads": 5.0, "cpl": 270 / 5})
    # November 2025: one lead (A2), A1 won for 1 000, and no spend: a CPL of 0 and a CAC of 0 are no
    # targets, and ROAS and ROI have nothing to divide by
    costs = [Kpi("cac", "CAC", "cac", direction="down"), Kpi("roas", "ROAS", "roas"), Kpi("roi", "ROI", "roi")]
    assert suggested([*tree[:2], *costs], "2026-11", uplift=0.2) == pytest.approx({"leads": 1.2})
    # December 2025: Brand spent 80 and won nothing: a CAC over no won deal and a ROAS of 0 are left out
    assert suggested([*tree[:2], *costs], "2026-12", uplift=0.0) == pytest.approx({"leads": 2.0, "cpl": 40.0})


def test_templates_get_targets_from_their_own_slices() -> None:
    cat = catalog(DEFAULT)
    efficiency = kpis(template("efficiency", DEFAULT, initiatives=["ABM", "Brand"]), cat)
    assert suggested(efficiency) == pytest.approx({
        "efficiency_roi": (1000 / 200 - 1) * 1.1,  # 4.4
        "efficiency_abm_roas": 1000 / 120 * 1.1,
        "efficiency_abm_cpl": 120 / 2 * 0.9,  # 54
        "efficiency_abm_cac": 120 / 1 * 0.9,  # 108
        "efficiency_brand_cpl": 80 / 2 * 0.9,  # 36
    })  # Brand won nothing: a ROAS of 0 is no target, and it has no CAC
    handover = kpis(template("handover", DEFAULT), cat)
    assert suggested(handover) == pytest.approx({
        "handover_mql_to_sql": 1 / 2 * 1.1,  # SQL A1 / MQL A0, A1
        "handover_speed_to_lead": 4 * 0.9,  # median of 2, 4, 30 h (contacts dated in Q4)
        "handover_leakage": 1 / 3 * 0.9,  # A3 of A1-A3 (A4 too recent to judge)
        "handover_days_mql_to_sql": 10 * 0.9,  # A1: 10-10 → 10-20
    })


def test_no_target_is_suggested_where_the_data_does_not_reach_back_to_last_year() -> None:
    tree = [Kpi("leads", "Leads", "leads"), Kpi("cpl", "CPL", "cpl", direction="down")]
    # 2024-Q4 is before the first lead and the first spend: zero leads there would be a wrong target
    assert suggested(tree, "2025-Q4") == {}
    # with A0 created on 2025-07-01 leads reach back to 2025-Q3, but spend starts 2025-09-30: CPL is unknown
    early = workspace()
    early["leads"] = early["leads"].with_columns(created_at=pl.when(pl.col("lead_id") == "A0")
                                                 .then(pl.lit(datetime(2025, 7, 1))).otherwise("created_at"))
    assert suggested(tree, "2026-Q3", uplift=0.0, tables=early) == {"leads": 1.0}
    empty = suggest_targets([], workspace(), DEFAULT, "2026-Q4")
    assert empty.is_empty() and empty.columns == ["kpi_id", "period", "target"]


def test_an_uplift_that_is_not_a_share_and_a_bad_period_are_refused() -> None:
    with pytest.raises(ValueError, match=r"write 0\.1 for a 10 % stretch"):
        suggest_targets([Kpi("leads", "Leads", "leads")], workspace(), DEFAULT, "2026-Q4", uplift=10)
    with pytest.raises(ValueError, match="2026-Q5"):
        suggest_targets([Kpi("leads", "Leads", "leads")], workspace(), DEFAULT, "2026-Q5")
