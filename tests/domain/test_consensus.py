"""The consensus report's rules: its steps and who may take them, a complete draft, who has
yet to answer, whether it still rests on the counted reviews, and the rubric setting that makes
the approved consensus rank (with knockouts and thresholds judged on it)."""

from __future__ import annotations

from fractions import Fraction

import pytest

from grants.domain.consensus import (
    STEPS,
    Act,
    Consensus,
    ConsensusRefused,
    Step,
    awaiting,
    completeness_problems,
    is_current,
    next_step,
    score_problems,
)
from grants.domain.errors import DefinitionErrors
from grants.domain.rubrics import RankingScore, parse_rubric
from grants.domain.scoring import score
from grants.domain.thresholds import unmet_thresholds
from tests.domain.test_thresholds import EU

CRITERIA = ("excellence", "impact", "implementation")


def _rubric(extra: str = ""):
    text = EU.replace("\nsections:\n", f"\n{extra}sections:\n", 1) if extra else EU
    return parse_rubric(text, "rubrics/eu.yaml", expected_id="eu")


def test_the_steps_go_draft_circulate_approve_and_an_approved_report_only_goes_back():
    assert next_step(Step.DRAFTING, Act.CIRCULATE) is Step.CIRCULATED
    assert next_step(Step.CIRCULATED, Act.SEND_BACK) is Step.DRAFTING
    assert next_step(Step.CIRCULATED, Act.APPROVE) is Step.APPROVED
    assert next_step(Step.APPROVED, Act.SEND_BACK) is Step.DRAFTING  # reviews changed
    for act in set(Act) - {Act.SEND_BACK}:
        with pytest.raises(ConsensusRefused):
            next_step(Step.APPROVED, act)
    with pytest.raises(ConsensusRefused):
        next_step(Step.DRAFTING, Act.APPROVE)  # nobody saw it yet
    with pytest.raises(ConsensusRefused):
        next_step(Step.DRAFTING, Act.RESPOND)
    with pytest.raises(ConsensusRefused):
        next_step(Step.CIRCULATED, Act.SAVE)  # the circulated text is what the others answer
    assert len(STEPS) == 8


def test_a_draft_needs_a_score_on_the_scale_and_visible_comments_everywhere():
    rubric = _rubric()
    scores = dict.fromkeys(CRITERIA, 3.5)
    comments = dict.fromkeys(CRITERIA, "根拠あり")
    assert completeness_problems(rubric, scores, comments, "総評") == []
    problems = completeness_problems(rubric, {**scores, "impact": None},
                                     {**comments, "excellence": "\u200b"}, " \u3000")
    assert [p.en for p in problems] == [
        "Write the consensus comment on “Excellence”.",
        "Give “Impact” a consensus score.",
        "Write the overall comment.",
    ]
    assert [p.en for p in score_problems(rubric, {**scores, "impact": 3.3})] == [
        "“Impact” takes a score from 0 to 5 in steps of 0.5."]
    assert score_problems(rubric, {**scores, "impact": 6}) != []
    assert score_problems(rubric, {**scores, "impact": "３"}) != []  # full-width text
    assert score_problems(rubric, {"impact": None}) == []  # a blank draft is fine


def test_who_has_yet_to_answer_leaves_the_rapporteur_out():
    assert awaiting([7, 8, 9], 7, {9}) == [8]
    assert awaiting([7, 8], 7, {8}) == []


def test_a_report_rests_on_exactly_the_reviews_it_was_circulated_on():
    basis = {"1": 3, "2": 4}
    assert is_current(basis, dict(basis))
    assert not is_current(basis, {**basis, "2": 6})  # reopened and resubmitted
    assert not is_current(basis, {"1": basis["1"]})  # one withdrawn
    assert not is_current(basis, {**basis, "3": basis["1"]})  # one more counts now


def test_the_approved_consensus_is_scored_like_a_review_and_meets_thresholds_exactly():
    rubric = _rubric()
    passing = Consensus.from_stored({"excellence": 3, "impact": 3.5, "implementation": 3.5},
                                    dict.fromkeys(CRITERIA, "x"), "総評")
    assert passing.scores["impact"] == Fraction(7, 2)
    assert passing.ratings() == {"excellence": 3, "impact": 3.5, "implementation": 3.5}
    assert unmet_thresholds(rubric, passing.scores) == ()  # 3 passes; 10 overall is reached
    failing = Consensus.from_stored({"excellence": 2.5, "impact": 4, "implementation": 4},
                                    {}, None)
    assert [u.criterion_id for u in unmet_thresholds(rubric, failing.scores)] == ["excellence"]
    assert score(rubric, failing.ratings()).total is not None


def test_ranking_score_defaults_to_the_moderated_mean_and_is_validated_with_its_line():
    assert _rubric().ranking_score is RankingScore.MODERATED
    assert _rubric("ranking_score: consensus\n").ranking_score is RankingScore.CONSENSUS
    with pytest.raises(DefinitionErrors) as caught:
        _rubric("ranking_score: median\n")
    assert [str(e) for e in caught.value.errors] == [
        """rubrics/eu.yaml:19: ranking_score: must be one of 'mean', 'moderated' or """
        """'consensus' (got "median")"""]
