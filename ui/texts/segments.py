"""Texts for the Segments page (en, sv, ru)."""

TEXT: dict[str, dict[str, str]] = {
    "segments.rows": {"en": "Rows", "sv": "Rader", "ru": "Строки"},
    "segments.columns": {"en": "Columns", "sv": "Kolumner", "ru": "Столбцы"},
    "segments.metric": {"en": "KPI", "sv": "Nyckeltal", "ru": "Показатель"},
    "segments.allocate": {"en": "Allocate cost by lead share", "sv": "Fördela kostnad efter andel leads",
                          "ru": "Распределить расходы по доле лидов"},
    "segments.allocate_help": {
        "en": "Spend has no {dimension}. With this on, each campaign's spend is split over {dimension} values in "
              "proportion to the leads it brought.",
        "sv": "Kostnaden saknar {dimension}. Med detta påslaget fördelas varje kampanjs kostnad på "
              "{dimension} i proportion till de leads den gav.",
        "ru": "В расходах нет измерения «{dimension}». Если включено, расходы каждой кампании делятся по "
              "значениям «{dimension}» пропорционально принесённым лидам."},
    "segments.cost_not_available": {
        "en": "{metric} by {dimension} is not available: spend is not recorded by {dimension}. "
              "Turn on allocation by lead share to estimate it.",
        "sv": "{metric} per {dimension} saknas: kostnaden registreras inte per {dimension}. "
              "Slå på fördelning efter andel leads för att uppskatta den.",
        "ru": "{metric} в разрезе «{dimension}» недоступен: расходы не учитываются по этому измерению. "
              "Включите распределение по доле лидов, чтобы оценить его."},
    "segments.cost_allocated": {
        "en": "Cost allocated by lead share: spend has no {dimension}, so it is split in proportion to leads.",
        "sv": "Kostnaden fördelad efter andel leads: kostnaden saknar {dimension} och fördelas därför efter leads.",
        "ru": "Расходы распределены по доле лидов: в расходах нет измерения «{dimension}», поэтому они делятся "
              "пропорционально лидам."},
    "segments.heatmap": {"en": "{metric} by {rows} and {columns}", "sv": "{metric} per {rows} och {columns}",
                         "ru": "{metric}: {rows} × {columns}"},
    "segments.overall": {
        "en": "Overall: {value}. Blue cells do better than overall, orange cells worse. Click a cell to filter.",
        "sv": "Totalt: {value}. Blå celler är bättre än totalen, orange sämre. Klicka på en cell för att filtrera.",
        "ru": "В целом: {value}. Синие ячейки лучше общего значения, оранжевые — хуже. Нажмите на ячейку, "
              "чтобы отфильтровать."},
    "segments.vs_overall": {"en": "Against overall", "sv": "Mot totalen", "ru": "К общему значению"},
    "segments.same_dimension": {"en": "Pick two different dimensions.", "sv": "Välj två olika dimensioner.",
                                "ru": "Выберите два разных измерения."},
    "segments.need_two": {
        "en": "This data has fewer than two dimensions to compare (segment, region, channel, initiative, campaign).",
        "sv": "Datan har färre än två dimensioner att jämföra (segment, region, kanal, initiativ, kampanj).",
        "ru": "В данных меньше двух измерений для сравнения (сегмент, регион, канал, инициатива, кампания)."},
    "segments.table": {"en": "As a table", "sv": "Som tabell", "ru": "В виде таблицы"},
}
