"""Thresholds: the minimum scores an application must reach to be fundable.

A rubric may set a minimum per criterion and one for the sum of the criteria's scores (the EU
Funding & Tenders Portal's 3 of 5 on each criterion and 10 of 15 overall). They are compared
with the application's own score per criterion, the moderated mean: the officer's moderated
score where there is one, else the mean of the counted reviews' ratings. Reaching the minimum
exactly passes (3 passes a minimum of 3; 2.5 does not). An application below any of them is not
fundable, like one that hits a knockout, and the reasons say which and by how much.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction

from grants.domain.findings import LocalizedText, quoted_ja
from grants.domain.rubrics import Rubric, Unrated, format_mark, mark


@dataclass(frozen=True)
class Unmet:
    """One minimum an application does not reach."""

    criterion_id: str | None  # None: the overall minimum
    score: Fraction | None  # None: no counted review rated the criterion
    minimum: Fraction
    reason: LocalizedText


def criterion_scores(rubric: Rubric, reviews: Sequence[Mapping[str, object]],
                     moderations: Mapping[str, object]) -> dict[str, Fraction | None]:
    """Return the application's score per criterion, exact: the moderated score where the
    officer set one, else the mean of the reviews' ratings (an unrated criterion left out, or
    counted as the lowest level where the rubric's `unrated` is `zero`, as `scoring.score`
    counts it); None when nothing rates it.

    Args:
        rubric: the rubric the reviews were scored under.
        reviews: each counted review's ratings (criterion id -> score or None).
        moderations: criterion id -> the officer's score.
    """
    scores: dict[str, Fraction | None] = {}
    for criterion in rubric.criteria():
        if criterion.id in moderations:
            scores[criterion.id] = mark(moderations[criterion.id])
            continue
        ratings = [review.get(criterion.id) for review in reviews]
        if rubric.unrated is Unrated.ZERO:
            ratings = [rubric.scale.min if r is None else r for r in ratings]
        rated = [mark(r) for r in ratings if r is not None]
        scores[criterion.id] = sum(rated, Fraction(0)) / len(rated) if rated else None
    return scores


def unmet_thresholds(rubric: Rubric, scores: Mapping[str, Fraction | None]) -> tuple[Unmet, ...]:
    """Return every minimum the scores do not reach: criteria in rubric order, then overall.

    Nothing is unmet while nothing is scored (the application is not scored yet, which the
    ranking says on its own). A criterion nobody rated does not reach its minimum; in the
    overall sum it counts as the lowest level of the scale.
    """
    if all(scores.get(c.id) is None for c in rubric.criteria()):
        return ()
    unmet: list[Unmet] = []
    for criterion in rubric.criteria():
        minimum, score = rubric.minimum(criterion), scores.get(criterion.id)
        if minimum is None or (score is not None and score >= minimum):
            continue
        title, floor = criterion.title, format_mark(minimum)
        if score is None:
            reason = LocalizedText(
                f"{quoted_ja(title.ja)}はどの評価者も評価していません（最低点 {floor}）。",
                f"No reviewer rated “{title.en}” (minimum {floor}).")
        else:
            shown = shown_score(score)
            reason = LocalizedText(
                f"{quoted_ja(title.ja)}の評点 {shown} が最低点 {floor} に達していません。",
                f"“{title.en}” scored {shown}, below its minimum of {floor}.")
        unmet.append(Unmet(criterion.id, score, minimum, reason))
    overall = rubric.thresholds.overall
    if overall is not None:
        total = overall_score(rubric, scores)
        if total < overall:
            shown, floor = shown_score(total), format_mark(overall)
            unmet.append(Unmet(None, total, overall, LocalizedText(
                f"評点の合計 {shown} が全体の最低点 {floor} に達していません。",
                f"The criteria's scores add up to {shown}, below the overall minimum of {floor}.")))
    return tuple(unmet)


def overall_score(rubric: Rubric, scores: Mapping[str, Fraction | None]) -> Fraction:
    """The sum of the criteria's scores the overall minimum is held to, a criterion nobody
    rated counted as the lowest level of the scale."""
    return sum((rubric.scale.min if (s := scores.get(c.id)) is None else s
                for c in rubric.criteria()), Fraction(0))


def shown_score(value: Fraction) -> str:
    """Two decimals at most, cut rather than rounded: 2.999… must never read as the 3 it
    misses. A cut value ends in "…" (8/3 is 2.66…)."""
    cut = Fraction(int(value * 100), 100)  # toward zero; scores are never negative
    return format_mark(cut) + ("" if cut == value else "…")
