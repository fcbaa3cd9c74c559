"""`kpi.metrics.restrict`: a slice-only view's tables, checked against queries filtered by hand."""

from __future__ import annotations

from datetime import date

import polars as pl

from kpi.data import prepare
from kpi.metrics import compute, restrict
from kpi.period import Period
from tests.unit.handmade import tables

Q1 = Period(date(2025, 1, 1), date(2025, 3, 31))
METRICS = ["leads", "mql", "spend", "sessions"]


def _values(frame: pl.DataFrame) -> dict[str, object]:
    return frame.select(METRICS).row(0, named=True)


def test_any_query_on_the_slice_is_that_query_anded_with_the_slice() -> None:
    whole = prepare(tables())
    meta = restrict(whole, {"channel": ["Meta"]})
    # by hand: Meta leads L2, L3, L5 (MQL all three); spend 100 + 200 + 300 + 310; sessions 400 + 500
    assert _values(compute(meta, METRICS, period=Q1)) == {"leads": 3, "mql": 3, "spend": 910.0, "sessions": 900}
    # a viewer's own filter outside the slice finds nothing; inside it narrows (Meta SMB: L3, L5)
    assert compute(meta, ["leads"], period=Q1, filters={"channel": ["Email"]})["leads"].to_list() in ([], [0])
    assert compute(meta, ["leads"], period=Q1, filters={"segment": ["SMB"]})["leads"].item() == 2
    assert sorted(meta["leads"]["lead_id"].to_list()) == ["L2", "L3", "L5"]


def test_a_table_without_the_sliced_dimension_is_left_out() -> None:
    """Spend and traffic have no segment: which of their rows are SMB's is unknown, so none is shown."""
    whole = prepare(tables())
    smb = restrict(whole, {"segment": ["SMB"]})
    assert set(smb) == set(whole) - {"spend", "traffic"}
    assert sorted(smb["leads"]["lead_id"].to_list()) == ["L1", "L3", "L5", "L6"]
    shown = compute(smb, ["leads", "spend"], period=Q1)
    assert shown["leads"].item() == 4 and shown["spend"].item() is None


def test_an_empty_slice_changes_nothing() -> None:
    whole = prepare(tables())
    same = restrict(whole, {"channel": []})
    assert set(same) == set(whole) and all(same[n] is whole[n] for n in whole)


def test_touches_follow_their_leads_into_the_slice() -> None:
    """A Meta slice keeps every touch of its leads, the e-mail ones too (attribution credits them); a segment
    slice, which touches cannot be filtered by, keeps the touches of the segment's leads."""
    whole = prepare({**tables(), "touches": pl.DataFrame({
        "lead_id": ["L1", "L2", "L2", "L3", "L6"],
        "touched_at": pl.datetime_range(pl.datetime(2025, 1, 1), pl.datetime(2025, 1, 5), "1d", eager=True),
        "channel": ["Email", "Email", "Meta", "Meta", "Email"], "campaign": ["n1", "n1", "m1", "m2", "n1"]})})
    meta = restrict(whole, {"channel": ["Meta"]})  # leads L2, L3, L5
    assert meta["touches"]["lead_id"].to_list() == ["L2", "L2", "L3"]
    assert meta["touches"]["channel"].cast(pl.String).to_list() == ["Email", "Meta", "Meta"]
    smb = restrict(whole, {"segment": ["SMB"]})  # leads L1, L3, L5, L6
    assert smb["touches"]["lead_id"].to_list() == ["L1", "L3", "L6"]
