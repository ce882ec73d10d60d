"""An application below a rubric's minimum score is not fundable in the ranking, like one that
hits a knockout: no rank, never within budget, listed after the ranked ones with its reasons."""

from __future__ import annotations

from dataclasses import replace
from fractions import Fraction

from grants.domain.findings import LocalizedText
from grants.domain.ranking import TIE_BREAK, rank
from grants.domain.rubrics import parse_rubric
from grants.domain.thresholds import unmet_thresholds
from tests.domain.test_ranking import MAN, entry, ids
from tests.domain.test_thresholds import EU

RUBRIC = parse_rubric(EU, "rubrics/eu.yaml", expected_id="eu")


def _reasons(excellence: str) -> tuple[LocalizedText, ...]:
    scores = {"excellence": Fraction(excellence), "impact": Fraction(4),
              "implementation": Fraction(4)}
    return tuple(u.reason for u in unmet_thresholds(RUBRIC, scores))


def test_a_missed_threshold_is_not_fundable_and_keeps_its_reason():
    below = replace(entry(1, "95"), unmet=_reasons("2.5"))  # the best score, below a minimum
    at = replace(entry(2, "60"), unmet=_reasons("3"))  # exactly the minimum: ranked
    [group] = rank([below, at, entry(3, "70"), entry(4, "80", knockout=True), entry(5, None)],
                   budget_yen=2_000 * MAN, quotas={}).groups

    assert ids(group) == [3, 2, 1, 4, 5]  # ranked, then not fundable by reference, unscored
    assert [row.rank for row in group.rows] == [1, 2, None, None, None]
    assert [row.fits for row in group.rows] == [True, True, False, False, False]
    assert group.funded_yen == 2_000 * MAN  # the money skips it: the next two fit
    row = group.rows[2]
    assert row.entry.unfundable and not row.entry.knockout
    assert [r.en for r in row.entry.unmet] == ["“Excellence” scored 2.5, below its minimum of 3."]
    assert not group.rows[1].entry.unmet and not group.rows[1].entry.unfundable


def test_the_tie_break_says_a_missed_minimum_is_not_ranked():
    assert "miss a minimum score" in TIE_BREAK.en
    assert "最低点に達しない申請" in TIE_BREAK.ja
