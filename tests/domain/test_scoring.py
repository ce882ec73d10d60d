"""Scoring arithmetic at its boundaries: weights, normalization, half-up rounding, the unrated
modes, knockouts, the checks before a review is submitted, and reviews combined.

Every expected total is worked out by hand in a comment: total = 100 × Σ w·(r − min)/(max − min)
over the counted criteria, divided by the sum of their weights, rounded to cents halves up.
A rubric's weights add up to 100, so with every criterion counted the divisor is 100.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest

from grants.domain.findings import Severity, quoted_ja
from grants.domain.rounding import to_decimal
from grants.domain.rubrics import Rubric, parse_rubric
from grants.domain.scoring import (
    Aggregate,
    ReviewInput,
    ScoreCard,
    aggregate,
    check_review,
    score,
)

# --- building rubrics from small YAML strings --------------------------------------------------


def make_rubric(
    criteria: dict[str, dict[str, int]] | None = None,
    *,
    scale: tuple[int, int] = (0, 5),
    unrated: str = "exclude",
    threshold: int = 10,
) -> Rubric:
    """Parse a rubric: `criteria` maps an id to its keys (weight, comment_required_at_or_below,
    knockout_at_or_below); each criterion is titled 項目<id> / Criterion <ID>.
    """
    criteria = {"a": {"weight": 100}} if criteria is None else criteria
    low, high = scale
    levels = "\n".join(
        f"    - {{score: {s}, label: {{ja: 評点{s}, en: Score {s}}},"
        f" descriptor: {{ja: 説明{s}, en: Descriptor {s}}}}}"
        for s in range(low, high + 1)
    )
    rows = []
    for criterion_id, keys in criteria.items():
        rows.append(
            f"      - id: {criterion_id}\n"
            f"        title: {{ja: 項目{criterion_id}, en: Criterion {criterion_id.upper()}}}\n"
            "        question: {ja: 問い, en: Question}\n"
            "        guidance: {ja: 手引き, en: Guidance}\n"
            + "".join(f"        {key}: {value}\n" for key, value in keys.items())
        )
    text = (
        "schema: 1\n"
        "id: test\n"
        "title: {ja: テスト評価表, en: Test rubric}\n"
        "source: {ja: 出典, en: Source}\n"
        "scale:\n"
        "  levels:\n"
        f"{levels}\n"
        f"unrated: {unrated}\n"
        f"disagreement_threshold: {threshold}\n"
        "sections:\n"
        "  - id: main\n"
        "    title: {ja: 本体, en: Main}\n"
        "    criteria:\n" + "".join(rows)
    )
    return parse_rubric(text, "rubrics/test.yaml")


def weighted(unrated: str = "exclude", scale: tuple[int, int] = (0, 5)) -> Rubric:
    """Two criteria, a (weight 75) and b (weight 25)."""
    return make_rubric({"a": {"weight": 75}, "b": {"weight": 25}}, scale=scale, unrated=unrated)


def card(total: str | None, knockouts: tuple[str, ...] = ()) -> ScoreCard:
    return ScoreCard(None if total is None else Decimal(total), knockouts, (), ())


def test_make_rubric_builds_the_rubric_asked_for():
    rubric = make_rubric(
        {"a": {"weight": 75, "knockout_at_or_below": 1}, "b": {"weight": 25}},
        scale=(1, 5),
        unrated="forbid",
        threshold=15,
    )

    assert [c.id for c in rubric.criteria()] == ["a", "b"]
    assert [c.weight for c in rubric.criteria()] == [75, 25]
    assert (rubric.scale.min, rubric.scale.max) == (1, 5)
    assert rubric.unrated == "forbid"
    assert rubric.disagreement_threshold == 15
    assert rubric.criterion("a").knockout_at_or_below == 1
    assert rubric.criterion("a").title.en == "Criterion A"


# --- weights -----------------------------------------------------------------------------------


def test_weights_count_in_proportion():
    # a: 75 × (5 − 0)/5 = 75; b: 25 × (0 − 0)/5 = 0; 100 × 75/100 = 75.00
    result = score(weighted(), {"a": 5, "b": 0})

    assert result.total == Decimal("75.00")
    assert str(result.total) == "75.00"


def test_weights_the_other_way_round():
    # a: 75 × 0/5 = 0; b: 25 × 5/5 = 25; 100 × 25/100 = 25.00
    assert score(weighted(), {"a": 0, "b": 5}).total == Decimal("25.00")


def test_all_ratings_at_the_top_give_100():
    # (75 × 5/5 + 25 × 5/5)/100 = 1 → 100.00
    result = score(weighted(), {"a": 5, "b": 5})

    assert str(result.total) == "100.00"
    assert result.rated == ("a", "b")
    assert result.unrated == ()
    assert result.knockouts == ()


def test_all_ratings_at_the_bottom_give_0():
    # (75 × 0/5 + 25 × 0/5)/100 = 0 → 0.00, a total (not None): both criteria are rated
    result = score(weighted(), {"a": 0, "b": 0})

    assert result.total is not None
    assert str(result.total) == "0.00"


def test_mixed_weighted_ratings():
    # a: 75 × 4/5 = 60; b: 25 × 2/5 = 10; Σ = 70; 100 × 70/100 = 70.00
    assert score(weighted(), {"a": 4, "b": 2}).total == Decimal("70.00")


# --- normalization on a scale that does not start at 0 -----------------------------------------


@pytest.mark.parametrize(
    ("rating", "expected"),
    [
        (1, "0.00"),  # (1 − 1)/4 = 0
        (2, "25.00"),  # (2 − 1)/4 = 1/4
        (3, "50.00"),  # (3 − 1)/4 = 1/2
        (5, "100.00"),  # (5 − 1)/4 = 1
    ],
)
def test_one_to_five_scale_is_normalized_from_its_minimum(rating, expected):
    rubric = make_rubric({"a": {"weight": 100}}, scale=(1, 5))

    assert str(score(rubric, {"a": rating}).total) == expected


def test_one_to_five_scale_weighted():
    # a: 75 × (5 − 1)/4 = 75; b: 25 × (1 − 1)/4 = 0; 100 × 75/100 = 75.00
    assert score(weighted(scale=(1, 5)), {"a": 5, "b": 1}).total == Decimal("75.00")


# --- rounding to two decimals, halves up -------------------------------------------------------


def test_two_thirds_rounds_to_66_67():
    # scale 0–3, one criterion rated 2: 100 × 2/3 = 66.666… → 66.67
    rubric = make_rubric({"a": {"weight": 100}}, scale=(0, 3))

    assert str(score(rubric, {"a": 2}).total) == "66.67"


def test_one_third_rounds_down_to_33_33():
    # scale 0–3, rated 1: 100 × 1/3 = 33.333… → 33.33
    rubric = make_rubric({"a": {"weight": 100}}, scale=(0, 3))

    assert str(score(rubric, {"a": 1}).total) == "33.33"


def test_two_thirds_by_weights_rounds_to_66_67():
    # scale 0–3, weights 50 and 50, ratings 1 and 3: 100 × (50 × 1/3 + 50 × 3/3)/100 = 200/3
    # = 66.666… → 66.67
    rubric = make_rubric({"a": {"weight": 50}, "b": {"weight": 50}}, scale=(0, 3))

    assert str(score(rubric, {"a": 1, "b": 3}).total) == "66.67"


def test_exact_half_cent_rounds_up():
    # scale 0–8, weights 39 and 61, ratings 0 and 1:
    # 100 × (61 × 1/8)/100 = 61/8 = 7.625 exactly → 7.63 (half-even would give 7.62)
    rubric = make_rubric({"a": {"weight": 39}, "b": {"weight": 61}}, scale=(0, 8))

    assert str(score(rubric, {"a": 0, "b": 1}).total) == "7.63"


def test_exact_half_cent_after_an_odd_cent_rounds_up():
    # same rubric, ratings 1 and 0: 100 × (39 × 1/8)/100 = 39/8 = 4.875 → 4.88
    rubric = make_rubric({"a": {"weight": 39}, "b": {"weight": 61}}, scale=(0, 8))

    assert str(score(rubric, {"a": 1, "b": 0}).total) == "4.88"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Fraction(1, 8), "0.13"),  # 0.125 → up
        (Fraction(61, 8), "7.63"),  # 7.625 → up (half-even: 7.62)
        (Fraction(2, 3), "0.67"),
        (Fraction(1, 3), "0.33"),
        (Fraction(100), "100.00"),
        (Fraction(0), "0.00"),
    ],
)
def test_to_decimal_rounds_halves_up_to_cents(value, expected):
    assert str(to_decimal(value)) == expected


# --- unrated criteria --------------------------------------------------------------------------


def test_unrated_exclude_totals_over_the_rated_weights():
    # only a counts: 100 × (75 × 4/5)/75 = 80.00
    result = score(weighted("exclude"), {"a": 4, "b": None})

    assert result.total == Decimal("80.00")
    assert result.rated == ("a",)
    assert result.unrated == ("b",)


def test_unrated_exclude_missing_key_is_unrated_too():
    # b absent from the ratings: as above, 80.00
    result = score(weighted("exclude"), {"a": 4})

    assert result.total == Decimal("80.00")
    assert result.unrated == ("b",)


def test_unrated_zero_counts_as_the_lowest_level():
    # a: 75 × 4/5 = 60; b unrated → 0 but its weight counts: 100 × 60/100 = 60.00
    result = score(weighted("zero"), {"a": 4, "b": None})

    assert result.total == Decimal("60.00")
    assert result.rated == ("a",)
    assert result.unrated == ("b",)


def test_unrated_zero_counts_as_the_lowest_level_on_a_one_to_five_scale():
    # a: 75 × (5 − 1)/4 = 75; b unrated = the lowest level, 1 → 0; 100 × 75/100 = 75.00
    # (the same as rating b explicitly 1, not as rating it 0, which is off this scale)
    rubric = weighted("zero", scale=(1, 5))

    assert score(rubric, {"a": 5}).total == Decimal("75.00")
    assert score(rubric, {"a": 5, "b": 1}).total == Decimal("75.00")


def test_unrated_forbid_is_refused_by_check_review():
    rubric = weighted("forbid")

    [finding] = check_review(rubric, ReviewInput({"a": 4, "b": None}, {}))

    assert finding.kind == "unrated"
    assert finding.rule_id == "review-unrated"
    assert finding.severity is Severity.ERROR
    assert finding.blocking
    assert finding.field == "b"
    assert finding.message.ja == "「項目b」を評価してください。"
    assert finding.message.en == "Rate “Criterion B”."


def test_unrated_forbid_refuses_each_missing_criterion():
    findings = check_review(weighted("forbid"), ReviewInput({}, {}))

    assert [(f.kind, f.field) for f in findings] == [("unrated", "a"), ("unrated", "b")]


def test_unrated_forbid_still_scores_a_draft_over_the_rated_weights():
    # a draft: 100 × (75 × 4/5)/75 = 80.00, like `exclude`
    result = score(weighted("forbid"), {"a": 4, "b": None})

    assert result.total == Decimal("80.00")
    assert result.unrated == ("b",)


@pytest.mark.parametrize("mode", ["exclude", "zero"])
def test_unrated_is_no_finding_unless_forbidden(mode):
    assert check_review(weighted(mode), ReviewInput({"a": 4}, {})) == []


@pytest.mark.parametrize("mode", ["exclude", "zero", "forbid"])
@pytest.mark.parametrize("ratings", [{}, {"a": None, "b": None}])
def test_nothing_rated_gives_no_total(mode, ratings):
    result = score(weighted(mode), ratings)

    assert result.total is None
    assert result.rated == ()
    assert result.unrated == ("a", "b")
    assert result.knockouts == ()


def test_ratings_for_unknown_criteria_are_ignored():
    # only a and b are on the rubric: 100 × (75 × 5/5)/100 = 75.00
    assert score(weighted(), {"a": 5, "b": 0, "zz": 5}).total == Decimal("75.00")


# --- knockouts ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rating", "hit"),
    [(0, True), (1, True), (2, True), (3, False), (5, False)],
)
def test_knockout_hits_at_and_below_its_threshold_only(rating, hit):
    rubric = make_rubric({"a": {"weight": 50, "knockout_at_or_below": 2}, "b": {"weight": 50}})

    result = score(rubric, {"a": rating, "b": 5})

    assert result.knockouts == (("a",) if hit else ())


def test_knockout_does_not_change_the_total():
    # a: 1 × 1/5; b: 1 × 5/5; 100 × (6/5)/2 = 60.00, knocked out or not
    rubric = make_rubric({"a": {"weight": 50, "knockout_at_or_below": 1}, "b": {"weight": 50}})

    result = score(rubric, {"a": 1, "b": 5})

    assert result.total == Decimal("60.00")
    assert result.knockouts == ("a",)


def test_knockouts_are_listed_in_rubric_order():
    rubric = make_rubric(
        {
            "b": {"weight": 34, "knockout_at_or_below": 1},
            "a": {"weight": 33, "knockout_at_or_below": 1},
            "c": {"weight": 33, "knockout_at_or_below": 1},
        }
    )

    result = score(rubric, {"a": 0, "b": 1, "c": 2})

    assert result.knockouts == ("b", "a")


def test_knockout_on_a_one_to_five_scale_at_the_lowest_level():
    rubric = make_rubric({"a": {"weight": 100, "knockout_at_or_below": 1}}, scale=(1, 5))

    assert score(rubric, {"a": 1}).knockouts == ("a",)
    assert score(rubric, {"a": 2}).knockouts == ()


def test_unrated_knockout_criterion_is_not_hit_when_excluded():
    rubric = make_rubric({"a": {"weight": 50, "knockout_at_or_below": 2}, "b": {"weight": 50}})

    assert score(rubric, {"b": 5}).knockouts == ()


# --- check_review: ratings off the scale -------------------------------------------------------


@pytest.mark.parametrize("rating", [-1, 6, 100])
def test_off_scale_rating_is_refused(rating):
    [finding] = check_review(weighted(), ReviewInput({"a": rating, "b": 3}, {}))

    assert finding.kind == "off_scale"
    assert finding.rule_id == "review-off_scale"
    assert finding.severity is Severity.ERROR
    assert finding.field == "a"
    assert finding.message.ja == "「項目a」の評点は0〜5です。"
    assert finding.message.en == "“Criterion A” takes a score from 0 to 5."


def test_zero_is_off_a_one_to_five_scale():
    [finding] = check_review(weighted(scale=(1, 5)), ReviewInput({"a": 0, "b": 1}, {}))

    assert (finding.kind, finding.field) == ("off_scale", "a")
    assert "1 to 5" in finding.message.en


@pytest.mark.parametrize("rating", [0, 5])
def test_scale_ends_are_on_the_scale(rating):
    assert check_review(weighted(), ReviewInput({"a": rating, "b": rating}, {})) == []


def test_off_scale_low_rating_is_not_also_asked_for_a_comment():
    rubric = make_rubric({"a": {"weight": 100, "comment_required_at_or_below": 2}})

    findings = check_review(rubric, ReviewInput({"a": -1}, {}))

    assert [f.kind for f in findings] == ["off_scale"]


# --- check_review: comments on low scores ------------------------------------------------------


def commented() -> Rubric:
    return make_rubric(
        {
            "a": {"weight": 50, "comment_required_at_or_below": 2},
            "b": {"weight": 50},
        }
    )


@pytest.mark.parametrize("rating", [0, 1, 2])
@pytest.mark.parametrize("comments", [{}, {"a": ""}, {"a": "   "}, {"a": "\n\t　"}, {"b": "理由"}])
def test_low_score_without_a_comment_is_refused(rating, comments):
    [finding] = check_review(commented(), ReviewInput({"a": rating, "b": 0}, comments))

    assert finding.kind == "comment_required"
    assert finding.rule_id == "review-comment_required"
    assert finding.severity is Severity.ERROR
    assert finding.field == "a"
    assert finding.message.ja == "「項目a」が2点以下のときは、理由をコメントに書いてください。"
    assert finding.message.en == (
        "A score of 2 or less on “Criterion A” needs a comment giving the reason."
    )


@pytest.mark.parametrize("rating", [0, 2])
def test_low_score_with_a_comment_is_accepted(rating):
    review = ReviewInput({"a": rating, "b": 0}, {"a": "計画が具体的でない"})

    assert check_review(commented(), review) == []


@pytest.mark.parametrize("rating", [3, 5])
def test_score_above_the_comment_threshold_needs_no_comment(rating):
    assert check_review(commented(), ReviewInput({"a": rating, "b": 0}, {})) == []


def test_unrated_criterion_needs_no_comment():
    assert check_review(commented(), ReviewInput({"b": 0}, {})) == []


def test_every_problem_is_reported_with_its_criterion():
    rubric = make_rubric(
        {
            "a": {"weight": 25, "comment_required_at_or_below": 1},
            "b": {"weight": 25},
            "c": {"weight": 25},
            "d": {"weight": 25},
        },
        unrated="forbid",
    )

    findings = check_review(rubric, ReviewInput({"a": 1, "b": 9, "c": 3}, {"a": " "}))

    assert [(f.field, f.kind) for f in findings] == [
        ("a", "comment_required"),
        ("b", "off_scale"),
        ("d", "unrated"),
    ]


# --- aggregate ---------------------------------------------------------------------------------


def test_aggregate_mean_and_spread():
    # mean (75 + 80 + 60)/3 = 215/3 = 71.666… → 71.67; spread 80 − 60 = 20.00 > 10: flagged
    result = aggregate(make_rubric(threshold=10), [card("75.00"), card("80.00"), card("60.00")])

    assert result.count == 3
    assert str(result.mean) == "71.67"
    assert str(result.spread) == "20.00"
    assert result.knockout is False
    assert result.flagged is True
    [reason] = result.reasons
    assert reason.ja == "評点の開き 20.00 点が基準 10 点を超えています。"
    assert reason.en == "The totals differ by 20.00 points, more than the threshold of 10."


def test_aggregate_of_scored_reviews():
    # cards from score(): 75.00 (5, 0) and 70.00 (4, 2): mean 72.50, spread 5.00 ≤ 10
    rubric = weighted()
    cards = [score(rubric, {"a": 5, "b": 0}), score(rubric, {"a": 4, "b": 2})]

    result = aggregate(rubric, cards)

    assert result == Aggregate(2, Decimal("72.50"), Decimal("5.00"), False, False, ())


def test_aggregate_mean_rounds_halves_up():
    # (0.01 + 0.02)/2 = 0.015 → 0.02 (half-even would also give 0.02; 0.03 + 0.04 → 0.035 → 0.04)
    rubric = make_rubric(threshold=10)

    assert str(aggregate(rubric, [card("0.01"), card("0.02")]).mean) == "0.02"
    assert str(aggregate(rubric, [card("0.02"), card("0.03")]).mean) == "0.03"  # 0.025, not 0.02


def test_spread_equal_to_the_threshold_is_not_flagged():
    # 80.00 − 70.00 = 10.00, not more than 10
    result = aggregate(make_rubric(threshold=10), [card("70.00"), card("80.00")])

    assert str(result.spread) == "10.00"
    assert result.flagged is False
    assert result.reasons == ()


def test_spread_one_cent_over_the_threshold_is_flagged():
    # 80.01 − 70.00 = 10.01 > 10
    result = aggregate(make_rubric(threshold=10), [card("70.00"), card("80.01")])

    assert str(result.spread) == "10.01"
    assert result.flagged is True
    assert len(result.reasons) == 1


def test_a_single_review_has_no_spread():
    result = aggregate(make_rubric(threshold=1), [card("42.50")])

    assert (result.count, str(result.mean), str(result.spread)) == (1, "42.50", "0.00")
    assert result.flagged is False


def test_any_knockout_flags_and_names_the_criterion():
    rubric = make_rubric({"a": {"weight": 50, "knockout_at_or_below": 1}, "b": {"weight": 50}})

    result = aggregate(rubric, [card("70.00"), card("72.00", ("a",))])

    assert result.knockout is True
    assert result.flagged is True
    [reason] = result.reasons
    assert reason.ja == "足切り項目に該当: 項目a"
    assert reason.en == "Knockout criterion hit: Criterion A"


def test_knockouts_of_several_reviews_are_named_once_each():
    rubric = make_rubric(
        {
            "a": {"weight": 50, "knockout_at_or_below": 1},
            "b": {"weight": 50, "knockout_at_or_below": 1},
        }
    )

    result = aggregate(rubric, [card("10.00", ("b",)), card("12.00", ("a", "b"))])

    [reason] = result.reasons
    assert reason.ja == "足切り項目に該当: 項目a、項目b"
    assert reason.en == "Knockout criterion hit: Criterion A, Criterion B"


def test_knockout_from_score_flags_the_aggregate():
    rubric = make_rubric({"a": {"weight": 50, "knockout_at_or_below": 1}, "b": {"weight": 50}})
    cards = [score(rubric, {"a": 1, "b": 5}), score(rubric, {"a": 2, "b": 4})]

    # totals 100 × (1/5 + 1)/2 = 60.00 and 100 × (2/5 + 4/5)/2 = 60.00: no spread, but a knockout
    result = aggregate(rubric, cards)

    assert str(result.spread) == "0.00"
    assert result.knockout is True
    assert result.flagged is True
    assert [r.en for r in result.reasons] == ["Knockout criterion hit: Criterion A"]


def test_spread_and_knockout_give_two_reasons_spread_first():
    rubric = make_rubric({"a": {"weight": 100, "knockout_at_or_below": 1}}, threshold=5)

    result = aggregate(rubric, [card("20.00", ("a",)), card("90.00")])

    assert [r.en for r in result.reasons] == [
        "The totals differ by 70.00 points, more than the threshold of 5.",
        "Knockout criterion hit: Criterion A",
    ]


def test_aggregate_of_no_reviews():
    result = aggregate(make_rubric(), [])

    assert result == Aggregate(0, None, None, False, False, ())


def test_cards_without_a_total_are_counted_but_left_out_of_the_mean():
    # mean of 80.00 alone; spread 0.00; count 2 (both reviews are there)
    result = aggregate(make_rubric(threshold=1), [card("80.00"), card(None)])

    assert result.count == 2
    assert str(result.mean) == "80.00"
    assert str(result.spread) == "0.00"
    assert result.flagged is False


def test_cards_without_a_total_do_not_widen_the_spread():
    # 50.00 and 55.00 with a None between: spread 5.00, not 55.00 (None is not 0)
    result = aggregate(make_rubric(threshold=10), [card("50.00"), card(None), card("55.00")])

    assert str(result.mean) == "52.50"
    assert str(result.spread) == "5.00"
    assert result.flagged is False


def test_only_cards_without_a_total_give_no_mean_nor_spread():
    result = aggregate(make_rubric(), [card(None), card(None)])

    assert result == Aggregate(2, None, None, False, False, ())


def test_unrated_zero_hits_a_knockout_like_the_lowest_level_would():
    rubric = make_rubric(
        {"a": {"weight": 50, "knockout_at_or_below": 0}, "b": {"weight": 50}}, unrated="zero"
    )
    card = score(rubric, {"b": 5})
    assert card.knockouts == ("a",)
    assert card.total == Decimal("50.00")
    assert card.unrated == ("a",)


def test_unrated_exclude_never_hits_a_knockout():
    rubric = make_rubric({"a": {"weight": 50, "knockout_at_or_below": 0}, "b": {"weight": 50}})
    assert score(rubric, {"b": 5}).knockouts == ()


def test_negative_fractions_round_away_from_zero():
    assert str(to_decimal(Fraction(-61, 8))) == "-7.63"


@pytest.mark.parametrize(("title", "quoted"), [
    ("地域住民本位", "「地域住民本位」"),
    ("「地域住民本位」", "「地域住民本位」"),
    ("「予算ありき」の事業", "「『予算ありき』の事業」"),  # nested: 『』
])
def test_quoted_ja_never_doubles_the_brackets(title, quoted):
    assert quoted_ja(title) == quoted
