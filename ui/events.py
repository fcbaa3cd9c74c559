"""The Event funnels page's builder: steps with property filters, order, window, exclusions and breakdown, bound
to the address and share links (`ui.state.FUNNEL_KEY`), and the funnels saved in the workspace."""

from __future__ import annotations

import streamlit as st

from kpi.events import ORDERS, UNIT_SECONDS, EventFunnelError, Order, Where, parse_window
from kpi.journeys import MAX_STEPS, EventQuestion, default_question, save_funnel, saved_funnels
from ui import workspace as data
from ui.i18n import dim_label, t
from ui.safe import md
from ui.share import read_only
from ui.state import FUNNEL_KEY, ViewState
from ui.widgets import translated_select

UNITS = ("minute", "hour", "day", "week")
_UNIT_LETTER = {"minute": "m", "hour": "h", "day": "d", "week": "w"}
_LOADED = "_ev_loaded"  # st.session_state: the funnel the widgets were last set from
ANY = ""  # a step's property choice: no filter


def _window_parts(window: str) -> tuple[int, str]:
    seconds = parse_window(window)
    unit = next(u for u in reversed(UNITS) if seconds % UNIT_SECONDS[u] == 0 or u == "minute")
    return max(1, seconds // UNIT_SECONDS[unit]), unit


def set_widgets(question: EventQuestion) -> None:
    """Put `question` into the builder's widgets (before they are drawn, or in a callback)."""
    state = st.session_state
    state["ev_n"] = len(question.steps)
    where = question.spec.where
    for k, name in enumerate(question.steps):
        state[f"ev_step_{k}"] = name
        prop, value = where[k][0] if where[k] else (ANY, None)
        state[f"ev_prop_{k}"] = prop
        state[f"ev_val_{k}_{prop}"] = value
    state["ev_order"] = question.order
    state["ev_window_n"], state["ev_window_unit"] = _window_parts(question.window)
    state["ev_exclude"] = list(question.exclude)
    state["ev_by"] = question.by or ANY
    state["ev_attr"] = question.attribution
    state[_LOADED] = question.encode()


def _initial(names: list[str], linked: str | None) -> EventQuestion | None:
    if linked:
        try:
            return EventQuestion.decode(linked)
        except EventFunnelError:
            pass  # the sidebar has said so (ui.state.apply_params)
    return default_question(names)


def _known(key: str, options: list[str], lang: str) -> None:
    """A linked or saved funnel may name what these events do not have: say so, and take the first option."""
    chosen = st.session_state.get(key)
    if chosen is not None and chosen not in options:
        st.warning(t("events.unknown", lang, value=md(chosen)), icon=":material/help:")
        st.session_state[key] = options[0] if options else None


def _step(k: int, names: list[str], properties: list[str], ws: data.Workspace, lang: str) -> tuple[str, Where]:
    _known(f"ev_step_{k}", names, lang)
    _known(f"ev_prop_{k}", [ANY, *properties], lang)
    event_col, prop_col, value_col = st.columns([3, 2, 2])
    name = event_col.selectbox(t("events.step", lang, n=k + 1), names, key=f"ev_step_{k}", persist_state="session")
    prop = prop_col.selectbox(t("events.property", lang), [ANY, *properties], key=f"ev_prop_{k}",
                              format_func=lambda p: dim_label(p, lang) if p else t("events.any", lang),
                              persist_state="session")
    if not prop:
        return str(name), ()
    values = data.dimension_values(ws, prop)
    _known(f"ev_val_{k}_{prop}", values, lang)  # keyed by property: another property starts afresh
    value = value_col.selectbox(t("events.value", lang), values, key=f"ev_val_{k}_{prop}", persist_state="session")
    return str(name), ((prop, str(value)),) if value is not None else ()


def render_builder(ws: data.Workspace, state: ViewState) -> EventQuestion | None:
    """The funnel the reader builds (None, said on screen, when the workspace has no events to build one)."""
    lang = state.lang
    names, properties = data.event_names(ws), data.event_properties(ws)
    if not names:
        st.info(t("events.none", lang))
        return None
    initial = _initial(names, state.funnel)
    if initial is None:
        st.info(t("events.too_few", lang))
        return None
    if _LOADED not in st.session_state or "ev_n" not in st.session_state:
        set_widgets(initial)  # the first visit, or the widgets' state is gone: the funnel last built (or linked)
    st.subheader(t("events.builder", lang))
    # every widget keeps its choice while the reader is on other pages (Streamlit drops a widget's state otherwise)
    n = int(st.number_input(t("events.step_count", lang), 2, MAX_STEPS, key="ev_n", persist_state="session"))
    steps = [_step(k, names, properties, ws, lang) for k in range(n)]
    order_col, window_col, unit_col = st.columns([3, 1, 1])
    order: Order = translated_select(order_col, t("events.order", lang), ORDERS, "ev_order", "ordered", lang,
                                     lambda o: t(f"events.order.{o}", lang))
    amount = int(window_col.number_input(t("events.window", lang), 1, 10_000, key="ev_window_n",
                                         persist_state="session"))
    unit = translated_select(unit_col, t("events.unit", lang), UNITS, "ev_window_unit", "day", lang,
                             lambda u: t(f"events.unit.{u}", lang))
    chosen = {name for name, _ in steps}
    exclude = st.multiselect(t("events.exclude", lang), [e for e in names if e not in chosen], key="ev_exclude",
                             help=t("events.exclude_help", lang), placeholder=t("sidebar.choose", lang),
                             persist_state="session")
    by_col, attr_col = st.columns(2)
    by = by_col.selectbox(t("events.by", lang), [ANY, *properties], key="ev_by",
                          format_func=lambda p: dim_label(p, lang) if p else t("events.no_breakdown", lang),
                          persist_state="session")
    attributions = ["first_touch", "last_touch", *[f"step:{k}" for k in range(n)]]
    attribution = attr_col.selectbox(t("events.attribution", lang), attributions, key="ev_attr", disabled=not by,
                                     format_func=lambda a: _attribution_label(a, lang), persist_state="session")
    question = EventQuestion(tuple(name for name, _ in steps), tuple(where for _, where in steps), order,
                             f"{amount}{_UNIT_LETTER[unit]}", tuple(exclude), by or None, str(attribution))
    try:
        question.check()
    except EventFunnelError as exc:
        st.warning(t("events.invalid", lang, reason=md(str(exc))), icon=":material/error:")
        return None
    st.session_state[FUNNEL_KEY] = question.encode()  # the address and share links carry it from the next run
    st.query_params[FUNNEL_KEY] = question.encode()
    return question


def _attribution_label(attribution: str, lang: str) -> str:
    if attribution.startswith("step:"):
        return t("events.attribution.step", lang, n=int(attribution.split(":")[1]) + 1)
    return t(f"events.attribution.{attribution}", lang)


def _open_saved(found: dict[str, EventQuestion]) -> None:
    chosen = st.session_state.get("ev_saved")
    if chosen in found:
        set_widgets(found[chosen])


def render_saved(ws: data.Workspace, question: EventQuestion, lang: str) -> None:
    """Open a funnel saved in the workspace, or save this one under a name (not on a shared link)."""
    if read_only():
        return
    with st.expander(t("events.saved", lang), icon=":material/bookmark:"):
        if ws.store_id is None:
            st.caption(t("events.save_session", lang))
            return
        found, problems = saved_funnels(data.store(), ws.store_id)
        for name, reason in problems.items():
            st.warning(t("events.saved_problem", lang, name=md(name), reason=md(reason)))
        if found:
            st.selectbox(t("events.open_saved", lang), [None, *found], key="ev_saved", on_change=_open_saved,
                         args=(found,), format_func=lambda n: t("events.none_saved", lang) if n is None else n)
        name_col, button_col = st.columns([3, 1], vertical_alignment="bottom")
        name = name_col.text_input(t("events.save_name", lang), key="ev_save_name", max_chars=120)
        if button_col.button(t("events.save", lang), key="ev_save", icon=":material/save:"):
            try:
                save_funnel(data.store(), ws.store_id, name, question)
            except (EventFunnelError, ValueError) as exc:
                st.error(t("events.save_failed", lang, reason=md(str(exc))))
            else:
                st.success(t("events.saved_ok", lang, name=md(name.strip())))

