"""Dates as people type them: padded or not, "-" or "/", full-width digits; never a day the
calendar lacks."""

from __future__ import annotations

import datetime as dt

import pytest

from grants.domain.dates import parse_date


@pytest.mark.parametrize(("text", "day"), [
    ("2027-03-31", dt.date(2027, 3, 31)),
    ("2027/3/31", dt.date(2027, 3, 31)),  # unpadded, as written in Japan
    ("2027-3-1", dt.date(2027, 3, 1)),
    ("2027/03/01", dt.date(2027, 3, 1)),
    ("２０２７／３／３１", dt.date(2027, 3, 31)),  # full-width digits and slash
    ("２０２７－０３－０１", dt.date(2027, 3, 1)),
    (" 2027/12/1\u3000", dt.date(2027, 12, 1)),  # spaces around, an ideographic one too
    ("2024/2/29", dt.date(2024, 2, 29)),
    ("9999-12-31", dt.date(9999, 12, 31)),
])
def test_a_date_as_people_type_it(text, day):
    assert parse_date(text) == day


@pytest.mark.parametrize("text", [
    "2027-02-30", "２０２７/２/３０", "2025/2/29", "2027-13-01", "2027-0-10", "2027-04-31",
    "0000-01-01",  # no such days
    "", "2027", "2027-03", "27/3/31", "2027/3-31", "2027-003-01", "2027-03-001",
    "20270331", "2027-W13-3", "2027-03-31T00:00", "3/31/2027", "2027年3月31日", "abc",
    "٢٠٢٧-٠٣-٣١",  # digits of another script: not what a Japanese keyboard gives
])
def test_anything_else_is_not_a_date(text):
    assert parse_date(text) is None
