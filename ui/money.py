"""Money in several currencies on screen: the warning that names the currencies without a rate, the note
under a card whose number is missing for that reason, and the form that sets the reporting currency and
the rates (the rules live in kpi.money)."""

from __future__ import annotations

import streamlit as st

from kpi.metrics import money_tables
from ui import workspace as data
from ui.i18n import t

_SAVED = "_money_saved"


def gaps_warning(ws: data.Workspace, lang: str) -> None:
    """A warning naming the currencies whose money cannot be converted, and what to do, when there are any."""
    gaps = data.currency_gaps(ws)
    if gaps:
        st.warning(t("money.gaps", lang, currencies=", ".join(gaps), currency=ws.settings.currency),
                   icon=":material/currency_exchange:")


def card_note(ws: data.Workspace, metric: str, value: object, lang: str) -> str | None:
    """Why a money number is missing (rows in a currency without a rate), or None when that is not why."""
    if value is not None:
        return None
    gaps = data.currency_gaps(ws, money_tables(metric, ws.settings))
    return t("money.card_na", lang, currencies=", ".join(gaps)) if gaps else None


def render_settings(ws: data.Workspace, lang: str, editable: bool) -> None:
    """The reporting currency and a rate for every other currency the data states (or that has a rate);
    a form for the workspace's editors, the reporting currency alone for anyone else."""
    st.subheader(t("money.settings", lang))
    st.caption(t("money.explain", lang))
    if st.session_state.pop(_SAVED, False):
        st.success(t("money.saved", lang))
    found = data.currencies(ws)
    if found:
        st.caption(t("money.found", lang, currencies=", ".join(found)))
    reporting = ws.settings.currency
    if not editable:  # only the workspace's editors see the form
        st.caption(f"{t('money.reporting', lang)}: {reporting}")
        return
    others = sorted((set(found) | set(ws.settings.rates)) - {reporting.upper()})
    with st.form("currency_settings"):
        currency = st.text_input(t("money.reporting", lang), value=reporting, max_chars=12, key="money_currency")
        rates = {code: st.number_input(t("money.rate", lang, currency=reporting, code=code), min_value=0.0,
                                       value=float(ws.settings.rates.get(code, 0.0)), step=0.001, format="%.6f",
                                       help=t("money.rate_help", lang, code=code), key=f"money_rate_{code}")
                 for code in others}
        submitted = st.form_submit_button(t("money.save", lang), key="money_save")
    if not submitted:
        return
    chosen = currency.strip().upper() or reporting
    try:
        data.save_money(ws, chosen, {code: rate for code, rate in rates.items() if rate > 0 and code != chosen})
    except ValueError as exc:
        st.error(t("money.refused", lang, reason=str(exc)))
        return
    st.session_state[_SAVED] = True
    st.rerun()
