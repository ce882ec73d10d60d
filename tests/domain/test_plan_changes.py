"""Plan changes at their boundaries: a move of exactly the tolerance (1/5 of the category's planned
amount) needs no approval and ¥1 more does; the total never above the grant decision; amounts
never negative; the end never before the start nor before today; a request that changes
nothing, or only moves within the tolerance, is refused as unnecessary."""

from __future__ import annotations

import datetime as dt
from fractions import Fraction

import pytest

from grants.domain.plan_changes import (
    Plan,
    Problem,
    Proposal,
    approved_plan,
    beyond_tolerance,
    changes,
    check,
    effective,
    latest_end,
    moves,
)

FIFTH = Fraction(1, 5)
PLAN = Plan({"human_resources": 1_000_000, "system": 2_000_000, "equipment": 1_000_000},
            dt.date(2027, 3, 31), "見守りの仕組みを作る。")
GRANTED = 4_000_000
START = dt.date(2026, 12, 1)
TODAY = dt.date(2027, 1, 15)
LATEST = latest_end(PLAN.project_end, 1)  # carried into the next fiscal year at most


def _check(proposal: Proposal, plan: Plan = PLAN, granted: int = GRANTED) -> list[Problem]:
    return check(plan, effective(plan, proposal), granted_yen=granted, project_start=START,
                 latest=LATEST, today=TODAY, tolerance=FIFTH)


def _moved(human_resources: int, system: int, equipment: int = 1_000_000) -> Proposal:
    return Proposal({"human_resources": human_resources, "system": system,
                     "equipment": equipment})


@pytest.mark.parametrize(("planned", "proposed", "beyond"), [
    (1_000_000, 1_200_000, False),  # exactly 20 % more
    (1_000_000, 800_000, False),  # exactly 20 % less
    (1_000_000, 1_200_001, True),  # 20 % + ¥1
    (1_000_000, 799_999, True),
    (1_000_000, 1_000_000, False),
    (0, 1, True),  # nothing planned: any money in needs approval
    (0, 0, False),
    (3, 2, True),  # 1/3 of ¥3 moved
    (5, 4, False),  # exactly 1/5 of ¥5
])
def test_the_tolerance_is_a_share_of_the_categorys_planned_amount(planned, proposed, beyond):
    assert beyond_tolerance(planned, proposed, FIFTH) is beyond


def test_exactly_twenty_percent_needs_no_request_and_one_yen_more_does():
    # ¥200,000 out of human resources (1/5 of its ¥1,000,000) into the system (1/10 of it).
    assert _check(_moved(800_000, 2_200_000)) == [Problem.WITHIN_TOLERANCE]
    assert _check(_moved(799_999, 2_200_001)) == []


def test_moves_list_every_changed_category_in_the_plans_order():
    found = moves(PLAN.category_amounts, {"equipment": 700_000, "human_resources": 1_300_000,
                                          "system": 2_000_000}, FIFTH)
    assert [(m.category, m.difference_yen, m.beyond_tolerance) for m in found] == [
        ("human_resources", 300_000, True), ("equipment", -300_000, True)]


def test_the_total_may_fall_but_never_exceed_the_grant_decision():
    assert _check(_moved(1_000_000, 1_500_000)) == []  # ¥500,000 less in all: beyond for system
    assert _check(_moved(1_000_000, 2_000_001)) == [Problem.OVER_GRANT]
    assert _check(_moved(1_400_000, 2_000_000)) == [Problem.OVER_GRANT]


def test_amounts_are_never_negative_nor_of_other_categories():
    assert _check(_moved(-1, 3_000_001)) == [Problem.NEGATIVE_AMOUNT]
    other = Proposal({"human_resources": 1_000_000, "marketing": 3_000_000})
    assert _check(other) == [Problem.UNKNOWN_CATEGORY]


@pytest.mark.parametrize(("end", "problems"), [
    (dt.date(2027, 6, 30), []),  # later: an extension
    (TODAY, []),  # today is not in the past
    (TODAY - dt.timedelta(days=1), [Problem.END_IN_PAST]),
    (START - dt.timedelta(days=1), [Problem.END_BEFORE_START, Problem.END_IN_PAST]),
])
def test_the_end_is_never_before_the_start_nor_before_today(end, problems):
    assert _check(Proposal(project_end=end)) == problems


def test_an_end_before_the_start_in_the_future_is_only_that():
    later = check(PLAN, Proposal(project_end=dt.date(2026, 12, 31)), granted_yen=GRANTED,
                  project_start=dt.date(2027, 1, 5), latest=LATEST,
                  today=dt.date(2026, 12, 1), tolerance=FIFTH)
    assert later == [Problem.END_BEFORE_START]


def test_a_changed_scope_alone_needs_approval():
    assert _check(Proposal(scope="見守りと買い物支援の仕組みを作る。")) == []


def test_a_move_within_tolerance_with_a_later_end_is_one_request():
    proposal = Proposal({**PLAN.category_amounts, "system": 2_100_000,
                         "human_resources": 900_000}, dt.date(2027, 6, 30))
    assert _check(proposal) == []


def test_a_form_that_repeats_the_plan_changes_nothing():
    same = Proposal(dict(PLAN.category_amounts), PLAN.project_end, f"  {PLAN.scope}\n")
    assert effective(PLAN, same).empty
    assert _check(same) == [Problem.NOTHING_CHANGED]
    assert _check(Proposal(scope="  ")) == [Problem.NOTHING_CHANGED]  # blank keeps the scope


def test_the_approved_plan_takes_what_the_request_changes():
    after = approved_plan(PLAN, Proposal(project_end=dt.date(2027, 6, 30)))
    assert after == Plan(dict(PLAN.category_amounts), dt.date(2027, 6, 30), PLAN.scope)
    moved = approved_plan(PLAN, _moved(700_000, 2_300_000))
    assert moved.category_amounts["system"] == 2_300_000 and moved.project_end == PLAN.project_end


def test_changes_between_two_plans_say_what_changed_and_whether_it_needs_approval():
    after = Plan({**PLAN.category_amounts, "system": 1_600_000, "equipment": 1_400_000},
                 dt.date(2027, 6, 30), "拡充した計画")
    found = changes(PLAN, after, FIFTH)
    assert [(m.category, m.planned_yen, m.proposed_yen, m.beyond_tolerance)
            for m in found.moves] == [("system", 2_000_000, 1_600_000, False),
                                      ("equipment", 1_000_000, 1_400_000, True)]
    assert found.end == (PLAN.project_end, dt.date(2027, 6, 30))
    assert found.scope == (PLAN.scope, "拡充した計画")
    assert found.needs_approval
    assert not changes(PLAN, PLAN, FIFTH).needs_approval


def test_the_project_is_carried_at_most_to_the_end_of_the_fiscal_year_the_program_allows():
    assert dt.date(2028, 3, 31) == LATEST  # a plan ending 2027-03-31 (FY2026), one year more
    assert latest_end(dt.date(2027, 4, 1), 1) == dt.date(2029, 3, 31)  # FY2027's next
    assert latest_end(PLAN.project_end, 0) == PLAN.project_end
    assert _check(Proposal(project_end=LATEST)) == []
    assert _check(Proposal(project_end=LATEST + dt.timedelta(days=1))) == [Problem.END_TOO_LATE]
    assert _check(Proposal(project_end=dt.date(9999, 12, 31))) == [Problem.END_TOO_LATE]


def test_once_the_project_in_force_has_ended_its_plan_no_longer_changes():
    after = check(PLAN, Proposal(project_end=dt.date(2027, 6, 30)), granted_yen=GRANTED,
                  project_start=START, latest=LATEST, today=dt.date(2027, 4, 1),
                  tolerance=FIFTH)
    assert after == [Problem.PROJECT_ENDED]
    on_the_last_day = check(PLAN, Proposal(project_end=dt.date(2027, 6, 30)),
                            granted_yen=GRANTED, project_start=START, latest=LATEST,
                            today=PLAN.project_end, tolerance=FIFTH)
    assert on_the_last_day == []


@pytest.mark.parametrize("scope", ["\u200b", " \u3000", "\u200b\u200d\n"])
def test_a_scope_with_nothing_visible_changes_nothing(scope):
    assert effective(PLAN, Proposal(scope=scope)).scope is None
    assert _check(Proposal(scope=scope)) == [Problem.NOTHING_CHANGED]
