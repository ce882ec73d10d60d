"""Screening, reviewers, assignments, reviews and moderation."""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from grants.db import Base, created_at, intpk
from grants.models.accounts import User
from grants.models.applications import Application


class RubricVersion(Base):
    """One loaded text of a rubric file; reviews point at the version they were scored under."""

    __tablename__ = "rubric_versions"
    __table_args__ = (sa.UniqueConstraint("rubric_key", "sha256"),)

    id: Mapped[intpk]
    rubric_key: Mapped[str] = mapped_column(sa.String(64), comment="the rubric's id in its YAML")
    sha256: Mapped[str] = mapped_column(sa.String(64), comment="SHA-256 of the file's UTF-8 text")
    source_text: Mapped[str] = mapped_column(sa.Text, comment="the YAML exactly as loaded")
    source_name: Mapped[str] = mapped_column(sa.String(255))
    loaded_at: Mapped[dt.datetime]


class Rubric(Base):
    __tablename__ = "rubrics"

    key: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    current_version_id: Mapped[int] = mapped_column(sa.ForeignKey("rubric_versions.id"))

    current_version: Mapped[RubricVersion] = relationship()


class CallReviewer(Base):
    """A reviewer taking part in one call (officers add them)."""

    __tablename__ = "call_reviewers"

    program_key: Mapped[str] = mapped_column(sa.ForeignKey("programs.key"), primary_key=True)
    reviewer_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), primary_key=True)
    added_at: Mapped[created_at]

    reviewer: Mapped[User] = relationship()


class ConflictDeclaration(Base):
    """What a reviewer declared: an organization, a local government, or free text."""

    __tablename__ = "conflict_declarations"
    __table_args__ = (
        sa.CheckConstraint(
            "organization_id IS NOT NULL OR lg_code IS NOT NULL OR note IS NOT NULL",
            name="declares_something",
        ),
    )

    id: Mapped[intpk]
    reviewer_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    organization_id: Mapped[int | None] = mapped_column(sa.ForeignKey("organizations.id"))
    lg_code: Mapped[str | None] = mapped_column(sa.String(6), comment="全国地方公共団体コード")
    note: Mapped[str | None] = mapped_column(sa.String(500), comment="free-text interest")
    declared_at: Mapped[created_at]


class AssignmentState(enum.StrEnum):
    ACTIVE = "active"
    DECLINED = "declined"  # by the reviewer, before submitting
    WITHDRAWN = "withdrawn"  # ended for a conflict of interest found after assignment


class Assignment(Base):
    __tablename__ = "assignments"
    __table_args__ = (
        sa.UniqueConstraint("application_id", "reviewer_id"),
        sa.CheckConstraint(
            "(state = 'declined') = (decline_reason IS NOT NULL)", name="reason_iff_declined"
        ),
        sa.CheckConstraint(
            "(state = 'withdrawn') = "
            "(withdrawal_reasons IS NOT NULL AND withdrawn_at IS NOT NULL)",
            name="reasons_iff_withdrawn",
        ),
    )

    id: Mapped[intpk]
    application_id: Mapped[int] = mapped_column(sa.ForeignKey("applications.id"), index=True)
    reviewer_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    state: Mapped[AssignmentState] = mapped_column(default=AssignmentState.ACTIVE)
    decline_reason: Mapped[str | None] = mapped_column(sa.String(1000))
    assigned_at: Mapped[dt.datetime]
    assigned_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    withdrawn_at: Mapped[dt.datetime | None] = mapped_column(
        comment="when a conflict of interest ended the assignment")
    withdrawal_reasons: Mapped[list[Any] | None] = mapped_column(
        sa.JSON(none_as_null=True), comment="the conflicts found: a {ja, en} text each")

    application: Mapped[Application] = relationship()
    reviewer: Mapped[User] = relationship(foreign_keys=[reviewer_id])
    review: Mapped[Review | None] = relationship(back_populates="assignment", uselist=False)


class ReviewState(enum.StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"


class Review(Base):
    __tablename__ = "reviews"
    __table_args__ = (
        sa.CheckConstraint(
            "(state = 'submitted') = (submitted_at IS NOT NULL)", name="submitted_at_iff_submitted"
        ),
    )

    id: Mapped[intpk]
    assignment_id: Mapped[int] = mapped_column(sa.ForeignKey("assignments.id"), unique=True)
    rubric_version_id: Mapped[int] = mapped_column(sa.ForeignKey("rubric_versions.id"))
    state: Mapped[ReviewState] = mapped_column(default=ReviewState.DRAFT)
    ratings: Mapped[dict[str, Any]] = mapped_column(comment="criterion id -> score or null")
    comments: Mapped[dict[str, Any]] = mapped_column(comment="criterion id -> reviewer's comment")
    comment_for_applicant: Mapped[str | None] = mapped_column(
        sa.Text, comment="marked shareable: shown to the applicant with the decision"
    )
    total: Mapped[Decimal | None] = mapped_column(sa.Numeric(5, 2), comment="0-100, weighted")
    knockout: Mapped[bool] = mapped_column(default=False)
    reopen_note: Mapped[str | None] = mapped_column(sa.String(1000), comment="officer's request")
    lock_version: Mapped[int] = mapped_column(comment="optimistic lock for draft saves")
    updated_at: Mapped[dt.datetime]
    submitted_at: Mapped[dt.datetime | None]

    assignment: Mapped[Assignment] = relationship(back_populates="review")
    rubric_version: Mapped[RubricVersion] = relationship()
    versions: Mapped[list[ReviewVersion]] = relationship(
        back_populates="review", order_by="ReviewVersion.number")

    __mapper_args__ = {"version_id_col": lock_version}


class ReviewVersion(Base):
    """One submitted text of a review, kept as submitted: reopening and resubmitting adds the
    next version and never overwrites an earlier one."""

    __tablename__ = "review_versions"
    __table_args__ = (
        sa.UniqueConstraint("review_id", "number"),
        sa.CheckConstraint("number >= 1", name="number_positive"),
    )

    id: Mapped[intpk]
    review_id: Mapped[int] = mapped_column(sa.ForeignKey("reviews.id"))
    number: Mapped[int] = mapped_column(comment="1 for the first submission, then one more each")
    ratings: Mapped[dict[str, Any]] = mapped_column(comment="criterion id -> score or null")
    comments: Mapped[dict[str, Any]] = mapped_column(comment="criterion id -> reviewer's comment")
    comment_for_applicant: Mapped[str | None] = mapped_column(sa.Text)
    total: Mapped[Decimal | None] = mapped_column(sa.Numeric(5, 2), comment="0-100, weighted")
    knockout: Mapped[bool]
    reopen_note: Mapped[str | None] = mapped_column(
        sa.String(1000), comment="the officer's request this version answers")
    submitted_at: Mapped[dt.datetime]

    review: Mapped[Review] = relationship(back_populates="versions")


class Moderation(Base):
    """An officer's moderated score for one criterion; the reviewers' originals stay."""

    __tablename__ = "moderations"
    __table_args__ = (sa.UniqueConstraint("application_id", "criterion_id"),)

    id: Mapped[intpk]
    application_id: Mapped[int] = mapped_column(sa.ForeignKey("applications.id"), index=True)
    criterion_id: Mapped[str] = mapped_column(sa.String(64))
    score: Mapped[int]
    rationale: Mapped[str] = mapped_column(sa.Text)
    moderated_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    moderated_at: Mapped[dt.datetime]

    moderated_by: Mapped[User] = relationship()
