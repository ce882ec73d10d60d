"""Consensus reports and the applicant's requests for an evaluation review."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from grants.db import Base, intpk
from grants.models.accounts import User
from grants.models.applications import Application


class ConsensusState(enum.StrEnum):
    DRAFTING = "drafting"  # the rapporteur writes it (again, when the officer sent it back)
    CIRCULATED = "circulated"  # the other counted reviewers agree or record dissent
    APPROVED = "approved"  # the officer approved it: it is the application's consensus


class ConsensusReport(Base):
    """The consensus of an application's counted reviewers, written by the rapporteur the
    officer named. An upheld evaluation review supersedes it (kept, never edited again)."""

    __tablename__ = "consensus_reports"
    __table_args__ = (
        sa.CheckConstraint("(state = 'approved') = (approved_at IS NOT NULL)",
                           name="approved_at_iff_approved"),
        sa.CheckConstraint("(state = 'drafting') = (circulated_at IS NULL)",
                           name="circulated_at_unless_drafting"),
        sa.Index("ix_consensus_reports_current", "application_id", unique=True,
                 sqlite_where=sa.text("superseded_at IS NULL"),
                 postgresql_where=sa.text("superseded_at IS NULL")),
    )

    id: Mapped[intpk]
    application_id: Mapped[int] = mapped_column(sa.ForeignKey("applications.id"))
    rapporteur_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    state: Mapped[ConsensusState] = mapped_column(default=ConsensusState.DRAFTING)
    scores: Mapped[dict[str, Any]] = mapped_column(comment="criterion id -> consensus score")
    comments: Mapped[dict[str, Any]] = mapped_column(comment="criterion id -> consensus comment")
    overall_comment: Mapped[str | None] = mapped_column(sa.Text)
    basis: Mapped[dict[str, Any]] = mapped_column(
        comment="review id -> lock version of each counted review it was circulated on")
    returned_note: Mapped[str | None] = mapped_column(
        sa.String(2000), comment="the officer's reason for sending it back")
    named_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    named_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]
    circulated_at: Mapped[dt.datetime | None]
    approved_at: Mapped[dt.datetime | None]
    approved_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    superseded_at: Mapped[dt.datetime | None] = mapped_column(
        comment="set aside with the evaluation by an upheld evaluation review")

    application: Mapped[Application] = relationship()
    rapporteur: Mapped[User] = relationship(foreign_keys=[rapporteur_id])
    responses: Mapped[list[ConsensusResponse]] = relationship(
        back_populates="report", order_by="ConsensusResponse.id", cascade="all, delete-orphan")


class ConsensusResponse(Base):
    """Another counted reviewer's answer to the circulated report: agreement, or dissent with
    a reason."""

    __tablename__ = "consensus_responses"
    __table_args__ = (
        sa.UniqueConstraint("report_id", "reviewer_id"),
        sa.CheckConstraint("agrees OR reason IS NOT NULL", name="reason_for_dissent"),
    )

    id: Mapped[intpk]
    report_id: Mapped[int] = mapped_column(sa.ForeignKey("consensus_reports.id"))
    reviewer_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    agrees: Mapped[bool]
    reason: Mapped[str | None] = mapped_column(sa.String(4000), comment="why the reviewer dissents")
    responded_at: Mapped[dt.datetime]

    report: Mapped[ConsensusReport] = relationship(back_populates="responses")
    reviewer: Mapped[User] = relationship()


class RedressGround(enum.StrEnum):
    """The procedural point an evaluation review asks about (never the experts' judgement)."""

    CONFLICT_OF_INTEREST = "conflict_of_interest"
    CRITERION_NOT_APPLIED = "criterion_not_applied"
    FACTUAL_ERROR = "factual_error"
    OTHER = "other"


class RedressState(enum.StrEnum):
    OPEN = "open"
    UPHELD = "upheld"  # the evaluation is set aside and done again by new reviewers
    DISMISSED = "dismissed"


class RedressRequest(Base):
    """An applicant's request for a review of how the evaluation was conducted
    (評価の再審査の申出), and the program office's finding."""

    __tablename__ = "redress_requests"
    __table_args__ = (
        sa.CheckConstraint("(state = 'open') = (found_at IS NULL)", name="found_at_iff_closed"),
        sa.CheckConstraint("state = 'open' OR finding IS NOT NULL", name="finding_when_closed"),
        sa.Index("ix_redress_requests_open", "application_id", unique=True,
                 sqlite_where=sa.text("state = 'open'"),
                 postgresql_where=sa.text("state = 'open'")),
    )

    id: Mapped[intpk]
    application_id: Mapped[int] = mapped_column(sa.ForeignKey("applications.id"))
    ground: Mapped[RedressGround]
    description: Mapped[str] = mapped_column(sa.Text)
    requested_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    requested_at: Mapped[dt.datetime]
    state: Mapped[RedressState] = mapped_column(default=RedressState.OPEN)
    finding: Mapped[str | None] = mapped_column(sa.Text, comment="the officer's reasons")
    found_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    found_at: Mapped[dt.datetime | None]
    set_aside_decision: Mapped[dict[str, Any] | None] = mapped_column(
        sa.JSON(none_as_null=True), comment="the decision an upheld request set aside, as it was")

    application: Mapped[Application] = relationship()
    requested_by: Mapped[User] = relationship(foreign_keys=[requested_by_id])
