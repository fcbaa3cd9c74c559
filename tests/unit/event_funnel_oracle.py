"""The event-funnel oracle: kpi.events' first implementation, one Python state machine per person.

It follows PostHog's funnel UDF (steps.rs, unordered_steps.rs) line by line and is slow; the property tests compare
the numba engine in kpi/events.py against it on many small random journeys. It prepares the events the simplest way
(sort by user, time and file order; drop events matching no step or exclusion except in strict funnels).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from itertools import pairwise
from typing import Any

import polars as pl

from kpi.events import NO_VALUE, FunnelSpec, Interval, parse_attribution, step_table
from kpi.period import bucket


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


def _codes(spec: FunnelSpec, row: dict[str, Any]) -> tuple[int, ...]:
    """The 1-based steps the event `row` matches (by name and step filter), then minus the 1-based step of each
    exclusion window it falls in."""
    n, event = len(spec.steps), row["event"]
    out = [k + 1 for k, name in enumerate(spec.steps) if name == event
           and all(row[prop] is not None and str(row[prop]) == value for prop, value in
                   (spec.where[k] if spec.where else ()))]
    out += [-(k + 1) for k in range(1, n)
            if any(ex.event == event and ex.from_step < k <= ex.to_step for ex in spec.exclusions)]
    return tuple(out)


def _journeys(events: pl.DataFrame, spec: FunnelSpec, by: str | None) -> dict[str, list[tuple[Any, ...]]]:
    """Per user (in user order): (seconds, step codes, breakdown value, timestamp) in time and file order."""
    rows = events.with_row_index("_row").sort("user_id", "timestamp", "_row")
    out: dict[str, list[tuple[Any, ...]]] = {}
    for row in rows.iter_rows(named=True):
        codes = _codes(spec, row)
        if not codes and spec.order != "strict":
            continue
        value = NO_VALUE if by is None or row[by] is None else str(row[by])
        seconds = (row["timestamp"] - datetime(1970, 1, 1)) / timedelta(microseconds=1) / 1e6
        out.setdefault(row["user_id"], []).append((seconds, codes, value, row["timestamp"]))
    return out


def _run(journey: list[tuple[Any, ...]], spec: FunnelSpec, breakdown_step: int | None = None,
         value: str | None = None, may_start: Sequence[bool] | None = None) -> PersonResult:
    ts = [r[0] for r in journey]
    steps = [r[1] for r in journey]
    values = [r[2] for r in journey]
    n = len(spec.steps)
    if spec.order == "unordered":
        return _unordered(ts, steps, values, n, spec.window_s, breakdown_step, value, may_start)
    return _ordered(ts, steps, values, n, spec.window_s, spec.order == "strict", breakdown_step, value, may_start)


def person_results(events: pl.DataFrame, spec: FunnelSpec, by: str | None = None,
                   attribution: str = "first_touch") -> pl.DataFrame:
    """kpi.events.person_results, the slow way."""
    breakdown_step = parse_attribution(attribution, len(spec.steps), spec.order) if by else None
    rows: list[dict[str, Any]] = []
    for user, journey in _journeys(events, spec, by).items():
        values = [r[2] for r in journey]
        if by is None or breakdown_step is None:
            touch = [v for v in (values[::-1] if attribution == "last_touch" else values) if v != NO_VALUE]
            candidates: list[tuple[str, int | None]] = [(NO_VALUE if by is None or not touch else touch[0], None)]
        else:
            found = dict.fromkeys(r[2] for r in journey if breakdown_step + 1 in r[1])
            candidates = [(v, breakdown_step) for v in found]
        for label, step in candidates:
            result = _run(journey, spec, step, label)
            if result.reached >= 0:
                rows.append({"user_id": user, "breakdown": label, "reached": result.reached, "times": result.times})
    return pl.DataFrame(rows, schema={"user_id": pl.String, "breakdown": pl.String, "reached": pl.Int64,
                                      "times": pl.List(pl.Float64)})


def funnel(events: pl.DataFrame, spec: FunnelSpec, by: str | None = None, attribution: str = "first_touch",
           users: bool = False) -> dict[str, Any]:
    """kpi.events.funnel, the slow way."""
    result: dict[str, Any] = {"steps": step_table(person_results(events, spec), spec, users)}
    if by is not None:
        persons = person_results(events, spec, by, attribution)
        order = (persons.group_by("breakdown").agg(pl.len().alias("n"))
                 .sort(["n", "breakdown"], descending=[True, False])["breakdown"].to_list())
        result["breakdown"] = {value: {"steps": step_table(persons.filter(pl.col("breakdown") == value), spec, users)}
                               for value in order}
    return result


def trends(events: pl.DataFrame, spec: FunnelSpec, interval: Interval, start: date, end: date) -> dict[str, Any]:
    """Per period (ISO date) with a step-0 event: persons entered and converted (periods without any left out)."""
    frame = events.filter(pl.col("timestamp").is_between(datetime.combine(start, datetime.min.time()),
                                                         datetime.combine(end + timedelta(days=1), datetime.min.time()),
                                                         closed="left"))
    entered: dict[str, int] = {}
    converted: dict[str, int] = {}
    for journey in _journeys(frame, spec, None).values():
        periods = pl.Series([r[3] for r in journey], dtype=pl.Datetime("us")).to_frame("t").select(
            bucket(pl.col("t"), interval)).to_series().to_list()
        for period in {periods[r] for r in range(len(journey)) if 1 in journey[r][1]}:
            result = _run(journey, spec, may_start=[p == period for p in periods])
            if result.reached >= 0:
                entered[period.isoformat()] = entered.get(period.isoformat(), 0) + 1
                converted[period.isoformat()] = converted.get(period.isoformat(), 0) + int(
                    result.reached == len(spec.steps) - 1)
    return {"entered": entered, "converted": converted}
