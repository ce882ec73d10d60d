"""Thresholds at their boundaries: the EU's 3 of 5 on each criterion and 10 of 15 overall,
compared with the moderated mean per criterion; exactly the minimum passes, half a point below
does not, and every reason names the criterion, its score and the minimum."""

from __future__ import annotations

from fractions import Fraction

import pytest

from grants.domain.rubrics import Rubric, Unrated, parse_rubric
from grants.domain.thresholds import criterion_scores, unmet_thresholds

EU = """\
schema: 1
id: eu
title: {ja: 評価基準, en: Award criteria}
source: {ja: 欧州委員会の評価基準を例に作成, en: After the EU Funding & Tenders Portal}
scale:
  step: 0.5
  levels:
    - {score: 0, label: {ja: 不可, en: Fail}, descriptor: {ja: 記載なし, en: Missing}}
    - {score: 1, label: {ja: 不十分, en: Poor}, descriptor: {ja: 重大な欠陥, en: Serious flaws}}
    - {score: 2, label: {ja: 可, en: Fair}, descriptor: {ja: 弱点あり, en: Weaknesses}}
    - {score: 3, label: {ja: 良, en: Good}, descriptor: {ja: 一部弱点, en: Some shortcomings}}
    - {score: 4, label: {ja: 優, en: Very good}, descriptor: {ja: 軽微, en: Minor ones}}
    - {score: 5, label: {ja: 秀, en: Excellent}, descriptor: {ja: 模範, en: A model}}
unrated: exclude
disagreement_threshold: 20
thresholds:
  each_criterion: 3
  overall: 10
sections:
  - id: award
    title: {ja: 評価項目, en: Award criteria}
    criteria:
      - {id: excellence, title: {ja: 卓越性, en: Excellence}, question: {ja: 問, en: Q},
         guidance: {ja: 着眼点, en: Guidance}, weight: 34}
      - {id: impact, title: {ja: 効果, en: Impact}, question: {ja: 問, en: Q},
         guidance: {ja: 着眼点, en: Guidance}, weight: 33}
      - {id: implementation, title: {ja: 実施体制, en: Implementation}, question: {ja: 問, en: Q},
         guidance: {ja: 着眼点, en: Guidance}, weight: 33}
"""


def _rubric(text: str = EU) -> Rubric:
    return parse_rubric(text, "rubrics/eu.yaml", expected_id="eu")


def _scores(excellence, impact, implementation):
    return {"excellence": Fraction(excellence), "impact": Fraction(impact),
            "implementation": Fraction(implementation)}


@pytest.mark.parametrize(
    ("scores", "unmet"),
    [
        (("3", "3.5", "3.5"), []),  # each exactly at 3, the sum exactly 10: passes
        (("3", "3", "4"), []),
        (("2.5", "4", "4"), ["excellence"]),  # half a point under: fails, even at 10.5 overall
        (("3", "3", "3.5"), [None]),  # every criterion passes, the sum 9.5 does not
        (("2.5", "2.5", "4.5"), ["excellence", "impact", None]),
        (("5", "5", "0"), ["implementation"]),
        (("2.99", "3.5", "3.51"), ["excellence"]),  # a mean just under is under
    ],
)
def test_the_eu_thresholds_at_their_boundaries(scores, unmet):
    found = unmet_thresholds(_rubric(), _scores(*scores))

    assert [u.criterion_id for u in found] == unmet


def test_each_reason_names_the_criterion_its_score_and_the_minimum():
    found = unmet_thresholds(_rubric(), _scores("2.5", "8/3", "4.5"))

    assert [u.reason.en for u in found] == [
        "“Excellence” scored 2.5, below its minimum of 3.",
        "“Impact” scored 2.66…, below its minimum of 3.",  # cut, not rounded up to 2.67 or 3
        "The criteria's scores add up to 9.66…, below the overall minimum of 10.",
    ]
    assert [u.reason.ja for u in found] == [
        "「卓越性」の評点 2.5 が最低点 3 に達していません。",
        "「効果」の評点 2.66… が最低点 3 に達していません。",
        "評点の合計 9.66… が全体の最低点 10 に達していません。",
    ]
    assert (found[0].score, found[0].minimum) == (Fraction(5, 2), 3)


def test_a_criterion_threshold_replaces_the_one_for_each_criterion():
    text = EU.replace("guidance: {ja: 着眼点, en: Guidance}, weight: 34}",
                      "guidance: {ja: 着眼点, en: Guidance}, weight: 34, threshold: 4}")
    rubric = _rubric(text)

    assert rubric.minimum(rubric.criterion("excellence")) == 4
    assert rubric.minimum(rubric.criterion("impact")) == 3
    assert [u.criterion_id for u in unmet_thresholds(rubric, _scores(3.5, 4, 4))] == [
        "excellence"]


def test_a_rubric_without_thresholds_never_has_unmet_ones():
    text = EU.replace("thresholds:\n  each_criterion: 3\n  overall: 10\n", "")

    assert unmet_thresholds(_rubric(text), _scores(0, 0, 0)) == ()


def test_nothing_is_unmet_before_anything_is_scored_and_an_unrated_criterion_misses():
    rubric = _rubric()
    nothing = dict.fromkeys(("excellence", "impact", "implementation"))

    assert unmet_thresholds(rubric, nothing) == ()
    found = unmet_thresholds(rubric, {**nothing, "excellence": Fraction(5), "impact": Fraction(5)})
    assert [u.reason.en for u in found] == ["No reviewer rated “Implementation” (minimum 3)."]


def test_criterion_scores_are_the_moderated_mean():
    rubric = _rubric()
    reviews = [{"excellence": 3, "impact": 2, "implementation": 5},
               {"excellence": 2, "impact": 2.5, "implementation": None}]

    scores = criterion_scores(rubric, reviews, {"impact": 4})

    assert scores == {"excellence": Fraction(5, 2), "impact": 4, "implementation": 5}
    # Two whole ratings, 2 and 3, average 2.5: under the minimum of 3.
    assert [u.criterion_id for u in unmet_thresholds(rubric, scores)] == ["excellence"]


def test_criterion_scores_count_unrated_as_the_rubric_says():
    rubric = _rubric()
    zero = rubric.model_copy(update={"unrated": Unrated.ZERO})
    reviews = [{"excellence": 4}, {"excellence": None}]

    assert criterion_scores(rubric, reviews, {})["excellence"] == 4
    assert criterion_scores(zero, reviews, {})["excellence"] == 2
    assert criterion_scores(rubric, reviews, {})["impact"] is None
    assert criterion_scores(rubric, [], {}) == dict.fromkeys(
        ("excellence", "impact", "implementation"))


def test_half_marks_stay_exact_through_the_mean():
    reviews = [{"excellence": 0.1}, {"excellence": 0.2}]  # binary floats, read as decimals

    assert criterion_scores(_rubric(), reviews, {})["excellence"] == Fraction(3, 20)
