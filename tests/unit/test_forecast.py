"""Forecasts, seasonal shares and anomaly flags against numbers known by construction."""

from __future__ import annotations

import warnings
from datetime import date, timedelta

import numpy as np
import polars as pl
import pytest

from kpi.forecast import anomalies, interval, seasonal_share, simulate_totals
from kpi.period import Period

WEEK = np.array([10.0, 20.0, 15.0, 5.0, 0.0, -25.0, -25.0])  # Monday..Sunday around the trend; sums to 0


def frame(start: date, values: np.ndarray | list[float]) -> pl.DataFrame:
    """One row per day from `start`."""
    return pl.DataFrame({"date": pl.date_range(start, start + timedelta(days=len(values) - 1), eager=True),
                         "value": np.asarray(values, dtype=float)})


# --- simulate_totals and interval ------------------------------------------------------------------


def test_trend_and_weekly_season_are_carried_to_the_period_end() -> None:
    """daily = 100 + 0.5·t + weekly pattern + noise (sd 3). What the period will total is known in
    closed form: the noisy days already seen plus the noise-free mean of each remaining day. Over 10
    series and three points in a quarter the median is within 2 % of it and the 80 % interval holds
    it at least 80 % of the time (the mean sits in the middle of what the total can turn out to be)."""
    start = date(2025, 1, 1)
    quarter = Period(date(2026, 1, 1), date(2026, 3, 31))
    t = np.arange((quarter.end - start).days + 1)
    weekday = (start.weekday() + t) % 7
    mean = 100 + 0.5 * t + WEEK[weekday]
    first = (quarter.start - start).days
    covered, errors = [], []
    for seed in range(10):
        noisy = mean + np.random.default_rng(seed).normal(0, 3, len(t))
        for today in (date(2026, 1, 10), date(2026, 2, 15), date(2026, 3, 20)):
            seen = (today - start).days + 1
            truth = noisy[first:seen].sum() + mean[seen:].sum()
            totals = simulate_totals(frame(start, noisy[:seen]), quarter, today)
            assert totals is not None and totals.shape == (500,)
            median, low, high = interval(totals)
            errors.append(abs(median / truth - 1))
            covered.append(low <= truth <= high)
    assert max(errors) < 0.02
    assert np.mean(covered) >= 0.8


def test_a_flat_series_gets_an_interval_that_widens_with_the_horizon() -> None:
    """Level 50 with noise (sd 5): every remaining day adds about 50, and the further the period's
    end, the wider the interval of its total."""
    start, today = date(2025, 1, 1), date(2025, 7, 19)  # 200 days of history
    daily = frame(start, 50 + np.random.default_rng(3).normal(0, 5, 200))
    widths = []
    for horizon in (7, 30, 90):
        totals = simulate_totals(daily, Period(today + timedelta(days=1), today + timedelta(days=horizon)), today)
        assert totals is not None
        median, low, high = interval(totals)
        assert low < 50 * horizon < high
        assert median == pytest.approx(50 * horizon, rel=0.05)
        widths.append(high - low)
    assert widths[0] < widths[1] < widths[2]


def test_a_period_already_over_is_its_actual_total_even_on_a_tiny_frame() -> None:
    daily = pl.DataFrame({"date": [date(2026, 3, 30), date(2026, 4, 2), date(2026, 4, 30), date(2026, 5, 1)],
                          "value": [100.0, 4.0, 6.5, 100.0]})  # April: 4 + 6.5, the other days missing = 0
    april = Period(date(2026, 4, 1), date(2026, 4, 30))
    for today in (april.end, date(2026, 5, 1)):
        totals = simulate_totals(daily, april, today, n=20)
        assert totals is not None
        assert totals.tolist() == [10.5] * 20


def test_the_observed_part_is_the_sum_of_the_given_days_so_far() -> None:
    """Days 1-5 of the period are 4, missing, 7, 0, 2 (= 13). The same history and horizon simulate
    the same remaining days, so the totals of the whole period exceed those of its remaining days
    (a period starting tomorrow) by exactly 13 on every path."""
    start = date(2026, 1, 1)
    history = np.random.default_rng(0).poisson(6, 40).astype(float)
    period = Period(start + timedelta(days=40), start + timedelta(days=54))
    days = [period.start + timedelta(days=i) for i in (0, 2, 3, 4)]
    daily = pl.concat([frame(start, history), pl.DataFrame({"date": days, "value": [4.0, 7.0, 0.0, 2.0]})])
    today = period.start + timedelta(days=4)
    whole = simulate_totals(daily, period, today)
    rest = simulate_totals(daily, Period(today + timedelta(days=1), period.end), today)
    assert whole is not None and rest is not None
    np.testing.assert_allclose(whole - rest, 13.0)
    assert rest.min() >= 0


def test_history_shorter_than_four_weeks_is_not_forecast() -> None:
    start = date(2026, 1, 1)
    period = Period(date(2026, 1, 1), date(2026, 3, 31))
    values = np.random.default_rng(1).poisson(20, 28).astype(float)
    assert simulate_totals(frame(start, values[:27]), period, start + timedelta(days=26)) is None
    assert simulate_totals(frame(start, values), period, start + timedelta(days=27)) is not None
    assert simulate_totals(pl.DataFrame(schema={"date": pl.Date, "value": pl.Float64}), period, start) is None


@pytest.mark.parametrize("level", [0.0, 5.0])
def test_a_constant_series_continues_at_its_pace_without_noise_or_warnings(level: float) -> None:
    start, today = date(2026, 1, 1), date(2026, 2, 19)  # 50 days
    period = Period(date(2026, 2, 10), date(2026, 2, 28))  # 10 days seen, 9 to come
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        totals = simulate_totals(frame(start, [level] * 50), period, today, n=50)
    assert totals is not None
    assert totals.tolist() == [level * 19] * 50


def test_ratio_paths_share_their_shocks_under_the_same_seed() -> None:
    """Spend exactly 3 × leads: with the same seed the spend paths are 3 × the leads paths, so cost per
    lead is 3 on every path; with another seed the paths disagree."""
    start = date(2025, 1, 1)
    t = np.arange(400)
    leads = np.maximum(0, 40 + WEEK[(start.weekday() + t) % 7] / 2 + np.random.default_rng(5).normal(0, 6, 400))
    today = start + timedelta(days=399)
    period = Period(today - timedelta(days=20), today + timedelta(days=40))
    lead_paths = simulate_totals(frame(start, leads.round()), period, today)
    spend_paths = simulate_totals(frame(start, 3 * leads.round()), period, today)
    other_seed = simulate_totals(frame(start, 3 * leads.round()), period, today, seed=1)
    assert lead_paths is not None and spend_paths is not None and other_seed is not None
    np.testing.assert_allclose(spend_paths / lead_paths, 3.0, rtol=1e-6)
    assert np.ptp(other_seed / lead_paths) > 0.1


def test_a_lumpy_series_is_not_inflated_by_clipping() -> None:
    """A deal on one day in ten, worth 1000: about 100 a day. Over the 60 days to come the total
    should be near 6000, not the ~40 % more that clipping each simulated day at 0 would give."""
    start = date(2025, 1, 1)
    deals = (np.arange(400) % 10 == 3) * 1000.0
    today = start + timedelta(days=399)
    import statsmodels.tsa.exponential_smoothing.ets  # noqa: F401  # its first import adds warning filters of its own

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # statsmodels' convergence warnings stay inside the module
        before = list(warnings.filters)
        totals = simulate_totals(frame(start, deals), Period(today + timedelta(days=1), today + timedelta(days=60)),
                                 today)
        assert warnings.filters == before
    assert totals is not None
    median, low, high = interval(totals)
    assert low <= 6000 <= high
    assert median == pytest.approx(6000, rel=0.1)
    assert totals.min() >= 0


def test_interval_is_the_median_and_central_share_of_the_samples() -> None:
    samples = np.arange(101, dtype=float)[::-1]  # 100, 99, ..., 0
    assert interval(samples) == pytest.approx((50.0, 10.0, 90.0))
    assert interval(samples, level=0.5) == pytest.approx((50.0, 25.0, 75.0))
    with pytest.raises(ValueError, match="between 0 and 1"):
        interval(samples, level=80)
    with pytest.raises(ValueError, match="no samples"):
        interval(np.array([]))


# --- seasonal_share --------------------------------------------------------------------------------


def two_years(december: float = 5.0) -> pl.DataFrame:
    """10 a day from 2025-01-01 to 2026-11-22, except December 2025 at `december` a day."""
    days = pl.date_range(date(2025, 1, 1), date(2026, 11, 22), eager=True)
    value = pl.when(days.dt.strftime("%Y-%m") == "2025-12").then(december).otherwise(10.0)
    return pl.DataFrame({"date": days}).with_columns(value=value)


Q4 = Period(date(2026, 10, 1), date(2026, 12, 31))


def test_seasonal_share_follows_last_years_period() -> None:
    """Q4 2025: October 31 × 10, November 30 × 10, December half as busy 31 × 5 = 765.
    By 22 Nov (day 53 of 92): 53 × 10 = 530 of 765, where pro rata would say 53/92."""
    daily = two_years()
    assert seasonal_share(daily, Q4, date(2026, 11, 22)) == pytest.approx(530 / 765)
    assert seasonal_share(daily, Q4, date(2026, 12, 10)) == pytest.approx((610 + 10 * 5) / 765)
    assert seasonal_share(daily, Q4, date(2026, 10, 1)) == pytest.approx(10 / 765)
    assert seasonal_share(daily, Q4, Q4.end) == 1.0
    assert seasonal_share(daily, Q4, date(2026, 9, 30)) == 0.0
    flat = two_years(december=10.0)
    assert seasonal_share(flat, Q4, date(2026, 11, 22)) == pytest.approx(53 / 92)


def test_seasonal_share_needs_the_whole_earlier_period() -> None:
    daily = two_years()
    assert seasonal_share(daily.filter(pl.col("date") >= date(2025, 11, 1)), Q4, date(2026, 11, 22)) is None
    zero_last_year = daily.with_columns(
        value=pl.when(pl.col("date").dt.year() == 2025).then(0.0).otherwise(pl.col("value")))
    assert seasonal_share(zero_last_year, Q4, date(2026, 11, 22)) is None
    assert seasonal_share(daily.clear(), Q4, date(2026, 11, 22)) is None


def test_a_sparse_series_may_start_with_empty_days() -> None:
    """A won deal every third day from 2 Oct 2025 (2 empty days between rows): its empty first day is
    no longer than its gaps, so it covers Q4 2025; the same series from 10 Oct does not.
    Deals by 22 Oct (day 22): 2, 5, ..., 20 = 7 of the 31 in Q4 (2 Oct .. 31 Dec)."""
    days = pl.date_range(date(2025, 10, 2), date(2026, 11, 22), "3d", eager=True)
    daily = pl.DataFrame({"date": days, "value": [1.0] * len(days)})
    assert seasonal_share(daily, Q4, date(2026, 10, 22)) == pytest.approx(7 / 31)
    assert seasonal_share(daily.filter(pl.col("date") >= date(2025, 10, 10)), Q4, date(2026, 10, 22)) is None


# --- anomalies -------------------------------------------------------------------------------------


def weekly_series(n: int, seed: int) -> tuple[pl.DataFrame, np.ndarray]:
    start = date(2026, 1, 5)  # a Monday
    t = np.arange(n)
    mean = 200 + 0.3 * t + WEEK[t % 7]
    values = mean + np.random.default_rng(seed).normal(0, 2, n)
    days = pl.date_range(start, start + timedelta(days=n - 1), eager=True)
    return pl.DataFrame({"period": days, "value": values}), mean


def test_a_planted_spike_and_dip_are_flagged_and_nothing_else() -> None:
    series, mean = weekly_series(70, seed=2)
    values = series["value"].to_numpy().copy()
    values[30] += 40
    values[50] -= 40
    out = anomalies(series.with_columns(value=pl.Series(values)), season=7)
    assert out.columns == ["period", "value", "expected", "low", "high", "anomaly"]
    assert out.height == 70
    assert np.flatnonzero(out["anomaly"].to_numpy()).tolist() == [30, 50]
    # the expected values follow the weekly pattern, spike and dip included
    assert np.abs(out["expected"].to_numpy() - mean).max() < 5
    assert (out["low"] < out["expected"]).all() and (out["expected"] < out["high"]).all()


def test_without_a_season_a_rolling_median_is_the_baseline() -> None:
    values = 20 + np.random.default_rng(4).normal(0, 1, 40)
    values[12] = 35.0
    series = pl.DataFrame({"period": pl.date_range(date(2025, 1, 6), date(2025, 10, 6), "1w", eager=True),
                           "value": values})
    out = anomalies(series)
    assert np.flatnonzero(out["anomaly"].to_numpy()).tolist() == [12]
    assert out["expected"][12] == pytest.approx(20, abs=1.5)
    # a season asked for but not yet seen twice falls back to the same baseline
    assert out.equals(anomalies(series, season=52))


def test_a_constant_series_flags_only_its_one_jump() -> None:
    values = [0.0] * 30
    values[17] = 5.0
    series = pl.DataFrame({"period": pl.date_range(date(2026, 1, 1), date(2026, 1, 30), eager=True),
                           "value": values})
    for season in (None, 7):
        assert np.flatnonzero(anomalies(series, season=season)["anomaly"].to_numpy()).tolist() == [17]


def test_short_series_get_no_flags() -> None:
    series = pl.DataFrame({"period": pl.date_range(date(2026, 1, 1), date(2026, 1, 7), eager=True),
                           "value": [10.0, 11.0, 9.0, 500.0, 10.0, 11.0, 10.0]})
    out = anomalies(series, season=7)
    assert out.height == 7
    assert not out["anomaly"].any()
    assert out["expected"].null_count() == 7
    assert anomalies(series.clear()).height == 0


def test_nulls_are_tolerated_and_never_flagged() -> None:
    series, _ = weekly_series(70, seed=2)
    values = series["value"].to_list()
    values[30] += 40
    for i in (0, 10, 11, 45, 69):
        values[i] = None
    shuffled = series.with_columns(value=pl.Series(values, dtype=pl.Float64)).reverse()
    out = anomalies(shuffled, season=7)
    assert out.height == 70 and out["period"].is_sorted()
    assert np.flatnonzero(out["anomaly"].to_numpy()).tolist() == [30]
    assert out["expected"].null_count() == 0
