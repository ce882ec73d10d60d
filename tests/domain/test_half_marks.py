"""Half-marks where the rubric allows them (`step: 0.5`): a 2.5 scores exactly between 2 and 3,
whole-mark rubrics refuse it, and a value between the steps is refused with the steps named."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest

from grants.domain.rubrics import format_mark, mark, parse_rubric
from grants.domain.scoring import ReviewInput, check_review, score
from tests.domain.test_thresholds import EU

HALF = parse_rubric(EU, "rubrics/eu.yaml", expected_id="eu")
WHOLE = parse_rubric(EU.replace("  step: 0.5\n", ""), "rubrics/eu.yaml", expected_id="eu")
EVERY = ("excellence", "impact", "implementation")


def test_a_half_mark_scores_exactly_half_way():
    # weights 34, 33, 33 on 0–5: (34·2.5 + 33·3 + 33·3) / 5 = 56.60
    card = score(HALF, {"excellence": 2.5, "impact": 3, "implementation": 3})

    assert card.total == Decimal("56.60")
    assert score(HALF, dict.fromkeys(EVERY, 2.5)).total == Decimal("50.00")


@pytest.mark.parametrize(
    ("rubric", "rating", "en"),
    [
        (WHOLE, 2.5, "“Excellence” takes a score from 0 to 5."),
        (HALF, 2.3, "“Excellence” takes a score from 0 to 5 in steps of 0.5."),
        (HALF, 5.5, "“Excellence” takes a score from 0 to 5 in steps of 0.5."),
        (HALF, -0.5, "“Excellence” takes a score from 0 to 5 in steps of 0.5."),
        (HALF, float("inf"), "“Excellence” takes a score from 0 to 5 in steps of 0.5."),
    ],
)
def test_a_rating_between_the_steps_is_refused(rubric, rating, en):
    review = ReviewInput({**dict.fromkeys(EVERY, 3), "excellence": rating}, {})

    [finding] = check_review(rubric, review)

    assert (finding.kind, finding.field, finding.message.en) == ("off_scale", "excellence", en)
    if rubric is HALF:
        assert finding.message.ja == "「卓越性」の評点は0〜5の0.5刻みです。"


def test_a_half_mark_passes_on_a_half_mark_rubric():
    assert check_review(HALF, ReviewInput({**dict.fromkeys(EVERY, 3), "impact": 4.5}, {})) == []


@pytest.mark.parametrize(
    ("value", "exact", "written"),
    [(2.5, Fraction(5, 2), "2.5"), (3, Fraction(3), "3"), (3.0, Fraction(3), "3"),
     (0.1, Fraction(1, 10), "0.1"), (Decimal("0.25"), Fraction(1, 4), "0.25"),
     (Fraction(7, 2), Fraction(7, 2), "3.5")],
)
def test_marks_are_read_and_written_exactly(value, exact, written):
    assert mark(value) == exact
    assert format_mark(value) == written


@pytest.mark.parametrize("value", [True, "2.5", None, float("nan"), float("-inf")])
def test_anything_but_a_finite_number_is_no_mark(value):
    with pytest.raises(ValueError, match="not a score"):
        mark(value)
