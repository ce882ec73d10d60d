"""The reviews that count, loaded and sorted once for every aggregate.

Scores, ranking, exports, calibration, the comments shared with the applicant, the packet and
the audit record all take their reviews from here, sorted by `domain.counting.counts`: nothing
else filters reviews. A submitted review that stopped counting (its reviewer declined, or a
conflict of interest was found) is kept and shown as withdrawn, with the reason.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from functools import cached_property

import sqlalchemy as sa
from sqlalchemy.orm import Session, contains_eager, defer

from grants.domain.assignment import ApplicationParties
from grants.domain.consensus import Consensus, is_current
from grants.domain.counting import counts
from grants.domain.findings import LocalizedText
from grants.domain.rubrics import RankingScore
from grants.domain.rubrics import Rubric as RubricDefinition
from grants.domain.scoring import (
    Aggregate,
    Flag,
    Moderated,
    ScoreCard,
    aggregate,
    flag,
    score,
    with_moderation,
)
from grants.domain.thresholds import Unmet, criterion_scores, unmet_thresholds
from grants.domain.workflow import State
from grants.models import (
    Application,
    Assignment,
    AssignmentState,
    ConsensusReport,
    ConsensusState,
    Moderation,
    Review,
    ReviewState,
    User,
)
from grants.services import assign
from grants.services.reviewing import rubric_version_for
from grants.services.rubrics import rubric_of


@dataclass(frozen=True)
class Withdrawn:
    """A submitted review that no longer counts, and why."""

    review: Review
    reasons: list[LocalizedText]


@dataclass(frozen=True)
class Counted:
    """One application's submitted reviews sorted: those that count (in assignment order), and
    those withdrawn from every aggregate."""

    reviews: list[Review] = field(default_factory=list)
    withdrawn: list[Withdrawn] = field(default_factory=list)


def load_reviews(session: Session, where: sa.ColumnElement[bool], *, comments: bool = True
                 ) -> dict[int, list[Review]]:
    """Every review of the assignments `where` selects, by application, in assignment order,
    with assignment, reviewer and the reviewer's organization: one query and two batches."""
    query = (sa.select(Review).join(Review.assignment).where(where)
             .options(contains_eager(Review.assignment).selectinload(Assignment.reviewer)
                      .selectinload(User.organization))
             .order_by(Assignment.application_id, Assignment.id))
    if not comments:
        query = query.options(defer(Review.comments))
    found: dict[int, list[Review]] = {}
    for review in session.scalars(query):
        found.setdefault(review.assignment.application_id, []).append(review)
    return found


def sort_reviews(session: Session, applications: Sequence[Application],
                 reviews: Mapping[int, list[Review]],
                 parties: Mapping[int, ApplicationParties]) -> dict[int, Counted]:
    """Sort each application's reviews by `domain.counting.counts`. Conflicts are looked for
    only where they still matter, in applications in review: `parties` must cover those."""
    in_review = [r.assignment for a in applications if a.state is State.IN_REVIEW
                 for r in reviews.get(a.id, ())]
    conflicts = assign.conflicted_assignments(session, in_review, parties)
    return {a.id: _sort(a, reviews.get(a.id, []), conflicts) for a in applications}


def _sort(application: Application, reviews: list[Review],
          conflicts: Mapping[int, list[LocalizedText]]) -> Counted:
    counted = Counted()
    for review in reviews:
        assignment = review.assignment
        reasons = conflicts.get(assignment.id)
        active = assignment.state is AssignmentState.ACTIVE
        submitted = review.state is ReviewState.SUBMITTED
        if counts(application.state, submitted=submitted, assignment_active=active,
                  conflicted=bool(reasons)):
            counted.reviews.append(review)
        elif submitted and (reasons or not active):
            why = reasons or assign.withdrawal_reasons(assignment)
            counted.withdrawn.append(Withdrawn(review, why))
    return counted


def counted_reviews(session: Session, application: Application, *,
                    reviewer_id: int | None = None) -> Counted:
    """One application's reviews sorted (only `reviewer_id`'s, when given)."""
    where = Assignment.application_id == application.id
    if reviewer_id is not None:
        where &= Assignment.reviewer_id == reviewer_id
    reviews = load_reviews(session, where)
    parties = {application.id: assign.parties(application)} if reviews else {}
    return sort_reviews(session, [application], reviews, parties)[application.id]


def review_basis(reviews: Sequence[Review]) -> dict[str, int]:
    """What a consensus rests on: each counted review and its version counter, which every
    save, reopening and submission moves on."""
    return {str(r.id): r.lock_version for r in reviews}


def approved_consensuses(session: Session, counted: Mapping[int, Counted]
                         ) -> dict[int, Consensus]:
    """The approved consensus of each application in `counted`, in one query: only while it
    still rests on the reviews that count (none withdrawn, reopened or resubmitted since)."""
    if not counted:
        return {}
    reports = session.scalars(sa.select(ConsensusReport).where(
        ConsensusReport.application_id.in_(list(counted)),
        ConsensusReport.superseded_at.is_(None),
        ConsensusReport.state == ConsensusState.APPROVED))
    return {r.application_id: Consensus.from_stored(r.scores, r.comments, r.overall_comment)
            for r in reports
            if is_current(r.basis, review_basis(counted[r.application_id].reviews))}


@dataclass(frozen=True)
class Scores:
    """What an officer sees for one application: each counted review, the aggregate, the
    moderation, the approved consensus, and the reviews withdrawn from all of it.

    The rubric's `ranking_score` says which of them ranks and decides (`total`, `knockouts`,
    `unmet`): the reviews' mean, the moderated mean (the default), or the approved consensus
    (none approved: unscored).
    """

    rubric: RubricDefinition
    reviews: list[tuple[Review, ScoreCard]]
    aggregate: Aggregate
    moderations: dict[str, Moderation]
    moderated: Moderated | None  # the reviews rescored with the moderated criteria in place
    withdrawn: list[Withdrawn]
    consensus: Consensus | None = None  # approved, and resting on the counted reviews

    @property
    def mode(self) -> RankingScore:
        return self.rubric.ranking_score

    @cached_property
    def consensus_card(self) -> ScoreCard | None:
        """The approved consensus scored like a review (its total on the same 0-100 scale)."""
        return None if self.consensus is None else score(self.rubric, self.consensus.ratings())

    @property
    def total(self) -> Decimal | None:
        """The score that ranks and decides."""
        if self.mode is RankingScore.CONSENSUS:
            return None if self.consensus_card is None else self.consensus_card.total
        if self.mode is RankingScore.MEAN or self.moderated is None:
            return self.aggregate.mean
        return self.moderated.total

    @property
    def knockouts(self) -> tuple[str, ...]:
        """The knockout criteria that make the application unfundable, judged on the score
        that ranks."""
        if self.mode is RankingScore.CONSENSUS:
            return () if self.consensus_card is None else self.consensus_card.knockouts
        if self.mode is RankingScore.MODERATED and self.moderated is not None:
            return self.moderated.knockouts
        return tuple(c.id for c in self.rubric.criteria()
                     if any(c.id in card.knockouts for _, card in self.reviews))

    @property
    def knockout_titles(self) -> tuple[LocalizedText, ...]:
        return tuple(self.rubric.criterion(c).title for c in self.knockouts)

    @cached_property
    def criterion_scores(self) -> dict[str, Fraction | None]:
        """The exact score per criterion of the score that ranks: the approved consensus's,
        the reviews' mean, or the moderated mean; None where nothing scores the criterion."""
        if self.mode is RankingScore.CONSENSUS:
            agreed = self.consensus.scores if self.consensus is not None else {}
            return {c.id: agreed.get(c.id) for c in self.rubric.criteria()}
        moderations = {} if self.mode is RankingScore.MEAN else \
            {criterion: row.score for criterion, row in self.moderations.items()}
        return criterion_scores(
            self.rubric, [review.ratings for review, _ in self.reviews], moderations)

    @cached_property
    def unmet(self) -> tuple[Unmet, ...]:
        """The rubric's minimum scores the score that ranks does not reach, per criterion and
        overall; none while the application is unscored (no criterion has a score)."""
        return unmet_thresholds(self.rubric, self.criterion_scores)

    @property
    def flag(self) -> Flag | None:
        return flag(self.aggregate, self.moderated)


def scores(rubric: RubricDefinition, counted: Counted, moderations: list[Moderation],
           consensus: Consensus | None = None) -> Scores:
    """Score an application's counted reviews (callers load them in bulk)."""
    cards = [(r, _card(rubric, r)) for r in counted.reviews]
    by_criterion = {m.criterion_id: m for m in moderations}
    moderated = None
    if by_criterion and counted.reviews:
        moderated = with_moderation(rubric, [r.ratings for r in counted.reviews],
                                    {c: m.score for c, m in by_criterion.items()})
    return Scores(rubric, cards, aggregate(rubric, [c for _, c in cards]), by_criterion,
                  moderated, counted.withdrawn, consensus)


def application_scores(session: Session, application: Application, *,
                       reviewer_id: int | None = None) -> Scores:
    """One application's scores, for its page, its decision and its documents; with
    `reviewer_id`, that reviewer's review alone and no moderation (a reviewer's packet)."""
    moderations = [] if reviewer_id is not None else list(session.scalars(
        sa.select(Moderation).filter_by(application_id=application.id)))
    rubric = rubric_of(rubric_version_for(session, application))
    counted = counted_reviews(session, application, reviewer_id=reviewer_id)
    consensus = None if reviewer_id is not None else \
        approved_consensuses(session, {application.id: counted}).get(application.id)
    return scores(rubric, counted, moderations, consensus)


def _card(rubric: RubricDefinition, review: Review) -> ScoreCard:
    """A submitted review's card from the total stored at submission (the rubric version is
    pinned, so it cannot differ); only a knockout is rescored, to name the criteria it hit."""
    if review.total is None or review.knockout:
        return score(rubric, review.ratings)
    rated = tuple(c.id for c in rubric.criteria() if review.ratings.get(c.id) is not None)
    unrated = tuple(c.id for c in rubric.criteria() if c.id not in rated)
    return ScoreCard(review.total, (), rated, unrated)
