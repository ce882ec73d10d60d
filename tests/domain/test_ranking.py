"""Ranking within the budget: order and tie-breaks, the cut-off, quotas per track."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction

import pytest

from grants.domain.ranking import TIE_BREAK, RankEntry, RankGroup, rank

T0 = datetime(2011, 1, 14, 9, 0, tzinfo=UTC)
MAN = 10_000  # 1万円


def entry(
    id: int,
    score: str | None = "50",
    *,
    yen: int = 1_000 * MAN,
    track: str | None = None,
    minutes: int = 0,
    reference: str | None = None,
    knockout: bool = False,
) -> RankEntry:
    return RankEntry(
        application_id=id,
        reference=reference or f"R-{id:03d}",
        track=track,
        score=None if score is None else Decimal(score),
        knockout=knockout,
        requested_yen=yen,
        submitted_at=T0 + timedelta(minutes=minutes),
    )


def only_group(entries, budget_yen=None) -> RankGroup:
    [group] = rank(entries, budget_yen=budget_yen, quotas={}).groups
    return group


def ids(group: RankGroup) -> list[int]:
    return [row.entry.application_id for row in group.rows]


# --- order -------------------------------------------------------------------------------------


def test_higher_score_first_with_consecutive_ranks():
    group = only_group([entry(1, "70.5"), entry(2, "91.25"), entry(3, "70.4"), entry(4, "100")])

    assert ids(group) == [4, 2, 1, 3]
    assert [row.rank for row in group.rows] == [1, 2, 3, 4]


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (entry(2, yen=900 * MAN), entry(1, yen=1_000 * MAN)),  # equal score: lower request
        (entry(2, minutes=-1), entry(1)),  # equal score and request: earlier submission
        (entry(2, reference="A-1"), entry(1, reference="B-1")),  # then the reference
    ],
    ids=["requested", "submitted_at", "reference"],
)
def test_each_tie_break_level(first, second):
    group = only_group([second, first])

    assert ids(group) == [first.application_id, second.application_id]
    assert [row.rank for row in group.rows] == [1, 2]  # equal scores, distinct ranks


def test_tie_breaks_apply_in_order():
    # A higher score beats a lower request; a lower request beats an earlier submission; an
    # earlier submission beats the reference.
    entries = [
        entry(1, "60", yen=100 * MAN, minutes=-10, reference="A"),
        entry(2, "61", yen=5_000 * MAN, minutes=10, reference="Z"),
        entry(3, "60", yen=50 * MAN, minutes=5, reference="Y"),
        entry(4, "60", yen=50 * MAN, minutes=1, reference="Z"),
    ]

    assert ids(only_group(entries)) == [2, 4, 3, 1]


def test_knockouts_then_unscored_come_last_without_rank_each_by_reference():
    entries = [
        entry(1, None, reference="R-9"),
        entry(2, "99", knockout=True, reference="R-8"),
        entry(3, "10"),
        entry(4, None, reference="R-1"),
        entry(5, None, knockout=True, reference="R-2"),  # knockout wins over unscored
        entry(6, "20"),
    ]

    group = only_group(entries, budget_yen=100_000 * MAN)

    assert ids(group) == [6, 3, 5, 2, 4, 1]
    assert [row.rank for row in group.rows] == [1, 2, None, None, None, None]
    assert [row.cumulative_yen for row in group.rows][2:] == [None] * 4
    assert [row.fits for row in group.rows] == [True, True, False, False, False, False]
    assert group.cutoff_index is None  # the money did not run out
    assert group.requested_yen == group.funded_yen == 2_000 * MAN


def test_tie_break_text_in_both_languages():
    assert "申請額の少ない順" in TIE_BREAK.ja
    assert "lower requested amount first" in TIE_BREAK.en
    assert TIE_BREAK.get("en") == TIE_BREAK.en


# --- the budget --------------------------------------------------------------------------------


def test_cumulative_sums_run_down_the_ranked_rows():
    group = only_group([entry(1, "90", yen=300), entry(2, "80", yen=200), entry(3, "70", yen=500)])

    assert [row.cumulative_yen for row in group.rows] == [300, 500, 1_000]


@pytest.mark.parametrize(
    ("budget", "fits", "cutoff"),
    [
        (1_000, [True, True, True], None),  # cumulative == budget: fits
        (999, [True, True, False], 2),  # one yen over: does not
        (500, [True, True, False], 2),
        (499, [True, False, False], 1),
        (0, [False, False, False], 0),
    ],
)
def test_cutoff_at_the_budget(budget, fits, cutoff):
    entries = [entry(1, "90", yen=300), entry(2, "80", yen=200), entry(3, "70", yen=500)]

    group = only_group(entries, budget_yen=budget)

    assert [row.fits for row in group.rows] == fits
    assert group.cutoff_index == cutoff
    assert group.funded_yen == sum([300, 200, 500][: fits.count(True)])


def test_strict_order_never_skips_to_a_smaller_request_below_the_cutoff():
    entries = [entry(1, "90", yen=600), entry(2, "80", yen=500), entry(3, "70", yen=100)]

    group = only_group(entries, budget_yen=1_000)

    assert [row.fits for row in group.rows] == [True, False, False]  # 3 would fit, but no
    assert group.cutoff_index == 1
    assert (group.requested_yen, group.funded_yen) == (1_200, 600)


def test_no_budget_everything_ranked_fits():
    ranking = rank([entry(1, yen=10**12), entry(2), entry(3, None)], budget_yen=None, quotas={})

    [group] = ranking.groups
    assert ranking.budget_yen is None and group.budget_yen is None
    assert [row.fits for row in group.rows] == [True, True, False]
    assert group.cutoff_index is None


def test_empty_input_gives_one_empty_shared_group():
    ranking = rank([], budget_yen=100_000_000, quotas={})

    assert ranking.groups == (RankGroup((), 100_000_000, (), None),)
    assert ranking.groups[0].requested_yen == ranking.groups[0].funded_yen == 0


# --- quotas ------------------------------------------------------------------------------------


def test_a_third_for_education_two_thirds_for_the_rest():
    entries = [
        entry(1, "80", track="general"),
        entry(2, "90", track="education"),
        entry(3, "85", track=None),
        entry(4, "70", track="education"),
        entry(5, "95", track="other"),
    ]

    ranking = rank(entries, budget_yen=100_000_000, quotas={"education": Fraction(1, 3)})

    shared, education = ranking.groups
    assert (shared.budget_yen, education.budget_yen) == (66_666_667, 33_333_333)
    assert shared.tracks == ("general", "other", None)
    assert education.tracks == ("education",)
    assert ids(shared) == [5, 3, 1]
    assert ids(education) == [2, 4]
    assert [row.rank for row in education.rows] == [1, 2]  # ranks restart per group
    assert ranking.budget_yen == 100_000_000


def test_each_group_cuts_off_against_its_own_budget():
    entries = [entry(1, "90", yen=30_000_000, track="education")]
    entries += [entry(2, "80", yen=4_000_000, track="education"), entry(3, "70", yen=66_666_667)]

    shared, education = rank(
        entries, budget_yen=100_000_000, quotas={"education": Fraction(1, 3)}
    ).groups

    assert [row.fits for row in education.rows] == [True, False]  # 34,000,000 > 33,333,333
    assert [row.fits for row in shared.rows] == [True]  # exactly the remainder


def test_quota_groups_in_the_order_given_even_when_empty():
    quotas = {"small": Fraction(1, 10), "education": Fraction(1, 5)}

    ranking = rank([entry(1, track="education")], budget_yen=1_000, quotas=quotas)

    assert [g.tracks for g in ranking.groups] == [(), ("small",), ("education",)]
    assert [g.budget_yen for g in ranking.groups] == [700, 100, 200]
    assert [len(g.rows) for g in ranking.groups] == [0, 0, 1]


def test_quotas_without_a_budget_have_no_budget_either():
    ranking = rank([entry(1, track="a")], budget_yen=None, quotas={"a": Fraction(1, 2)})

    assert [g.budget_yen for g in ranking.groups] == [None, None]
    assert ranking.groups[1].rows[0].fits


def test_shares_may_add_up_to_exactly_one():
    quotas = {"a": Fraction(1, 3), "b": Fraction(2, 3)}

    ranking = rank([], budget_yen=100, quotas=quotas)

    assert [g.budget_yen for g in ranking.groups] == [1, 33, 66]  # flooring leaves a yen shared


@pytest.mark.parametrize(
    ("budget", "quotas"),
    [
        (100, {"a": Fraction(2, 3), "b": Fraction(1, 2)}),
        (100, {"a": Fraction(-1, 10)}),
        (-1, {}),
    ],
)
def test_bad_quotas_or_budget_raise(budget, quotas):
    with pytest.raises(ValueError):
        rank([], budget_yen=budget, quotas=quotas)


# --- target shares -----------------------------------------------------------------------------

THIRD = {"education": Fraction(1, 3)}
BUDGET = 3_000 * MAN  # a third: 1,000万円, one application of the default request


def target_ranking(scores: dict[int, tuple[str, str]]):
    entries = [entry(id, score, track=track) for id, (track, score) in scores.items()]
    return rank(entries, budget_yen=BUDGET, quotas={}, targets=THIRD)


def fitting(groups) -> set[int]:
    return {row.entry.application_id for group in groups for row in group.rows if row.fits}


def test_target_share_reached_at_one_third_matches_the_reserved_pot():
    ranking = target_ranking({1: ("general", "80"), 2: ("general", "70"),
                              3: ("education", "60"), 4: ("general", "50")})

    [group] = ranking.groups  # one list over the whole budget
    assert ids(group) == [1, 2, 3, 4] and group.cutoff_index == 3
    [target] = ranking.targets
    assert (target.track, target.intended) == ("education", Fraction(1, 3))
    assert (target.funded_yen, target.reached) == (1_000 * MAN, Fraction(1, 3))
    assert fitting(ranking.as_reserved.groups) == fitting(ranking.groups) == {1, 2, 3}


def test_target_share_above_one_third_funds_what_a_reserved_pot_would_not():
    ranking = target_ranking({1: ("education", "90"), 2: ("education", "85"),
                              3: ("general", "80"), 4: ("general", "70")})

    assert fitting(ranking.groups) == {1, 2, 3}
    assert ranking.targets[0].reached == Fraction(2, 3)
    # Held as a reserved pot, the education line falls after one application, the general after two.
    shared, education = ranking.as_reserved.groups
    assert (education.budget_yen, education.funded_count) == (1_000 * MAN, 1)
    assert (shared.budget_yen, shared.funded_count) == (2_000 * MAN, 2)
    assert ranking.fits_as_reserved() == {1: True, 2: False, 3: True, 4: True}


def test_target_share_below_one_third_leaves_education_under_the_line():
    ranking = target_ranking({1: ("general", "90"), 2: ("general", "85"),
                              3: ("general", "80"), 4: ("education", "70")})

    assert fitting(ranking.groups) == {1, 2, 3}
    assert (ranking.targets[0].funded_yen, ranking.targets[0].reached) == (0, Fraction(0))
    assert ranking.fits_as_reserved() == {1: True, 2: True, 3: False, 4: True}


def test_target_share_with_nothing_funded_is_unknown():
    ranking = target_ranking({1: ("education", None)})

    assert ranking.targets[0].reached is None


def test_without_targets_there_is_no_reserved_view():
    ranking = rank([entry(1)], budget_yen=BUDGET, quotas=THIRD)

    assert ranking.targets == () and ranking.as_reserved is None
    assert ranking.fits_as_reserved() == {}


def test_targets_and_quotas_together_may_not_exceed_the_budget():
    with pytest.raises(ValueError):
        rank([], budget_yen=BUDGET, quotas={"a": Fraction(1, 2)}, targets={"b": Fraction(2, 3)})
