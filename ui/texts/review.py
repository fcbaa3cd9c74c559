"""Texts for the Review page: stop, start, continue, do more, do less, and the review's decisions (en, sv, ru)."""

TEXT: dict[str, dict[str, str]] = {
    "page.review": {"en": "Review", "sv": "Uppföljning", "ru": "Разбор"},
    "review.dimension": {"en": "Review by", "sv": "Följ upp per", "ru": "Разбирать по"},
    "review.explain": {
        "en": 'Won deals are judged only on leads old enough to have closed (older than the 75th percentile of days from lead to won), cost per won deal against the target CAC and ROAS against break-even; CPL and MQL rate against the peers, and the MQL rate against the periods before ({start} – {end}). The first rule that holds decides: stop, start, do more, do less, continue, or not enough data yet.',
        "sv": 'Vunna affärer bedöms bara på leads som är gamla nog att ha hunnit avslutas (äldre än 75:e percentilen av dagar från lead till vunnen affär), kostnad per vunnen affär mot mål-CAC och ROAS mot break-even; CPL och MQL-andel mot de andra, och MQL-andelen mot perioderna innan ({start} – {end}). Den första regel som gäller avgör: stoppa, starta, gör mer, gör mindre, fortsätt eller inte tillräckligt med data än.',
        "ru": 'Выигранные сделки оцениваются только по лидам, которые успели закрыться (старше 75-го перцентиля дней от лида до выигрыша), стоимость выигранной сделки — против целевого CAC, ROAS — против точки безубыточности; CPL и доля MQL — против остальных, а доля MQL — против предыдущих периодов ({start} – {end}). Решает первое сработавшее правило: остановить, запустить, делать больше, делать меньше, продолжать или пока мало данных.'},
    "review.filter_left_out": {
        "en": "The filter on {dimension} is left out here, so that each is compared with all its peers.",
        "sv": "Filtret på {dimension} används inte här, så att var och en jämförs med alla de andra.",
        "ru": "Фильтр по измерению «{dimension}» здесь не применяется, чтобы каждый сравнивался со всеми остальными."},
    "review.no_dimension": {
        "en": "A review needs initiatives or channels on the leads, and on the spend too when there is spend; this data has neither, so there is nothing to review. Map an initiative or channel column on import.",
        "sv": "En uppföljning behöver initiativ eller kanaler på leads, och på kostnaden också när det finns kostnad; datan har inget av dem, så det finns inget att följa upp. Mappa en initiativ- eller kanalkolumn vid import.",
        "ru": "Для разбора нужны инициативы или каналы у лидов, а при наличии расходов — и у расходов; здесь нет ни того, ни другого, разбирать нечего. Сопоставьте столбец инициативы или канала при импорте."},
    "review.thresholds": {"en": "Thresholds", "sv": "Tröskelvärden", "ru": "Пороги"},
    "review.thresholds_help": {
        "en": "The rules compare each number with these thresholds; the sentences below show the values used.",
        "sv": "Reglerna jämför varje tal med dessa tröskelvärden; meningarna nedan visar värdena som används.",
        "ru": "Правила сравнивают каждое число с этими порогами; в фразах ниже показаны использованные значения."},
    "review.t.stop_spend_share": {"en": "Stop: meaningful spend from (% of all spend)",
                                  "sv": "Stoppa: betydande kostnad från (% av all kostnad)",
                                  "ru": "Остановить: заметные расходы от (% всех расходов)"},
    "review.t.stop_cpl_multiple": {"en": "Stop: CPL at least (× median)", "sv": "Stoppa: CPL minst (× median)",
                                   "ru": "Остановить: CPL не меньше (× медиана)"},
    "review.t.weak_mql_rate": {"en": "Weak MQL rate: under (% of median)", "sv": "Svag MQL-andel: under (% av median)",
                               "ru": "Слабая доля MQL: ниже (% медианы)"},
    "review.t.less_cpl_multiple": {"en": "Do less: CPL at least (× median)", "sv": "Gör mindre: CPL minst (× median)",
                                   "ru": "Делать меньше: CPL не меньше (× медиана)"},
    "review.t.best_quantile": {
        "en": 'Do more: best share of peers by cost per won (%)',
        "sv": 'Gör mer: bästa andelen efter kostnad per vunnen affär (%)',
        "ru": 'Делать больше: лучшая доля по стоимости выигранной сделки (%)'},
    "review.t.start_cac_multiple": {
        "en": 'Start again: earlier cost per won at most (× target CAC)',
        "sv": 'Starta igen: tidigare kostnad per vunnen affär högst (× mål-CAC)',
        "ru": 'Запустить снова: прежняя стоимость сделки не больше (× целевой CAC)'},
    "verdict.stop": {"en": "Stop", "sv": "Stoppa", "ru": "Остановить"},
    "verdict.less": {"en": "Do less", "sv": "Gör mindre", "ru": "Делать меньше"},
    "verdict.more": {"en": "Do more", "sv": "Gör mer", "ru": "Делать больше"},
    "verdict.start": {"en": "Start", "sv": "Starta", "ru": "Запустить"},
    "verdict.continue": {"en": "Continue", "sv": "Fortsätt", "ru": "Продолжать"},
    "review.action.stop": {"en": "stop", "sv": "stoppa", "ru": "остановить"},
    "review.action.less": {"en": "do less", "sv": "gör mindre", "ru": "делать меньше"},
    "review.action.more": {"en": "do more", "sv": "gör mer", "ru": "делать больше"},
    "review.action.start": {"en": "start", "sv": "starta", "ru": "запустить"},
    "review.action.continue": {"en": "continue", "sv": "fortsätt", "ru": "продолжать"},
    "review.group": {"en": "{verdict} ({count})", "sv": "{verdict} ({count})", "ru": "{verdict} ({count})"},
    "review.rule.stop_no_mql": {
        "en": '{spend} spent ({share} of all spend; meaningful from {min_share}) and no MQL from {leads} leads, where {expected} were expected at the median MQL rate {median_rate}',
        "sv": '{spend} i kostnad ({share} av all kostnad; betydande från {min_share}) och ingen MQL av {leads} leads, där {expected} var att vänta vid median-MQL-andelen {median_rate}',
        "ru": 'Потрачено {spend} ({share} всех расходов; заметно от {min_share}), и ни одного MQL из {leads} лидов, хотя при медианной доле MQL {median_rate} ожидалось {expected}'},
    "review.rule.stop_expensive": {
        "en": 'CPL {cpl} is {multiple} the median {median} (stop from {threshold}) and the MQL rate {rate} is under {weak} of the median {median_rate}, from {leads} leads',
        "sv": 'CPL {cpl} är {multiple} medianen {median} (stoppa från {threshold}) och MQL-andelen {rate} är under {weak} av medianen {median_rate}, av {leads} leads',
        "ru": 'CPL {cpl} — это {multiple} медианы {median} (остановить от {threshold}), а доля MQL {rate} ниже {weak} медианы {median_rate}; лидов: {leads}'},
    "review.rule.more_best_cac": {
        "en": '{mature}: {m_cac} per won deal ({m_won} won), within the target CAC {target} and in the best {quantile} of peers (at most {best}); ROAS {roas} (healthy from {healthy}); {budget}',
        "sv": '{mature}: {m_cac} per vunnen affär ({m_won} vunna), inom mål-CAC {target} och bland de bästa {quantile} (högst {best}); ROAS {roas} (sunt från {healthy}); {budget}',
        "ru": '{mature}: {m_cac} за выигранную сделку (выиграно: {m_won}), в пределах целевого CAC {target} и среди лучших {quantile} (не больше {best}); ROAS {roas} (здоровый от {healthy}); {budget}'},
    "review.rule.less_expensive": {
        "en": 'CPL {cpl} is {multiple} the median {median} (do less from {threshold}) and the MQL rate {trend}',
        "sv": 'CPL {cpl} är {multiple} medianen {median} (gör mindre från {threshold}) och MQL-andelen {trend}',
        "ru": 'CPL {cpl} — это {multiple} медианы {median} (делать меньше от {threshold}), а доля MQL {trend}'},
    "review.rule.start_won_before": {
        "en": 'no spend this period, but {then} it won {won} deals at {cac} per won deal, within {threshold} (the target CAC {target} × {factor})',
        "sv": 'ingen kostnad denna period, men {then} vann den {won} affärer för {cac} per vunnen affär, inom {threshold} (mål-CAC {target} × {factor})',
        "ru": 'расходов в этом периоде нет, но {then} выиграно сделок: {won}, по {cac} за сделку, в пределах {threshold} (целевой CAC {target} × {factor})'},
    "review.rule.continue_at_budget": {
        "en": '{mature}: {m_cac} per won deal ({m_won} won), within the target CAC {target} and in the best {quantile} of peers (at most {best}), but spend {spend} has reached the budget {budget}',
        "sv": '{mature}: {m_cac} per vunnen affär ({m_won} vunna), inom mål-CAC {target} och bland de bästa {quantile} (högst {best}), men kostnaden {spend} har nått budgeten {budget}',
        "ru": '{mature}: {m_cac} за выигранную сделку (выиграно: {m_won}), в пределах целевого CAC {target} и среди лучших {quantile} (не больше {best}), но расходы {spend} достигли бюджета {budget}'},
    "review.rule.less_rates": {
        "en": 'no spend this period, judged on rates only: the MQL rate {rate} is under {weak} of the median {median_rate} and {trend}',
        "sv": 'ingen kostnad denna period, bedöms bara på andelar: MQL-andelen {rate} är under {weak} av medianen {median_rate} och {trend}',
        "ru": 'расходов в этом периоде нет, оценка только по долям: доля MQL {rate} ниже {weak} медианы {median_rate} и {trend}'},
    "review.rule.more_rates": {
        "en": 'no spend this period, judged on rates only: {m_rate} of its {m_leads} leads old enough to judge became won deals ({m_won}), in the best {quantile} of peers (at least {best})',
        "sv": 'ingen kostnad denna period, bedöms bara på andelar: {m_rate} av dess {m_leads} leads som är gamla nog att bedöma blev vunna affärer ({m_won}), bland de bästa {quantile} (minst {best})',
        "ru": 'расходов в этом периоде нет, оценка только по долям: {m_rate} из {m_leads} лидов, достаточно старых для оценки, стали выигранными сделками ({m_won}), среди лучших {quantile} (не меньше {best})'},
    "review.rule.continue_rates": {
        "en": 'no spend this period, judged on rates only: {mql}; {won_part}',
        "sv": 'ingen kostnad denna period, bedöms bara på andelar: {mql}; {won_part}',
        "ru": 'расходов в этом периоде нет, оценка только по долям: {mql}; {won_part}'},
    "review.rule.continue": {
        "en": 'CPL {cpl} ({multiple} the median {median}), {mql}; {won_part}',
        "sv": 'CPL {cpl} ({multiple} medianen {median}), {mql}; {won_part}',
        "ru": 'CPL {cpl} ({multiple} медианы {median}), {mql}; {won_part}'},
    "review.mql_part": {
        "en": 'MQL rate {change}',
        "sv": 'MQL-andelen {change}',
        "ru": 'доля MQL {change}'},
    "review.no_qualified_part": {"en": "no qualified stage", "sv": "inget kvalificerat steg",
                                 "ru": "нет этапа квалификации"},
    "review.no_qualified": {
        "en": "This funnel has no qualified stage (MQL) between leads and won deals, so the rules on MQL are skipped: the conclusions rest on spend, CPL, won deals and cost per won deal.",
        "sv": "Tratten har inget kvalificerat steg (MQL) mellan leads och vunna affärer, så reglerna om MQL hoppas över: bedömningarna bygger på kostnad, CPL, vunna affärer och kostnad per vunnen affär.",
        "ru": "В этой воронке нет этапа квалификации (MQL) между лидами и выигранными сделками, поэтому правила про MQL пропущены: выводы опираются на расходы, CPL, выигранные сделки и стоимость выигранной сделки."},
    "review.term": {
        "en": "This is the review of {term}: decisions saved here stay with it as new data arrives.",
        "sv": "Detta är uppföljningen för {term}: beslut som sparas här ligger kvar när nya data kommer in.",
        "ru": "Это разбор за {term}: сохранённые здесь решения остаются при поступлении новых данных."},
    "review.budget_headroom": {"en": "spend {spend} is under the budget {budget}",
                               "sv": "kostnaden {spend} ligger under budgeten {budget}",
                               "ru": "расходы {spend} ниже бюджета {budget}"},
    "review.budget_unknown": {"en": "no budget is known, so headroom is not checked",
                              "sv": "ingen budget är känd, så utrymmet är inte kontrollerat",
                              "ru": "бюджет неизвестен, поэтому запас не проверен"},
    "review.then.previous": {"en": "in the previous period", "sv": "under föregående period", "ru": "в предыдущем периоде"},
    "review.then.last_year": {"en": "in the same period last year", "sv": "under samma period i fjol",
                              "ru": "в том же периоде прошлого года"},
    "review.line": {"en": "**{subject}**: {reason} → **{action}**", "sv": "**{subject}**: {reason} → **{action}**",
                    "ru": "**{subject}**: {reason} → **{action}**"},
    "review.open_campaigns": {"en": "Show in Campaigns", "sv": "Visa i Kampanjer", "ru": "Показать в Кампаниях"},
    "review.nothing": {"en": "Nothing had leads or spend in this period.",
                       "sv": "Inget hade leads eller kostnad under perioden.",
                       "ru": "В этом периоде не было ни лидов, ни расходов."},
    "review.last": {"en": "Last review ({period})", "sv": "Förra uppföljningen ({period})",
                    "ru": "Прошлый разбор ({period})"},
    "review.last_line": {"en": "**{subject}** · {verdict}: {decision} ({owner}, {date})",
                         "sv": "**{subject}** · {verdict}: {decision} ({owner}, {date})",
                         "ru": "**{subject}** · {verdict}: {decision} ({owner}, {date})"},
    "review.no_last": {"en": "No earlier review is saved yet: the decisions saved here are where the next one starts.",
                       "sv": "Ingen tidigare uppföljning är sparad än: besluten som sparas här blir nästa uppföljnings startpunkt.",
                       "ru": "Прошлых разборов пока нет: решения, сохранённые здесь, станут отправной точкой следующего."},
    "review.unreadable": {"en": "A saved review cannot be read and is not shown: {reason}",
                          "sv": "En sparad uppföljning kan inte läsas och visas inte: {reason}",
                          "ru": "Сохранённый разбор не читается и не показан: {reason}"},
    "review.decisions": {"en": "Decisions", "sv": "Beslut", "ru": "Решения"},
    "review.decisions_help": {
        "en": "One row per {dimension}. Fill in decision and owner where you decided something; rows without text are skipped. A budget lets the do-more rule check headroom once saved.",
        "sv": "En rad per {dimension}. Fyll i beslut och ansvarig där ni beslutat något; rader utan text hoppas över. En budget låter gör-mer-regeln kontrollera utrymmet när den sparats.",
        "ru": "Одна строка на каждое значение «{dimension}». Заполните решение и ответственного там, где что-то решили; строки без текста пропускаются. Бюджет после сохранения позволяет правилу «делать больше» проверить запас."},
    "review.col.verdict": {"en": "Verdict", "sv": "Bedömning", "ru": "Вывод"},
    "review.col.budget": {"en": "Budget ({currency})", "sv": "Budget ({currency})", "ru": "Бюджет ({currency})"},
    "review.col.decision": {"en": "Decision", "sv": "Beslut", "ru": "Решение"},
    "review.col.owner": {"en": "Owner", "sv": "Ansvarig", "ru": "Ответственный"},
    "review.col.date": {"en": "Date", "sv": "Datum", "ru": "Дата"},
    "review.col.note": {"en": "Note", "sv": "Anteckning", "ru": "Заметка"},
    "review.save": {"en": "Save decisions", "sv": "Spara beslut", "ru": "Сохранить решения"},
    "review.saved": {"en": "Saved {n} decision for {period}.|Saved {n} decisions for {period}.",
                     "sv": "Sparade {n} beslut för {period}.|Sparade {n} beslut för {period}.",
                     "ru": "Сохранено {n} решение за {period}.|Сохранено {n} решения за {period}.|Сохранено {n} решений за {period}."},
    "review.refused": {"en": "Nothing was saved: {problems}", "sv": "Inget sparades: {problems}",
                       "ru": "Ничего не сохранено: {problems}"},
    "review.session_only": {
        "en": "Decisions are saved with a workspace, and these uploads are not saved yet. Save them on the {page} page to keep decisions.",
        "sv": "Beslut sparas med en arbetsyta, och dessa uppladdningar är inte sparade än. Spara dem på sidan {page} för att behålla beslut.",
        "ru": "Решения сохраняются вместе с рабочим пространством, а эти загрузки ещё не сохранены. Сохраните их на странице «{page}», чтобы сохранять решения."},
    "review.read_only": {"en": "Decisions of this review (read-only).", "sv": "Beslut i denna uppföljning (skrivskyddat).",
                         "ru": "Решения этого разбора (только чтение)."},
    "review.no_decisions": {"en": "No decisions are saved for this review.",
                            "sv": "Inga beslut är sparade för denna uppföljning.",
                            "ru": "Для этого разбора решений не сохранено."},
    "verdict.wait": {
        "en": 'Not enough data yet',
        "sv": 'Inte tillräckligt med data än',
        "ru": 'Пока мало данных'},
    "review.action.wait": {
        "en": 'wait for more data',
        "sv": 'vänta på mer data',
        "ru": 'дождаться данных'},
    "review.rule.stop_no_mql.no_leads": {
        "en": '{spend} spent ({share} of all spend; meaningful from {min_share}) and not one lead',
        "sv": '{spend} i kostnad ({share} av all kostnad; betydande från {min_share}) och inte en enda lead',
        "ru": 'Потрачено {spend} ({share} всех расходов; заметно от {min_share}), и ни одного лида'},
    "review.rule.stop_no_won": {
        "en": "{mature}: {m_spend} spent, {m_opps} opportunities and no won deal, where {expected} were expected at the overall lead → won {all_rate}",
        "sv": "{mature}: {m_spend} i kostnad, {m_opps} affärsmöjligheter och ingen vunnen affär, där {expected} var att vänta vid den totala andelen lead → vunnen {all_rate}",
        "ru": "{mature}: потрачено {m_spend}, сделок в работе: {m_opps}, выигранных нет, хотя при общей доле лид → выигрыш {all_rate} ожидалось {expected}"},
    "review.rule.stop_cac": {
        "en": '{mature}: {m_cac} per won deal ({m_won} won) is {cac_multiple} the target CAC {target} (stop from {threshold}), and ROAS {roas} is under break-even {break_even}',
        "sv": '{mature}: {m_cac} per vunnen affär ({m_won} vunna) är {cac_multiple} mål-CAC {target} (stoppa från {threshold}), och ROAS {roas} är under break-even {break_even}',
        "ru": '{mature}: {m_cac} за выигранную сделку (выиграно: {m_won}) — это {cac_multiple} целевого CAC {target} (остановить от {threshold}), а ROAS {roas} ниже безубыточности {break_even}'},
    "review.rule.start_low_budget": {
        "en": 'only {spend} spent ({share} of all spend; little under {max_share}), yet {m_rate} of its {m_leads} leads old enough to judge became won deals ({m_won}), {rate_multiple} the overall {all_rate} (start from {start_multiple}){cost}',
        "sv": 'bara {spend} i kostnad ({share} av all kostnad; lite under {max_share}), men {m_rate} av dess {m_leads} leads som är gamla nog att bedöma blev vunna affärer ({m_won}), {rate_multiple} den totala {all_rate} (starta från {start_multiple}){cost}',
        "ru": 'потрачено всего {spend} ({share} всех расходов; мало — ниже {max_share}), но {m_rate} из {m_leads} лидов, достаточно старых для оценки, стали выигранными сделками ({m_won}) — это {rate_multiple} общей доли {all_rate} (запустить от {start_multiple}){cost}'},
    "review.rule.less_cac": {
        "en": '{mature}: {m_cac} per won deal ({m_won} won) is {cac_multiple} the target CAC {target} (do less from {threshold}), and ROAS {roas} is under a healthy {healthy}',
        "sv": '{mature}: {m_cac} per vunnen affär ({m_won} vunna) är {cac_multiple} mål-CAC {target} (gör mindre från {threshold}), och ROAS {roas} är under sunda {healthy}',
        "ru": '{mature}: {m_cac} за выигранную сделку (выиграно: {m_won}) — это {cac_multiple} целевого CAC {target} (делать меньше от {threshold}), а ROAS {roas} ниже здорового {healthy}'},
    "review.rule.wait": {
        "en": '{m_leads} leads are old enough to judge on won deals (created by {cutoff}; a deal takes up to {days} days, p75), fewer than {min_leads}; {so_far}',
        "sv": '{m_leads} leads är gamla nog att bedömas på vunna affärer (skapade senast {cutoff}; en affär tar upp till {days} dagar, p75), färre än {min_leads}; {so_far}',
        "ru": 'Лидов, достаточно старых для оценки по выигранным сделкам (созданы до {cutoff}; сделка занимает до {days} дн., p75): {m_leads}, меньше {min_leads}; {so_far}'},
    "review.rule.wait.no_won": {
        "en": 'the data has no won deal yet to learn how long deals take; {so_far}',
        "sv": 'datan har ännu ingen vunnen affär att lära sig av hur lång tid affärer tar; {so_far}',
        "ru": 'в данных ещё нет выигранных сделок, чтобы узнать, сколько длится сделка; {so_far}'},
    "review.part.so_far": {
        "en": 'so far {leads} leads, {mql}',
        "sv": 'hittills {leads} leads, {mql}',
        "ru": 'пока лидов: {leads}, {mql}'},
    "review.part.so_far_cost": {
        "en": 'so far {leads} leads for {spend} (CPL {cpl}), {mql}',
        "sv": 'hittills {leads} leads för {spend} (CPL {cpl}), {mql}',
        "ru": 'пока лидов: {leads} за {spend} (CPL {cpl}), {mql}'},
    "review.part.mature": {
        "en": 'over the {m_leads} leads old enough to judge ({start} – {end}; a deal takes up to {days} days, p75)',
        "sv": 'över de {m_leads} leads som är gamla nog att bedöma ({start} – {end}; en affär tar upp till {days} dagar, p75)',
        "ru": 'по {m_leads} лидам, достаточно старым для оценки ({start} – {end}; сделка занимает до {days} дн., p75)'},
    "review.part.trend": {
        "en": '{change} against the {n} periods before (z = {z}; a fall counts from {trend_z})',
        "sv": '{change} jämfört med de {n} perioderna innan (z = {z}; en nedgång räknas från {trend_z})',
        "ru": '{change} по сравнению с {n} предыдущими периодами (z = {z}; падение считается от {trend_z})'},
    "review.part.roas_unknown": {
        "en": 'unknown (no deal amounts)',
        "sv": 'okänd (inga affärsbelopp)',
        "ru": 'неизвестен (нет сумм сделок)'},
    "review.part.start_cost": {
        "en": ', at {m_cac} per won deal, within the target CAC {target}',
        "sv": ', för {m_cac} per vunnen affär, inom mål-CAC {target}',
        "ru": ', по {m_cac} за выигранную сделку, в пределах целевого CAC {target}'},
    "review.part.won_cost": {
        "en": '{mature}: {m_cac} per won deal, {cac_multiple} the target CAC {target}, ROAS {roas}',
        "sv": '{mature}: {m_cac} per vunnen affär, {cac_multiple} mål-CAC {target}, ROAS {roas}',
        "ru": '{mature}: {m_cac} за выигранную сделку, {cac_multiple} целевого CAC {target}, ROAS {roas}'},
    "review.part.won_rate": {
        "en": '{mature}: {m_won} won deals, lead → won {m_rate}',
        "sv": '{mature}: {m_won} vunna affärer, lead → vunnen {m_rate}',
        "ru": '{mature}: выиграно сделок: {m_won}, лид → выигрыш {m_rate}'},
    "review.part.no_mature": {
        "en": 'only {m_leads} leads are old enough to judge on won deals (from {min_leads})',
        "sv": 'bara {m_leads} leads är gamla nog att bedömas på vunna affärer (från {min_leads})',
        "ru": 'лишь {m_leads} лидов достаточно стары для оценки по выигранным сделкам (нужно от {min_leads})'},
    "review.change.rose": {
        "en": 'rose from {before} to {now}',
        "sv": 'steg från {before} till {now}',
        "ru": 'выросла с {before} до {now}'},
    "review.change.fell": {
        "en": 'fell from {before} to {now}',
        "sv": 'föll från {before} till {now}',
        "ru": 'упала с {before} до {now}'},
    "review.change.held": {
        "en": 'held at {now}',
        "sv": 'låg kvar på {now}',
        "ru": 'осталась на уровне {now}'},
    "review.change.now": {
        "en": '{now}',
        "sv": '{now}',
        "ru": '{now}'},
    "review.target.kpi": {
        "en": 'Target CAC {target}: the KPI “{name}”, {period}.',
        "sv": 'Mål-CAC {target}: KPI:n ”{name}”, {period}.',
        "ru": 'Целевой CAC {target}: KPI «{name}», {period}.'},
    "review.target.rule": {
        "en": 'Target CAC {target}, as set in the thresholds.',
        "sv": 'Mål-CAC {target}, enligt tröskelvärdena.',
        "ru": 'Целевой CAC {target}, как задано в порогах.'},
    "review.target.median": {
        "en": "No CAC target in the KPI tree and none set in the thresholds: the peers' median cost per won deal, {target}, stands in.",
        "sv": 'Inget CAC-mål i KPI-trädet och inget angivet i tröskelvärdena: de andras median för kostnad per vunnen affär, {target}, används i stället.',
        "ru": 'Целевого CAC нет ни в дереве KPI, ни в порогах: вместо него — медианная стоимость выигранной сделки, {target}.'},
    "review.target.none": {
        "en": 'No CAC target and no cost per won deal to compare with yet.',
        "sv": 'Inget CAC-mål och ingen kostnad per vunnen affär att jämföra med än.',
        "ru": 'Пока нет ни целевого CAC, ни стоимости выигранной сделки для сравнения.'},
    "review.t.target_cac": {
        "en": "Target CAC (empty: the KPI tree's, else the median)",
        "sv": 'Mål-CAC (tomt: KPI-trädets, annars medianen)',
        "ru": 'Целевой CAC (пусто: из дерева KPI, иначе медиана)'},
    "review.t.stop_cac_multiple": {
        "en": 'Stop: cost per won at least (× target CAC)',
        "sv": 'Stoppa: kostnad per vunnen affär minst (× mål-CAC)',
        "ru": 'Остановить: стоимость сделки не меньше (× целевой CAC)'},
    "review.t.roas_break_even": {
        "en": 'ROAS break-even (×; 1 / gross margin for margin)',
        "sv": 'ROAS break-even (×; 1 / bruttomarginal för marginal)',
        "ru": 'ROAS безубыточности (×; 1 / валовая маржа с учётом маржи)'},
    "review.t.less_cac_multiple": {
        "en": 'Do less: cost per won at least (× target CAC)',
        "sv": 'Gör mindre: kostnad per vunnen affär minst (× mål-CAC)',
        "ru": 'Делать меньше: стоимость сделки не меньше (× целевой CAC)'},
    "review.t.roas_healthy": {
        "en": 'Healthy ROAS from (×)',
        "sv": 'Sund ROAS från (×)',
        "ru": 'Здоровый ROAS от (×)'},
    "review.t.min_leads": {
        "en": 'Judge from (leads, and mature leads)',
        "sv": 'Bedöm från (leads, och mogna leads)',
        "ru": 'Оценивать от (лидов и зрелых лидов)'},
    "review.t.min_expected": {
        "en": 'None at all counts from (expected)',
        "sv": 'Inga alls räknas från (väntat antal)',
        "ru": '«Ни одного» считается от (ожидалось)'},
    "review.t.trend_periods": {
        "en": 'Trend: periods (this one and those before)',
        "sv": 'Trend: perioder (denna och de innan)',
        "ru": 'Тренд: периодов (этот и предыдущие)'},
    "review.t.trend_z": {
        "en": 'Trend: a fall counts from z',
        "sv": 'Trend: en nedgång räknas från z',
        "ru": 'Тренд: падение считается от z'},
    "review.t.start_budget_share": {
        "en": 'Start: little budget under (% of all spend)',
        "sv": 'Starta: liten budget under (% av all kostnad)',
        "ru": 'Запустить: малый бюджет ниже (% всех расходов)'},
    "review.t.start_rate_multiple": {
        "en": 'Start: lead → won at least (× overall)',
        "sv": 'Starta: lead → vunnen minst (× totalt)',
        "ru": 'Запустить: лид → выигрыш не меньше (× общей)'},
    "review.t.cycle_min_won": {
        "en": 'Own time to won from (won deals)',
        "sv": 'Egen tid till vunnen från (vunna affärer)',
        "ru": 'Своё время до выигрыша от (выигранных сделок)'},
}
