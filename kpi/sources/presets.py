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
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kpi.sources.files import RawTable
from kpi.sources.mapping import Mapping, StageRule, currency_in_header, norm


@dataclass(frozen=True)
class Preset:
    id: str
    label: str
    table: str
    signature: tuple[tuple[str, ...], ...]
    fields: dict[str, tuple[str, ...]] = field(default_factory=dict)
    constants: dict[str, str] = field(default_factory=dict)
    extras: dict[str, tuple[str, ...]] = field(default_factory=dict)
    absent: tuple[str, ...] = ()  # headers that must NOT be present
    stage: StageRule | None = None
    range_columns: tuple[str, str] | None = None
    drop_first_if_empty: str | None = None
    needs_preamble: str | None = None  # text that must appear in the lines above the header
    refuse: str | None = None  # recognised, but not performance data: this message explains
    needs_join: str | None = None  # a partial table that must be joined on this key
    notes: tuple[str, ...] = ()

    def matches(self, raw: RawTable) -> bool:
        names = {norm(c) for c in raw.columns}
        if any(a in names for a in self.absent):
            return False
        if self.needs_preamble and not any(self.needs_preamble in ln.lower() for ln in raw.detected.preamble):
            return False
        return all(any(n in names for n in group) for group in self.signature)

    def mapping_for(self, raw: RawTable) -> Mapping:
        by_norm: dict[str, list[str]] = {}
        for c in raw.columns:
            by_norm.setdefault(norm(c), []).append(c)

        def pick(candidates: tuple[str, ...]) -> str | None:
            present = [c for n in candidates for c in by_norm.get(n, [])]
            # the first candidate that has any value
            return next((c for c in present if raw.has_value(c)), present[0] if present else None)

        fields: dict[str, str] = {}
        for fld, cands in self.fields.items():
            if (col := pick(cands)) is not None:
                fields[fld] = col
        extras: dict[str, str] = {}
        for name, cands in self.extras.items():
            if (col := pick(cands)) is not None and col not in fields.values():
                extras[name] = col
        constants = dict(self.constants)
        if "currency" not in fields and "currency" not in constants:
            for c in raw.columns:
                cur = currency_in_header(c)
                if cur and c in fields.values():
                    constants["currency"] = cur
        title = raw.detected.preamble[0].strip().lstrip("#").strip() if raw.detected.preamble else ""
        label = self.label + (f" ({title})" if title and "report" in title.lower() and "#" not in title else "")
        stage = None
        if self.stage and self.stage.column in by_norm:
            s = self.stage
            dates = tuple(by_norm[d][0] for d in s.date_columns if d in by_norm)
            approx = tuple(by_norm[d][0] for d in s.approximate if d in by_norm)
            stage = StageRule(by_norm[s.column][0], s.won, s.lost, dates, approx)
        rc = None
        if self.range_columns and all(r in by_norm for r in self.range_columns):
            rc = (by_norm[self.range_columns[0]][0], by_norm[self.range_columns[1]][0])
        drop = by_norm[self.drop_first_if_empty][0] if self.drop_first_if_empty in by_norm else None
        return Mapping(self.table, fields, constants, extras, stage, None, rc, None, drop, label, self.notes)


_GADS_DIMS = {"ad_group": ("ad group",), "keyword": ("keyword", "search keyword"), "match_type": ("match type",),
              "location": ("location",), "campaign_type": ("campaign type",), "ad_type": ("ad type",),
              "network": ("network", "network (with search partners)"), "device": ("device",)}

PRESETS: tuple[Preset, ...] = (
    Preset("google_ads_editor", "Google Ads Editor export", "spend",
           (("campaign",), ("bid strategy type",), ("budget type",), ("campaign status",)),
           absent=("cost", "impr.", "impressions", "clicks"),
           refuse="this is a Google Ads Editor export: campaign settings (budgets, bid strategies), not performance "
                  "data. In Google Ads open Campaigns → Download → CSV (a report with Cost, Impr. and Clicks)."),
    Preset("google_ads", "Google Ads report", "spend",
           (("campaign", "kampanj", "кампания"), ("cost", "kostnad", "стоимость", "расход"),
            ("impr.", "impressions", "visningar", "показы")),
           fields={"date": ("day", "date", "dag", "datum", "день"), "campaign": ("campaign", "kampanj", "кампания"),
                   "spend": ("cost", "kostnad", "стоимость", "расход"),
                   "impressions": ("impr.", "impressions", "visningar", "показы"),
                   "clicks": ("clicks", "klick", "клики", "interactions", "interaktioner"),
                   "platform_conversions": ("conversions", "konverteringar", "конверсии"),
                   "currency": ("currency code", "valutakod", "valuta", "валюта")},
           constants={"channel": "Google Ads"}, extras=_GADS_DIMS,
           notes=("Clicks fall back to Interactions for video and Demand Gen campaigns.",)),
    Preset("meta_ads", "Meta Ads Manager export", "spend",
           (("campaign name", "ad set name", "ad name"), ("amount spent",), ("reporting starts",)),
           fields={"date": ("day",), "campaign": ("campaign name",), "spend": ("amount spent",),
                   "impressions": ("impressions",), "clicks": ("link clicks", "clicks (all)", "clicks"),
                   "platform_conversions": ("results", "leads", "purchases"), "currency": ("currency",)},
           constants={"channel": "Meta"},
           extras={"ad_set": ("ad set name",), "ad": ("ad name",), "age": ("age",), "gender": ("gender",),
                   "region": ("region",), "device": ("device platform", "impression device"),
                   "placement": ("placement",), "platform": ("platform",)},
           range_columns=("reporting starts", "reporting ends"), drop_first_if_empty="campaign name",
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
    Preset("linkedin_ads", "LinkedIn Campaign Manager export", "spend",
           (("campaign name", "campaign"), ("total spent", "amount spent"), ("impressions",),
            ("campaign group name", "campaign group", "start date (in utc)", "account name")),
           fields={"date": ("start date (in utc)", "date", "day"), "campaign": ("campaign name", "campaign"),
                   "spend": ("total spent", "amount spent"), "impressions": ("impressions",),
                   "clicks": ("clicks",), "platform_conversions": ("conversions", "leads"),
                   "currency": ("currency",)},
           constants={"channel": "LinkedIn"},
           extras={"campaign_group": ("campaign group name", "campaign group"), "campaign_type": ("campaign type",)},
           absent=("reporting starts",)),
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
           (("sessions",),),
           fields={"date": ("date", "day"), "sessions": ("sessions",),
                   "users": ("total users", "active users", "users"), "new_users": ("new users",),
                   "engaged_sessions": ("engaged sessions",), "key_events": ("key events", "conversions"),
                   "revenue": ("total revenue", "purchase revenue"),
                   "channel": ("session default channel group", "session primary channel group (default channel group)",
                               "default channel group"),
                   "source": ("session source",), "medium": ("session medium",), "campaign": ("session campaign",),
                   "device": ("device category",), "country": ("country",),
                   "landing_page": ("landing page", "landing page + query string", "page path + query string")},
           extras={"source_medium": ("session source / medium",)},
           needs_preamble="#"),
    Preset("ga4_other", "GA4 report download", "traffic",
           (("event name", "page path and screen class", "page path + query string", "nth day", "nth month",
             "first user primary channel group (default channel group)", "country id", "cohort", "landing page",
             "country", "page title"),),
           absent=("sessions",), needs_preamble="#",
           refuse="this GA4 report has no Sessions column, so it cannot become traffic. In GA4 open Reports → "
                  "Acquisition → Traffic acquisition, add 'Date' as a dimension and download the CSV, or connect "
                  "GA4 on the Data page."),
    Preset("hubspot_contacts", "HubSpot contacts export", "leads",
           (("record id", "contact id"), ("create date",), ("first name", "email", "lifecycle stage")),
           fields={"lead_id": ("record id", "contact id"), "created_at": ("create date",),
                   "mql_at": ('date entered marketing qualified lead (lifecycle stage pipeline)',
                              "became a marketing qualified lead date"),
                   "sql_at": ('date entered sales qualified lead (lifecycle stage pipeline)',
                              "became a sales qualified lead date"),
                   "opportunity_at": ('date entered opportunity (lifecycle stage pipeline)',
                                      "became an opportunity date"),
                   "won_at": ('date entered customer (lifecycle stage pipeline)', "became a customer date"),
                   "first_contact_at": ("date of first engagement",),
                   "owner": ("contact owner", "hubspot owner"),
                   "channel": ("original traffic source", "original source"),
                   "source": ("original traffic source drill-down 1", "original source drill-down 1"),
                   "campaign": ("first touch converting campaign", "utm_campaign"),
                   "region": ("country/region", "country"), "segment": ("industry",)},
           absent=("deal name",)),
    Preset("hubspot_deals", "HubSpot deals export", "leads",
           (("record id", "deal id"), ("deal name",), ("deal stage",), ("create date",)),
           fields={"lead_id": ("record id", "deal id"), "created_at": ("create date",),
                   "opportunity_at": ("create date",), "amount": ("amount",), "owner": ("deal owner",),
                   "currency": ("currency",), "source": ("original traffic source", "original source type"),
                   "campaign": ("campaign",)},
           extras={"pipeline": ("pipeline",), "deal_stage": ("deal stage",)},
           stage=StageRule("deal stage", ("closed won",), ("closed lost",), ("close date", "last modified date"),
                           ("last modified date",))),
    Preset("salesforce_opportunities", "Salesforce opportunity report", "leads",
           (("opportunity name",), ("stage",), ("close date",)),
           fields={"lead_id": ("opportunity id", "opportunity name"), "created_at": ("created date", "create date"),
                   "opportunity_at": ("created date", "create date"), "amount": ("amount",),
                   "currency": ("opportunity currency", "amount currency"),
                   "owner": ("opportunity owner",), "source": ("lead source",),
                   "campaign": ("primary campaign source", "campaign name"), "segment": ("type", "industry"),
                   "region": ("billing country",)},
           extras={"account": ("account name",), "stage_name": ("stage",)},
           stage=StageRule("stage", ("closed won",), ("closed lost",), ("close date",))),
    Preset("salesforce_leads", "Salesforce lead report", "leads",
           (("lead owner",), ("lead status",), ("create date", "created date")),
           fields={"lead_id": ("lead id", "id"), "created_at": ("create date", "created date"),
                   "opportunity_at": ("converted date",), "owner": ("lead owner",), "source": ("lead source",),
                   "campaign": ("campaign name", "primary campaign source"), "segment": ("industry",),
                   "region": ("country", "state/province")},
           extras={"lead_status": ("lead status",)},
           stage=StageRule("lead status", (), ("closed - not converted", "unqualified", "disqualified"),
                           ("last modified date", "last activity"), ("last modified date", "last activity")),
           notes=("A lead counts as an opportunity when it has a Converted Date.",)),
    Preset("pipedrive_deals", "Pipedrive deals export", "leads",
           (("deal - id", "id"), ("deal - title", "title"), ("deal - deal created", "deal created")),
           fields={"lead_id": ("deal - id", "id"), "created_at": ("deal - deal created", "deal created"),
                   "won_at": ("deal - won time", "won time"), "lost_at": ("deal - lost time", "lost time"),
                   "amount": ("deal - value", "value"), "currency": ("deal - currency of value", "currency of value",
                                                                     "deal - currency", "currency"),
                   "owner": ("deal - owner", "owner"), "source": ("deal - source origin", "source origin",
                                                                  "deal - source channel", "source channel"),
                   "region": ("organization - country", "country")},
           extras={"pipeline": ("deal - pipeline", "pipeline"), "deal_stage": ("deal - stage", "stage"),
                   "lost_reason": ("deal - lost reason", "lost reason")}),
    Preset("amocrm_leads", "amoCRM deals export", "leads",
           (("id",), ("дата создания сделки",), ("этап сделки",)),
           fields={"lead_id": ("id",), "created_at": ("дата создания сделки",), "amount": ("бюджет",),
                   "owner": ("ответственный",), "source": ("utm_source", "источник"), "medium": ("utm_medium",),
                   "campaign": ("utm_campaign",), "region": ("город",)},
           extras={"pipeline": ("воронка",), "deal_stage": ("этап сделки",), "product": ("товар",)},
           stage=StageRule("этап сделки", ("успешно реализовано",), ("закрыто и не реализовано",),
                           ("дата закрытия", "дата редактирования"), ("дата редактирования",)),
           notes=("amoCRM writes 'не закрыта' (not closed) as the close date of open deals.",)),
    Preset("amocrm_contacts", "amoCRM contacts export", "leads",
           (("id",), ("дата создания контакта",)),
           fields={"lead_id": ("id",), "created_at": ("дата создания контакта",), "owner": ("ответственный",),
                   "source": ("источник",), "region": ("город",)}),
    Preset("bitrix24_deals", "Bitrix24 deals export", "leads",
           (("id",), ("стадия сделки",), ("дата создания",)),
           fields={"lead_id": ("id",), "created_at": ("дата создания",), "amount": ("сумма", "сумма сделки"),
                   "currency": ("валюта",), "owner": ("ответственный",), "source": ("utm source", "источник"),
                   "medium": ("utm medium",), "campaign": ("utm campaign",)},
           extras={"pipeline": ("направление", "воронка"), "deal_stage": ("стадия сделки",)},
           stage=StageRule("стадия сделки", ("сделка успешна", "успешно реализовано"),
                           ("сделка провалена", "анализ причины провала", "закрыто и не реализовано"),
                           ("дата закрытия", "дата изменения"), ("дата изменения",))),
    Preset("bitrix24_leads", "Bitrix24 leads export", "leads",
           (("id",), ("статус",), ("дата создания",), ("название лида",)),
           fields={"lead_id": ("id",), "created_at": ("дата создания",), "amount": ("сумма",),
                   "currency": ("валюта",), "owner": ("ответственный",), "source": ("utm source", "источник"),
                   "medium": ("utm medium",), "campaign": ("utm campaign",)},
           extras={"lead_status": ("статус",)},
           stage=StageRule("статус", (), ("некачественный лид", "забраковано"),
                           ("дата изменения",), ("дата изменения",)),
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
)

BY_ID: dict[str, Preset] = {p.id: p for p in PRESETS}


def recognise(raw: RawTable) -> Preset | None:
    """The first preset whose signature the file's header matches, or None."""
    return next((p for p in PRESETS if p.matches(raw)), None)
