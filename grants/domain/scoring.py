"""Scoring arithmetic: one review's weighted total, and the reviews of one application combined.

A review's total is the weighted mean of its ratings, each placed on 0..1 by the scale, times
100: a rubric's scale and weights can change without changing what "72.50" means. How an
unrated criterion counts is the rubric's choice (`Unrated`), never an implicit zero.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction
from typing import Protocol

from grants.domain.findings import Finding, LocalizedText, Severity, quoted_ja
from grants.domain.rounding import to_decimal
from grants.domain.rubrics import Rubric, Unrated, mark
from grants.domain.text import has_visible_text

Ratings = Mapping[str, int | None]


@dataclass(frozen=True)
class ReviewInput:
    ratings: Ratings
    comments: Mapping[str, str]


def check_review(rubric: Rubric, review: ReviewInput) -> list[Finding]:
    """What stops a review from being submitted: ratings off the scale, an unrated criterion
    where the rubric forbids one, a missing comment where a low score requires one.
    """
    findings: list[Finding] = []
    for criterion in rubric.criteria():
        rating = review.ratings.get(criterion.id)
        title = criterion.title
        if rating is None:
            if rubric.unrated is Unrated.FORBID:
                findings.append(_error(criterion.id, "unrated", LocalizedText(
                    f"{quoted_ja(title.ja)}を評価してください。", f"Rate “{title.en}”.")))
            continue
        if not rubric.scale.accepts(rating):  # off the scale, or between its steps
            findings.append(_error(criterion.id, "off_scale", rubric.scale.takes(title)))
            continue
        needs_comment = criterion.comment_required_at_or_below
        commented = has_visible_text(review.comments.get(criterion.id))
        if needs_comment is not None and rating <= needs_comment and not commented:
            findings.append(_error(criterion.id, "comment_required", LocalizedText(
                f"{quoted_ja(title.ja)}が{needs_comment}点以下のときは、理由をコメントに書いてください。",
                f"A score of {needs_comment} or less on “{title.en}” needs a comment "
                "giving the reason.")))
    return findings


def _error(criterion_id: str, kind: str, message: LocalizedText) -> Finding:
    return Finding(rule_id=f"review-{kind}", kind=kind, severity=Severity.ERROR,
                   message=message, field=criterion_id)


@dataclass(frozen=True)
class ScoreCard:
    """One review scored: `total` is 0–100 (None when nothing counts yet)."""

    total: Decimal | None
    knockouts: tuple[str, ...]  # ids of the knockout criteria hit
    rated: tuple[str, ...]
    unrated: tuple[str, ...]


def score(rubric: Rubric, ratings: Ratings) -> ScoreCard:
    """Weighted, normalized total of one review, and the knockouts it hits.

    An unrated criterion counts as the lowest level when the rubric says `zero`; otherwise it is
    left out and the total is taken over the weights of the rated criteria (a `forbid` rubric
    only meets unrated criteria in drafts).
    """
    low, span = rubric.scale.min, rubric.scale.max - rubric.scale.min
    points, weights = Fraction(0), 0
    rated, unrated, knockouts = [], [], []
    for criterion in rubric.criteria():
        rating = ratings.get(criterion.id)
        if rating is None:
            unrated.append(criterion.id)
            if rubric.unrated is not Unrated.ZERO:
                continue
            rating = low  # counts as the lowest level, for the total and the knockout alike
        else:
            rated.append(criterion.id)
        points += criterion.weight * (mark(rating) - low) / span  # exact, half-marks too
        weights += criterion.weight
        threshold = criterion.knockout_at_or_below
        if threshold is not None and rating <= threshold:
            knockouts.append(criterion.id)
    total = to_decimal(100 * points / weights) if weights and rated else None
    return ScoreCard(total, tuple(knockouts), tuple(rated), tuple(unrated))


@dataclass(frozen=True)
class Aggregate:
    """An application's submitted reviews combined."""

    count: int
    mean: Decimal | None
    spread: Decimal | None  # highest total minus lowest
    knockout: bool
    flagged: bool  # needs moderation
    reasons: tuple[LocalizedText, ...]


def aggregate(rubric: Rubric, cards: Sequence[ScoreCard]) -> Aggregate:
    """Mean and spread of the totals; flagged when the spread passes the rubric's disagreement
    threshold (strictly more than it) or any review hits a knockout.
    """
    totals = [card.total for card in cards if card.total is not None]
    mean = spread = None
    if totals:
        mean = to_decimal(sum((Fraction(t) for t in totals), Fraction(0)) / len(totals))
        spread = max(totals) - min(totals)
    knockout = any(card.knockouts for card in cards)
    reasons: list[LocalizedText] = []
    threshold = rubric.disagreement_threshold
    if spread is not None and spread > threshold:
        reasons.append(LocalizedText(
            f"評点の開き {spread} 点が基準 {threshold} 点を超えています。",
            f"The totals differ by {spread} points, more than the threshold of {threshold}."))
    if knockout:
        hit = {c for card in cards for c in card.knockouts}
        names = [c.title for c in rubric.criteria() if c.id in hit]
        reasons.append(LocalizedText(
            "足切り項目に該当: " + "、".join(n.ja for n in names),
            "Knockout criterion hit: " + ", ".join(n.en for n in names)))
    return Aggregate(len(cards), mean, spread, knockout, bool(reasons), tuple(reasons))


@dataclass(frozen=True)
class Moderated:
    """An application's score with the officer's moderated criteria in place."""

    total: Decimal | None  # the mean of the reviews' totals, each with the moderations in place
    knockouts: tuple[str, ...]  # criteria hit, in rubric order: unfundable when not empty
    resolved: bool  # totals within the threshold, and every knockout a reviewer hit moderated


def with_moderation(rubric: Rubric, reviews: Sequence[Ratings], moderations: Mapping[str, int]
                    ) -> Moderated:
    """Rescore every review with the moderated criteria replaced, and combine as `aggregate`.

    So the moderated total is the mean the officer saw, moved only by the moderated criteria:
    with every criterion rated, it is the mean rating per criterion with the moderated ones
    replaced. A knockout stays where a reviewer hit it on an unmoderated criterion, goes away
    when the officer scores the criterion above the threshold, and comes in when the officer
    scores it at or below.
    """
    cards = [score(rubric, {**ratings, **moderations}) for ratings in reviews]
    combined = aggregate(rubric, cards)
    hit = {c for card in cards for c in card.knockouts}
    knockouts = tuple(c.id for c in rubric.criteria() if c.id in hit)
    within = combined.spread is None or combined.spread <= rubric.disagreement_threshold
    reviewers_hit = {c for ratings in reviews for c in score(rubric, ratings).knockouts}
    return Moderated(combined.mean, knockouts, within and reviewers_hit.issubset(moderations))


class Flag(StrEnum):
    """What the officer is told about an application's reviews."""

    FLAGGED = "flagged"  # needs moderation
    MODERATED = "moderated"  # was flagged; the moderation answers every reason


def flag(combined: Aggregate, moderated: Moderated | None) -> Flag | None:
    """Flagged until a moderation resolves it; None when the reviews were never flagged."""
    if not combined.flagged:
        return None
    return Flag.MODERATED if moderated is not None and moderated.resolved else Flag.FLAGGED


class SubmittedText(Protocol):
    """One submitted version of a review, as the history compares them."""

    ratings: Mapping[str, int | None]
    comments: Mapping[str, str]
    comment_for_applicant: str | None
    total: Decimal | None


@dataclass(frozen=True)
class VersionChanges:
    """What a version changed from the one before it (everything, for the first)."""

    ratings: frozenset[str]  # criterion ids whose score changed
    comments: frozenset[str]  # criterion ids whose comment changed
    shared: bool  # the comment for the applicant changed
    total: bool


def version_changes(before: SubmittedText | None, after: SubmittedText) -> VersionChanges:
    """Compare two consecutive versions of a review, criterion by criterion."""
    if before is None:
        return VersionChanges(frozenset(after.ratings), frozenset(after.comments),
                              after.comment_for_applicant is not None, True)
    ids = set(before.ratings) | set(after.ratings)
    said = set(before.comments) | set(after.comments)
    return VersionChanges(
        frozenset(c for c in ids if before.ratings.get(c) != after.ratings.get(c)),
        frozenset(c for c in said if before.comments.get(c) != after.comments.get(c)),
        before.comment_for_applicant != after.comment_for_applicant,
        before.total != after.total,
    )
