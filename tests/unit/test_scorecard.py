"""Scorecards and trends on a workspace whose numbers are known in closed form.

Two years up to 2026-11-22 of 10 leads a day (8 SMB, 2 Enterprise), 4 of them MQL the same day,
and 100 of spend a day. In October of each year the leads double (20 a day: 16 SMB, 4 Enterprise),
so Q4's leads do not arrive evenly: by 22 November last year's Q4 had 31·20 + 22·10 = 840 of its
31·20 + 61·10 = 1230 leads. The week of 2026-06-01 has a one-off campaign: 40 leads a day.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import numpy as np
import polars as pl
import pytest

from kpi.metrics import catalog, compute
from kpi.period import Period
from kpi.scorecard import Card, current_target, scorecards, trend
from kpi.settings import Settings
from kpi.tree import Kpi

TODAY = date(2026, 11, 22)
SETTINGS = Settings()
CAT = catalog(SETTINGS)
Q4 = "2026-Q4"


def _leads_on(day: date) -> int:
    if day.month == 10:
        return 20
    if date(2026, 6, 1) <= day <= date(2026, 6, 7):
        return 40
    return 10


def _tables() -> dict[str, pl.DataFrame]:
    days = [TODAY - timedelta(days=i) for i in range(730)][::-1]
    rows = []
    for day in days:
        n = _leads_on(day)
        for i in range(n):
            created = datetime.combine(day, datetime.min.time()) + timedelta(hours=9, minutes=i)
            rows.append({"lead_id": f"{day}-{i}", "created_at": created,
                         "mql_at": created if i % 5 < 2 else None,
                         "segment": "Enterprise" if i % 5 == 4 else "SMB", "channel": "Email", "campaign": "EM"})
    leads = pl.DataFrame(rows, schema_overrides={"mql_at": pl.Datetime("us"), "created_at": pl.Datetime("us")})
    spend = pl.DataFrame({"date": days, "campaign": "EM", "channel": "Email", "spend": 100.0})
    return {"leads": leads, "spend": spend}


TABLES = _tables()


def card_of(kpi: Kpi) -> Card:
    (card,) = scorecards(TABLES, [kpi], SETTINGS, TODAY)
    return card


def test_the_shortest_target_period_containing_today_is_followed() -> None:
    kpi = Kpi("k", "Leads", "leads", targets={"2026": 5000.0, Q4: 1500.0, "2026-10": 600.0})
    assert current_target(kpi, TODAY) == (Q4, Period(date(2026, 10, 1), date(2026, 12, 31)), 1500.0)
    assert current_target(kpi, date(2026, 10, 5))[0] == "2026-10"  # type: ignore[index]
    assert current_target(kpi, date(2027, 1, 1)) is None


def test_a_count_is_paced_by_last_years_season_and_forecast_to_the_period_end() -> None:
    card = card_of(Kpi("k", "Leads", "leads", targets={Q4: 1500.0}))
    # this Q4 so far: 31 days of 20 in October + 22 days of 10 in November
    assert card.value == 31 * 20 + 22 * 10 == 840
    # last Q4 had 840 of its 1230 leads by 22 November: 1500 · 840 / 1230 are expected by today
    assert card.pace_basis == "seasonal"
    assert card.expected == pytest.approx(1500 * 840 / 1230)
    # the rest of the quarter at 10 a day: 840 + 39 · 10 = 1230; the model sees the recent 10 a day
    assert card.forecast == pytest.approx(1230, rel=0.03)
    assert card.low <= 1230 <= card.high
    # 1230 / 1500 = 82 %: below the 90 % critical line
    assert card.status == "off_track" and card.reason == "forecast"


@pytest.mark.parametrize(("target", "status"), [(1200.0, "on_track"), (1300.0, "at_risk"), (1400.0, "off_track")])
def test_the_status_follows_the_thresholds(target: float, status: str) -> None:
    # 1230 against 1200 (102 %), 1300 (95 %: between warning 100 % and critical 90 %), 1400 (88 %)
    assert card_of(Kpi("k", "Leads", "leads", targets={Q4: target})).status == status


def test_a_rate_holds_at_any_time_and_a_cost_is_good_when_low() -> None:
    cpl = card_of(Kpi("c", "CPL", "cpl", direction="down", critical=1.1, targets={Q4: 11.0}))
    # spend 100 a day over 53 days against 840 leads
    assert cpl.value == pytest.approx(5300 / 840)
    assert cpl.expected == 11.0 and cpl.pace_basis == "target"
    # at period end: 9200 / 1230 ≈ 7.48, well under 11
    assert cpl.forecast == pytest.approx(9200 / 1230, rel=0.03) and cpl.status == "on_track"
    mql_rate = card_of(Kpi("m", "MQL rate", "lead_to_mql", targets={Q4: 0.5}))
    assert mql_rate.value == pytest.approx(0.4)
    # 0.4 / 0.5 = 80 %: off track
    assert mql_rate.forecast == pytest.approx(0.4, rel=0.02) and mql_rate.status == "off_track"


def test_formulas_and_slices() -> None:
    double = card_of(Kpi("f", "Leads and MQL", "leads + mql", targets={Q4: 1700.0}))
    assert double.value == 840 * 1.4
    assert double.expected == pytest.approx(1700 * 840 / 1230)
    assert double.forecast == pytest.approx(1230 * 1.4, rel=0.03)
    ent = card_of(Kpi("e", "Enterprise leads", "leads", filters={"segment": ("Enterprise",)}, targets={Q4: 300.0}))
    assert ent.value == 840 / 5
    assert ent.forecast == pytest.approx(1230 / 5, rel=0.04)
    # 246 / 300 = 82 %
    assert ent.status == "off_track"


def test_kpis_sharing_a_slice_get_the_values_they_get_alone() -> None:
    """Several KPIs on one slice and period are measured together; each keeps its own numbers."""
    tree = [Kpi("l", "Leads", "leads", targets={Q4: 1500.0}),
            Kpi("c", "CPL", "cpl", direction="down", critical=1.1, targets={Q4: 11.0}),
            Kpi("m", "MQL", "mql", targets={Q4: 400.0}),
            Kpi("n", "MQL, last 30 days", "mql"),
            Kpi("e", "Enterprise leads", "leads", filters={"segment": ("Enterprise",)}, targets={Q4: 300.0})]
    cards = {c.kpi.id: c for c in scorecards(TABLES, tree, SETTINGS, TODAY)}
    # Q4 so far: 840 leads, 2 in 5 of them MQL, 100 of spend on each of 53 days, 1 in 5 Enterprise
    assert cards["l"].value == 840
    assert cards["c"].value == pytest.approx(5300 / 840)
    assert cards["m"].value == 840 * 2 / 5
    # the last 30 days (24 October to 22 November): 8 days of 20 leads and 22 of 10, 2 in 5 MQL
    assert cards["n"].value == (8 * 20 + 22 * 10) * 2 / 5
    assert cards["e"].value == 840 / 5
    for kpi in tree:
        alone = card_of(kpi)
        assert (cards[kpi.id].value, cards[kpi.id].expected, cards[kpi.id].forecast, cards[kpi.id].status) == (
            alone.value, alone.expected, alone.forecast, alone.status)


def test_without_a_target_the_last_30_days_are_shown_and_a_median_is_not_forecast() -> None:
    free = card_of(Kpi("n", "Leads", "leads"))
    # 24 October to 22 November: 8 days of 20 and 22 of 10
    assert free.value == 8 * 20 + 22 * 10 and free.status is None and free.reason == "no_target"
    days = card_of(Kpi("d", "Days lead → MQL", "days_lead_to_mql", direction="down", targets={Q4: 1.0}))
    assert days.value == 0 and days.forecast is None
    assert days.reason == "current" and days.status == "on_track"


def test_cards_follow_the_engine() -> None:
    """The card's value is what `compute` gives for the same slice and period (flow view)."""
    kpi = Kpi("r", "ROI-ish", "(mql - leads) / leads", targets={"2026-11": -0.5})
    period = Period(date(2026, 11, 1), TODAY)
    row = compute(TABLES, ["mql", "leads"], period=period, view="flow").row(0, named=True)
    assert card_of(kpi).value == pytest.approx((row["mql"] - row["leads"]) / row["leads"])


def test_the_weekly_trend_has_the_target_share_and_flags_the_campaign_week() -> None:
    kpi = Kpi("k", "Leads", "leads", targets={"2026-Q2": 910.0, "2026-Q3": 920.0, Q4: 1500.0})
    # seen from 20 September, before October's doubling: the campaign week is the only outlier
    weeks = trend(TABLES, kpi, SETTINGS, date(2026, 9, 20), grain="week", periods=30)
    by_week = {r["period"]: r for r in weeks.iter_rows(named=True)}
    assert by_week[date(2026, 6, 1)]["value"] == 7 * 40
    assert by_week[date(2026, 6, 8)]["value"] == 70
    # a week's share of a quarterly target: 910 · 7 / 91 days in Q2 = 70
    assert by_week[date(2026, 6, 8)]["target"] == pytest.approx(70)
    assert weeks.filter("anomaly")["period"].to_list() == [date(2026, 6, 1)]
    last = weeks.row(-1, named=True)
    assert last["period"] == date(2026, 9, 14) and last["partial"] and not last["anomaly"]
    assert weeks["partial"].sum() == 1
    assert np.isclose(by_week[date(2026, 6, 8)]["expected"], 70, rtol=0.05)


def test_every_catalog_metric_can_be_followed() -> None:
    """No metric breaks the scorecard, with or without a target; each gets a value or says why not."""
    tree = [Kpi(m, m, m, direction="up", targets={Q4: 1.0} if i % 2 else {}) for i, m in enumerate(CAT)]
    cards = scorecards(TABLES, tree, SETTINGS, TODAY)
    assert len(cards) == len(CAT)
    # traffic metrics: there is no traffic table here, so they are not available rather than zero
    sessions = next(c for c in cards if c.kpi.id == "sessions")
    assert sessions.reason == "not_available" and sessions.value is None
    # win rate counts closed deals, which no catalog metric sums: judged as it stands, not forecast
    win = next(c for c in cards if c.kpi.id == "win_rate")
    assert win.forecast is None


def test_a_cost_on_a_slice_that_spend_lacks_is_not_available() -> None:
    card = card_of(Kpi("e", "Enterprise CPL", "cpl", filters={"segment": ("Enterprise",)}, targets={Q4: 5.0}))
    assert card.reason == "not_available" and card.status is None and card.target == 5.0


def test_a_target_of_zero_is_met_by_nothing_at_all() -> None:
    # no lead comes from Paid Search here: 0 against a target of 0
    none = card_of(Kpi("z", "Paid leads", "leads", direction="down", filters={"channel": ("Paid Search",)},
                       targets={Q4: 0.0}))
    assert none.value == 0 and none.status == "on_track"
    leads = card_of(Kpi("l", "Leads", "leads", direction="down", targets={Q4: 0.0}))
    assert leads.value == 840 and leads.status == "off_track"


def test_a_week_without_leads_is_a_zero_in_the_trend_and_flagged() -> None:
    quiet = TABLES["leads"].filter(~pl.col("created_at").dt.date().is_between(date(2026, 8, 3), date(2026, 8, 9)))
    weeks = trend({**TABLES, "leads": quiet}, Kpi("k", "Leads", "leads"), SETTINGS, date(2026, 9, 20), grain="week",
                  periods=30)
    gap = weeks.filter(pl.col("period") == date(2026, 8, 3)).row(0, named=True)
    assert gap["value"] == 0 and gap["anomaly"]
    assert weeks.filter("anomaly")["period"].to_list() == [date(2026, 6, 1), date(2026, 8, 3)]


def test_a_card_says_which_days_and_counting_its_value_covers() -> None:
    card = card_of(Kpi("k", "Leads", "leads", targets={Q4: 1500.0}))
    # 1 October to 22 November: 31 days of 20 leads and 22 of 10 = 840, counted when each lead was created
    assert card.so_far == Period(date(2026, 10, 1), TODAY) and card.value == 840
    assert card.measures(Period(date(2026, 10, 1), TODAY), "flow")
    assert not card.measures(Period(date(2026, 10, 1), TODAY), "cohort")  # another counting
    assert not card.measures(Period(date(2026, 8, 25), TODAY), "flow")  # the sidebar's last 90 days
    free = card_of(Kpi("n", "Leads", "leads"))  # no target: the last 30 days, 24 October (8 days of 20) to 22 November
    assert free.so_far == Period(date(2026, 10, 24), TODAY) and free.value == 8 * 20 + 22 * 10
