"""The final amount (額の確定) at its boundaries, as the application's rules are tested: exactly
half of the eligible actual cost in equipment breaks the strict share (the equipment beyond is
cut), one yen less keeps it; rounding down to ¥1,000; the cap; never above the decision; the
change tolerance; banned lines; the funding rate; exceptions justified at application."""

from __future__ import annotations

import json
from fractions import Fraction

import pytest

from grants.domain.final_amount import final_amount, largest_part
from tests.domain.conftest import KIZUNA

HALF = Fraction(1, 2)


def _plan(human: int, equipment: int) -> dict[str, int]:
    return {"human_resources": human, "equipment": equipment}


@pytest.fixture
def general(application):
    return application(track="general")


def test_exactly_half_in_equipment_breaks_the_strict_share_and_the_excess_is_cut(
        kizuna, general, line):
    lines = [line("human_resources", 500_000), line("equipment", 500_000, "purchase")]

    working = final_amount(kizuna, general, lines, _plan(500_000, 500_000), 1_000_000)

    [check] = working.share_checks
    assert (check.rule_id, check.part_yen, check.total_yen) == (
        "equipment-under-half", 500_000, 1_000_000)
    assert (check.allowed_yen, check.cut_yen, check.kept) == (499_999, 1, False)
    assert [step.eligible_yen for step in working.categories] == [500_000, 499_999]
    assert working.categories[1].share_cut_yen == 1
    assert working.eligible_yen == 999_999
    # After the cut the rule holds on what is eligible: 499,999 × 2 < 999,999.
    assert working.eligible_yen > 499_999 * 2
    assert (working.rounded_yen, working.final_yen, working.to_return_yen) == (
        999_000, 999_000, 1_000)


def test_one_yen_less_than_half_keeps_the_strict_share(kizuna, general, line):
    lines = [line("human_resources", 500_000), line("equipment", 499_999, "lease")]

    working = final_amount(kizuna, general, lines, _plan(500_000, 500_000), 1_000_000)

    [check] = working.share_checks
    assert (check.part_yen, check.total_yen, check.cut_yen, check.kept) == (
        499_999, 999_999, 0, True)
    assert working.eligible_yen == 999_999


def test_exactly_half_keeps_a_share_of_at_most_half(parse, general, line):
    program = parse(KIZUNA.replace("    strict: true\n", "    strict: false\n"))
    lines = [line("human_resources", 500_000), line("equipment", 500_000, "purchase")]

    working = final_amount(program, general, lines, _plan(500_000, 500_000), 1_000_000)

    assert working.share_checks[0].allowed_yen == 500_000
    assert working.share_checks[0].kept and working.final_yen == 1_000_000


def test_lines_outside_the_rules_acquisition_types_do_not_count_towards_the_share(
        kizuna, general, line):
    lines = [line("human_resources", 400_000), line("equipment", 600_000)]  # installation work

    working = final_amount(kizuna, general, lines, _plan(400_000, 600_000), 1_000_000)

    assert working.share_checks[0].part_yen == 0
    assert working.final_yen == 1_000_000


@pytest.mark.parametrize(("eligible", "rounded"), [
    (1_234_567, 1_234_000), (1_234_000, 1_234_000), (1_234_999, 1_234_000), (999, 0)])
def test_the_amount_is_rounded_down_to_the_programs_step(kizuna, general, line, eligible,
                                                         rounded):
    working = final_amount(kizuna, general, [line("human_resources", eligible)],
                           _plan(eligible, 0), 2_000_000)

    assert (working.eligible_yen, working.rounding_yen, working.rounded_yen) == (
        eligible, 1000, rounded)
    assert working.final_yen == rounded


def test_the_cap_of_the_applications_case_applies(kizuna, general, application, line):
    lines = [line("human_resources", 95_000_000), line("equipment", 20_000_000, "lease")]
    plan = _plan(90_000_000, 20_000_000)

    working = final_amount(kizuna, general, lines, plan, 110_000_000)
    schools = final_amount(kizuna, application(track="education", school_count=2), lines, plan,
                           110_000_000)

    assert (working.eligible_yen, working.funded_yen) == (115_000_000, 115_000_000)
    assert (working.cap_yen, working.capped_yen, working.final_yen) == (
        100_000_000, 100_000_000, 100_000_000)
    assert (schools.cap_yen, schools.final_yen) == (100_000_000, 100_000_000)


def test_never_above_the_grant_decision(kizuna, general, line):
    # 15 % over the plan is inside the tolerance, so eligible; the decision still bounds it.
    working = final_amount(kizuna, general, [line("human_resources", 1_150_000)],
                           _plan(1_000_000, 0), 1_000_000)

    assert working.eligible_yen == 1_150_000 and working.rounded_yen == 1_150_000
    assert (working.final_yen, working.to_return_yen) == (1_000_000, 0)


def test_an_actual_cost_below_the_plan_is_paid_as_spent_and_the_rest_returned(
        kizuna, general, line):
    lines = [line("human_resources", 800_000), line("equipment", 300_000, "rental")]

    working = final_amount(kizuna, general, lines, _plan(1_000_000, 400_000), 1_400_000)

    assert working.eligible_yen == 1_100_000
    assert (working.final_yen, working.to_return_yen) == (1_100_000, 300_000)
    assert working.share_of_eligible == 1


def test_a_category_is_eligible_up_to_its_plan_plus_the_change_tolerance(kizuna, general, line):
    lines = [line("human_resources", 1_300_000), line("equipment", 500_000, "lease")]

    working = final_amount(kizuna, general, lines, _plan(1_000_000, 1_000_000), 2_000_000)

    human = working.categories[0]
    assert (human.limit_yen, human.within_limit_yen, human.over_limit_yen) == (
        1_200_000, 1_200_000, 100_000)
    assert working.eligible_yen == 1_700_000 and working.final_yen == 1_700_000
    assert working.change_tolerance == Fraction(1, 5)


def test_nothing_is_eligible_in_a_category_the_plan_gave_nothing(kizuna, general, line):
    lines = [line("human_resources", 1_000_000), line("equipment", 100_000, "lease")]

    working = final_amount(kizuna, general, lines, _plan(1_100_000, 0), 1_100_000)

    equipment = working.categories[1]
    assert (equipment.limit_yen, equipment.over_limit_yen, equipment.eligible_yen) == (
        0, 100_000, 0)
    assert working.final_yen == 1_000_000


def test_a_category_over_its_limit_counts_its_equipment_first_for_the_share(
        kizuna, general, line):
    lines = [line("human_resources", 1_000_000), line("equipment", 300_000),
             line("equipment", 1_500_000, "purchase")]

    working = final_amount(kizuna, general, lines, _plan(1_000_000, 1_000_000), 2_000_000)

    equipment = working.categories[1]
    assert equipment.within_limit_yen == 1_200_000
    [check] = working.share_checks
    assert (check.part_yen, check.total_yen, check.allowed_yen, check.cut_yen) == (
        1_200_000, 2_200_000, 999_999, 200_001)
    assert equipment.eligible_yen == 999_999
    assert working.eligible_yen == 1_999_999 and working.final_yen == 1_999_000


def test_lines_a_program_forbids_are_not_eligible(wide_area, application, line):
    lines = [line("system", 1_000_000), line("equipment", 400_000, "purchase"),
             line("equipment", 300_000, "lease")]

    working = final_amount(wide_area, application(), lines,
                           {"system": 1_000_000, "equipment": 700_000}, 1_700_000)

    [excluded] = working.excluded_lines
    assert (excluded.index, excluded.rule_id, excluded.line.amount_yen) == (
        1, "no-purchase", 400_000)
    equipment = working.categories[1]
    assert (equipment.actual_yen, equipment.excluded_yen, equipment.eligible_yen) == (
        700_000, 400_000, 300_000)
    assert (working.final_yen, working.to_return_yen) == (1_300_000, 400_000)


def test_the_funding_rate_applies_before_rounding(parse, general, line):
    program = parse(KIZUNA + 'post_award:\n  funding_rate: "1/2"\n')

    working = final_amount(program, general, [line("human_resources", 1_234_567)],
                           _plan(1_300_000, 0), 1_000_000)

    assert (working.funding_rate, working.funded_yen, working.final_yen) == (
        HALF, 617_283, 617_000)
    assert working.share_of_eligible == Fraction(617_000, 1_234_567)


PRINCIPLE = KIZUNA.replace("    strict: true\n", """\
    strict: true
    severity: principle
    justification: {ja: 理由を書いてください, en: Explain why}
""")


def test_an_exception_justified_in_the_application_is_not_re_applied(parse, application,
                                                                     line):
    program = parse(PRINCIPLE)
    lines = [line("human_resources", 400_000), line("equipment", 600_000, "purchase")]
    plan = _plan(400_000, 600_000)
    justified = application(track="general",
                            _justifications={"equipment-under-half": "遠隔授業に不可欠な機器。"})

    excepted = final_amount(program, justified, lines, plan, 1_000_000)
    unexplained = final_amount(program, application(track="general"), lines, plan, 1_000_000)

    assert excepted.share_checks[0].justified and excepted.share_checks[0].cut_yen == 0
    assert excepted.final_yen == 1_000_000
    assert unexplained.share_checks[0].cut_yen == 200_001
    assert unexplained.final_yen == 799_000


def test_warnings_and_rules_whose_condition_fails_do_not_bind(parse, application, line):
    strict = "    strict: true\n"
    warning = parse(KIZUNA.replace(strict, strict + "    severity: warning\n"))
    conditional = parse(KIZUNA.replace(strict,
                                       strict + "    when: {field: track, equals: education}\n"))
    lines = [line("human_resources", 100_000), line("equipment", 900_000, "purchase")]
    plan = _plan(100_000, 900_000)

    for program in (warning, conditional):
        working = final_amount(program, application(track="general"), lines, plan, 1_000_000)
        assert working.share_checks == () and working.final_yen == 1_000_000


def test_the_working_is_json_with_every_step(kizuna, general, line):
    lines = [line("human_resources", 500_000), line("equipment", 500_000, "purchase")]

    computation = final_amount(kizuna, general, lines, _plan(500_000, 500_000),
                               1_000_000).as_dict()

    assert json.loads(json.dumps(computation)) == computation
    assert computation["categories"][1] == {
        "category": "equipment", "planned_yen": 500_000, "actual_yen": 500_000,
        "excluded_yen": 0, "limit_yen": 600_000, "over_limit_yen": 0, "share_cut_yen": 1,
        "eligible_yen": 499_999}
    assert computation["share_checks"][0]["max_share"] == "1/2"
    assert {key: computation[key] for key in (
        "eligible_total_yen", "funding_rate", "funded_yen", "cap_yen", "capped_yen", "rounding_yen",
        "rounded_yen", "decided_yen", "paid_in_advance_yen", "final_yen", "to_return_yen",
        "share_of_eligible")} == {
        "eligible_total_yen": 999_999, "funding_rate": "1/1", "funded_yen": 999_999,
        "cap_yen": 100_000_000, "capped_yen": 999_999, "rounding_yen": 1000,
        "rounded_yen": 999_000, "decided_yen": 1_000_000, "paid_in_advance_yen": 1_000_000,
        "final_yen": 999_000, "to_return_yen": 1_000, "share_of_eligible": "1000/1001"}


@pytest.mark.parametrize(("other", "share", "strict", "largest"), [
    (500_000, HALF, True, 499_999),
    (500_000, HALF, False, 500_000),
    (1, HALF, True, 0),
    (0, HALF, True, 0),
    (0, HALF, False, 0),
    (200, Fraction(1, 3), True, 99),  # 99 × 3 < 299; 100 × 3 = 300 is not < 300
    (200, Fraction(1, 3), False, 100),
    (5, Fraction(1), False, None),
    (5, Fraction(1), True, None),
    (0, Fraction(1), True, 0),
])
def test_the_largest_part_a_share_keeps(other, share, strict, largest):
    assert largest_part(other, share, strict) == largest
