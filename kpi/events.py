"""Event funnels over the `events` table (user_id, timestamp, event, any properties), with PostHog's semantics.

The per-person rules follow PostHog's funnel UDF (funnel-udf/src/steps.rs and unordered_steps.rs in
PostHog/posthog) and its query runner (posthog/hogql_queries/insights/funnels/funnel_udf.py). Steps are numbered
from 0, as PostHog numbers them (exclusion ranges and `step:N` attribution use the same numbers). They run as numba
kernels over the events grouped by person (see `_prepare`); tests/unit/event_funnel_oracle.py keeps the first,
plain-Python implementation that the property tests compare them with.

- A person's events are read in time order (ties keep the file's order). An event matching step 0 starts an
  attempt; the conversion window runs from that step-0 event, inclusive: a later step's event counts when
  (its time − the attempt's step-0 time) ≤ window. A later step-0 event starts a newer attempt, which takes over
  when it gets as far, so the person is counted at the furthest step any attempt reached (the first attempt to
  reach it gives the times).
- `ordered`: other events may happen between steps. `strict`: any other event of the person (whatever its name)
  between two steps breaks the attempt. `unordered`: the steps may happen in any order; an attempt is the set of
  the oldest event of each step still within the window of the newest one.
- One event fills at most one step of an attempt, so a funnel may repeat an event name (A → A → B needs two A).
  Events at the same second that match different steps are tried in step order, and strictness and exclusions
  are not applied among them (as PostHog does).
- Exclusion (event, from, to): in ordered and strict funnels, the excluded event after step `from` and before
  step `to` of an attempt (within its window) taints it; a person whose counted (furthest) attempt is tainted is
  removed from every step, unless an untainted attempt gets as far. In unordered funnels the range must be the
  whole funnel, and the excluded event wipes the progress made so far (an attempt finished before it still counts).
- A step's count is the persons who reached it or further. Conversion time of step k is the seconds between the
  counted attempt's step k−1 and step k events; the mean and median are over the persons who made that
  transition, leaving out zero-second transitions (PostHog's `groupArrayIf(timings[k], timings[k] > 0)` feeds both).
- Breakdown by an event property: `first_touch` / `last_touch` puts the person under the value of their earliest /
  latest funnel event (step or exclusion event) that has one, else "" (no value); `step:N` runs the funnel once
  for each value the person's step-N events carry, and only an event with that value may fill step N. A person
  without a step-N event has no step-N value and is left out of that breakdown (PostHog: "funnel items that never
  reach step_1 are NULLed out"); a person may appear under several values.
- Trends: for each day / week (ISO, Monday) / month, persons entered = those with a step-0 event in the period
  (an attempt that starts there), converted = those with such an attempt reaching the last step. A person may
  count in several periods. A period whose counted attempt is excluded leaves the person out of that period.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Literal, TypeVar, cast, get_args

import numpy as np
import polars as pl
from numba import njit, prange

from kpi.period import bucket
from kpi.schema import conform

Order = Literal["ordered", "strict", "unordered"]
ORDERS: tuple[Order, ...] = get_args(Order)
Interval = Literal["day", "week", "month"]
INTERVALS: tuple[Interval, ...] = get_args(Interval)
#: Seconds in each window unit; a day is 86,400 s (no calendar or daylight-saving arithmetic).
UNIT_SECONDS: dict[str, int] = {"second": 1, "minute": 60, "hour": 3600, "day": 86_400, "week": 604_800}
_UNIT_ALIASES = {"s": "second", "sec": "second", "m": "minute", "min": "minute", "h": "hour", "d": "day",
                 "w": "week"}
NO_VALUE = ""
REQUIRED = ("user_id", "timestamp", "event")
_FORMATS = ("%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M", "%Y-%m-%d")


class EventFunnelError(ValueError):
    """A funnel request the data or the options cannot answer; the message says what to write instead."""


@dataclass(frozen=True)
class Exclusion:
    """Persons doing `event` after step `from_step` and before step `to_step` (0-based) of their attempt."""

    event: str
    from_step: int
    to_step: int


#: A step's property filter: (property, value) pairs its event must also carry, e.g. (("page", "/pricing"),).
Where = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class FunnelSpec:
    """What a funnel asks: its steps (event names, 0-based), order, window in seconds and exclusions; `where`
    holds each step's property filter (empty: any event of that name), as PostHog's step filters."""

    steps: tuple[str, ...]
    order: Order = "ordered"
    window_s: int = 14 * 86_400
    exclusions: tuple[Exclusion, ...] = ()
    where: tuple[Where, ...] = ()

    def matches(self, k: int) -> pl.Expr:
        """Whether an event fills step `k` by its name and its step filter."""
        condition = pl.col("event") == self.steps[k]
        for prop, value in self.where[k] if k < len(self.where) else ():
            condition &= pl.col(prop).cast(pl.String) == value
        return condition

    def __post_init__(self) -> None:
        check_spec(self)


def check_spec(spec: FunnelSpec) -> None:
    """Raise EventFunnelError when the spec cannot be run (the same rules PostHog validates)."""
    n = len(spec.steps)
    if n < 1 or any(not s for s in spec.steps):
        raise EventFunnelError("a funnel needs at least one step: --step NAME (repeat it for each step)")
    if spec.order not in ORDERS:
        raise EventFunnelError(f"--order '{spec.order}' is unknown; use one of {', '.join(ORDERS)}")
    if spec.window_s <= 0:
        raise EventFunnelError("--window must be positive, e.g. --window 7d")
    if spec.where and len(spec.where) != n:
        raise EventFunnelError(f"{len(spec.where)} step filters for {n} steps; give one per step (empty for none)")
    for ex in spec.exclusions:
        where = f"--exclude {ex.event}:{ex.from_step}:{ex.to_step}"
        if not (0 <= ex.from_step < ex.to_step <= n - 1):
            raise EventFunnelError(f"{where}: steps are numbered 0..{n - 1}; write EVENT:FROM:TO with "
                                   f"0 <= FROM < TO <= {n - 1}, e.g. {ex.event}:0:{n - 1}")
        if ex.event in spec.steps[ex.from_step:ex.to_step + 1]:
            raise EventFunnelError(f"{where}: '{ex.event}' is itself a step between steps {ex.from_step} and "
                                   f"{ex.to_step}; exclude another event")
        if spec.order == "unordered" and (ex.from_step, ex.to_step) != (0, n - 1):
            raise EventFunnelError(f"{where}: an unordered funnel only takes exclusions over the whole funnel; "
                                   f"write {ex.event}:0:{n - 1}")


def parse_window(text: str) -> int:
    """Seconds in a window written as a count and a unit: 7d, 14 days, 36h, 90 minutes, 2w, 30s."""
    match = re.fullmatch(r"\s*(\d+)\s*([a-zA-Z]+)\s*", text or "")
    unit = match.group(2).lower() if match else ""
    unit = _UNIT_ALIASES.get(unit, unit.removesuffix("s") if unit.endswith("s") and len(unit) > 1 else unit)
    if not match or unit not in UNIT_SECONDS or int(match.group(1)) <= 0:
        raise EventFunnelError(f"--window '{text}' must be a positive count and a unit (second, minute, hour, day, "
                               "week), e.g. 7d, 36h or 14 days")
    return int(match.group(1)) * UNIT_SECONDS[unit]


def parse_exclusion(text: str) -> Exclusion:
    """EVENT:FROM:TO, e.g. `refund:0:2` (the event name may itself contain colons)."""
    event, sep1, rest = text.rpartition(":")
    event, sep2, start = event.rpartition(":")
    if not (sep1 and sep2 and event and start.strip().isdigit() and rest.strip().isdigit()):
        raise EventFunnelError(f"--exclude '{text}' must look like EVENT:FROM:TO with 0-based step numbers, "
                               "e.g. cancel:0:2")
    return Exclusion(event, int(start), int(rest))


def parse_attribution(text: str, n_steps: int, order: Order) -> int | None:
    """None for first_touch / last_touch, else N of `step:N` (checked against the steps)."""
    if text in ("first_touch", "last_touch"):
        return None
    match = re.fullmatch(r"step:(\d+)", text or "")
    if not match:
        raise EventFunnelError(f"--by-attribution '{text}' must be first_touch, last_touch or step:N (N from 0 to "
                               f"{n_steps - 1})")
    step = int(match.group(1))
    if step >= n_steps:
        raise EventFunnelError(f"--by-attribution '{text}': steps are numbered 0..{n_steps - 1}")
    if order == "unordered" and step != 0:
        raise EventFunnelError("--by-attribution: an unordered funnel can only attribute to step:0 "
                               "(any step may come first)")
    return step


def read_events(path: str | Path) -> pl.DataFrame:
    """The events table from a CSV or Parquet file, or a folder of them; checks user_id, timestamp and event."""
    source = Path(path)
    if source.is_dir():
        files = sorted(p for p in source.iterdir() if p.suffix.lower() in (".csv", ".parquet"))
        if not files:
            raise EventFunnelError(f"--events '{path}' holds no .csv or .parquet file")
    elif source.is_file():
        files = [source]
    else:
        raise EventFunnelError(f"--events '{path}' does not exist; give a CSV or Parquet file, or a folder of them")
    frames = []
    for file in files:
        try:
            frame = (pl.read_parquet(file) if file.suffix.lower() == ".parquet"
                     else pl.read_csv(file, infer_schema_length=0))
        except (pl.exceptions.PolarsError, OSError) as exc:
            raise EventFunnelError(f"--events '{file}' cannot be read as {file.suffix.lstrip('.')}: {exc}") from None
        frames.append(frame)
    return check_events(pl.concat(frames, how="diagonal_relaxed"), str(path))


def check_events(events: pl.DataFrame, name: str = "events") -> pl.DataFrame:
    """`events` with user_id and event as text and timestamp as a datetime; names the missing or bad column."""
    missing = [c for c in REQUIRED if c not in events.columns]
    if missing:
        raise EventFunnelError(f"{name}: required column(s) {', '.join(missing)} missing; the events table needs "
                               "user_id, timestamp and event (any other columns are properties)")
    ts = events.schema["timestamp"]
    if ts == pl.String:
        try:
            parsed = events["timestamp"].str.to_datetime(time_unit="us", strict=False)
        except pl.exceptions.PolarsError:  # no format fits the first values: try the usual ones row by row
            parsed = events.select(pl.coalesce([pl.col("timestamp").str.strptime(pl.Datetime("us"), f, strict=False)
                                                for f in _FORMATS])).to_series()
        if parsed.null_count() > events["timestamp"].null_count():
            bad = events.with_row_index("row", 1).filter(parsed.is_null() & events["timestamp"].is_not_null())
            raise EventFunnelError(f"{name}: column timestamp, row {bad['row'][0]}: '{bad['timestamp'][0]}' is not "
                                   "a date-time; write ISO 8601, e.g. 2025-01-31 14:05:00")
        zoned = isinstance(parsed.dtype, pl.Datetime) and parsed.dtype.time_zone is not None
        events = events.with_columns(parsed.dt.replace_time_zone(None) if zoned else parsed)
    elif not isinstance(ts, pl.Datetime) and ts != pl.Date:
        raise EventFunnelError(f"{name}: column timestamp is {ts}; it must hold date-times")
    events = conform("events", events).with_columns(pl.col("user_id").cast(pl.String), pl.col("event").cast(pl.String))
    return events.filter(pl.col("user_id").is_not_null() & pl.col("timestamp").is_not_null()
                         & pl.col("event").is_not_null())


# --- the kernels: PostHog's per-person rules (funnel-udf) over arrays sorted by person, time and file order ---------
#
# Per event row: `ts` seconds since 1970 (a float, as the rules compare them), `kind` the id of its step codes —
# kcodes[koff[kind]:koff[kind + 1]] holds the 1-based steps the event matches (ascending), then minus the 1-based step
# of each exclusion window it falls in; kind 0 matches nothing — `values` the id of its breakdown value (0: no value)
# and `periods` the trends period it falls in (days since 1970). Person p's rows are offsets[p]:offsets[p + 1].
# `want` >= 0 lets only events of that period fill step 0 (trends); `bstep` >= 0 lets only events whose value is
# `bval` fill that step (breakdown by step:N).

F = TypeVar("F", bound=Callable[..., Any])


def _jit(fn: F) -> F:
    # cache=True keeps the compiled code in NUMBA_CACHE_DIR if set, else in __pycache__ next to this file, else (a
    # read-only install) in numba's user cache dir (~/.cache/numba): only the first run after an install compiles
    return cast(F, njit(cache=True)(fn))


def _parallel(fn: F) -> F:
    """_jit with `prange` loops spread over the cores."""
    return cast(F, njit(cache=True, parallel=True)(fn))


_BLOCKS = 64  # parts of the persons the threads take in turn (more parts than threads evens out their load)


@_jit
def _has(codes: np.ndarray, code: int) -> bool:
    for c in codes:  # noqa: SIM110 (a plain loop compiles to the fastest code)
        if c == code:
            return True
    return False


@_jit
def _take(i: int, codes: np.ndarray, multiple: bool, ts: np.ndarray, values: np.ndarray, periods: np.ndarray,
          n: int, window: float, strict: bool, bstep: int, bval: int, want: int, ent_ts: np.ndarray,
          ent_ex: np.ndarray, ent_tim: np.ndarray, ent_ids: np.ndarray, best: np.ndarray, best_tim: np.ndarray) -> None:
    """steps.rs for one event: it takes each step of `codes` (last first) for the attempt that made the step before it
    within the window. `ent_ts[k]` is the step-0 time of the attempt that has made 1-based step k so far (NaN: none;
    ent_ts[0] is the event's own second), `ent_ex[k]` whether it is excluded, `ent_tim[k, :k]` / `ent_ids[k, :k]`
    the times and rows of its steps; `best` = (furthest 1-based step, its attempt's step-0 time, 1 if excluded) with
    its step times in `best_tim`. `multiple`: one of several events in the same second taken one step at a time (an
    event then fills one step of an attempt at most, and strictness does not apply)."""
    t = ts[i]
    for c in range(codes.size - 1, -1, -1):
        raw = codes[c]
        exclusion = raw < 0
        step = -raw if exclusion else raw
        if step == 1 and want >= 0 and periods[i] != want:
            continue
        start = ent_ts[step - 1]
        if np.isnan(start) or t - start > window:
            continue
        if ent_ts[step] == start:
            continue  # this attempt already made the step with an earlier event
        if exclusion:  # rules out the attempt that made the step before, and the best one if it is as far and open
            if not ent_ex[step - 1]:
                ent_ex[step - 1] = True
                if best[0] == step - 1 and not np.isnan(best[1]) and t - best[1] <= window:
                    best[2] = 1.0
            continue
        if bstep >= 0 and step - 1 == bstep and values[i] != bval:
            continue
        if multiple and _has(ent_ids[step - 1, :step - 1], i):
            continue
        excluded = ent_ex[step - 1]
        if step > best[0] or (step == best[0] and best[2] == 1.0):
            best[0], best[1], best[2] = step, start, 1.0 if excluded else 0.0
            best_tim[:step - 1] = ent_tim[step - 1, :step - 1]
            best_tim[step - 1] = t
        if not excluded:
            ent_ts[step], ent_ex[step] = start, False
            ent_tim[step, :step - 1] = ent_tim[step - 1, :step - 1]
            ent_tim[step, step - 1] = t
            ent_ids[step, :step - 1] = ent_ids[step - 1, :step - 1]
            ent_ids[step, step - 1] = i
    if strict and not multiple:  # any event breaks every attempt whose next step it does not match
        for k in range(1, n + 1):
            if not _has(codes, k):
                ent_ts[k], ent_ex[k] = np.nan, False


@_jit
def _ordered(lo: int, hi: int, ts: np.ndarray, kind: np.ndarray, koff: np.ndarray, kcodes: np.ndarray,
             values: np.ndarray, periods: np.ndarray, n: int, window: float, strict: bool, bstep: int, bval: int,
             want: int, ent_ts: np.ndarray, ent_ex: np.ndarray, ent_tim: np.ndarray, ent_ids: np.ndarray,
             best: np.ndarray, best_tim: np.ndarray, one: np.ndarray, out: np.ndarray) -> int:
    """Ordered and strict funnels for rows lo:hi of one person: the furthest 0-based step (-1: not counted), with the
    seconds between the counted attempt's consecutive steps in out[:reached]."""
    ent_ts[:] = np.nan
    ent_ex[:] = False
    best[0], best[1], best[2] = 0.0, np.nan, 0.0
    i = lo
    while i < hi:
        j = i + 1
        while j < hi and ts[j] == ts[i]:
            j += 1
        ent_ts[0], ent_ex[0] = ts[i], False
        same = True
        for r in range(i + 1, j):
            same = same and kind[r] == kind[i]
        if same:
            for r in range(i, j):
                _take(r, kcodes[koff[kind[r]]:koff[kind[r] + 1]], False, ts, values, periods, n, window, strict,
                      bstep, bval, want, ent_ts, ent_ex, ent_tim, ent_ids, best, best_tim)
        else:  # same second, different steps: each step in step order, no strictness or exclusions among them
            for s in range(1, n + 1):
                one[0] = s
                for r in range(i, j):
                    if _has(kcodes[koff[kind[r]]:koff[kind[r] + 1]], s):
                        _take(r, one, True, ts, values, periods, n, window, strict, bstep, bval, want, ent_ts,
                              ent_ex, ent_tim, ent_ids, best, best_tim)
        if not np.isnan(ent_ts[n]):
            break
        i = j
    if best[2] == 1.0 or best[0] == 0:
        return -1
    reached = int(best[0]) - 1
    for k in range(reached):
        out[k] = best_tim[k + 1] - best_tim[k]
    return reached


@_jit
def _fronts(ts: np.ndarray, head: np.ndarray, n: int, best_tim: np.ndarray) -> None:
    """best_tim[:m] = the oldest time of each non-empty step queue, ascending."""
    m = 0
    for k in range(n):
        if head[k] >= 0:
            t = ts[head[k]]
            j = m
            while j > 0 and best_tim[j - 1] > t:
                best_tim[j] = best_tim[j - 1]
                j -= 1
            best_tim[j] = t
            m += 1


@_jit
def _expire(t: float, ts: np.ndarray, head: np.ndarray, tail: np.ndarray, nxt: np.ndarray, n: int, window: float,
            completed: int, best: int, best_tim: np.ndarray) -> tuple[int, int]:
    """Drops the oldest events out of the window of an event at `t`, noting how far they got; returns the number of
    non-empty queues and the best so far (its step times in best_tim)."""
    while True:
        k = -1
        for q in range(n):
            if head[q] >= 0 and (k < 0 or ts[head[q]] < ts[head[k]]):
                k = q
        if k < 0 or (completed < n and ts[head[k]] + window >= t):
            return completed, best
        if completed > best:
            best = completed
            _fronts(ts, head, n, best_tim)
        if head[k] == tail[k]:
            head[k], tail[k] = -1, -1
            completed -= 1
        else:
            head[k] = nxt[head[k]]


@_jit
def _unordered(lo: int, hi: int, ts: np.ndarray, kind: np.ndarray, koff: np.ndarray, kcodes: np.ndarray,
               values: np.ndarray, periods: np.ndarray, n: int, window: float, bstep: int, bval: int, want: int,
               head: np.ndarray, tail: np.ndarray, nxt: np.ndarray, best_tim: np.ndarray, out: np.ndarray) -> int:
    """unordered_steps.rs for rows lo:hi of one person: one queue of events per step (head/tail rows, linked through
    `nxt`); the attempt is the oldest event of each queue. Returns as `_ordered` does."""
    head[:] = -1
    tail[:] = -1
    completed = 0
    best = 0
    for i in range(lo, hi):
        completed, best = _expire(ts[i], ts, head, tail, nxt, n, window, completed, best, best_tim)
        codes = kcodes[koff[kind[i]]:koff[kind[i] + 1]]
        step, key = -1, 0.0  # the step whose newest event is oldest (an empty queue first; the lower step on ties)
        for c in codes:
            if c > 0:
                last = -np.inf if tail[c - 1] < 0 else ts[tail[c - 1]]
                if step < 0 or last < key:
                    step, key = c, last
        if step < 0:  # an exclusion wipes the progress so far
            head[:] = -1
            tail[:] = -1
            completed = 0
        elif not ((bstep >= 0 and completed == bstep and values[i] != bval)
                  or (completed == 0 and want >= 0 and periods[i] != want)):
            q = step - 1
            if head[q] < 0:
                completed += 1
                head[q] = i
            else:
                nxt[tail[q]] = i
            tail[q] = i
        if best == n:
            break
        if i == hi - 1 and completed > best:
            best = completed
            _fronts(ts, head, n, best_tim)
    for k in range(best - 1):
        out[k] = best_tim[k + 1] - best_tim[k]
    return best - 1


@_jit
def _person(lo: int, hi: int, order: int, ts: np.ndarray, kind: np.ndarray, koff: np.ndarray, kcodes: np.ndarray,
            values: np.ndarray, periods: np.ndarray, n: int, window: float, bstep: int, bval: int, want: int,
            scratch: tuple[np.ndarray, ...], out: np.ndarray) -> int:
    """One run of one person's rows lo:hi; `order` 0 ordered, 1 strict, 2 unordered."""
    ent_ts, ent_ex, ent_tim, ent_ids, best, best_tim, one, head, tail, nxt = scratch
    if order == 2:
        return _unordered(lo, hi, ts, kind, koff, kcodes, values, periods, n, window, bstep, bval, want, head, tail,
                          nxt, best_tim, out)
    return _ordered(lo, hi, ts, kind, koff, kcodes, values, periods, n, window, order == 1, bstep, bval, want,
                    ent_ts, ent_ex, ent_tim, ent_ids, best, best_tim, one, out)


@_jit
def _scratch(n: int, nxt: np.ndarray) -> tuple[np.ndarray, ...]:
    """One thread's state for `_person`; `nxt` (one slot per row) may be shared, as persons own disjoint rows."""
    return (np.empty(n + 1), np.zeros(n + 1, np.bool_), np.zeros((n + 1, n)), np.zeros((n + 1, n), np.int64),
            np.empty(3), np.zeros(n), np.empty(1, np.int64), np.empty(n, np.int64), np.empty(n, np.int64), nxt)


@_jit
def _blocks(who: np.ndarray, blocks: int) -> np.ndarray:
    """Where each of `blocks` about equal parts of the runs starts (and the end); a person's runs stay in one part, so
    the threads that take the parts never share a person's rows."""
    size = (who.size + blocks - 1) // blocks
    starts = np.empty(blocks + 1, np.int64)
    for b in range(blocks + 1):
        s = min(who.size, b * size)
        while 0 < s < who.size and who[s] == who[s - 1]:
            s += 1
        starts[b] = s
    return starts


@_jit
def _candidates(offsets: np.ndarray, kind: np.ndarray, koff: np.ndarray, kcodes: np.ndarray, values: np.ndarray,
                n_values: int, bstep: int, touch: int) -> tuple[np.ndarray, np.ndarray]:
    """The runs to make: (person, breakdown value id) pairs. With `bstep` >= 0 one per distinct value of the person's
    step-`bstep` events in order of appearance; else one per person, valued by its first (touch 1) or last (touch 2)
    event with a value, or 0 (no value; touch 0)."""
    persons = offsets.size - 1
    if bstep < 0:
        label = np.zeros(persons, np.int64)
        for p in range(persons):
            lo, hi = offsets[p], offsets[p + 1]
            rows = range(lo, hi) if touch == 1 else range(hi - 1, lo - 1, -1)
            if touch > 0:
                for r in rows:
                    if values[r] != 0:
                        label[p] = values[r]
                        break
        return np.arange(persons), label
    seen = np.full(n_values, -1, np.int64)
    who = np.empty(kind.size, np.int64)
    label = np.empty(kind.size, np.int64)
    m = 0
    for p in range(persons):
        for r in range(offsets[p], offsets[p + 1]):
            if seen[values[r]] != p and _has(kcodes[koff[kind[r]]:koff[kind[r] + 1]], bstep + 1):
                seen[values[r]] = p
                who[m], label[m] = p, values[r]
                m += 1
    return who[:m], label[:m]


@_parallel
def _runs(offsets: np.ndarray, ts: np.ndarray, kind: np.ndarray, koff: np.ndarray, kcodes: np.ndarray,
          values: np.ndarray, who: np.ndarray, label: np.ndarray, n: int, window: float, order: int,
          bstep: int) -> tuple[np.ndarray, np.ndarray]:
    """Per run: the furthest 0-based step (-1: not counted) and the seconds between consecutive steps (NaN past it)."""
    reached = np.empty(who.size, np.int64)
    times = np.full((who.size, max(n - 1, 1)), np.nan)
    nxt = np.empty(ts.size, np.int64)
    periods = np.empty(0, np.int32)
    starts = _blocks(who, _BLOCKS)
    for b in prange(_BLOCKS):
        scratch = _scratch(n, nxt)
        for m in range(starts[b], starts[b + 1]):
            p = who[m]
            reached[m] = _person(offsets[p], offsets[p + 1], order, ts, kind, koff, kcodes, values, periods, n,
                                 window, bstep, label[m], -1, scratch, times[m])
    return reached, times


@_parallel
def _trend_counts(offsets: np.ndarray, ts: np.ndarray, kind: np.ndarray, koff: np.ndarray, kcodes: np.ndarray,
                  periods: np.ndarray, n: int, window: float, order: int, first: int,
                  days: int) -> tuple[np.ndarray, np.ndarray]:
    """Per day from `first` (days since 1970): persons entered and converted in the period starting that day."""
    entered = np.zeros((_BLOCKS, days), np.int64)  # per block of persons, summed at the end
    converted = np.zeros((_BLOCKS, days), np.int64)
    nxt = np.empty(ts.size, np.int64)
    values = np.empty(0, np.int32)
    starts = _blocks(np.arange(offsets.size - 1), _BLOCKS)
    for b in prange(_BLOCKS):
        scratch = _scratch(n, nxt)
        out = np.empty(max(n - 1, 1))
        for p in range(starts[b], starts[b + 1]):
            last = -1
            for r in range(offsets[p], offsets[p + 1]):  # rows are in time order, so a period's step-0 events are too
                if periods[r] != last and _has(kcodes[koff[kind[r]]:koff[kind[r] + 1]], 1):
                    last = periods[r]
                    reached = _person(offsets[p], offsets[p + 1], order, ts, kind, koff, kcodes, values, periods, n,
                                      window, -1, -1, last, scratch, out)
                    if reached >= 0:
                        entered[b, last - first] += 1
                        converted[b, last - first] += 1 if reached == n - 1 else 0
    return entered.sum(axis=0), converted.sum(axis=0)


@_jit
def _sort_rows(order: np.ndarray, a: int, b: int, ts: np.ndarray, rows: np.ndarray) -> None:
    """Sorts order[a:b] by time, then file order (`rows`)."""
    if b - a <= 32:  # insertion sort: a person has a few events
        for x in range(a + 1, b):
            r = order[x]
            y = x
            while y > a and (ts[order[y - 1]] > ts[r] or (ts[order[y - 1]] == ts[r] and rows[order[y - 1]] > rows[r])):
                order[y] = order[y - 1]
                y -= 1
            order[y] = r
    else:
        sub = order[a:b]
        sub = sub[np.argsort(rows[sub], kind="mergesort")]
        order[a:b] = sub[np.argsort(ts[sub], kind="mergesort")]


@_parallel
def _group(perm: np.ndarray, keys: np.ndarray, ts: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows in `perm` (sorted by person key) with each person's rows sorted by time, then file order (`rows`); and
    where each person's rows start (and the end)."""
    order = perm.astype(np.int64)
    new = np.empty(order.size, np.bool_)
    for i in prange(order.size):
        new[i] = i == 0 or keys[order[i]] != keys[order[i - 1]]
    starts = np.append(np.nonzero(new)[0], order.size).astype(np.int64)
    persons = starts.size - 1
    size = (persons + _BLOCKS - 1) // _BLOCKS
    for b in prange(_BLOCKS):
        for p in range(b * size, min(persons, (b + 1) * size)):
            _sort_rows(order, starts[p], starts[p + 1], ts, rows)
    return order, starts


@_parallel
def _regroup(order: np.ndarray, starts: np.ndarray, persons: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """`order` with its persons (rows starts[p]:starts[p + 1]) in the order `persons`, and their new offsets."""
    sizes = starts[persons + 1] - starts[persons]
    offsets = np.zeros(persons.size + 1, np.int64)
    offsets[1:] = np.cumsum(sizes)
    out = np.empty_like(order)
    for p in prange(persons.size):
        first = starts[persons[p]]
        for k in range(sizes[p]):
            out[offsets[p] + k] = order[first + k]
    return out, offsets


# --- preparing the events ---------------------------------------------------------------------------------------

_HASH_SEED = 0x5EED
_EPOCH = date(1970, 1, 1)


@dataclass(frozen=True)
class _Prepared:
    """A funnel's events as the kernels read them, persons in user_id order (see the kernels' note)."""

    users: pl.Series  # user_id of each person
    offsets: np.ndarray
    ts: np.ndarray
    kind: np.ndarray
    values: np.ndarray  # breakdown value id per row (empty without a breakdown)
    labels: pl.Series  # the breakdown value of each id; id 0 is NO_VALUE
    periods: np.ndarray  # trends period per row, days since 1970 (empty without trends)
    koff: np.ndarray
    kcodes: np.ndarray


def _kinds(spec: FunnelSpec) -> tuple[pl.Expr, np.ndarray, np.ndarray]:
    """Each event's kind id, as an expression (events with the same step codes share one), and the code table (see
    the kernels' note; kind 0 has no codes). An event's codes: the steps whose name and filter it matches, and the
    exclusion windows its name is excluded in. Each name with step filters has one variant per subset of its
    filtered steps the event may match."""
    n = len(spec.steps)
    table: dict[tuple[int, ...], int] = {(): 0}
    variant = pl.lit(0, pl.Int64)  # which of its name's filtered steps an event matches, as bits
    names: list[str] = []
    starts: list[int] = []
    kinds: list[int] = []  # each name's first (name, variant) id; the kind of each such id
    for name in dict.fromkeys([*spec.steps, *(ex.event for ex in spec.exclusions)]):
        steps = [k for k, step in enumerate(spec.steps) if step == name]
        filtered = [k for k in steps if spec.where and spec.where[k]]
        excluded = [-(k + 1) for k in range(1, n)
                    if any(ex.event == name and ex.from_step < k <= ex.to_step for ex in spec.exclusions)]
        for bit, k in enumerate(filtered):
            variant += pl.when((pl.col("event") == name) & spec.matches(k)).then(1 << bit).otherwise(0)
        names.append(name)
        starts.append(len(kinds))
        for bits in range(1 << len(filtered)):
            met = {k for bit, k in enumerate(filtered) if bits >> bit & 1}
            codes = [k + 1 for k in steps if k not in filtered or k in met] + excluded
            kinds.append(table.setdefault(tuple(codes), len(table)))
    first = pl.col("event").cast(pl.String).replace_strict(names, starts, default=None, return_dtype=pl.Int64)
    kind = (first + variant).replace_strict(list(range(len(kinds))), kinds, default=0, return_dtype=pl.Int32)
    koff = np.cumsum([0, *(len(codes) for codes in table)]).astype(np.int64)
    return kind, koff, np.array([c for codes in table for c in codes], dtype=np.int64)


def _persons(frame: pl.DataFrame) -> tuple[pl.Series, np.ndarray, np.ndarray]:
    """The rows of `frame` grouped by person in user_id order, each person's in time and file order: (user_id of
    each person, row order, offsets). Persons are found by a 64-bit hash of user_id (sorting numbers is much faster
    than sorting text); should two ids share a hash, by their rank instead."""
    ts, rows = frame["_ts"].to_numpy(), frame["_row"].to_numpy()
    keys = frame["user_id"].hash(_HASH_SEED)
    order, starts = _group(keys.arg_sort().to_numpy(), keys.to_numpy(), ts, rows)
    users = frame["user_id"].gather(order)
    first = np.zeros(order.size, dtype=np.bool_)
    first[starts[:-1]] = True
    if (users.ne_missing(users.shift(1)) & ~pl.Series(first)).any():  # a hash collision: exact but slower
        keys = frame["user_id"].rank("dense").cast(pl.UInt64)
        order, starts = _group(keys.arg_sort().to_numpy(), keys.to_numpy(), ts, rows)
        users = frame["user_id"].gather(order)
    firsts = users.gather(starts[:-1])
    by_name = firsts.arg_sort().to_numpy()
    order, offsets = _regroup(order, starts, by_name)
    return firsts.gather(by_name), order, offsets


def _prepare(events: pl.LazyFrame, spec: FunnelSpec, by: str | None = None,
             interval: Interval | None = None) -> _Prepared:
    """Reads only the columns the funnel needs, drops events that match no step or exclusion (strict funnels keep
    them: any event breaks an attempt) and groups the rest by person (see `_persons`)."""
    kind, koff, kcodes = _kinds(spec)
    columns = [pl.col("user_id"), (pl.col("timestamp").dt.epoch("us").cast(pl.Float64) / 1e6).alias("_ts"),
               kind.alias("_kind"), pl.col("_row")]
    if by is not None:
        columns.append(pl.col(by).cast(pl.String).fill_null(NO_VALUE).alias("_value"))
    if interval is not None:
        columns.append(bucket(pl.col("timestamp"), interval).cast(pl.Int32).alias("_period"))
    frame = events.with_row_index("_row").select(columns)
    if spec.order != "strict":
        frame = frame.filter(pl.col("_kind") > 0)
    df = frame.collect(engine="streaming").rechunk()  # gathers on the streaming engine's many chunks are slow
    users, order, offsets = _persons(df)
    labels = pl.Series([NO_VALUE])
    values = np.empty(0, dtype=np.int32)
    if by is not None:
        seen = df["_value"].unique()
        labels = pl.concat([labels, seen.filter(seen != NO_VALUE)])
        values = (df.select(pl.col("_value").replace_strict(labels, pl.int_range(labels.len(), dtype=pl.Int32,
                                                                                 eager=True)))
                  .to_series().to_numpy()[order])
    periods = df["_period"].to_numpy()[order] if interval is not None else np.empty(0, dtype=np.int32)
    return _Prepared(users, offsets, df["_ts"].to_numpy()[order], df["_kind"].to_numpy()[order], values, labels,
                     periods, koff, kcodes)


_ORDER_CODE: dict[str, int] = {"ordered": 0, "strict": 1, "unordered": 2}


def _person_frame(p: _Prepared, spec: FunnelSpec, breakdown_step: int | None, touch: int,
                  users: bool = True) -> pl.DataFrame:
    """person_results' frame from prepared events; `touch` 1 first_touch, 2 last_touch, 0 no breakdown. Without
    `users` the user_id column is left out (step_table only reads it to list the users)."""
    n = len(spec.steps)
    bstep = -1 if breakdown_step is None else breakdown_step
    who, label = _candidates(p.offsets, p.kind, p.koff, p.kcodes, p.values, p.labels.len(), bstep, touch)
    reached, times = _runs(p.offsets, p.ts, p.kind, p.koff, p.kcodes, p.values, who, label, n,
                           float(spec.window_s), _ORDER_CODE[spec.order], bstep)
    keep = reached >= 0
    frame = pl.DataFrame({"breakdown": p.labels.gather(label[keep]), "reached": reached[keep], "times": times[keep]})
    if users:
        frame = frame.with_columns(user_id=p.users.gather(who[keep]))
    return frame.select(
        *(["user_id"] if users else []), "breakdown", "reached",
        pl.col("times").arr.to_list().list.head(pl.col("reached")).cast(pl.List(pl.Float64)))


def person_results(events: pl.DataFrame, spec: FunnelSpec, by: str | None = None,
                   attribution: str = "first_touch") -> pl.DataFrame:
    """One row per counted person (and breakdown value): user_id, breakdown, reached (0-based step), times (seconds
    between the counted attempt's consecutive steps). Persons in user_id order, a person's values in the order their
    events carry them."""
    breakdown_step, touch = _breakdown(events.columns, spec, by, attribution)
    return _person_frame(_prepare(events.lazy(), spec, by), spec, breakdown_step, touch)


def _breakdown(columns: Sequence[str], spec: FunnelSpec, by: str | None, attribution: str) -> tuple[int | None, int]:
    """The step of `step:N` attribution (else None) and the touch: 1 first_touch, 2 last_touch, 0 neither."""
    if by is not None and by not in columns:
        raise EventFunnelError(f"--by '{by}' is not a column of the events; columns: {', '.join(columns)}")
    breakdown_step = parse_attribution(attribution, len(spec.steps), spec.order) if by else None
    return breakdown_step, 0 if by is None or breakdown_step is not None else 1 if attribution == "first_touch" else 2


def step_table(persons: pl.DataFrame, spec: FunnelSpec, users: bool = False) -> list[dict[str, object]]:
    """Per step: persons who reached it or further, and the mean / median seconds from the previous step over the
    persons who made that transition in more than zero seconds (null for step 0 or when none did)."""
    out: list[dict[str, object]] = []
    for k, name in enumerate(spec.steps):
        at = persons.filter(pl.col("reached") >= k)
        row: dict[str, object] = {"name": name, "count": at.height, "avg_conversion_time_s": None,
                                  "median_conversion_time_s": None}
        if k > 0:
            times = at.select(pl.col("times").list.get(k - 1, null_on_oob=True).alias("t")).filter(pl.col("t") > 0)
            if times.height:
                row["avg_conversion_time_s"] = float(times["t"].mean())  # type: ignore[arg-type]
                row["median_conversion_time_s"] = float(times["t"].median())  # type: ignore[arg-type]
        if users:
            row["users"] = sorted(at["user_id"].unique().to_list())
        out.append(row)
    return out


def funnel(events: pl.DataFrame, spec: FunnelSpec, by: str | None = None, attribution: str = "first_touch",
           users: bool = False) -> dict[str, Any]:
    """{"steps": [...], "breakdown": {value: {"steps": [...]}}} (breakdown only with `by`); see step_table."""
    return _funnel(events.lazy(), spec, by, attribution, users)


def funnel_from_path(path: str | Path, spec: FunnelSpec, by: str | None = None, attribution: str = "first_touch",
                     users: bool = False) -> dict[str, Any]:
    """`funnel` over an events file or folder (see read_events), reading Parquet lazily: only the columns the funnel
    needs, in polars' streaming engine, so files larger than memory work."""
    return _funnel(scan_events(path), spec, by, attribution, users)


def _funnel(events: pl.LazyFrame, spec: FunnelSpec, by: str | None, attribution: str, users: bool) -> dict[str, Any]:
    breakdown_step, touch = _breakdown(events.collect_schema().names(), spec, by, attribution)
    prepared = _prepare(events, spec, by)  # one pass serves the overall funnel and the breakdown
    result: dict[str, Any] = {"steps": step_table(_person_frame(prepared, spec, None, 0, users), spec, users)}
    if by is not None:
        persons = _person_frame(prepared, spec, breakdown_step, touch, users)
        order = (persons.group_by("breakdown").agg(pl.len().alias("n"))
                 .sort(["n", "breakdown"], descending=[True, False])["breakdown"].to_list())
        result["breakdown"] = {value: {"steps": step_table(persons.filter(pl.col("breakdown") == value), spec, users)}
                               for value in order}
    return result


def scan_events(path: str | Path) -> pl.LazyFrame:
    """The events table of read_events as a lazy scan when it is all Parquet with date-time timestamps (so a query
    reads only what it needs); otherwise read_events' frame."""
    source = Path(path)
    files = sorted(p for p in source.iterdir() if p.suffix.lower() in (".csv", ".parquet")) if source.is_dir() else [
        source]
    if not files or not all(f.is_file() and f.suffix.lower() == ".parquet" for f in files):
        return read_events(path).lazy()
    try:
        frame = pl.concat([pl.scan_parquet(f) for f in files], how="diagonal_relaxed")
        schema = frame.collect_schema()
    except (pl.exceptions.PolarsError, OSError):
        return read_events(path).lazy()  # read_events names the file that cannot be read
    missing = [c for c in REQUIRED if c not in schema]
    ts = schema.get("timestamp")
    if missing or not (isinstance(ts, pl.Datetime) or ts == pl.Date):
        return read_events(path).lazy()  # read_events names what is missing or parses text timestamps
    frame = conform("events", frame).with_columns(pl.col("user_id").cast(pl.String), pl.col("event").cast(pl.String))
    return frame.filter(pl.col("user_id").is_not_null() & pl.col("timestamp").is_not_null()
                        & pl.col("event").is_not_null())


def _periods(start: date, end: date, interval: Interval) -> list[date]:
    first = pl.select(bucket(pl.lit(start), interval)).item()
    return pl.date_range(first, end, {"day": "1d", "week": "1w", "month": "1mo"}[interval], eager=True).to_list()


def trends(events: pl.DataFrame, spec: FunnelSpec, interval: Interval, start: date,
           end: date) -> list[dict[str, object]]:
    """Per period of the step-0 event from `start` to `end`: persons entered and persons converted."""
    return _trends(events.lazy(), spec, interval, start, end)


def _trends(events: pl.LazyFrame, spec: FunnelSpec, interval: Interval, start: date,
            end: date) -> list[dict[str, object]]:
    if interval not in INTERVALS:
        raise EventFunnelError(f"unknown trends interval '{interval}'; use one of {', '.join(INTERVALS)}")
    if end < start:
        raise EventFunnelError(f"--to {end} is before --from {start}")
    frame = events.filter(pl.col("timestamp").is_between(datetime.combine(start, datetime.min.time()),
                                                         datetime.combine(end + timedelta(days=1), datetime.min.time()),
                                                         closed="left"))
    p = _prepare(frame, spec, None, interval)
    periods = _periods(start, end, interval)
    first = (periods[0] - _EPOCH).days
    entered, converted = _trend_counts(p.offsets, p.ts, p.kind, p.koff, p.kcodes, p.periods, len(spec.steps),
                                       float(spec.window_s), _ORDER_CODE[spec.order], first,
                                       (periods[-1] - _EPOCH).days - first + 1)
    return [{"period": d.isoformat(), "entered": int(entered[(d - _EPOCH).days - first]),
             "converted": int(converted[(d - _EPOCH).days - first])} for d in periods]


def warm_up() -> None:
    """Compile the kernels into numba's cache: a tiny funnel of each order, with a breakdown, step attribution and
    trends. On a new install the first funnel otherwise waits for the compiler (about half a minute on 2 cores)."""
    day = datetime(2025, 1, 1)
    tiny = pl.DataFrame({"user_id": ["a", "a", "b"], "timestamp": [day, day + timedelta(minutes=1), day],
                         "event": ["x", "y", "x"], "p": ["v", "w", None]})
    for order in ORDERS:
        spec = FunnelSpec(("x", "y"), order, 3600, (Exclusion("z", 0, 1),))
        funnel(tiny, spec, "p", "first_touch" if order == "unordered" else "step:1")
        trends(tiny, spec, "day", day.date(), day.date())


# --- command line: python -m kpi events funnel ------------------------------------------------------------------


def _csv_rows(result: dict[str, Any], users: bool) -> pl.DataFrame:
    rows: list[dict[str, Any]] = []
    blocks: list[tuple[str | None, list[dict[str, Any]]]] = [(None, result["steps"])]
    breakdown = result.get("breakdown")
    if isinstance(breakdown, dict):
        blocks += [(value, body["steps"]) for value, body in breakdown.items()]
    for value, steps in blocks:
        for index, step in enumerate(steps):
            row = {"breakdown": value, "step": index, **step}
            if users:
                row["users"] = ";".join(step["users"])
            rows.append(row)
    schema = {"breakdown": pl.String, "step": pl.Int64, "name": pl.String, "count": pl.Int64,
              "avg_conversion_time_s": pl.Float64, "median_conversion_time_s": pl.Float64}
    if users:
        schema["users"] = pl.String
    frame = pl.DataFrame(rows, schema=schema)
    return frame if isinstance(breakdown, dict) else frame.drop("breakdown")


def run_funnel(args: argparse.Namespace) -> int:
    from kpi.cli import UsageError

    try:
        spec = FunnelSpec(tuple(args.step), args.order, parse_window(args.window),
                          tuple(parse_exclusion(e) for e in args.exclude or ()))
        if args.by_attribution is not None and args.by is None:
            raise EventFunnelError("--by-attribution needs --by PROPERTY")
        attribution = args.by_attribution or "first_touch"
        if args.by is not None:
            parse_attribution(attribution, len(spec.steps), spec.order)
        if args.trends and (args.date_from is None or args.date_to is None):
            raise EventFunnelError("--trends needs its range: --from YYYY-MM-DD --to YYYY-MM-DD")
        if (args.date_from or args.date_to) and not args.trends:
            raise EventFunnelError("--from/--to go with --trends day|week|month")
        events = scan_events(args.events)  # Parquet stays lazy: the funnel reads only the columns it needs
        columns = events.collect_schema().names()
        if args.by is not None and args.by not in columns:
            raise EventFunnelError(f"--by '{args.by}' is not a column of {args.events}; properties there: "
                                   f"{', '.join(c for c in columns if c not in REQUIRED) or 'none'}")
        result = _funnel(events, spec, args.by, attribution, args.users)
        if args.trends:
            result["trends"] = _trends(events, spec, args.trends, args.date_from, args.date_to)
    except EventFunnelError as exc:
        raise UsageError(str(exc)) from None
    if args.format == "json":
        sys.stdout.write(json.dumps(result, ensure_ascii=False, indent=1) + "\n")
        return 0
    frames = [_csv_rows(result, args.users)]
    if args.trends:
        frames.append(pl.DataFrame(result["trends"], schema={"period": pl.String, "entered": pl.Int64,
                                                             "converted": pl.Int64}))
    for frame in frames:
        if args.format == "csv":
            sys.stdout.write(frame.write_csv(float_precision=None))
        else:
            with pl.Config(tbl_rows=-1, tbl_cols=-1, tbl_width_chars=250, fmt_str_lengths=80):
                print(frame)
    return 0


def _iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a date; use YYYY-MM-DD, for example 2025-01-31") from None


def add_command(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    events = sub.add_parser("events")
    events_sub = events.add_subparsers(dest="events_command", required=True)
    cmd = events_sub.add_parser(
        "funnel", help="event funnel with PostHog's semantics: persons per step, conversion times, breakdown, trends",
        epilog="Steps are numbered from 0. Rules: see kpi/events.py. CSV with --trends prints the steps, then the "
               "trends.")
    cmd.add_argument("--events", required=True, metavar="PATH",
                     help="CSV or Parquet file, or a folder of them, with user_id, timestamp, event and properties")
    cmd.add_argument("--step", action="append", required=True, metavar="NAME", help="event name of the next step")
    cmd.add_argument("--order", default="ordered", choices=ORDERS,
                     help="ordered: others may happen between steps; strict: nothing between; unordered: any order")
    cmd.add_argument("--window", default="14d", help="conversion window from step 0: 7d, 36h, 90m, 2w (default 14d)")
    cmd.add_argument("--exclude", action="append", metavar="EVENT:FROM:TO",
                     help="drop persons doing EVENT between steps FROM and TO (0-based, repeatable)")
    cmd.add_argument("--by", metavar="PROPERTY", help="break down by this event property")
    cmd.add_argument("--by-attribution", metavar="first_touch|last_touch|step:N",
                     help="which event's value a person gets (default first_touch)")
    cmd.add_argument("--trends", choices=INTERVALS, help="persons entered and converted per period of step 0")
    cmd.add_argument("--from", dest="date_from", type=_iso_date, help="first day of the trends, inclusive")
    cmd.add_argument("--to", dest="date_to", type=_iso_date, help="last day of the trends, inclusive")
    cmd.add_argument("--users", action="store_true", help="list the user ids at each step")
    cmd.add_argument("--format", choices=("json", "csv", "table"), default="table")
    cmd.set_defaults(run=run_funnel)


if __name__ == "__main__":  # python -m kpi.events: the app runs this once a server, in a process of its own
    warm_up()
