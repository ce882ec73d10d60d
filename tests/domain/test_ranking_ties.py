"""Exact ties of score: marked on every tied row, at the budget line said so, each row with the
tie-break rule that ordered it."""

from __future__ import annotations

from grants.domain.ranking import Tie, TieBreak
from tests.domain.test_ranking import MAN, entry, ids, only_group


def _ties(group):
    return [row.tie for row in group.rows]


def test_two_tied_at_the_line_are_marked_at_the_line():
    # 3 fits (1,000万 of 2,500万), 1 and 2 tie at 80: 1 asks less so fits, 2 is over.
    group = only_group([entry(1, "80", yen=1_000 * MAN), entry(2, "80", yen=1_200 * MAN),
                        entry(3, "90", yen=500 * MAN)], budget_yen=2_500 * MAN)

    assert ids(group) == [3, 1, 2]
    assert [row.fits for row in group.rows] == [True, True, False]
    assert group.cutoff_index == 2
    assert _ties(group) == [None, Tie(True, TieBreak.REQUESTED), Tie(True, TieBreak.REQUESTED)]
    assert group.tied_at_line
    assert group.rows[2].tie.note.en == (
        "Tied on score at the budget line; ordered by the lower requested amount.")
    assert group.rows[2].tie.note.ja == "予算の線上で同点。申請額の少ない順で順位を付けました。"


def test_a_tie_above_the_line_is_marked_but_not_at_the_line():
    group = only_group([entry(1, "90", minutes=5), entry(2, "90", minutes=1), entry(3, "70"),
                        entry(4, "60")], budget_yen=3_000 * MAN)

    assert ids(group) == [2, 1, 3, 4]
    assert group.cutoff_index == 3  # the line falls between 70 and 60: no tie there
    assert _ties(group) == [Tie(False, TieBreak.SUBMITTED), Tie(False, TieBreak.SUBMITTED),
                            None, None]
    assert not group.tied_at_line
    assert group.rows[0].tie.note.en == "Tied on score; ordered by the earlier submission."


def test_no_tie_marks_nothing_even_one_hundredth_apart():
    group = only_group([entry(1, "80.01"), entry(2, "80"), entry(3, "79.99")],
                       budget_yen=2_000 * MAN)

    assert _ties(group) == [None, None, None]
    assert not group.tied_at_line


def test_a_run_of_three_names_the_rule_between_each_pair():
    # Same score; 1 and 2 ask the same and were submitted together: only the reference tells.
    group = only_group([entry(1, "75", reference="B"), entry(2, "75", reference="A"),
                        entry(3, "75", yen=500 * MAN)], budget_yen=1_500 * MAN)

    assert ids(group) == [3, 2, 1]
    assert group.cutoff_index == 2  # 500万 + 1,000万 fit, the third does not
    assert _ties(group) == [Tie(True, TieBreak.REQUESTED), Tie(True, TieBreak.REQUESTED),
                            Tie(True, TieBreak.REFERENCE)]


def test_the_line_after_the_tie_is_not_at_the_line():
    # Both tied rows fit; the first over the budget scores less.
    group = only_group([entry(1, "80"), entry(2, "80"), entry(3, "70")], budget_yen=2_000 * MAN)

    assert group.cutoff_index == 2
    assert [t.at_line if t else None for t in _ties(group)] == [False, False, None]
    assert not group.tied_at_line


def test_unfundable_and_unscored_rows_are_never_tied():
    group = only_group([entry(1, "80"), entry(2, "80", knockout=True), entry(3, None),
                        entry(4, None)])

    assert _ties(group) == [None, None, None, None]


def test_without_a_budget_ties_are_marked_but_never_at_a_line():
    group = only_group([entry(1, "80"), entry(2, "80")])

    assert all(t is not None and not t.at_line for t in _ties(group))
