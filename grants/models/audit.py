"""Append-only, hash-chained audit events (see grants.domain.records for the hash format)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from grants.db import Base, intpk


class AuditEvent(Base):
    __tablename__ = "audit_events"

    id: Mapped[intpk]
    at: Mapped[dt.datetime]
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    tag: Mapped[str] = mapped_column(sa.String(64), comment="source:subject:action")
    subject_type: Mapped[str] = mapped_column(sa.String(32))
    subject_id: Mapped[int]
    data: Mapped[dict[str, Any]] = mapped_column(comment="event details, JSON")
    # unique: two events can never claim the same predecessor, so the chain cannot fork
    prev_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
