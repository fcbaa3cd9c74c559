"""Texts for the Funnel page (en, sv, ru)."""

TEXT: dict[str, dict[str, str]] = {
    "funnel.stages": {"en": "Stage by stage", "sv": "Steg för steg", "ru": "Этап за этапом"},
    "funnel.breakdown": {"en": "Breakdown", "sv": "Uppdelning", "ru": "Разбивка"},
    "funnel.breakdown_by": {"en": "Break the funnel down by", "sv": "Dela upp tratten efter", "ru": "Разбить воронку по"},
    "funnel.breakdown_title": {"en": "Conversion from the previous stage by {dimension}", "sv": "Konvertering från föregående steg per {dimension}", "ru": "Конверсия из предыдущего этапа по измерению «{dimension}»"},
    "funnel.best_worst": {"en": "Best and worst {dimension} per stage (at least {min_base} at the stage before)", "sv": "Bästa och sämsta {dimension} per steg (minst {min_base} i steget före)", "ru": "Лучшие и худшие значения «{dimension}» по этапам (не меньше {min_base} на предыдущем этапе)"},
    "funnel.best": {"en": "Best", "sv": "Bäst", "ru": "Лучший"},
    "funnel.worst": {"en": "Worst", "sv": "Sämst", "ru": "Худший"},
    "funnel.trend": {"en": "Conversion over time", "sv": "Konvertering över tid", "ru": "Конверсия во времени"},
    "funnel.handover": {"en": "Hand-over to sales", "sv": "Överlämning till sälj", "ru": "Передача лидов в продажи"},
    "funnel.sla": {"en": "Sales should contact a lead within {hours} hours. Leads younger than that are not judged yet.", "sv": "Sälj ska kontakta ett lead inom {hours} timmar. Yngre leads bedöms inte ännu.", "ru": "Продажи должны связаться с лидом в течение {hours} ч. Более новые лиды пока не оцениваются."},
    "funnel.leakage_by": {"en": "Leakage by {dimension}", "sv": "Läckage per {dimension}", "ru": "Потери лидов по измерению «{dimension}»"},
    "funnel.leaked_list": {"en": "Leads never contacted or contacted late ({count})", "sv": "Leads som aldrig kontaktats eller kontaktats sent ({count})", "ru": "Лиды без контакта или с поздним контактом ({count})"},
    "funnel.no_contact_data": {"en": "This data has no first-contact dates, so speed to lead and leakage cannot be measured. Map a 'first contact' column on import.", "sv": "Datan saknar datum för första kontakt, så svarstid och läckage kan inte mätas. Koppla en kolumn för första kontakt vid import.", "ru": "В данных нет даты первого контакта, поэтому скорость реакции и потери измерить нельзя. Сопоставьте столбец «первый контакт» при импорте."},
    "funnel.reason.never_contacted": {"en": "never contacted", "sv": "aldrig kontaktad", "ru": "без контакта"},
    "funnel.reason.contacted_late": {"en": "contacted late", "sv": "kontaktad sent", "ru": "поздний контакт"},
    "col.lead_id": {"en": "Lead", "sv": "Lead", "ru": "Лид"},
    "col.created_at": {"en": "Created", "sv": "Skapad", "ru": "Создан"},
    "col.first_contact_at": {"en": "First contact", "sv": "Första kontakt", "ru": "Первый контакт"},
    "col.hours_to_contact": {"en": "Hours to contact", "sv": "Timmar till kontakt", "ru": "Часов до контакта"},
    "col.reason": {"en": "Why", "sv": "Varför", "ru": "Причина"},
    "col.label": {"en": "Stage", "sv": "Steg", "ru": "Этап"},
    "col.best": {"en": "Best", "sv": "Bäst", "ru": "Лучший"},
    "col.best_conversion": {"en": "Best conversion", "sv": "Bästa konvertering", "ru": "Лучшая конверсия"},
    "col.worst": {"en": "Worst", "sv": "Sämst", "ru": "Худший"},
    "col.worst_conversion": {"en": "Worst conversion", "sv": "Sämsta konvertering", "ru": "Худшая конверсия"},
    "col.stage": {"en": "Stage", "sv": "Steg", "ru": "Этап"},
    "col.count": {"en": "Count", "sv": "Antal", "ru": "Количество"},
    "col.step_conversion": {"en": "From previous stage", "sv": "Från föregående steg", "ru": "Из предыдущего этапа"},
    "col.overall_conversion": {"en": "From lead", "sv": "Från lead", "ru": "Из лида"},
    "col.drop_off": {"en": "Dropped", "sv": "Tappade", "ru": "Отсеялось"},
    "col.days_from_previous": {"en": "Median days", "sv": "Mediandagar", "ru": "Медиана, дней"},
    "col.days_from_previous_p75": {"en": "Days (p75)", "sv": "Dagar (p75)", "ru": "Дней (p75)"},
    "col.cost_per_stage": {"en": "Cost per stage", "sv": "Kostnad per steg", "ru": "Стоимость этапа"},
    "col.count_prev": {"en": "Count (compared)", "sv": "Antal (jämförelse)", "ru": "Количество (сравнение)"},
    "col.step_conversion_prev": {"en": "From previous stage (compared)", "sv": "Från föregående steg (jämförelse)",
                                 "ru": "Из предыдущего этапа (сравнение)"},
    "col.cost_per_stage_prev": {"en": "Cost per stage (compared)", "sv": "Kostnad per steg (jämförelse)",
                                "ru": "Стоимость этапа (сравнение)"},
    "col.days_from_previous_prev": {"en": "Median days (compared)", "sv": "Mediandagar (jämförelse)",
                                    "ru": "Медиана, дней (сравнение)"},
    "col.days_from_previous_p75_prev": {"en": "Days (p75, compared)", "sv": "Dagar (p75, jämförelse)",
                                        "ru": "Дней (p75, сравнение)"},
    "funnel.stage_table_help": {
        "en": "Cost per stage is the period's spend ({currency}) divided by the stage's count: cost per visit, per "
              "lead (CPL), per MQL, per SQL, per opportunity and per won deal (CAC). Days count from the stage "
              "before; a visit is not tied to the lead it became, so visits and leads have none (–). "
              "“Compared” columns are the comparison period.",
        "sv": "Kostnad per steg är periodens kostnad ({currency}) delad med stegets antal: kostnad per besök, per "
              "lead (CPL), per MQL, per SQL, per affärsmöjlighet och per vunnen affär (CAC). Dagar räknas från "
              "steget före; ett besök är inte kopplat till det lead det blev, så besök och leads saknar dagar (–). "
              "Kolumnerna ”jämförelse” gäller jämförelseperioden.",
        "ru": "Стоимость этапа — расходы за период ({currency}), делённые на число на этапе: стоимость визита, "
              "лида (CPL), MQL, SQL, сделки в работе и выигранной сделки (CAC). Дни считаются от предыдущего "
              "этапа; визит не связан с лидом, которым он стал, поэтому у визитов и лидов дней нет (–). "
              "Столбцы «сравнение» — период сравнения."},
    "funnel.flow_table_note": {
        "en": "Flow view: each count is the stage's events in the period, whenever the lead was created; “From "
              "previous stage” divides them by the previous stage's events in the same period, so it can pass 100 %.",
        "sv": "Flödesvy: varje antal är stegets händelser i perioden, oavsett när leadet skapades; ”Från föregående "
              "steg” delar dem med föregående stegs händelser i samma period, så det kan passera 100 %.",
        "ru": "Поток: каждое число — события этапа за период, независимо от даты лида; «Из предыдущего этапа» "
              "делит их на события предыдущего этапа за тот же период, поэтому значение может превышать 100 %."},
}
