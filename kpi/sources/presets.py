"""Export formats recognised from their header, and how each maps onto a canonical table.

A preset names the columns that identify a format (`signature`: each group needs one of its names),
and for each canonical field the source columns that can feed it, first present (and non-empty)
wins. Some formats are recognised only to refuse them with a useful message (a Google Ads Editor
export holds campaign settings, not performance).

Honest stage dates: CRMs that export only the current stage plus a date (amoCRM, Bitrix24,
Salesforce lead status) give `won_at`/`lost_at` from the close date when there is one, else from the
'last modified' date, which is an upper bound and is reported as approximate. Intermediate stages
(MQL, SQL) cannot be dated from such exports and stay empty. Deal/opportunity exports (HubSpot
deals, Salesforce opportunities) date `opportunity_at` at the deal's creation, since the deal is
the opportunity. Olist MQL rows are all MQLs, so `mql_at` is their first contact date. Search
Console clicks stand in for organic sessions (a click from Google results is a visit) and the
report says so.

Touches. A generic touches file (lead, time, channel, campaign, type) in any of the vocabulary's languages
is one touch a row. A Salesforce campaign members report (the "Campaigns with Campaign Members" report type,
whose CampaignMember fields a report labels `Member Status`, `Member First Responded Date` (FirstRespondedDate,
a date) and `Member First Associated Date` (the member's CreatedDate)) gives one touch per member that
responded: touched_at = its First Responded Date, campaign = Campaign Name, channel = the campaign's Type
(Webinar, Email, Trade Show…; `Salesforce campaign` when it has none). Members that never responded (Sent,
Invited) are on a list, not touched by marketing, so a marketer does not count them: they are left out and
listed in the report, never dated by the day they were added. A member is a lead or a contact: lead_id is
its Lead ID, else its Contact ID.

A HubSpot contacts export stays a leads table when recognised; the same file picked as "HubSpot touches
(original/latest source)" gives the touches its source fields hold (`touch_sets`): the original traffic
source at the create date (with the first touch converting campaign, which HubSpot defines as the campaign
of the contact's first-touch creation), the latest traffic source at its date, and the last touch converting
campaign at the recent conversion date (channel: the latest source). Their touch_type says they are derived
(`DERIVED_TOUCH_TYPES`): two or three touches a contact, not a journey.

Events. Product-analytics exports become the `events` table (user_id, timestamp, event, properties): PostHog
(CSV with `properties.*` columns, or its batch export in JSONLines/Parquet), Mixpanel's raw export, Amplitude's
Export API zip, a GA4 BigQuery `events_*` table (Parquet or newline-delimited JSON) and a generic events file
(`EVENT_PRESETS`; nested files are flattened by `kpi.sources.eventfiles`). Who is a person follows each tool:
PostHog's person_id, else the event's distinct_id; Mixpanel's distinct_id as exported (`$device:` ids kept);
Amplitude's user_id, else device_id; GA4's user_id, else user_pseudo_id — the import report counts the events that
fell back. Timestamps go to UTC and the properties kept are capped (`kpi.sources.eventrules`).

The header texts live in data, not here: one vocabulary per source in `kpi/sources/vocabularies/`
(a CSV keyed by field and interface language: en, sv, ru, de, nb, da, fi), so an export downloaded
with a Swedish or Russian interface is recognised by the same preset as its English original. A
file whose columns already carry the canonical names is recognised last, as its canonical table.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from kpi.schema import TABLES
from kpi.sources.eventrules import MAX_PROPERTIES, event_properties
from kpi.sources.files import RawTable
from kpi.sources.mapping import Mapping, StageRule, TouchSet, currency_in_header
from kpi.sources.vocabularies import header_key, values, words

Names = tuple[str, ...]  #: header texts that mean the same thing (any language), compared by `header_key`


@dataclass(frozen=True)
class StageWords:
    """A `StageRule` whose column and values are given as alternatives (one per interface language):
    the first of `columns` in the file is the stage column; `won`/`lost` are stage values (lower case);
    `date_columns` are tried in order, `approximate` are the 'last modified' ones."""

    columns: Names
    won: Names = ()
    lost: Names = ()
    date_columns: Names = ()
    approximate: Names = ()


@dataclass(frozen=True)
class TouchWords:
    """A `TouchSet` whose columns are given as alternatives; a set whose time or channel column is not in the
    file is skipped."""

    touch_type: str
    touched_at: Names
    channel: Names
    campaign: Names = ()
    needs: str = "channel"
    extras: tuple[tuple[str, Names], ...] = ()


@dataclass(frozen=True)
class Preset:
    """One export format. Every name is a tuple of alternatives (the vocabularies' header texts in every
    language); the first alternative present in the file is used."""

    id: str
    label: str
    table: str
    signature: tuple[Names, ...]
    fields: dict[str, Names] = field(default_factory=dict)
    constants: dict[str, str] = field(default_factory=dict)
    extras: dict[str, Names] = field(default_factory=dict)
    absent: Names = ()  # headers that must NOT be present
    stage: StageWords | None = None
    range_columns: tuple[Names, Names] | None = None
    drop_first_if_empty: Names = ()
    needs_preamble: str | None = None  # text that must appear in the lines above the header
    refuse: str | None = None  # recognised, but not performance data: this message explains
    needs_join: str | None = None  # a partial table that must be joined on this key
    notes: tuple[str, ...] = ()
    keep_other_columns: bool = False  # every column not mapped becomes an extra dimension
    coalesce: dict[str, Names] = field(default_factory=dict)  # field -> more columns filling its empty cells
    fill_empty: dict[str, str] = field(default_factory=dict)  # field -> text for its empty cells
    leave_out_empty: tuple[str, str] | None = None  # (field, reason): rows where it is empty are not rows
    touch_sets: tuple[TouchWords, ...] = ()  # touches held in a row's columns (a contacts export's sources)
    time_unit: str | None = None  # events: the timestamp is Unix time in this unit (see kpi.sources.eventrules)
    utc_times: bool = False  # events: the tool writes UTC by definition, so no time zone is asked for
    event_id: Names = ()  # events: the tool's event id columns; a copy of an earlier event (same id too) is left out

    def matches(self, raw: RawTable) -> bool:
        names = {header_key(c) for c in raw.columns}
        if any(header_key(a) in names for a in self.absent):
            return False
        if self.needs_preamble and not any(self.needs_preamble in ln.lower() for ln in raw.detected.preamble):
            return False
        return all(any(header_key(n) in names for n in group) for group in self.signature)

    def mapping_for(self, raw: RawTable) -> Mapping:
        by_key: dict[str, list[str]] = {}
        for c in raw.columns:
            by_key.setdefault(header_key(c), []).append(c)

        def present(candidates: Names) -> list[str]:
            return [c for n in candidates for c in by_key.get(header_key(n), [])]

        def pick(candidates: Names) -> str | None:
            found = present(candidates)
            # the first candidate that has any value
            return next((c for c in found if raw.has_value(c)), found[0] if found else None)

        fields: dict[str, str] = {}
        for fld, cands in self.fields.items():
            if (col := pick(cands)) is not None:
                fields[fld] = col
        extras: dict[str, str] = {}
        for name, cands in self.extras.items():
            if (col := pick(cands)) is not None and col not in fields.values():
                extras[name] = col
        rc = None
        if self.range_columns and all(present(r) for r in self.range_columns):
            rc = (present(self.range_columns[0])[0], present(self.range_columns[1])[0])
        stage = None
        if self.stage and (stage_columns := present(self.stage.columns)):
            s = self.stage
            stage = StageRule(stage_columns[0], s.won, s.lost, tuple(dict.fromkeys(present(s.date_columns))),
                              tuple(dict.fromkeys(present(s.approximate))))
        if self.keep_other_columns:
            used = {*fields.values(), *extras.values(), *(rc or ())}
            extras.update({c: c for c in raw.columns if c not in used})
        constants = self._constants(fields)
        title = raw.detected.preamble[0].strip().lstrip("#").strip() if raw.detected.preamble else ""
        label = self.label + (f" ({title})" if title and "report" in title.lower() and "#" not in title else "")
        drop = next(iter(present(self.drop_first_if_empty)), None)
        coalesce = {f: tuple(c for c in dict.fromkeys(present(cands)) if c != fields[f])
                    for f, cands in self.coalesce.items() if f in fields}
        notes = self.notes
        if self.table == "events":
            used = {*fields.values(), *(c for cols in coalesce.values() for c in cols)}
            extras, dropped = event_properties(raw, used, extras)
            if dropped:
                notes += (f"{len(dropped)} more propert{'y' if len(dropped) == 1 else 'ies'} left out (at most "
                          f"{MAX_PROPERTIES} are kept, the most filled first): {', '.join(dropped[:15])}"
                          f"{' …' if len(dropped) > 15 else ''}",)
        return Mapping(self.table, fields, constants, extras, stage, None, rc, None, drop, label, notes,
                       {f: cols for f, cols in coalesce.items() if cols}, dict(self.fill_empty), self.leave_out_empty,
                       self._touch_sets(pick), time_unit=self.time_unit, utc_times=self.utc_times,
                       event_id=tuple(dict.fromkeys(present(self.event_id))))

    def _constants(self, fields: dict[str, str]) -> dict[str, str]:
        """The preset's constants, with the currency a mapped header states (`Amount spent (INR)`) when
        neither a field nor a constant gives one (the last such header wins)."""
        constants = dict(self.constants)
        if "currency" not in fields and "currency" not in constants:
            for c in fields.values():
                if cur := _currency_of(c):
                    constants["currency"] = cur
        return constants

    def _touch_sets(self, pick: Callable[[Names], str | None]) -> tuple[TouchSet, ...]:
        """The touch sets whose time and channel columns (and campaign, when it needs one) the file has,
        with the columns `pick` chose."""
        touch_sets = []
        for ts in self.touch_sets:
            when, channel, campaign = pick(ts.touched_at), pick(ts.channel), pick(ts.campaign)
            if when is None or channel is None or (ts.needs == "campaign" and campaign is None):
                continue
            kept = tuple((name, col) for name, cands in ts.extras if (col := pick(cands)) is not None)
            touch_sets.append(TouchSet(ts.touch_type, when, channel, campaign, ts.needs, kept))
        return tuple(touch_sets)


def _currency_of(header: str) -> str | None:
    """The currency a header states: `Amount spent (INR)` → INR; Yandex's `Расход (руб.)` / `Расход, ₽` → RUB."""
    if cur := currency_in_header(header):
        return cur
    return "RUB" if re.search(r"(\(руб\.?\)|,\s*₽|\(₽\))\s*$", header.strip().lower()) else None


def _v(source: str) -> Callable[..., tuple[str, ...]]:
    """The header texts of `source`'s vocabulary for some keys (every language, English first)."""
    return lambda *keys: words(source, *keys)


def _stage_values(source: str) -> Callable[..., tuple[str, ...]]:
    """The stage names of `source`'s vocabulary for some keys, as a CRM writes them in its rows."""
    return lambda *keys: values(source, *keys)


def _canonical(table: str, signature: tuple[Names, ...], range_columns: tuple[str, str] | None = None) -> Preset:
    """A file whose columns already carry the canonical names of `table` (what `python -m kpi` writes,
    or a sheet someone prepared): each canonical column feeds itself, every other column is kept as
    an extra dimension. Tried last, after every tool's own format."""
    columns = TABLES[table].dtypes
    fields: dict[str, Names] = {c: (c,) for c in columns if range_columns is None or c not in range_columns}
    return Preset(f"canonical_{table}", f"Canonical {table} table", table, signature, fields=fields,
                  range_columns=((range_columns[0],), (range_columns[1],)) if range_columns else None,
                  keep_other_columns=True)


_META, _GADS, _LI, _GA4 = _v("meta_ads"), _v("google_ads"), _v("linkedin_ads"), _v("ga4")
_HS, _SF, _PD, _AMO, _BX = _v("hubspot"), _v("salesforce"), _v("pipedrive"), _v("amocrm"), _v("bitrix24")
_YD, _VK, _YM = _v("yandex_direct"), _v("vk_ads"), _v("yandex_metrica")
_T = _v("touches")

#: touch_type of the touches read from a contact's source fields (HubSpot's original and latest source, its
#: converting campaign): at most three per contact, not a journey; the pages say so when they see these
DERIVED_TOUCH_TYPES = ("original source (derived)", "latest source (derived)", "last converting campaign (derived)",
                       "GA4 first-user campaign (derived)", "GA4 session campaign (derived)")

#: channel of a Salesforce campaign member whose campaign has no Type (or whose report has no Type column)
SF_NO_TYPE = "Salesforce campaign"
_HS_S, _SF_S, _AMO_S, _BX_S = (_stage_values(s) for s in ("hubspot", "salesforce", "amocrm", "bitrix24"))

_GADS_DIMS = {k: _GADS(k) for k in ("ad_group", "keyword", "match_type", "location", "campaign_type", "ad_type",
                                    "network", "device")}


def _props(prefix: str, **names: str | tuple[str, ...]) -> dict[str, Names]:
    """Named event properties: name → the columns that may hold it (`prefix` + key), first with a value wins."""
    return {name: tuple(prefix + k for k in ((keys,) if isinstance(keys, str) else keys))
            for name, keys in names.items()}


_UTM = ("utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term")

#: Event exports (see kpi.sources.eventfiles for how nested ones are read, kpi.sources.eventrules for the rules).
#: Identity: PostHog person_id else distinct_id; Mixpanel distinct_id as written ($device_id-prefixed ids kept);
#: Amplitude user_id else device_id; GA4 user_id else user_pseudo_id. The report counts the fallbacks.
EVENT_PRESETS: tuple[Preset, ...] = (
    Preset("posthog_events", "PostHog events export", "events",
           (("event",), ("distinct_id",), ("timestamp",)),
           fields={"user_id": ("person_id", "distinct_id"), "timestamp": ("timestamp",), "event": ("event",)},
           coalesce={"user_id": ("distinct_id",)},
           extras={"distinct_id": ("distinct_id",),
                   **_props("properties.", current_url="$current_url", pathname="$pathname", referrer="$referrer",
                            referring_domain="$referring_domain", browser="$browser", os="$os",
                            device_type="$device_type", country=("$geoip_country_code", "$geoip_country_name"),
                            city="$geoip_city_name", session_id="$session_id", **{u: u for u in _UTM})},
           utc_times=True, event_id=("uuid",),
           notes=("Persons are PostHog's person_id (an anonymous visitor and the user they identify as share it); "
                  "an event without one counts under its distinct_id.",)),
    Preset("mixpanel_events", "Mixpanel raw event export", "events",
           (("event",), ("properties.distinct_id",), ("properties.time",)),
           fields={"user_id": ("properties.distinct_id",), "timestamp": ("properties.time",), "event": ("event",)},
           extras=_props("properties.", current_url="$current_url", referrer="$referrer",
                         initial_referrer="$initial_referrer", browser="$browser", os="$os", device="$device",
                         country="mp_country_code", region="$region", city="$city", device_id="$device_id",
                         **{u: u for u in _UTM}),
           time_unit="epoch", event_id=("properties.$insert_id",),
           notes=("Persons are Mixpanel's distinct_id as exported ($device:-prefixed anonymous ids kept as they are).",
                  "Mixpanel's time is Unix time; projects created before 1 January 2023 export it in the project's "
                  "time zone: choose that zone if yours is one.")),
    Preset("amplitude_events", "Amplitude export", "events",
           (("event_type",), ("event_time",), ("amplitude_id", "device_id")),
           fields={"user_id": ("user_id", "device_id"), "timestamp": ("event_time",), "event": ("event_type",)},
           coalesce={"user_id": ("device_id",)},
           extras={**_props("", device_id="device_id", country="country", region="region", city="city",
                            platform="platform", os="os_name", device_type="device_type", language="language",
                            session_id="session_id"),
                   **_props("event_properties.", current_url=("[Amplitude] Page URL", "page_url", "url"),
                            pathname=("[Amplitude] Page Path", "page_path", "path"),
                            referrer=("[Amplitude] Page Referrer", "referrer")),
                   **{u: (f"event_properties.{u}", f"user_properties.{u}") for u in _UTM}},
           utc_times=True, event_id=("$insert_id", "uuid"),
           notes=("Persons are Amplitude's user_id, else the event's device_id (anonymous events); event_time is "
                  "UTC. Amplitude itself joins a device's anonymous events to the user it logs in as (one "
                  "amplitude_id); here they stay two persons, as the export's ids say.",)),
    Preset("ga4_bigquery_events", "GA4 BigQuery export (events_*)", "events",
           (("event_name",), ("event_timestamp",), ("user_pseudo_id",)),
           fields={"user_id": ("user_id", "user_pseudo_id"), "timestamp": ("event_timestamp",),
                   "event": ("event_name",)},
           coalesce={"user_id": ("user_pseudo_id",)},
           extras={"user_pseudo_id": ("user_pseudo_id",),
                   **_props("event_params.", current_url="page_location", page_title="page_title",
                            referrer="page_referrer", session_id="ga_session_id"),
                   **{u: (f"collected_traffic_source.manual_{k}", f"event_params.{k}")
                      for u, k in zip(_UTM, ("source", "medium", "campaign_name", "content", "term"), strict=True)},
                   "first_user_source": ("traffic_source.source",), "first_user_medium": ("traffic_source.medium",),
                   "first_user_campaign": ("traffic_source.name",),
                   **_props("geo.", country="country", region="region", city="city"),
                   **_props("device.", device_type="category", os="operating_system", browser="web_info.browser"),
                   "platform": ("platform",)},
           time_unit="us", utc_times=True,
           notes=("Persons are GA4's user_id where the site sets one, else user_pseudo_id (the browser's id); "
                  "event_timestamp is microseconds UTC (event_date, in the property's time zone, is not used).",
                  "utm_* are the event's own source (collected_traffic_source, else the event's source/medium/"
                  "campaign parameters); first_user_* are traffic_source, the user's first acquisition.")),
    Preset("generic_events", "Events file (user, time, event)", "events",
           (("user_id", "user id", "userid", "distinct_id", "person_id", "visitor_id", "client_id", "användar-id",
             "användare", "besökare", "пользователь", "id пользователя", "посетитель"),
            ("timestamp", "time", "event_time", "datetime", "date time", "tidpunkt", "tid", "время",
             "дата и время", "время события"),
            ("event", "event_name", "event name", "händelse", "событие", "название события")),
           fields={"user_id": ("user_id", "user id", "userid", "distinct_id", "person_id", "visitor_id", "client_id",
                               "användar-id", "användare", "besökare", "пользователь", "id пользователя",
                               "посетитель"),
                   "timestamp": ("timestamp", "time", "event_time", "datetime", "date time", "tidpunkt", "tid",
                                 "время", "дата и время", "время события"),
                   "event": ("event", "event_name", "event name", "händelse", "событие", "название события")}),
)

PRESETS: tuple[Preset, ...] = (
    Preset("google_ads_editor", "Google Ads Editor export", "spend",
           (_GADS("campaign"), _GADS("editor_bid_strategy"), _GADS("editor_budget_type"),
            _GADS("editor_campaign_status")),
           absent=_GADS("spend", "impressions", "clicks"),
           refuse="this is a Google Ads Editor export: campaign settings (budgets, bid strategies), not performance "
                  "data. In Google Ads open Campaigns → Download → CSV (a report with Cost, Impr. and Clicks)."),
    Preset("yandex_direct", "Yandex Direct report", "spend",
           (_YD("campaign", "campaign_id"), _YD("spend"), _YD("impressions")),
           fields={"date": _YD("date"), "campaign": _YD("campaign"), "spend": _YD("spend"),
                   "impressions": _YD("impressions"), "clicks": _YD("clicks"),
                   "platform_conversions": _YD("platform_conversions"), "currency": _YD("currency")},
           constants={"channel": "Yandex Direct"},
           extras={"campaign_id": _YD("campaign_id"), "ad_group": _YD("ad_group"), "keyword": _YD("keyword"),
                   "network": _YD("network"), "placement": _YD("placement")}),
    Preset("google_ads", "Google Ads report", "spend",
           (_GADS("campaign"), _GADS("spend"), _GADS("impressions")),
           fields={"date": _GADS("date"), "campaign": _GADS("campaign"), "spend": _GADS("spend"),
                   "impressions": _GADS("impressions"), "clicks": _GADS("clicks"),
                   "platform_conversions": _GADS("platform_conversions"), "currency": _GADS("currency")},
           constants={"channel": "Google Ads"}, extras=_GADS_DIMS,
           notes=("Clicks fall back to Interactions for video and Demand Gen campaigns.",)),
    Preset("meta_ads", "Meta Ads Manager export", "spend",
           (_META("campaign", "ad_set", "ad"), _META("spend"), _META("reporting_starts")),
           fields={"date": _META("date"), "campaign": _META("campaign"), "spend": _META("spend"),
                   "impressions": _META("impressions"), "clicks": _META("clicks"),
                   "platform_conversions": _META("platform_conversions"), "currency": _META("currency")},
           constants={"channel": "Meta"},
           extras={k: _META(k) for k in ("ad_set", "ad", "age", "gender", "region", "device", "placement",
                                         "platform")},
           range_columns=(_META("reporting_starts"), _META("reporting_ends")),
           drop_first_if_empty=_META("campaign"),
           notes=("The first row with an empty campaign name is Meta's account total and is not counted.",
                  "Clicks are link clicks (what Meta's CPC uses) when the export has them.")),
    Preset("facebook_ads_kag", "Facebook ad-level export (KAG)", "spend",
           (("ad_id",), ("xyz_campaign_id",), ("spent",), ("impressions",)),
           fields={"campaign": ("xyz_campaign_id",), "spend": ("spent",), "impressions": ("impressions",),
                   "clicks": ("clicks",), "platform_conversions": ("total_conversion",)},
           constants={"channel": "Meta"},
           extras={"ad_set": ("fb_campaign_id",), "ad": ("ad_id",), "age": ("age",), "gender": ("gender",),
                   "interest": ("interest",)},
           notes=("Rows are lifetime totals per ad without dates: give the period they cover.",)),
    Preset("vk_ads", "VK Ads statistics", "spend",
           (_VK("date"), _VK("campaign", "ad_group", "ad"), _VK("spend"), _VK("impressions")),
           fields={"date": _VK("date"), "campaign": _VK("campaign", "ad_group", "ad"), "spend": _VK("spend"),
                   "impressions": _VK("impressions"), "clicks": _VK("clicks")},
           constants={"channel": "VK Ads"},
           extras={"ad_group": _VK("ad_group"), "ad": _VK("ad"), "ad_id": _VK("ad_id"),
                   "ad_group_id": _VK("ad_group_id")},
           notes=("VK Ads statistics without a campaign column are attributed to the ad group (or ad) name.",)),
    Preset("linkedin_ads", "LinkedIn Campaign Manager export", "spend",
           (_LI("campaign"), _LI("spend"), _LI("impressions"), _LI("account_context")),
           fields={"date": _LI("date"), "campaign": _LI("campaign"), "spend": _LI("spend"),
                   "impressions": _LI("impressions"), "clicks": _LI("clicks"),
                   "platform_conversions": _LI("platform_conversions"), "currency": _LI("currency")},
           constants={"channel": "LinkedIn"},
           extras={"campaign_group": _LI("campaign_group"), "campaign_type": _LI("campaign_type")},
           absent=_META("reporting_starts")),
    Preset("search_console", "Google Search Console performance (dates)", "traffic",
           (("date",), ("clicks",), ("impressions",), ("position",)),
           fields={"date": ("date",), "sessions": ("clicks",)},
           constants={"channel": "Organic Search", "source": "google", "medium": "organic"},
           notes=("Search Console clicks stand in for organic Google sessions; do not also import GA4 organic "
                  "traffic for the same days.",)),
    Preset("search_console_table", "Google Search Console performance table", "traffic",
           (("top queries", "top pages", "country", "device", "search appearance"), ("clicks",),
            ("impressions",), ("position",)),
           refuse="this Search Console table has no dates (queries, pages, countries or devices over the whole "
                  "range). Upload Chart.csv, the table with one row per date, from the same export."),
    Preset("ga4_traffic", "GA4 report download", "traffic",
           (_GA4("sessions"),),
           fields={k: _GA4(k) for k in ("date", "sessions", "users", "new_users", "engaged_sessions", "key_events",
                                         "revenue", "channel", "source", "medium", "campaign", "device", "country",
                                         "landing_page")},
           extras={"source_medium": _GA4("source_medium")},
           needs_preamble="#"),
    Preset("ga4_other", "GA4 report download", "traffic",
           (_GA4("other_dimension"),),
           absent=_GA4("sessions"), needs_preamble="#",
           refuse="this GA4 report has no Sessions column, so it cannot become traffic. In GA4 open Reports → "
                  "Acquisition → Traffic acquisition, add 'Date' as a dimension and download the CSV, or connect "
                  "GA4 on the Data page."),
    Preset("yandex_metrica", "Yandex Metrica report", "traffic",
           (_YM("sessions"), _YM("users"), _YM("date", "period")),
           fields={k: _YM(k) for k in ("date", "sessions", "users", "channel", "campaign", "source", "medium",
                                        "device", "country", "landing_page")}),
    Preset("hubspot_contacts", "HubSpot contacts export", "leads",
           (_HS("record_id"), _HS("create_date"), _HS("contact_marker")),
           fields={"lead_id": _HS("record_id"), "created_at": _HS("create_date"), "mql_at": _HS("mql_at"),
                   "sql_at": _HS("sql_at"), "opportunity_at": _HS("opportunity_at"), "won_at": _HS("won_at"),
                   "first_contact_at": _HS("first_contact_at"), "owner": _HS("contact_owner"),
                   "channel": _HS("channel"), "source": _HS("source"), "campaign": _HS("campaign"),
                   "region": _HS("region"), "segment": _HS("segment")},
           absent=_HS("deal_name")),
    Preset("hubspot_contact_touches", "HubSpot touches (original/latest source)", "touches",
           (_HS("record_id"), _HS("create_date"), _HS("contact_marker"), _HS("original_source", "latest_source")),
           fields={"lead_id": _HS("record_id")},
           touch_sets=(
               TouchWords(DERIVED_TOUCH_TYPES[0], _HS("create_date"), _HS("original_source"),
                          _HS("first_touch_campaign"),
                          extras=(("source_detail_1", _HS("original_source_1")),
                                  ("source_detail_2", _HS("original_source_2")))),
               TouchWords(DERIVED_TOUCH_TYPES[1], _HS("latest_source_at"), _HS("latest_source"),
                          extras=(("source_detail_1", _HS("latest_source_1")),
                                  ("source_detail_2", _HS("latest_source_2")))),
               TouchWords(DERIVED_TOUCH_TYPES[2], _HS("recent_conversion_at"), _HS("latest_source"),
                          _HS("last_touch_campaign"), needs="campaign",
                          extras=(("conversion", _HS("recent_conversion")),)),
           ),
           notes=("Touches derived from HubSpot's source fields, at most three per contact (original source at the "
                  "create date, latest source at its date, last converting campaign at the recent conversion), "
                  "not the contact's full journey; a latest source that repeats the original (same time and "
                  "channel) is counted once.",)),
    Preset("ga4_user_campaigns", "GA4 touches (first-user and session campaign, per user)", "touches",
           (_GA4("user_id"), _GA4("first_user_campaign", "campaign")),
           fields={"lead_id": _GA4("user_id")},
           touch_sets=(
               # the first-user channel in the same words as the session's (a channel group, else source / medium),
               # so that a first session's two touches are one
               TouchWords(DERIVED_TOUCH_TYPES[3], _GA4("first_session_date"),
                          _GA4("first_user_channel", "first_user_source_medium"), _GA4("first_user_campaign")),
               TouchWords(DERIVED_TOUCH_TYPES[4], _GA4("date"), _GA4("channel", "source_medium"), _GA4("campaign")),
           ),
           notes=("Touches derived from a GA4 exploration with a user id: the first-user campaign on the first "
                  "session date, and each day's session campaign; GA4 reports campaigns, not each click, so "
                  "these are the touches GA4 can tell, labelled as derived. The user id must be the CRM's lead "
                  "id for the touches to meet their leads.",)),
    Preset("hubspot_deals", "HubSpot deals export", "leads",
           (_HS("deal_record_id"), _HS("deal_name"), _HS("deal_stage"), _HS("create_date")),
           fields={"lead_id": _HS("deal_record_id"), "created_at": _HS("create_date"),
                   "opportunity_at": _HS("create_date"), "amount": _HS("amount"), "owner": _HS("deal_owner"),
                   "currency": _HS("currency"), "source": _HS("deal_source"), "campaign": _HS("deal_campaign")},
           extras={"pipeline": _HS("pipeline"), "deal_stage": _HS("deal_stage")},
           stage=StageWords(_HS("deal_stage"), _HS_S("won_stage"), _HS_S("lost_stage"),
                           _HS("close_date", "last_modified"), _HS("last_modified"))),
    Preset("salesforce_campaign_members", "Salesforce campaign members report", "touches",
           (_SF("member_campaign"), _SF("member_status"), _SF("member_first_responded", "member_responded"),
            _SF("member_lead_id", "member_contact_id")),
           fields={"lead_id": _SF("member_lead_id", "member_contact_id"),
                   "touched_at": _SF("member_first_responded"), "campaign": _SF("member_campaign"),
                   "channel": _SF("campaign_type")},
           constants={"channel": SF_NO_TYPE},
           extras={"member_status": _SF("member_status"), "member_type": _SF("member_type"),
                   "member_added": _SF("member_created")},
           coalesce={"lead_id": _SF("member_contact_id")},
           fill_empty={"channel": SF_NO_TYPE},
           leave_out_empty=("touched_at", "the member never responded (no First Responded Date): on the campaign's "
                                          "list, but not a touch"),
           notes=("A campaign member is a touch when it responded, dated by its First Responded Date; members who "
                  "were only sent or invited are left out and counted in the report.",)),
    Preset("salesforce_opportunities", "Salesforce opportunity report", "leads",
           (_SF("opportunity_name"), _SF("stage"), _SF("close_date")),
           fields={"lead_id": _SF("opportunity_id"), "created_at": _SF("created_date"),
                   "opportunity_at": _SF("created_date"), "amount": _SF("amount"), "currency": _SF("currency"),
                   "owner": _SF("opportunity_owner"), "source": _SF("lead_source"),
                   "campaign": _SF("opportunity_campaign"), "segment": _SF("opportunity_segment"),
                   "region": _SF("billing_country")},
           extras={"account": _SF("account"), "stage_name": _SF("stage")},
           stage=StageWords(_SF("stage"), _SF_S("won_stage"), _SF_S("lost_stage"), _SF("close_date"))),
    Preset("salesforce_leads", "Salesforce lead report", "leads",
           (_SF("lead_owner"), _SF("lead_status"), _SF("created_date")),
           fields={"lead_id": _SF("lead_id"), "created_at": _SF("created_date"),
                   "opportunity_at": _SF("converted_date"), "owner": _SF("lead_owner"), "source": _SF("lead_source"),
                   "campaign": _SF("lead_campaign"), "segment": _SF("industry"), "region": _SF("lead_region")},
           extras={"lead_status": _SF("lead_status")},
           stage=StageWords(_SF("lead_status"), (), _SF_S("lead_lost_status"), _SF("last_modified"),
                           _SF("last_modified")),
           notes=("A lead counts as an opportunity when it has a Converted Date.",)),
    Preset("pipedrive_deals", "Pipedrive deals export", "leads",
           (_PD("id"), _PD("title"), _PD("created")),
           fields={"lead_id": _PD("id"), "created_at": _PD("created"), "won_at": _PD("won_at"),
                   "lost_at": _PD("lost_at"), "amount": _PD("amount"), "currency": _PD("currency"),
                   "owner": _PD("owner"), "source": _PD("source"), "region": _PD("region")},
           extras={"pipeline": _PD("pipeline"), "deal_stage": _PD("deal_stage"), "lost_reason": _PD("lost_reason")}),
    Preset("amocrm_leads", "amoCRM deals export", "leads",
           (_AMO("id"), _AMO("deal_created"), _AMO("deal_stage")),
           fields={"lead_id": _AMO("id"), "created_at": _AMO("deal_created"), "amount": _AMO("amount"),
                   "owner": _AMO("owner"), "source": _AMO("source"), "medium": _AMO("medium"),
                   "campaign": _AMO("campaign"), "region": _AMO("region")},
           extras={"pipeline": _AMO("pipeline"), "deal_stage": _AMO("deal_stage"), "product": _AMO("product")},
           stage=StageWords(_AMO("deal_stage"), _AMO_S("won_stage"), _AMO_S("lost_stage"),
                           _AMO("close_date", "modified_date"), _AMO("modified_date")),
           notes=("amoCRM writes 'не закрыта' (not closed) as the close date of open deals.",)),
    Preset("amocrm_contacts", "amoCRM contacts export", "leads",
           (_AMO("id"), _AMO("contact_created")),
           fields={"lead_id": _AMO("id"), "created_at": _AMO("contact_created"), "owner": _AMO("owner"),
                   "source": _AMO("source"), "region": _AMO("region")}),
    Preset("bitrix24_deals", "Bitrix24 deals export", "leads",
           (_BX("id"), _BX("deal_stage"), _BX("created")),
           fields={"lead_id": _BX("id"), "created_at": _BX("created"), "amount": _BX("amount"),
                   "currency": _BX("currency"), "owner": _BX("owner"), "source": _BX("source"),
                   "medium": _BX("medium"), "campaign": _BX("campaign")},
           extras={"pipeline": _BX("pipeline"), "deal_stage": _BX("deal_stage")},
           stage=StageWords(_BX("deal_stage"), _BX_S("deal_won_stage"), _BX_S("deal_lost_stage"),
                           _BX("close_date", "modified"), _BX("modified"))),
    Preset("bitrix24_leads", "Bitrix24 leads export", "leads",
           (_BX("id"), _BX("lead_status"), _BX("created"), _BX("lead_title")),
           fields={"lead_id": _BX("id"), "created_at": _BX("created"), "amount": _BX("amount"),
                   "currency": _BX("currency"), "owner": _BX("owner"), "source": _BX("source"),
                   "medium": _BX("medium"), "campaign": _BX("campaign")},
           extras={"lead_status": _BX("lead_status")},
           stage=StageWords(_BX("lead_status"), (), _BX_S("lead_lost_status"), _BX("modified"), _BX("modified")),
           notes=("Bitrix24 leads that became deals ('Качественный лид') have no dated stage in this export; "
                  "import the deals export for won/lost.",)),
    Preset("olist_mql", "Olist marketing-qualified leads", "leads",
           (("mql_id",), ("first_contact_date",)),
           fields={"lead_id": ("mql_id",), "created_at": ("first_contact_date",), "mql_at": ("first_contact_date",),
                   "channel": ("origin",)},
           extras={"landing_page": ("landing_page_id",)}),
    Preset("olist_closed_deals", "Olist closed deals", "leads",
           (("mql_id",), ("won_date",)),
           fields={"lead_id": ("mql_id",), "won_at": ("won_date",), "owner": ("sr_id",),
                   "segment": ("business_segment",)},
           extras={"sdr": ("sdr_id",), "lead_type": ("lead_type",), "business_type": ("business_type",)},
           needs_join="lead_id"),
    Preset("generic_touches", "Touches file (lead, time, channel, campaign)", "touches",
           (_T("lead_id"), _T("touched_at"), _T("channel", "utm_source", "utm_medium")),
           fields={"lead_id": _T("lead_id"), "touched_at": _T("touched_at"), "channel": _T("channel"),
                   "campaign": _T("campaign"), "touch_type": _T("touch_type")},
           extras={"source": _T("utm_source"), "medium": _T("utm_medium")}),
    *EVENT_PRESETS,
    _canonical("leads", (("lead_id",), ("created_at",))),
    _canonical("spend", (("date", "period_start"), ("spend",)), ("period_start", "period_end")),
    _canonical("traffic", (("date", "period_start"), ("sessions",)), ("period_start", "period_end")),
    _canonical("touches", (("lead_id",), ("touched_at",), ("channel", "utm_source", "utm_medium"))),
)

BY_ID: dict[str, Preset] = {p.id: p for p in PRESETS}


def recognise(raw: RawTable) -> Preset | None:
    """The first preset whose signature the file's header matches, or None."""
    return next((p for p in PRESETS if p.matches(raw)), None)
