"""The variance table (差異表) at its boundaries: exactly the threshold needs no reason, one yen
more does; either way; nothing planned and anything spent always does."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest

from grants.domain.variance import reason_required, variance_table
from tests.domain.conftest import KIZUNA

TENTH = Fraction(1, 10)


@pytest.mark.parametrize(("planned", "actual", "required"), [
    (1_000_000, 1_100_000, False),  # exactly 10 % more
    (1_000_000, 1_100_001, True),  # one yen beyond
    (1_000_000, 900_000, False),  # exactly 10 % less
    (1_000_000, 899_999, True),
    (1_000_000, 1_000_000, False),
    (1_000_000, 0, True),  # nothing spent of a planned category
    (0, 0, False),
    (0, 1, True),  # nothing planned: any cost needs a reason
    (3, 4, True),  # a third: 1 × 10 > 3 × 1
    (10, 11, False),
])
def test_a_reason_is_required_beyond_the_threshold_either_way(planned, actual, required):
    assert reason_required(planned, actual, TENTH) is required


def test_the_table_lists_every_category_in_order_with_difference_and_share(kizuna, line):
    planned = {"human_resources": 6_000_000, "equipment": 4_000_000}
    lines = [line("human_resources", 5_000_000), line("human_resources", 1_500_000),
             line("equipment", 3_000_000, "lease")]

    table = variance_table(kizuna, planned, lines)

    assert [row.as_dict() for row in table.rows] == [
        {"category": "human_resources", "planned_yen": 6_000_000, "actual_yen": 6_500_000,
         "difference_yen": 500_000, "share": "1/12", "reason_required": False},
        {"category": "equipment", "planned_yen": 4_000_000, "actual_yen": 3_000_000,
         "difference_yen": -1_000_000, "share": "-1/4", "reason_required": True},
    ]
    assert table.rows[0].share_percent == Decimal("8.3")
    assert table.rows[1].share_percent == Decimal("-25.0")
    assert (table.planned_yen, table.actual_yen, table.difference_yen) == (
        10_000_000, 9_500_000, -500_000)
    assert table.as_dict()["threshold"] == "1/10"


def test_a_category_the_plan_left_out_is_listed_and_needs_a_reason(kizuna, line):
    table = variance_table(kizuna, {"human_resources": 1_000_000},
                           [line("human_resources", 1_000_000), line("equipment", 1, "rental")])

    equipment = table.rows[1]
    assert (equipment.planned_yen, equipment.actual_yen) == (0, 1)
    assert equipment.share is None and equipment.share_percent is None
    assert equipment.reason_required


def test_missing_reasons_need_visible_text(kizuna, line):
    table = variance_table(kizuna, {"human_resources": 1_000_000, "equipment": 1_000_000},
                           [line("human_resources", 2_000_000), line("equipment", 0)])

    assert table.missing_reasons({}) == ["human_resources", "equipment"]
    assert table.missing_reasons({"human_resources": "\u200b\u3000",
                                  "equipment": "機器の納入が遅れた。"}) == ["human_resources"]
    assert table.missing_reasons({"human_resources": "研修を増やした。",
                                  "equipment": "機器の納入が遅れた。"}) == []


def test_the_programs_own_threshold_is_used(parse, line):
    program = parse(KIZUNA + "post_award:\n  variance_reason_share: \"1/4\"\n")
    planned = {"human_resources": 1_000_000, "equipment": 0}

    within = variance_table(program, planned, [line("human_resources", 1_250_000)])
    beyond = variance_table(program, planned, [line("human_resources", 1_250_001)])

    assert not within.rows[0].reason_required
    assert beyond.rows[0].reason_required
