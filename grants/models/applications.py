"""Applications, their frozen submissions and attachments."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from grants.db import Base, created_at, intpk, utcnow
from grants.domain.workflow import State
from grants.models.accounts import Organization, User
from grants.models.programs import ProgramVersion

EVIDENCE_PREFIX = "report_evidence:"  # + the report's number: grants.services.completion_reports


class Application(Base):
    __tablename__ = "applications"
    __table_args__ = (
        sa.CheckConstraint(
            "(state = 'draft') = (submitted_at IS NULL)", name="submitted_at_iff_not_draft"
        ),
    )

    id: Mapped[intpk]
    reference: Mapped[str] = mapped_column(sa.String(20), unique=True, comment="shown to people")
    program_version_id: Mapped[int] = mapped_column(sa.ForeignKey("program_versions.id"))
    organization_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id"), index=True)
    created_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    state: Mapped[State] = mapped_column(default=State.DRAFT, comment="see grants.domain.workflow")
    answers: Mapped[dict[str, Any]] = mapped_column(default=dict, comment="draft answers by field")
    lock_version: Mapped[int] = mapped_column(comment="optimistic lock: a stale save is refused")
    created_at: Mapped[created_at]
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    submitted_at: Mapped[dt.datetime | None] = mapped_column(comment="latest submission, UTC")
    return_reason: Mapped[str | None] = mapped_column(
        sa.Text, comment="why an officer returned it for changes (latest)"
    )

    program_version: Mapped[ProgramVersion] = relationship()
    organization: Mapped[Organization] = relationship()
    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id])
    updated_by: Mapped[User | None] = relationship(foreign_keys=[updated_by_id])
    attachments: Mapped[list[Attachment]] = relationship(
        back_populates="application", order_by="Attachment.id", cascade="all, delete-orphan"
    )
    submissions: Mapped[list[Submission]] = relationship(
        back_populates="application", order_by="Submission.number"
    )

    __mapper_args__ = {"version_id_col": lock_version}

    @property
    def application_files(self) -> list[Attachment]:
        """The files of the application itself, without a completion report's evidence."""
        return [a for a in self.attachments if not a.is_report_evidence]


class Submission(Base):
    """A frozen, hashed snapshot; never updated. A resubmission adds a new row."""

    __tablename__ = "submissions"
    __table_args__ = (sa.UniqueConstraint("application_id", "number"),)

    id: Mapped[intpk]
    application_id: Mapped[int] = mapped_column(sa.ForeignKey("applications.id"))
    number: Mapped[int] = mapped_column(comment="1 for the first submission, then 2, ...")
    snapshot: Mapped[str] = mapped_column(sa.Text, comment="canonical JSON, hashed as UTF-8")
    snapshot_sha256: Mapped[str] = mapped_column(sa.String(64))
    findings: Mapped[list[Any]] = mapped_column(comment="rule findings (warnings) at submission")
    submitted_at: Mapped[dt.datetime]
    submitted_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))

    application: Mapped[Application] = relationship(back_populates="submissions")
    submitted_by: Mapped[User] = relationship()


class Attachment(Base):
    __tablename__ = "attachments"

    id: Mapped[intpk]
    application_id: Mapped[int] = mapped_column(sa.ForeignKey("applications.id"), index=True)
    field_id: Mapped[str] = mapped_column(sa.String(64), comment="the program's file field")
    sha256: Mapped[str] = mapped_column(sa.String(64), comment="content address in storage")
    filename: Mapped[str] = mapped_column(sa.String(255), comment="display name only")
    mime_type: Mapped[str] = mapped_column(sa.String(127), comment="detected from content")
    size_bytes: Mapped[int]
    uploaded_at: Mapped[created_at]
    uploaded_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))

    application: Mapped[Application] = relationship(back_populates="attachments")

    @property
    def is_report_evidence(self) -> bool:
        """Evidence of a completion report (its own field ids; no program field has a colon)."""
        return self.field_id.startswith(EVIDENCE_PREFIX)


class KeptForm(Base):
    """Answers posted when the session or CSRF token had expired, kept until the user is back."""

    __tablename__ = "kept_forms"

    token: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    application_id: Mapped[int] = mapped_column(sa.ForeignKey("applications.id"))
    step_id: Mapped[str] = mapped_column(sa.String(64))
    data: Mapped[dict[str, Any]]
    created_at: Mapped[created_at]
