"""What the evaluation summary says per criterion and overall, at the minimums' boundaries:
exactly 3 reaches a minimum of 3, 2.5 does not, 2.99… is never shown as 3."""

from __future__ import annotations

from fractions import Fraction

from grants.domain.evaluation_summary import criterion_lines, overall_line
from grants.domain.rubrics import parse_rubric
from grants.domain.thresholds import unmet_thresholds
from tests.domain.test_thresholds import EU

RUBRIC = parse_rubric(EU, "rubrics/eu.yaml", expected_id="eu")
IDS = ("excellence", "impact", "implementation")


def _scores(*values):
    return dict(zip(IDS, (None if v is None else Fraction(v) for v in values), strict=True))


def _lines(scores, knockouts=(), comments=None):
    unmet = unmet_thresholds(RUBRIC, scores)
    return (criterion_lines(RUBRIC, scores, unmet, knockouts, comments or {}),
            overall_line(RUBRIC, scores, unmet))


def test_exactly_the_minimum_reaches_it_and_half_a_mark_less_does_not():
    lines, overall = _lines(_scores("3", "2.5", "5"))

    assert [(line.score, line.minimum, line.met) for line in lines] == [
        ("3", "3", True), ("2.5", "3", False), ("5", "3", True)]
    assert (overall.score, overall.minimum, overall.met) == ("10.5", "10", True)


def test_a_score_just_below_is_cut_not_rounded_up():
    lines, overall = _lines(_scores("299/100", "10/3", "4"))

    assert [line.score for line in lines] == ["2.99", "3.33…", "4"]
    assert [line.met for line in lines] == [False, True, True]
    assert (overall.score, overall.met) == ("10.32…", True)


def test_overall_minimum_missed_while_every_criterion_reaches_its_own():
    lines, overall = _lines(_scores("3", "3", "3.5"))

    assert all(line.met for line in lines)
    assert (overall.score, overall.minimum, overall.met) == ("9.5", "10", False)


def test_an_unrated_criterion_misses_its_minimum_and_an_unscored_application_says_nothing():
    lines, overall = _lines(_scores("4", None, "4"))
    assert [(line.score, line.met) for line in lines] == [("4", True), (None, False), ("4", True)]
    assert overall.score == "8" and overall.met is False  # the unrated one counts as the lowest

    lines, overall = _lines(_scores(None, None, None))
    assert [(line.score, line.met) for line in lines] == [(None, None)] * 3
    assert (overall.score, overall.minimum, overall.met) == (None, "10", None)


def test_knockouts_and_consensus_comments_are_carried_per_criterion():
    lines, _ = _lines(_scores("4", "4", "4"), knockouts=("impact",),
                      comments={"excellence": "合意：明確な目標。", "impact": ""})

    assert [line.knockout for line in lines] == [False, True, False]
    assert [line.comment for line in lines] == ["合意：明確な目標。", None, None]
    assert [line.title.en for line in lines] == ["Excellence", "Impact", "Implementation"]
