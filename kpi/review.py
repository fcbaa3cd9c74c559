"""Stop, start, continue, do more, do less: conclusions per initiative or channel, and the review's notes.

`conclusions` judges every subject (one value of the review's dimension: an initiative, a channel)
of a period against its peers and against itself in the previous period of equal length, by
explicit rules whose thresholds live in `Rules`. The numbers come from `kpi.metrics.compute`
(`review_inputs` asks for them; `review` does both steps). MQL is the workspace's marketing-qualified
stage (`Settings.qualified`) and "won" its last stage. A funnel without a qualified stage (leads → won)
has no MQL rate to judge: the rules on MQL (`MQL_RULES`) are skipped and its MQL numbers stay null.

Peers are the other subjects of the same period, and a peer statistic is a statistic of their
values (the median of the subjects' CPLs, say), with linear interpolation between subjects:

* median CPL: over subjects with spend and leads;
* median MQL rate (leads → MQL): over subjects with leads;
* best-quantile and median cost per won deal (CAC): over subjects with spend and won deals;
* best-quantile lead-to-won rate (leads → won, the catalog's ``lead_to_won``; not the catalog's
  win rate, which is won / (won + lost)): over subjects with leads.

Rules, in priority order (the first that holds decides; `RULES` lists them):

1. ``stop_no_mql`` (stop): spend is meaningful (at least `stop_spend_share` of all spend in the
   period) and not one lead became an MQL.
2. ``stop_expensive`` (stop): CPL at least `stop_cpl_multiple` × the median CPL and an MQL rate under
   `weak_mql_rate` × the median MQL rate.
3. ``more_best_cac`` (do more): won deals at a cost per won in the best quantile of peers
   (at or below their `best_quantile` quantile) and budget headroom (spend under the budget). With no
   budget known for the subject the rule still holds and `budget` stays null: headroom is unchecked,
   never invented.
4. ``less_expensive`` (do less): CPL at least `less_cpl_multiple` × the median CPL and an MQL rate
   lower than in the previous period.
5. ``start_won_before`` (start): no spend this period, but in the previous period (else the same
   period a year earlier) the subject spent, won deals, and its cost per won was at most
   `start_cac_multiple` × that period's median cost per won.
6. ``continue_at_budget`` (continue): cost per won in the best quantile, but spend has reached the budget.
7. ``less_rates``, ``more_rates``, ``continue_rates``: subjects without spend this period (email,
   organic, or no spend data at all) are judged on rates only: do less when the MQL rate is under
   `weak_mql_rate` × the median and falling, do more when the lead-to-won rate is in the best quantile
   of peers.
8. ``continue``: the rest.

Stop rules come first: spend with nothing (or next to nothing) to show outranks everything else. A
cost per won in the best quantile outranks an expensive, falling lead flow, because won deals are
the outcome that CPL and MQL rate only predict. Subjects without leads or spend this period are left
out unless they are worth starting again. Rows without a value of the dimension count in the total
spend but are not judged: nobody can act on "no initiative".

A review's notes ({subject, verdict, decision, owner, date, note}) are kept as one JSON document per
review in the workspace store, under kind `DOC_KIND` and the key `review_key(dimension, period)`. A
review belongs to a calendar term (`review_term`: the month, quarter or year the period ends in), not
to the exact days: "this month" reviewed on the 20th and again on the 22nd, after new data arrived,
is the same review with the same decisions.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import date, datetime
from typing import Any, Literal, Protocol, get_args

import polars as pl

from kpi import metrics as kpi_metrics
from kpi.metrics import Frames, View
from kpi.money import currency_gaps, gaps_reason
from kpi.period import Period, compare_period
from kpi.settings import Settings
from kpi.targets import period_label, target_period

Verdict = Literal["stop", "less", "more", "start", "continue"]
VERDICTS: tuple[Verdict, ...] = get_args(Verdict)  # the order conclusions are listed in: changes first
REVIEW_DIMENSIONS = ("initiative", "channel")
DOC_KIND = "review"
DOC_FORMAT = 1
SUBJECT = "subject"
PERIODS = ("current", "previous", "last_year")


class ReviewError(ValueError):
    """A review that cannot be made or read: the message says what is wrong and what to do."""


@dataclass(frozen=True)
class Rules:
    """The thresholds of the rules (see the module docstring for how each is used)."""

    stop_spend_share: float = 0.02  # meaningful spend: at least this share of all spend in the period
    stop_cpl_multiple: float = 3.0  # stop: CPL at least this many times the peers' median CPL ...
    weak_mql_rate: float = 0.5  # ... with an MQL rate under this fraction of the peers' median MQL rate
    less_cpl_multiple: float = 2.0  # do less: CPL at least this many times the median, MQL rate falling
    best_quantile: float = 0.25  # do more: cost per won at or below this quantile of the peers' (best quarter)
    start_cac_multiple: float = 1.0  # start: earlier cost per won at most this many times that period's median

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if not isinstance(value, int | float) or not math.isfinite(value) or value <= 0:
                raise ReviewError(f"rule threshold {f.name} must be a positive number, got {value!r}")
        for name in ("stop_spend_share", "weak_mql_rate", "best_quantile"):
            if getattr(self, name) >= 1:
                raise ReviewError(f"rule threshold {name} is a fraction and must be below 1, got {getattr(self, name)}")


@dataclass(frozen=True)
class Rule:
    id: str
    verdict: Verdict
    description: str


#: Every rule in priority order: the first that holds for a subject decides its verdict.
RULES: tuple[Rule, ...] = (
    Rule("stop_no_mql", "stop", "meaningful spend and no MQL at all"),
    Rule("stop_expensive", "stop", "CPL far above the median and a weak MQL rate"),
    Rule("more_best_cac", "more", "cost per won deal in the best quantile, with budget headroom or no budget known"),
    Rule("less_expensive", "less", "CPL well above the median and a falling MQL rate"),
    Rule("start_won_before", "start", "no spend now, but it won deals at a cost per won at or below the median before"),
    Rule("continue_at_budget", "continue", "cost per won deal in the best quantile, but the budget is spent"),
    Rule("less_rates", "less", "no spend: MQL rate weak and falling"),
    Rule("more_rates", "more", "no spend: lead-to-won rate in the best quantile"),
    Rule("continue_rates", "continue", "no spend: judged on rates, nothing stands out"),
    Rule("continue", "continue", "nothing stands out"),
)
RULE_VERDICT: dict[str, Verdict] = {r.id: r.verdict for r in RULES}
#: The rules that judge the MQL count or rate: skipped in a funnel without a qualified stage.
MQL_RULES = frozenset({"stop_no_mql", "stop_expensive", "less_expensive", "less_rates"})

# Numbers of a period, by the names this module uses: `_metric_ids` maps those but mql_rate to catalog
# metric ids; mql_rate is mql / leads of the same subject and period (the catalog has a lead → MQL rate
# only when the qualified stage directly follows leads).
_NUMBERS = ("spend", "leads", "mql", "won", "cpl", "mql_rate", "cac", "lead_to_won")


def _metric_ids(settings: Settings) -> dict[str, str]:
    """Catalog metric ids by `_NUMBERS` name; without a qualified stage there is no mql."""
    lead, mql, won = settings.stages[0], settings.qualified, settings.stages[-1]
    ids = {"spend": "spend", "leads": lead.count_metric, "won": won.count_metric, "cpl": "cpl", "cac": "cac",
           "lead_to_won": f"{lead.id}_to_{won.id}"}
    return ids | ({"mql": mql.count_metric} if mql is not None else {})


def review_metrics(settings: Settings | None = None) -> list[str]:
    """The catalog metrics `conclusions` needs for each period, by dimension."""
    return list(_metric_ids(settings or Settings()).values())


def review_periods(period: Period) -> dict[str, Period]:
    """The periods a review looks at: the current one, the previous one of equal length, the same a year earlier."""
    previous, last_year = compare_period(period, "previous"), compare_period(period, "last_year")
    assert previous is not None and last_year is not None
    return {"current": period, "previous": previous, "last_year": last_year}


def _columns(tables: Frames, name: str) -> list[str]:
    frame = tables.get(name)
    if frame is None:
        return []
    return frame.collect_schema().names()


def review_dimensions(tables: Frames) -> list[str]:
    """The `REVIEW_DIMENSIONS` a review can be made by: those on leads, and on spend too when there is spend."""
    return [d for d in REVIEW_DIMENSIONS
            if d in _columns(tables, "leads") and ("spend" not in tables or d in _columns(tables, "spend"))]


def check_dimension(tables: Frames, dimension: str) -> None:
    """A review needs the dimension on leads, and on spend too when there is spend; else a ReviewError
    that names only dimensions the review can be made by instead."""
    others = [d for d in review_dimensions(tables) if d != dimension]
    instead = (f"review by {' or '.join(others)} instead" if others else
               f"map {' or '.join(REVIEW_DIMENSIONS)} on import, on leads and spend alike")
    if dimension not in _columns(tables, "leads"):
        raise ReviewError(f"leads have no '{dimension}' column: a review needs leads by {dimension}. "
                          f"Map that column on import, or {instead}.")
    if "spend" in tables and dimension not in _columns(tables, "spend"):
        raise ReviewError(f"spend is not recorded by '{dimension}', so its cost cannot be judged: {instead}.")


class Compute(Protocol):
    """How `review_inputs` asks the engine for numbers: `kpi.metrics.compute`, or a cached call that
    answers the same (the app's, keyed on the workspace the tables and settings come from)."""

    def __call__(self, tables: Frames, metrics: Sequence[str], /, *, by: Sequence[str], period: Period,
                 filters: Mapping[str, Sequence[str]] | None, view: View, settings: Settings) -> pl.DataFrame: ...


def review_inputs(tables: Frames, dimension: str, period: Period, *, settings: Settings | None = None,
                  view: View = "cohort", filters: Mapping[str, Sequence[str]] | None = None,
                  compute: Compute = kpi_metrics.compute) -> dict[str, pl.DataFrame]:
    """`review_metrics` by `dimension` in each of `review_periods(period)`, as `compute` returns them;
    ReviewError (see `check_dimension`) when the review cannot be made by `dimension`."""
    check_dimension(tables, dimension)
    settings = settings or Settings()
    gaps = currency_gaps(tables, settings)
    if gaps:  # spend shares, CPL and CAC would leave out or mix up the money in those currencies
        raise ReviewError(f"a review compares costs: {gaps_reason(gaps, settings)}")
    return {name: compute(tables, review_metrics(settings), by=[dimension], period=p, filters=filters, view=view,
                          settings=settings)
            for name, p in review_periods(period).items()}


def _numbers(frame: pl.DataFrame, dimension: str, settings: Settings, suffix: str) -> pl.DataFrame:
    """One period's numbers per subject; cost ratios only where the subject had spend."""
    ids = _metric_ids(settings)
    has_spend = pl.col("spend").fill_null(0) > 0
    return (frame.filter(pl.col(dimension).is_not_null())
            .select(pl.col(dimension).cast(pl.String).alias(SUBJECT),
                    *[(pl.col(ids[n]).cast(pl.Float64) if n in ids else pl.lit(None, pl.Float64)).alias(n)
                      for n in _NUMBERS])
            .with_columns(pl.when(pl.col("leads") > 0).then(pl.col("mql") / pl.col("leads")).alias("mql_rate"),
                          pl.when(has_spend).then(pl.col("cpl")).alias("cpl"),
                          pl.when(has_spend & (pl.col("won") > 0)).then(pl.col("cac")).alias("cac"))
            .rename({n: n + suffix for n in _NUMBERS}))


def _quantile(values: pl.Expr, keep: pl.Expr, q: float) -> pl.Expr:
    return values.filter(keep & values.is_not_null()).quantile(q, "linear")


def _won_cheaply(suffix: str, rules: Rules) -> pl.Expr:
    """In that period the subject spent, won deals, and its cost per won was at most the threshold."""
    return ((pl.col("spend" + suffix) > 0) & (pl.col("won" + suffix) > 0)
            & (pl.col("cac" + suffix) <= rules.start_cac_multiple * pl.col("median_cac" + suffix)))


def _check_budgets(budgets: Mapping[str, float]) -> dict[str, float]:
    checked = {}
    for subject, budget in budgets.items():
        if not isinstance(budget, int | float) or isinstance(budget, bool) or not math.isfinite(budget) or budget < 0:
            raise ReviewError(f"budget of '{subject}' must be a number of 0 or more, got {budget!r}")
        checked[str(subject)] = float(budget)
    return checked


def conclusions(inputs: Mapping[str, pl.DataFrame], dimension: str, rules: Rules = Rules(),
                budgets: Mapping[str, float] | None = None, settings: Settings | None = None) -> pl.DataFrame:
    """A verdict per subject with the numbers and thresholds behind it, from `review_inputs`' frames.

    Columns: subject, verdict, rule (an id of `RULES`); this period's spend, spend_share (of all
    spend), leads, mql, won, cpl, mql_rate, cac, lead_to_won, and mql_rate_prev (previous period);
    the peers' median_cpl, median_mql_rate, median_cac, best_cac (the `best_quantile` quantile of
    cost per won) and best_lead_to_won; cpl_multiple (CPL / median CPL); the thresholds compared against:
    stop_spend_min, stop_cpl_min, weak_mql_rate_max, less_cpl_min; budget and headroom (null when no
    budget is known); for a start, then (which period), then_spend, then_won, then_cac,
    then_median_cac and start_cac_max. `cpl` and `cac` are null for subjects without spend: their
    cost is not known and they are judged on rates only. Sorted by verdict (as in `VERDICTS`), then
    by spend, largest first. Without a qualified stage in `settings` the MQL columns are null and the
    `MQL_RULES` never hold.
    """
    settings = settings or Settings()
    budget_of = _check_budgets(budgets or {})
    frames = {name: _numbers(inputs[name], dimension, settings, "" if name == "current" else f"_{name}")
              for name in PERIODS}
    total_spend = inputs["current"].select(pl.col(_metric_ids(settings)["spend"]).cast(pl.Float64).sum()).item()
    joined = frames["current"]
    for name in PERIODS[1:]:
        joined = joined.join(frames[name], on=SUBJECT, how="full", coalesce=True)

    has_spend = pl.col("spend").fill_null(0) > 0
    has_leads = pl.col("leads").fill_null(0) > 0
    q = rules.best_quantile
    peers = [
        _quantile(pl.col("cpl"), has_spend & has_leads, 0.5).alias("median_cpl"),
        _quantile(pl.col("mql_rate"), has_leads, 0.5).alias("median_mql_rate"),
        _quantile(pl.col("cac"), pl.lit(True), 0.5).alias("median_cac"),
        _quantile(pl.col("cac"), pl.lit(True), q).alias("best_cac"),
        _quantile(pl.col("lead_to_won"), has_leads, 1 - q).alias("best_lead_to_won"),
        *[_quantile(pl.col(f"cac_{p}"), pl.lit(True), 0.5).alias(f"median_cac_{p}") for p in PERIODS[1:]],
    ]
    out = joined.with_columns(peers).with_columns(
        pl.lit(total_spend, pl.Float64).alias("total_spend"),
        (pl.col("spend") / pl.lit(total_spend if total_spend else None, pl.Float64)).alias("spend_share"),
        (pl.col("cpl") / pl.col("median_cpl")).alias("cpl_multiple"),
        (rules.stop_spend_share * pl.lit(total_spend, pl.Float64)).alias("stop_spend_min"),
        (rules.stop_cpl_multiple * pl.col("median_cpl")).alias("stop_cpl_min"),
        (rules.weak_mql_rate * pl.col("median_mql_rate")).alias("weak_mql_rate_max"),
        (rules.less_cpl_multiple * pl.col("median_cpl")).alias("less_cpl_min"),
        pl.col(SUBJECT).replace_strict(budget_of, default=None, return_dtype=pl.Float64).alias("budget"),
    ).with_columns((pl.col("spend").fill_null(0) < pl.col("budget")).alias("headroom"))

    falling = pl.col("mql_rate") < pl.col("mql_rate_previous")
    weak = pl.col("mql_rate") < pl.col("weak_mql_rate_max")
    best_cac = (pl.col("won") > 0) & (pl.col("cac") <= pl.col("best_cac"))
    start = ~has_spend & (_won_cheaply("_previous", rules) | _won_cheaply("_last_year", rules))
    conditions: dict[str, pl.Expr] = {
        "stop_no_mql": has_spend & (pl.col("spend") >= pl.col("stop_spend_min")) & (pl.col("mql").fill_null(0) == 0),
        "stop_expensive": (pl.col("cpl") >= pl.col("stop_cpl_min")) & weak,
        "more_best_cac": best_cac & pl.col("headroom").fill_null(True),
        "less_expensive": (pl.col("cpl") >= pl.col("less_cpl_min")) & falling,
        "start_won_before": start,
        "continue_at_budget": best_cac,
        "less_rates": ~has_spend & weak & falling,
        "more_rates": ~has_spend & (pl.col("won") > 0) & (pl.col("lead_to_won") >= pl.col("best_lead_to_won")),
        "continue_rates": ~has_spend,
        "continue": pl.lit(True),
    }
    assert list(conditions) == [r.id for r in RULES], "every rule has one condition, in priority order"
    if settings.qualified is None:
        conditions |= dict.fromkeys(MQL_RULES, pl.lit(False))
    rule: pl.Expr = pl.lit(None, pl.String)
    for rule_id, holds in reversed(conditions.items()):
        rule = pl.when(holds).then(pl.lit(rule_id)).otherwise(rule)

    then = pl.when(_won_cheaply("_previous", rules)).then(pl.lit("previous")).when(
        _won_cheaply("_last_year", rules)).then(pl.lit("last_year"))

    def then_value(name: str) -> pl.Expr:
        return (pl.when(pl.col("then") == "previous").then(pl.col(f"{name}_previous"))
                .when(pl.col("then") == "last_year").then(pl.col(f"{name}_last_year")).alias(f"then_{name}"))

    out = (out.filter(has_leads | has_spend | start)
           .with_columns(rule.alias("rule"))
           .with_columns(pl.col("rule").replace_strict(RULE_VERDICT, return_dtype=pl.String).alias("verdict"),
                         pl.when(pl.col("rule") == "start_won_before").then(then).alias("then"))
           .with_columns(then_value("spend"), then_value("won"), then_value("cac"), then_value("median_cac"))
           .with_columns((rules.start_cac_multiple * pl.col("then_median_cac")).alias("start_cac_max"),
                         pl.col("mql_rate_previous").alias("mql_rate_prev")))
    order = {v: i for i, v in enumerate(VERDICTS)}
    return (out.sort([pl.col("verdict").replace_strict(order, return_dtype=pl.Int8), pl.col("spend").fill_null(0),
                      pl.col(SUBJECT)], descending=[False, True, False])
            .select(SUBJECT, "verdict", "rule", "spend", "spend_share", "leads", "mql", "won", "cpl", "mql_rate",
                    "mql_rate_prev", "cac", "lead_to_won", "median_cpl", "median_mql_rate", "median_cac", "best_cac",
                    "best_lead_to_won", "cpl_multiple", "total_spend", "stop_spend_min", "stop_cpl_min",
                    "weak_mql_rate_max", "less_cpl_min", "budget", "headroom", "then", "then_spend", "then_won",
                    "then_cac", "then_median_cac", "start_cac_max")
            .with_columns(pl.col("leads", "mql", "won", "then_won").cast(pl.Int64)))


def review(tables: Frames, dimension: str, period: Period, rules: Rules = Rules(),
           budgets: Mapping[str, float] | None = None, *, settings: Settings | None = None, view: View = "cohort",
           filters: Mapping[str, Sequence[str]] | None = None) -> pl.DataFrame:
    """The conclusions of `period` by `dimension` over prepared canonical tables (see `conclusions`)."""
    settings = settings or Settings()
    inputs = review_inputs(tables, dimension, period, settings=settings, view=view, filters=filters)
    return conclusions(inputs, dimension, rules, budgets, settings)


# --- notes ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Note:
    """What the team decided about one subject in a review."""

    subject: str
    verdict: Verdict
    decision: str
    owner: str
    date: date
    note: str = ""

    def to_dict(self) -> dict[str, str]:
        return {"subject": self.subject, "verdict": self.verdict, "decision": self.decision, "owner": self.owner,
                "date": self.date.isoformat(), "note": self.note}


@dataclass(frozen=True)
class SavedReview:
    """A review as saved: its dimension and period, the notes, and the budgets it was judged with."""

    dimension: str
    period: Period
    notes: tuple[Note, ...]
    budgets: dict[str, float]

    @property
    def key(self) -> str:
        """The store key it is saved under."""
        return f"{self.dimension}:{self.period}"


class NoteError(ReviewError):
    """Notes that cannot be saved or read; `problems` has one message per problem, naming the note and field."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = list(problems)


Term = Literal["month", "quarter", "year"]
#: The calendar term a review on each of the sidebar's period presets belongs to.
PRESET_TERMS: dict[str, Term] = {"this_month": "month", "last_month": "month", "last_30_days": "month",
                                 "this_quarter": "quarter", "last_90_days": "quarter", "year_to_date": "year",
                                 "last_12_months": "year"}


def review_term(period: Period, term: Term | None = None) -> Period:
    """The calendar month, quarter or year that a review of `period` belongs to: the one its last day
    falls in. `term` says which (`PRESET_TERMS` has it for each preset); without it, the shortest as
    long as the period: a month for up to 31 days, a quarter for up to 92, else a year. A period that
    follows the data's last day ("this month", "last 30 days") so keeps its review as data arrives:
    1–20 and 1–22 November both belong to November."""
    term = term or ("month" if period.days <= 31 else "quarter" if period.days <= 92 else "year")
    return target_period(period_label(period.end, term))


def review_key(dimension: str, period: Period, term: Term | None = None) -> str:
    """The store key of the review of `period` by `dimension`: the dimension and its `review_term`,
    'initiative:2026-11-01..2026-11-30'."""
    return f"{dimension}:{review_term(period, term)}"


def parse_review_key(key: str) -> tuple[str, Period]:
    """The dimension and period of a review key; ReviewError when it is not one."""
    dimension, sep, dates = key.partition(":")
    start, sep2, end = dates.partition("..")
    try:
        if not (dimension and sep and sep2):
            raise ValueError("missing part")
        return dimension, Period(date.fromisoformat(start), date.fromisoformat(end))
    except ValueError as exc:
        raise ReviewError(f"'{key}' is not a review key; expected '<dimension>:<YYYY-MM-DD>..<YYYY-MM-DD>'") from exc


def _text(raw: Mapping[str, Any], name: str) -> str:
    value = raw.get(name)
    if value is None:
        return ""
    return value.strip() if isinstance(value, str) else str(value).strip()


def note_from_dict(raw: Mapping[str, Any], row: int = 1) -> Note:
    """A validated note from plain values (the date as ISO text or a date); NoteError names each problem."""
    subject = _text(raw, "subject")
    where = f"note {row}" + (f" ({subject})" if subject else "")
    problems = []
    if not subject:
        problems.append(f"{where}: subject is empty; name the {'/'.join(REVIEW_DIMENSIONS)} the note is about")
    verdict = _text(raw, "verdict")
    if verdict not in VERDICTS:
        problems.append(f"{where}: verdict '{verdict}' is not one of {', '.join(VERDICTS)}")
    decision, owner = _text(raw, "decision"), _text(raw, "owner")
    if not decision:
        problems.append(f"{where}: decision is empty; write what was decided")
    if not owner:
        problems.append(f"{where}: owner is empty; say who owns the decision")
    when = raw.get("date")
    day: date | None = None
    if isinstance(when, datetime):
        day = when.date()
    elif isinstance(when, date):
        day = when
    else:
        try:
            day = date.fromisoformat(_text(raw, "date"))
        except ValueError:
            problems.append(f"{where}: date '{_text(raw, 'date')}' is not a real date; use YYYY-MM-DD")
    if problems:
        raise NoteError(problems)
    assert day is not None
    return Note(subject, verdict, decision, owner, day, _text(raw, "note"))  # type: ignore[arg-type]


def check_notes(notes: Sequence[Mapping[str, Any] | Note]) -> tuple[Note, ...]:
    """Every note validated, at most one per subject; NoteError lists all problems at once."""
    problems: list[str] = []
    checked: list[Note] = []
    seen: set[str] = set()
    for row, raw in enumerate(notes, start=1):
        try:
            note = raw if isinstance(raw, Note) else note_from_dict(raw, row)
        except NoteError as exc:
            problems += exc.problems
            continue
        if note.subject in seen:
            problems.append(f"note {row} ({note.subject}): a second note on the same subject; keep one per subject")
        seen.add(note.subject)
        checked.append(note)
    if problems:
        raise NoteError(problems)
    return tuple(checked)


def notes_to_doc(dimension: str, period: Period, notes: Sequence[Mapping[str, Any] | Note],
                 budgets: Mapping[str, float] | None = None, term: Term | None = None) -> dict[str, Any]:
    """A JSON-able document of the notes of the review of `period` (and the budgets used), to save
    under `review_key(dimension, period, term)`; its start and end are the review's term. Validated
    first: nothing invalid is ever returned for saving."""
    checked = check_notes(notes)
    term_period = review_term(period, term)
    return {"format": DOC_FORMAT, "dimension": dimension, "start": term_period.start.isoformat(),
            "end": term_period.end.isoformat(), "notes": [n.to_dict() for n in checked],
            "budgets": _check_budgets(budgets or {})}


def notes_from_doc(doc: Any, key: str = "") -> SavedReview:
    """A saved review document back as a `SavedReview`, validated; ReviewError names what is wrong."""
    where = f"review {key}" if key else "review document"
    if not isinstance(doc, Mapping):
        raise ReviewError(f"{where}: expected an object with dimension, start, end and notes")
    if doc.get("format") != DOC_FORMAT:
        raise ReviewError(f"{where}: unknown format {doc.get('format')!r}; this version reads format {DOC_FORMAT}")
    dimension = doc.get("dimension")
    if not isinstance(dimension, str) or not dimension:
        raise ReviewError(f"{where}: dimension is missing")
    try:
        period = Period(date.fromisoformat(str(doc.get("start"))), date.fromisoformat(str(doc.get("end"))))
    except ValueError as exc:
        raise ReviewError(f"{where}: start and end must be dates (YYYY-MM-DD): {exc}") from exc
    notes = doc.get("notes")
    if not isinstance(notes, list) or not all(isinstance(n, Mapping) for n in notes):
        raise ReviewError(f"{where}: notes must be a list of objects")
    budgets = doc.get("budgets", {})
    if not isinstance(budgets, Mapping):
        raise ReviewError(f"{where}: budgets must map each subject to an amount")
    try:
        checked = check_notes(notes)
    except NoteError as exc:
        raise NoteError([f"{where}: {p}" for p in exc.problems]) from exc
    return SavedReview(dimension, period, checked, _check_budgets(budgets))


def previous_review(docs: Mapping[str, Any], key: str) -> SavedReview | None:
    """The latest saved review before the one under `key`: the same dimension, and the period that ends
    last before this one starts; of two that end the same day, the one closer in length (a month's
    review follows September, not the third quarter). Documents whose key is not a review key are not
    reviews and are passed over; a review document that does not validate raises ReviewError."""
    dimension, period = parse_review_key(key)
    earlier: list[tuple[date, int, str]] = []
    for other in docs:
        try:
            other_dimension, other_period = parse_review_key(other)
        except ReviewError:
            continue
        if other_dimension == dimension and other_period.end < period.start:
            earlier.append((other_period.end, -abs(other_period.days - period.days), other))
    if not earlier:
        return None
    latest = max(earlier)[2]
    return notes_from_doc(docs[latest], latest)
