"""The review rules on hand-built leads and spend where the right conclusion is known, their priorities
and thresholds, subjects without cost, and the notes model through a real store."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest

from kpi.metrics import Frames, View, compute
from kpi.period import PRESETS, Period, preset
from kpi.review import (
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
)
from kpi.settings import Settings, Stage
from kpi.store import Store

MARCH = Period(date(2026, 3, 1), date(2026, 3, 31))  # previous: February 2026; last year: March 2025
FEB, MARCH_2025 = date(2026, 2, 1), date(2025, 3, 1)
NOW = MARCH.start

Subject = tuple[str, date, float, int, int, int]  # name, first day, spend, leads, MQL, won


def build(subjects: list[Subject], dimension: str = "initiative") -> dict[str, pl.DataFrame]:
    """Leads and spend for each (name, day, spend, leads, mql, won): `leads` leads created on `day`,
    the first `mql` of them MQL a day later, the first `won` of them also won ten days later; one spend
    row on `day` when spend > 0."""
    leads: list[dict[str, object]] = []
    spend: list[dict[str, object]] = []
    for name, day, cost, n, mql, won in subjects:
        assert won <= mql <= n
        created = datetime.combine(day, datetime.min.time())
        for i in range(n):
            leads.append({"lead_id": f"{name}-{day}-{i}", "created_at": created + timedelta(hours=i), dimension: name,
                          "mql_at": created + timedelta(days=1) if i < mql else None,
                          "won_at": created + timedelta(days=10) if i < won else None})
        if cost:
            spend.append({"date": day, dimension: name, "spend": cost})
    ts = pl.Datetime("us")
    return {"leads": pl.DataFrame(leads, schema={"lead_id": pl.String, "created_at": ts, dimension: pl.String,
                                                 "mql_at": ts, "won_at": ts}),
            "spend": pl.DataFrame(spend, schema={"date": pl.Date, dimension: pl.String, "spend": pl.Float64})}


# March 2026, the review period. By hand:
#   CPL (subjects with spend and leads): A 100, B 100, H 150, C 300, D 700 -> median 150;
#     do less from 2 x 150 = 300, stop from 3 x 150 = 450.
#   MQL rate (subjects with leads): A .5, B .4, H .4, C .3, D .1, G .5 -> sorted .1 .3 .4 .4 .5 .5,
#     median .4; weak under .5 x .4 = .2.
#   Cost per won (spend and won deals): A 500, B 1000, H 1500, C 3000 -> best quarter at or below
#     the linear 25 % quantile 500 + .75 x 500 = 875; median 1250.
#   Total spend 1000 + 1000 + 1500 + 3000 + 7000 + 500 + 200 = 14 200 -> meaningful from 2 % = 284.
#   Lead-to-won rate (leads): A .2, B .1, H .1, C .1, D 0, G 0 -> sorted 0 0 .1 .1 .1 .2; the best quarter
#     starts at the linear 75 % quantile, position .75 x 5 = 3.75 between .1 and .1: .1.
# February 2026 (previous): A .5, C .5 and D .2 MQL rates; cost per won A 1000, C 1000, F 500, K 3000
#   -> median 1000, so F (500) is worth starting again and K (3000) is not.
# March 2025 (same period last year): L alone, cost per won 800 / 2 = 400 = its period's median.
SCENARIO: list[Subject] = [
    ("A", NOW, 1000, 10, 5, 2),
    ("B", NOW, 1000, 10, 4, 1),
    ("H", NOW, 1500, 10, 4, 1),
    ("C", NOW, 3000, 10, 3, 1),
    ("D", NOW, 7000, 10, 1, 0),
    ("E", NOW, 500, 0, 0, 0),  # meaningful spend, no leads at all
    ("E2", NOW, 200, 0, 0, 0),  # spend under the 2 % threshold
    ("G", NOW, 0, 10, 5, 0),  # no cost data (email, say)
    ("A", FEB, 1000, 10, 5, 1),
    ("C", FEB, 1000, 10, 5, 1),
    ("D", FEB, 1000, 10, 2, 0),
    ("F", FEB, 1000, 10, 5, 2),
    ("K", FEB, 3000, 10, 5, 1),
    ("L", MARCH_2025, 800, 8, 4, 2),
]


@pytest.fixture(scope="module")
def tables() -> dict[str, pl.DataFrame]:
    return build(SCENARIO)


def verdicts(frame: pl.DataFrame) -> dict[str, tuple[str, str]]:
    return {row["subject"]: (row["verdict"], row["rule"]) for row in frame.iter_rows(named=True)}


def row(frame: pl.DataFrame, subject: str) -> dict[str, object]:
    return frame.filter(pl.col("subject") == subject).row(0, named=True)


def test_each_verdict_on_constructed_data(tables: dict[str, pl.DataFrame]) -> None:
    out = review(tables, "initiative", MARCH)
    assert verdicts(out) == {
        "A": ("more", "more_best_cac"),  # cost per won 500 <= 875, no budget known
        "B": ("continue", "continue"),
        "H": ("continue", "continue"),
        "C": ("less", "less_expensive"),  # CPL 300 >= 300 and MQL rate .5 -> .3
        "D": ("stop", "stop_expensive"),  # CPL 700 >= 450 and MQL rate .1 < .2 (and falling: stop wins)
        "E": ("stop", "stop_no_mql"),  # 500 >= 284 with no MQL
        "E2": ("continue", "continue"),  # 200 < 284
        "F": ("start", "start_won_before"),  # February: 500 per won <= median 1000
        "G": ("continue", "continue_rates"),
        "L": ("start", "start_won_before"),  # a year ago: 400 per won <= median 400
    }  # K (3000 per won in February, nothing now) is not worth starting and has no activity: left out
    assert out["verdict"].to_list() == sorted(out["verdict"], key=VERDICTS.index)


def test_the_numbers_and_thresholds_behind_each_verdict(tables: dict[str, pl.DataFrame]) -> None:
    out = review(tables, "initiative", MARCH)
    c = row(out, "C")
    assert c["spend"] == 3000 and c["leads"] == 10 and c["mql"] == 3 and c["won"] == 1
    assert c["cpl"] == pytest.approx(300) and c["median_cpl"] == pytest.approx(150)
    assert c["cpl_multiple"] == pytest.approx(2.0) and c["less_cpl_min"] == pytest.approx(300)
    assert c["mql_rate"] == pytest.approx(0.3) and c["mql_rate_prev"] == pytest.approx(0.5)
    assert c["cac"] == pytest.approx(3000) and c["spend_share"] == pytest.approx(3000 / 14_200)
    d = row(out, "D")
    assert d["stop_cpl_min"] == pytest.approx(450) and d["median_mql_rate"] == pytest.approx(0.4)
    assert d["weak_mql_rate_max"] == pytest.approx(0.2) and d["cac"] is None  # no won deal: no cost per won
    a = row(out, "A")
    assert a["best_cac"] == pytest.approx(875) and a["median_cac"] == pytest.approx(1250)
    assert a["budget"] is None and a["headroom"] is None  # no budget known: not invented
    e = row(out, "E")
    assert e["total_spend"] == pytest.approx(14_200) and e["stop_spend_min"] == pytest.approx(284)
    assert e["leads"] == 0 and e["cpl"] is None
    f = row(out, "F")
    assert (f["then"], f["then_spend"], f["then_won"]) == ("previous", 1000, 2)
    assert f["then_cac"] == pytest.approx(500) and f["then_median_cac"] == pytest.approx(1000)
    assert f["start_cac_max"] == pytest.approx(1000) and f["spend"] is None and f["leads"] is None
    last = row(out, "L")
    assert last["then"] == "last_year" and last["then_cac"] == pytest.approx(400)
    assert last["then_median_cac"] == pytest.approx(400)
    g = row(out, "G")
    assert g["best_lead_to_won"] == pytest.approx(0.1) and g["lead_to_won"] == 0 and g["cpl"] is None


def test_no_cost_subjects_are_judged_on_rates_only() -> None:
    # MQL rates: Email .6, Organic .1, Paid .5, Paid2 .5 -> median .5, weak under .25.
    # Lead-to-won rates: Email .3, Organic 0, Paid 0, Paid2 0 -> sorted 0 0 0 .3; the best quarter starts at
    # position .75 x 3 = 2.25: 0 + .25 x .3 = .075.
    tables = build([("Email", NOW, 0, 10, 6, 3), ("Organic", NOW, 0, 10, 1, 0), ("Paid", NOW, 1000, 10, 5, 0),
                    ("Paid2", NOW, 1000, 10, 5, 0), ("Organic", FEB, 0, 10, 4, 0)], "channel")
    out = review(tables, "channel", MARCH)
    assert verdicts(out) == {"Email": ("more", "more_rates"), "Organic": ("less", "less_rates"),
                             "Paid": ("continue", "continue"), "Paid2": ("continue", "continue")}
    organic = row(out, "Organic")
    assert organic["cpl"] is None and organic["cac"] is None and organic["spend"] == 0
    assert organic["weak_mql_rate_max"] == pytest.approx(0.25) and organic["mql_rate_prev"] == pytest.approx(0.4)
    assert row(out, "Email")["best_lead_to_won"] == pytest.approx(0.075)


def test_without_any_spend_data_every_subject_is_judged_on_rates() -> None:
    leads = build([("Email", NOW, 0, 10, 6, 3), ("Organic", NOW, 0, 10, 2, 0)], "channel")["leads"]
    out = review({"leads": leads}, "channel", MARCH)
    assert set(out["rule"]) <= {"less_rates", "more_rates", "continue_rates"} and out.height == 2
    assert out["spend"].is_null().all() and out["spend_share"].is_null().all()


def test_best_cost_per_won_outranks_do_less_unless_the_budget_is_spent() -> None:
    # X: CPL 200 = 2 x the median of 100, 100, 100, 200 and a falling MQL rate (.5 -> .4), but also the
    # best cost per won: 500 against 1000, 1000, 1000 (25 % quantile 500 + .75 x 500 = 875).
    tables = build([("M1", NOW, 1000, 10, 5, 1), ("M2", NOW, 1000, 10, 5, 1), ("M3", NOW, 1000, 10, 5, 1),
                    ("X", NOW, 2000, 10, 4, 4), ("X", FEB, 1000, 10, 5, 1)])
    assert verdicts(review(tables, "initiative", MARCH))["X"] == ("more", "more_best_cac")
    roomy = review(tables, "initiative", MARCH, budgets={"X": 5000})
    assert verdicts(roomy)["X"] == ("more", "more_best_cac") and row(roomy, "X")["headroom"] is True
    spent = review(tables, "initiative", MARCH, budgets={"X": 2000})  # spend 2000 is not under 2000
    assert verdicts(spent)["X"] == ("less", "less_expensive") and row(spent, "X")["headroom"] is False


def test_best_cost_per_won_at_budget_continues() -> None:
    tables = build(SCENARIO)
    out = review(tables, "initiative", MARCH, budgets={"A": 1000, "B": 3000})
    assert verdicts(out)["A"] == ("continue", "continue_at_budget")
    assert row(out, "A")["budget"] == 1000 and row(out, "B")["headroom"] is True


def test_stop_outranks_do_less(tables: dict[str, pl.DataFrame]) -> None:
    # D meets both: CPL 700 >= 300 with a falling MQL rate (.2 -> .1), and CPL >= 450 with a weak rate
    d = row(review(tables, "initiative", MARCH, Rules(stop_cpl_multiple=10)), "D")
    assert (d["verdict"], d["rule"]) == ("less", "less_expensive")  # once the stop rule lets go
    assert verdicts(review(tables, "initiative", MARCH))["D"] == ("stop", "stop_expensive")


@pytest.mark.parametrize(("rules", "subject", "before", "after"), [
    (Rules(less_cpl_multiple=2.5), "C", "less", "continue"),  # 300 < 2.5 x 150 = 375
    (Rules(stop_spend_share=0.01), "E2", "continue", "stop"),  # 200 >= 1 % of 14 200 = 142
    (Rules(weak_mql_rate=0.2), "D", "stop", "less"),  # .1 is not under .2 x .4 = .08
    (Rules(best_quantile=0.5), "B", "continue", "more"),  # 1000 <= median 1250
    (Rules(stop_cpl_multiple=2.0), "C", "less", "less"),  # .3 is not weak: still do less
])
def test_thresholds_adjust_the_verdict(tables: dict[str, pl.DataFrame], rules: Rules, subject: str, before: str,
                                       after: str) -> None:
    assert verdicts(review(tables, "initiative", MARCH))[subject][0] == before
    assert verdicts(review(tables, "initiative", MARCH, rules))[subject][0] == after


def test_a_stricter_start_threshold_leaves_stopped_subjects_out(tables: dict[str, pl.DataFrame]) -> None:
    out = review(tables, "initiative", MARCH, Rules(start_cac_multiple=0.4))  # F 500 > 400, L 400 > 160
    assert "F" not in out["subject"] and "L" not in out["subject"]
    assert row(out, "A")["start_cac_max"] is None


def test_rules_are_in_one_documented_order() -> None:
    ids = [r.id for r in RULES]
    assert ids.index("stop_no_mql") < ids.index("stop_expensive") < ids.index("more_best_cac") < ids.index(
        "less_expensive") < ids.index("start_won_before") < ids.index("continue")
    assert ids[-1] == "continue" and {r.verdict for r in RULES} == set(VERDICTS)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"best_quantile": 1.5}, "best_quantile is a fraction"),
    ({"less_cpl_multiple": 0}, "less_cpl_multiple must be a positive number"),
    ({"stop_cpl_multiple": float("nan")}, "stop_cpl_multiple must be a positive number"),
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
    asked: list[tuple[tuple[str, ...], tuple[str, ...], Period, str]] = []

    def counting(tables: Frames, metrics: Sequence[str], *, by: Sequence[str], period: Period,
                 filters: Mapping[str, Sequence[str]] | None, view: View, settings: Settings) -> pl.DataFrame:
        asked.append((tuple(metrics), tuple(by), period, view))
        return compute(tables, metrics, by=by, period=period, filters=filters, view=view, settings=settings)

    inputs = review_inputs(tables, "initiative", MARCH, view="flow", compute=counting)
    metrics = tuple(review_metrics())
    assert asked == [(metrics, ("initiative",), MARCH, "flow"),
                     (metrics, ("initiative",), Period(FEB, date(2026, 2, 28)), "flow"),
                     (metrics, ("initiative",), Period(MARCH_2025, date(2025, 3, 31)), "flow")]
    assert conclusions(inputs, "initiative").equals(review(tables, "initiative", MARCH, view="flow"))
    with pytest.raises(ReviewError, match="leads have no 'region' column"):
        review_inputs(tables, "region", MARCH, compute=counting)
    assert len(asked) == 3  # refused before asking


#: A funnel with a stage between leads and MQL: the qualified stage is mql, not the second stage.
CONTACTED = Settings(stages=(Stage("lead", "Leads", "created_at", "leads"), Stage("contacted", "Contacted",
                                                                                  "contacted_at"),
                             Stage("mql", "MQL", "mql_at"), Stage("won", "Won deals", "won_at")))
TWO_STAGES = Settings(stages=(Stage("lead", "Leads", "created_at", "leads"), Stage("won", "Won deals", "won_at")))


def test_mql_is_the_qualified_stage_not_the_second(tables: dict[str, pl.DataFrame]) -> None:
    # every lead is contacted an hour after it came in; had "contacted" been taken for MQL, D's rate
    # would be 1.0 instead of .1 and it would not be stopped
    contacted = {**tables, "leads": tables["leads"].with_columns(
        (pl.col("created_at") + timedelta(hours=1)).alias("contacted_at"))}
    out = review(contacted, "initiative", MARCH, settings=CONTACTED)
    assert verdicts(out) == verdicts(review(tables, "initiative", MARCH))
    d = row(out, "D")
    assert (d["mql"], d["mql_rate"], d["median_mql_rate"]) == (1, pytest.approx(0.1), pytest.approx(0.4))


def test_a_two_stage_funnel_skips_the_mql_rules(tables: dict[str, pl.DataFrame]) -> None:
    # The default review stops D (CPL 700 and MQL rate .1) and E (500 spent, no MQL) and does less of C
    # (MQL rate falling): all MQL rules. Without a qualified stage they are continued; A's cost per won
    # and F's and L's earlier cost per won do not depend on MQL and keep their verdicts.
    assert TWO_STAGES.qualified is None
    out = review(tables, "initiative", MARCH, settings=TWO_STAGES)
    assert verdicts(out) == {
        "A": ("more", "more_best_cac"), "B": ("continue", "continue"), "H": ("continue", "continue"),
        "C": ("continue", "continue"), "D": ("continue", "continue"), "E": ("continue", "continue"),
        "E2": ("continue", "continue"), "F": ("start", "start_won_before"), "G": ("continue", "continue_rates"),
        "L": ("start", "start_won_before")}
    assert not set(out["rule"]) & MQL_RULES
    for column in ("mql", "mql_rate", "mql_rate_prev", "median_mql_rate", "weak_mql_rate_max"):
        assert out[column].is_null().all(), column
    assert row(out, "G")["lead_to_won"] == 0 and row(out, "A")["lead_to_won"] == pytest.approx(0.2)


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
    ({"verdict": "pause"}, "verdict 'pause' is not one of stop, less, more, start, continue"),
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
