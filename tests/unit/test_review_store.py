"""Saving a review's decisions in a workspace store and reading them back with the review before it
(kpi.review.save_review / saved_reviews), in a real store."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from kpi.review import DOC_KIND, Note, NoteError, Reviews, save_review, saved_reviews
from kpi.store import Store
from tests.unit.test_review import GOOD, days

NOVEMBER = "initiative:2026-11-01..2026-11-30"


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(tmp_path)


@pytest.fixture
def ws(store: Store) -> str:
    return store.create_workspace("Review store").id


def test_a_review_saved_on_the_20th_is_the_months_review_and_the_next_month_starts_from_it(store: Store,
                                                                                          ws: str) -> None:
    saved = save_review(store, ws, "initiative", days("2026-11-01", "2026-11-20"), [GOOD], budgets={"C": 900})
    assert saved.key == NOVEMBER and saved.budgets == {"C": 900.0}
    assert list(store.docs(ws, DOC_KIND)) == [NOVEMBER]
    november = saved_reviews(store, ws, NOVEMBER)
    assert november.saved == saved and november.previous is None and november.problems == ()
    assert november.saved.notes == (Note("C", "less", "Cut the budget by 30 %", "Åsa Öberg", date(2026, 4, 2),
                                         "Re-check in May"),)
    december = saved_reviews(store, ws, "initiative:2026-12-01..2026-12-31")
    assert december.saved is None and december.previous == saved
    # by channel there is nothing: a review belongs to its dimension
    assert saved_reviews(store, ws, "channel:2026-12-01..2026-12-31") == Reviews(None, None)


def test_saving_again_replaces_the_review_and_bad_notes_save_nothing(store: Store, ws: str) -> None:
    november = days("2026-11-01", "2026-11-30")
    save_review(store, ws, "initiative", november, [GOOD], budgets={"C": 900})
    again = save_review(store, ws, "initiative", november, [{**GOOD, "verdict": "stop"}])
    assert [n.verdict for n in again.notes] == ["stop"] and again.budgets == {}
    with pytest.raises(NoteError, match="owner is empty"):
        save_review(store, ws, "initiative", november, [{**GOOD, "owner": " "}])
    assert saved_reviews(store, ws, NOVEMBER).saved == again  # the refused notes changed nothing


def test_a_damaged_review_is_reported_and_does_not_hide_the_other(store: Store, ws: str) -> None:
    october = save_review(store, ws, "initiative", days("2026-10-01", "2026-10-31"), [GOOD])
    store.put_doc(ws, DOC_KIND, NOVEMBER, {"format": 99})
    found = saved_reviews(store, ws, NOVEMBER)
    assert found.saved is None and found.previous == october and found.previous_problem is None
    assert found.saved_problem is not None and "unknown format 99" in found.saved_problem
    assert found.problems == (found.saved_problem,)
    december = saved_reviews(store, ws, "initiative:2026-12-01..2026-12-31")
    assert december.previous is None and december.saved_problem is None
    assert december.previous_problem is not None and "unknown format 99" in december.previous_problem
