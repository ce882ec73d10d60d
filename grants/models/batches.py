"""Background document jobs: the audit records of a search built into one ZIP (a batch), or one
document that could not be rendered within its request."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from grants.db import Base, created_at, intpk
from grants.models.accounts import User


class BatchState(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


DOCUMENT_KEY = "document"  # in BatchJob.criteria: which single document the job makes


class DocumentKind(enum.StrEnum):
    """A document a request may hand to the background (grants.services.document_jobs)."""

    RECORD = "record"  # an application's audit record (auditors, officers)
    OFFICER_PACKET = "officer_packet"  # the program office's review packet, every review
    REVIEWER_PACKET = "reviewer_packet"  # a reviewer's packet, their own review only


class BatchJob(Base):
    """One requested ZIP of audit records, or one slow document of a single application
    (``criteria`` then names it: {"document": kind}, not a search); only its requester may
    see or download it.
    """

    __tablename__ = "batch_jobs"
    __table_args__ = (
        sa.CheckConstraint("done >= 0 AND done <= total", name="done_within_total"),
        sa.CheckConstraint("state <> 'done' OR done = total", name="done_when_complete"),
        sa.CheckConstraint(
            "(state = 'done') = (result_sha256 IS NOT NULL)", name="result_iff_done"
        ),
        sa.CheckConstraint(
            "(state = 'failed') = (error IS NOT NULL)", name="error_iff_failed"
        ),
    )

    id: Mapped[intpk]
    requested_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    created_at: Mapped[created_at]
    criteria: Mapped[dict[str, Any]] = mapped_column(comment="the search, as the form gave it")
    application_ids: Mapped[list[Any]] = mapped_column(
        comment="the funded applications matching at request time, in search order"
    )
    state: Mapped[BatchState] = mapped_column(default=BatchState.QUEUED)
    total: Mapped[int] = mapped_column(comment="records to render")
    done: Mapped[int] = mapped_column(default=0, comment="records rendered so far")
    started_at: Mapped[dt.datetime | None]
    finished_at: Mapped[dt.datetime | None]
    error: Mapped[str | None] = mapped_column(sa.Text, comment="why the batch failed")
    result_path: Mapped[str | None] = mapped_column(
        sa.String(255), comment="the ZIP's file name inside BATCH_DIR"
    )
    result_sha256: Mapped[str | None] = mapped_column(sa.String(64))
    result_size: Mapped[int | None] = mapped_column(sa.BigInteger, comment="bytes")

    requested_by: Mapped[User] = relationship()

    @property
    def expired(self) -> bool:
        """Done, but its file was deleted after the retention period (``batches prune``)."""
        return self.state is BatchState.DONE and not self.result_path

    @property
    def document(self) -> DocumentKind | None:
        """The single document this job makes; None for a batch of records (a ZIP)."""
        kind = self.criteria.get(DOCUMENT_KEY)
        return DocumentKind(kind) if kind else None
