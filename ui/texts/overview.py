"""Texts for the Overview page (en, sv, ru)."""

TEXT: dict[str, dict[str, str]] = {
    "target.so_far": {"en": "So far {value} of {expected} expected by {day}.", "sv": "Hittills {value} av {expected} väntat till {day}.", "ru": "Пока {value} из {expected} ожидаемых к {day}."},
    "target.note": {"en": "{dot} {status} · target {period}: {target}. {reason}", "sv": "{dot} {status} · mål {period}: {target}. {reason}", "ru": "{dot} {status} · цель {period}: {target}. {reason}"},
    "target.on_track": {"en": "On track", "sv": "I fas", "ru": "По плану"},
    "target.at_risk": {"en": "At risk", "sv": "I riskzonen", "ru": "Под угрозой"},
    "target.off_track": {"en": "Off track", "sv": "Efter plan", "ru": "Отстаёт от плана"},
    "target.filtered": {"en": "Targets are for the whole business: clear the filters to compare with them.", "sv": "Målen gäller hela verksamheten: rensa filtren för att jämföra.", "ru": "Цели заданы для всего бизнеса: сбросьте фильтры, чтобы сравнить с ними."},
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
}
