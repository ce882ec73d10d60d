"""Reviews: drafts, submission with the rubric's checks, reopening, and moderation."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Session

from grants.domain.errors import DomainError
from grants.domain.findings import Finding, LocalizedText
from grants.domain.rubrics import Rubric as RubricDefinition
from grants.domain.scoring import (
    Aggregate,
    Flag,
    Moderated,
    ReviewInput,
    ScoreCard,
    aggregate,
    check_review,
    flag,
    score,
    with_moderation,
)
from grants.models import (
    Application,
    Assignment,
    Moderation,
    ProgramVersion,
    Review,
    ReviewState,
    Rubric,
    RubricVersion,
    User,
)
from grants.services.audit import AuditTag, record
from grants.services.programs import definition_of
from grants.services.rubrics import rubric_of


class ReviewLocked(DomainError):
    """A submitted review changes only after an officer reopens it."""


class ReviewStale(DomainError):
    """The review was saved elsewhere since this form was loaded."""


class ReviewRefused(DomainError):
    def __init__(self, findings: list[Finding]) -> None:
        super().__init__("review_refused")
        self.findings = findings


def rubric_version_for(session: Session, application: Application) -> RubricVersion:
    """The rubric version the application is reviewed under: the one its first review used, so
    that editing a rubric file mid-review never mixes versions; else the current one.
    """
    pinned = session.scalar(
        sa.select(RubricVersion).join(Review, Review.rubric_version_id == RubricVersion.id)
        .join(Review.assignment).where(Assignment.application_id == application.id)
        .order_by(Review.id).limit(1))
    return pinned or current_rubric_version(session, application.program_version)


def current_rubric_version(session: Session, program_version: ProgramVersion) -> RubricVersion:
    """The current version of the rubric a program version names."""
    definition = definition_of(program_version)
    rubric = session.get(Rubric, definition.rubric) if definition.rubric else None
    if rubric is None:
        raise DomainError("program_without_rubric")
    return rubric.current_version


def open_review(session: Session, assignment: Assignment, *, now: dt.datetime) -> Review:
    """Return the assignment's review, starting an empty draft on first use."""
    if assignment.review is not None:
        return assignment.review
    review = Review(assignment=assignment, ratings={}, comments={},
                    rubric_version=rubric_version_for(session, assignment.application),
                    updated_at=now)
    session.add(review)
    session.flush()
    return review


def save(
    session: Session, review: Review, *, ratings: dict[str, int | None], comments: dict[str, str],
    comment_for_applicant: str | None, expected_version: int, now: dt.datetime,
) -> None:
    """Save a draft review (never a submitted one)."""
    if review.state is ReviewState.SUBMITTED:
        raise ReviewLocked("review_submitted")
    if expected_version != review.lock_version:
        raise ReviewStale("review_stale")
    review.ratings = dict(ratings)
    review.comments = {k: v for k, v in comments.items() if v}
    review.comment_for_applicant = (comment_for_applicant or "").strip() or None
    review.updated_at = now
    session.flush()


def submit(session: Session, review: Review, *, actor: User, now: dt.datetime) -> ScoreCard:
    """Lock the review after the rubric's checks; store its total and knockouts."""
    if review.state is ReviewState.SUBMITTED:
        raise ReviewLocked("review_submitted")
    rubric = rubric_of(review.rubric_version)
    findings = check_review(rubric, ReviewInput(review.ratings, review.comments))
    if findings:
        raise ReviewRefused(findings)
    card = score(rubric, review.ratings)
    review.total, review.knockout = card.total, bool(card.knockouts)
    review.state, review.submitted_at, review.reopen_note = ReviewState.SUBMITTED, now, None
    review.updated_at = now
    session.flush()
    record(session, AuditTag.REVIEW_SUBMIT, subject_type="application",
           subject_id=review.assignment.application_id, actor=actor, now=now,
           data={"review_id": review.id, "total": str(card.total),
                 "knockouts": list(card.knockouts)})
    return card


def reopen(session: Session, review: Review, note: str, *, actor: User, now: dt.datetime) -> None:
    """An officer asks the reviewer to look again; the review becomes an editable draft."""
    review.state, review.submitted_at = ReviewState.DRAFT, None
    review.reopen_note = note.strip() or None
    review.updated_at = now
    session.flush()
    record(session, AuditTag.REVIEW_REOPEN, subject_type="application",
           subject_id=review.assignment.application_id, actor=actor, now=now,
           data={"review_id": review.id, "note": review.reopen_note})


def moderate(
    session: Session, application: Application, criterion_id: str, value: int, rationale: str,
    *, actor: User, now: dt.datetime,
) -> Moderation:
    """Record the officer's score for one criterion; the reviewers' scores stay as they were."""
    rubric = rubric_of(rubric_version_for(session, application))
    rubric.criterion(criterion_id)  # raises KeyError for an unknown criterion
    if not rubric.scale.min <= value <= rubric.scale.max or not rationale.strip():
        raise DomainError("moderation_invalid")
    row = session.scalar(sa.select(Moderation).filter_by(
        application_id=application.id, criterion_id=criterion_id))
    if row is None:
        row = Moderation(application_id=application.id, criterion_id=criterion_id, score=value,
                         rationale=rationale.strip(), moderated_by_id=actor.id, moderated_at=now)
        session.add(row)
    else:
        row.score, row.rationale = value, rationale.strip()
        row.moderated_by_id, row.moderated_at = actor.id, now
    session.flush()
    record(session, AuditTag.SCORE_MODERATE, subject_type="application",
           subject_id=application.id, actor=actor, now=now,
           data={"criterion": criterion_id, "score": value, "rationale": row.rationale})
    return row


@dataclass(frozen=True)
class Scores:
    """What an officer sees for one application: each review, the aggregate, the moderation."""

    rubric: RubricDefinition
    reviews: list[tuple[Review, ScoreCard]]
    aggregate: Aggregate
    moderations: dict[str, Moderation]
    moderated: Moderated | None  # the reviews rescored with the moderated criteria in place

    @property
    def total(self) -> Decimal | None:
        """The score that ranks and decides: the moderated total where moderated."""
        return self.aggregate.mean if self.moderated is None else self.moderated.total

    @property
    def knockouts(self) -> tuple[str, ...]:
        """The knockout criteria that make the application unfundable, moderated where moderated."""
        if self.moderated is not None:
            return self.moderated.knockouts
        return tuple(c.id for c in self.rubric.criteria()
                     if any(c.id in card.knockouts for _, card in self.reviews))

    @property
    def knockout_titles(self) -> tuple[LocalizedText, ...]:
        return tuple(self.rubric.criterion(c).title for c in self.knockouts)

    @property
    def flag(self) -> Flag | None:
        return flag(self.aggregate, self.moderated)


def scores(rubric: RubricDefinition, reviews: list[Review], moderations: list[Moderation]
           ) -> Scores:
    """Score an application's submitted reviews (pass them in: callers load them in bulk)."""
    submitted = [r for r in reviews if r.state is ReviewState.SUBMITTED]
    cards = [(r, _card(rubric, r)) for r in submitted]
    by_criterion = {m.criterion_id: m for m in moderations}
    moderated = None
    if by_criterion and submitted:
        moderated = with_moderation(rubric, [r.ratings for r in submitted],
                                    {c: m.score for c, m in by_criterion.items()})
    return Scores(rubric, cards, aggregate(rubric, [c for _, c in cards]), by_criterion, moderated)


def application_scores(session: Session, application: Application) -> Scores:
    """One application's scores, loaded for its page and its decision."""
    reviews = session.scalars(sa.select(Review).join(Review.assignment)
                              .where(Assignment.application_id == application.id)
                              .order_by(Assignment.id)).all()
    moderations = session.scalars(sa.select(Moderation).filter_by(
        application_id=application.id)).all()
    rubric = rubric_of(rubric_version_for(session, application))
    return scores(rubric, list(reviews), list(moderations))


def _card(rubric: RubricDefinition, review: Review) -> ScoreCard:
    """A submitted review's card from the total stored at submission (the rubric version is
    pinned, so it cannot differ); only a knockout is rescored, to name the criteria it hit."""
    if review.total is None or review.knockout:
        return score(rubric, review.ratings)
    rated = tuple(c.id for c in rubric.criteria() if review.ratings.get(c.id) is not None)
    unrated = tuple(c.id for c in rubric.criteria() if c.id not in rated)
    return ScoreCard(review.total, (), rated, unrated)
