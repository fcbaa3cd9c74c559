"""Spend and revenue in several currencies: converted with the workspace's rates to its reporting
currency, or, for a currency without a rate, not available (null with a reason) and never summed
with the rest. Every figure is worked out by hand below."""

from __future__ import annotations

import io
import subprocess
import sys
from datetime import date, datetime
from pathlib import Path

import polars as pl
import pytest

from kpi.data import prepare, write_dir, write_settings
from kpi.metrics import catalog, compute, money_tables
from kpi.money import currencies, currency_gaps, gaps_reason, table_gaps
from kpi.period import Period
from kpi.review import ReviewError, review
from kpi.scorecard import trend
from kpi.settings import Settings
from kpi.sources.files import read_bytes
from kpi.sources.importer import import_raw
from kpi.sources.mapping import Mapping
from kpi.tree import kpis as tree_kpis
from tests.conftest import REPO

JAN = Period(date(2025, 1, 1), date(2025, 1, 31))
# Meta bills in INR, Google Ads in GBP (the real exports of issue 20 do); one deal in EUR, one in GBP
SPEND = pl.DataFrame({
    "date": [date(2025, 1, 10), date(2025, 1, 20), date(2025, 1, 15)],
    "channel": ["Meta", "Meta", "Google Ads"], "campaign": ["m1", "m1", "g1"],
    "spend": [11_000.0, 4_000.0, 200.0], "clicks": [100, 50, 40], "currency": ["INR", "inr ", "GBP"]})
LEADS = pl.DataFrame({
    "lead_id": ["a", "b", "c"], "created_at": [datetime(2025, 1, 11), datetime(2025, 1, 16), datetime(2025, 1, 21)],
    "won_at": [datetime(2025, 1, 25), datetime(2025, 1, 26), None], "amount": [500.0, 100.0, 900.0],
    "currency": ["EUR", "GBP", None], "channel": ["Meta", "Google Ads", "Meta"]})
TABLES = {"spend": SPEND, "leads": LEADS}
BOTH = Settings(currency="EUR", rates={"INR": 0.011, "GBP": 1.17})
INR_ONLY = Settings(currency="EUR", rates={"INR": 0.011})
NONE = Settings(currency="EUR")
METRICS = ["spend", "clicks", "cpc", "revenue", "roas", "leads"]


def run(settings: Settings, by: tuple[str, ...] = ()) -> pl.DataFrame:
    return compute(prepare(TABLES, settings), METRICS, by=by, period=JAN, settings=settings)


def test_every_currency_with_a_rate_is_converted_then_summed() -> None:
    # spend: (11 000 + 4 000) INR x 0.011 = 165 EUR; 200 GBP x 1.17 = 234 EUR; 399 EUR in all
    # revenue (won deals): 500 EUR + 100 GBP x 1.17 = 617 EUR; lead c is not won: its 900 do not count
    row = run(BOTH).row(0, named=True)
    assert row["spend"] == pytest.approx(399.0) and row["clicks"] == 190 and row["leads"] == 3
    assert row["cpc"] == pytest.approx(399 / 190) and row["revenue"] == pytest.approx(617.0)
    assert row["roas"] == pytest.approx(617 / 399)
    assert currency_gaps(TABLES, BOTH) == ()


def test_a_currency_without_a_rate_makes_only_the_slices_holding_it_unavailable() -> None:
    assert currencies(TABLES) == ("EUR", "GBP", "INR") and currency_gaps(TABLES, INR_ONLY) == ("GBP",)
    total = run(INR_ONLY).row(0, named=True)
    assert (total["spend"], total["cpc"], total["revenue"], total["roas"]) == (None, None, None, None)
    assert (total["clicks"], total["leads"]) == (190, 3)  # counts do not depend on money
    by_channel = {r["channel"]: r for r in run(INR_ONLY, ("channel",)).iter_rows(named=True)}
    meta, google = by_channel["Meta"], by_channel["Paid Search"]
    assert meta["spend"] == pytest.approx(165.0) and meta["cpc"] == pytest.approx(165 / 150)
    assert meta["revenue"] == pytest.approx(500.0) and meta["roas"] == pytest.approx(500 / 165)
    assert (google["spend"], google["cpc"], google["revenue"], google["roas"]) == (None, None, None, None)
    assert google["clicks"] == 40


def test_without_any_rate_no_money_is_summed_and_the_reason_names_the_currencies() -> None:
    assert currency_gaps(TABLES, NONE) == ("GBP", "INR")
    row = run(NONE).row(0, named=True)
    assert row["spend"] is None and row["revenue"] is None and row["clicks"] == 190
    reason = gaps_reason(("GBP", "INR"), NONE)
    assert "GBP, INR" in reason and "EUR" in reason and "--rate GBP=" in reason
    with pytest.raises(ReviewError, match="GBP, INR"):
        review(prepare(TABLES, NONE), "channel", JAN, settings=NONE)


def test_reporting_in_a_stated_currency_needs_no_rate_for_it() -> None:
    gbp = Settings(currency="GBP", rates={"INR": 0.0095, "EUR": 0.85})
    # 15 000 INR x 0.0095 = 142.5 GBP, plus 200 GBP; revenue 500 EUR x 0.85 = 425 GBP, plus 100 GBP
    row = run(gbp).row(0, named=True)
    assert row["spend"] == pytest.approx(342.5) and row["revenue"] == pytest.approx(525.0)


def test_a_month_of_range_rows_in_another_currency_is_converted_when_spread() -> None:
    ranged = pl.DataFrame({"campaign": ["m"], "spend": [3_100.0], "currency": ["INR"],
                           "period_start": [date(2025, 1, 1)], "period_end": [date(2025, 1, 31)]})
    daily = compute(prepare({"spend": ranged}, BOTH), ["spend"], period=JAN, grain="day", settings=BOTH)
    assert daily["spend"].to_list() == pytest.approx([100 * 0.011] * 31)  # 3 100 INR over 31 days


def test_money_metrics_are_those_built_on_spend_or_amounts() -> None:
    assert all(money_tables(m) == ("spend",) for m in ("spend", "cpc", "cpl", "cac"))
    assert money_tables("revenue") == money_tables("pipeline") == money_tables("avg_deal_size") == ("leads",)
    assert money_tables("roas") == money_tables("roi") == ("leads", "spend")
    assert not any(money_tables(m) for m in ("clicks", "leads", "ctr", "won", "sessions", "lead_to_won"))
    assert table_gaps(TABLES, INR_ONLY) == {"spend": ("GBP",), "leads": ("GBP",)}
    assert table_gaps({"spend": SPEND.filter(pl.col("currency") == "GBP"), "leads": LEADS},
                      Settings(currency="GBP", rates={"EUR": 0.85})) == {}


@pytest.mark.parametrize("rate", [{"INR": 0.0}, {"INR": float("inf")}, {"inr": 0.011}, {"": 1.0}])
def test_settings_refuse_a_rate_that_cannot_convert(rate: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="rate for"):
        Settings(rates=rate)
    assert Settings.from_dict(BOTH.to_dict()) == BOTH


def kpi(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "kpi", *args], cwd=REPO, capture_output=True, text=True,
                          timeout=120)


def test_command_line_takes_rates_and_says_why_money_is_missing(tmp_path: Path) -> None:
    write_dir(TABLES, tmp_path)
    write_settings(NONE, tmp_path)
    base = ("metrics", "--data", str(tmp_path), "--metrics", "spend,revenue,clicks", "--from", "2025-01-01",
            "--to", "2025-01-31", "--format", "csv")
    plain = kpi(*base)
    assert plain.returncode == 0, plain.stderr
    assert pl.read_csv(io.StringIO(plain.stdout)).rows() == [(None, None, 190)]
    assert "GBP, INR" in plain.stderr and "--rate" in plain.stderr
    rated = kpi(*base, "--rate", "INR=0.011", "--rate", "GBP=1.17")
    assert rated.returncode == 0, rated.stderr
    assert pl.read_csv(io.StringIO(rated.stdout)).rows() == [(pytest.approx(399.0), pytest.approx(617.0), 190)]
    assert "note:" not in rated.stderr
    in_gbp = kpi(*base, "--currency", "gbp", "--rate", "INR=0.0095", "--rate", "EUR=0.85")
    assert pl.read_csv(io.StringIO(in_gbp.stdout)).rows() == [(pytest.approx(342.5), pytest.approx(525.0), 190)]
    bad = kpi(*base, "--rate", "INR=abc")
    assert bad.returncode == 2 and "CURRENCY=RATE" in bad.stderr


def test_a_kpi_trend_leaves_a_week_with_unconvertible_money_missing_not_zero() -> None:
    # 10 a day over Jan 1..28 2025: Jan 1..14 in INR (the reporting currency), Jan 15..28 in GBP without a rate
    spend = pl.DataFrame({"date": [date(2025, 1, d) for d in range(1, 29)], "spend": [10.0] * 28,
                          "currency": ["INR"] * 14 + ["GBP"] * 14})
    kpis = pl.DataFrame({"kpi_id": ["s"], "name": ["Spend"], "metric": ["spend"], "target": [400.0],
                         "period": ["2025-01"], "direction": ["down"]})
    settings = Settings(currency="INR")
    tables = prepare({"spend": spend, "kpis": kpis}, settings)
    (kpi,) = tree_kpis(tables["kpis"], catalog(settings))
    weeks = dict(trend(tables, kpi, settings, date(2025, 2, 3), grain="week").select("period", "value").rows())
    # weeks start on Monday: Dec 30 holds Jan 1..5 (50), Jan 6 holds 6..12 (70); Jan 13 holds 13..14 in INR
    # and 15..19 in GBP; Jan 20 and 27 are all GBP; the week of Dec 23 had no spend at all
    assert (weeks[date(2024, 12, 23)], weeks[date(2024, 12, 30)], weeks[date(2025, 1, 6)]) == (0.0, 50.0, 70.0)
    assert weeks[date(2025, 1, 13)] is None and weeks[date(2025, 1, 20)] is None and weeks[date(2025, 1, 27)] is None


def test_an_import_in_two_currencies_says_how_they_are_kept_apart() -> None:
    text = b"Campaign,Day,Cost,Currency\nA,2025-01-02,10.00,INR\nB,2025-01-02,2.00,GBP\nC,2025-01-03,3.00,inr\n"
    raw = read_bytes(text, "ads.csv")
    result = import_raw(raw, Mapping("spend", {"campaign": "Campaign", "date": "Day", "spend": "Cost",
                                               "currency": "Currency"}))
    assert [w for w in result.report.warnings if "currency" in w] == [
        "rows are in more than one currency: GBP, INR; money is never added up across currencies: give each a "
        "rate to the workspace's reporting currency (Workspaces & links → Currency, or --rate on the command "
        "line), else it shows as not available"]
