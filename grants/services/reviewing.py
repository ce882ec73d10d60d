"""Reviews: drafts, submission with the rubric's checks, reopening, and moderation.

Each changes a score, so each is refused once the application is decided (`ScoresFrozen`) or
before it is accepted for review (`NotInReview`). Every submission is kept as a version.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session, contains_eager, selectinload

from grants.domain.counting import require_in_review
from grants.domain.errors import DomainError
from grants.domain.findings import Finding
from grants.domain.scoring import (
    ReviewInput,
    ScoreCard,
    VersionChanges,
    check_review,
    score,
    version_changes,
)
from grants.domain.text import visible_or_none
from grants.models import (
    Application,
    Assignment,
    AssignmentState,
    Moderation,
    ProgramVersion,
    Review,
    ReviewState,
    ReviewVersion,
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


class ReviewNotCounting(DomainError):
    """The review's assignment ended (declined, or a conflict found): it cannot be reopened."""


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
    """Save a draft review (never a submitted one). A comment with nothing visible in it is
    not kept: it would read as empty everywhere it is shown."""
    require_in_review(review.assignment.application.state)
    if review.state is ReviewState.SUBMITTED:
        raise ReviewLocked("review_submitted")
    if expected_version != review.lock_version:
        raise ReviewStale("review_stale")
    review.ratings = dict(ratings)
    review.comments = {k: text for k, v in comments.items() if (text := visible_or_none(v))}
    review.comment_for_applicant = visible_or_none(comment_for_applicant)
    review.updated_at = now
    session.flush()


def submit(session: Session, review: Review, *, actor: User, now: dt.datetime) -> ScoreCard:
    """Lock the review after the rubric's checks; store its total and knockouts, and keep what
    was submitted as the review's next version."""
    require_in_review(review.assignment.application.state)
    if review.state is ReviewState.SUBMITTED:
        raise ReviewLocked("review_submitted")
    rubric = rubric_of(review.rubric_version)
    findings = check_review(rubric, ReviewInput(review.ratings, review.comments))
    if findings:
        raise ReviewRefused(findings)
    card = score(rubric, review.ratings)
    number = len(review.versions) + 1
    review.versions.append(ReviewVersion(
        number=number, ratings=dict(review.ratings), comments=dict(review.comments),
        comment_for_applicant=review.comment_for_applicant, total=card.total,
        knockout=bool(card.knockouts), reopen_note=review.reopen_note, submitted_at=now))
    review.total, review.knockout = card.total, bool(card.knockouts)
    review.state, review.submitted_at, review.reopen_note = ReviewState.SUBMITTED, now, None
    review.updated_at = now
    session.flush()
    record(session, AuditTag.REVIEW_SUBMIT, subject_type="application",
           subject_id=review.assignment.application_id, actor=actor, now=now,
           data={"review_id": review.id, "version": number, "total": str(card.total),
                 "knockouts": list(card.knockouts)})
    return card


def reopen(session: Session, review: Review, note: str, *, actor: User, now: dt.datetime) -> None:
    """An officer asks the reviewer to look again; the review becomes an editable draft, and
    its submitted versions stay as they were (the next submission adds one)."""
    require_in_review(review.assignment.application.state)
    if review.assignment.state is not AssignmentState.ACTIVE:
        raise ReviewNotCounting("assignment_not_active")
    if review.state is not ReviewState.SUBMITTED:
        raise DomainError("review_not_submitted")
    review.state, review.submitted_at = ReviewState.DRAFT, None
    review.reopen_note = visible_or_none(note)
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
    require_in_review(application.state)
    rubric = rubric_of(rubric_version_for(session, application))
    rubric.criterion(criterion_id)  # raises KeyError for an unknown criterion
    rationale = visible_or_none(rationale) or ""
    if not rubric.scale.min <= value <= rubric.scale.max or not rationale:
        raise DomainError("moderation_invalid")
    row = session.scalar(sa.select(Moderation).filter_by(
        application_id=application.id, criterion_id=criterion_id))
    if row is None:
        row = Moderation(application_id=application.id, criterion_id=criterion_id, score=value,
                         rationale=rationale, moderated_by_id=actor.id, moderated_at=now)
        session.add(row)
    else:
        row.score, row.rationale = value, rationale
        row.moderated_by_id, row.moderated_at = actor.id, now
    session.flush()
    record(session, AuditTag.SCORE_MODERATE, subject_type="application",
           subject_id=application.id, actor=actor, now=now,
           data={"criterion": criterion_id, "score": value, "rationale": row.rationale})
    return row


@dataclass(frozen=True)
class History:
    """A review's submitted versions, oldest first, each with what it changed."""

    review: Review
    versions: list[tuple[ReviewVersion, VersionChanges]]


def history(session: Session, application: Application) -> list[History]:
    """Every submitted version of the application's reviews, by assignment: two queries."""
    reviews = session.scalars(
        sa.select(Review).join(Review.assignment)
        .where(Assignment.application_id == application.id)
        .options(contains_eager(Review.assignment).selectinload(Assignment.reviewer),
                 selectinload(Review.versions))
        .order_by(Assignment.id)).all()
    return [History(review, [(v, version_changes(before, v)) for before, v
                             in zip([None, *review.versions], review.versions, strict=False)])
            for review in reviews if review.versions]
