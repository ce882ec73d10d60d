"""What the evaluation summary says about each criterion and about the minimum overall.

The applicant is told, per criterion, the score that ranked the application (the moderated
mean, the reviews' mean or the approved consensus, as the rubric says), the minimum it had to
reach and whether it did, and whether it hit a knockout; then the same for the overall
minimum. Scores are shown as `thresholds.shown_score` shows them, cut and never rounded up,
so a 2.99… that missed a minimum of 3 never reads as 3.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from fractions import Fraction

from grants.domain.findings import LocalizedText
from grants.domain.rubrics import Rubric, format_mark
from grants.domain.thresholds import Unmet, overall_score, shown_score


@dataclass(frozen=True)
class CriterionLine:
    title: LocalizedText
    weight: int
    score: str | None  # shown; None: nothing scored the criterion
    minimum: str | None  # None: the criterion has no minimum
    met: bool | None  # None: no minimum, or the application was never scored
    knockout: bool  # a knockout criterion hit
    comment: str | None  # the approved consensus's comment on it


@dataclass(frozen=True)
class OverallLine:
    score: str | None  # the sum of the criteria's scores; None: never scored
    minimum: str | None
    met: bool | None


def criterion_lines(rubric: Rubric, scores: Mapping[str, Fraction | None],
                    unmet: Collection[Unmet], knockouts: Collection[str],
                    comments: Mapping[str, str]) -> tuple[CriterionLine, ...]:
    """One line per criterion, in rubric order.

    Args:
        scores: the exact score per criterion that ranked the application.
        unmet: the minimums it did not reach (`thresholds.unmet_thresholds` of `scores`).
        knockouts: the ids of the knockout criteria it hit.
        comments: the approved consensus's comment per criterion (empty without one).
    """
    scored = any(s is not None for s in scores.values())
    missed = {u.criterion_id for u in unmet}
    lines = []
    for criterion in rubric.criteria():
        score, minimum = scores.get(criterion.id), rubric.minimum(criterion)
        lines.append(CriterionLine(
            criterion.title, criterion.weight,
            None if score is None else shown_score(score),
            None if minimum is None else format_mark(minimum),
            None if minimum is None or not scored else criterion.id not in missed,
            criterion.id in knockouts, comments.get(criterion.id) or None))
    return tuple(lines)


def overall_line(rubric: Rubric, scores: Mapping[str, Fraction | None],
                 unmet: Collection[Unmet]) -> OverallLine:
    """The sum of the criteria's scores against the rubric's overall minimum, if it has one."""
    minimum = rubric.thresholds.overall
    if all(s is None for s in scores.values()):
        return OverallLine(None, None if minimum is None else format_mark(minimum), None)
    total = shown_score(overall_score(rubric, scores))
    if minimum is None:
        return OverallLine(total, None, None)
    return OverallLine(total, format_mark(minimum),
                       not any(u.criterion_id is None for u in unmet))
