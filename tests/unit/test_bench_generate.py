"""The benchmark data generator and the benchmark's DuckDB cross-check.

The generator must give valid canonical tables (the engine benchmark means nothing on broken data),
the same frames for the same seed, and joins that work (a campaign has one channel and initiative
everywhere). The DuckDB SQL of bench.bench_engine is an independent implementation of the full KPI
pass, so running both on generated data checks the engine too.
"""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta

import duckdb
import polars as pl
import pytest

from bench import generate as gen
from bench.bench_engine import PARTS, differences, duckdb_pass, polars_pass
from kpi.schema import validate

N = 10_000
STAGES = ["created_at", "mql_at", "sql_at", "opportunity_at", "won_at"]
END = datetime.combine(gen.LAST_DAY + timedelta(days=1), datetime.min.time())


@pytest.fixture(scope="module")
def tables() -> dict[str, pl.DataFrame]:
    return gen.generate(N, seed=3)


def test_tables_are_valid_canonical_tables(tables: dict[str, pl.DataFrame]) -> None:
    assert set(tables) == {"leads", "spend", "traffic"}
    for name, frame in tables.items():
        assert validate(name, frame) == [], name
    assert tables["leads"].height == N


def test_same_seed_same_frames_other_seed_other_frames(tables: dict[str, pl.DataFrame]) -> None:
    again = gen.generate(N, seed=3)
    for name in tables:
        assert again[name].equals(tables[name]), name
    other = gen.generate(N, seed=4)
    assert not other["leads"].equals(tables["leads"])


def test_timestamps_stay_in_the_two_years_and_follow_the_stage_order(tables: dict[str, pl.DataFrame]) -> None:
    leads = tables["leads"]
    start = datetime.combine(gen.FIRST_DAY, datetime.min.time())
    stamps = ["first_contact_at", "lost_at", *STAGES]
    assert leads.select((pl.col(c) >= start).all() for c in stamps).row(0) == (True,) * len(stamps)
    assert leads.select((pl.col(c) < END).all() for c in stamps).row(0) == (True,) * len(stamps)
    for a, b in itertools.pairwise(STAGES):
        assert leads.filter(pl.col(b) <= pl.col(a)).height == 0, (a, b)
    # a later stage implies the earlier ones, except the few sales-ready leads without an MQL date
    assert leads.filter(pl.col("won_at").is_not_null() & pl.col("opportunity_at").is_null()).height == 0
    assert leads.filter(pl.col("opportunity_at").is_not_null() & pl.col("sql_at").is_null()).height == 0
    skipped = leads.filter(pl.col("sql_at").is_not_null() & pl.col("mql_at").is_null()).height
    assert 0 < skipped < 0.05 * leads["sql_at"].count()
    # amounts exactly on opportunities
    assert leads.filter(pl.col("amount").is_not_null() != pl.col("opportunity_at").is_not_null()).height == 0


def test_conversion_is_plausible_on_mature_leads(tables: dict[str, pl.DataFrame]) -> None:
    mature = tables["leads"].filter(pl.col("created_at") < datetime(2025, 1, 1))
    reached = [mature.filter(pl.any_horizontal(pl.col(c).is_not_null() for c in STAGES[i:])).height
               for i in range(len(STAGES))]
    rates = [b / a for a, b in itertools.pairwise(reached)]
    # designed: lead -> MQL 0.42 x channel factor (mean about 0.98), MQL -> SQL 0.38, SQL -> opp 0.55,
    # opp -> won 0.25 x segment factor (mean about 1.0); wide bounds for 10k leads
    assert 0.36 < rates[0] < 0.46
    assert 0.32 < rates[1] < 0.44
    assert 0.47 < rates[2] < 0.63
    assert 0.18 < rates[3] < 0.34


def test_a_campaign_has_one_channel_and_initiative_in_every_table(tables: dict[str, pl.DataFrame]) -> None:
    pairs = [t.select("campaign", "channel", "initiative").unique() for t in tables.values()]
    merged = pl.concat(pairs).unique()
    assert merged["campaign"].n_unique() == merged.height  # no campaign with two channels or initiatives
    assert tables["traffic"]["campaign"].n_unique() == gen.N_CAMPAIGNS
    assert set(tables["spend"]["campaign"]) <= set(tables["leads"]["campaign"])
    leads = tables["leads"]
    assert {c: leads[c].n_unique() for c in ("channel", "initiative", "segment", "region", "owner")} == {
        "channel": 6, "initiative": 8, "segment": 3, "region": 6, "owner": 20}


def test_spend_and_traffic_have_one_row_per_day_and_campaign(tables: dict[str, pl.DataFrame]) -> None:
    spend, traffic = tables["spend"], tables["traffic"]
    paid_campaigns = spend["campaign"].n_unique()
    assert spend.height == gen.N_DAYS * paid_campaigns
    assert traffic.height == gen.N_DAYS * gen.N_CAMPAIGNS
    assert not spend.select(pl.struct("date", "campaign").is_duplicated().any()).item()
    assert (spend["date"].min(), spend["date"].max()) == (gen.FIRST_DAY, gen.LAST_DAY)
    assert set(spend["channel"]) == {"Paid Search", "LinkedIn", "Meta", "Events & Webinars"}
    # events carry cost but no impressions or clicks
    events = spend.filter(pl.col("channel") == "Events & Webinars")
    assert events["impressions"].null_count() == events.height > 0


def test_duckdb_sql_gives_the_engines_numbers(tables: dict[str, pl.DataFrame]) -> None:
    """The benchmark's SQL is a second, independent implementation of the full KPI pass."""
    con = duckdb.connect(config={"threads": 1})
    for name, frame in tables.items():
        con.register(f"{name}_arrow", frame.to_arrow())
        con.execute(f"CREATE TABLE {name} AS SELECT * FROM {name}_arrow")
    engine, sql = polars_pass(tables), duckdb_pass(con)
    for part in PARTS:
        expected = engine[part]()
        assert expected.height > 1
        assert differences(part, expected, sql[part]()) == [], part


def test_differences_reports_what_is_beyond_tolerance() -> None:
    frame = pl.DataFrame({"segment": ["SMB", "Enterprise"], "region": ["UK", "UK"], "leads": [10, 20],
                          "lead_to_won": [0.1, 0.25], "days_lead_to_mql": [3.0, 4.5]})
    assert differences("segments", frame, frame) == []
    within = frame.with_columns(pl.col("lead_to_won") * (1 + 1e-12), pl.col("days_lead_to_mql") + 1e-7)
    assert differences("segments", frame, within) == []
    beyond = frame.with_columns(pl.col("lead_to_won") * (1 + 1e-6), pl.col("days_lead_to_mql") + 1e-5,
                                pl.col("leads") + pl.Series([0, 1]))
    found = differences("segments", frame, beyond)
    assert [p.split(":")[0] for p in found] == ["segments.leads", "segments.lead_to_won", "segments.days_lead_to_mql"]
    assert "1 rows differ" in found[0] and "2 rows differ" in found[1]
