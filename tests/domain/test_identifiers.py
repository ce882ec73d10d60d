"""法人番号: normalization, grammar and the 国税庁 check digit."""

import pytest

from grants.domain.identifiers import (
    IdentifierProblem,
    corporate_check_digit,
    normalize,
    parse_corporate_number,
)

# 国税庁's published example and two real numbers listed on its site.
NTA_EXAMPLE = "8700110005901"  # 法人番号公表サイト: check digit 8 of 700110005901
VALID = ("8700110005901", "7000012050002", "4000012090001")


@pytest.mark.parametrize("number", VALID)
def test_parse_corporate_number_valid_kept(number):
    assert parse_corporate_number(number) == number


def test_corporate_check_digit_computed_from_the_right():
    assert corporate_check_digit(NTA_EXAMPLE[1:]) == 8


@pytest.mark.parametrize(
    "typed",
    ["８７００１１０００５９０１", " 8700110005901 ", "8700110005901\n", "\u30008700110005901"],
)
def test_parse_corporate_number_full_width_and_spaces_normalized(typed):
    assert parse_corporate_number(typed) == NTA_EXAMPLE


@pytest.mark.parametrize("wrong", ["1700110005901", "9700110005901"])
def test_parse_corporate_number_wrong_check_digit_refused(wrong):
    assert parse_corporate_number(wrong) is IdentifierProblem.CHECK_DIGIT


@pytest.mark.parametrize(
    "typed",
    ["870011000590", "87001100059012", "8700-1100-05901", "870011000590a", "0700110005901",
     "8700110005901\n1", "８７００１１０００５９０¹"],
)
def test_parse_corporate_number_malformed_refused(typed):
    assert parse_corporate_number(typed) is IdentifierProblem.MALFORMED


@pytest.mark.parametrize("typed", ["", "   ", None, "\u3000"])
def test_parse_corporate_number_empty(typed):
    assert parse_corporate_number(typed) is IdentifierProblem.EMPTY


def test_normalize_folds_full_width_and_trims():
    assert normalize(" ０１１００２\n") == "011002"


def test_corporate_check_digit_refuses_bad_base():
    with pytest.raises(ValueError):
        corporate_check_digit("12345")
