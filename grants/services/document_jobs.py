"""One document too slow to render within its request, built in the background instead.

A review packet or an audit record whose render hits the request's time limit is queued as a
job of one application: a BatchJob whose criteria name the document ({"document": kind})
instead of a search, so the batches' runners (grants.jobs), states and progress counting carry
it. Only its requester may see it, and each view checks that they still may see the document
itself. The PDF is kept as ``document-<id>.pdf`` in the batch folder; what the download's
audit event says about it besides its bytes (a packet's appended and skipped PDFs) is kept in
the job's criteria under "audit" when it is done. Failures, lost jobs and the retention period
are the batches' (grants.services.batches.prune); a failed or expired document is asked for
again from its own page, as the first time.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from grants import db
from grants.models import Application, BatchJob, BatchState, User
from grants.models.batches import DOCUMENT_KEY, DocumentKind
from grants.services import batches
from grants.storage import as_folder

logger = logging.getLogger(__name__)

AUDIT_KEY = "audit"  # in a done job's criteria: what the download's audit event records

# Makes the job's PDF, and what the download's audit event is to record about it.
RenderDocument = Callable[[Session, BatchJob], tuple[bytes, dict[str, Any]]]


def request_document(session: Session, kind: DocumentKind, application: Application, *,
                     actor: User, now: dt.datetime) -> BatchJob:
    """Queue ``kind`` of ``application`` for ``actor``, who has just been allowed to see it."""
    job = BatchJob(requested_by_id=actor.id, created_at=now, criteria={DOCUMENT_KEY: kind.value},
                   application_ids=[application.id], state=BatchState.QUEUED, total=1, done=0)
    session.add(job)
    session.flush()
    return job


def load_document(session: Session, job_id: int, user: User, kind: DocumentKind,
                  application: Application) -> BatchJob | None:
    """The job if ``user`` asked for this very document; nobody else's exists for them."""
    job = session.get(BatchJob, job_id)
    if job is None or job.requested_by_id != user.id or job.document is not kind:
        return None
    return job if list(job.application_ids) == [application.id] else None


def audit_data(job: BatchJob) -> dict[str, Any]:
    """What the download's audit event records about a done job's PDF besides its bytes."""
    return dict(job.criteria.get(AUDIT_KEY, {}))


def build_document(session: Session, job_id: int, *, directory: batches.Where,
                   render: RenderDocument, now: Callable[[], dt.datetime]) -> BatchJob | None:
    """Render a queued job's document into the batch folder and mark the job done, or failed.

    Commits, like batches.build_batch: the progress page must see the job move. The render
    runs in a read transaction (SQLite has one writer, and a render takes a while). A failure
    is logged and kept in the job, whose requester sees it; it is not raised.

    Returns:
        The job (done or failed), or None when there is no such job.
    """
    db.begin_write(session)
    claimed = batches.claim(session, job_id, now())
    session.commit()
    job = batches.fresh(session, job_id)
    if job is None or not claimed:
        return job
    folder, final = as_folder(directory), f"document-{job_id}.pdf"
    stage = batches.Failure.RENDER
    try:
        with batches.reading(session):
            pdf, audit = render(session, job)
        stage = batches.Failure.WRITE
        folder.write(final, pdf)
        _mark_done(session, job, final, pdf, audit, now())
    except Exception as error:
        logger.exception("document job %s failed", job_id)
        session.rollback()
        batches.discard(folder, final)
        batches.fail_batch(session, job_id, batches.describe_error(error, stage), now=now)
    return batches.fresh(session, job_id)


def _mark_done(session: Session, job: BatchJob, name: str, pdf: bytes, audit: dict[str, Any],
               now: dt.datetime) -> None:
    db.begin_write(session)
    marked = session.execute(
        sa.update(BatchJob)
        .where(BatchJob.id == job.id, BatchJob.state == BatchState.RUNNING)
        .values(state=BatchState.DONE, done=BatchJob.total, finished_at=now, result_path=name,
                result_sha256=hashlib.sha256(pdf).hexdigest(), result_size=len(pdf),
                criteria={**job.criteria, AUDIT_KEY: audit})
        .execution_options(synchronize_session=False)).rowcount
    session.commit()
    if not marked:
        raise RuntimeError("the job stopped running while its PDF was written")
