"""The demo workspace: two years of a fictional Nordic B2B software company, generated in well under a second.

`generate(today, seed, scale)` returns the canonical tables "leads", "spend", "traffic", "touches", "events"
and "kpis"; the same `today`, `seed` and `scale` always give identical frames. `DEMO_SETTINGS` are the
workspace settings that go with them (default stages, one initiative rule per initiative, EUR, 24 h SLA).

What is in the data, so that the app has stories to tell:

* 41 campaigns in 10 initiatives on the six channels Paid Search, LinkedIn, Meta, Email,
  Events & Webinars and Organic & Content. A campaign is named ``<CH>-<INITIATIVE>-<detail>``
  (``PS-Brand-SE``, ``LI-ABM-Enterprise-Q4``); the same name is used in leads, spend, traffic and touches.
* Leads arrive with a growth trend (about +25 % a year), fewer at weekends, a summer dip in July and
  a Christmas dip from 20 December to 6 January. Product Launch campaigns start about ten months
  before `today`, Nordic Expansion ramps up in Norway, Denmark and Finland from 16 months before.
  Review Sites (cheap, high-intent clicks that closed well: worth starting again, on any date)
  stopped eight months before `today`;
  AI Assistant Launch started six weeks before it, too recently to be judged on won deals.
* Conversion differs by channel, segment and campaign: brand search, partner marketplace, customer
  webinars and trial-dropoff retargeting convert well; Meta content boosting and LinkedIn thought
  leadership bring cheap or expensive leads that rarely close. Enterprise converts less but its deals
  are ten times larger and take months longer. Mature cohorts convert lead → MQL about 42 %,
  MQL → SQL 38 %, SQL → opportunity 55 % and opportunity → won 25 %.
* Two deliberate verdicts for the Review page, built into the campaigns rather than left to the
  random draw, so that they hold whatever `today` is (the review windows move with it):
  - Meta is the channel to **stop**: its prospecting (video, content boosts, awareness) buys leads
    from small companies that hardly ever buy (no enterprise, few mid-market leads), and even its
    retargeting closes small deals. Over any review's mature cohorts Meta spends several times the
    target cost per won deal and its won deals bring back less than the spend (ROAS well under 1).
  - Nordic Expansion is the initiative to **do less** of: in the new markets, where nobody knows
    the brand, leads convert less and enterprise accounts do not buy at all, so a won deal costs
    two to three times the target while still paying back more than its spend (ROAS between 1 and 3).
    Not on every date: on about one in twenty-five its deals pay back three times or more, and then
    only LinkedIn (expensive, when its enterprise deals do not pay back) may be the one done less of.
* Sales contacts most leads within a few hours; about 12 % are contacted after the 24 h SLA (weekend
  leads, and most of all in DACH) and about 6 % never (event badge scans most of all). Leads never
  contacted rarely become sales-ready.
* No timestamp is later than the end of `today`: a stage that would fall after it has not happened
  yet, so recent cohorts are less converted and some opportunities are still open (pipeline).
* Touches: 3 to 6 per lead. The last is the form submit that created the lead (at ``created_at``,
  with the lead's channel and campaign); earlier ones go back up to a few weeks. ``touch_type`` says
  what the touch was: ``ad_click`` (Paid Search, LinkedIn, Meta), ``email_click``, ``webinar``
  (Events & Webinars), ``organic_visit`` and ``form_submit``.
* Spend: daily rows for the paid campaigns (Paid Search, LinkedIn, Meta) with impressions, clicks and
  platform-reported conversions (platforms over-claim a little), plus event costs (sponsorship, venue,
  webinar promotion) on Events & Webinars campaigns without impressions or clicks. Email and organic
  content have no media cost.
* Traffic: GA-style daily rows per campaign × device (desktop, mobile) × country of the campaign's
  markets; sessions are 35-100 times the leads.
* Web events (the website's product analytics, like a PostHog or GA4 export) for the last
  `EVENT_DAYS` days: ``page_view``, ``pricing_view``, ``case_study_view``, ``form_start`` and
  ``form_submit``, with the properties ``channel``, ``campaign``, ``device``, ``country`` and ``page``.
  Every lead created in those days that came through the website (all but half of the Events & Webinars
  leads, whose badge scans have no web visit) has a journey whose ``form_submit`` is at its
  ``created_at`` with ``user_id`` = its ``lead_id``, so the event funnel continues into the lead funnel.
  Its first visit may be days earlier and come from another channel (``_FIRST_TOUCH``); about two in
  three looked at pricing. Anonymous visitors who never became leads (``v-…``) browse, some look at
  pricing or start a form and leave; Meta brings the most visitors per lead (``_VISITORS_PER_LEAD``).
  Events come from a random stream of their own: the other tables are the same with or without them.
* KPIs: a revenue goal broken down into KPIs (one on the enterprise segment only, one a formula:
  revenue − spend) with targets for each quarter of `today`'s year, each set the way teams often do
  it: last year's same quarter plus a stretch (some will be on track, some not).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
import polars as pl

from kpi import clock
from kpi.data import prepare
from kpi.metrics import catalog, compute
from kpi.period import Period
from kpi.schema import TABLES
from kpi.settings import InitiativeRule, Settings
from kpi.tree import Formula, default_direction, parse_filters

#: Initiative name -> the code its campaigns carry as the second part of their name.
INITIATIVES: dict[str, str] = {
    "Nordic Expansion": "NX",
    "Enterprise ABM": "ABM",
    "Product Launch": "Launch",
    "Brand Awareness": "Brand",
    "Webinar Series": "Webinar",
    "Partner Program": "Partner",
    "Retargeting": "RT",
    "Content Hub": "Content",
    "Review Sites": "Reviews",
    "AI Assistant Launch": "AI",
}

DEMO_SETTINGS = Settings(
    initiative_rules=tuple(InitiativeRule(f"^[a-z]+-{code}-", name) for name, code in INITIATIVES.items()),
    currency="EUR",
    sla_hours=24.0,
)

TARGET_LEADS = 35_000  # leads over the two years at scale 1
CURRENCY = "EUR"

CHANNELS = ("Paid Search", "LinkedIn", "Meta", "Email", "Events & Webinars", "Organic & Content")
_PREFIX = {"PS": 0, "LI": 1, "META": 2, "EM": 3, "EV": 4, "ORG": 5}
#: (source, medium) per channel, as GA4 and the CRM's UTM fields show them.
_SOURCE_MEDIUM = (("google", "cpc"), ("linkedin", "paid_social"), ("facebook", "paid_social"),
                  ("newsletter", "email"), ("events", "event"), ("google", "organic"))
_TOUCH_TYPE = ("ad_click", "ad_click", "ad_click", "email_click", "webinar", "organic_visit")
# conversion multipliers by channel: lead -> MQL, MQL -> SQL
_CH_MQL = np.array([1.05, 1.0, 0.8, 1.1, 1.15, 0.95])
_CH_SQL = np.array([1.05, 1.0, 0.85, 0.95, 1.1, 1.0])
_CH_NEVER = np.array([0.045, 0.05, 0.08, 0.06, 0.14, 0.06])  # share of leads sales never contacts
# cost per click (EUR) and click-through rate by channel (paid channels only)
_CPC = np.array([2.6, 7.5, 1.1, 0.0, 0.0, 0.0])
_CTR = np.array([0.042, 0.0055, 0.008, 0.0, 0.0, 0.0])
_OVERCLAIM = np.array([1.05, 1.15, 1.3, 0.0, 0.0, 0.0])  # platform conversions per CRM lead
_FIRST_TOUCH = np.array([0.30, 0.12, 0.10, 0.04, 0.06, 0.38])
_MIDDLE_TOUCH = np.array([0.15, 0.12, 0.13, 0.30, 0.10, 0.20])

SEGMENTS = ("SMB", "Mid-market", "Enterprise")
_SEG_MQL = np.array([1.0, 1.05, 0.92])
_SEG_OPP = np.array([1.0, 1.0, 0.95])
_SEG_WON = np.array([1.12, 1.0, 0.68])
_SQL_TO_OPP_DAYS = np.array([8.0, 14.0, 24.0])  # median days
_OPP_TO_CLOSE_DAYS = np.array([24.0, 45.0, 95.0])
_DEAL = np.array([[9_000.0, 5_000.0, 15_000.0], [34_000.0, 20_000.0, 60_000.0], [140_000.0, 80_000.0, 300_000.0]])

REGIONS = ("Sweden", "Norway", "Denmark", "Finland", "DACH", "UK")
_REGION_WEIGHT = np.array([0.34, 0.18, 0.15, 0.13, 0.12, 0.08])
_COUNTRY = ("Sweden", "Norway", "Denmark", "Finland", "Germany", "United Kingdom")
NORDICS = ("Sweden", "Norway", "Denmark", "Finland")

#: Sales reps (fictional). Enterprise leads in the Nordics go to the key-account manager.
OWNERS = ("Astrid Lindqvist", "Erik Nyberg", "Ingrid Solberg", "Mads Kjær", "Aino Virtanen", "Lukas Brandt",
          "Oliver Hughes", "Sofia Berg")
_LATE = np.array([0.08, 0.05, 0.09, 0.08, 0.08, 0.30, 0.12, 0.07])  # chance of missing the SLA, by owner

# lead volume by weekday (Monday first) and month; spend and traffic dip less at weekends
_WEEKDAY_LEADS = np.array([1.1, 1.15, 1.1, 1.05, 0.85, 0.3, 0.35])
_WEEKDAY_TRAFFIC = np.array([1.05, 1.1, 1.05, 1.0, 0.9, 0.55, 0.6])
_WEEKDAY_SPEND = np.array([1.05, 1.05, 1.05, 1.0, 0.95, 0.8, 0.8])
_MONTH = np.array([1.0, 1.05, 1.1, 1.0, 1.05, 0.9, 0.5, 0.85, 1.1, 1.15, 1.1, 0.95])
_CHRISTMAS = 0.3  # 20 December - 6 January
_GROWTH = 1.25  # a year
# hour of day a lead is created (local time)
_HOURS = np.array([0.2, 0.1, 0.1, 0.1, 0.1, 0.2, 0.5, 1.0, 2.0, 3.0, 3.2, 3.0, 2.5, 2.8, 3.0, 2.8, 2.2, 1.5,
                   1.0, 0.8, 0.7, 0.5, 0.4, 0.3])

_US_PER_HOUR = 3_600_000_000
_US_PER_DAY = 24 * _US_PER_HOUR

Schedule = Callable[[np.ndarray, date], np.ndarray]
"""Activity multiplier of a campaign for each day (datetime64[D] array), given `today`."""


def _always(days: np.ndarray, today: date) -> np.ndarray:
    return np.ones(len(days))


def _starts(days_before: int, ramp_days: int = 1, burst: float = 1.0) -> Schedule:
    """Off until `days_before` days before today, then ramping up over `ramp_days` (after a launch `burst`)."""

    def schedule(days: np.ndarray, today: date) -> np.ndarray:
        since = (days - np.datetime64(today - timedelta(days=days_before), "D")).astype(np.int64)
        level = np.clip((since + 1) / ramp_days, 0.0, 1.0)
        return np.where((since >= 0) & (since < 42), level * burst, level)

    return schedule


def _stops(days_before: int) -> Schedule:
    """On until `days_before` days before today, off from then on."""

    def schedule(days: np.ndarray, today: date) -> np.ndarray:
        return (days < np.datetime64(today - timedelta(days=days_before), "D")).astype(float)

    return schedule


def _months(*months: int) -> Schedule:
    def schedule(days: np.ndarray, today: date) -> np.ndarray:
        month = days.astype("datetime64[M]").astype(np.int64) % 12 + 1
        return np.isin(month, months).astype(float)

    return schedule


def _pulse(weekday: int, nth: int, months: tuple[int, ...] = tuple(range(1, 13)), base: float = 0.3,
           peak: float = 6.0, lead_in: int = 0) -> Schedule:
    """Events on the `nth` `weekday` (0 = Monday) of `months`: `peak` on the day, `base` otherwise
    (on-demand views, registrations), or, with `lead_in`, registrations only in the days before."""

    def schedule(days: np.ndarray, today: date) -> np.ndarray:
        month_start = days.astype("datetime64[M]").astype("datetime64[D]")
        first_weekday = (month_start.astype(np.int64) + 3) % 7  # 1970-01-01 was a Thursday
        event = month_start + ((weekday - first_weekday) % 7 + 7 * (nth - 1)).astype("timedelta64[D]")
        month = days.astype("datetime64[M]").astype(np.int64) % 12 + 1
        in_month = np.isin(month, months)
        on_day = in_month & (days == event)
        if lead_in:
            to_event = (event - days).astype(np.int64)
            before = in_month & (to_event > 0) & (to_event <= lead_in)
            return np.where(on_day, peak, np.where(before, base, 0.0))
        return np.where(on_day, peak, base)

    return schedule


@dataclass(frozen=True)
class Campaign:
    """One demo campaign and what drives its numbers."""

    name: str
    regions: tuple[str, ...]
    weight: float  # relative lead volume
    cpl: float  # media cost per lead it aims at (EUR); 0 = no media cost
    quality: float  # multiplier on conversion to MQL, SQL and won
    segments: tuple[float, float, float]  # share of SMB, Mid-market, Enterprise leads
    session_rate: float  # leads per session
    schedule: Schedule = _always

    @property
    def channel(self) -> int:
        return _PREFIX[self.name.split("-")[0]]

    @property
    def initiative(self) -> str:
        code = self.name.split("-")[1]
        return next(name for name, c in INITIATIVES.items() if c == code)


_SMB = (0.65, 0.28, 0.07)
_MID = (0.35, 0.45, 0.20)
_ENT = (0.05, 0.30, 0.65)
_SOCIAL = (0.9, 0.1, 0.0)  # Meta: small companies, now and then a mid-market one, never an enterprise
_NEW_MARKET = (0.6, 0.4, 0.0)  # Nordic Expansion: no enterprise account buys from a brand it does not know
C = Campaign
CAMPAIGNS: tuple[Campaign, ...] = (
    # Nordic Expansion: Norway, Denmark, Finland from 16 months ago; converts less than at home (do less)
    C("PS-NX-Generic-NO", ("Norway",), 1.0, 95, 0.85, _NEW_MARKET, 0.02, _starts(480, 90)),
    C("PS-NX-Generic-DK", ("Denmark",), 0.9, 100, 0.85, _NEW_MARKET, 0.02, _starts(480, 90)),
    C("PS-NX-Generic-FI", ("Finland",), 0.9, 110, 0.65, _NEW_MARKET, 0.018, _starts(480, 90)),
    C("LI-NX-Leadgen-NO", ("Norway",), 0.6, 190, 0.8, (0.4, 0.6, 0.0), 0.025, _starts(450, 60)),
    C("META-NX-Awareness-FI", ("Finland",), 0.7, 90, 0.4, _SOCIAL, 0.012, _starts(450, 60)),
    C("EM-NX-Nurture-Nordics", ("Norway", "Denmark", "Finland"), 0.5, 0, 1.1, _NEW_MARKET, 0.03, _starts(420, 60)),
    # Enterprise ABM
    C("LI-ABM-Enterprise-Q4", NORDICS, 1.1, 360, 1.3, _ENT, 0.028, _months(10, 11, 12)),
    C("LI-ABM-Enterprise-AlwaysOn", ("Sweden", "Norway"), 0.7, 320, 1.25, _ENT, 0.025),
    C("LI-ABM-DACH", ("DACH",), 0.5, 340, 1.1, _ENT, 0.022),
    C("EV-ABM-Roundtables", ("Sweden", "Denmark"), 0.25, 600, 1.5, _ENT, 0.03,
      _pulse(2, 2, (3, 5, 9, 11), base=0.0, peak=25.0)),
    C("EM-ABM-Sequences", NORDICS, 0.4, 0, 1.15, _ENT, 0.03),
    # Product Launch: about ten months before today, with a launch burst
    C("PS-Launch-Analytics", ("Sweden", "Norway", "Denmark"), 1.0, 120, 1.05, _MID, 0.02, _starts(300, 1, 1.8)),
    C("LI-Launch-Analytics", ("Sweden", "Norway", "UK"), 0.8, 230, 1.0, _MID, 0.022, _starts(300, 1, 1.8)),
    C("META-Launch-Video", ("Sweden", "Denmark"), 0.9, 110, 0.45, _SOCIAL, 0.012, _starts(300, 1, 1.8)),
    C("EM-Launch-Announcement", NORDICS, 0.5, 0, 1.1, _MID, 0.03, _starts(300, 1, 2.5)),
    C("EV-Launch-Keynote", ("Sweden",), 0.3, 180, 1.2, _MID, 0.03, _starts(300, 1, 3.0)),
    # Brand Awareness
    C("PS-Brand-SE", ("Sweden",), 2.2, 45, 1.25, _SMB, 0.03),
    C("PS-Brand-NO", ("Norway",), 1.0, 50, 1.2, _SMB, 0.03),
    C("PS-Brand-DK", ("Denmark",), 0.8, 50, 1.2, _SMB, 0.03),
    C("PS-Brand-FI", ("Finland",), 0.7, 55, 1.15, _SMB, 0.028),
    C("META-Brand-Video-SE", ("Sweden",), 1.0, 140, 0.35, _SOCIAL, 0.01),
    C("LI-Brand-Thought-Leadership", ("Sweden", "UK", "DACH"), 0.8, 260, 0.6, _MID, 0.012),
    # Webinar Series: monthly webinars, recordings in between
    C("EV-Webinar-Monthly", ("Sweden", "Norway", "Finland"), 1.2, 40, 1.1, _MID, 0.03,
      _pulse(1, 1, base=0.35, peak=7.0)),
    C("EV-Webinar-Customer-Stories", ("Sweden", "Denmark", "UK"), 0.7, 45, 1.4, _MID, 0.03,
      _pulse(3, 3, base=0.3, peak=7.0)),
    C("EM-Webinar-Invites", NORDICS, 0.8, 0, 1.05, _MID, 0.03),
    C("LI-Webinar-Promo", ("Sweden", "Norway", "UK"), 0.6, 150, 0.9, _MID, 0.018),
    # Partner Program: the yearly partner summit in September
    C("EV-Partner-Summit", ("Sweden", "Norway", "Denmark", "Finland"), 0.6, 220, 1.2, _MID, 0.03,
      _pulse(2, 2, (9,), base=0.8, peak=50.0, lead_in=28)),
    C("EM-Partner-Newsletter", ("Sweden", "DACH", "UK"), 0.4, 0, 1.05, _MID, 0.03),
    C("LI-Partner-CoMarketing", ("DACH", "UK"), 0.5, 210, 1.0, _MID, 0.02),
    C("PS-Partner-Marketplace", ("Sweden", "DACH", "UK"), 0.7, 85, 1.3, _MID, 0.025),
    # Retargeting
    C("META-RT-Website-Visitors", ("Sweden", "Norway", "Denmark"), 1.1, 60, 0.6, _SOCIAL, 0.02),
    C("LI-RT-Pricing-Page", ("Sweden", "UK"), 0.5, 170, 1.2, _MID, 0.03),
    C("PS-RT-RLSA", ("Sweden", "Norway"), 0.7, 60, 1.1, _SMB, 0.025),
    C("META-RT-Trial-Dropoff", ("Sweden", "Denmark", "Finland"), 0.7, 35, 1.35, _SOCIAL, 0.03, _starts(180, 14)),
    # Content Hub
    C("ORG-Content-Blog", NORDICS, 2.4, 0, 0.9, _SMB, 0.012),
    C("ORG-Content-Guides", ("Sweden", "Norway", "UK"), 1.4, 0, 1.05, _MID, 0.02),
    C("ORG-Content-SEO-Nordics", NORDICS, 1.8, 0, 0.95, _SMB, 0.012),
    C("EM-Content-Newsletter", NORDICS, 1.0, 0, 0.9, _SMB, 0.025),
    C("META-Content-Boost", ("Sweden", "Norway", "Denmark"), 1.6, 40, 0.3, _SOCIAL, 0.01),
    # Added later (`_LATER`), drawn from their own random stream so the campaigns above keep every number:
    # Review Sites: high-intent review-site clicks that closed cheaply, until the budget was cut eight months ago
    C("PS-Reviews-Capterra", ("Sweden", "Norway", "UK"), 1.0, 45, 1.6, _SMB, 0.03, _stops(240)),
    # AI Assistant Launch: six weeks old, too young to be judged on won deals
    C("LI-AI-Assistant-Launch", ("Sweden", "Norway", "Denmark", "UK"), 0.8, 200, 1.0, _MID, 0.02,
      _starts(45, 1, 1.5)),
)
del C
_LATER = 2  # the last campaigns, added later: generated after the others from a random stream of their own
CAMPAIGN_NAMES: tuple[str, ...] = tuple(c.name for c in CAMPAIGNS)

# base conversion probabilities before the multipliers
_P_MQL = 0.42
_P_SQL = 0.37
_P_OPP = 0.53
_P_WON = 0.245


def _day_arrays(today: date) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The days covered (24 months up to and including today), weekday 0-6, month 1-12 and day of month."""
    try:
        first = today.replace(year=today.year - 2) + timedelta(days=1)
    except ValueError:  # 29 February
        first = today.replace(year=today.year - 2, day=28) + timedelta(days=1)
    days = np.arange(np.datetime64(first, "D"), np.datetime64(today, "D") + 1)
    weekday = (days.astype(np.int64) + 3) % 7
    month = days.astype("datetime64[M]").astype(np.int64) % 12 + 1
    mday = (days - days.astype("datetime64[M]").astype("datetime64[D]")).astype(np.int64) + 1
    return days, weekday, month, mday


def _canonical(name: str, columns: Mapping[str, np.ndarray | pl.Series | list[Any]]) -> pl.DataFrame:
    """A frame with the given columns in the canonical order and types of table `name`."""
    dtypes = TABLES[name].dtypes
    return pl.DataFrame({c: pl.Series(c, columns[c], dtype=dtypes[c]) for c in dtypes if c in columns})


def _labels(labels: Sequence[str], index: np.ndarray) -> pl.Series:
    """The text column `labels[index]` (gathered in polars: much faster than numpy string arrays)."""
    return pl.Series(list(labels), dtype=pl.String).gather(np.asarray(index))


def _campaign_dims(camp: np.ndarray) -> dict[str, pl.Series]:
    """Campaign name, channel and initiative columns for an array of campaign indexes."""
    return {
        "campaign": _labels(CAMPAIGN_NAMES, camp),
        "channel": _labels(CHANNELS, np.array([c.channel for c in CAMPAIGNS])[camp]),
        "initiative": _labels([c.initiative for c in CAMPAIGNS], camp),
    }


def _choose(rng: np.random.Generator, cdf: np.ndarray) -> np.ndarray:
    """One category per row, drawn from each row's cumulative distribution (rows of `cdf` end at 1)."""
    u = rng.random(len(cdf))[:, None]
    cdf = cdf / cdf[:, -1:]  # exactly 1 at the end, so u < 1 never lands past the last category
    return np.asarray(np.minimum((u >= cdf).sum(axis=1), cdf.shape[1] - 1))


def _lognormal(rng: np.random.Generator, median: np.ndarray | float, sigma: float, n: int) -> np.ndarray:
    return np.asarray(median) * rng.lognormal(0.0, sigma, n)


def generate(today: date | None = None, seed: int = 7, scale: float = 1.0) -> dict[str, pl.DataFrame]:
    """The demo workspace's canonical tables: leads, spend, traffic, touches, events and kpis.

    The data covers the 24 months up to and including `today` (default: the current date) and no
    timestamp falls after the end of `today`. `scale` multiplies the number of leads (about 35 000
    at 1) and with them sessions and spend, so rates and costs per lead stay the same. The same
    arguments always give identical frames.
    """
    today = today or clock.today()
    if scale <= 0:
        raise ValueError(f"scale must be positive, got {scale}")
    rng = np.random.default_rng(seed)
    days, weekday, month, mday = _day_arrays(today)
    n_days = len(days)
    cutoff = np.datetime64(today + timedelta(days=1), "D").astype("datetime64[us]").astype(np.int64)

    # --- daily intensity: trend x season x weekday x campaign schedule
    season = _MONTH[month - 1] * np.where(((month == 12) & (mday >= 20)) | ((month == 1) & (mday <= 6)),
                                          _CHRISTMAS / _MONTH[month - 1], 1.0)
    trend = _GROWTH ** (np.arange(n_days) / 365.0)
    activity = np.stack([c.weight * c.schedule(days, today) for c in CAMPAIGNS])  # campaign x day
    later = np.arange(len(CAMPAIGNS)) >= len(CAMPAIGNS) - _LATER
    shape = activity * (trend * season)[None, :]
    first_shape = np.where(later[:, None], 0.0, shape)
    k = TARGET_LEADS * scale / (first_shape * _WEEKDAY_LEADS[weekday][None, :]).sum()
    parts = []
    # the first campaigns, then those added later from a stream of their own: adding one changes no other row
    for part_rng, part_shape in ((rng, first_shape), (np.random.default_rng([seed, 1]), shape - first_shape)):
        expected = k * part_shape * _WEEKDAY_LEADS[weekday][None, :]
        counts = part_rng.poisson(expected)
        leads, lead_camp = _leads(part_rng, counts, days, weekday, cutoff)
        parts.append({
            "leads": leads,
            "spend": _spend(part_rng, k * part_shape * _WEEKDAY_SPEND[weekday][None, :], counts, days),
            "traffic": _traffic(part_rng, k * part_shape * _WEEKDAY_TRAFFIC[weekday][None, :], days),
            # earlier touches fall on any campaign live that day
            "touches": _touches(part_rng, leads, lead_camp, k * shape * _WEEKDAY_LEADS[weekday][None, :]
                                if part_shape is not first_shape else expected, days),
        })
    first, added = parts
    offset = first["leads"].height
    renumber = pl.format("L{}", (pl.col("lead_id").str.slice(1).cast(pl.Int64) + offset).cast(pl.String).str.zfill(6))
    added |= {name: added[name].with_columns(renumber) for name in ("leads", "touches")}
    tables = {name: pl.concat([first[name], added[name]]) for name in first}
    tables["leads"] = tables["leads"].sort("created_at", maintain_order=True)  # in order of creation, as a CRM lists
    tables["events"] = _events(np.random.default_rng([seed, 2]), tables["leads"], today)
    tables["kpis"] = _kpis(tables, today)
    return tables


def _leads(rng: np.random.Generator, counts: np.ndarray, days: np.ndarray, weekday: np.ndarray,
           cutoff: int) -> tuple[pl.DataFrame, np.ndarray]:
    """One row per lead with its stage timestamps, and each lead's campaign index."""
    n_days = len(days)
    cell = np.repeat(np.arange(counts.size), counts.ravel())
    camp, day = cell // n_days, cell % n_days
    n = len(cell)
    hour = rng.choice(24, size=n, p=_HOURS / _HOURS.sum())
    created = (days[day].astype("datetime64[us]").astype(np.int64) + hour * _US_PER_HOUR
               + rng.integers(0, _US_PER_HOUR, n))
    order = np.argsort(created, kind="stable")
    camp, day, created = camp[order], day[order], created[order]

    ch = np.array([c.channel for c in CAMPAIGNS])[camp]
    quality = np.array([c.quality for c in CAMPAIGNS])[camp]
    seg_cdf = np.cumsum(np.array([c.segments for c in CAMPAIGNS]), axis=1)
    seg = _choose(rng, seg_cdf[camp])
    region_w = np.array([[w if r in c.regions else 0.0 for r, w in zip(REGIONS, _REGION_WEIGHT, strict=True)]
                         for c in CAMPAIGNS])
    region = _choose(rng, np.cumsum(region_w / region_w.sum(axis=1, keepdims=True), axis=1)[camp])

    # owner: key-account manager for Nordic enterprise, else the rep of the region (two in Sweden)
    owner = np.array([0, 2, 3, 4, 5, 6])[region]
    owner = np.where((region == 0) & (rng.random(n) < 0.5), 1, owner)
    owner = np.where((seg == 2) & (region <= 3), 7, owner)

    # first sales contact: never, late (after the SLA) or within hours
    weekend = (weekday[day] >= 5) | ((weekday[day] == 4) & (hour >= 15))
    never = rng.random(n) < _CH_NEVER[ch]
    late = ~never & (rng.random(n) < np.where(weekend, 0.35, _LATE[owner]))
    delay_h = np.where(late, 24.0 + _lognormal(rng, 20.0, 0.8, n), np.minimum(_lognormal(rng, 1.6, 1.0, n), 23.5))
    contact = created + (delay_h * _US_PER_HOUR).astype(np.int64)
    contacted = ~never & (contact < cutoff)
    contact_mult = np.where(never, 0.12, np.where(late, 0.75, 1.05))

    def draw(p: np.ndarray) -> np.ndarray:
        return np.asarray(rng.random(n) < np.clip(p, 0.0, 0.97))

    def days_us(median: np.ndarray | float, sigma: float) -> np.ndarray:
        return (_lognormal(rng, median, sigma, n) * _US_PER_DAY).astype(np.int64)

    to_mql = draw(_P_MQL * _CH_MQL[ch] * _SEG_MQL[seg] * quality)
    to_sql = draw(_P_SQL * _CH_SQL[ch] * quality**0.7 * contact_mult)
    to_opp = draw(_P_OPP * _SEG_OPP[seg] * np.sqrt(quality))
    to_won = draw(_P_WON * _SEG_WON[seg] * np.sqrt(quality))
    mql_t = created + days_us(1.5, 1.0)
    sql_t = np.maximum(mql_t, np.where(never, mql_t, contact)) + days_us(5.0, 0.9)
    opp_t = sql_t + days_us(_SQL_TO_OPP_DAYS[seg], 0.7)
    close_t = opp_t + days_us(_OPP_TO_CLOSE_DAYS[seg], 0.6)
    disqualified_t = sql_t + days_us(18.0, 0.7)

    mql = to_mql & (mql_t < cutoff)
    sql = mql & to_sql & (sql_t < cutoff)
    opp = sql & to_opp & (opp_t < cutoff)
    won = opp & to_won & (close_t < cutoff)
    lost_opp = opp & ~to_won & (close_t < cutoff)
    lost_sql = sql & ~to_opp & (disqualified_t < cutoff)
    lost_t = np.where(lost_opp, close_t, disqualified_t)
    deal = _DEAL[seg]
    amount = np.round(np.clip(_lognormal(rng, deal[:, 0], 0.35, n), deal[:, 1], deal[:, 2]), -2)

    def ts(values: np.ndarray, mask: np.ndarray) -> np.ndarray:
        return np.where(mask, values, np.iinfo(np.int64).min).astype("datetime64[us]")  # int64 min is NaT

    frame = _canonical("leads", {
        "lead_id": pl.select(pl.format("L{}", pl.int_range(1, n + 1).cast(pl.String).str.zfill(6))).to_series(),
        "created_at": created.astype("datetime64[us]"),
        "first_contact_at": ts(contact, contacted),
        "mql_at": ts(mql_t, mql),
        "sql_at": ts(sql_t, sql),
        "opportunity_at": ts(opp_t, opp),
        "won_at": ts(close_t, won),
        "lost_at": ts(lost_t, lost_opp | lost_sql),
        "amount": np.where(opp, amount, np.nan),
        "currency": _labels([CURRENCY], np.zeros(n, np.int64)),
        **_campaign_dims(camp),
        "source": _labels([s for s, _m in _SOURCE_MEDIUM], ch),
        "medium": _labels([m for _s, m in _SOURCE_MEDIUM], ch),
        "segment": _labels(SEGMENTS, seg),
        "region": _labels(REGIONS, region),
        "owner": _labels(OWNERS, owner),
    }).with_columns(pl.col("amount").fill_nan(None))
    return frame, camp


_REF_CPL = np.array([80.0, 250.0, 60.0])  # a typical campaign's cost per lead on the paid channels


def _spend(rng: np.random.Generator, expected_spend_leads: np.ndarray, counts: np.ndarray,
           days: np.ndarray) -> pl.DataFrame:
    """Daily media cost per campaign that has one, following its lead volume with a flatter week."""
    cols: dict[str, list[np.ndarray]] = {k: [] for k in ("date", "spend", "impressions", "clicks",
                                                         "platform_conversions", "camp")}
    for i, c in enumerate(CAMPAIGNS):
        active = expected_spend_leads[i] > 0
        if c.cpl == 0 or not active.any():
            continue
        n = int(active.sum())
        spend = np.round(c.cpl * expected_spend_leads[i, active] * rng.lognormal(0.0, 0.15, n), 2)
        ch = c.channel
        if ch < len(_REF_CPL):
            cpc = _CPC[ch] * (c.cpl / _REF_CPL[ch]) ** 0.6
            ctr = _CTR[ch] * (_REF_CPL[ch] / c.cpl) ** 0.3
            impressions = rng.poisson(spend / (cpc * ctr * rng.lognormal(0.0, 0.1, n)))
            clicks = rng.binomial(impressions, ctr)
            conversions = rng.poisson(counts[i, active] * _OVERCLAIM[ch]).astype(float)
        else:  # event costs: sponsorship, venue, webinar promotion; no ad metrics
            clicks = impressions = np.full(n, -1)
            conversions = np.full(n, np.nan)
        cols["date"].append(days[active])
        cols["spend"].append(spend)
        cols["clicks"].append(clicks)
        cols["impressions"].append(impressions)
        cols["platform_conversions"].append(conversions)
        cols["camp"].append(np.full(n, i))
    merged = {k: np.concatenate(v) for k, v in cols.items()}
    camp = merged.pop("camp")
    currency = _labels([CURRENCY], np.zeros(len(camp), np.int64))
    frame = _canonical("spend", {**merged, **_campaign_dims(camp), "currency": currency})
    return frame.with_columns(
        *[pl.when(pl.col(m) >= 0).then(pl.col(m)).alias(m) for m in ("impressions", "clicks")],
        pl.col("platform_conversions").fill_nan(None),
    )


_DESKTOP = np.array([0.7, 0.72, 0.35, 0.6, 0.8, 0.65])  # desktop share of sessions by channel
_NEW_USERS = np.array([0.6, 0.7, 0.75, 0.15, 0.3, 0.65])
_ENGAGED = np.array([0.62, 0.55, 0.45, 0.7, 0.75, 0.6])


def _traffic(rng: np.random.Generator, expected_traffic_leads: np.ndarray, days: np.ndarray) -> pl.DataFrame:
    """GA-style sessions per day x campaign x device x country of the campaign's markets."""
    camp_idx, day_idx, desktop, region_idx, share = [], [], [], [], []
    for i, c in enumerate(CAMPAIGNS):
        active = np.flatnonzero(expected_traffic_leads[i] > 0)
        regions = np.array([REGIONS.index(r) for r in c.regions])
        weights = _REGION_WEIGHT[regions] / _REGION_WEIGHT[regions].sum()
        d = _DESKTOP[c.channel]
        for is_desktop, dev_share in ((True, d), (False, 1 - d)):
            for r, w in zip(regions, weights, strict=True):
                camp_idx.append(np.full(len(active), i))
                day_idx.append(active)
                desktop.append(np.full(len(active), is_desktop))
                region_idx.append(np.full(len(active), r))
                share.append(np.full(len(active), dev_share * w))
    camp, day, is_desk = np.concatenate(camp_idx), np.concatenate(day_idx), np.concatenate(desktop)
    region = np.concatenate(region_idx)
    rate = np.array([c.session_rate for c in CAMPAIGNS])[camp]
    ch = np.array([c.channel for c in CAMPAIGNS])[camp]
    sessions = rng.poisson(expected_traffic_leads[camp, day] / rate * np.concatenate(share)
                           * rng.lognormal(0.0, 0.1, len(camp)))
    users = rng.binomial(sessions, 0.85)
    new_users = rng.binomial(users, _NEW_USERS[ch])
    engaged = rng.binomial(sessions, _ENGAGED[ch] * np.where(is_desk, 1.0, 0.8))
    key_events = rng.poisson(sessions * rate * 1.5).astype(float)
    keep = sessions > 0
    ch_k = ch[keep]
    return _canonical("traffic", {
        **_campaign_dims(camp[keep]),
        "date": days[day[keep]],
        "sessions": sessions[keep],
        "users": users[keep],
        "new_users": new_users[keep],
        "engaged_sessions": engaged[keep],
        "key_events": key_events[keep],
        "source": _labels([s for s, _m in _SOURCE_MEDIUM], ch_k),
        "medium": _labels([m for _s, m in _SOURCE_MEDIUM], ch_k),
        "device": _labels(("mobile", "desktop"), is_desk[keep].astype(np.int64)),
        "country": _labels(_COUNTRY, region[keep]),
    })


def _touches(rng: np.random.Generator, leads: pl.DataFrame, lead_camp: np.ndarray, expected: np.ndarray,
             days: np.ndarray) -> pl.DataFrame:
    """3-6 touches per lead: earlier touches on campaigns live that day, the last one the form submit."""
    n = leads.height
    per_lead = rng.integers(3, 7, n)
    lead = np.repeat(np.arange(n), per_lead)
    start = np.repeat(np.cumsum(per_lead) - per_lead, per_lead)
    pos = np.arange(len(lead)) - start
    last = pos == per_lead[lead] - 1
    first = pos == 0

    created = leads["created_at"].to_numpy().astype("datetime64[us]").astype(np.int64)
    day0 = days[0].astype("datetime64[us]").astype(np.int64)
    span = np.minimum(_lognormal(rng, 18.0, 0.9, n) * _US_PER_DAY, created - day0)
    steps = per_lead[lead] - 1
    fraction = np.where(first, 1.0, (steps - pos - rng.random(len(lead))) / steps)
    fraction = np.where(last, 0.0, fraction)
    touched = created[lead] - (fraction * span[lead]).astype(np.int64)
    t_day = np.clip((touched - day0) // _US_PER_DAY, 0, len(days) - 1)

    ch_of = np.array([c.channel for c in CAMPAIGNS])
    ch = np.where(first, rng.choice(6, len(lead), p=_FIRST_TOUCH), rng.choice(6, len(lead), p=_MIDDLE_TOUCH))
    # each channel's campaigns weighted by their expected leads that day (a tiny floor keeps every day covered)
    weights = np.zeros((len(CHANNELS), len(days), len(CAMPAIGNS)))
    for i, c in enumerate(CAMPAIGNS):
        weights[c.channel, :, i] = expected[i] + 1e-9 * c.weight
    cdf = np.cumsum(weights, axis=2)
    cdf /= cdf[:, :, -1:]
    camp = _choose(rng, cdf[ch, t_day])
    camp = np.where(last, lead_camp[lead], camp)
    ch = np.where(last, ch_of[lead_camp][lead], ch)
    return _canonical("touches", {
        "lead_id": leads["lead_id"].gather(lead),
        "touched_at": touched.astype("datetime64[us]"),
        **_campaign_dims(camp),
        "touch_type": _labels((*_TOUCH_TYPE, "form_submit"), np.where(last, len(_TOUCH_TYPE), ch)),
    })


EVENT_DAYS = 180  # the web events cover the last days up to and including today
EVENT_NAMES = ("page_view", "pricing_view", "case_study_view", "form_start", "form_submit")
_LANDING = ("/", "/product", "/blog", "/customers")
_EVENT_PAGE = {"pricing_view": "/pricing", "case_study_view": "/customers/story", "form_start": "/demo",
               "form_submit": "/demo"}
# anonymous visitors (who never became a lead) per lead, by channel: social brings many who only look
_VISITORS_PER_LEAD = np.array([8.0, 9.0, 22.0, 5.0, 3.0, 12.0])
_DESKTOP_SHARE = np.array([0.7, 0.75, 0.35, 0.6, 0.8, 0.65])
_US_PER_MINUTE = 60_000_000


def _events(rng: np.random.Generator, leads: pl.DataFrame, today: date) -> pl.DataFrame:
    """Web events of the last EVENT_DAYS days: each web lead's journey ending in its form submit, and anonymous
    visitors' browsing. Columns: user_id, timestamp, event, channel, campaign, device, country, page."""
    start = np.datetime64(today - timedelta(days=EVENT_DAYS - 1), "D").astype("datetime64[us]").astype(np.int64)
    cutoff = np.datetime64(today + timedelta(days=1), "D").astype("datetime64[us]").astype(np.int64)
    recent = leads.filter(pl.col("created_at") >= datetime.combine(today - timedelta(days=EVENT_DAYS - 1),
                                                                   datetime.min.time()))
    ch = pl.Series(recent["channel"].cast(pl.String)).replace_strict(CHANNELS, list(range(len(CHANNELS))),
                                                                     return_dtype=pl.Int64).to_numpy()
    camp = pl.Series(recent["campaign"].cast(pl.String)).replace_strict(
        CAMPAIGN_NAMES, list(range(len(CAMPAIGNS))), return_dtype=pl.Int64).to_numpy()
    region = pl.Series(recent["region"].cast(pl.String)).replace_strict(
        REGIONS, list(range(len(REGIONS))), return_dtype=pl.Int64).to_numpy()
    created = recent["created_at"].to_numpy().astype("datetime64[us]").astype(np.int64)
    web = (ch != CHANNELS.index("Events & Webinars")) | (rng.random(recent.height) < 0.5)
    parts = [_lead_journeys(rng, recent["lead_id"].cast(pl.String).filter(web), created[web], ch[web], camp[web],
                            region[web]),
             _visitors(rng, created, ch, camp, region, start, cutoff)]
    frame = pl.concat(parts).filter(pl.col("timestamp").is_between(start, cutoff, closed="left"))
    return frame.sort("timestamp", maintain_order=True).with_columns(
        pl.col("timestamp").cast(pl.Datetime("us")))


def _event_rows(user: pl.Series, t: np.ndarray, event: np.ndarray, ch: np.ndarray, camp: np.ndarray,
                region: np.ndarray, desktop: np.ndarray) -> pl.DataFrame:
    """Event rows from per-event arrays (event as an index into EVENT_NAMES, campaign -1 for none)."""
    names = _labels(EVENT_NAMES, event)
    return pl.DataFrame({
        "user_id": user, "timestamp": pl.Series(t, dtype=pl.Int64), "event": names,
        "channel": _labels(CHANNELS, ch),
        "campaign": _labels(CAMPAIGN_NAMES, np.maximum(camp, 0)).set(pl.Series(camp < 0), None),
        "device": _labels(("mobile", "desktop"), desktop.astype(np.int64)),
        "country": _labels(_COUNTRY, region),
        "page": names.replace_strict(_EVENT_PAGE, default=None).fill_null(
            _labels(_LANDING, (t // _US_PER_MINUTE) % len(_LANDING))),
    })


def _lead_journeys(rng: np.random.Generator, lead_id: pl.Series, created: np.ndarray, ch: np.ndarray,
                   camp: np.ndarray, region: np.ndarray) -> pl.DataFrame:
    """Per lead: a first visit (a third in the same session as the form, else days before, maybe from another
    channel), pricing and case-study views, a landing page view, the form start and the submit at creation."""
    n = len(created)
    same_session = rng.random(n) < 0.35
    first = created - np.where(same_session, rng.integers(240, 1800, n) * 1_000_000,
                               np.minimum(_lognormal(rng, 4.0, 1.0, n), 60.0) * _US_PER_DAY).astype(np.int64)
    first_ch = np.where(same_session | (rng.random(n) < 0.5), ch, rng.choice(6, n, p=_FIRST_TOUCH))
    first_camp = np.where(first_ch == ch, camp, -1)
    def after(at: np.ndarray, low_s: int, high_s: int) -> np.ndarray:
        return at + rng.integers(low_s, high_s, n) * 1_000_000

    plan = (  # event, when, whether it happens, its channel, campaign
        (0, first, np.ones(n, bool), first_ch, first_camp),
        (1, after(first, 20, 300), rng.random(n) < 0.65, first_ch, first_camp),
        (2, after(first, 40, 400), rng.random(n) < 0.35, first_ch, first_camp),
        (0, after(created, -900, -240), ~same_session, ch, camp),
        (3, after(created, -220, -35), np.ones(n, bool), ch, camp),
        (4, created, np.ones(n, bool), ch, camp),
    )
    desktop = rng.random(n) < _DESKTOP_SHARE[ch]
    rows = [_event_rows(lead_id.filter(happens), when[happens], np.full(happens.sum(), event), c[happens],
                        k[happens], region[happens], desktop[happens])
            for event, when, happens, c, k in plan]
    return pl.concat(rows)


def _visitors(rng: np.random.Generator, created: np.ndarray, ch: np.ndarray, camp: np.ndarray, region: np.ndarray,
              start: int, cutoff: int) -> pl.DataFrame:
    """Anonymous visitors who never became leads, around the days leads came (so weekdays and seasons match),
    more of them per lead on some channels: page views, now and then pricing, a case study or a form left."""
    weight = _VISITORS_PER_LEAD[ch]
    n = round(float(weight.sum()))
    like = rng.choice(len(created), n, p=weight / weight.sum())
    first = created[like] + rng.integers(-3 * _US_PER_DAY, 3 * _US_PER_DAY, n)  # outside the days: dropped
    user = pl.select(pl.format("v-{}", pl.int_range(1, n + 1).cast(pl.String).str.zfill(7))).to_series()
    desktop = rng.random(n) < _DESKTOP_SHARE[ch[like]]
    returns = rng.random(n) < 0.15
    again = first + rng.integers(1, 11, n) * _US_PER_DAY

    def after(at: np.ndarray, low_s: int, high_s: int) -> np.ndarray:
        return at + rng.integers(low_s, high_s, n) * 1_000_000

    plan = (
        (0, first, np.ones(n, bool)),
        (0, after(first, 15, 400), rng.random(n) < 0.45),
        (1, after(first, 60, 500), rng.random(n) < 0.18),
        (2, after(first, 90, 600), rng.random(n) < 0.12),
        (3, after(first, 120, 700), rng.random(n) < 0.05),
        (0, again, returns),
        (1, after(again, 20, 300), returns & (rng.random(n) < 0.3)),
    )
    rows = [_event_rows(user.filter(happens), when[happens], np.full(happens.sum(), event), ch[like][happens],
                        camp[like][happens], region[like][happens], desktop[happens])
            for event, when, happens in plan]
    return pl.concat(rows)


@dataclass(frozen=True)
class _Kpi:
    kpi_id: str
    name: str
    metric: str
    parent: str | None
    owner: str
    why: str
    how: str
    uplift: float = 1.0  # target = last year's same quarter x uplift ...
    fixed: float | None = None  # ... or this value every quarter
    digits: int = 0  # rounding of the target
    filters: str | None = None  # the slice it is measured on
    cadence: str = "monthly"


_KPIS = (
    _Kpi("goal_revenue", "Revenue from marketing-sourced deals", "revenue", None, "Head of Marketing",
         "Marketing's share of the company's growth plan.",
         "Won deal value in the CRM by the quarter the deal was won.",
         uplift=1.3, digits=-4, cadence="quarterly"),
    _Kpi("kpi_margin", "Revenue after media cost", "revenue - spend", "goal_revenue", "Head of Marketing",
         "What marketing-sourced deals leave after paying for the media that brought them.",
         "Won deal value in the CRM minus ad platform and event spend.", uplift=1.3, digits=-4),
    _Kpi("kpi_won", "Won deals", "won", "goal_revenue", "Sales Director",
         "Revenue comes from deals; more wins at the same deal size is the safest path.",
         "Leads with a won date in the CRM, by the quarter of the win.", uplift=1.25),
    _Kpi("kpi_won_enterprise", "Won enterprise deals", "won", "kpi_won", "Key Account Manager",
         "Enterprise deals are ten times larger; a few of them make the quarter.",
         "Won deals of enterprise accounts (CRM segment).", uplift=1.3, filters="segment=Enterprise"),
    _Kpi("kpi_sql", "Sales-ready leads (SQL)", "sql", "kpi_won", "Sales Director",
         "Sales needs enough accepted leads to reach the win target.", "Leads with an SQL date in the CRM.",
         uplift=1.2),
    _Kpi("kpi_mql", "Marketing-qualified leads", "mql", "kpi_sql", "Marketing Operations",
         "Enough qualified leads to fill the sales-ready target.", "Leads with an MQL date (lead score 50+).",
         uplift=1.2),
    _Kpi("kpi_leads", "New leads", "leads", "kpi_mql", "Demand Generation Lead",
         "The top of the funnel that every later stage depends on.", "Leads created in the CRM (forms, events).",
         uplift=1.15, digits=-1, cadence="weekly"),
    _Kpi("kpi_lead_to_won", "Lead to won rate", "lead_to_won", "goal_revenue", "Head of Marketing",
         "Better leads rather than only more of them.", "Won deals / leads, same cohort.", uplift=1.05, digits=4),
    _Kpi("kpi_cac", "Customer acquisition cost", "cac", "goal_revenue", "Head of Marketing",
         "Growth has to stay profitable: media cost per won customer.", "Ad platform spend / won deals.",
         uplift=0.9, digits=-1),
    _Kpi("kpi_cpl", "Cost per lead", "cpl", "kpi_cac", "Performance Marketing Manager",
         "Cheaper leads at the same quality lower CAC.", "Ad platform and event spend / leads.", uplift=0.95),
    _Kpi("kpi_roas", "Return on ad spend", "roas", "goal_revenue", "Performance Marketing Manager",
         "Every euro of media should bring several euros of deals.", "Won deal value / spend.", uplift=1.1, digits=2),
    _Kpi("kpi_leakage", "Lead leakage", "leakage", "kpi_sql", "Sales Director",
         "Leads not contacted within a day rarely become customers.",
         "Share of leads not contacted by sales within the 24 h SLA (CRM first contact).", fixed=0.12, digits=3,
         cadence="weekly"),
    _Kpi("kpi_speed_to_lead", "Speed to lead", "speed_to_lead_hours", "kpi_leakage", "Sales Director",
         "The faster sales calls, the more leads convert.", "Median hours from lead created to first sales contact.",
         fixed=1.5, digits=1, cadence="weekly"),
)


def _kpis(tables: dict[str, pl.DataFrame], today: date) -> pl.DataFrame:
    """The starter KPI tree with a target for each quarter of `today`'s year: last year's same quarter
    (flow view: what happened in the quarter) times a stretch, or a fixed standard for leakage and
    speed to lead."""
    last_year = Period(date(today.year - 1, 1, 1), date(today.year - 1, 12, 31))
    cat = catalog(DEMO_SETTINGS)
    prepared = prepare({t: tables[t] for t in ("leads", "spend")}, DEMO_SETTINGS)
    rows = []
    for k in _KPIS:
        formula = None if k.metric in cat else Formula.parse(k.metric, cat)
        metrics = list(formula.metrics if formula else (k.metric,))
        actual = compute(prepared, metrics, period=last_year, grain="quarter", filters=parse_filters(k.filters),
                         view="flow", settings=DEMO_SETTINGS,
                         as_of=datetime.combine(today + timedelta(days=1), datetime.min.time()))
        direction = default_direction(k.metric, cat)
        for quarter in actual.iter_rows(named=True):
            q = (quarter["period"].month - 1) // 3 + 1
            value = formula.evaluate(quarter) if formula else quarter[k.metric]
            target = k.fixed if k.fixed is not None else float(value or 0.0) * k.uplift
            rows.append({"kpi_id": k.kpi_id, "name": k.name, "metric": k.metric, "parent": k.parent,
                         "owner": k.owner, "why": k.why, "how": k.how, "direction": direction,
                         "target": round(float(target), k.digits), "period": f"{today.year}-Q{q}",
                         "filters": k.filters, "cadence": k.cadence})
    return _canonical("kpis", {c: [r.get(c) for r in rows] for c in TABLES["kpis"].dtypes})
