"""Numbers, money, percentages and dates in the reader's locale (Babel).

Halves round up (2.5 → 3, 0.125 € → 0.13 €), as a spreadsheet does and a reader expects; Babel on its
own rounds them to even.
"""

from __future__ import annotations

import decimal
import functools
import re
from collections.abc import Callable, Mapping
from datetime import date, timedelta
from typing import Any, ParamSpec

from babel import Locale
from babel.dates import format_date, format_timedelta
from babel.numbers import format_compact_currency, format_currency, format_decimal, format_percent

from ui.i18n import t

LOCALES = {"en": "en_GB", "sv": "sv_SE", "ru": "ru_RU"}
DASH = "–"

_P = ParamSpec("_P")


def _half_up(formatter: Callable[_P, str]) -> Callable[_P, str]:
    """`formatter` with halves rounded away from zero."""
    @functools.wraps(formatter)
    def rounded(*args: _P.args, **kwargs: _P.kwargs) -> str:
        with decimal.localcontext(rounding=decimal.ROUND_HALF_UP):
            return formatter(*args, **kwargs)
    return rounded


def locale_of(lang: str) -> str:
    return LOCALES.get(lang, "en_GB")


@_half_up
def number(value: float | None, lang: str, digits: int = 0) -> str:
    if value is None:
        return DASH
    pattern = "#,##0" + ("." + "0" * digits if digits else "")
    return format_decimal(value, format=pattern, locale=locale_of(lang))


@_half_up
def money(value: float | None, currency: str, lang: str, compact: bool = False) -> str:
    """Money with the locale's currency placement; whole units from 1 000 up, cents below."""
    if value is None:
        return DASH
    loc = locale_of(lang)
    if compact and abs(value) >= 10_000:
        return format_compact_currency(value, currency, locale=loc, fraction_digits=1)
    pattern = Locale.parse(loc).currency_formats["standard"].pattern
    if abs(value) >= 1_000:
        pattern = pattern.replace(".00", "")
    return format_currency(value, currency, format=pattern, locale=loc, currency_digits=False)


@_half_up
def percent(value: float | None, lang: str, digits: int = 1) -> str:
    """A fraction as a percentage, the sign placed as the locale does (1.8% in English, 1,8 % in Swedish)."""
    if value is None:
        return DASH
    loc = locale_of(lang)
    pattern = Locale.parse(loc).percent_formats[None].pattern  # "#,##0%", "#,##0\u00a0%"
    if digits:
        pattern = re.sub(r"0(?=[^0#,.]*%)", "0." + "0" * digits, pattern, count=1)
    return format_percent(value, format=pattern, locale=loc)


@_half_up
def points(value: float | None, lang: str) -> str:
    """A change in a rate, in percentage points, with its sign."""
    if value is None:
        return DASH
    text = format_decimal(value * 100, format="#,##0.0", locale=locale_of(lang))
    if not any(c in "123456789" for c in text):  # a change that rounds to nothing has no sign: 0.0, not -0.0
        return format_decimal(0, format="#,##0.0", locale=locale_of(lang))
    return ("+" if value > 0 else "") + text


def duration(seconds: float | None, lang: str) -> str:
    """A time span in its largest whole unit, as people say it: "3 minutes", "2 days" ("3 минуты")."""
    if seconds is None:
        return DASH
    return format_timedelta(timedelta(seconds=seconds), threshold=1.5, locale=locale_of(lang))


def delta(row: Mapping[str, Any], metric: str, unit: str, lang: str) -> str | None:
    """The change of `metric` against the comparison period in a `kpi.engine.metrics` row, as a card shows it:
    a rate's in percentage points, any other number's in percent; None when there is none to show."""
    if row.get(f"{metric}_delta") is None:
        return None
    if unit == "ratio":
        return f"{points(row[f'{metric}_delta'], lang)} {t('table.pp', lang)}"
    shown = percent(row.get(f"{metric}_delta_pct"), lang)
    return None if shown == DASH else shown


def day(value: date, lang: str) -> str:
    return format_date(value, format="medium", locale=locale_of(lang))


def metric_value(value: float | None, unit: str, lang: str, currency: str, compact: bool = False) -> str:
    """A metric's value formatted by its unit (count, currency, ratio, days, hours)."""
    if value is None:
        return DASH
    if unit == "currency":
        return money(value, currency, lang, compact)
    if unit == "ratio":
        return percent(value, lang, 2 if abs(value) < 0.1 else 1)
    if unit == "multiple":
        return number(value, lang, 2) + "×"
    if unit == "days":
        return t("unit.days", lang, value=number(value, lang, 1))
    if unit == "hours":
        return t("unit.hours", lang, value=number(value, lang, 1))
    return number(value, lang)


def d3_format(unit: str) -> str:
    """The Vega-Lite axis format for a unit (the chart's locale supplies separators)."""
    return {"ratio": ".1%", "multiple": ",.2f", "currency": ",.0f", "days": ",.1f", "hours": ",.1f"}.get(unit, ",.0f")


def vega_locale(lang: str) -> dict[str, object]:
    """Vega's number and time locale for `lang` (d3 format), built from Babel's locale data, so chart
    axes and tooltips use the reader's separators, month and day names."""
    loc = Locale.parse(locale_of(lang))
    symbols = loc.number_symbols.get("latn", loc.number_symbols)
    days = loc.days["stand-alone"]  # Babel: 0 = Monday; d3: Sunday first
    months = loc.months["stand-alone"]
    return {
        "number": {"decimal": symbols["decimal"], "thousands": symbols["group"], "grouping": [3],
                   "currency": ["", ""]},
        "time": {
            "dateTime": "%x %X", "date": "%d.%m.%Y" if lang != "en" else "%d/%m/%Y", "time": "%H:%M:%S",
            "periods": ["AM", "PM"],
            "days": [days["wide"][(i + 6) % 7] for i in range(7)],
            "shortDays": [days["abbreviated"][(i + 6) % 7] for i in range(7)],
            "months": [months["wide"][i] for i in range(1, 13)],
            "shortMonths": [months["abbreviated"][i] for i in range(1, 13)],
        },
    }
