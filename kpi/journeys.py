"""From the website's events to won deals: the event funnel over a period and a view's filters, and the lead
funnel of the persons it converted.

* Events count in a period when they happen in it: every step of a counted attempt lies within the period's
  days, as PostHog counts a funnel over a date range. A filter on a dimension the events carry (channel,
  campaign, initiative when the events name campaigns) keeps the events with one of its values, as PostHog's
  global property filters do; a filter on one they do not carry (segment, region) cannot be answered from
  events and is named (`EventFilterError`).
* A person is a lead when their `user_id` is the lead's `lead_id` (the form submit identified them, as
  PostHog's `identify` or GA4's `user_id` does). The lead stages after the event funnel count the leads of the
  persons who reached its last step, each stage as the Funnel page counts a cohort: reached it or further.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, Protocol

import polars as pl

from kpi.events import (
    INTERVALS,
    ORDERS,
    EventFunnelError,
    Exclusion,
    FunnelSpec,
    Interval,
    Order,
    Where,
    parse_attribution,
    parse_window,
    person_results,
)
from kpi.funnel import stage_funnel
from kpi.period import Grain, Period
from kpi.settings import Settings

EVENTS = "events"
SAVED_KIND = "event_funnel"  # the store's document kind of a saved funnel
MAX_STEPS = 10


@dataclass(frozen=True)
class EventQuestion:
    """An event funnel as a marketer builds it: steps (event names, each with an optional property filter),
    order, conversion window ("14d"), events excluded anywhere between the first and last step, and the event
    property to break it down by with the attribution rule (first_touch, last_touch, step:N)."""

    steps: tuple[str, ...]
    where: tuple[Where, ...] = ()
    order: Order = "ordered"
    window: str = "14d"
    exclude: tuple[str, ...] = ()
    by: str | None = None
    attribution: str = "first_touch"

    def __post_init__(self) -> None:
        if not self.where:  # no step filters: one empty filter a step, so equal funnels compare equal
            object.__setattr__(self, "where", ((),) * len(self.steps))

    @property
    def spec(self) -> FunnelSpec:
        """The funnel's rules (`kpi.events.FunnelSpec`); EventFunnelError when they cannot be run."""
        last = len(self.steps) - 1
        return FunnelSpec(self.steps, self.order, parse_window(self.window),
                          tuple(Exclusion(e, 0, last) for e in self.exclude), self.where)

    def check(self) -> EventQuestion:
        """Itself, once its rules and breakdown are valid (EventFunnelError naming what is not)."""
        if len(self.steps) > MAX_STEPS:
            raise EventFunnelError(f"a funnel takes at most {MAX_STEPS} steps, not {len(self.steps)}")
        spec = self.spec
        if self.by is not None:
            parse_attribution(self.attribution, len(spec.steps), spec.order)
        return self

    def to_doc(self) -> dict[str, Any]:
        """The funnel as JSON-ready data: what a link and a saved funnel hold."""
        doc: dict[str, Any] = {"steps": [[name, *[part for pair in where for part in pair]]
                                         for name, where in zip(self.steps, self.where, strict=True)],
                               "order": self.order, "window": self.window}
        if self.exclude:
            doc["exclude"] = list(self.exclude)
        if self.by is not None:
            doc |= {"by": self.by, "attribution": self.attribution}
        return doc

    @classmethod
    def from_doc(cls, doc: object) -> EventQuestion:
        """The funnel `to_doc` wrote; EventFunnelError naming the field that is wrong."""
        if not isinstance(doc, dict) or not isinstance(doc.get("steps"), list) or not doc["steps"]:
            raise EventFunnelError("a funnel needs 'steps': a list of [event, property, value, ...]")
        steps, where = [], []
        for k, step in enumerate(doc["steps"]):
            if (not isinstance(step, list) or not step or len(step) % 2 != 1
                    or not all(isinstance(part, str) and part for part in step)):
                raise EventFunnelError(f"step {k}: write [event] or [event, property, value, ...], got {step!r}")
            steps.append(step[0])
            where.append(tuple(zip(step[1::2], step[2::2], strict=True)))
        order = doc.get("order", "ordered")
        if order not in ORDERS:
            raise EventFunnelError(f"order '{order}' is unknown; use one of {', '.join(ORDERS)}")
        exclude, by = doc.get("exclude", []), doc.get("by")
        if not isinstance(exclude, list) or not all(isinstance(e, str) and e for e in exclude):
            raise EventFunnelError("'exclude' must be a list of event names")
        if by is not None and not (isinstance(by, str) and by):
            raise EventFunnelError("'by' must be an event property")
        return cls(tuple(steps), tuple(where), order, str(doc.get("window", "14d")), tuple(exclude), by,
                   str(doc.get("attribution", "first_touch"))).check()

    def encode(self) -> str:
        """The funnel as compact JSON text, for a link's parameter."""
        return json.dumps(self.to_doc(), ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def decode(cls, text: str) -> EventQuestion:
        try:
            doc = json.loads(text)
        except ValueError:
            raise EventFunnelError("the funnel is not readable (not JSON)") from None
        return cls.from_doc(doc)


class FunnelStore(Protocol):
    def put_doc(self, workspace: str, kind: str, key: str, doc: Any) -> None: ...

    def docs(self, workspace: str, kind: str) -> dict[str, Any]: ...


def save_funnel(store: FunnelStore, workspace_id: str, name: str, question: EventQuestion) -> None:
    """Save `question` in the workspace under `name` (replacing a funnel saved under it before)."""
    name = name.strip()
    if not name:
        raise EventFunnelError("give the funnel a name")
    store.put_doc(workspace_id, SAVED_KIND, name, question.check().to_doc())


def saved_funnels(store: FunnelStore, workspace_id: str) -> tuple[dict[str, EventQuestion], dict[str, str]]:
    """The workspace's saved funnels by name, and the problem of each saved one that no longer reads (reported,
    never raised: one damaged funnel must not hide the others)."""
    found: dict[str, EventQuestion] = {}
    problems: dict[str, str] = {}
    for name, doc in store.docs(workspace_id, SAVED_KIND).items():
        try:
            found[name] = EventQuestion.from_doc(doc)
        except EventFunnelError as exc:
            problems[name] = str(exc)
    return found, problems


class NoEvents(EventFunnelError):
    """The workspace holds no web events (or none in the period)."""


class EventFilterError(EventFunnelError):
    """The view filters on dimensions the events do not carry; `dimensions` names them."""

    def __init__(self, dimensions: Sequence[str]) -> None:
        self.dimensions = tuple(dimensions)
        super().__init__(f"the events have no {', '.join(self.dimensions)}: remove that filter to see the event "
                         "funnel (the lead stages can be filtered by it)")


#: Event names a funnel usually starts with, then looks at, then ends with (the demo's, PostHog's, GA4's,
#: Mixpanel's and Amplitude's usual names): a first funnel to start from.
_FIRST = ("page_view", "$pageview", "Page Viewed", "[Amplitude] Page Viewed", "session_start", "pageview")
_MIDDLE = ("pricing_view", "view_item", "begin_checkout", "form_start")
_LAST = ("form_submit", "generate_lead", "sign_up", "Sign Up", "purchase", "$identify")


def default_question(names: Sequence[str]) -> EventQuestion | None:
    """A first funnel over the event names the workspace has: a page view (or the first name), a look at
    pricing or a form when there is one, and a lead or sign-up event (else the second name); None without
    two event names."""
    if len(names) < 2:
        return None
    first = next((n for n in _FIRST if n in names), names[0])
    last = next((n for n in _LAST if n in names and n != first), next(n for n in names if n != first))
    middle = [n for n in _MIDDLE if n in names and n not in (first, last)][:1]
    return EventQuestion((first, *middle, last))


def properties(tables: Mapping[str, pl.DataFrame]) -> list[str]:
    """The events' property columns: what a step can be filtered by and the funnel broken down by."""
    events = tables.get(EVENTS)
    return [c for c in events.columns if c not in ("user_id", "timestamp", "event")] if events is not None else []


def events_in(tables: Mapping[str, pl.DataFrame], period: Period | None,
              filters: Mapping[str, Sequence[str]] | None = None) -> pl.DataFrame:
    """The events within `period`'s days (all when None) that carry one of each filter's values."""
    events = tables.get(EVENTS)
    if events is None or events.is_empty():
        raise NoEvents("this workspace has no web events")
    active = {d: list(v) for d, v in (filters or {}).items() if v}
    missing = [d for d in active if d not in events.columns]
    if missing:
        raise EventFilterError(missing)
    condition = pl.lit(True)
    if period is not None:
        condition &= pl.col("timestamp").is_between(_midnight(period.start), _midnight(period.end + timedelta(1)),
                                                    closed="left")
    for dim, values in active.items():
        condition &= pl.col(dim).cast(pl.String).is_in(values)
    return events.filter(condition)


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time())


def trend_interval(grain: Grain | None) -> Interval:
    """The event-trend interval for a view's grain (quarters and years by month: a funnel window is days)."""
    return grain if grain in INTERVALS else "month"


def persons_by_step(events: pl.DataFrame, spec: FunnelSpec) -> pl.DataFrame:
    """Every person who entered the funnel: user_id, the furthest step reached (its 0-based number and event
    name) and the step they dropped before (null for those who converted), ordered by furthest step, then id."""
    names = dict(enumerate(spec.steps))
    return person_results(events, spec).select(
        "user_id", pl.col("reached").alias("step"),
        pl.col("reached").replace_strict(names, return_dtype=pl.String).alias("step_name"),
        (pl.col("reached") + 1).replace_strict(names, default=None, return_dtype=pl.String).alias("dropped_before"),
    ).sort(["step", "user_id"], descending=[True, False])


def lead_stages(tables: Mapping[str, pl.DataFrame], converted: pl.Series, settings: Settings) -> pl.DataFrame:
    """The lead funnel (`kpi.funnel.stage_funnel`, cohort) of the leads whose lead_id is one of `converted`
    (the persons who reached the event funnel's last step), whenever they were created; empty when none is."""
    leads = tables.get("leads")
    if leads is None:
        return stage_funnel({}, settings=settings).clear()
    mine = leads.filter(pl.col("lead_id").cast(pl.String).is_in(converted.cast(pl.String).implode()))
    return stage_funnel({"leads": mine}, settings=settings)


def step_labels(question: EventQuestion) -> list[str]:
    """Each step as a reader names it, numbered from 1 (a funnel may repeat an event): "2. page_view (page =
    /pricing)"."""
    where = question.spec.where
    return [f"{k + 1}. {name}" + (" (" + ", ".join(f"{p} = {v}" for p, v in where[k]) + ")" if where[k] else "")
            for k, name in enumerate(question.steps)]


_STEP_SCHEMA = {"position": pl.Int64, "label": pl.String, "count": pl.Int64, "median_s": pl.Float64,
                "mean_s": pl.Float64}


def _steps(steps: Sequence[Mapping[str, Any]], labels: Sequence[str]) -> pl.DataFrame:
    return pl.DataFrame([{"position": k, "label": label, "count": s["count"], "median_s": s["median_conversion_time_s"],
                          "mean_s": s["avg_conversion_time_s"]} for k, (s, label) in enumerate(zip(steps, labels,
                                                                                                     strict=True))],
                        schema=_STEP_SCHEMA)


def _with_rates(frame: pl.DataFrame, over: str | None = None) -> pl.DataFrame:
    window = [over] if over else None
    before = pl.col("count").shift(1).over(window) if window else pl.col("count").shift(1)
    first = pl.col("count").first().over(window) if window else pl.col("count").first()
    return frame.with_columns(
        pl.when(before > 0).then(pl.col("count") / before).alias("step_conversion"),
        pl.when(first > 0).then(pl.col("count") / first).alias("overall_conversion"),
        (before - pl.col("count")).alias("drop_off"),
    )


def step_frame(steps: Sequence[Mapping[str, Any]], labels: Sequence[str],
               previous: Sequence[Mapping[str, Any]] | None = None) -> pl.DataFrame:
    """The event funnel's steps (`kpi.events.step_table`) as a table: position, label, count, step_conversion
    (from the step before), overall_conversion (from step 0), drop_off (persons of the step before who did not
    reach it), median_s and mean_s (seconds from the step before); with `previous` (the compared period's
    steps) count_prev and step_conversion_prev beside them."""
    frame = _with_rates(_steps(steps, labels))
    if previous is None:
        return frame
    before = _with_rates(_steps(previous, labels)).select(
        "position", pl.col("count").alias("count_prev"), pl.col("step_conversion").alias("step_conversion_prev"))
    return frame.join(before, on="position", how="left")


def breakdown_frame(breakdown: Mapping[str, Mapping[str, Any]], labels: Sequence[str], by: str) -> pl.DataFrame:
    """The breakdown's steps per value of `by` (the most persons first, as `kpi.events.funnel` orders them):
    `by`, position, stage, label, count, step_conversion, overall_conversion, drop_off."""
    frames = [_steps(body["steps"], labels).with_columns(pl.lit(value, pl.String).alias(by))
              for value, body in breakdown.items()]
    if not frames:
        return pl.DataFrame(schema={by: pl.String, **_STEP_SCHEMA})
    return _with_rates(pl.concat(frames), by).with_columns(pl.format("step_{}", "position").alias("stage")).select(
        by, "position", "stage", "label", "count", "step_conversion", "overall_conversion", "drop_off")


def journey(steps: pl.DataFrame, leads: pl.DataFrame) -> pl.DataFrame:
    """The event funnel's steps (`step_frame`) followed by the lead stages of its converters (`lead_stages`), as
    one funnel from the first event to the won deal: position, stage, label, count, step_conversion (from the row
    above: the lead row is the share of converters found as leads), overall_conversion (from step 0),
    days_from_previous (the events' median time in days; the lead stages' median days), cost_per_stage (null:
    events carry no cost)."""
    events = steps.select(pl.format("step_{}", "position").alias("stage"), "label", "count",
                          (pl.col("median_s") / 86_400).alias("days_from_previous"))
    stages = leads.select("stage", "label", pl.col("count").cast(pl.Int64), "days_from_previous")
    rows = pl.concat([events, stages]).with_row_index("position").with_columns(pl.col("position").cast(pl.Int64))
    return _with_rates(rows).drop("drop_off").with_columns(pl.lit(None, pl.Float64).alias("cost_per_stage"))
