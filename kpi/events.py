"""Event funnels over the `events` table (user_id, timestamp, event, any properties), with PostHog's semantics.

The per-person rules follow PostHog's funnel UDF (funnel-udf/src/steps.rs and unordered_steps.rs in
PostHog/posthog) and its query runner (posthog/hogql_queries/insights/funnels/funnel_udf.py). Steps are numbered
from 0, as PostHog numbers them (exclusion ranges and `step:N` attribution use the same numbers).

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
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any, Literal, get_args

import numpy as np
import polars as pl

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


# --- per-person state machines (PostHog funnel-udf) -------------------------------------------------------------


@dataclass
class _Entered:
    ts: float | None = None
    excluded: bool = False
    timings: list[float] = field(default_factory=list)
    ids: list[int] = field(default_factory=list)

    def copy(self) -> _Entered:
        return _Entered(self.ts, self.excluded, list(self.timings), list(self.ids))


@dataclass
class PersonResult:
    """How far one person got: `reached` is the furthest 0-based step (-1: not counted), `times` the seconds
    between consecutive steps of the counted attempt, `ids` the rows that filled its steps."""

    reached: int
    times: list[float]


@dataclass(slots=True)
class _Attempts:
    """steps.rs's state while reading one person's events in time order: `entered[k]` is the attempt that
    has made step k so far (`entered[0]` starts at the event being read), `best` the furthest attempt seen
    (its 1-based step and state). `steps[i]` holds 1-based step numbers the event matches, negative for
    exclusions."""

    ts: Sequence[float]
    values: Sequence[str]
    n: int
    window: float
    strict: bool
    breakdown_step: int | None
    value: str | None
    may_start: Sequence[bool] | None
    entered: list[_Entered]
    best: tuple[int, _Entered] = field(default_factory=lambda: (0, _Entered()))

    def process(self, i: int, event_steps: tuple[int, ...], multiple: bool) -> None:
        """Event `i` takes each step it matches (last step first) for the attempt that made the step before
        it within the window; `multiple` when it is one of several events in the same second taken one step
        at a time (an event then fills one step of an attempt at most, and strictness does not apply)."""
        t = self.ts[i]
        entered = self.entered
        for raw in reversed(event_steps):
            exclusion = raw < 0
            step = -raw if exclusion else raw
            if step == 1 and self.may_start is not None and not self.may_start[i]:
                continue
            prev = entered[step - 1]
            if prev.ts is None or t - prev.ts > self.window:
                continue
            if entered[step].ts is not None and entered[step].ts == prev.ts:
                continue  # this attempt already made the step with an earlier event
            if exclusion:
                self._exclude(prev, step, t)
                continue
            if self.breakdown_step is not None and step - 1 == self.breakdown_step and self.values[i] != self.value:
                continue
            if multiple and i in prev.ids:
                continue
            new = _Entered(prev.ts, prev.excluded, [*prev.timings, t], [*prev.ids, i])
            if not prev.excluded:
                entered[step] = new
            if step > self.best[0] or (step == self.best[0] and self.best[1].excluded):
                self.best = (step, new.copy())
        if self.strict and not multiple:
            self._break_others(event_steps)

    def _exclude(self, prev: _Entered, step: int, t: float) -> None:
        """An exclusion event between step-1 and `step` (at time `t`) rules out the attempt that made the step
        before it, and the best attempt too when that is the same one still within the window."""
        if prev.excluded:
            return
        prev.excluded = True
        best_step, best = self.best
        if best_step == step - 1 and best.ts is not None and t - best.ts <= self.window:
            best.excluded = True

    def _break_others(self, event_steps: tuple[int, ...]) -> None:
        """Strict order: an event breaks every attempt whose next step it does not match."""
        for k in range(1, self.n + 1):
            if k not in event_steps:
                self.entered[k] = _Entered()


def _ordered(ts: Sequence[float], steps: Sequence[tuple[int, ...]], values: Sequence[str], n: int, window: float,
             strict: bool, breakdown_step: int | None = None, value: str | None = None,
             may_start: Sequence[bool] | None = None) -> PersonResult:
    """steps.rs: `steps[i]` holds 1-based step numbers the event matches, negative for exclusions."""
    state = _Attempts(ts, values, n, window, strict, breakdown_step, value, may_start,
                      [_Entered() for _ in range(n + 1)])
    i, total = 0, len(ts)
    while i < total:
        j = i + 1
        while j < total and ts[j] == ts[i]:
            j += 1
        state.entered[0] = _Entered(ts[i])
        if j - i == 1 or all(steps[k] == steps[i] for k in range(i + 1, j)):
            for k in range(i, j):
                state.process(k, steps[k], False)
        else:  # same second, different steps: each step in step order, no strictness or exclusions among them
            for step, row in sorted((s, r) for r in range(i, j) for s in steps[r] if s > 0):
                state.process(row, (step,), True)
        if state.entered[n].ts is not None:
            break
        i = j
    reached, best = state.best
    if best.excluded or reached == 0:
        return PersonResult(-1, [])
    return PersonResult(reached - 1, [b - a for a, b in pairwise(best.timings)])


def _unordered(ts: Sequence[float], steps: Sequence[tuple[int, ...]], values: Sequence[str], n: int, window: float,
               breakdown_step: int | None = None, value: str | None = None,
               may_start: Sequence[bool] | None = None) -> PersonResult:
    """unordered_steps.rs: one deque of events per step; the attempt is the oldest event of each deque."""
    queues: list[deque[float]] = [deque() for _ in range(n)]
    completed = 0
    best: tuple[int, list[float]] = (0, [])

    def update() -> None:
        nonlocal best
        if completed > best[0]:
            best = (completed, sorted(q[0] for q in queues if q))

    for i, t in enumerate(ts):
        while True:  # drop the oldest events out of the newest one's window, noting how far they got
            fronts = [(q[0], k) for k, q in enumerate(queues) if q]
            if not fronts:
                break
            oldest, k = min(fronts)
            if completed < n and oldest + window >= t:
                break
            update()
            queues[k].popleft()
            if not queues[k]:
                completed -= 1
        if all(s < 0 for s in steps[i]):  # an exclusion wipes the progress so far
            queues = [deque() for _ in range(n)]
            completed = 0
        else:
            positive = [s for s in steps[i] if s > 0]
            step = min(positive, key=lambda s: queues[s - 1][-1] if queues[s - 1] else float("-inf"))
            skip = ((breakdown_step is not None and completed == breakdown_step and values[i] != value)
                    or (completed == 0 and may_start is not None and not may_start[i]))
            if not skip:
                if not queues[step - 1]:
                    completed += 1
                queues[step - 1].append(t)
        if best[0] == n:
            break
        if i == len(ts) - 1:
            update()
    reached, times = best
    if reached == 0:
        return PersonResult(-1, [])
    return PersonResult(reached - 1, [b - a for a, b in pairwise(times)])


# --- preparing the events ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Prepared:
    users: list[str]
    offsets: np.ndarray  # person p's events are rows offsets[p]:offsets[p + 1]
    ts: list[float]
    steps: list[tuple[int, ...]]
    values: list[str]
    when: list[datetime]


def _step_codes(spec: FunnelSpec) -> pl.Expr:
    """Per event, the 1-based steps it matches and minus the 1-based step of each exclusion window it falls in."""
    n = len(spec.steps)
    parts = [pl.when(spec.matches(k)).then(pl.lit([k + 1], pl.List(pl.Int8))).otherwise(pl.lit([], pl.List(
        pl.Int8))) for k in range(n)]
    ex_steps: dict[int, set[str]] = {}
    for ex in spec.exclusions:
        for k in range(ex.from_step + 1, ex.to_step + 1):
            ex_steps.setdefault(k, set()).add(ex.event)
    for k in range(1, n):
        if k in ex_steps:
            parts.append(pl.when(pl.col("event").is_in(sorted(ex_steps[k]))).then(pl.lit([-(k + 1)], pl.List(
                pl.Int8))).otherwise(pl.lit([], pl.List(pl.Int8))))
    return pl.concat_list(parts).alias("_steps")


def _prepare(events: pl.DataFrame, spec: FunnelSpec, by: str | None, prune: bool = True) -> _Prepared:
    frame = events.lazy().with_row_index("_row").with_columns(_step_codes(spec))
    if spec.order != "strict":  # strict funnels need every event: any other event breaks the attempt
        frame = frame.filter(pl.col("_steps").list.len() > 0)
    value = (pl.col(by).cast(pl.String).fill_null(NO_VALUE) if by else pl.lit(NO_VALUE)).alias("_value")
    frame = frame.select("user_id", "timestamp", "_steps", value, "_row").sort("user_id", "timestamp", "_row")
    # PostHog's event_array_filter: an event matching at most one step, with the same steps and value as both
    # neighbours and strictly between their times, cannot change the result; dropping it saves time.
    same = [(pl.col(c) == pl.col(c).shift(d).over("user_id")).fill_null(False) for c in ("_steps", "_value")
            for d in (1, -1)]
    between = ((pl.col("timestamp") > pl.col("timestamp").shift(1).over("user_id"))
               & (pl.col("timestamp") < pl.col("timestamp").shift(-1).over("user_id"))).fill_null(False)
    redundant = (pl.col("_steps").list.len() <= 1) & pl.all_horizontal(same) & between
    df = (frame.filter(~redundant) if prune else frame).collect()
    users = df["user_id"]
    starts = np.flatnonzero(np.r_[True, users[1:].to_numpy() != users[:-1].to_numpy()]) if df.height else np.array(
        [], dtype=np.int64)
    offsets = np.r_[starts, df.height].astype(np.int64)
    seconds = (df["timestamp"].dt.epoch("us").cast(pl.Float64) / 1e6).to_list()
    return _Prepared(users.gather(starts).to_list() if df.height else [], offsets, seconds,
                     [tuple(s) for s in df["_steps"].to_list()], df["_value"].to_list(), df["timestamp"].to_list())


def _touch(p: _Prepared, lo: int, hi: int, last: bool) -> str:
    rows = range(hi - 1, lo - 1, -1) if last else range(lo, hi)
    return next((p.values[r] for r in rows if p.values[r] != NO_VALUE), NO_VALUE)


def _run(p: _Prepared, lo: int, hi: int, spec: FunnelSpec, breakdown_step: int | None = None,
         value: str | None = None, may_start: Sequence[bool] | None = None) -> PersonResult:
    n = len(spec.steps)
    ts, steps, values = p.ts[lo:hi], p.steps[lo:hi], p.values[lo:hi]
    if spec.order == "unordered":
        return _unordered(ts, steps, values, n, spec.window_s, breakdown_step, value, may_start)
    return _ordered(ts, steps, values, n, spec.window_s, spec.order == "strict", breakdown_step, value, may_start)


def person_results(events: pl.DataFrame, spec: FunnelSpec, by: str | None = None,
                   attribution: str = "first_touch") -> pl.DataFrame:
    """One row per counted person (and breakdown value): user_id, breakdown, reached (0-based step), times."""
    if by is not None and by not in events.columns:
        raise EventFunnelError(f"--by '{by}' is not a column of the events; columns: {', '.join(events.columns)}")
    breakdown_step = parse_attribution(attribution, len(spec.steps), spec.order) if by else None
    p = _prepare(events, spec, by)
    rows_user: list[str] = []
    rows_value: list[str] = []
    rows_reached: list[int] = []
    rows_times: list[list[float]] = []
    for person, user in enumerate(p.users):
        lo, hi = int(p.offsets[person]), int(p.offsets[person + 1])
        if by is None or breakdown_step is None:
            label = NO_VALUE if by is None else _touch(p, lo, hi, attribution == "last_touch")
            candidates: list[tuple[str, int | None]] = [(label, None)]
        else:
            found = dict.fromkeys(p.values[r] for r in range(lo, hi) if breakdown_step + 1 in p.steps[r])
            candidates = [(v, breakdown_step) for v in found]
        for label, step in candidates:
            result = _run(p, lo, hi, spec, step, label)
            if result.reached >= 0:
                rows_user.append(user)
                rows_value.append(label)
                rows_reached.append(result.reached)
                rows_times.append(result.times)
    return pl.DataFrame({"user_id": rows_user, "breakdown": rows_value, "reached": rows_reached,
                         "times": rows_times},
                        schema={"user_id": pl.String, "breakdown": pl.String, "reached": pl.Int64,
                                "times": pl.List(pl.Float64)})


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
    overall = person_results(events, spec)
    result: dict[str, Any] = {"steps": step_table(overall, spec, users)}
    if by is not None:
        persons = person_results(events, spec, by, attribution)
        order = (persons.group_by("breakdown").agg(pl.len().alias("n"))
                 .sort(["n", "breakdown"], descending=[True, False])["breakdown"].to_list())
        result["breakdown"] = {value: {"steps": step_table(persons.filter(pl.col("breakdown") == value), spec, users)}
                               for value in order}
    return result


def _periods(start: date, end: date, interval: Interval) -> list[date]:
    first = pl.select(bucket(pl.lit(start), interval)).item()
    return pl.date_range(first, end, {"day": "1d", "week": "1w", "month": "1mo"}[interval], eager=True).to_list()


def trends(events: pl.DataFrame, spec: FunnelSpec, interval: Interval, start: date,
           end: date) -> list[dict[str, object]]:
    """Per period of the step-0 event from `start` to `end`: persons entered and persons converted."""
    if interval not in INTERVALS:
        raise EventFunnelError(f"unknown trends interval '{interval}'; use one of {', '.join(INTERVALS)}")
    if end < start:
        raise EventFunnelError(f"--to {end} is before --from {start}")
    frame = events.filter(pl.col("timestamp").is_between(datetime.combine(start, datetime.min.time()),
                                                         datetime.combine(end + timedelta(days=1), datetime.min.time()),
                                                         closed="left"))
    p = _prepare(frame, spec, None, prune=False)  # a middle step-0 event may be the only one in its period
    period_of = pl.Series(p.when, dtype=pl.Datetime("us")).to_frame("t").select(bucket(pl.col("t"), interval))
    periods = period_of.to_series().to_list() if p.when else []
    entered: dict[date, int] = {}
    converted: dict[date, int] = {}
    last = len(spec.steps) - 1
    for person in range(len(p.users)):
        lo, hi = int(p.offsets[person]), int(p.offsets[person + 1])
        starts = {periods[r] for r in range(lo, hi) if 1 in p.steps[r]}
        for period in starts:
            result = _run(p, lo, hi, spec, may_start=[periods[r] == period for r in range(lo, hi)])
            if result.reached >= 0:
                entered[period] = entered.get(period, 0) + 1
                converted[period] = converted.get(period, 0) + int(result.reached == last)
    return [{"period": d.isoformat(), "entered": entered.get(d, 0), "converted": converted.get(d, 0)}
            for d in _periods(start, end, interval)]


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
        events = read_events(args.events)
        if args.by is not None and args.by not in events.columns:
            raise EventFunnelError(f"--by '{args.by}' is not a column of {args.events}; properties there: "
                                   f"{', '.join(c for c in events.columns if c not in REQUIRED) or 'none'}")
        result = funnel(events, spec, args.by, attribution, args.users)
        if args.trends:
            result["trends"] = trends(events, spec, args.trends, args.date_from, args.date_to)
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
