"""Texts for the Attribution page (en, sv, ru)."""

TEXT: dict[str, dict[str, str]] = {
    "page.attribution": {"en": "Attribution", "sv": "Attribuering", "ru": "Атрибуция"},
    "attribution.model": {"en": "Attribution model", "sv": "Attribueringsmodell", "ru": "Модель атрибуции"},
    "attribution.by": {"en": "Credit by", "sv": "Fördela på", "ru": "Распределять по"},
    "attribution.credit": {"en": "Credit for", "sv": "Fördela", "ru": "Что распределять"},
    "attribution.no_touches": {
        "en": "This workspace has no touches (the campaigns and channels each lead met before converting). Upload a "
              "touches file (lead id, time, channel, campaign) on the Data page, or open the demo workspace.",
        "sv": "Arbetsytan har inga kontakter (de kampanjer och kanaler varje lead mötte innan konvertering). Ladda upp "
              "en kontaktfil (lead-id, tid, kanal, kampanj) på sidan Data, eller öppna demoarbetsytan.",
        "ru": "В этом пространстве нет касаний (кампаний и каналов, с которыми лид встречался до конверсии). "
              "Загрузите файл касаний (ID лида, время, канал, кампания) на странице «Данные» или откройте "
              "демо-пространство."},
    "attribution.counting": {
        "en": "Conversions ({credit}) are counted on the day they happened in the period and credited to the "
              "touches their lead had up to that moment; the sidebar's cohort/flow choice does not apply here.",
        "sv": "Varje konvertering ({credit}) räknas den dag den skedde i perioden och fördelas på de kontakter dess "
              "lead hade fram till dess; sidofältets val kohort/flöde gäller inte här.",
        "ru": "Каждая конверсия ({credit}) учитывается в день, когда она произошла в периоде, и распределяется по "
              "касаниям лида до этого момента; выбор «когорта/поток» на боковой панели здесь не действует."},
    "attribution.total": {"en": "Conversions credited", "sv": "Fördelade konverteringar",
                          "ru": "Распределено конверсий"},
    "attribution.total_revenue": {"en": "Revenue credited", "sv": "Fördelade intäkter",
                                  "ru": "Распределённая выручка"},
    "attribution.untouched": {"en": "Without a touch", "sv": "Utan kontakt", "ru": "Без касаний"},
    "attribution.untouched_help": {
        "en": "Share of the credit whose lead had no touch before converting. It goes to the row “(no touch)”, so "
              "every model's credit adds up to the same total.",
        "sv": "Andel av krediten vars lead inte hade någon kontakt före konverteringen. Den går till raden "
              "”(no touch)”, så varje modells kredit summerar till samma total.",
        "ru": "Доля конверсий, у лида которых не было касаний до конверсии. Она отнесена к строке «(no touch)», "
              "поэтому в каждой модели сумма равна общему итогу."},
    "attribution.no_data": {"en": "Nothing to credit ({credit}) in this period and slice.",
                            "sv": "Inget att fördela ({credit}) i perioden och urvalet.",
                            "ru": "В этом периоде и срезе нечего распределять ({credit})."},
    "attribution.compare_title": {"en": "{credit} by {dimension}, every model",
                                  "sv": "{credit} per {dimension}, alla modeller",
                                  "ru": "{credit}: {dimension}, все модели"},
    "attribution.compare_measure": {"en": "Credit (the chosen model in full colour)",
                                    "sv": "Kredit (vald modell i full färg)",
                                    "ru": "Доля конверсий (выбранная модель — ярким цветом)"},
    "attribution.top": {
        "en": "The {count} values with most credit under the chosen model; the table below has all. Click a bar to "
              "filter every page by it.",
        "sv": "De {count} värden som får mest kredit i vald modell; tabellen nedan har alla. Klicka på en stapel för "
              "att filtrera alla sidor på den.",
        "ru": "{count} значений с наибольшей долей в выбранной модели; в таблице ниже — все. Нажмите на столбец, "
              "чтобы отфильтровать по нему все страницы."},
    "attribution.cost_title": {"en": "Cost per attributed conversion, by model",
                               "sv": "Kostnad per attribuerad konvertering, per modell",
                               "ru": "Стоимость атрибутированной конверсии по моделям"},
    "attribution.roas_title": {"en": "Attributed ROAS, by model", "sv": "Attribuerad ROAS, per modell",
                               "ru": "Атрибутированный ROAS по моделям"},
    "attribution.cost_help": {
        "en": "Spend on each value in the period divided by the conversions each model credits to it (for revenue: "
              "credited revenue divided by spend). Where spend is not recorded for a value, it shows –.",
        "sv": "Kostnaden för varje värde i perioden delad med de konverteringar varje modell ger det (för intäkter: "
              "fördelade intäkter delade med kostnaden). Där kostnad inte finns för ett värde visas –.",
        "ru": "Расходы на значение за период, делённые на конверсии, которые ему отдаёт каждая модель (для выручки: "
              "распределённая выручка, делённая на расходы). Где расходы для значения не записаны, стоит –."},
    "attribution.sliced": {
        "en": "Filtered to a slice of leads: spend is not recorded per lead, so cost and ROAS are not available "
              "here. Clear the filters to see them.",
        "sv": "Filtrerat till ett urval av leads: kostnad registreras inte per lead, så kostnad och ROAS visas inte "
              "här. Ta bort filtren för att se dem.",
        "ru": "Выбран срез лидов: расходы не записываются по лидам, поэтому стоимость и ROAS здесь недоступны. "
              "Снимите фильтры, чтобы их увидеть."},
    "attribution.stages_title": {"en": "Every funnel stage under {model}", "sv": "Varje trattsteg med {model}",
                                 "ru": "Все этапы воронки в модели «{model}»"},
    "attribution.stages_help": {
        "en": "Each stage credited on its own: a lead to the touches before it was created, an MQL to the touches "
              "before it qualified, a won deal to the touches before it was won; with the cost per attributed "
              "conversion at each stage.",
        "sv": "Varje steg fördelas för sig: en lead på kontakterna innan den skapades, en MQL på kontakterna innan "
              "den kvalificerades, en vunnen affär på kontakterna innan den vanns; med kostnad per attribuerad "
              "konvertering i varje steg.",
        "ru": "Каждый этап распределяется отдельно: лид — по касаниям до его создания, MQL — по касаниям до "
              "квалификации, выигранная сделка — по касаниям до выигрыша; со стоимостью атрибутированной "
              "конверсии на каждом этапе."},
    "attribution.derived": {
        "en": "Some touches are derived from source fields (a CRM's original and latest source, GA4's first-user "
              "and session campaign): a few a contact, not the whole journey. Multi-touch models see only those.",
        "sv": "En del kontakter är härledda ur källfält (CRM:ets ursprungliga och senaste källa, GA4:s "
              "förstagångs- och sessionskampanj): några per kontakt, inte hela kundresan. Flerkontaktsmodellerna "
              "ser bara dem.",
        "ru": "Часть касаний выведена из полей источника (исходный и последний источник в CRM, кампания первого "
              "посещения и сеанса в GA4): несколько на контакт, а не весь путь. Модели с несколькими касаниями "
              "видят только их."},
    "attribution.how": {"en": "How each model shares the credit", "sv": "Så fördelar varje modell krediten",
                        "ru": "Как каждая модель распределяет конверсии"},
    "attribution.col.spend": {"en": "Spend", "sv": "Kostnad", "ru": "Расходы"},
    "attribution.col.cost_per": {"en": "Cost per {credit}", "sv": "Kostnad per {credit}", "ru": "Стоимость: {credit}"},
    "model.first": {"en": "First touch", "sv": "Första kontakt", "ru": "Первое касание"},
    "model.last": {"en": "Last touch", "sv": "Sista kontakt", "ru": "Последнее касание"},
    "model.linear": {"en": "Linear", "sv": "Linjär", "ru": "Линейная"},
    "model.time_decay": {"en": "Time decay", "sv": "Tidsavtagande", "ru": "Угасание во времени"},
    "model.u_shaped": {"en": "U-shaped", "sv": "U-formad", "ru": "U-образная"},
    "model.w_shaped": {"en": "W-shaped", "sv": "W-formad", "ru": "W-образная"},
    "model.full_path": {"en": "Full path", "sv": "Hela vägen", "ru": "Полный путь"},
    "model.markov": {"en": "Data-driven (Markov)", "sv": "Datadriven (Markov)", "ru": "На основе данных (Марков)"},
    "model.first.explain": {
        "en": "All credit to the first touch: what brought the person in.",
        "sv": "All kredit till första kontakten: det som förde in personen.",
        "ru": "Вся конверсия — первому касанию: тому, что привело человека."},
    "model.last.explain": {
        "en": "All credit to the last touch before the conversion: what closed it.",
        "sv": "All kredit till sista kontakten före konverteringen: det som avgjorde.",
        "ru": "Вся конверсия — последнему касанию перед ней: тому, что её завершило."},
    "model.linear.explain": {
        "en": "Every touch before the conversion gets an equal share.",
        "sv": "Varje kontakt före konverteringen får lika stor andel.",
        "ru": "Каждое касание до конверсии получает равную долю."},
    "model.time_decay.explain": {
        "en": "Recent touches count more: a touch's weight halves for every 7 days before the conversion.",
        "sv": "Senare kontakter väger mer: en kontakts vikt halveras för varje 7 dagar före konverteringen.",
        "ru": "Недавние касания весят больше: вес касания уменьшается вдвое за каждые 7 дней до конверсии."},
    "model.u_shaped.explain": {
        "en": "40 % to the first touch, 40 % to the touch that created the lead, 20 % shared by the touches "
              "between (as HubSpot defines it).",
        "sv": "40 % till första kontakten, 40 % till kontakten som skapade leaden, 20 % delas av kontakterna "
              "däremellan (som HubSpot definierar den).",
        "ru": "40 % — первому касанию, 40 % — касанию, создавшему лида, 20 % делят касания между ними "
              "(как в HubSpot)."},
    "model.w_shaped.explain": {
        "en": "30 % each to the first touch, the lead's creation and the opportunity's creation; 10 % shared by "
              "the others.",
        "sv": "30 % vardera till första kontakten, leadens skapande och affärsmöjlighetens skapande; 10 % delas av "
              "de övriga.",
        "ru": "По 30 % — первому касанию, созданию лида и созданию сделки; 10 % делят остальные."},
    "model.full_path.explain": {
        "en": "22.5 % each to the first touch, the lead's creation, the opportunity's creation and the won deal; "
              "10 % shared by the others.",
        "sv": "22,5 % vardera till första kontakten, leadens skapande, affärsmöjlighetens skapande och den vunna "
              "affären; 10 % delas av de övriga.",
        "ru": "По 22,5 % — первому касанию, созданию лида, созданию сделки и выигрышу; 10 % делят остальные."},
    "model.markov.explain": {
        "en": "Learned from all journeys, converting or not: each channel gets credit in proportion to how many "
              "conversions would be lost without it (removal effect).",
        "sv": "Lärd av alla kundresor, med eller utan konvertering: varje kanal får kredit efter hur många "
              "konverteringar som skulle gå förlorade utan den (borttagningseffekt).",
        "ru": "Обучается на всех путях, с конверсией и без: каждый канал получает долю по тому, сколько конверсий "
              "было бы потеряно без него (эффект удаления)."},
}
