"""KPIs: the KPI tree with each KPI's value, target and status; scorecards with pace and forecast; a trend
per KPI with anomalies; editing the tree and its targets; templates; and the history of target changes."""

from __future__ import annotations

from datetime import date

import polars as pl
import streamlit as st

from kpi import templates as kpi_templates
from kpi import tree as kpi_tree
from kpi.metrics import Metric
from kpi.period import Grain
from kpi.schema import Problem
from kpi.scorecard import METHOD, Card
from kpi.tree import CADENCES, Kpi
from ui import format as fmt
from ui import kpis as kpi_ui
from ui import workspace as data
from ui.auth import can_edit, user_email
from ui.components import show_chart
from ui.i18n import dim_label, metric_label, t
from ui.share import VIEW_PARAM
from ui.state import current

PER_ROW = 3
TREND_GRAINS: tuple[Grain, ...] = ("day", "week", "month")
NONE = ""  # the parent select's "no parent: a goal"
FLASH = "_kpis_saved"  # a message to show after the rerun that follows a save
ADD_FIELDS = ("kpi_add_name", "kpi_add_metric", "kpi_add_formula", "kpi_add_parent", "kpi_add_owner", "kpi_add_why",
              "kpi_add_target", "kpi_add_period")


def quarter_of(day: date) -> str:
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


def show_problems(problems: list[Problem], lang: str, saved_nothing: bool = True) -> None:
    lines = "\n".join(f"- {p}" for p in problems)
    st.error(t("kpis.problems_not_saved" if saved_nothing else "kpis.problems_stored", lang) + "\n\n" + lines,
             icon=":material/error:")


def save_and_rerun(ws: data.Workspace, frame: pl.DataFrame, lang: str, message: str,
                   clear: tuple[str, ...] = ()) -> None:
    """Save the tree as a new version and rerun so it shows; list the problems and save nothing when it has any."""
    problems = kpi_ui.save(ws, frame, user_email())
    if problems:
        show_problems(problems, lang)
        return
    for key in clear:
        st.session_state.pop(key, None)
    st.session_state[FLASH] = message
    st.rerun()


# -- the tree ------------------------------------------------------------------------------------------------


def render_tree(ws: data.Workspace, kpis: list[Kpi], cards: dict[str, Card], lang: str) -> None:
    catalog = data.catalog(ws)
    st.graphviz_chart(kpi_ui.tree_dot(kpis, cards, catalog, lang, ws.settings.currency))
    st.caption(t("kpis.tree_help", lang))
    for kpi, depth in kpi_tree.walk(kpis):
        card = cards.get(kpi.id)
        icon = kpi_ui.STATUS_DOT.get(card.status if card and card.status else "", kpi_ui.NO_STATUS_DOT)
        indent = "\u2003" * depth  # em spaces: Markdown would read leading spaces as code
        with st.expander(f"{indent}{icon} {kpi.name}", key=f"kpi_detail_{kpi.id}"):
            render_definition(kpi, catalog, lang)


def render_definition(kpi: Kpi, catalog: dict[str, Metric], lang: str) -> None:
    measured = (metric_label(kpi.metric, lang) if kpi.metric in catalog
                else t("kpis.def.formula", lang, formula=kpi.metric))
    lines = [t("kpis.def.metric", lang, metric=measured),
             t("kpis.def.why", lang, why=kpi.why or fmt.DASH),
             t("kpis.def.how", lang, how=kpi.how or fmt.DASH),
             t("kpis.def.filters", lang, filters="; ".join(f"{dim_label(d, lang)} = {', '.join(v)}"
                                                          for d, v in kpi.filters.items()) or t("kpis.def.all", lang)),
             t("kpis.def.owner", lang, owner=kpi.owner or fmt.DASH),
             t(f"kpis.def.thresholds.{kpi.direction}", lang, warning=fmt.percent(kpi.warning, lang, 0),
               critical=fmt.percent(kpi.critical, lang, 0)),
             t("kpis.def.cadence", lang, cadence=t(f"kpis.cadence.{kpi.cadence}", lang)
               if kpi.cadence in CADENCES else kpi.cadence),
             t("kpis.def.targets", lang, targets=", ".join(
                 f"{p}: {fmt.number(v, lang, 2)}" for p, v in sorted(kpi.targets.items())) or fmt.DASH)]
    st.markdown("\n".join(f"- {line}" for line in lines))


# -- scorecards ----------------------------------------------------------------------------------------------


def render_scorecards(ws: data.Workspace, kpis: list[Kpi], cards: dict[str, Card], today: date, lang: str) -> None:
    catalog = data.catalog(ws)
    currency = ws.settings.currency
    with_target = [cards[k.id] for k, _ in kpi_tree.walk(kpis) if cards[k.id].target is not None]
    if not with_target:
        st.info(t("kpis.no_targets", lang, period=quarter_of(today)))
    for start in range(0, len(with_target), PER_ROW):
        for col, card in zip(st.columns(PER_ROW), with_target[start:start + PER_ROW], strict=False):
            with col.container(border=True):
                render_card(card, catalog, lang, currency, today)
    without = [cards[k.id] for k, _ in kpi_tree.walk(kpis) if cards[k.id].target is None]
    if without:
        st.markdown(t("kpis.without_target", lang) + "\n\n" + "\n".join(
            f"- {kpi_ui.NO_STATUS_DOT} **{c.kpi.name}**: {kpi_ui.reason_text(c, catalog, lang, currency, today)}"
            for c in without))
    st.caption(t("kpis.method", lang, method=METHOD))


def render_card(card: Card, catalog: dict[str, Metric], lang: str, currency: str, today: date) -> None:
    def v(x: float | None) -> str:
        return kpi_ui.value_text(card.kpi, x, catalog, lang, currency)

    assert card.period is not None
    st.metric(card.kpi.name, v(card.value),
              help=t("kpis.card.value_help", lang, start=fmt.day(card.period.start, lang), day=fmt.day(today, lang)))
    if card.status is not None:
        st.badge(kpi_ui.status_text(card, lang), color=kpi_ui.STATUS_BADGE[card.status])  # type: ignore[arg-type]
    else:
        st.badge(kpi_ui.status_text(card, lang), color="gray")
    st.markdown(kpi_ui.reason_text(card, catalog, lang, currency, today))
    pace = (t("kpis.card.pace", lang, expected=v(card.expected), day=fmt.day(today, lang),
              basis=t(f"kpis.basis.{card.pace_basis}", lang)) if card.expected is not None else "")
    st.caption(t("kpis.card.target", lang, target=v(card.target), period=card.period_label) + (" · " + pace
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
    if frame["value"].is_null().all():
        st.info(t("notice.no_data", lang))
        return
    show_chart(st, kpi_ui.trend_chart(frame, unit, lang, t("kpis.trend.title", lang, kpi=kpi.name)), lang,
               width="stretch")
    flagged = frame.filter(pl.col("anomaly"))
    if flagged.is_empty():
        st.markdown(t("kpis.trend.no_anomalies", lang, grain=t(f"grain.{grain}", lang).lower()))
    else:
        def v(x: float | None) -> str:
            return kpi_ui.value_text(kpi, x, catalog, lang, ws.settings.currency)

        when = ", ".join(f"{fmt.day(row['period'], lang)} ({v(row['value'])} {t('kpis.trend.against', lang)} "
                         f"{v(row['expected'])})" for row in flagged.iter_rows(named=True))
        st.markdown(t("kpis.trend.anomalies", lang, n=flagged.height, when=when))
    st.caption(t("kpis.trend.help", lang))


# -- editing -------------------------------------------------------------------------------------------------


def render_add_form(ws: data.Workspace, frame: pl.DataFrame, today: date, lang: str) -> None:
    catalog = data.catalog(ws)
    names = {k: n for k, n in zip(frame["kpi_id"], frame["name"], strict=True) if k}
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
        left, right = st.columns(2)
        target = left.number_input(t("kpis.add.target", lang), value=None, key="kpi_add_target", format="%g")
        period = right.text_input(t("kpis.add.period", lang), value=quarter_of(today), key="kpi_add_period",
                                  help=t("kpis.period_help", lang))
        submitted = st.form_submit_button(t("kpis.add.submit", lang), type="primary", key="kpi_add_submit")
    if not submitted:
        return
    if not name.strip():
        st.error(t("kpis.add.no_name", lang))
        return
    if target is not None and not period.strip():
        st.error(t("kpis.add.no_period", lang))
        return
    kpi = {"kpi_id": kpi_ui.new_id(name, [k for k in frame["kpi_id"].to_list() if k]), "name": name.strip(),
           "metric": formula.strip() or metric, "parent": parent or None, "owner": owner.strip() or None,
           "why": why.strip() or None}
    new = kpi_ui.with_kpi(frame, kpi, period.strip() if target is not None else None, target)
    save_and_rerun(ws, new, lang, t("kpis.add.saved", lang, name=name.strip()), ADD_FIELDS)


def render_target_form(ws: data.Workspace, frame: pl.DataFrame, today: date, lang: str) -> None:
    names = {k: n for k, n in zip(frame["kpi_id"], frame["name"], strict=True) if k}
    if not names:
        return
    with st.form("kpi_target"):
        st.markdown(f"**{t('kpis.target.title', lang)}**")
        left, middle, right = st.columns([3, 1, 1])
        kpi_id = left.selectbox(t("kpis.target.kpi", lang), list(names), format_func=names.__getitem__,
                                key="kpi_target_kpi")
        period = middle.text_input(t("kpis.add.period", lang), value=quarter_of(today), key="kpi_target_period",
                                   help=t("kpis.period_help", lang))
        target = right.number_input(t("kpis.add.target", lang), value=None, key="kpi_target_value", format="%g",
                                    help=t("kpis.target.empty_removes", lang))
        submitted = st.form_submit_button(t("kpis.target.submit", lang), type="primary", key="kpi_target_submit")
    if not submitted:
        return
    if not period.strip():
        st.error(t("kpis.add.no_period", lang))
        return
    new = kpi_ui.with_target(frame, kpi_id, period.strip(), target)
    save_and_rerun(ws, new, lang, t("kpis.target.saved", lang, name=names[kpi_id], period=period.strip()),
                   ("kpi_target_value",))


def render_editors(ws: data.Workspace, frame: pl.DataFrame, lang: str) -> None:
    """The whole tree in two editable tables (definitions, targets) and one save button."""
    st.markdown(f"**{t('kpis.edit.title', lang)}**")
    st.caption(t("kpis.edit.help", lang))
    version = ws.versions.get(kpi_ui.KPIS, "new")  # a new version starts the editors afresh
    text = st.column_config.TextColumn
    defs = st.data_editor(
        kpi_tree.definitions(frame), num_rows="dynamic", hide_index=True, key=f"kpi_defs_{version}",
        column_config={
            "kpi_id": text(t("kpis.col.kpi_id", lang), required=True),
            "name": text(t("kpis.col.name", lang), required=True),
            "metric": text(t("kpis.col.metric", lang), required=True, help=t("kpis.add.formula_help", lang)),
            "parent": text(t("kpis.col.parent", lang)),
            "owner": text(t("kpis.col.owner", lang)),
            "why": text(t("kpis.col.why", lang)),
            "how": text(t("kpis.col.how", lang)),
            "direction": st.column_config.SelectboxColumn(t("kpis.col.direction", lang), options=["up", "down"]),
            "filters": text(t("kpis.col.filters", lang), help="segment=Enterprise; initiative=ABM"),
            "warning": st.column_config.NumberColumn(t("kpis.col.warning", lang), format="%.2f"),
            "critical": st.column_config.NumberColumn(t("kpis.col.critical", lang), format="%.2f"),
            "cadence": st.column_config.SelectboxColumn(t("kpis.col.cadence", lang), options=list(CADENCES)),
        })
    goals = st.data_editor(
        kpi_tree.targets(frame), num_rows="dynamic", hide_index=True, key=f"kpi_targets_{version}",
        column_config={"kpi_id": text(t("kpis.col.kpi_id", lang), required=True),
                       "period": text(t("kpis.col.period", lang), required=True, help=t("kpis.period_help", lang)),
                       "target": st.column_config.NumberColumn(t("kpis.col.target", lang), required=True)})
    if st.button(t("kpis.edit.save", lang), type="primary", key="kpi_save_tables"):
        save_and_rerun(ws, kpi_tree.join(defs, goals), lang, t("kpis.edit.saved", lang))


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
    period = left.text_input(t("kpis.templates.period", lang), value=quarter_of(today), key="kpi_template_period",
                             help=t("kpis.period_help", lang))
    uplift = right.number_input(t("kpis.templates.uplift", lang), min_value=-50, max_value=50, value=10, step=5,
                                key="kpi_template_uplift")
    try:
        added = kpi_templates.template(name, ws.settings, **options)  # type: ignore[arg-type]
    except ValueError as exc:
        st.info(str(exc))
        return
    catalog = data.catalog(ws)
    merged, skipped = kpi_templates.merge(frame, added)
    new_ids = [k for k in added["kpi_id"].to_list() if k not in skipped]
    suggested = pl.DataFrame(schema={"kpi_id": pl.String, "period": pl.String, "target": pl.Float64})
    if period.strip() and new_ids:
        try:
            suggested = kpi_templates.suggest_targets(kpi_tree.kpis(added.filter(pl.col("kpi_id").is_in(new_ids)),
                                                                    catalog),
                                                      ws.tables, ws.settings, period.strip(), uplift=uplift / 100)
        except ValueError as exc:
            st.error(str(exc))
            return
    preview = (added.select("name", "metric", "parent", "owner", "filters", "kpi_id")
               .join(suggested.select("kpi_id", "target"), on="kpi_id", how="left", maintain_order="left")
               .with_columns(pl.col("kpi_id").is_in(skipped).alias("already"))
               .select("name", "metric", "target", "parent", "owner", "filters", "already"))
    st.dataframe(preview, hide_index=True, key="kpi_template_preview", placeholder=fmt.DASH, column_config={
        "name": t("kpis.col.name", lang), "metric": t("kpis.col.metric", lang),
        "target": st.column_config.NumberColumn(t("kpis.templates.suggested", lang, period=period.strip()),
                                                format="%.4g"),
        "parent": t("kpis.col.parent", lang), "owner": t("kpis.col.owner", lang),
        "filters": t("kpis.col.filters", lang),
        "already": st.column_config.CheckboxColumn(t("kpis.templates.already", lang))})
    if skipped:
        st.caption(t("kpis.templates.skipped", lang, n=len(skipped)))
    if st.button(t("kpis.templates.add", lang, n=len(new_ids)), type="primary", key="kpi_template_add",
                 disabled=not new_ids):
        goals = pl.concat([kpi_tree.targets(merged), suggested])
        save_and_rerun(ws, kpi_tree.join(kpi_tree.definitions(merged), goals), lang,
                       t("kpis.templates.added", lang, n=len(new_ids), template=t(f"kpis.template.{name}", lang)))


# -- history -------------------------------------------------------------------------------------------------


def render_history(ws: data.Workspace, lang: str) -> None:
    history = kpi_ui.target_history(ws)
    if history is None:
        st.info(t("kpis.history.unsaved", lang))
        return
    if history.is_empty():
        st.info(t("kpis.history.none", lang))
        return
    shown = history.select(pl.col("when").dt.strftime("%Y-%m-%d %H:%M").alias("when"),
                           pl.col("who").fill_null(fmt.DASH), pl.coalesce("name", "kpi_id").alias("kpi"),
                           "period", "before", "after")
    st.dataframe(shown, hide_index=True, key="kpi_history", placeholder=fmt.DASH, column_config={
        "when": t("kpis.col.when", lang), "who": t("kpis.col.who", lang), "kpi": t("kpis.col.name", lang),
        "period": t("kpis.col.period", lang),
        "before": st.column_config.NumberColumn(t("kpis.col.before", lang), format="localized"),
        "after": st.column_config.NumberColumn(t("kpis.col.after", lang), format="localized")})
    st.caption(t("kpis.history.help", lang))


# -- the page ------------------------------------------------------------------------------------------------


def edit_refusal(ws: data.Workspace) -> str | None:
    """Why this reader cannot edit the tree here (a text key), or None when they can."""
    if ws.is_session:
        return "kpis.edit.save_first"
    if not can_edit(ws):
        return "kpis.edit.not_editor"
    return None


ws = data.current()
lang = current().lang
today = ws.last_day or date.today()
read_only = bool(st.query_params.get(VIEW_PARAM))
st.title(t("page.kpis", lang))
st.caption(t("kpis.intro", lang, day=fmt.day(today, lang)))
if FLASH in st.session_state:
    st.success(st.session_state.pop(FLASH), icon=":material/check_circle:")
frame = kpi_ui.kpi_table(ws)
problems = kpi_ui.check(ws, frame)
kpis = [] if problems else kpi_ui.tree(ws)
cards = kpi_ui.cards(ws, today) if kpis else {}
labels = ["kpis.tab.tree", "kpis.tab.scorecards", "kpis.tab.trend", "kpis.tab.history"]
if not read_only:
    labels[3:3] = ["kpis.tab.edit", "kpis.tab.templates"]
tabs = dict(zip(labels, st.tabs([t(label, lang) for label in labels]), strict=True))
if problems:
    show_problems(problems, lang, saved_nothing=False)
for label in ("kpis.tab.tree", "kpis.tab.scorecards", "kpis.tab.trend"):
    with tabs[label]:
        if problems:
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
    render_history(ws, lang)
