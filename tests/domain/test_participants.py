"""Who counts as a participating local government: an exact registry code, on its own row."""

from __future__ import annotations

import pytest

from grants.domain.eligibility import evaluate

SAPPORO, HAKODATE, DATE = "011002", "012025", "012335"  # 札幌市, 函館市, 伊達市 (北海道)


def _codes(wide_area, data):
    return data.local_government_codes(wide_area)


def test_two_distinct_local_governments_counted(wide_area, application, partner):
    data = application(partners=[partner(HAKODATE), partner(DATE)])

    assert _codes(wide_area, data) == {SAPPORO, HAKODATE, DATE}


@pytest.mark.parametrize(
    ("code", "why"),
    [
        ("011011", "a ward of Sapporo, not a local government"),
        ("019992", "valid check digit, not in the registry"),
        ("012336", "wrong check digit"),
        ("011002\n", "a trailing newline: full match, not `$`"),
        ("０１２３３５", "stored full-width: the forms store canonical codes only"),
        (" 012335", "stored with a space"),
        ("12335", "five digits"),
    ],
)
def test_code_that_is_not_exactly_a_registry_code_not_counted(
    wide_area, application, partner, code, why
):
    data = application(applicant_type="npo", lead=None, partners=[partner(code)])

    assert _codes(wide_area, data) == frozenset(), why


def test_code_on_a_row_that_is_not_a_local_government_not_counted(
    wide_area, application, partner
):
    data = application(applicant_type="npo", lead=None, partners=[partner(DATE, kind="npo")])

    assert _codes(wide_area, data) == frozenset()


def test_tampered_code_on_npo_row_does_not_satisfy_the_two_government_rule(
    wide_area, application, partner
):
    data = application(
        uses_people=True, budget_lines=[], partners=[partner(HAKODATE, kind="npo")]
    )

    assert [f.rule_id for f in evaluate(wide_area, data)] == ["two-local-governments"]
