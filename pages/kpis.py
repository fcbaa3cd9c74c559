"""KPIs: the KPI tree with each KPI's value, target and status; scorecards with pace and forecast; a trend
per KPI with anomalies; editing the tree and its targets; templates; and the history of target changes."""

from __future__ import annotations

from datetime import date

import polars as pl
import streamlit as st

from kpi import clock, tree_edit
from kpi import templates as kpi_templates
from kpi import tree as kpi_tree
from kpi.metrics import Metric
from kpi.period import Grain
from kpi.schema import Problem
from kpi.scorecard import METHOD, Card
from kpi.targets import period_label
from kpi.tree import CADENCES, Kpi
from ui import format as fmt
from ui import kpis as kpi_ui
from ui import money
from ui import workspace as data
from ui.auth import can_edit, user_email
from ui.components import range_note, show_chart
from ui.i18n import dim_label, metric_label, plural, t
from ui.navigation import render_page
from ui.safe import md
from ui.share import read_only as shared_link
from ui.state import current
from ui.tables import show_table

PER_ROW = 3
TREND_GRAINS: tuple[Grain, ...] = ("day", "week", "month")
NONE = ""  # the parent select's "no parent: a goal"; the direction select's "as the metric"
FLASH = "_kpis_saved"  # a message to show after the rerun that follows a save
ADD_FIELDS = tuple(f"kpi_add_{f}" for f in ("name", "metric", "formula", "parent", "owner", "why", "how", "direction",
                                             "cadence", "filters", "warning", "critical", "target", "period"))


def show_problems(problems: list[Problem], lang: str, saved_nothing: bool = True) -> None:
    """Errors in red ("nothing was saved", or for a stored tree "has these problems"); warnings in amber."""
    refused = kpi_ui.errors(problems)
    if refused:
        st.error(t("kpis.problems_not_saved" if saved_nothing else "kpis.problems_stored", lang) + "\n\n"
                 + "\n".join(f"- {md(p)}" for p in refused), icon=":material/error:")
    warned = [p for p in problems if p not in refused]
    if warned:
        st.warning(t("kpis.problems_warnings", lang) + "\n\n" + "\n".join(f"- {md(p)}" for p in warned),
                   icon=":material/warning:")


def after_save(problems: list[Problem], lang: str, message: str, clear: tuple[str, ...] = ()) -> None:
    """Rerun so the saved tree shows, with `message`; or list the errors when nothing was saved."""
    if problems:
        show_problems(problems, lang)
        return
    for key in clear:
        st.session_state.pop(key, None)
    st.session_state[FLASH] = message
    st.rerun()


def save_and_rerun(ws: data.Workspace, frame: pl.DataFrame, lang: str, message: str,
                   clear: tuple[str, ...] = ()) -> None:
    """Save the tree as a new version and rerun so it shows; list the errors and save nothing when it has any."""
    after_save(kpi_ui.save(ws, frame, user_email()), lang, message, clear)


# -- the tree ------------------------------------------------------------------------------------------------


def render_tree(ws: data.Workspace, kpis: list[Kpi], cards: dict[str, Card], lang: str) -> None:
    catalog = data.catalog(ws)
    currency = ws.settings.currency
    st.graphviz_chart(kpi_ui.tree_dot(kpis, cards, catalog, lang, currency))
    st.caption(t("kpis.tree_help", lang))
    for kpi, depth in kpi_tree.walk(kpis):
        card = cards.get(kpi.id)
        icon = kpi_ui.STATUS_DOT.get(card.status if card and card.status else "", kpi_ui.NO_STATUS_DOT)
        indent = "\u2003" * depth  # em spaces: Markdown would read leading spaces as code
        with st.expander(f"{indent}{icon} {md(kpi.name)}", key=f"kpi_detail_{kpi.id}"):
            render_definition(kpi, catalog, lang, currency)


def render_definition(kpi: Kpi, catalog: dict[str, Metric], lang: str, currency: str) -> None:
    measured = (metric_label(kpi.metric, lang) if kpi.metric in catalog
                else t("kpis.def.formula", lang, formula=md(kpi.metric)))
    lines = [t("kpis.def.metric", lang, metric=measured),
             t("kpis.def.why", lang, why=md(kpi.why) if kpi.why else fmt.DASH),
             t("kpis.def.how", lang, how=md(kpi.how) if kpi.how else fmt.DASH),
             t("kpis.def.filters", lang, filters=kpi_ui.filters_text(kpi.filters, lang)),
             t("kpis.def.owner", lang, owner=md(kpi.owner) if kpi.owner else fmt.DASH),
             t(f"kpis.def.thresholds.{kpi.direction}", lang, warning=fmt.percent(kpi.warning, lang, 0),
               critical=fmt.percent(kpi.critical, lang, 0)),
             t("kpis.def.cadence", lang, cadence=t(f"kpis.cadence.{kpi.cadence}", lang)
               if kpi.cadence in CADENCES else md(kpi.cadence)),
             t("kpis.def.targets", lang, targets=", ".join(
                 f"{md(p)}: {kpi_ui.value_text(kpi, v, catalog, lang, currency)}"
                 for p, v in sorted(kpi.targets.items()))
               or fmt.DASH)]
    st.markdown("\n".join(f"- {line}" for line in lines))


# -- scorecards ----------------------------------------------------------------------------------------------


def render_scorecards(ws: data.Workspace, kpis: list[Kpi], cards: dict[str, Card], today: date, lang: str) -> None:
    catalog = data.catalog(ws)
    currency = ws.settings.currency
    with_target = [cards[k.id] for k, _ in kpi_tree.walk(kpis) if cards[k.id].target is not None]
    if not with_target:
        st.info(t("kpis.no_targets", lang, period=period_label(today, "quarter")))
    for start in range(0, len(with_target), PER_ROW):
        for col, card in zip(st.columns(PER_ROW), with_target[start:start + PER_ROW], strict=False):
            with col.container(border=True):
                render_card(card, catalog, lang, currency, today)
    without = [cards[k.id] for k, _ in kpi_tree.walk(kpis) if cards[k.id].target is None]
    if without:
        st.markdown(t("kpis.without_target", lang) + "\n\n" + "\n".join(
            f"- {kpi_ui.NO_STATUS_DOT} **{md(c.kpi.name)}**: {kpi_ui.reason_text(c, catalog, lang, currency, today)}"
            for c in without))
    st.caption(t("kpis.method", lang, method=METHOD))


def render_card(card: Card, catalog: dict[str, Metric], lang: str, currency: str, today: date) -> None:
    def v(x: float | None) -> str:
        return kpi_ui.value_text(card.kpi, x, catalog, lang, currency)

    st.metric(md(card.kpi.name), v(card.value),
              help=t("kpis.card.value_help", lang, start=fmt.day(card.period.start, lang),
                     day=fmt.day(today, lang)) if card.period is not None else None)
    st.caption(kpi_ui.scope_text(card, lang))
    st.badge(kpi_ui.status_text(card, lang),
             color=kpi_ui.STATUS_BADGE[card.status] if card.status is not None else "gray")  # type: ignore[arg-type]
    st.markdown(kpi_ui.reason_text(card, catalog, lang, currency, today))
    pace = (t("kpis.card.pace", lang, expected=v(card.expected), day=fmt.day(today, lang),
              basis=t(f"kpis.basis.{card.pace_basis}", lang)) if card.expected is not None else "")
    st.caption(t("kpis.card.target", lang, target=v(card.target), period=md(card.period_label)) + (" · " + pace
                                                                                               if pace else ""))


# -- trend ---------------------------------------------------------------------------------------------------


def render_trend(ws: data.Workspace, kpis: list[Kpi], today: date, lang: str) -> None:
    names = {k.id: k.name for k, _ in kpi_tree.walk(kpis)}
    left, right = st.columns([3, 2])
    chosen = left.selectbox(t("kpis.trend.kpi", lang), list(names), format_func=names.__getitem__, key="kpi_trend")
    grain: Grain = right.segmented_control(t("sidebar.grain", lang), TREND_GRAINS, default="week", required=True,
                                           format_func=lambda g: t(f"grain.{g}", lang), key="kpi_trend_grain")
    kpi = next(k for k in kpis if k.id == chosen)
    frame = kpi_ui.trend(ws, kpi.id, today, grain)
    catalog = data.catalog(ws)
    unit = catalog[kpi.metric].unit if kpi.metric in catalog else "multiple"
    sentence = kpi_ui.anomaly_text(frame, kpi, grain, catalog, lang, ws.settings.currency)
    if sentence is None:
        st.info(t("notice.no_data", lang))
        return
    show_chart(st, kpi_ui.trend_chart(frame, unit, lang, t("kpis.trend.title", lang, kpi=kpi.name)), lang,
               width="stretch")
    st.markdown(sentence)
    st.caption(t("kpis.trend.help", lang))
    range_note(ws, lang)


# -- editing -------------------------------------------------------------------------------------------------


def render_add_form(ws: data.Workspace, frame: pl.DataFrame, today: date, lang: str) -> None:
    catalog = data.catalog(ws)
    names = kpi_ui.names(frame)
    with st.form("kpi_add"):
        st.markdown(f"**{t('kpis.add.title', lang)}**")
        name = st.text_input(t("kpis.add.name", lang), key="kpi_add_name")
        left, right = st.columns(2)
        metric = left.selectbox(t("kpis.add.metric", lang), list(catalog), key="kpi_add_metric",
                                format_func=lambda m: f"{metric_label(m, lang)} ({m})")
        formula = right.text_input(t("kpis.add.formula", lang), key="kpi_add_formula",
                                   placeholder="revenue / spend", help=t("kpis.add.formula_help", lang))
        parent = left.selectbox(t("kpis.add.parent", lang), [NONE, *names], key="kpi_add_parent",
                                format_func=lambda k: names.get(k, t("kpis.add.goal", lang)))
        owner = right.text_input(t("kpis.add.owner", lang), key="kpi_add_owner")
        why = st.text_input(t("kpis.add.why", lang), key="kpi_add_why")
        how = st.text_input(t("kpis.add.how", lang), key="kpi_add_how", help=t("kpis.add.how_help", lang))
        left, right = st.columns(2)
        direction = left.selectbox(t("kpis.add.direction", lang), [NONE, "up", "down"], key="kpi_add_direction",
                                   format_func=lambda d: t(f"kpis.direction.{d or 'metric'}", lang),
                                   help=t("kpis.add.direction_help", lang))
        cadence = right.selectbox(t("kpis.add.cadence", lang), CADENCES, index=CADENCES.index("monthly"),
                                  key="kpi_add_cadence", format_func=lambda c: t(f"kpis.cadence.{c}", lang),
                                  help=t("kpis.add.cadence_help", lang))
        filters = st.text_input(t("kpis.add.filters", lang), key="kpi_add_filters",
                                placeholder="segment=Enterprise; initiative=ABM",
                                help=t("kpis.add.filters_help", lang,
                                       dimensions=", ".join(sorted(data.dimensions(ws))) or fmt.DASH))
        left, right = st.columns(2)
        warning = left.number_input(t("kpis.add.warning", lang), value=None, min_value=0.0, step=5.0,
                                    format="%g", key="kpi_add_warning",
                                    help=t("kpis.add.warning_help", lang))
        critical = right.number_input(t("kpis.add.critical", lang), value=None, min_value=0.0, step=5.0,
                                      format="%g", key="kpi_add_critical",
                                      help=t("kpis.add.critical_help", lang))
        left, right = st.columns(2)
        target = left.number_input(t("kpis.add.target", lang), value=None, key="kpi_add_target", format="%g",
                                   help=t("kpis.add.target_help", lang))
        period = right.text_input(t("kpis.add.period", lang), value=period_label(today, "quarter"),
                                  key="kpi_add_period", help=t("kpis.period_help", lang))
        submitted = st.form_submit_button(t("kpis.add.submit", lang), type="primary", key="kpi_add_submit")
    if not submitted:
        return
    measure = formula.strip() or metric
    if not name.strip():
        st.error(t("kpis.add.no_name", lang))
    elif not direction and measure not in catalog:
        st.error(t("kpis.add.no_direction", lang))
    elif target is not None and not period.strip():
        st.error(t("kpis.add.no_period", lang))
    else:
        new = tree_edit.with_kpi(frame, period.strip() if target is not None else None,
                                 tree_edit.stored_target(measure, target, catalog),
                                 kpi_id=kpi_tree.new_id(name, names), name=name.strip(), metric=measure,
                                 parent=parent or None, owner=owner.strip() or None, why=why.strip() or None,
                                 how=how.strip() or None,
                                 direction=direction or kpi_tree.default_direction(measure, catalog),
                                 filters=filters.strip() or None, cadence=cadence,
                                 warning=tree_edit.share_of(warning), critical=tree_edit.share_of(critical))
        save_and_rerun(ws, new, lang, t("kpis.add.saved", lang, name=md(name.strip())), ADD_FIELDS)


def render_target_form(ws: data.Workspace, frame: pl.DataFrame, today: date, lang: str) -> None:
    names = kpi_ui.names(frame)
    if not names:
        return
    with st.form("kpi_target"):
        st.markdown(f"**{t('kpis.target.title', lang)}**")
        left, middle, right = st.columns([3, 1, 1])
        kpi_id = left.selectbox(t("kpis.target.kpi", lang), list(names), format_func=names.__getitem__,
                                key="kpi_target_kpi")
        period = middle.text_input(t("kpis.add.period", lang), value=period_label(today, "quarter"),
                                   key="kpi_target_period", help=t("kpis.period_help", lang))
        target = right.number_input(t("kpis.add.target", lang), value=None, key="kpi_target_value", format="%g",
                                    help=t("kpis.add.target_help", lang) + " " + t("kpis.target.empty_removes", lang))
        submitted = st.form_submit_button(t("kpis.target.submit", lang), type="primary", key="kpi_target_submit")
    if not submitted:
        return
    if not period.strip():
        st.error(t("kpis.add.no_period", lang))
        return
    stored = tree_edit.stored_target(tree_edit.metrics(frame)[kpi_id], target, data.catalog(ws))
    new = tree_edit.with_target(frame, kpi_id, period.strip(), stored)
    save_and_rerun(ws, new, lang, t("kpis.target.saved", lang, name=md(names[kpi_id]), period=md(period.strip())),
                   ("kpi_target_value",))


def render_editors(ws: data.Workspace, frame: pl.DataFrame, lang: str) -> None:
    """The whole tree in two editable tables (definitions, targets; rates and thresholds in percent) and one
    save button that saves nothing while either table has errors."""
    st.markdown(f"**{t('kpis.edit.title', lang)}**")
    st.caption(t("kpis.edit.help", lang))
    version = ws.versions.get(tree_edit.KPIS, "new")  # a new version starts the editors afresh
    shown_defs, shown_goals = tree_edit.editor_tables(frame, data.catalog(ws))
    st.markdown(t("kpis.edit.kpis", lang))
    defs = st.data_editor(shown_defs, num_rows="dynamic", hide_index=True, key=f"{kpi_ui.DEFS_EDITOR}_{version}",
                          column_config=kpi_ui.definition_columns(lang), placeholder=fmt.DASH)
    st.markdown(t("kpis.edit.targets", lang))
    goals = st.data_editor(shown_goals, num_rows="dynamic", hide_index=True, key=f"{kpi_ui.TARGETS_EDITOR}_{version}",
                           column_config=kpi_ui.target_columns(lang), placeholder=fmt.DASH)
    if st.button(t("kpis.edit.save", lang), type="primary", key="kpi_save_tables"):
        after_save(kpi_ui.save_edit(ws, defs, goals, user_email()), lang, t("kpis.edit.saved", lang))


# -- templates -----------------------------------------------------------------------------------------------


def render_templates(ws: data.Workspace, frame: pl.DataFrame, today: date, lang: str) -> None:
    st.caption(t("kpis.templates.help", lang))
    name = st.selectbox(t("kpis.templates.choose", lang), kpi_templates.TEMPLATES, key="kpi_template",
                        format_func=lambda n: t(f"kpis.template.{n}", lang))
    st.caption(t(f"kpis.template.{name}.about", lang))
    initiatives = data.dimension_values(ws, "initiative")
    options: dict[str, object] = {}
    if name == "efficiency":
        options["initiatives"] = st.multiselect(dim_label("initiative", lang), initiatives, default=initiatives,
                                                key="kpi_template_initiatives")
    elif name == "initiative":
        options["initiative"] = st.selectbox(dim_label("initiative", lang), initiatives, key="kpi_template_initiative",
                                             index=None, placeholder=t("kpis.templates.pick_initiative", lang))
    left, right = st.columns(2)
    period = left.text_input(t("kpis.templates.period", lang), value=period_label(today, "quarter"),
                             key="kpi_template_period", help=t("kpis.period_help", lang)).strip()
    uplift = right.number_input(t("kpis.templates.uplift", lang), min_value=-50, max_value=50, value=10, step=5,
                                key="kpi_template_uplift")
    catalog = data.catalog(ws)
    try:
        added = kpi_templates.template(name, ws.settings, **options)  # type: ignore[arg-type]
        suggested = (kpi_templates.suggest_targets(kpi_tree.kpis(added, catalog), ws.tables, ws.settings, period,
                                                   uplift=uplift / 100) if period
                     else kpi_tree.targets(added))  # no period, no suggestions: a template has no targets
    except ValueError as exc:
        st.info(md(exc))
        return
    merged, skipped = kpi_templates.apply(frame, added, suggested)
    preview, labels = kpi_ui.template_preview(added, merged, skipped, catalog, lang, ws.settings.currency, period)
    show_table(preview, lang, "kpi_template_preview", labels=labels)
    new = preview.height - len(skipped)
    if skipped:
        st.caption(plural("kpis.templates.skipped", len(skipped), lang))
    if st.button(plural("kpis.templates.add", new, lang), type="primary", key="kpi_template_add", disabled=not new):
        save_and_rerun(ws, merged, lang, plural("kpis.templates.added", new, lang,
                                                template=t(f"kpis.template.{name}", lang)))


# -- history -------------------------------------------------------------------------------------------------


def render_history(ws: data.Workspace, frame: pl.DataFrame, lang: str, shared: bool) -> None:
    history = kpi_ui.target_history(ws, shared)
    if history is None:
        st.info(t("kpis.history.unsaved", lang))
        return
    if history.is_empty():
        st.info(t("kpis.history.none", lang))
        return
    shown = kpi_ui.history_table(history, frame, data.catalog(ws), lang, ws.settings.currency, shared)
    show_table(shown, lang, "kpi_history", labels={c: t(f"kpis.col.{c}", lang) for c in shown.columns})
    st.caption(t("kpis.history.help", lang))


# -- the page ------------------------------------------------------------------------------------------------


def edit_refusal(ws: data.Workspace) -> str | None:
    """Why this reader cannot edit the tree here (a text key), or None when they can."""
    if ws.is_session:
        return "kpis.edit.save_first"
    if not can_edit(ws):
        return "kpis.edit.not_editor"
    return None


def render() -> None:
    ws = data.current()
    lang = current().lang
    today = ws.last_day or clock.today()
    read_only = shared_link()
    st.title(t("page.kpis", lang))
    st.caption(t("kpis.intro", lang, day=fmt.day(today, lang)))
    money.gaps_warning(ws, lang)
    if FLASH in st.session_state:
        st.success(st.session_state.pop(FLASH), icon=":material/check_circle:")
    frame = kpi_ui.kpi_table(ws)
    problems = kpi_ui.check(ws, frame)
    refused = kpi_ui.errors(problems)
    kpis = [] if refused else kpi_ui.tree(ws)
    cards = kpi_ui.cards(ws, today) if kpis else {}
    labels = ["kpis.tab.tree", "kpis.tab.scorecards", "kpis.tab.trend", "kpis.tab.history"]
    if not read_only:
        labels[3:3] = ["kpis.tab.edit", "kpis.tab.templates"]
    tabs = dict(zip(labels, st.tabs([t(label, lang) for label in labels]), strict=True))
    if refused or (problems and not read_only):  # a shared view shows what stops the tree, not the editors' warnings
        show_problems(problems if not read_only else refused, lang, saved_nothing=False)
    for label in ("kpis.tab.tree", "kpis.tab.scorecards", "kpis.tab.trend"):
        with tabs[label]:
            if refused:
                st.warning(t("kpis.fix_first", lang))
            elif not kpis:
                st.info(t("kpis.empty", lang) if not read_only else t("kpis.empty_read_only", lang))
            elif label == "kpis.tab.tree":
                render_tree(ws, kpis, cards, lang)
            elif label == "kpis.tab.scorecards":
                render_scorecards(ws, kpis, cards, today, lang)
            else:
                render_trend(ws, kpis, today, lang)
    if not read_only:
        refusal = edit_refusal(ws)
        for label in ("kpis.tab.edit", "kpis.tab.templates"):
            with tabs[label]:
                if refusal:
                    st.info(t(refusal, lang))
                elif label == "kpis.tab.edit":
                    render_add_form(ws, frame, today, lang)
                    render_target_form(ws, frame, today, lang)
                    render_editors(ws, frame, lang)
                else:
                    render_templates(ws, frame, today, lang)
    with tabs["kpis.tab.history"]:
        render_history(ws, frame, lang, read_only)


if __name__ == "__main__":
    render_page(render)
