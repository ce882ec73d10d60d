"""The sustainability dashboard's arithmetic: who is still operating each year after completion,
who pays, and the rubric's scores against what happened; at the edges (no projects, all
stopped, a gap in the reports, a project not yet that old, 31 March against 1 April)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from fractions import Fraction

import pytest

from grants.domain.sustainability import (
    Followup,
    Project,
    Standing,
    dashboard,
    latest_standing,
    percent,
    timeline,
)

YES, PARTLY, STOPPED, NONE = Standing.YES, Standing.PARTLY, Standing.STOPPED, Standing.NO_REPORT
END = dt.date(2021, 3, 31)  # FY2020: year 1 is FY2021
TODAY = dt.date(2026, 11, 20)  # FY2026: FY2021..FY2025 have ended
SUSTAIN = "sustainable_after_funding"


def project(application_id: int, *reports: tuple[int, Standing, dict[str, int]],
            end: dt.date = END, scores: dict[str, Fraction | None] | None = None) -> Project:
    """A project ending on `end` with reports (year after completion, standing, costs)."""
    completion = Project(application_id, end).completion_year
    return Project(application_id, end,
                   tuple(Followup(completion + year, standing, costs)
                         for year, standing, costs in reports),
                   scores or {})


def standings(p: Project, today: dt.date = TODAY, years: int = 5) -> list[Standing]:
    return [row.standing for row in timeline(p, years=years, today=today)]


def test_no_projects_gives_empty_years_and_no_shares():
    board = dashboard([], [SUSTAIN], years=5, today=TODAY)
    assert [y.year for y in board.years] == [1, 2, 3, 4, 5]
    assert all(y.reached == 0 and y.share(YES) is None for y in board.years)
    assert all(y.cost_total_yen == 0 for y in board.years)
    assert board.payers == ()
    assert board.latest == {standing: () for standing in Standing}
    outcome, = board.criteria
    assert outcome.means == {YES: None, PARTLY: None, STOPPED: None}
    assert outcome.counts == {YES: 0, PARTLY: 0, STOPPED: 0}
    assert outcome.difference is None


def test_a_stop_counts_as_stopped_in_every_later_year_without_a_report():
    stopped = project(1, (1, YES, {}), (2, STOPPED, {}))
    assert standings(stopped) == [YES, STOPPED, STOPPED, STOPPED, STOPPED]
    assert [row.reported for row in timeline(stopped, years=5, today=TODAY)] == \
        [True, True, False, False, False]


def test_a_report_that_it_runs_again_wins_over_the_earlier_stop():
    restarted = project(1, (1, STOPPED, {}), (3, PARTLY, {}))
    assert standings(restarted) == [STOPPED, STOPPED, PARTLY, NONE, NONE]


def test_a_gap_in_the_reports_is_no_report_and_the_next_report_counts_again():
    gap = project(1, (1, YES, {}), (3, YES, {}))
    assert standings(gap) == [YES, NONE, YES, NONE, NONE]
    assert latest_standing(timeline(gap, years=5, today=TODAY)) is YES


def test_partly_is_not_a_stop_and_is_not_carried_forward():
    assert standings(project(1, (1, PARTLY, {}))) == [PARTLY, NONE, NONE, NONE, NONE]


def test_a_project_is_in_a_year_once_that_fiscal_year_has_ended():
    young = project(1, end=dt.date(2024, 3, 31))  # FY2023: years 1 and 2 (FY2024, FY2025) ended
    assert standings(young) == [NONE, NONE]
    assert standings(young, today=dt.date(2026, 3, 31)) == [NONE]  # still FY2025
    assert standings(young, today=dt.date(2026, 4, 1)) == [NONE, NONE]  # FY2026 began
    assert standings(young, today=dt.date(2025, 3, 31)) == []


def test_a_completion_on_31_march_and_on_1_april_are_a_year_apart():
    march = Project(1, dt.date(2025, 3, 31))
    april = Project(2, dt.date(2025, 4, 1))
    assert (march.completion_year, april.completion_year) == (2024, 2025)
    today = dt.date(2026, 4, 1)  # FY2026: FY2025 has ended
    assert len(timeline(march, years=5, today=today)) == 1
    assert timeline(april, years=5, today=today) == ()


def test_a_filed_report_counts_before_its_year_has_ended():
    early = project(1, (1, YES, {"own_budget": 100}), end=dt.date(2025, 3, 31))
    assert standings(early, today=dt.date(2025, 4, 2)) == [YES]


def test_only_the_programs_follow_up_years_are_counted():
    late = project(1, (1, YES, {}), (6, STOPPED, {}))
    assert standings(late, years=5) == [YES, NONE, NONE, NONE, NONE]
    assert standings(late, years=0) == []


def test_shares_of_each_year_over_the_projects_that_reached_it():
    projects = [
        project(1, (1, YES, {}), (2, YES, {})),
        project(2, (1, PARTLY, {}), (2, STOPPED, {})),
        project(3, (1, YES, {})),
        project(4, end=dt.date(2025, 3, 31)),  # FY2024: only year 1 (FY2025) has ended
    ]
    board = dashboard(projects, [], years=5, today=TODAY)
    first, second = board.years[0], board.years[1]
    assert first.reached == 4
    assert first.projects == {YES: (1, 3), PARTLY: (2,), STOPPED: (), NONE: (4,)}
    assert (first.share(YES), first.share(PARTLY), first.share(NONE)) == \
        (Fraction(1, 2), Fraction(1, 4), Fraction(1, 4))
    assert second.reached == 3  # project 4 is not two years past completion
    assert second.projects == {YES: (1,), PARTLY: (), STOPPED: (2,), NONE: (3,)}
    assert second.share(YES) == Fraction(1, 3)
    assert sum(second.share(s) for s in Standing) == 1


def test_all_stopped():
    projects = [project(n, (1, STOPPED, {}), scores={SUSTAIN: Fraction(n)}) for n in (1, 2)]
    board = dashboard(projects, [SUSTAIN], years=5, today=TODAY)
    assert [y.share(STOPPED) for y in board.years] == [1] * 5
    assert [y.share(YES) for y in board.years] == [0] * 5
    assert board.latest[STOPPED] == (1, 2)
    outcome, = board.criteria
    assert outcome.means == {YES: None, PARTLY: None, STOPPED: Fraction(3, 2)}
    assert outcome.counts == {YES: 0, PARTLY: 0, STOPPED: 2}
    assert outcome.difference is None  # nothing to compare with


def test_operating_costs_by_payer_sum_and_share_per_year():
    projects = [
        project(1, (1, YES, {"own_budget": 1_000_000, "user_fees": 500_000}),
                (2, YES, {"own_budget": 900_000})),
        project(2, (1, PARTLY, {"user_fees": 1_000_000, "partners": 1})),
        project(3, (1, STOPPED, {})),
    ]
    board = dashboard(projects, [], years=5, today=TODAY)
    assert board.payers == ("own_budget", "user_fees", "partners")  # by total, largest first
    first, second, third = board.years[:3]
    assert first.costs == {"own_budget": 1_000_000, "user_fees": 1_500_000, "partners": 1}
    assert first.cost_total_yen == 2_500_001
    assert first.cost_share("user_fees") == Fraction(1_500_000, 2_500_001)
    assert first.payers == {"own_budget": (1,), "user_fees": (1, 2), "partners": (2,)}
    assert second.costs == {"own_budget": 900_000, "user_fees": 0, "partners": 0}
    assert second.cost_share("own_budget") == 1
    assert third.cost_total_yen == 0 and third.cost_share("own_budget") is None


def test_payers_with_the_same_total_are_ordered_by_name():
    projects = [project(1, (1, YES, {"b": 5, "a": 5}))]
    assert dashboard(projects, [], years=1, today=TODAY).payers == ("a", "b")


def test_rubric_means_compare_the_survivors_with_the_stopped_at_their_latest_report():
    projects = [
        project(1, (1, STOPPED, {}), (2, YES, {}), scores={SUSTAIN: Fraction(5), "goal": None}),
        project(2, (1, YES, {}), scores={SUSTAIN: Fraction(9, 2), "goal": Fraction(3)}),
        project(3, (1, YES, {}), (2, STOPPED, {}), scores={SUSTAIN: Fraction(1),
                                                           "goal": Fraction(4)}),
        project(4, (2, PARTLY, {}), scores={SUSTAIN: Fraction(3)}),
        project(5, scores={SUSTAIN: Fraction(0)}),  # no report: in no mean
    ]
    board = dashboard(projects, [SUSTAIN, "goal"], years=5, today=TODAY)
    assert board.latest == {YES: (1, 2), PARTLY: (4,), STOPPED: (3,), NONE: (5,)}
    sustain, goal = board.criteria
    assert sustain.criterion_id == SUSTAIN
    assert sustain.means == {YES: Fraction(19, 4), PARTLY: Fraction(3), STOPPED: Fraction(1)}
    assert sustain.counts == {YES: 2, PARTLY: 1, STOPPED: 1}
    assert sustain.difference == Fraction(15, 4)
    assert goal.means == {YES: Fraction(3), PARTLY: None, STOPPED: Fraction(4)}  # None left out
    assert goal.counts == {YES: 1, PARTLY: 0, STOPPED: 1}
    assert goal.difference == -1


def test_timelines_are_kept_per_project_for_the_drill_down():
    board = dashboard([project(7, (1, YES, {"own_budget": 10}))], [], years=2, today=TODAY)
    first, second = board.timelines[7]
    assert (first.year, first.fiscal_year, first.standing, first.costs) == \
        (1, 2021, YES, {"own_budget": 10})
    assert (second.year, second.fiscal_year, second.standing, second.reported) == \
        (2, 2022, NONE, False)


@pytest.mark.parametrize(("share", "shown"), [
    (Fraction(1, 3), Decimal("33.3")),
    (Fraction(2, 3), Decimal("66.7")),
    (Fraction(1, 2000), Decimal("0.1")),  # 0.05 rounds half away from zero
    (Fraction(1, 2001), Decimal("0.0")),
    (Fraction(1), Decimal("100.0")),
])
def test_percent_rounds_exact_shares_to_one_decimal(share, shown):
    assert percent(share) == shown


def test_the_projects_behind_each_number():
    projects = [
        project(1, (1, YES, {"own_budget": 5}), (2, STOPPED, {})),
        project(2, (1, YES, {"user_fees": 5})),
        project(3, end=dt.date(2025, 3, 31)),  # FY2024: only year 1 ended
    ]
    board = dashboard(projects, [], years=5, today=TODAY)
    assert board.behind() == (1, 2, 3)
    assert board.behind(standing=STOPPED) == (1,)  # at the latest report
    assert board.behind(standing=NONE) == (3,)
    assert board.behind(year=1) == (1, 2, 3)
    assert board.behind(year=2) == (1, 2)
    assert board.behind(year=1, standing=YES) == (1, 2)
    assert board.behind(year=2, standing=NONE) == (2,)
    assert board.behind(year=1, payer="user_fees") == (2,)
    assert board.behind(year=1, payer="nobody") == ()
