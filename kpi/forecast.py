"""Where a count or amount will land by the end of a period, the pace a target asks for by today when
the period has a season, and the days or weeks that fall far outside their expected range.

* `simulate_totals` fits an exponential smoothing model (statsmodels ETS: additive errors, additive
  trend, damped unless a straight trend fits better by AICc, additive weekly season) to the daily
  history and simulates the period's remaining days many times; each simulated path plus what the
  period already has is one possible total. `interval` turns those totals into a median and a
  central interval. A ratio (cost per lead, say) is forecast by dividing the simulated totals of
  its numerator and denominator path by path: every call uses the same random seed, so the paths
  of two series share their standardised shocks.
* `seasonal_share` is the share of a period's total that had usually accrued by a given day,
  learned from the same period a year earlier.
* `anomalies` flags points far from what their neighbours and season predict (statsmodels STL).

Inputs and outputs are polars frames, numpy arrays and floats; statsmodels sees numpy arrays only.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from typing import TYPE_CHECKING

import numpy as np
import polars as pl

from kpi.period import Period, compare_period

if TYPE_CHECKING:
    from statsmodels.tsa.exponential_smoothing.ets import ETSResults

METHOD = "ETS (additive, damped or straight trend by AICc, weekly season) on up to the last 365 days, 500 paths"

MIN_HISTORY = 28  # days of history needed to fit a model with a weekly season
FIT_DAYS = 365  # the model sees at most this many days before the forecast starts
SEASON = 7
MAX_ITER = 200  # enough for the few smoothing parameters the heuristic start leaves to estimate
MIN_POINTS = 8  # shorter series are never flagged
ROLLING_WINDOW = 7  # points in the centred median that stands in for STL on a series shorter than two seasons
MAD_TO_SD = 1.4826  # 1.4826 × median absolute deviation estimates the standard deviation of normal noise
MEAN_AD_TO_SD = 1.2533  # the same for the mean absolute deviation


def _values(daily: pl.DataFrame, start: date, end: date) -> np.ndarray:
    """The daily values from `start` to `end` (both included) as floats; days without a row count 0."""
    days = pl.date_range(start, end, "1d", eager=True).alias("date").to_frame()
    given = (daily.filter(pl.col("date").is_between(start, end))
             .group_by("date").agg(pl.col("value").cast(pl.Float64).sum()))
    return days.join(given, on="date", how="left").get_column("value").fill_null(0.0).to_numpy()


def _first_day(daily: pl.DataFrame) -> date:
    first = daily.get_column("date").min()
    assert isinstance(first, date)
    return first


# statsmodels (with scipy) takes a second or two to import: it is imported when a forecast or a
# decomposition is first needed, so pages without KPI targets never wait for it.


@contextmanager
def _quiet() -> Iterator[None]:
    """statsmodels' convergence warnings, and numpy's overflow while the optimiser probes bad
    parameters, silenced here only: a fit that fails is caught and replaced by a simpler one."""
    from statsmodels.tools.sm_exceptions import ConvergenceWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        yield


def _fit(y: np.ndarray, **spec: object) -> ETSResults | None:
    """An additive-error ETS model fitted to `y`, or None when the fit fails or comes out non-finite."""
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    with _quiet():
        try:
            fit = ETSModel(y, error="add", **spec).fit(disp=False, maxiter=MAX_ITER)
        except (ValueError, ArithmeticError, np.linalg.LinAlgError):
            return None
    return fit if np.isfinite(fit.params).all() and np.isfinite(fit.aicc) else None


def _fit_and_simulate(y: np.ndarray, steps: int, n: int, seed: int) -> np.ndarray | None:
    """`steps` × `n` simulated days after `y`, or None when no model fits.

    The weekly-season model with a damped trend, or with a straight one when that fits better by
    AICc (a steady trend is otherwise damped away over a quarter); simple exponential smoothing
    when neither fits."""
    seasonal = {"trend": "add", "seasonal": "add", "seasonal_periods": SEASON, "initialization_method": "heuristic"}
    fits = [f for f in (_fit(y, damped_trend=True, **seasonal), _fit(y, damped_trend=False, **seasonal))
            if f is not None]
    best = min(fits, key=lambda f: f.aicc) if fits else _fit(y)
    if best is None:
        return None
    with _quiet():
        paths = best.simulate(steps, anchor="end", repetitions=n, rng=np.random.default_rng(seed))
    paths = np.asarray(paths, dtype=float).reshape(steps, n)
    return paths if np.isfinite(paths).all() else None


def simulate_totals(daily: pl.DataFrame, period: Period, today: date, *, n: int = 500,
                    seed: int = 0) -> np.ndarray | None:
    """`n` simulated totals of `value` over `period`: what the period's days up to and including
    `today` actually had, plus simulated values for its remaining days.

    `daily` has columns `date` (pl.Date) and `value` (a count or amount, never negative), history up
    to `today`; days missing from the frame count as 0, and the history starts at its first row.
    Returns None when fewer than 28 days of history precede the remaining days, and `n` copies of the
    actual total when the period is over (`today` >= its end). A series that is constant over the
    fitted days (all zeros, say) continues at that pace without noise.

    The simulated remainder of each path is clipped at 0 as a whole, not day by day: the model's
    errors are normal and symmetric, so on a lumpy series (a few large deals between empty days)
    clipping each day would throw away the negative half of the noise and inflate the total, while
    the sum of the days keeps the level's mean. The same `seed` gives the same standardised shocks
    to every series of the same horizon.
    """
    daily = daily.filter(pl.col("date") <= today)
    observed_end = min(today, period.end)
    observed = float(_values(daily, period.start, observed_end).sum()) if observed_end >= period.start else 0.0
    if today >= period.end:
        return np.full(n, observed)
    if daily.is_empty():
        return None
    first = max(_first_day(daily), today - timedelta(days=FIT_DAYS - 1))
    if (today - first).days + 1 < MIN_HISTORY:
        return None
    y = _values(daily, first, today)
    steps = (period.end - today).days  # the days after today up to the period's end
    in_period = min(steps, period.days)  # the last of those that fall in the period
    paths: np.ndarray | None = None
    if np.ptp(y) > 0:
        paths = _fit_and_simulate(y, steps, n, seed)
    if paths is None:  # constant history, or no model would fit: the recent pace
        paths = np.full((steps, n), y[-MIN_HISTORY:].mean())
    totals: np.ndarray = observed + np.clip(paths[-in_period:].sum(axis=0), 0.0, None)
    return totals


def interval(samples: np.ndarray, level: float = 0.8) -> tuple[float, float, float]:
    """(median, low, high) of `samples`, where low..high is the central `level` interval
    (0.8: from the 10th to the 90th percentile)."""
    if not 0 < level < 1:
        raise ValueError(f"interval level must be between 0 and 1, got {level}")
    if len(samples) == 0:
        raise ValueError("no samples to take an interval of")
    tail = (1 - level) / 2
    median, low, high = np.quantile(samples, [0.5, tail, 1 - tail])
    return float(median), float(low), float(high)


def _covers(daily: pl.DataFrame, period: Period) -> bool:
    """Whether the history reaches back to the start of `period`. A sparse series (days without a
    row) may begin with empty days: its first row may come as many days late as its longest run of
    empty days inside the period, while a series that starts partway through the period does not
    cover it."""
    days = daily.get_column("date").unique().sort()
    if days.is_empty():
        return False
    if days[0] <= period.start:
        return True
    inside = days.filter(days <= period.end)
    empty_runs = inside.diff().drop_nulls().dt.total_days() - 1
    return empty_runs.len() > 0 and (days[0] - period.start).days <= empty_runs.max()


def seasonal_share(daily: pl.DataFrame, period: Period, today: date) -> float | None:
    """The share of the period's total that had usually accrued by `today`'s position in it, learned
    from the same period one year earlier (Q4 2025 for Q4 2026) at the same day offset from its start.

    Example: if last Q4 had 1000 leads of which 600 by 22 Nov, the share on 22 Nov is 0.6 where pro
    rata would say 53/92. `daily` has columns `date` and `value`; missing days count 0. None when the
    history does not reach back to the start of that earlier period or its total there is 0. Before
    the period the share is 0, from its last day on 1.
    """
    earlier = compare_period(period, "last_year")
    assert earlier is not None
    if not _covers(daily, earlier):
        return None
    values = _values(daily, earlier.start, earlier.end)
    total = values.sum()
    if total <= 0:
        return None
    if today < period.start:
        return 0.0
    if today >= period.end:
        return 1.0
    offset = (today - period.start).days  # a leap day can make the earlier period one day shorter
    return float(values[: min(offset + 1, len(values))].sum() / total)


def _noise_scale(y: np.ndarray, lag: int) -> float:
    """The standard deviation of the noise in `y` (NaN where unknown), from the differences between
    points `lag` apart: a season apart the season cancels, and centring the differences on their
    median removes a straight trend. 1.4826 × their median absolute deviation / √2 (a difference
    carries the noise of two points), which a few outliers hardly move; when more than half the
    differences are equal, the mean absolute deviation stands in (× 1.2533)."""
    diffs = y[lag:] - y[:-lag]
    diffs = diffs[np.isfinite(diffs)]
    if diffs.size == 0:
        return 0.0
    deviation = np.abs(diffs - np.median(diffs))
    scale = MAD_TO_SD * float(np.median(deviation))
    return (scale if scale > 0 else MEAN_AD_TO_SD * float(deviation.mean())) / math.sqrt(2)


def anomalies(series: pl.DataFrame, *, season: int | None = None, threshold: float = 3.5) -> pl.DataFrame:
    """The rows of `series` (columns `period`: a day or week, `value`: may be null) in period order,
    plus the expected value, its range `low`..`high` and `anomaly`: the value falls outside that range.

    The expected value is the trend plus the season of a robust STL decomposition (statsmodels) when
    `season` (7 for days, 52 for weeks) is given and the series spans two seasons, else the median of
    the 7 points centred on it. The range is expected ± `threshold` × the noise's standard deviation,
    estimated robustly from differences between points a season (or, without one, a point) apart.

    Not from the decomposition's own residuals: it is fitted to the same points, so its residuals
    are smaller than the noise (robust STL on 70 to 200 days of normal noise leaves about half of it)
    and 3.5 × their median absolute deviation flagged 5 to 14 ordinary days in every such series.

    Null values get an expected range but are never flagged; series of fewer than 8 known points get
    no range and no flags.
    """
    rows = series.sort("period")
    value = rows.get_column("value").cast(pl.Float64)
    known = value.is_not_null().to_numpy()
    if known.sum() < MIN_POINTS:
        nothing = pl.lit(None, pl.Float64)
        return rows.with_columns(expected=nothing, low=nothing, high=nothing, anomaly=pl.lit(False))
    filled = value.interpolate().fill_null(strategy="forward").fill_null(strategy="backward").to_numpy()
    y = value.to_numpy()  # NaN where null
    if season is not None and season >= 2 and len(filled) >= 2 * season:
        from statsmodels.tsa.seasonal import STL

        parts = STL(filled, period=season, robust=True).fit()
        expected = np.asarray(parts.trend) + np.asarray(parts.seasonal)
        scale = _noise_scale(y, season)
    else:
        expected = pl.Series(filled).rolling_median(ROLLING_WINDOW, min_samples=1, center=True).to_numpy()
        scale = _noise_scale(y, 1)
    scale = max(scale, 1e-9 * float(np.abs(filled).max()))  # no flags from rounding on a flat series
    low, high = expected - threshold * scale, expected + threshold * scale
    flagged = known & ((np.nan_to_num(y) < low) | (np.nan_to_num(y) > high))
    return rows.with_columns(expected=pl.Series(expected), low=pl.Series(low), high=pl.Series(high),
                             anomaly=pl.Series(flagged))
