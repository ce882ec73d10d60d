"""Award decisions and the e-mail outbox."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from grants.db import Base, intpk
from grants.models.accounts import User


class Outcome(enum.StrEnum):
    AWARD = "award"
    REJECT = "reject"


class Decision(Base):
    __tablename__ = "decisions"
    __table_args__ = (
        sa.CheckConstraint(
            "(outcome = 'award') = (amount_yen IS NOT NULL)", name="amount_iff_award"
        ),
        sa.CheckConstraint("amount_yen IS NULL OR amount_yen > 0", name="amount_positive"),
    )

    id: Mapped[intpk]
    application_id: Mapped[int] = mapped_column(sa.ForeignKey("applications.id"), unique=True)
    outcome: Mapped[Outcome]
    amount_yen: Mapped[int | None] = mapped_column(sa.BigInteger, comment="awarded, integer yen")
    computation: Mapped[dict[str, Any]] = mapped_column(
        comment="how the amount was bounded: request, cap, rounding"
    )
    rationale: Mapped[str] = mapped_column(sa.Text)
    decided_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    decided_at: Mapped[dt.datetime]

    decided_by: Mapped[User] = relationship()


class OutboxMessage(Base):
    """An e-mail to send: kept here in the embedded default, sent by SMTP in production."""

    __tablename__ = "outbox_messages"

    id: Mapped[intpk]
    to_address: Mapped[str] = mapped_column(sa.String(254))
    subject: Mapped[str] = mapped_column(sa.String(255))
    body: Mapped[str] = mapped_column(sa.Text)
    application_id: Mapped[int | None] = mapped_column(sa.ForeignKey("applications.id"))
    created_at: Mapped[dt.datetime]
    sent_at: Mapped[dt.datetime | None]
    attempts: Mapped[int] = mapped_column(default=0, server_default="0",
                                          comment="delivery attempts so far")
    next_attempt_at: Mapped[dt.datetime | None] = mapped_column(
        comment="not tried again before this (after a failure, or while an attempt runs)")
    last_error: Mapped[str | None] = mapped_column(sa.String(500),
                                                  comment="the last failure, as the server said it")
    failed_at: Mapped[dt.datetime | None] = mapped_column(
        comment="given up: refused for good, or too many attempts")
