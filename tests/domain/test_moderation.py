"""The moderated score: every review rescored with the officer's criteria in place, combined
as the unmoderated mean is; knockouts moderated away or in; when the flag reads "moderated".

The worked examples are those of docs/rubric-schema.md ("Moderation"): a 0–5 scale, criteria
plan (weight 50), team (30) and sustain (20, knockout at 0), disagreement threshold 20. A
review's total is (50·plan + 30·team + 20·sustain) / 5.
"""

from __future__ import annotations

from decimal import Decimal

from grants.domain.scoring import Flag, Moderated, aggregate, flag, score, with_moderation
from tests.domain.test_scoring import make_rubric

RUBRIC = make_rubric(
    {
        "plan": {"weight": 50},
        "team": {"weight": 30},
        "sustain": {"weight": 20, "knockout_at_or_below": 0},
    },
    threshold=20,
)


def ratings(plan: int, team: int, sustain: int) -> dict[str, int | None]:
    return {"plan": plan, "team": team, "sustain": sustain}


def combined(reviews: list[dict[str, int | None]]):
    return aggregate(RUBRIC, [score(RUBRIC, r) for r in reviews])


# --- two reviewers -----------------------------------------------------------------------------

TWO = [ratings(4, 4, 3), ratings(1, 2, 2)]  # 76.00 and 30.00


def test_two_reviewers_before_moderation_are_flagged():
    # mean (76 + 30)/2 = 53.00; spread 46.00 > 20
    result = combined(TWO)

    assert (str(result.mean), str(result.spread), result.flagged) == ("53.00", "46.00", True)
    assert flag(result, None) is Flag.FLAGGED


def test_two_reviewers_moderating_one_criterion_moves_only_that_criterion():
    # plan moderated to 3: 76 → (150+120+60)/5 = 66.00, 30 → (150+60+40)/5 = 50.00; mean 58.00
    # = the mean rating per criterion (3, 3, 2.5) → (150+90+50)/5. The lower of the two
    # reviewers' ratings (3, 2, 2) would have given 50.00: the bug of issue 8.
    moderated = with_moderation(RUBRIC, TWO, {"plan": 3})

    assert moderated == Moderated(Decimal("58.00"), (), True)
    assert flag(combined(TWO), moderated) is Flag.MODERATED


def test_without_moderation_the_total_is_the_mean_the_officer_saw():
    assert with_moderation(RUBRIC, TWO, {}).total == combined(TWO).mean == Decimal("53.00")


def test_moderating_to_the_mean_rating_keeps_the_mean():
    # (4, 2, 3) and (2, 4, 1) total 64.00 and 48.00, mean 56.00; team is 3 on average:
    # moderating team to 3 gives (200+90+60)/5 = 70.00 and (100+90+20)/5 = 42.00, mean 56.00
    reviews = [ratings(4, 2, 3), ratings(2, 4, 1)]

    assert combined(reviews).mean == Decimal("56.00")
    assert with_moderation(RUBRIC, reviews, {"team": 3}).total == Decimal("56.00")


# --- three reviewers, a knockout in one review ---------------------------------------------------

THREE = [ratings(5, 4, 3), ratings(3, 3, 0), ratings(4, 3, 2)]  # 86.00, 48.00 (knockout), 66.00


def test_three_reviewers_with_a_knockout_in_one_review():
    # mean 200/3 = 66.666… → 66.67; spread 38.00; the second review hits sustain
    result = combined(THREE)

    assert (str(result.mean), str(result.spread), result.knockout) == ("66.67", "38.00", True)


def test_a_moderation_elsewhere_leaves_the_reviewers_knockout():
    # team moderated to 3: 86 → 80.00, 48 and 66 unchanged; mean 194/3 = 64.67; sustain still hit
    moderated = with_moderation(RUBRIC, THREE, {"team": 3})

    assert moderated == Moderated(Decimal("64.67"), ("sustain",), False)
    assert flag(combined(THREE), moderated) is Flag.FLAGGED


def test_the_knockout_moderated_away_but_the_spread_remains():
    # sustain moderated to 2: 82.00, 56.00, 66.00; mean 204/3 = 68.00; spread 26.00 > 20
    moderated = with_moderation(RUBRIC, THREE, {"sustain": 2})

    assert moderated == Moderated(Decimal("68.00"), (), False)
    assert flag(combined(THREE), moderated) is Flag.FLAGGED


def test_the_knockout_and_the_spread_moderated_away():
    # and plan moderated to 4: 72.00, 66.00, 66.00; mean 68.00; spread 6.00
    moderated = with_moderation(RUBRIC, THREE, {"sustain": 2, "plan": 4})

    assert moderated == Moderated(Decimal("68.00"), (), True)
    assert flag(combined(THREE), moderated) is Flag.MODERATED


def test_a_knockout_moderated_at_the_threshold_stays():
    # the officer confirms sustain at 0 (and plan at 4): every review now hits the knockout;
    # (200+120)/5 = 64.00, (200+90)/5 = 58.00 twice; mean 180/3 = 60.00
    moderated = with_moderation(RUBRIC, THREE, {"sustain": 0, "plan": 4})

    assert moderated == Moderated(Decimal("60.00"), ("sustain",), True)


# --- four reviewers, a moderation that brings in a knockout ------------------------------------

FOUR = [ratings(4, 4, 4), ratings(3, 4, 3), ratings(4, 3, 1), ratings(3, 3, 2)]  # 80, 66, 62, 56


def test_four_reviewers_before_moderation():
    # mean 264/4 = 66.00; spread 24.00 > 20; no knockout
    result = combined(FOUR)

    assert (str(result.mean), str(result.spread), result.knockout) == ("66.00", "24.00", False)


def test_a_moderation_that_brings_in_a_knockout():
    # sustain moderated to 0: 64.00, 54.00, 58.00, 48.00; mean 56.00 = (3.5, 3.5, 0) per
    # criterion → (175+105)/5; spread 16.00: the flag is answered, and the knockout is the
    # officer's own: the application is moderated, and unfundable
    moderated = with_moderation(RUBRIC, FOUR, {"sustain": 0})

    assert moderated == Moderated(Decimal("56.00"), ("sustain",), True)
    assert flag(combined(FOUR), moderated) is Flag.MODERATED


def test_a_moderation_on_reviews_never_flagged_shows_no_flag():
    reviews = [ratings(4, 4, 4), ratings(4, 3, 4)]  # 80.00 and 74.00

    moderated = with_moderation(RUBRIC, reviews, {"team": 4})

    assert moderated.total == Decimal("80.00")
    assert flag(combined(reviews), moderated) is None


# --- unrated criteria, rounding ------------------------------------------------------------------


def test_a_moderated_criterion_counts_in_a_review_that_left_it_unrated():
    # exclude: the second review rated only plan (5 → 100.00); the first 4, 4, 3 → 76.00.
    # sustain moderated to 5: (200+120+100)/5 = 84.00; the second, over the weights of plan and
    # sustain, 100 × (50 + 20)/70 = 100.00; mean 92.00
    reviews = [ratings(4, 4, 3), {"plan": 5, "team": None, "sustain": None}]

    moderated = with_moderation(RUBRIC, reviews, {"sustain": 5})

    assert moderated.total == Decimal("92.00")


def test_the_moderated_mean_is_rounded_to_cents():
    # plan moderated to 5: 86.00, (250+90)/5 = 68.00, (250+90+40)/5 = 76.00: 230/3 = 76.666…
    assert with_moderation(RUBRIC, THREE, {"plan": 5}).total == Decimal("76.67")
