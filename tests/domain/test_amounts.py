"""Typed amounts: the grammar's examples, as listed in issue 8."""

from __future__ import annotations

import pytest

from grants.domain.amounts import MAX_AMOUNT, AmountProblem, parse_count, parse_yen


@pytest.mark.parametrize(
    ("typed", "yen"),
    [
        ("1500000", 1_500_000),
        ("1,000,000", 1_000_000),
        ("１，２００，０００円", 1_200_000),
        ("￥１２，０００", 12_000),
        ("¥500", 500),
        ("\\500", 500),  # the ¥ key of a Japanese keyboard
        (" 2,500 \n", 2_500),
        ("\u30003000\u3000", 3_000),
        ("0", 0),
        ("999", 999),
        (f"{MAX_AMOUNT:,}", MAX_AMOUNT),
    ],
)
def test_parse_yen_reads_canonical_value(typed, yen):
    assert parse_yen(typed) == yen


@pytest.mark.parametrize(
    "typed",
    ["10²", "1 2", "10,000,00", "1,0,0", "1.5", "1e8", "-1", "+1", "007", ",100", "100,",
     "1,000,", "1、000", "1_000", "¥¥1", "1円円", "円1", "1¥", "١٢", "①", "0x10", "1,00,000",
     "12,34", "〇"],
)
def test_parse_yen_refuses_what_it_would_misread(typed):
    assert parse_yen(typed) is AmountProblem.MALFORMED


@pytest.mark.parametrize("typed", ["", "  ", None, "\u3000\n"])
def test_parse_yen_empty(typed):
    assert parse_yen(typed) is AmountProblem.EMPTY


@pytest.mark.parametrize("typed", [str(MAX_AMOUNT + 1), "9" * 5000, f"{10**18:,}"])
def test_parse_yen_too_large_for_the_column_refused(typed):
    assert parse_yen(typed) is AmountProblem.TOO_LARGE


@pytest.mark.parametrize(
    ("typed", "number"), [("-1", -1), ("-1,500", -1500), ("１２", 12), ("0", 0), ("1,000", 1000)]
)
def test_parse_count_reads_signed_numbers_without_units(typed, number):
    assert parse_count(typed) == number


@pytest.mark.parametrize("typed", ["1円", "¥1", "--1", "- 1", "10²", "1.0"])
def test_parse_count_refuses_units_and_misreadings(typed):
    assert parse_count(typed) is AmountProblem.MALFORMED
