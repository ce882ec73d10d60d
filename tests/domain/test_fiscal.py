"""Fiscal years at their edges: 31 March against 1 April, leap days, the year's end."""

from __future__ import annotations

import datetime as dt

import pytest

from grants.domain.fiscal import day_in_fiscal_year, fiscal_year, fiscal_year_end, fiscal_year_start


@pytest.mark.parametrize(("day", "year"), [
    (dt.date(2024, 3, 31), 2023),
    (dt.date(2024, 4, 1), 2024),
    (dt.date(2024, 12, 31), 2024),
    (dt.date(2025, 1, 1), 2024),
    (dt.date(2025, 3, 31), 2024),
])
def test_a_day_belongs_to_the_fiscal_year_starting_the_april_before(day, year):
    assert fiscal_year(day) == year


def test_a_fiscal_year_runs_from_1_april_to_31_march():
    assert fiscal_year_start(2024) == dt.date(2024, 4, 1)
    assert fiscal_year_end(2024) == dt.date(2025, 3, 31)
    assert fiscal_year(fiscal_year_start(2024)) == fiscal_year(fiscal_year_end(2024)) == 2024


@pytest.mark.parametrize(("month_day", "expected"), [
    ("06-30", dt.date(2024, 6, 30)),
    ("04-01", dt.date(2024, 4, 1)),
    ("12-31", dt.date(2024, 12, 31)),
    ("01-01", dt.date(2025, 1, 1)),
    ("03-31", dt.date(2025, 3, 31)),
])
def test_a_day_of_the_fiscal_year_is_in_its_first_or_second_calendar_year(month_day, expected):
    assert day_in_fiscal_year(2024, month_day) == expected


def test_29_february_falls_on_the_28th_outside_a_leap_year():
    assert day_in_fiscal_year(2023, "02-29") == dt.date(2024, 2, 29)
    assert day_in_fiscal_year(2024, "02-29") == dt.date(2025, 2, 28)
