"""Workspace settings: funnel stages, channel vocabulary, initiative rules, currency, SLA.

Settings are plain data (JSON-serialisable through `to_dict`/`from_dict`) so a workspace can
store them and a share link can pin them.
"""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass, field
from typing import Any

import polars as pl


@dataclass(frozen=True)
class Stage:
    """One funnel stage: its id (used in metric ids), label and the leads column that dates it.

    `count_id` names the metric that counts leads reaching the stage ('opportunities' for the
    'opportunity' stage); it defaults to the stage id.
    """

    id: str
    label: str
    column: str
    count_id: str = ""

    @property
    def count_metric(self) -> str:
        return self.count_id or self.id


DEFAULT_STAGES: tuple[Stage, ...] = (
    Stage("lead", "Leads", "created_at", "leads"),
    Stage("mql", "MQL", "mql_at"),
    Stage("sql", "Sales-ready (SQL)", "sql_at"),
    Stage("opportunity", "Opportunities", "opportunity_at", "opportunities"),
    Stage("won", "Won deals", "won_at"),
)

#: Canonical channel -> lower-case spellings seen in CRMs, ad platforms and GA4 that mean it.
DEFAULT_CHANNELS: dict[str, tuple[str, ...]] = {
    "Paid Search": ("paid search", "cpc", "ppc", "sem", "google ads", "adwords", "bing ads", "microsoft ads",
                    "paid_search", "платный поиск", "betald sökning"),
    "LinkedIn": ("linkedin", "linkedin ads", "paid social linkedin", "linkedin.com"),
    "Meta": ("meta", "facebook", "facebook ads", "instagram", "meta ads", "fb", "paid social"),
    "Email": ("email", "e-mail", "newsletter", "mail", "e-post", "рассылка"),
    "Events & Webinars": ("events & webinars", "events", "event", "webinar", "webinars", "trade show",
                          "conference", "мероприятия", "evenemang"),
    "Organic & Content": ("organic & content", "organic", "organic search", "seo", "content", "blog",
                          "organic social", "organic_search", "органический поиск"),
    "Referral": ("referral", "partner", "partners"),
    "Direct": ("direct", "(direct)", "typein"),
    "Display": ("display", "programmatic", "banner"),
}

UNASSIGNED_CHANNEL = "Other"


@dataclass(frozen=True)
class InitiativeRule:
    """Campaigns whose name matches `pattern` (case-insensitive regular expression) belong to `initiative`."""

    pattern: str
    initiative: str


@dataclass(frozen=True)
class Settings:
    stages: tuple[Stage, ...] = DEFAULT_STAGES
    channels: dict[str, tuple[str, ...]] = field(default_factory=lambda: dict(DEFAULT_CHANNELS))
    initiative_rules: tuple[InitiativeRule, ...] = ()
    currency: str = "EUR"
    sla_hours: float = 24.0
    #: currency code -> units of `currency` one unit of it is worth (INR -> 0.011 when reporting in EUR)
    rates: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if len(self.stages) < 2 or self.stages[0].column != "created_at":
            raise ValueError("the funnel needs at least two stages and starts with created_at")
        ids = [s.id for s in self.stages]
        if len(set(ids)) != len(ids):
            raise ValueError(f"stage ids must be unique, got {ids}")
        for code, rate in self.rates.items():
            if not code or code != code.strip().upper():  # rows' currencies are compared upper-cased
                raise ValueError(f"rate for '{code}': write the currency as its code in capitals, such as INR or GBP")
            if not (isinstance(rate, int | float) and math.isfinite(rate) and rate > 0):
                raise ValueError(f"rate for {code} must be a positive number ({self.currency} per 1 {code}), "
                                 f"got {rate!r}")
        for rule in self.initiative_rules:
            try:
                re.compile(rule.pattern)
            except re.error as exc:
                raise ValueError(f"initiative rule '{rule.pattern}' is not a valid pattern: {exc}") from exc

    @property
    def qualified(self) -> Stage | None:
        """The marketing-qualified stage (MQL): the one with id mql (or dated by mql_at), else the
        first stage after leads when a later one follows it; None in a two-stage funnel."""
        found = next((s for s in self.stages if s.id == "mql" or s.column == "mql_at"), None)
        if found is not None and found is not self.stages[-1]:
            return found
        return self.stages[1] if len(self.stages) >= 3 else None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Settings:
        return cls(
            stages=tuple(Stage(**s) for s in data.get("stages", [asdict(s) for s in DEFAULT_STAGES])),
            channels={k: tuple(v) for k, v in data.get("channels", DEFAULT_CHANNELS).items()},
            initiative_rules=tuple(InitiativeRule(**r) for r in data.get("initiative_rules", ())),
            currency=data.get("currency", "EUR"),
            sla_hours=float(data.get("sla_hours", 24.0)),
            rates={str(k): float(v) for k, v in data.get("rates", {}).items()},
        )

    @property
    def stage_columns(self) -> tuple[str, ...]:
        return tuple(s.column for s in self.stages)


def normalise_channel(expr: pl.Expr, channels: dict[str, tuple[str, ...]]) -> pl.Expr:
    """Map raw channel names onto the workspace vocabulary; unknown non-empty names become 'Other'."""
    lookup = {canon.lower(): canon for canon in channels}
    for canon, spellings in channels.items():
        lookup.update({s.lower(): canon for s in spellings})
    key = expr.str.strip_chars().str.to_lowercase()
    return (
        pl.when(key.is_null() | (key == ""))
        .then(pl.lit(None, pl.String))
        .otherwise(key.replace_strict(lookup, default=UNASSIGNED_CHANNEL, return_dtype=pl.String))
    )


def initiative_for(campaign: pl.Expr, rules: tuple[InitiativeRule, ...]) -> pl.Expr:
    """The initiative a campaign belongs to under the first matching rule, else null."""
    out: pl.Expr = pl.lit(None, pl.String)
    for rule in reversed(rules):
        out = pl.when(campaign.str.contains(f"(?i){rule.pattern}")).then(pl.lit(rule.initiative)).otherwise(out)
    return out
