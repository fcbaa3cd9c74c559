"""Which column of a file feeds which canonical field: the `Mapping`, suggestions for files we do
not recognise, and mappings saved for the next file with the same header shape."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping as AnyMapping
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

import polars as pl

from kpi.schema import TABLES
from kpi.sources.values import looks_numeric, parse_dates
from kpi.store import DamagedDocument, Store, StoreError


def norm(name: str) -> str:
    """A header as compared against presets: lower case, single spaces, no quotes, no currency suffix."""
    text = name.replace("\ufeff", "").replace('"', "").strip().lower()
    text = re.sub(r"\s+", " ", text)
    return re.sub(r"\s*\((?:[a-z]{3})\)$", "", text)


def currency_in_header(name: str) -> str | None:
    """`Amount spent (INR)` → 'INR'."""
    m = re.search(r"\(([A-Z]{3})\)\s*$", name.strip())
    return m.group(1) if m else None


@dataclass(frozen=True)
class StageRule:
    """Stage dates from a CRM that writes the current stage plus a date.

    Rows whose `column` value is one of `won` get `won_at` from the first of `date_columns` that has a
    value; `lost` likewise gets `lost_at`. When only a 'last modified' column is available the date is
    an upper bound of when the stage was reached, and the report says so (`approximate=True`).
    Intermediate stages (MQL, SQL) cannot be dated from such an export and are left empty.
    """

    column: str
    won: tuple[str, ...] = ()
    lost: tuple[str, ...] = ()
    date_columns: tuple[str, ...] = ()
    approximate: tuple[str, ...] = ()  # which of date_columns are only 'last modified' dates


@dataclass(frozen=True)
class TouchSet:
    """One touch a row of a contacts export holds in its own columns (HubSpot's original source at the
    create date): rows with an empty `needs` column (channel or campaign) have no such touch."""

    touch_type: str
    touched_at: str
    channel: str
    campaign: str | None = None
    needs: str = "channel"  # the field whose column must have a value: channel or campaign
    extras: tuple[tuple[str, str], ...] = ()  # (extra dimension name, column)


@dataclass
class Mapping:
    """How one file becomes one canonical table.

    `fields` maps canonical field → source column; `constants` fills a field with one value for every
    row (channel 'Meta', currency from a header); `extras` keeps source columns as extra text
    dimensions under a snake_case name. `period` gives the date range for exports aggregated over a
    range without a date column (spend only).
    """

    table: str
    fields: dict[str, str] = field(default_factory=dict)
    constants: dict[str, str] = field(default_factory=dict)
    extras: dict[str, str] = field(default_factory=dict)
    stage: StageRule | None = None
    period: tuple[date, date] | None = None
    range_columns: tuple[str, str] | None = None  # per-row period_start/period_end columns
    dayfirst: bool | None = None
    drop_first_if_empty: str | None = None  # Meta's account-total first row has an empty campaign
    label: str = "custom mapping"
    notes: tuple[str, ...] = ()
    #: field -> further columns whose text fills the field's empty cells, in order (Salesforce's Lead ID,
    #: then Contact ID: a campaign member is one or the other)
    coalesce: dict[str, tuple[str, ...]] = field(default_factory=dict)
    #: field -> text for its empty cells (a campaign without a type), reported as changed
    fill_empty: dict[str, str] = field(default_factory=dict)
    #: (field, reason): rows whose field is empty are not rows of the table (a campaign member that never
    #: responded is not a touch); they are left out and listed with the reason
    leave_out_empty: tuple[str, str] | None = None
    #: touches held in a row's columns (several per row); set, the file becomes touches through these alone
    touch_sets: tuple[TouchSet, ...] = ()
    #: events: the timestamp column holds Unix time in this unit ('s', 'ms', 'us', or 'epoch' to tell by size)
    time_unit: str | None = None
    #: events: the IANA time zone of timestamps written without a UTC offset (None: UTC)
    timezone: str | None = None
    #: events: the tool writes its times in UTC by definition (GA4, Amplitude, PostHog): no time zone applies
    utc_times: bool = False
    #: events: the columns of the tool's event id ($insert_id, uuid): an event repeating an earlier one's person,
    #: time, name and id is a copy (Mixpanel's raw export is not deduplicated) and is left out
    event_id: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["period"] = [d.isoformat() for d in self.period] if self.period else None
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Mapping:
        data = dict(data)
        stage = data.pop("stage", None)
        period = data.pop("period", None)
        rc = data.pop("range_columns", None)
        notes = tuple(data.pop("notes", ()))
        coalesce = {str(k): tuple(v) for k, v in data.pop("coalesce", {}).items()}
        leave_out = data.pop("leave_out_empty", None)
        event_id = tuple(data.pop("event_id", ()))
        touch_sets = tuple(TouchSet(**{**t, "extras": tuple(tuple(e) for e in t.get("extras", ()))})
                           for t in data.pop("touch_sets", ()))
        rule = None
        if stage:
            rule = StageRule(stage["column"], tuple(stage["won"]), tuple(stage["lost"]), tuple(stage["date_columns"]),
                             tuple(stage["approximate"]))
        return cls(**data, stage=rule,
                   period=(date.fromisoformat(period[0]), date.fromisoformat(period[1])) if period else None,
                   range_columns=(rc[0], rc[1]) if rc else None, notes=notes, coalesce=coalesce,
                   leave_out_empty=(leave_out[0], leave_out[1]) if leave_out else None, touch_sets=touch_sets,
                   event_id=event_id)


# --- suggestions ----------------------------------------------------------------------------------------

#: Canonical field → header words that usually mean it (normalised, English, Swedish, Russian).
SYNONYMS: dict[str, tuple[str, ...]] = {
    "lead_id": ("lead id", "lead_id", "id", "record id", "contact id", "deal id", "opportunity id", "mql_id",
                "deal - id", "лид id", "ид"),
    "created_at": ("created_at", "create date", "created date", "created", "date created", "creation date",
                   "skapad", "skapat datum", "дата создания", "first_contact_date"),
    "first_contact_at": ("first contact", "first contact date", "first_contact_at", "första kontakt"),
    "mql_at": ("mql date", "mql_at", "became a marketing qualified lead date"),
    "sql_at": ("sql date", "sql_at", "became a sales qualified lead date"),
    "opportunity_at": ("opportunity date", "opportunity_at", "became an opportunity date"),
    "won_at": ("won date", "won_at", "won_date", "won time", "closed won date", "vunnen", "дата закрытия"),
    "lost_at": ("lost date", "lost_at", "lost time", "förlorad"),
    "amount": ("amount", "deal value", "value", "revenue", "belopp", "värde", "бюджет", "сумма"),
    "currency": ("currency", "currency code", "valuta", "валюта"),
    "channel": ("channel", "kanal", "канал", "default channel group", "session default channel group"),
    "source": ("source", "lead source", "källa", "источник", "utm_source"),
    "medium": ("medium", "utm_medium"),
    "campaign": ("campaign", "campaign name", "kampanj", "кампания", "utm_campaign"),
    "initiative": ("initiative", "initiativ", "инициатива"),
    "segment": ("segment", "industry", "bransch", "сегмент"),
    "region": ("region", "country", "land", "city", "город", "страна", "регион"),
    "owner": ("owner", "lead owner", "deal owner", "ägare", "ansvarig", "ответственный", "sales rep"),
    "date": ("date", "day", "datum", "dag", "дата", "день"),
    "spend": ("spend", "cost", "amount spent", "spent", "kostnad", "belopp spenderat", "расход", "затраты"),
    "impressions": ("impressions", "impr.", "visningar", "показы"),
    "clicks": ("clicks", "klick", "клики"),
    "platform_conversions": ("conversions", "konverteringar", "конверсии", "results"),
    "sessions": ("sessions", "sessioner", "сеансы", "визиты"),
    "users": ("users", "total users", "active users", "användare", "пользователи"),
    "new_users": ("new users", "nya användare", "новые пользователи"),
    "engaged_sessions": ("engaged sessions", "engagerade sessioner"),
    "key_events": ("key events", "conversions", "nyckelhändelser"),
    "revenue": ("revenue", "total revenue", "intäkter", "доход"),
    "device": ("device", "device category", "enhet", "устройство"),
    "country": ("country", "land", "страна"),
    "landing_page": ("landing page", "målsida", "страница входа"),
    "touched_at": ("touched_at", "touch date", "timestamp", "date"),
    "touch_type": ("touch type", "touch_type", "type"),
}


def suggest(frame: pl.DataFrame, table: str, columns: list[str] | None = None,
            decimal: str = ".") -> dict[str, str]:
    """A best guess of canonical field → column for `table`, from header words and the values:
    a timestamp field only takes a column whose values read as dates, a number field one whose
    values read as numbers. Each column is used at most once."""
    spec = TABLES[table]
    cols = columns if columns is not None else [c for c in frame.columns if not c.startswith("__")]
    used: set[str] = set()
    out: dict[str, str] = {}
    sample = frame.head(500)
    for col_spec in spec.columns:
        words = SYNONYMS.get(col_spec.name, (col_spec.name,))
        ranked = []
        for c in cols:
            if c in used:
                continue
            n = norm(c)
            score = 3 if n in words else 2 if any(n.startswith(w) or n.endswith(w) for w in words) else (
                1 if any(re.search(rf"\b{re.escape(w)}\b", n) for w in words if len(w) > 3) else 0)
            if score:
                ranked.append((score, -cols.index(c), c))
        for _score, _pos, c in sorted(ranked, reverse=True):
            s = sample[c] if c in sample.columns else None
            if s is None:
                continue
            if col_spec.dtype in (pl.Datetime("us"), pl.Date()) and parse_dates(s) is None:
                continue
            if col_spec.dtype in (pl.Float64(), pl.Int64()) and not looks_numeric(s, decimal):
                continue
            out[col_spec.name] = c
            used.add(c)
            break
    return out


# --- saved mappings ------------------------------------------------------------------------------------

def shape_key(columns: list[str]) -> str:
    """Identifies a header shape: the same set of column names (in any order, any case)."""
    names = sorted({norm(c) for c in columns})
    return hashlib.sha256("\x1f".join(names).encode("utf-8")).hexdigest()[:16]


#: The store's document kind for saved mappings; the key is the header's `shape_key`.
MAPPING_KIND = "column-mapping"


REMAP = ("it was not used and nothing was changed. Map the file's columns again with 'Remember this mapping' "
         "ticked to replace it.")


class DamagedMapping(StoreError):
    """A saved mapping cannot be read back; it is reported, never taken for 'nothing saved'."""


def mapping_record(columns: list[str], mapping: Mapping) -> dict[str, Any]:
    """What is saved for a header shape: the header as it was, and the mapping without its period
    (a period belongs to one file, not to its shape)."""
    stored = mapping.to_dict()
    stored["period"] = None
    return {"columns": list(columns), "mapping": stored}


def _from_record(record: object, where: str) -> Mapping:
    try:
        if not isinstance(record, dict) or not isinstance(record.get("mapping"), dict):
            raise ValueError("it is not a saved mapping")
        mapping = Mapping.from_dict(record["mapping"])
        if mapping.table not in TABLES or not isinstance(mapping.fields, dict):
            raise ValueError(f"its table {mapping.table!r} is not one of {', '.join(TABLES)}")
    except (TypeError, ValueError, KeyError, AttributeError) as exc:
        raise DamagedMapping(f"{where} is damaged ({exc}); {REMAP}") from None
    return mapping


class WorkspaceMappings:
    """The mappings saved in one workspace of the store, one document per header shape: each save is one
    atomic, locked catalog write (no read-modify-write of a shared file), so concurrent saves all stay."""

    def __init__(self, store: Store, workspace: str) -> None:
        self.store = store
        self.workspace = workspace

    def _where(self, key: str) -> str:
        return f"the column mapping saved in workspace '{self.workspace}' for header shape {key}"

    def get(self, columns: list[str]) -> Mapping | None:
        """The mapping saved for this header shape, None when there is none; DamagedMapping when it is
        there but cannot be read."""
        key = shape_key(columns)
        try:
            record = self.store.get_doc(self.workspace, MAPPING_KIND, key)
        except DamagedDocument:
            raise DamagedMapping(f"{self._where(key)} is damaged (not readable as JSON); {REMAP}") from None
        return None if record is None else _from_record(record, self._where(key))

    def save(self, columns: list[str], mapping: Mapping) -> None:
        self.save_records({shape_key(columns): mapping_record(columns, mapping)})

    def save_records(self, records: AnyMapping[str, dict[str, Any]]) -> None:
        """Save records made by `mapping_record` (shape key → record), replacing those of the same shapes."""
        for key, record in records.items():
            self.store.put_doc(self.workspace, MAPPING_KIND, key, record)


class MappingStore:
    """The saved mappings a file's header is looked up in: first the ones remembered in this browser
    session (`records`, shape key → `mapping_record`, kept by the caller until the uploads are saved into
    a workspace), then those of the workspace on screen (`saved`). Saving remembers in the session."""

    def __init__(self, records: dict[str, dict[str, Any]] | None = None,
                 saved: WorkspaceMappings | None = None) -> None:
        self.records = records if records is not None else {}
        self.saved = saved

    def get(self, columns: list[str]) -> Mapping | None:
        key = shape_key(columns)
        if key in self.records:
            return _from_record(self.records[key], f"the column mapping remembered in this session for {key}")
        return self.saved.get(columns) if self.saved is not None else None

    def save(self, columns: list[str], mapping: Mapping) -> None:
        self.records[shape_key(columns)] = mapping_record(columns, mapping)
