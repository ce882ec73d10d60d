"""Reviewer calibration: how each reviewer's totals sit against the other reviewers'.

A reviewer who is systematically harsher or kinder than colleagues shifts every application
they review. The offset compares a reviewer only with the others who scored the same
applications, so a reviewer who happened to get weak applications is not called harsh.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from grants.domain.rounding import to_decimal


@dataclass(frozen=True)
class ScoredReview:
    application_id: int
    reviewer_id: int
    reviewer_name: str
    total: Decimal


@dataclass(frozen=True)
class ReviewerCalibration:
    reviewer_id: int
    name: str
    totals: tuple[Decimal, ...]  # ascending
    mean: Decimal
    offset: Decimal | None  # mean of (own total − the others' mean on the same application)


@dataclass(frozen=True)
class Calibration:
    reviewers: tuple[ReviewerCalibration, ...]  # by name
    overall_mean: Decimal | None


def _mean(values: Sequence[Fraction]) -> Fraction:
    return sum(values, Fraction(0)) / len(values)


def calibrate(reviews: Sequence[ScoredReview]) -> Calibration:
    """Each reviewer's totals, mean and offset from co-reviewers; and the mean of all totals."""
    by_application: dict[int, list[ScoredReview]] = defaultdict(list)
    by_reviewer: dict[int, list[ScoredReview]] = defaultdict(list)
    for review in reviews:
        by_application[review.application_id].append(review)
        by_reviewer[review.reviewer_id].append(review)
    rows = []
    for reviewer_id, own in by_reviewer.items():
        differences = []
        for review in own:
            others = [Fraction(r.total) for r in by_application[review.application_id]
                      if r.reviewer_id != reviewer_id]
            if others:
                differences.append(Fraction(review.total) - _mean(others))
        totals = sorted(r.total for r in own)
        rows.append(ReviewerCalibration(
            reviewer_id, own[0].reviewer_name, tuple(totals),
            to_decimal(_mean([Fraction(t) for t in totals])),
            to_decimal(_mean(differences)) if differences else None,
        ))
    overall = to_decimal(_mean([Fraction(r.total) for r in reviews])) if reviews else None
    rows.sort(key=lambda row: (row.name, row.reviewer_id))
    return Calibration(tuple(rows), overall)
