"""Texts about money in several currencies: the reporting currency, rates, and why a number is missing."""

TEXT: dict[str, dict[str, str]] = {
    "money.gaps": {
        "en": "Money in {currencies} has no rate to the reporting currency {currency}, so spend, revenue and the "
              "ratios built on them (CPL, CAC, ROAS, …) are not available where those rows count: amounts in "
              "different currencies are never added up. Give a rate for each under Currency on the "
              "Workspaces & links page.",
        "sv": "Belopp i {currencies} saknar kurs mot rapportvalutan {currency}, så kostnad, intäkt och nyckeltalen "
              "som bygger på dem (CPL, CAC, ROAS, …) visas inte där de raderna räknas: belopp i olika valutor "
              "läggs aldrig ihop. Ange en kurs för varje under Valuta på sidan Arbetsytor och länkar.",
        "ru": "Для сумм в {currencies} не задан курс к валюте отчётов {currency}, поэтому расходы, выручка и "
              "показатели на их основе (CPL, CAC, ROAS, …) недоступны там, где учитываются эти строки: суммы в "
              "разных валютах никогда не складываются. Укажите курс для каждой в разделе «Валюта» на странице "
              "«Рабочие области и ссылки».",
    },
    "money.card_na": {
        "en": "Not available: no rate for {currencies}",
        "sv": "Visas inte: ingen kurs för {currencies}",
        "ru": "Недоступно: нет курса для {currencies}",
    },
    "money.settings": {"en": "Currency", "sv": "Valuta", "ru": "Валюта"},
    "money.explain": {
        "en": "Money is shown in the reporting currency. Money in another currency is converted with its rate; "
              "without a rate it is shown as not available, never added to the rest.",
        "sv": "Belopp visas i rapportvalutan. Belopp i en annan valuta räknas om med dess kurs; utan kurs visas "
              "de inte och läggs aldrig ihop med resten.",
        "ru": "Суммы показываются в валюте отчётов. Суммы в другой валюте пересчитываются по её курсу; без курса "
              "они недоступны и никогда не складываются с остальными.",
    },
    "money.reporting": {"en": "Reporting currency", "sv": "Rapportvaluta", "ru": "Валюта отчётов"},
    "money.rate": {"en": "{currency} per 1 {code}", "sv": "{currency} per 1 {code}", "ru": "{currency} за 1 {code}"},
    "money.rate_help": {
        "en": "0 means no rate: money in {code} is then not available rather than added up.",
        "sv": "0 betyder ingen kurs: belopp i {code} visas då inte i stället för att läggas ihop.",
        "ru": "0 — курса нет: суммы в {code} тогда недоступны, а не складываются.",
    },
    "money.found": {
        "en": "Currencies in the data: {currencies}", "sv": "Valutor i data: {currencies}",
        "ru": "Валюты в данных: {currencies}",
    },
    "money.save": {"en": "Save currency settings", "sv": "Spara valutainställningar",
                   "ru": "Сохранить настройки валюты"},
    "money.saved": {"en": "Currency settings saved.", "sv": "Valutainställningarna har sparats.",
                    "ru": "Настройки валюты сохранены."},
    "money.refused": {"en": "Nothing was saved: {reason}", "sv": "Inget sparades: {reason}",
                      "ru": "Ничего не сохранено: {reason}"},
}
