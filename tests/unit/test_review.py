"""The review rules on hand-built leads and spend where the right conclusion is worked out by hand: one
case per verdict, the numbers and thresholds behind each, priorities, maturity, trend and sample size,
targets from a rule, the KPI tree or the peers, subjects without cost, and the notes model through a
real store."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest

from kpi.metrics import compute
from kpi.period import PRESETS, Grain, Period, preset
from kpi.query import Query
from kpi.review import (
    COLUMNS,
    DOC_KIND,
    MQL_RULES,
    PRESET_TERMS,
    RULES,
    VERDICTS,
    Note,
    NoteError,
    ReviewError,
    Rules,
    check_dimension,
    conclusions,
    daily_metrics,
    notes_from_doc,
    notes_to_doc,
    parse_review_key,
    previous_review,
    review,
    review_dimensions,
    review_inputs,
    review_key,
    review_metrics,
    review_term,
    trend_periods,
)
from kpi.settings import Settings, Stage
from kpi.store import Store
from kpi.workspace import Workspace

MARCH = Period(date(2026, 3, 1), date(2026, 3, 31))  # previous: February 2026; last year: March 2025
NOW, JAN, FEB, FEB_5 = date(2026, 3, 20), date(2026, 1, 15), date(2026, 2, 10), date(2026, 2, 5)
TARGET = Rules(target_cac=1000)


@dataclass(frozen=True)
class Cohort:
    """`leads` leads created on `day` (a minute apart); the first `mql` became MQL a day later, the first
    `opps` (default: `won`) opportunities five days later, the first `won` won `close` days later, each
    worth `amount`; one spend row of `spend` on `day`."""

    name: str
    day: date
    spend: float = 0
    leads: int = 0
    mql: int = 0
    won: int = 0
    amount: float | None = None
    opps: int | None = None
    close: int = 10


def build(cohorts: Sequence[Cohort], dimension: str = "initiative") -> dict[str, pl.DataFrame]:
    leads: list[dict[str, object]] = []
    spend: list[dict[str, object]] = []
    for c in cohorts:
        opps = c.won if c.opps is None else c.opps
        assert c.won <= opps <= c.mql <= c.leads
        created = datetime.combine(c.day, datetime.min.time())
        for i in range(c.leads):
            at = created + timedelta(minutes=i)
            leads.append({"lead_id": f"{c.name}-{c.day}-{i}", "created_at": at, dimension: c.name,
                          "mql_at": at + timedelta(days=1) if i < c.mql else None,
                          "opportunity_at": at + timedelta(days=5) if i < opps else None,
                          "won_at": at + timedelta(days=c.close) if i < c.won else None,
                          "amount": c.amount if i < c.won else None})
        if c.spend:
            spend.append({"date": c.day, dimension: c.name, "spend": float(c.spend)})
    ts = pl.Datetime("us")
    return {"leads": pl.DataFrame(leads, schema={"lead_id": pl.String, "created_at": ts, dimension: pl.String,
                                                 "mql_at": ts, "opportunity_at": ts, "won_at": ts,
                                                 "amount": pl.Float64}),
            "spend": pl.DataFrame(spend, schema={"date": pl.Date, dimension: pl.String, "spend": pl.Float64})}


# Every won deal closes ten days after its lead: the p75 time to won is 10 days for everyone. The last lead
# comes in on 20 March, so leads created up to 10 March are old enough to judge on won deals; the trend and
# mature window is December 2025 to March 2026 (four whole months), so mature cohorts run 1 Dec – 10 Mar.
#
# COST: target CAC 1000 (a rule). Now (20 March) each spends 2000 on 40 leads, 16 MQL: CPL 50, MQL rate .4,
# no won deal yet. Mature (15 January), 100 leads and 40 MQL each:
#   A: 5000 spent, 10 won at 5000   -> cost per won  500, ROAS 10
#   B: 10000, 10 won at 5000        -> 1000 (1.0x target), ROAS 5
#   C: 20000, 10 won at 5000        -> 2000 (2.0x: do less from 1.5x), ROAS 2.5 (under a healthy 3)
#   D: 40000, 10 won at 3000        -> 4000 (4.0x: stop from 3x), ROAS .75 (under break-even 1)
#   E: 10000, no opportunity, no won deal
# Overall mature lead -> won: 40 / 500 = .08, so E was to win 100 x .08 = 8 (evidence from 3).
# Mature spend 85000: E's 10000 is 11.8 % (meaningful from 2 %).
# Peers' cost per won (A-D): 500 1000 2000 4000 -> best quarter at or below 500 + .75 x 500 = 875, median 1500.
COST = [
    *(Cohort(n, NOW, 2000, 40, 16) for n in "ABCDE"),
    Cohort("A", JAN, 5000, 100, 40, 10, 5000.0), Cohort("B", JAN, 10000, 100, 40, 10, 5000.0),
    Cohort("C", JAN, 20000, 100, 40, 10, 5000.0), Cohort("D", JAN, 40000, 100, 40, 10, 3000.0),
    Cohort("E", JAN, 10000, 100, 40, 0),
]

# EARLY: target CAC 1000. Now (20 March):
#   P 8000 on 40 leads (CPL 200), 16 MQL;      mature (15 Jan): 4800 spent, 200 leads, 80 MQL, 4 won -> 1200 per won
#   SL 400 on 40 leads (CPL 10), 16 MQL;       mature: 800 spent, 100 leads, 40 MQL, 8 won -> 100 per won, rate .08
#   W 2000 on 40 leads (CPL 50), 16 MQL;       new: no lead before March
#   N 2000 spent, no lead at all
#   X 28000 on 40 leads (CPL 700), 2 MQL (.05); new
#   Y 18000 on 40 leads (CPL 450), 10 MQL (.25); in February (10th) 100 leads, 60 MQL, no cost, no won deal
#   SA nothing now; on 5 February 800 spent, 10 leads, 4 MQL, 2 won -> 400 per won in the previous period
# CPL (spend and leads): 10 50 200 450 700 -> median 200: stop from 600, do less from 400.
# MQL rate (leads): .05 .25 .4 .4 .4 -> median .4, weak under .2.
# Spend now 8000 + 400 + 2000 + 2000 + 28000 + 18000 = 58400: meaningful from 1168, little under 5840.
# Mature lead -> won: (4 + 8 + 0 + 2) / (200 + 100 + 100 + 10) = 14 / 410 = .0341; start from 1.5x = .0512.
# Y's MQL rate .25 against .6 before: pooled 70 / 140 = .5, z = .35 / sqrt(.25 x (1/40 + 1/100)) = 3.74.
EARLY = [
    Cohort("P", NOW, 8000, 40, 16), Cohort("P", JAN, 4800, 200, 80, 4),
    Cohort("SL", NOW, 400, 40, 16), Cohort("SL", JAN, 800, 100, 40, 8),
    Cohort("W", NOW, 2000, 40, 16), Cohort("N", NOW, 2000),
    Cohort("X", NOW, 28000, 40, 2), Cohort("Y", NOW, 18000, 40, 10), Cohort("Y", FEB, 0, 100, 60),
    Cohort("SA", FEB_5, 800, 10, 4, 2),
]


def verdicts(frame: pl.DataFrame) -> dict[str, tuple[str, str]]:
    return {row["subject"]: (row["verdict"], row["rule"]) for row in frame.iter_rows(named=True)}


def row(frame: pl.DataFrame, subject: str) -> dict[str, object]:
    return frame.filter(pl.col("subject") == subject).row(0, named=True)


@pytest.fixture(scope="module")
def tables() -> dict[str, pl.DataFrame]:
    return build(COST)


@pytest.fixture(scope="module")
def early() -> dict[str, pl.DataFrame]:
    return build(EARLY)


def test_cost_verdicts_on_mature_cohorts(tables: dict[str, pl.DataFrame]) -> None:
    out = review(tables, "initiative", MARCH, TARGET)
    assert verdicts(out) == {
        "A": ("more", "more_best_cac"),  # 500 <= min(target 1000, best 875), ROAS 10 >= 3, no budget known
        "B": ("continue", "continue"),  # 1000: within target, not the best quarter, not 1.5x
        "C": ("less", "less_cac"),  # 2000 >= 1500 and ROAS 2.5 < 3
        "D": ("stop", "stop_cac"),  # 4000 >= 3000 and ROAS .75 < 1
        "E": ("stop", "stop_no_won"),  # 10000 on mature cohorts, no won deal where 8 were expected
    }
    assert out["verdict"].to_list() == sorted(out["verdict"], key=VERDICTS.index)
    assert out.columns == list(COLUMNS)


def test_the_numbers_behind_the_cost_verdicts(tables: dict[str, pl.DataFrame]) -> None:
    out = review(tables, "initiative", MARCH, TARGET)
    d = row(out, "D")
    assert (d["spend"], d["leads"], d["mql"], d["won"], d["cac"]) == (2000, 40, 16, 0, None)  # too young to win
    assert (d["as_of"], d["maturity_days"], d["maturity_source"]) == (NOW, 10, "subject")
    assert (d["mature_start"], d["mature_end"]) == (date(2025, 12, 1), date(2026, 3, 10))
    assert (d["mature_spend"], d["mature_leads"], d["mature_opportunities"], d["mature_won"]) == (40000, 100, 10, 10)
    assert d["mature_cac"] == pytest.approx(4000) and d["mature_roas"] == pytest.approx(0.75)
    assert (d["target_cac"], d["target_cac_source"], d["cac_multiple"]) == (1000, "rule", pytest.approx(4.0))
    assert d["stop_cac_min"] == pytest.approx(3000) and d["less_cac_min"] == pytest.approx(1500)
    a = row(out, "A")
    assert a["best_cac"] == pytest.approx(875) and a["median_cac"] == pytest.approx(1500)
    assert a["more_cac_max"] == pytest.approx(875) and a["budget"] is None and a["headroom"] is None
    e = row(out, "E")
    assert e["all_lead_to_won"] == pytest.approx(0.08) and e["expected_won"] == pytest.approx(8)
    assert e["mature_spend_share"] == pytest.approx(10_000 / 85_000) and e["mature_opportunities"] == 0
    assert e["mature_cac"] is None and e["mature_roas"] == 0  # spent, nothing back
    # the MQL rate held: .4 now, .4 in January
    assert e["mql_rate"] == pytest.approx(0.4) and e["mql_rate_before"] == pytest.approx(0.4)
    assert e["mql_rate_z"] == pytest.approx(0) and e["mql_falling"] is False


def test_early_signals_start_and_not_enough_data(early: dict[str, pl.DataFrame]) -> None:
    out = review(early, "initiative", MARCH, TARGET)
    assert verdicts(out) == {
        "N": ("stop", "stop_no_mql"),  # 2000 >= 1168 and not one lead
        "X": ("stop", "stop_expensive"),  # CPL 700 >= 600 and MQL .05 < .2: new, but the early signal is clear
        "Y": ("less", "less_expensive"),  # CPL 450 >= 400 and MQL rate .6 -> .25, z 3.74 >= 1.96
        "SL": ("start", "start_low_budget"),  # 400 < 5840, mature lead -> won .08 >= .0512, 100 per won
        "SA": ("start", "start_won_before"),  # no spend now, 400 per won in February <= 1000
        "P": ("continue", "continue"),  # 1200 per won: over target, under 1.5x
        "W": ("wait", "wait"),  # spending, but no lead old enough to judge on won deals
    }
    y, sl, sa = row(out, "Y"), row(out, "SL"), row(out, "SA")
    assert y["mql_rate_before"] == pytest.approx(0.6) and y["mql_rate_z"] == pytest.approx(3.7417, abs=1e-4)
    assert y["median_cpl"] == pytest.approx(200) and y["less_cpl_min"] == pytest.approx(400)
    assert sl["all_lead_to_won"] == pytest.approx(14 / 410) and sl["start_lead_to_won_min"] == pytest.approx(
        1.5 * 14 / 410)
    assert sl["start_budget_max"] == pytest.approx(5840) and sl["mature_lead_to_won"] == pytest.approx(0.08)
    assert (sa["then"], sa["then_spend"], sa["then_won"]) == ("previous", 800, 2)
    assert sa["then_cac"] == pytest.approx(400) and sa["start_cac_max"] == pytest.approx(1000)
    assert sa["spend"] is None and sa["leads"] is None
    w = row(out, "W")
    assert w["mature_leads"] == 0 and w["mature_end"] == date(2026, 3, 10) and w["mql_rate_before"] is None


@pytest.mark.parametrize(("rules", "subject", "before", "after"), [
    (Rules(target_cac=1000, less_cac_multiple=2.5), "C", "less_cac", "continue"),  # 2000 < 2500
    (Rules(target_cac=1000, stop_cac_multiple=5), "D", "stop_cac", "less_cac"),  # 4000 < 5000: still 1.5x+
    (Rules(target_cac=1000, roas_break_even=0.5), "D", "stop_cac", "less_cac"),  # ROAS .75 pays back .5
    (Rules(target_cac=1000, roas_healthy=2), "C", "less_cac", "continue"),  # ROAS 2.5 is healthy from 2
    (Rules(target_cac=1000, min_expected=10), "E", "stop_no_won", "continue"),  # 8 expected < 10
    (Rules(target_cac=1000, min_leads=150), "A", "more_best_cac", "wait"),  # 100 mature leads < 150
    (Rules(target_cac=1000, best_quantile=0.5), "B", "continue", "more_best_cac"),  # 1000 <= median 1500, target
    (Rules(target_cac=400), "A", "more_best_cac", "continue"),  # 500 > 400: not within target
])
def test_cost_thresholds_adjust_the_verdict(tables: dict[str, pl.DataFrame], rules: Rules, subject: str,
                                            before: str, after: str) -> None:
    assert verdicts(review(tables, "initiative", MARCH, TARGET))[subject][1] == before
    assert verdicts(review(tables, "initiative", MARCH, rules))[subject][1] == after


@pytest.mark.parametrize(("rules", "subject", "before", "after"), [
    (Rules(target_cac=1000, trend_z=5), "Y", "less_expensive", "continue"),  # z 3.74 < 5: not a fall
    (Rules(target_cac=1000, start_rate_multiple=3), "SL", "start_low_budget", "more_best_cac"),  # .08 < .1024
    (Rules(target_cac=1000, start_budget_share=0.005), "SL", "start_low_budget", "more_best_cac"),  # 400 >= 292
    (Rules(target_cac=1000, stop_spend_share=0.05), "N", "stop_no_mql", "wait"),  # 2000 < 2920
    (Rules(target_cac=300), "SA", "start_won_before", None),  # 400 > 300: not worth starting, and left out
    # 700 < 800, and with no earlier MQL rate to fall from and no lead old enough, X is too new to judge
    (Rules(target_cac=1000, stop_cpl_multiple=4), "X", "stop_expensive", "wait"),
])
def test_early_thresholds_adjust_the_verdict(early: dict[str, pl.DataFrame], rules: Rules, subject: str,
                                             before: str, after: str | None) -> None:
    assert verdicts(review(early, "initiative", MARCH, TARGET))[subject][1] == before
    assert verdicts(review(early, "initiative", MARCH, rules)).get(subject, (None, None))[1] == after


def test_a_cohort_younger_than_the_time_to_won_is_not_judged_on_won_deals() -> None:
    # E's cohort of the cost case, made on 15 March instead of 15 January: five days old, where won deals take
    # ten, so it is no evidence yet; A and B give the same overall picture.
    young = build([*(Cohort(n, NOW, 2000, 40, 16) for n in "ABE"), Cohort("A", JAN, 5000, 100, 40, 10, 5000.0),
                   Cohort("B", JAN, 10000, 100, 40, 10, 5000.0), Cohort("E", date(2026, 3, 15), 10000, 100, 40, 0)])
    e = row(review(young, "initiative", MARCH, TARGET), "E")
    assert (e["rule"], e["mature_leads"], e["mature_spend"]) == ("wait", 0, 0)
    # a subject with enough won deals of its own (ten here) keeps its own time to won: 30 days for F, so
    # its cohort of 15 February (33 days before 20 March) is mature and that of 25 February is not
    slow = build([Cohort("A", JAN, 5000, 100, 40, 10, 5000.0), Cohort("A", NOW, 2000, 40, 16),
                  Cohort("F", date(2026, 2, 15), 3000, 100, 40, 10, 5000.0, close=30),
                  Cohort("F", date(2026, 2, 25), 3000, 100, 40, 10, 5000.0, close=30), Cohort("F", NOW, 2000, 40, 16)])
    f = row(review(slow, "initiative", MARCH, TARGET), "F")
    assert (f["maturity_days"], f["maturity_source"], f["mature_end"]) == (30, "subject", date(2026, 2, 18))
    assert (f["mature_leads"], f["mature_won"], f["mature_spend"]) == (100, 10, 3000)
    # with a threshold of more won deals than F has (20), F takes the p75 over all 30 won deals instead
    assert row(review(slow, "initiative", MARCH, Rules(target_cac=1000, cycle_min_won=25)), "F")[
        "maturity_source"] == "all"


def test_when_no_cohort_is_mature_nothing_is_judged_on_won_deals() -> None:
    # one won deal, 19 days after its lead; the last lead is two days later: no lead is old enough anywhere,
    # so there is no overall rate to expect won deals from, and 900 spent without a won deal is no evidence
    young = build([Cohort("Paid", date(2026, 3, 1), 200, 2, 2, 1, close=19), Cohort("Display", date(2026, 3, 3), 900,
                                                                                    1, 1)])
    out = review(young, "initiative", MARCH, TARGET)
    assert verdicts(out) == {"Paid": ("wait", "wait"), "Display": ("wait", "wait")}
    assert out["all_lead_to_won"].is_null().all() and out["mature_spend_share"].is_null().all()
    assert out["expected_won"].is_null().all() and not out.select(pl.col(pl.Float64).is_nan().any()).row(0).count(
        True)


def test_the_target_cac_comes_from_a_rule_the_kpi_tree_or_the_peers(tables: dict[str, pl.DataFrame]) -> None:
    kpis = pl.DataFrame({
        "kpi_id": ["cac_q", "cac_y", "cac_ent", "leads"], "name": ["Customer acquisition cost", "CAC (year)",
                                                                   "Enterprise CAC", "Leads"],
        "metric": ["cac", "cac", "cac", "leads"], "target": [1000.0, 5000.0, 99.0, 10.0],
        "period": ["2026-Q1", "2026", "2026-Q1", "2026-Q1"], "filters": [None, None, "segment=Enterprise", None]})
    # the quarter's target, not the year's (the shortest period containing 31 March), nor the filtered one
    from_tree = review({**tables, "kpis": kpis}, "initiative", MARCH)
    d = row(from_tree, "D")
    assert (d["target_cac"], d["target_cac_source"], d["target_cac_period"], d["target_cac_name"]) == (
        1000, "kpi", "2026-Q1", "Customer acquisition cost")
    assert verdicts(from_tree) == verdicts(review(tables, "initiative", MARCH, TARGET))
    # a rule outranks the tree
    assert row(review({**tables, "kpis": kpis}, "initiative", MARCH, Rules(target_cac=2500)), "D")[
        "target_cac_source"] == "rule"
    # neither: the peers' median cost per won, 1500; D's 4000 is 2.7x of it, under the stop's 3x
    median = review(tables, "initiative", MARCH)
    d = row(median, "D")
    assert (d["target_cac"], d["target_cac_source"], d["target_cac_name"]) == (1500, "median", None)
    assert verdicts(median)["D"] == ("less", "less_cac")


def test_best_cost_per_won_continues_when_the_budget_is_spent(tables: dict[str, pl.DataFrame]) -> None:
    roomy = review(tables, "initiative", MARCH, TARGET, budgets={"A": 5000})
    assert verdicts(roomy)["A"] == ("more", "more_best_cac") and row(roomy, "A")["headroom"] is True
    spent = review(tables, "initiative", MARCH, TARGET, budgets={"A": 2000})  # spend 2000 is not under 2000
    assert verdicts(spent)["A"] == ("continue", "continue_at_budget") and row(spent, "A")["headroom"] is False


# RATES, by channel, target CAC 300. Now (20 March) 40 leads each; MQL: Email 16, Organic 4, Paid 16, Paid2 16,
# Social 16 -> rates .4 .1 .4 .4 .4, median .4, weak under .2. Paid and Paid2 spend 1000 each (now and in January).
# Organic had 100 leads and 50 MQL on 10 February: .1 against .5, z = .4 / sqrt(54/140 x 86/140 x (1/40 + 1/100))
# = 4.39. Mature lead -> won (100 leads each): Email 4, Organic 3, Paid 3, Paid2 3, Social 2 -> .04 .03 .03 .03
# .02; the best quarter from the linear 75 % quantile .03; overall 15 / 500 = .03, start from .045.
RATES = [
    Cohort("Email", NOW, 0, 40, 16), Cohort("Email", JAN, 0, 100, 40, 4),
    Cohort("Organic", NOW, 0, 40, 4), Cohort("Organic", FEB, 0, 100, 50, 3),
    Cohort("Paid", NOW, 1000, 40, 16), Cohort("Paid", JAN, 1000, 100, 40, 3),
    Cohort("Paid2", NOW, 1000, 40, 16), Cohort("Paid2", JAN, 1000, 100, 40, 3),
    Cohort("Social", NOW, 0, 40, 16), Cohort("Social", JAN, 0, 100, 40, 2),
]


def test_no_cost_subjects_are_judged_on_rates_only() -> None:
    out = review(build(RATES, "channel"), "channel", MARCH, Rules(target_cac=300))
    assert verdicts(out) == {
        "Organic": ("less", "less_rates"),  # .1 < .2 and falling (z 4.39)
        "Email": ("more", "more_rates"),  # .04 >= .03, but under the start's .045
        "Social": ("continue", "continue_rates"),  # .02
        "Paid": ("continue", "continue"), "Paid2": ("continue", "continue"),  # 333 per won: 1.1x the target
    }
    organic, email = row(out, "Organic"), row(out, "Email")
    assert organic["cpl"] is None and organic["mature_cac"] is None and organic["spend"] == 0
    assert organic["mql_rate_z"] == pytest.approx(4.39, abs=0.01) and organic["weak_mql_rate_max"] == pytest.approx(
        0.2)
    assert email["best_lead_to_won"] == pytest.approx(0.03) and email["start_lead_to_won_min"] == pytest.approx(0.045)
    # with more won deals Email converts 1.5 times the overall rate on no budget: start
    more_won = review(build([*RATES[:1], Cohort("Email", JAN, 0, 100, 40, 10), *RATES[2:]], "channel"), "channel",
                      MARCH, Rules(target_cac=300))
    assert verdicts(more_won)["Email"] == ("start", "start_low_budget")


def test_without_any_spend_data_every_subject_is_judged_on_rates() -> None:
    leads = build(RATES, "channel")["leads"]
    out = review({"leads": leads}, "channel", MARCH)
    assert set(out["rule"]) <= {"less_rates", "more_rates", "continue_rates", "start_low_budget"}
    assert out.height == 5 and out["spend"].is_null().all() and out["spend_share"].is_null().all()
    # without a won deal anywhere nobody knows how long deals take: not enough data yet, for every one
    no_won = review({"leads": leads.with_columns(pl.lit(None, pl.Datetime("us")).alias("won_at"))}, "channel", MARCH)
    assert set(out["subject"]) == set(no_won["subject"]) and set(no_won["rule"]) == {"wait"}
    assert no_won["maturity_days"].is_null().all() and no_won["mature_end"].is_null().all()


def test_rules_are_in_one_documented_order() -> None:
    ids = [r.id for r in RULES]
    assert ids[:4] == ["stop_no_mql", "stop_no_won", "stop_cac", "stop_expensive"]  # stops first
    assert ids.index("start_low_budget") < ids.index("more_best_cac") < ids.index("less_cac") < ids.index(
        "less_expensive") < ids.index("start_won_before") < ids.index("wait") < ids.index("less_rates")
    assert ids[-1] == "continue" and {r.verdict for r in RULES} == set(VERDICTS)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"best_quantile": 1.5}, "best_quantile is a fraction"),
    ({"start_budget_share": 1.0}, "start_budget_share is a fraction"),
    ({"less_cpl_multiple": 0}, "less_cpl_multiple must be a positive number"),
    ({"stop_cpl_multiple": float("nan")}, "stop_cpl_multiple must be a positive number"),
    ({"target_cac": -5.0}, "target_cac must be a positive number"),
    ({"trend_periods": 2.5}, "trend_periods must be a whole number from 2 to 12"),
    ({"trend_periods": 1}, "trend_periods must be a whole number from 2 to 12"),
])
def test_bad_thresholds_are_refused(kwargs: dict[str, float], message: str) -> None:
    with pytest.raises(ReviewError, match=message):
        Rules(**kwargs)


def test_bad_budget_and_dimension_are_refused(tables: dict[str, pl.DataFrame]) -> None:
    with pytest.raises(ReviewError, match="budget of 'A' must be a number of 0 or more"):
        review(tables, "initiative", MARCH, budgets={"A": -5})
    with_segment = {"leads": tables["leads"].with_columns(pl.lit("SMB").alias("segment")), "spend": tables["spend"]}
    with pytest.raises(ReviewError, match="spend is not recorded by 'segment'"):
        check_dimension(with_segment, "segment")
    with pytest.raises(ReviewError, match="leads have no 'region' column"):
        review(tables, "region", MARCH)


def test_only_dimensions_on_leads_and_spend_are_offered_or_suggested(tables: dict[str, pl.DataFrame]) -> None:
    leads = tables["leads"].with_columns(pl.lit("Email").alias("channel"))
    # spend by initiative only: a review by channel cannot judge cost, and only initiative is suggested
    both = {"leads": leads, "spend": tables["spend"]}
    assert review_dimensions(both) == ["initiative"]
    with pytest.raises(ReviewError) as caught:
        check_dimension(both, "channel")
    assert str(caught.value) == ("spend is not recorded by 'channel', so its cost cannot be judged: "
                                 "review by initiative instead.")
    # spend by neither: nothing to suggest but mapping a column
    neither = {"leads": leads, "spend": tables["spend"].drop("initiative")}
    assert review_dimensions(neither) == []
    with pytest.raises(ReviewError) as caught:
        check_dimension(neither, "initiative")
    assert "review by" not in str(caught.value)
    assert str(caught.value).endswith("map initiative or channel on import, on leads and spend alike.")
    # no spend at all: leads decide alone; a lazy frame is read by its schema
    assert review_dimensions({"leads": leads.lazy()}) == ["initiative", "channel"]
    with pytest.raises(ReviewError, match=r"leads have no 'channel' column.*or review by initiative instead"):
        check_dimension({"leads": tables["leads"]}, "channel")


def test_review_inputs_ask_the_given_compute(tables: dict[str, pl.DataFrame]) -> None:
    asked: list[tuple[tuple[str, ...], tuple[str, ...], Period | None, Grain | None, str]] = []

    def counting(ws: Workspace, query: Query, metrics: Sequence[str]) -> pl.DataFrame:
        asked.append((tuple(metrics), query.by, query.period, query.grain, query.view))
        return compute(ws.tables, metrics, by=query.by, period=query.period, grain=query.grain,
                       filters=query.filter_map, view=query.view, settings=ws.settings)

    ws = Workspace(tables, Settings(), "test")
    inputs = review_inputs(ws, Query(period=MARCH, view="flow"), "initiative", compute=counting)
    metrics, daily = tuple(review_metrics()), tuple(daily_metrics())
    cycle = ("sales_cycle_days_p75", "won")
    assert asked == [(metrics, ("initiative",), MARCH, None, "flow"),
                     (metrics, ("initiative",), Period(date(2026, 2, 1), date(2026, 2, 28)), None, "flow"),
                     (metrics, ("initiative",), Period(date(2025, 3, 1), date(2025, 3, 31)), None, "flow"),
                     # won deals on mature cohorts and the trend: always the cohort view
                     (daily, ("initiative",), Period(date(2025, 12, 1), MARCH.end), "day", "cohort"),
                     (cycle, ("initiative",), None, None, "cohort"), (cycle, (), None, None, "cohort")]
    assert conclusions(inputs, "initiative").equals(review(tables, "initiative", MARCH, view="flow"))
    assert inputs["context"].select("k", "start", "end").rows() == [
        (k, p.start, p.end) for k, p in enumerate(trend_periods(MARCH, 4))]
    with pytest.raises(ReviewError, match="leads have no 'region' column"):
        review_inputs(ws, Query(period=MARCH), "region", compute=counting)
    assert len(asked) == 6  # refused before asking


def test_trend_periods_step_back_whole_months_or_days() -> None:
    assert trend_periods(MARCH, 3) == [MARCH, Period(date(2026, 2, 1), date(2026, 2, 28)),
                                       Period(date(2026, 1, 1), date(2026, 1, 31))]
    ninety = Period(date(2026, 9, 5), date(2026, 12, 3))
    assert trend_periods(ninety, 2) == [ninety, Period(date(2026, 6, 7), date(2026, 9, 4))]


#: A funnel with a stage between leads and MQL: the qualified stage is mql, not the second stage.
CONTACTED = Settings(stages=(Stage("lead", "Leads", "created_at", "leads"), Stage("contacted", "Contacted",
                                                                                  "contacted_at"),
                             Stage("mql", "MQL", "mql_at"), Stage("won", "Won deals", "won_at")))
TWO_STAGES = Settings(stages=(Stage("lead", "Leads", "created_at", "leads"), Stage("won", "Won deals", "won_at")))


def test_mql_is_the_qualified_stage_not_the_second(early: dict[str, pl.DataFrame]) -> None:
    # every lead is contacted an hour after it came in; had "contacted" been taken for MQL, X's rate
    # would be 1.0 instead of .05 and it would not be stopped
    contacted = {**early, "leads": early["leads"].with_columns(
        (pl.col("created_at") + timedelta(hours=1)).alias("contacted_at"))}
    out = review(contacted, "initiative", MARCH, TARGET, settings=CONTACTED)
    assert verdicts(out) == verdicts(review(early, "initiative", MARCH, TARGET))
    x = row(out, "X")
    assert (x["mql"], x["mql_rate"], x["median_mql_rate"]) == (2, pytest.approx(0.05), pytest.approx(0.4))


def test_a_two_stage_funnel_skips_the_mql_rules(early: dict[str, pl.DataFrame]) -> None:
    # The early case stops N (spend, no lead: no MQL) and X (CPL 700 and MQL rate .05) and does less of Y
    # (MQL rate falling): all MQL rules. Without a qualified stage X and N are too new to judge on won deals
    # and wait, Y continues; the won-deal rules keep their verdicts (and with no opportunity stage there is no
    # opportunity count).
    assert TWO_STAGES.qualified is None
    out = review(early, "initiative", MARCH, TARGET, settings=TWO_STAGES)
    assert verdicts(out) == {
        "N": ("wait", "wait"), "X": ("wait", "wait"), "Y": ("continue", "continue"),
        "SL": ("start", "start_low_budget"), "SA": ("start", "start_won_before"), "P": ("continue", "continue"),
        "W": ("wait", "wait")}
    assert not set(out["rule"]) & MQL_RULES
    for column in ("mql", "mql_rate", "mql_rate_prev", "median_mql_rate", "weak_mql_rate_max", "mql_rate_before",
                   "mql_rate_z", "mature_opportunities"):
        assert out[column].is_null().all(), column
    assert row(out, "SL")["mature_lead_to_won"] == pytest.approx(0.08)


# --- notes -------------------------------------------------------------------------------------------

GOOD = {"subject": "C", "verdict": "less", "decision": "Cut the budget by 30 %", "owner": "Åsa Öberg",
        "date": "2026-04-02", "note": "Re-check in May"}


def days(start: str, end: str) -> Period:
    return Period(date.fromisoformat(start), date.fromisoformat(end))


@pytest.mark.parametrize(("period", "term", "expected"), [
    (days("2026-11-01", "2026-11-20"), None, days("2026-11-01", "2026-11-30")),
    (days("2026-11-01", "2026-11-22"), None, days("2026-11-01", "2026-11-30")),
    (days("2026-10-15", "2026-11-14"), None, days("2026-11-01", "2026-11-30")),  # 31 days: the month it ends in
    (days("2026-09-01", "2026-11-22"), None, days("2026-10-01", "2026-12-31")),  # 83 days: a quarter
    (days("2026-01-01", "2026-03-31"), None, days("2026-01-01", "2026-03-31")),  # 90 days
    (days("2025-12-01", "2026-03-31"), None, days("2026-01-01", "2026-12-31")),  # 121 days: a year
    (days("2028-02-01", "2028-02-20"), None, days("2028-02-01", "2028-02-29")),  # leap year
    (days("2026-10-01", "2026-10-20"), "quarter", days("2026-10-01", "2026-12-31")),  # this quarter, early on
    (days("2026-01-01", "2026-01-20"), "year", days("2026-01-01", "2026-12-31")),  # year to date, early on
])
def test_a_review_belongs_to_the_calendar_term_its_period_ends_in(period: Period, term: str | None,
                                                                  expected: Period) -> None:
    assert review_term(period, term) == expected  # type: ignore[arg-type]
    assert review_term(expected) == expected  # a term is its own term


def test_every_preset_keeps_its_review_as_days_of_data_are_added() -> None:
    assert set(PRESET_TERMS) == set(PRESETS)
    for name in PRESETS:
        day_20, day_22 = preset(name, date(2026, 11, 20)), preset(name, date(2026, 11, 22))
        assert review_key("initiative", day_20, PRESET_TERMS[name]) == \
            review_key("initiative", day_22, PRESET_TERMS[name]), name
    assert {name: str(review_term(preset(name, date(2026, 11, 22)), PRESET_TERMS[name])) for name in PRESETS} == {
        "this_month": "2026-11-01..2026-11-30", "last_month": "2026-10-01..2026-10-31",
        "last_30_days": "2026-11-01..2026-11-30", "this_quarter": "2026-10-01..2026-12-31",
        "last_90_days": "2026-10-01..2026-12-31", "year_to_date": "2026-01-01..2026-12-31",
        "last_12_months": "2026-01-01..2026-12-31"}
    # this quarter on its 20th day is still the quarter's review, not October's
    assert review_key("initiative", preset("this_quarter", date(2026, 10, 20)), "quarter") == \
        "initiative:2026-10-01..2026-12-31"


def test_a_review_saved_on_the_20th_is_found_again_on_the_22nd(tmp_path: Path) -> None:
    store = Store(tmp_path)
    ws = store.create_workspace("Term test").id
    on_20th, on_22nd = days("2026-11-01", "2026-11-20"), days("2026-11-01", "2026-11-22")
    store.put_doc(ws, DOC_KIND, review_key("initiative", on_20th), notes_to_doc("initiative", on_20th, [GOOD],
                                                                                 budgets={"C": 900}))
    docs = Store(tmp_path).docs(ws, DOC_KIND)
    key = review_key("initiative", on_22nd)
    assert list(docs) == [key] == ["initiative:2026-11-01..2026-11-30"]
    found = notes_from_doc(docs[key], key)
    assert found.key == key and found.period == days("2026-11-01", "2026-11-30")
    assert [n.owner for n in found.notes] == ["Åsa Öberg"] and found.budgets == {"C": 900.0}
    # December's review, however many of its days have data, starts from November's
    for last_day in ("2026-12-01", "2026-12-15"):
        last = previous_review(docs, review_key("initiative", days("2026-12-01", last_day)))
        assert last is not None and last.key == key
    # and November's own review has nothing before it
    assert previous_review(docs, key) is None


def test_review_key_is_dimension_and_period() -> None:
    assert review_key("initiative", Period(date(2026, 11, 1), date(2026, 11, 30))) == \
        "initiative:2026-11-01..2026-11-30"
    assert parse_review_key("channel:2026-10-01..2026-10-31") == ("channel", Period(date(2026, 10, 1),
                                                                                    date(2026, 10, 31)))
    with pytest.raises(ReviewError, match="not a review key"):
        parse_review_key("2025-Q1")


def test_notes_round_trip_through_a_real_store(tmp_path: Path) -> None:
    store = Store(tmp_path)
    ws = store.create_workspace("Review test").id
    doc = notes_to_doc("initiative", MARCH, [GOOD, {**GOOD, "subject": "A", "verdict": "more", "note": None,
                                                    "date": date(2026, 4, 3)}], budgets={"A": 1500})
    store.put_doc(ws, DOC_KIND, review_key("initiative", MARCH), doc)
    back = notes_from_doc(Store(tmp_path).get_doc(ws, DOC_KIND, "initiative:2026-03-01..2026-03-31"))
    assert back.dimension == "initiative" and back.period == MARCH and back.budgets == {"A": 1500.0}
    assert back.notes == (Note("C", "less", "Cut the budget by 30 %", "Åsa Öberg", date(2026, 4, 2), "Re-check in May"),
                          Note("A", "more", "Cut the budget by 30 %", "Åsa Öberg", date(2026, 4, 3), ""))


@pytest.mark.parametrize(("change", "message"), [
    ({"owner": "  "}, "note 1 (C): owner is empty"),
    ({"decision": ""}, "note 1 (C): decision is empty"),
    ({"date": "2026-02-30"}, "date '2026-02-30' is not a real date"),
    ({"date": "next week"}, "date 'next week' is not a real date"),
    ({"verdict": "pause"}, "verdict 'pause' is not one of stop, less, more, start, continue, wait"),
    ({"subject": ""}, "note 1: subject is empty"),
])
def test_bad_notes_are_refused_with_the_field_named(change: dict[str, str], message: str) -> None:
    with pytest.raises(NoteError, match=message.replace("(", r"\(").replace(")", r"\)")):
        notes_to_doc("initiative", MARCH, [{**GOOD, **change}])


def test_every_problem_is_listed_at_once() -> None:
    with pytest.raises(NoteError) as caught:
        notes_to_doc("initiative", MARCH, [GOOD, {**GOOD, "subject": "D", "owner": "", "date": "x"}, GOOD])
    assert caught.value.problems == ["note 2 (D): owner is empty; say who owns the decision",
                                     "note 2 (D): date 'x' is not a real date; use YYYY-MM-DD",
                                     "note 3 (C): a second note on the same subject; keep one per subject"]


def test_a_damaged_document_is_refused() -> None:
    doc = notes_to_doc("initiative", MARCH, [GOOD])
    with pytest.raises(ReviewError, match="review initiative:x: notes must be a list"):
        notes_from_doc({**doc, "notes": "oops"}, "initiative:x")
    with pytest.raises(NoteError, match="owner is empty"):
        notes_from_doc({**doc, "notes": [{**GOOD, "owner": ""}]})
    with pytest.raises(ReviewError, match="unknown format"):
        notes_from_doc({**doc, "format": 99})


def test_previous_review_is_the_latest_earlier_one_of_the_same_dimension() -> None:
    def doc(dimension: str, start: date, end: date, owner: str) -> dict[str, object]:
        return notes_to_doc(dimension, Period(start, end), [{**GOOD, "owner": owner}])

    docs = {
        "initiative:2026-09-01..2026-09-30": doc("initiative", date(2026, 9, 1), date(2026, 9, 30), "September"),
        "initiative:2026-10-01..2026-10-31": doc("initiative", date(2026, 10, 1), date(2026, 10, 31), "October"),
        "channel:2026-10-15..2026-11-14": doc("channel", date(2026, 10, 15), date(2026, 11, 14), "channel"),
        "initiative:2026-12-01..2026-12-31": doc("initiative", date(2026, 12, 1), date(2026, 12, 31), "later"),
        "2025-Q1": {"stop": ["Display"]},  # some other document of the kind: not a review
    }
    found = previous_review(docs, "initiative:2026-11-01..2026-11-30")
    assert found is not None and found.key == "initiative:2026-10-01..2026-10-31"
    assert found.notes[0].owner == "October"
    assert previous_review(docs, "initiative:2026-09-01..2026-09-30") is None
    again = previous_review(docs, "initiative:2026-10-01..2026-10-30")  # October's does not end before it
    assert again is not None and again.notes[0].owner == "September"
    # a quarter's review follows the previous quarter's, a month's the previous month's
    docs["initiative:2026-07-01..2026-09-30"] = doc("initiative", date(2026, 7, 1), date(2026, 9, 30), "Q3")
    quarter = previous_review(docs, "initiative:2026-10-01..2026-12-31")
    assert quarter is not None and quarter.notes[0].owner == "Q3"
    month = previous_review(docs, "initiative:2026-10-01..2026-10-31")
    assert month is not None and month.notes[0].owner == "September"
