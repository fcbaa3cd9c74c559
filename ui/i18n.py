"""Every user-visible text, in English, Swedish and Russian, behind one function: `t`.

Each entry keeps its three languages side by side so a missing translation is visible in review
and caught by the test that walks this table. Metric names follow what marketers in each country
say (CPL, ROAS and CAC stay as they are in Swedish and Russian).
"""

from __future__ import annotations

import string

import streamlit as st

LANGUAGES: dict[str, str] = {"en": "English", "sv": "Svenska", "ru": "Русский"}
DEFAULT_LANGUAGE = "en"
LANG_KEY = "lang"

TEXT: dict[str, dict[str, str]] = {
    # --- app shell
    "app.title": {"en": "Marketing KPI Studio", "sv": "Marketing KPI Studio", "ru": "Marketing KPI Studio"},
    "page.overview": {"en": "Overview", "sv": "Översikt", "ru": "Обзор"},
    "page.funnel": {"en": "Funnel", "sv": "Tratt", "ru": "Воронка"},
    "page.campaigns": {"en": "Campaigns & initiatives", "sv": "Kampanjer och initiativ", "ru": "Кампании и инициативы"},
    "page.segments": {"en": "Segments", "sv": "Segment", "ru": "Сегменты"},
    "page.data": {"en": "Data", "sv": "Data", "ru": "Данные"},
    "sidebar.workspace": {"en": "Workspace", "sv": "Arbetsyta", "ru": "Рабочее пространство"},
    "sidebar.demo_workspace": {"en": "Demo: Nordic B2B software", "sv": "Demo: nordiskt B2B-mjukvaruföretag",
                               "ru": "Демо: северная B2B-компания"},
    "sidebar.session_workspace": {"en": "My uploads (this session, not saved)",
                                  "sv": "Mina uppladdningar (denna session, ej sparade)",
                                  "ru": "Мои загрузки (эта сессия, не сохранены)"},
    "sidebar.language": {"en": "Language", "sv": "Språk", "ru": "Язык"},
    "sidebar.period": {"en": "Period", "sv": "Period", "ru": "Период"},
    "sidebar.from": {"en": "From", "sv": "Från", "ru": "С"},
    "sidebar.to": {"en": "To", "sv": "Till", "ru": "По"},
    "sidebar.compare": {"en": "Compare to", "sv": "Jämför med", "ru": "Сравнить с"},
    "sidebar.grain": {"en": "Time grain", "sv": "Tidsupplösning", "ru": "Шаг времени"},
    "sidebar.view": {"en": "Count leads", "sv": "Räkna leads", "ru": "Считать лиды"},
    "sidebar.filters": {"en": "Filters", "sv": "Filter", "ru": "Фильтры"},
    "sidebar.clear_filters": {"en": "Clear filters", "sv": "Rensa filter", "ru": "Сбросить фильтры"},
    "preset.this_month": {"en": "This month", "sv": "Denna månad", "ru": "Этот месяц"},
    "preset.last_month": {"en": "Last month", "sv": "Förra månaden", "ru": "Прошлый месяц"},
    "preset.this_quarter": {"en": "This quarter", "sv": "Detta kvartal", "ru": "Этот квартал"},
    "preset.last_30_days": {"en": "Last 30 days", "sv": "Senaste 30 dagarna", "ru": "Последние 30 дней"},
    "preset.last_90_days": {"en": "Last 90 days", "sv": "Senaste 90 dagarna", "ru": "Последние 90 дней"},
    "preset.year_to_date": {"en": "Year to date", "sv": "Hittills i år", "ru": "С начала года"},
    "preset.last_12_months": {"en": "Last 12 months", "sv": "Senaste 12 månaderna", "ru": "Последние 12 месяцев"},
    "preset.custom": {"en": "Custom", "sv": "Anpassad", "ru": "Свой период"},
    "compare.previous": {"en": "Previous period", "sv": "Föregående period", "ru": "Предыдущий период"},
    "compare.last_year": {"en": "Same period last year", "sv": "Samma period i fjol",
                          "ru": "Тот же период прошлого года"},
    "compare.none": {"en": "No comparison", "sv": "Ingen jämförelse", "ru": "Без сравнения"},
    "grain.day": {"en": "Day", "sv": "Dag", "ru": "День"},
    "grain.week": {"en": "Week", "sv": "Vecka", "ru": "Неделя"},
    "grain.month": {"en": "Month", "sv": "Månad", "ru": "Месяц"},
    "grain.quarter": {"en": "Quarter", "sv": "Kvartal", "ru": "Квартал"},
    "grain.year": {"en": "Year", "sv": "År", "ru": "Год"},
    "view.cohort": {"en": "When created (cohort)", "sv": "När de skapades (kohort)", "ru": "По дате создания (когорта)"},
    "view.flow": {"en": "When each stage happened (flow)", "sv": "När varje steg skedde (flöde)",
                  "ru": "По дате каждого этапа (поток)"},
    "view.cohort.explain": {
        "en": "Cohort view: leads created in the period, and how far they have got since.",
        "sv": "Kohortvy: leads som skapades under perioden och hur långt de har kommit sedan dess.",
        "ru": "Когорта: лиды, созданные за период, и как далеко они продвинулись с тех пор."},
    "view.flow.explain": {
        "en": "Flow view: each stage counted in the period it happened, whenever the lead was created.",
        "sv": "Flödesvy: varje steg räknas i den period det skedde, oavsett när leadet skapades.",
        "ru": "Поток: каждый этап считается в том периоде, когда он произошёл, независимо от даты лида."},
    "dim.channel": {"en": "Channel", "sv": "Kanal", "ru": "Канал"},
    "dim.segment": {"en": "Segment", "sv": "Segment", "ru": "Сегмент"},
    "dim.region": {"en": "Region", "sv": "Region", "ru": "Регион"},
    "dim.initiative": {"en": "Initiative", "sv": "Initiativ", "ru": "Инициатива"},
    "dim.campaign": {"en": "Campaign", "sv": "Kampanj", "ru": "Кампания"},
    "notice.invalid_param": {"en": "Ignored an invalid link parameter: {name}={value}.",
                             "sv": "En ogiltig länkparameter ignorerades: {name}={value}.",
                             "ru": "Неверный параметр ссылки пропущен: {name}={value}."},
    "notice.period_label": {"en": "{start} – {end}", "sv": "{start} – {end}", "ru": "{start} – {end}"},
    "notice.compared_with": {"en": "compared with {start} – {end}", "sv": "jämfört med {start} – {end}",
                             "ru": "по сравнению с {start} – {end}"},
    "notice.no_data": {"en": "No data matches these filters. Widen the period or clear filters.",
                       "sv": "Ingen data matchar filtren. Välj en längre period eller rensa filtren.",
                       "ru": "Нет данных для этих фильтров. Расширьте период или сбросьте фильтры."},
    "notice.not_available": {"en": "not available", "sv": "saknas", "ru": "нет данных"},
    # --- overview
    "overview.headline": {"en": "Headline KPIs", "sv": "Nyckeltal", "ru": "Ключевые показатели"},
    "overview.funnel": {"en": "Funnel from visit to won deal", "sv": "Tratten från besök till vunnen affär",
                        "ru": "Воронка от визита до выигранной сделки"},
    "overview.trend": {"en": "Leads, MQL, won deals and spend over time", "sv": "Leads, MQL, vunna affärer och kostnad över tid",
                       "ru": "Лиды, MQL, выигранные сделки и расходы во времени"},
    "overview.initiatives": {"en": "Best and worst initiatives", "sv": "Bästa och sämsta initiativen",
                             "ru": "Лучшие и худшие инициативы"},
    "overview.rank_by": {"en": "Rank initiatives by", "sv": "Rangordna initiativ efter", "ru": "Ранжировать по"},
    "overview.best": {"en": "Best", "sv": "Bäst", "ru": "Лучшие"},
    "overview.worst": {"en": "Worst", "sv": "Sämst", "ru": "Худшие"},
    "overview.bottleneck": {
        "en": "Biggest leak: {from_stage} → {to_stage} converts {rate}{change}.",
        "sv": "Största läckan: {from_stage} → {to_stage} konverterar {rate}{change}.",
        "ru": "Главная утечка: {from_stage} → {to_stage}, конверсия {rate}{change}."},
    "overview.bottleneck_change": {"en": " ({change} points against the comparison period)",
                                   "sv": " ({change} procentenheter mot jämförelseperioden)",
                                   "ru": " ({change} п.п. к периоду сравнения)"},
    # --- charts and tables
    "chart.stage": {"en": "Stage", "sv": "Steg", "ru": "Этап"},
    "chart.count": {"en": "Count", "sv": "Antal", "ru": "Количество"},
    "chart.step_conversion": {"en": "Conversion from previous stage", "sv": "Konvertering från föregående steg",
                              "ru": "Конверсия из предыдущего этапа"},
    "chart.overall_conversion": {"en": "Conversion from lead", "sv": "Konvertering från lead",
                                 "ru": "Конверсия из лида"},
    "chart.days_from_previous": {"en": "Median days from previous stage", "sv": "Mediandagar från föregående steg",
                                 "ru": "Медиана дней от предыдущего этапа"},
    "chart.period": {"en": "Period", "sv": "Period", "ru": "Период"},
    "chart.value": {"en": "Value", "sv": "Värde", "ru": "Значение"},
    "chart.metric": {"en": "Metric", "sv": "Mått", "ru": "Показатель"},
    "unit.days": {"en": "{value} d", "sv": "{value} d", "ru": "{value} дн."},
    "unit.hours": {"en": "{value} h", "sv": "{value} h", "ru": "{value} ч"},
    "stage.sessions": {"en": "Sessions", "sv": "Sessioner", "ru": "Сеансы"},
    # --- metrics
    "metric.sessions": {"en": "Sessions", "sv": "Sessioner", "ru": "Сеансы"},
    "metric.users": {"en": "Users", "sv": "Användare", "ru": "Пользователи"},
    "metric.new_users": {"en": "New users", "sv": "Nya användare", "ru": "Новые пользователи"},
    "metric.engaged_sessions": {"en": "Engaged sessions", "sv": "Engagerade sessioner", "ru": "Сеансы с вовлечением"},
    "metric.key_events": {"en": "Key events", "sv": "Nyckelhändelser", "ru": "Ключевые события"},
    "metric.spend": {"en": "Spend", "sv": "Kostnad", "ru": "Расходы"},
    "metric.impressions": {"en": "Impressions", "sv": "Visningar", "ru": "Показы"},
    "metric.clicks": {"en": "Clicks", "sv": "Klick", "ru": "Клики"},
    "metric.leads": {"en": "Leads", "sv": "Leads", "ru": "Лиды"},
    "metric.mql": {"en": "MQL", "sv": "MQL", "ru": "MQL"},
    "metric.sql": {"en": "Sales-ready (SQL)", "sv": "Säljklara (SQL)", "ru": "Готовые к продаже (SQL)"},
    "metric.opportunities": {"en": "Opportunities", "sv": "Affärsmöjligheter", "ru": "Сделки в работе"},
    "metric.won": {"en": "Won deals", "sv": "Vunna affärer", "ru": "Выигранные сделки"},
    "metric.revenue": {"en": "Revenue", "sv": "Intäkter", "ru": "Выручка"},
    "metric.lost": {"en": "Lost deals", "sv": "Förlorade affärer", "ru": "Проигранные сделки"},
    "metric.pipeline": {"en": "Pipeline", "sv": "Pipeline", "ru": "Воронка продаж (пайплайн)"},
    "metric.sla_leads": {"en": "Leads past the SLA window", "sv": "Leads efter SLA-fönstret",
                         "ru": "Лиды старше SLA"},
    "metric.leaked_leads": {"en": "Leaked leads", "sv": "Tappade leads", "ru": "Потерянные лиды"},
    "metric.speed_to_lead_hours": {"en": "Speed to lead", "sv": "Svarstid till lead", "ru": "Скорость реакции на лид"},
    "metric.days_lead_to_mql": {"en": "Days lead → MQL", "sv": "Dagar lead → MQL", "ru": "Дней лид → MQL"},
    "metric.days_lead_to_mql_p75": {"en": "Days lead → MQL (p75)", "sv": "Dagar lead → MQL (p75)",
                                    "ru": "Дней лид → MQL (p75)"},
    "metric.days_mql_to_sql": {"en": "Days MQL → SQL", "sv": "Dagar MQL → SQL", "ru": "Дней MQL → SQL"},
    "metric.days_mql_to_sql_p75": {"en": "Days MQL → SQL (p75)", "sv": "Dagar MQL → SQL (p75)",
                                   "ru": "Дней MQL → SQL (p75)"},
    "metric.days_sql_to_opportunity": {"en": "Days SQL → opportunity", "sv": "Dagar SQL → affärsmöjlighet",
                                       "ru": "Дней SQL → сделка"},
    "metric.days_sql_to_opportunity_p75": {"en": "Days SQL → opportunity (p75)",
                                           "sv": "Dagar SQL → affärsmöjlighet (p75)", "ru": "Дней SQL → сделка (p75)"},
    "metric.days_opportunity_to_won": {"en": "Days opportunity → won", "sv": "Dagar affärsmöjlighet → vunnen",
                                       "ru": "Дней сделка → выигрыш"},
    "metric.days_opportunity_to_won_p75": {"en": "Days opportunity → won (p75)",
                                           "sv": "Dagar affärsmöjlighet → vunnen (p75)",
                                           "ru": "Дней сделка → выигрыш (p75)"},
    "metric.sales_cycle_days": {"en": "Sales cycle (days)", "sv": "Säljcykel (dagar)", "ru": "Цикл сделки (дни)"},
    "metric.sales_cycle_days_p75": {"en": "Sales cycle (days, p75)", "sv": "Säljcykel (dagar, p75)",
                                    "ru": "Цикл сделки (дни, p75)"},
    "metric.engagement_rate": {"en": "Engagement rate", "sv": "Engagemangsgrad", "ru": "Доля вовлечённых сеансов"},
    "metric.ctr": {"en": "CTR", "sv": "CTR", "ru": "CTR"},
    "metric.cpc": {"en": "CPC", "sv": "CPC", "ru": "CPC"},
    "metric.cpm": {"en": "CPM", "sv": "CPM", "ru": "CPM"},
    "metric.session_to_lead": {"en": "Session → lead rate", "sv": "Konvertering session → lead",
                               "ru": "Конверсия сеанс → лид"},
    "metric.lead_to_mql": {"en": "Lead → MQL", "sv": "Lead → MQL", "ru": "Лид → MQL"},
    "metric.mql_to_sql": {"en": "MQL → SQL", "sv": "MQL → SQL", "ru": "MQL → SQL"},
    "metric.sql_to_opportunity": {"en": "SQL → opportunity", "sv": "SQL → affärsmöjlighet", "ru": "SQL → сделка"},
    "metric.opportunity_to_won": {"en": "Opportunity → won", "sv": "Affärsmöjlighet → vunnen",
                                  "ru": "Сделка → выигрыш"},
    "metric.lead_to_won": {"en": "Lead → won", "sv": "Lead → vunnen", "ru": "Лид → выигрыш"},
    "metric.cpl": {"en": "Cost per lead (CPL)", "sv": "Kostnad per lead (CPL)", "ru": "Стоимость лида (CPL)"},
    "metric.cost_per_mql": {"en": "Cost per MQL", "sv": "Kostnad per MQL", "ru": "Стоимость MQL"},
    "metric.cost_per_sql": {"en": "Cost per SQL", "sv": "Kostnad per SQL", "ru": "Стоимость SQL"},
    "metric.cost_per_opportunity": {"en": "Cost per opportunity", "sv": "Kostnad per affärsmöjlighet",
                                    "ru": "Стоимость сделки в работе"},
    "metric.cac": {"en": "Customer acquisition cost (CAC)", "sv": "Kundanskaffningskostnad (CAC)",
                   "ru": "Стоимость привлечения клиента (CAC)"},
    "metric.avg_deal_size": {"en": "Average deal size", "sv": "Genomsnittligt affärsvärde", "ru": "Средний чек сделки"},
    "metric.win_rate": {"en": "Win rate", "sv": "Vinstandel", "ru": "Доля выигранных сделок"},
    "metric.roas": {"en": "ROAS", "sv": "ROAS", "ru": "ROAS"},
    "metric.roi": {"en": "ROI", "sv": "ROI", "ru": "ROI"},
    "metric.leakage": {"en": "Leakage", "sv": "Läckage", "ru": "Потери лидов"},
}


def current_language() -> str:
    """The language chosen in the sidebar (kept in the URL), else the browser's, else English."""
    chosen = st.session_state.get(LANG_KEY) or st.query_params.get(LANG_KEY)
    if chosen in LANGUAGES:
        return str(chosen)
    return browser_language()


def browser_language() -> str:
    locale = (st.context.locale or "").split("-")[0].lower()
    return locale if locale in LANGUAGES else DEFAULT_LANGUAGE


def t(key: str, lang: str | None = None, **values: object) -> str:
    """The text for `key` in `lang` (default: the current language), with `{name}` fields filled in."""
    entry = TEXT[key]
    text = entry[lang or current_language()]
    return string.Formatter().vformat(text, (), values) if values else text


def metric_label(metric_id: str, lang: str | None = None) -> str:
    """A metric's name as marketers say it in `lang`; custom stage metrics fall back to their id."""
    key = f"metric.{metric_id}"
    return t(key, lang) if key in TEXT else metric_id
