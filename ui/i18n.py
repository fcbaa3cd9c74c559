"""Every user-visible text, in English, Swedish and Russian, behind one function: `t`.

The texts live in ui/texts/, one module per page or area. Each entry keeps its three languages side
by side so a missing translation is visible in review and caught by the test that walks the table.
Metric names follow what marketers in each country say (CPL, ROAS and CAC stay as they are).
"""

from __future__ import annotations

import string

import streamlit as st
from babel import Locale

from ui.texts import (
    attribution,
    campaigns,
    common,
    data,
    events,
    funnel,
    ga4,
    kpis,
    metrics,
    money,
    overview,
    report,
    review,
    segments,
    share,
)

LANGUAGES: dict[str, str] = {"en": "English", "sv": "Svenska", "ru": "Русский"}
DEFAULT_LANGUAGE = "en"
LANG_KEY = "lang"
#: A text that depends on a count lists one form per plural category of its language, separated by '|',
#: in this order (CLDR categories: English and Swedish one|other, Russian one|few|many).
PLURAL_FORMS: dict[str, tuple[str, ...]] = {"en": ("one", "other"), "sv": ("one", "other"),
                                            "ru": ("one", "few", "many")}

TEXT: dict[str, dict[str, str]] = {}
for _module in (common, metrics, overview, funnel, campaigns, segments, share, data, ga4, review, kpis, money,
                attribution, events, report):
    _clash = TEXT.keys() & _module.TEXT.keys()
    assert not _clash, f"text keys defined twice: {_clash}"
    TEXT.update(_module.TEXT)


def current_language() -> str:
    """The language chosen in the sidebar (kept in the URL), else the browser's, else English."""
    chosen = st.session_state.get(LANG_KEY) or st.query_params.get(LANG_KEY)
    if chosen in LANGUAGES:
        return str(chosen)
    return browser_language()


def browser_language() -> str:
    locale = (st.context.locale or "").split("-")[0].lower()
    return locale if locale in LANGUAGES else DEFAULT_LANGUAGE


def _fill(text: str, values: dict[str, object]) -> str:
    """`text` with its `{name}` fields filled in; a full stop after a value that ends with one (a Russian date,
    "3 дек. 2026 г.", or "Acme Inc.") is not doubled."""
    for name, value in values.items():
        if isinstance(value, str) and value.endswith("."):
            text = text.replace(f"{{{name}}}.", f"{{{name}}}")
    return string.Formatter().vformat(text, (), values)


def t(key: str, lang: str | None = None, **values: object) -> str:
    """The text for `key` in `lang` (default: the current language), with `{name}` fields filled in."""
    entry = TEXT[key]
    text = entry[lang or current_language()]
    return _fill(text, values) if values else text


def plural(key: str, n: int, lang: str | None = None, **values: object) -> str:
    """The form of `key`'s text that agrees with the count `n` ('1 KPI', '2 KPIs'; Russian 1 / 2–4 / 5+),
    with `{n}` and the other fields filled in."""
    lang = lang or current_language()
    forms = TEXT[key][lang].split("|")
    category = Locale.parse(lang).plural_form(abs(n))
    order = PLURAL_FORMS[lang]
    form = forms[min(order.index(category) if category in order else len(forms) - 1, len(forms) - 1)]
    return _fill(form, {"n": n, **values})


def metric_label(metric_id: str, lang: str | None = None) -> str:
    """A metric's name as marketers say it in `lang`; custom stage metrics fall back to their id."""
    key = f"metric.{metric_id}"
    return t(key, lang) if key in TEXT else metric_id


def dim_label(dimension: str, lang: str | None = None) -> str:
    """A dimension's name in `lang`; extra dimensions from uploads keep their column name."""
    key = f"dim.{dimension}"
    return t(key, lang) if key in TEXT else dimension


def stage_label(stage_id: str, fallback: str, lang: str | None = None) -> str:
    """A funnel stage's name in `lang`; a workspace's own stages keep the label it gave them."""
    key = f"stage.{stage_id}"
    return t(key, lang) if key in TEXT else fallback
