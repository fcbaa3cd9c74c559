"""Multi-touch attribution (kpi.attribution): every model and rule on leads worked by hand, Markov against DP6's
marketing-attribution-models on the same journeys, credit that always sums to the conversions, and the command.

The hand-made workspace (times are 2026):

- lead A: created 10 Jan 12:00, opportunity 20 Jan, won 1 Feb, amount 1,000; touches t1 1 Jan Meta/c1,
  t2 8 Jan Email/c2, t3 10 Jan 12:00 LinkedIn/c3 (at creation), t4 15 Jan Meta/c1, t5 25 Jan Paid Search/c4,
  t6 5 Feb Email/c2 (after the deal: never eligible).
- lead B: created 5 Jan, one touch 3 Jan Email.
- lead C: created 6 Jan, no touch.
- lead D: created 4 Jan, two touches at the same moment (2 Jan 09:00): Meta, then Email in table order.
- lead E: created 12 Jan, won 30 Jan without an opportunity date; touches 11 Jan Meta, 29 Jan Email.
- lead F: created 5 Jan, won 20 Jan; touches only after creation: 7 Jan Meta, 9 Jan Email.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from datetime import date, datetime
from pathlib import Path

import polars as pl
import pytest

from kpi.attribution import MODELS, NO_TOUCH, attribute, compare_models, removal_effects
from kpi.data import write_dir, write_settings
from kpi.period import Period
from kpi.settings import InitiativeRule, Settings
from tests.conftest import REPO

JAN = Period(date(2026, 1, 1), date(2026, 1, 31))
FEB = Period(date(2026, 2, 1), date(2026, 2, 28))
SETTINGS = Settings(initiative_rules=(InitiativeRule("^c1$|^c3$", "Growth"), InitiativeRule("^c2$", "Nurture")))


def dt(day: int, month: int = 1, hour: int = 0) -> datetime:
    return datetime(2026, month, day, hour)


def workspace() -> dict[str, pl.DataFrame]:
    leads = pl.DataFrame({
        "lead_id": ["A", "B", "C", "D", "E", "F"],
        "created_at": [dt(10, hour=12), dt(5), dt(6), dt(4), dt(12), dt(5)],
        "opportunity_at": [dt(20), None, None, None, None, None],
        "won_at": [dt(1, 2), None, None, None, dt(30), dt(20)],
        "amount": [1000.0, None, None, None, 400.0, 300.0],
    }, schema_overrides={"opportunity_at": pl.Datetime("us"), "won_at": pl.Datetime("us")})
    touches = pl.DataFrame({
        "lead_id": ["A", "A", "A", "A", "A", "A", "B", "D", "D", "E", "E", "F", "F"],
        "touched_at": [dt(1), dt(8), dt(10, hour=12), dt(15), dt(25), dt(5, 2), dt(3), dt(2, hour=9),
                       dt(2, hour=9), dt(11), dt(29), dt(7), dt(9)],
        "channel": ["Meta", "Email", "LinkedIn", "Meta", "Paid Search", "Email", "Email", "Meta", "Email", "Meta",
                    "Email", "Meta", "Email"],
        "campaign": ["c1", "c2", "c3", "c1", "c4", "c2", "c2", "c1", "c2", "c1", "c2", "c1", "c2"],
    })
    spend = pl.DataFrame({"date": [date(2026, 1, 3), date(2026, 1, 20), date(2026, 2, 2)],
                          "channel": ["Meta", "Email", "Meta"], "campaign": ["c1", "c2", "c1"],
                          "spend": [300.0, 50.0, 999.0]})
    return {"leads": leads, "touches": touches, "spend": spend}


def credit_of(frame: pl.DataFrame, by: str = "channel") -> dict[str, float]:
    return {k: v for k, v in zip(frame[by], frame["credit"], strict=True) if v}


def assert_credit(got: dict[str, float], expected: dict[str, float]) -> None:
    assert set(got) == set(expected), (got, expected)
    for key, value in expected.items():
        assert got[key] == pytest.approx(value, abs=1e-12), key


def test_first_and_last_touch_with_a_tie_a_single_touch_and_no_touch() -> None:
    # leads in January: A (t1..t3 eligible), B (one touch), C (none), D (tie), E (11 Jan), F (none before creation)
    first = credit_of(attribute(workspace(), "first", "leads", "channel", JAN, SETTINGS))
    assert_credit(first, {"Meta": 3.0, "Email": 1.0, NO_TOUCH: 2.0})  # A t1, D's first row, E; C and F untouched
    last = credit_of(attribute(workspace(), "last", "leads", "channel", JAN, SETTINGS))
    assert_credit(last, {"LinkedIn": 1.0, "Email": 2.0, "Meta": 1.0, NO_TOUCH: 2.0})  # D's last row is Email


def test_linear_and_time_decay() -> None:
    linear = credit_of(attribute(workspace(), "linear", "leads", "channel", JAN, SETTINGS))
    assert_credit(linear, {"Meta": 1 / 3 + 0.5 + 1, "Email": 1 / 3 + 1 + 0.5, "LinkedIn": 1 / 3, NO_TOUCH: 2.0})
    decay = credit_of(attribute(workspace(), "time_decay", "leads", "channel", JAN, SETTINGS))
    # A: t1 9.5 days before creation, t2 2.5 days, t3 0; D's tied touches share equally; B and E whole
    w1, w2, w3 = 0.5 ** (9.5 / 7), 0.5 ** (2.5 / 7), 1.0
    total = w1 + w2 + w3
    assert_credit(decay, {"Meta": w1 / total + 0.5 + 1, "Email": w2 / total + 1 + 0.5, "LinkedIn": w3 / total,
                          NO_TOUCH: 2.0})


def test_u_shaped_roles_and_their_rest() -> None:
    u = credit_of(attribute(workspace(), "u_shaped", "leads", "channel", JAN, SETTINGS))
    # A: first t1 40 %, lead creation t3 40 %, the rest 20 % to t2; B: both roles on one touch + the rest = 1;
    # D: first = Meta, lead creation = Email (both at 09:00), every touch holds a role: 20 % split over them;
    # E: one eligible touch
    assert_credit(u, {"Meta": 0.4 + 0.5 + 1, "Email": 0.2 + 1 + 0.5, "LinkedIn": 0.4, NO_TOUCH: 2.0})


def test_w_shaped_on_won_deals_with_and_without_an_opportunity_date() -> None:
    w = credit_of(attribute(workspace(), "w_shaped", "won", "channel", JAN, SETTINGS))
    # won in January: E (30 Jan) and F (20 Jan). E: first = lead creation = Meta (60 %), no opportunity date ->
    # its 30 % to the last eligible touch (Email); all touches hold a role: the 10 % split 5/5.
    # F: no touch at or before creation -> lead creation's 30 % to the last touch (Email), opportunity too.
    assert_credit(w, {"Meta": 0.65 + 0.35, "Email": 0.35 + 0.65})
    feb = credit_of(attribute(workspace(), "w_shaped", "won", "channel", FEB, SETTINGS))
    # A won 1 Feb: first t1, lead creation t3, opportunity t4 (last at or before 20 Jan); rest 10 % over t2, t5
    assert_credit(feb, {"Meta": 0.6, "LinkedIn": 0.3, "Email": 0.05, "Paid Search": 0.05})


def test_full_path_on_revenue_by_campaign_and_initiative() -> None:
    by_campaign = credit_of(attribute(workspace(), "full_path", "revenue", "campaign", FEB, SETTINGS), "campaign")
    # A's 1,000: t1 c1, t3 c3, t4 c1, t5 c4 22.5 % each (won role: the last touch at or before 1 Feb = t5);
    # t2 (c2) holds no role and gets the 10 %; t6 (5 Feb) is after the deal
    assert_credit(by_campaign, {"c1": 450.0, "c3": 225.0, "c4": 225.0, "c2": 100.0})
    by_initiative = attribute(workspace(), "full_path", "revenue", "initiative", FEB, SETTINGS)
    assert_credit(credit_of(by_initiative, "initiative"), {"Growth": 675.0, "Nurture": 100.0, "(not set)": 225.0})
    growth = by_initiative.row(by_initiative["initiative"].to_list().index("Growth"), named=True)
    assert growth["spend"] == 999.0 and growth["roas"] == pytest.approx(675.0 / 999.0)
    assert growth["roi"] == pytest.approx((675.0 - 999.0) / 999.0)  # the credited revenue does not pay back


def test_cost_per_attributed_lead_joins_spend_on_the_same_dimension() -> None:
    result = attribute(workspace(), "first", "leads", "channel", JAN, SETTINGS)
    rows = {r["channel"]: r for r in result.iter_rows(named=True)}
    assert rows["Meta"]["spend"] == 300.0 and rows["Meta"]["cost_per_credit"] == pytest.approx(100.0)
    assert rows["Email"]["spend"] == 50.0 and rows["Email"]["cost_per_credit"] == pytest.approx(50.0)
    # no spend is recorded on "(no touch)": not available, not free
    assert rows[NO_TOUCH]["spend"] is None and rows[NO_TOUCH]["cost_per_credit"] is None


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("credit", ["leads", "won", "revenue", "mql"])
def test_credit_always_sums_to_the_conversions(model: str, credit: str) -> None:
    from kpi.sources.demo import DEMO_SETTINGS, generate

    tables = generate(date(2026, 12, 3), scale=0.03)
    period = Period(date(2026, 4, 1), date(2026, 9, 30))
    leads = tables["leads"]
    column = {"leads": "created_at", "won": "won_at", "revenue": "won_at", "mql": "mql_at"}[credit]
    converted = leads.filter(pl.col(column).is_between(datetime(2026, 4, 1), datetime(2026, 10, 1), closed="left"))
    total = converted["amount"].fill_null(0).sum() if credit == "revenue" else converted.height
    result = attribute(tables, model, credit, "channel", period, DEMO_SETTINGS)  # type: ignore[arg-type]
    assert result["credit"].sum() == pytest.approx(total, rel=1e-9)
    assert (result["credit"] >= 0).all()


def dp6_markov(paths: list[list[str]], converted: list[bool]) -> dict[str, float]:
    """DP6's MarkovModel (marketing-attribution-models) on the same journeys: credit per channel."""
    from mam.models.markov import MarkovModel

    frame = pl.DataFrame({"journey_id": [str(i) for i in range(len(paths))], "channels": paths,
                          "has_conversion": converted, "weight": [1.0] * len(paths),
                          "conversion_value": [1.0 if c else 0.0 for c in converted]})
    out = MarkovModel().get_aggregated_results(frame)
    return dict(zip(out["channels"], out["attribution"], strict=True))


def journeys_by_hand(tables: dict[str, pl.DataFrame], column: str, period: Period) -> tuple[list[list[str]],
                                                                                              list[bool]]:
    """Converting journeys: each conversion in the period, its touches at or before it; non-converting: leads
    created in the period that never converted, all their touches. Plain Python over the rows."""
    touches: dict[str, list[tuple[datetime, int, str]]] = {}
    for i, row in enumerate(tables["touches"].iter_rows(named=True)):
        touches.setdefault(row["lead_id"], []).append((row["touched_at"], i, row["channel"]))
    paths, converted = [], []
    start, end = period.start_dt, period.end_exclusive_dt
    for row in tables["leads"].iter_rows(named=True):
        mine = sorted(touches.get(row["lead_id"], []))
        when = row[column]
        if when is not None and start <= when < end:
            path = [c for t, _, c in mine if t <= when]
            if path:
                paths.append(path)
                converted.append(True)
        elif when is None and start <= row["created_at"] < end and mine:
            paths.append([c for _, _, c in mine])
            converted.append(False)
    return paths, converted


def test_markov_equals_dp6_on_the_same_journeys() -> None:
    from kpi.sources.demo import DEMO_SETTINGS, generate

    tables = generate(date(2026, 12, 3), scale=0.05)
    period = Period(date(2026, 1, 1), date(2026, 6, 30))
    paths, converted = journeys_by_hand(tables, "mql_at", period)
    assert sum(converted) > 200 and sum(not c for c in converted) > 200
    expected = dp6_markov(paths, converted)
    got = credit_of(attribute(tables, "markov", "mql", "channel", period, DEMO_SETTINGS))
    assert_credit({k: v for k, v in got.items() if k != NO_TOUCH}, {k: v for k, v in expected.items() if v})


def test_removal_effects_of_a_small_graph_by_hand() -> None:
    # start -> A -> conv, start -> B -> null, start -> A -> B -> conv: P(conv) = 2/3.
    # Without A: only start -> B -> {conv 1/2, null 1/2} reached with 1/3 -> 1/6; effect 1 - (1/6)/(2/3) = 3/4.
    # Without B: start -> A -> {conv 1/2, B(lost) 1/2} with 2/3 -> 1/3; effect 1 - (1/3)/(2/3) = 1/2.
    effects = removal_effects([["A"], ["B"], ["A", "B"]], [True, False, True])
    assert effects == pytest.approx({"A": 0.75 / 1.25, "B": 0.5 / 1.25})


def test_compare_models_stacks_every_model() -> None:
    both = compare_models(workspace(), "leads", "channel", JAN, SETTINGS)
    assert both["model"].unique(maintain_order=True).to_list() == list(MODELS)
    sums = both.group_by("model").agg(pl.col("credit").sum())
    assert all(math.isclose(s, 6.0) for s in sums["credit"])  # six leads in January, whichever model


def test_the_command_line_contract(tmp_path: Path) -> None:
    write_dir(workspace(), tmp_path)
    write_settings(SETTINGS, tmp_path)
    run = [sys.executable, "-m", "kpi", "attribution", "--data", str(tmp_path)]
    out = subprocess.run([*run, "--model", "first", "--credit", "leads", "--by", "channel", "--from", "2026-01-01",
                          "--to", "2026-01-31", "--format", "csv"], cwd=REPO, capture_output=True, text=True,
                         check=True).stdout
    assert out.splitlines()[0] == "channel,credit,spend,cost_per_credit"
    assert "Meta,3.0,300.0,100.0" in out.splitlines()
    rows = json.loads(subprocess.run([*run, "--model", "full_path", "--credit", "revenue", "--by", "campaign",
                                      "--from", "2026-02-01", "--to", "2026-02-28", "--format", "json"], cwd=REPO,
                                     capture_output=True, text=True, check=True).stdout)
    assert list(rows[0]) == ["campaign", "credit", "spend", "roas", "roi"] and rows[0]["credit"] == 450.0
    for bad, listed in ((["--model", "best"], "markov"), (["--by", "segment"], "initiative"),
                        (["--credit", "deals"], "leads, won, revenue, mql, sql, opportunity")):
        failed = subprocess.run([*run, *bad], cwd=REPO, capture_output=True, text=True)
        assert failed.returncode == 2 and listed in failed.stderr, failed.stderr


def test_a_slice_credits_only_its_leads_and_leaves_spend_unsplit() -> None:
    tables = workspace()
    tables["leads"] = tables["leads"].with_columns(segment=pl.Series(["Enterprise", "SMB", "SMB", "Enterprise",
                                                                      "SMB", "SMB"]))
    # Enterprise leads in January: A (first touch Meta t1) and D (tie: Meta first in table order)
    sliced = attribute(tables, "first", "leads", "channel", JAN, SETTINGS, {"segment": ["Enterprise"]})
    assert_credit(credit_of(sliced), {"Meta": 2.0})
    # spend is not recorded per lead: on a slice it is not available, never all of Meta's 300 against 2 leads
    assert sliced["spend"].null_count() == sliced.height and sliced["cost_per_credit"].null_count() == sliced.height
    whole = attribute(tables, "first", "leads", "channel", JAN, SETTINGS, {"segment": []})  # an empty filter
    assert whole.filter(pl.col("channel") == "Meta")["spend"].to_list() == [300.0]
