"""Texts for the Campaigns & initiatives page and the shared metric table (en, sv, ru)."""

TEXT: dict[str, dict[str, str]] = {
    "campaigns.initiatives": {"en": "Initiatives", "sv": "Initiativ", "ru": "Инициативы"},
    "campaigns.initiatives_help": {
        "en": "Select an initiative's row to see its campaigns below. Click a column header to sort.",
        "sv": "Markera ett initiativs rad för att se dess kampanjer nedan. Klicka på en kolumnrubrik för att sortera.",
        "ru": "Выберите строку инициативы, чтобы увидеть её кампании ниже. Нажмите на заголовок столбца для сортировки."},
    "campaigns.campaigns": {"en": "Campaigns", "sv": "Kampanjer", "ru": "Кампании"},
    "campaigns.campaigns_of": {"en": "Campaigns of {initiative}", "sv": "Kampanjer inom {initiative}",
                               "ru": "Кампании инициативы {initiative}"},
    "campaigns.show_all": {"en": "Show all campaigns", "sv": "Visa alla kampanjer", "ru": "Показать все кампании"},
    "campaigns.scatter": {"en": "Spend against cost per lead (size: revenue)",
                          "sv": "Kostnad mot kostnad per lead (storlek: intäkter)",
                          "ru": "Расходы и стоимость лида (размер: выручка)"},
    "campaigns.scatter_help": {
        "en": "Upper right spends much on expensive leads; large points bring revenue. Without spend, a point is "
              "left out. Click a point to filter.",
        "sv": "Uppe till höger: hög kostnad för dyra leads; stora punkter ger intäkter. Utan kostnad visas ingen "
              "punkt. Klicka på en punkt för att filtrera.",
        "ru": "Справа вверху — большие расходы на дорогие лиды; крупные точки приносят выручку. Без расходов точка "
              "не показывается. Нажмите на точку, чтобы отфильтровать."},
    "campaigns.points": {"en": "One point per", "sv": "En punkt per", "ru": "Одна точка на"},
    "campaigns.trend": {"en": "{metric} per initiative over time", "sv": "{metric} per initiativ över tid",
                        "ru": "{metric} по инициативам во времени"},
    "campaigns.trend_metric": {"en": "KPI over time", "sv": "Nyckeltal över tid", "ru": "Показатель во времени"},
    "campaigns.no_initiatives": {
        "en": "This data has no initiative column: add initiative rules or map an initiative column on import.",
        "sv": "Datan saknar initiativkolumn: lägg till initiativregler eller mappa en initiativkolumn vid import.",
        "ru": "В данных нет столбца инициативы: добавьте правила инициатив или сопоставьте столбец при импорте."},
    "campaigns.no_campaigns": {
        "en": "This data has neither campaigns nor initiatives. Upload leads or spend with a campaign column.",
        "sv": "Datan har varken kampanjer eller initiativ. Ladda upp leads eller kostnader med en kampanjkolumn.",
        "ru": "В данных нет ни кампаний, ни инициатив. Загрузите лиды или расходы со столбцом кампании."},
    "campaigns.cost_filtered": {
        "en": "Cost metrics are not available under a filter on {dimensions}: spend is not recorded by it.",
        "sv": "Kostnadsmått saknas vid filter på {dimensions}: kostnaden registreras inte per den.",
        "ru": "Показатели затрат недоступны при фильтре по: {dimensions} — расходы по ним не учитываются."},
    "table.delta_pct": {"en": "{label} Δ %", "sv": "{label} Δ %", "ru": "{label} Δ %"},
    "table.delta_pp": {"en": "{label} Δ {pp}", "sv": "{label} Δ {pp}", "ru": "{label} Δ {pp}"},
    "table.pp": {"en": "pp", "sv": "p.e.", "ru": "п.п."},
    "table.in_currency": {"en": "{label} ({currency})", "sv": "{label} ({currency})", "ru": "{label} ({currency})"},
    "table.download_csv": {"en": "Download CSV", "sv": "Ladda ner CSV", "ru": "Скачать CSV"},
    "table.first_rows": {"en": "The first {shown} of {count} rows; the downloads hold them all.",
                         "sv": "De första {shown} av {count} raderna; nedladdningarna innehåller alla.",
                         "ru": "Первые {shown} из {count} строк; в выгрузках — все."},
    "table.download_xlsx": {"en": "Download Excel", "sv": "Ladda ner Excel", "ru": "Скачать Excel"},
    "table.none": {"en": "(none)", "sv": "(ingen)", "ru": "(нет)"},
    "campaigns.all_columns": {"en": "All columns", "sv": "Alla kolumner", "ru": "Все столбцы"},
    "campaigns.all_columns_help": {
        "en": "Off: spend, leads, CPL, won deals, CAC, ROAS and ROI with their changes. The downloads always hold "
              "every column.",
        "sv": "Av: kostnad, leads, CPL, vunna affärer, CAC, ROAS och ROI med sina förändringar. Nedladdningarna har "
              "alltid alla kolumner.",
        "ru": "Выкл.: расходы, лиды, CPL, выигранные сделки, CAC, ROAS и ROI с изменениями. В выгрузках всегда "
              "все столбцы."},
}
