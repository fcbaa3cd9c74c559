"""The fixed clock every test runs on, and how the app rounds a half on screen."""

from __future__ import annotations

import re
from datetime import date

import pytest

from kpi import clock
from ui import format as fmt


def test_the_clock_reads_a_fixed_day_or_refuses_a_malformed_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(clock.ENV, "2028-02-29")
    assert clock.today() == date(2028, 2, 29)
    assert clock.today("Pacific/Kiritimati") == date(2028, 2, 29)  # a fixed day is the same in every zone
    monkeypatch.setenv(clock.ENV, "29.02.2028")
    with pytest.raises(ValueError, match=re.escape("KPI_TODAY='29.02.2028' is not a date; write it as YYYY-MM-DD")):
        clock.today()
    monkeypatch.delenv(clock.ENV)
    assert clock.today() == date.today()
    assert clock.today("No/Such_Zone") == date.today()


@pytest.mark.parametrize(("value", "lang", "shown"), [
    (500.5, "en", "501"),  # Babel alone gives 500 (half to even)
    (2.5, "sv", "3"),
    (-2.5, "en", "-3"),
    (1234.5, "ru", "1\xa0235"),
])
def test_a_half_rounds_away_from_zero(value: float, lang: str, shown: str) -> None:
    assert fmt.number(value, lang) == shown


def test_money_and_percent_round_a_half_up() -> None:
    assert fmt.money(0.125, "EUR", "en") == "€0.13"
    assert fmt.percent(0.0125, "sv") == "1,3\u00a0%"  # Swedish puts a space before %
    assert fmt.points(0.0025, "en") == "+0.3"
