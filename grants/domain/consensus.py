"""The consensus report: its steps, who may take each, and what a complete draft holds.

After the individual reviews, the officer names a rapporteur among the application's counted
reviewers. The rapporteur drafts one consensus score (on the rubric's scale and steps) and one
comment per criterion, and an overall comment, then circulates the draft; every other counted
reviewer agrees or records dissent with a reason; the officer approves the report, or sends it
back to the rapporteur. Where the rubric ranks by consensus (`ranking_score: consensus`), the
approved report's scores are the application's scores.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from enum import StrEnum
from fractions import Fraction
from types import MappingProxyType
from typing import Final

from grants.domain.errors import DomainError
from grants.domain.findings import LocalizedText, quoted_ja
from grants.domain.rubrics import Rubric, mark
from grants.domain.text import has_visible_text


class Step(StrEnum):
    """A report's state (the stored values of `models.ConsensusState`)."""

    DRAFTING = "drafting"
    CIRCULATED = "circulated"
    APPROVED = "approved"


class Act(StrEnum):
    SAVE = "save"  # the rapporteur edits the draft
    CIRCULATE = "circulate"  # the rapporteur sends it to the other reviewers
    RESPOND = "respond"  # another counted reviewer agrees or dissents
    APPROVE = "approve"  # the officer
    SEND_BACK = "send_back"  # the officer returns it to the rapporteur
    RENAME = "rename"  # the officer names another rapporteur


# (step, act) -> the step after it. An approved report only goes back to its rapporteur (the
# counted reviews changed, say): nothing edits it in place. After the decision nothing at all
# changes it (`counting.require_in_review`); a new evaluation starts a new report.
STEPS: Final[Mapping[tuple[Step, Act], Step]] = MappingProxyType({
    (Step.DRAFTING, Act.SAVE): Step.DRAFTING,
    (Step.DRAFTING, Act.CIRCULATE): Step.CIRCULATED,
    (Step.DRAFTING, Act.RENAME): Step.DRAFTING,
    (Step.CIRCULATED, Act.RESPOND): Step.CIRCULATED,
    (Step.CIRCULATED, Act.APPROVE): Step.APPROVED,
    (Step.CIRCULATED, Act.SEND_BACK): Step.DRAFTING,
    (Step.CIRCULATED, Act.RENAME): Step.DRAFTING,
    (Step.APPROVED, Act.SEND_BACK): Step.DRAFTING,
})


class ConsensusRefused(DomainError):
    """The step is not possible now (e.g. approving a draft nobody circulated)."""

    def __init__(self, step: Step, act: Act) -> None:
        super().__init__(f"consensus_{act}_refused")
        self.step = step
        self.act = act


def next_step(step: Step, act: Act) -> Step:
    """Return the report's step after `act`.

    Raises:
        ConsensusRefused: `act` is not possible in `step`.
    """
    following = STEPS.get((step, act))
    if following is None:
        raise ConsensusRefused(step, act)
    return following


class DraftIncomplete(DomainError):
    """The draft cannot be circulated yet: each problem, worded for the rapporteur."""

    def __init__(self, problems: list[LocalizedText]) -> None:
        super().__init__("consensus_incomplete")
        self.problems = problems


def score_problems(rubric: Rubric, scores: Mapping[str, object]) -> list[LocalizedText]:
    """Every consensus score that is not a mark of the rubric's scale (blank is allowed in a
    draft)."""
    return [rubric.scale.takes(c.title) for c in rubric.criteria()
            if scores.get(c.id) is not None and not rubric.scale.accepts(scores[c.id])]


def completeness_problems(rubric: Rubric, scores: Mapping[str, object],
                          comments: Mapping[str, str | None], overall: str | None
                          ) -> list[LocalizedText]:
    """What a draft lacks before it may be circulated: a score on the scale and a visible
    comment for every criterion, and a visible overall comment."""
    problems = score_problems(rubric, scores)
    for criterion in rubric.criteria():
        title = criterion.title
        if scores.get(criterion.id) is None:
            problems.append(LocalizedText(f"{quoted_ja(title.ja)}の合意評点を入力してください。",
                                          f"Give “{title.en}” a consensus score."))
        if not has_visible_text(comments.get(criterion.id)):
            problems.append(LocalizedText(
                f"{quoted_ja(title.ja)}の合意コメントを入力してください。",
                f"Write the consensus comment on “{title.en}”."))
    if not has_visible_text(overall):
        problems.append(LocalizedText("全体のコメントを入力してください。",
                                      "Write the overall comment."))
    return problems


def awaiting(counted_reviewers: Collection[int], rapporteur_id: int,
             responded: Collection[int]) -> list[int]:
    """The counted reviewers, other than the rapporteur, who have not yet agreed or dissented
    (in the order given)."""
    return [r for r in counted_reviewers if r != rapporteur_id and r not in responded]


def is_current(basis: Mapping[str, int], reviews: Mapping[str, int]) -> bool:
    """Whether the report still rests on the counted reviews it was circulated on: the same
    reviews (review id -> its version counter), none withdrawn, reopened or resubmitted since."""
    return dict(basis) == dict(reviews)


@dataclass(frozen=True)
class Consensus:
    """An approved consensus: the score and comment per criterion, and the overall comment."""

    scores: Mapping[str, Fraction]
    comments: Mapping[str, str]
    overall_comment: str

    @classmethod
    def from_stored(cls, scores: Mapping[str, object], comments: Mapping[str, str],
                    overall_comment: str | None) -> Consensus:
        return cls({c: mark(s) for c, s in scores.items() if s is not None}, dict(comments),
                   overall_comment or "")

    def ratings(self) -> dict[str, int | float]:
        """The scores in the form reviews store ratings: whole numbers as int, half-marks as
        float (exact: every step of a scale is a short decimal)."""
        return {c: int(s) if s.denominator == 1 else float(s) for c, s in self.scores.items()}
