"""One value per KPI: the Overview's headline cards and the KPIs page agree when they measure the same thing
(the same days, the same counting), and a target note under a card says plainly when it measures something
else, with the KPIs page's own value in it."""

from __future__ import annotations

import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from kpi.metrics import compute
from kpi.period import Period
from kpi.targets import target_period
from tests.app.conftest import APP, metric, open_page
from tests.app.test_overview_app import demo_last_day
from ui.i18n import metric_label

KPIS_PAGE = "pages/kpis.py"
HEADLINE = ("leads", "mql", "won", "revenue", "spend", "cpl", "cac", "roas")  # the Overview's cards


def headline_kpis(demo_tables: dict[str, pl.DataFrame]) -> dict[str, str]:
    """Metric -> name of the company-wide KPI (no filters) that measures a headline metric."""
    kpis = demo_tables["kpis"].filter(pl.col("metric").is_in(HEADLINE) & pl.col("filters").is_null())
    return dict(kpis.unique("kpi_id", keep="first", maintain_order=True).select("metric", "name").iter_rows())


def scorecard_values(demo_tables: dict[str, pl.DataFrame], names: dict[str, str]) -> dict[str, str]:
    at = AppTest.from_file(APP, default_timeout=120)
    open_page(at, KPIS_PAGE)
    return {m: metric(at, name) for m, name in names.items()}


def notes(at: AppTest) -> list[str]:
    return [c.value for c in at.caption if " · target " in c.value]


def test_cards_equal_the_kpis_page_once_they_measure_the_same_days_and_counting(
        app: AppTest, demo_tables: dict[str, pl.DataFrame]) -> None:
    names = headline_kpis(demo_tables)
    assert set(names) == {"leads", "mql", "won", "revenue", "cpl", "cac", "roas"}  # spend has no KPI of its own
    on_kpis_page = scorecard_values(demo_tables, names)

    app.run()  # the default: the last 90 days, counted by when each lead was created
    assert not app.exception
    day = demo_last_day(demo_tables)
    quarter = target_period(f"{day.year}-Q{(day.month - 1) // 3 + 1}")
    before = {m: metric(app, metric_label(m, "en")) for m in names}
    written = notes(app)
    assert len(written) == len(names)
    # each note says it is about another period and counting, and carries the KPIs page's value
    assert all("not this card's period and counting" in n for n in written)
    for m, value in on_kpis_page.items():
        assert any(f"So far {value}" in n for n in written), (m, value, written)
    assert before["won"] != on_kpis_page["won"]  # the disagreement the notes now explain

    button = next(b for b in app.button if b.key == "match_kpis")
    button.click().run()
    assert not app.exception
    assert app.session_state["period"] == "this_quarter" and app.session_state["count"] == "flow"
    after = {m: metric(app, metric_label(m, "en")) for m in names}
    assert after == on_kpis_page  # one value per KPI
    assert all("the same as this card" in n for n in notes(app))
    assert not [b for b in app.button if b.key == "match_kpis"]
    # and both are the quarter so far counted as flow, from the tables themselves
    leads = demo_tables["leads"]
    won = leads.filter(pl.col("won_at").dt.date().is_between(quarter.start, day)).height
    created = leads.filter(pl.col("created_at").dt.date().is_between(quarter.start, day)).height
    assert after["won"] == f"{won:,}" and after["leads"] == f"{created:,}"
    roas = compute(demo_tables, ["roas"], period=Period(quarter.start, day), view="flow").item()
    assert after["roas"] == f"{roas:.2f}×"


@pytest.mark.parametrize(("lang", "other"), [("sv", "inte detta korts period"), ("ru", "не тот период")])
def test_notes_say_so_in_swedish_and_russian(app: AppTest, lang: str, other: str) -> None:
    app.query_params["lang"] = lang
    app.run()
    assert not app.exception
    assert any(other in c.value for c in app.caption)
