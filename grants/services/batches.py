"""Batch downloads: the audit records of a search as one ZIP, built in the background.

A request fixes the list of applications (what the search found at that moment) and is an
audit event; building renders each record into a ZIP under the batch directory with a
``manifest.csv`` (reference, SHA-256 of the PDF, SHA-256 of the frozen snapshot) and counts its
progress; downloading the ZIP is an audit event too. Where the building runs (inline, or on an
RQ worker) is ``grants.jobs``'s choice.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import logging
import os
import re
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import Session

from grants import db
from grants.domain.errors import DomainError
from grants.i18n import to_jst
from grants.models import Application, BatchJob, BatchState, User
from grants.services.audit import AuditTag, record
from grants.services.auditing import Criteria, funded_ids

logger = logging.getLogger(__name__)

LIMIT = 1000  # records per batch: more is a search to narrow down, not one download
MANIFEST = "manifest.csv"
MANIFEST_COLUMNS = ("reference", "pdf_sha256", "snapshot_sha256")

Render = Callable[[Session, Application], bytes]


class BatchRefused(DomainError):
    """Nothing to put in a batch (``empty``), or more than LIMIT records (``too_many``)."""


def request_batch(
    session: Session, criteria: Criteria, *, actor: User, now: dt.datetime,
    limit: int | None = None,
) -> BatchJob:
    """Queue a batch of every funded application the search finds now, and audit the request.

    Raises:
        BatchRefused: the search finds nothing, or more than ``limit`` (default LIMIT)
            applications.
    """
    limit = limit or LIMIT
    ids = funded_ids(session, criteria, limit=limit + 1)
    if not ids:
        raise BatchRefused("empty")
    if len(ids) > limit:
        raise BatchRefused("too_many")
    job = BatchJob(requested_by_id=actor.id, created_at=now, criteria=criteria.as_dict(),
                   application_ids=ids, state=BatchState.QUEUED, total=len(ids), done=0)
    session.add(job)
    session.flush()
    record(session, AuditTag.BATCH_REQUEST, subject_type="batch", subject_id=job.id,
           actor=actor, now=now, data={"criteria": job.criteria, "application_ids": ids})
    return job


def batches_of(session: Session, user: User, *, limit: int = 50) -> list[BatchJob]:
    """The user's own latest batches."""
    return list(session.scalars(sa.select(BatchJob).filter_by(requested_by_id=user.id)
                                .order_by(BatchJob.id.desc()).limit(limit)))


def load_batch(session: Session, job_id: int, user: User) -> BatchJob | None:
    """The batch with this id if ``user`` requested it; nobody else's exists for them."""
    job = session.get(BatchJob, job_id)
    return job if job is not None and job.requested_by_id == user.id else None


def result_file(job: BatchJob, directory: Path | str) -> Path | None:
    """Where a finished batch's ZIP is, or None when it is not finished (or not there)."""
    if job.state is not BatchState.DONE or not job.result_path:
        return None
    path = Path(directory) / job.result_path
    return path if path.is_file() else None


def record_batch_download(session: Session, job: BatchJob, *, actor: User,
                          now: dt.datetime) -> None:
    """Audit that ``actor`` downloaded the ZIP, naming every application in it."""
    record(session, AuditTag.BATCH_DOWNLOAD, subject_type="batch", subject_id=job.id,
           actor=actor, now=now,
           data={"application_ids": list(job.application_ids), "sha256": job.result_sha256,
                 "size_bytes": job.result_size})


def build_batch(session: Session, job_id: int, *, directory: Path | str, render: Render,
                now: Callable[[], dt.datetime]) -> BatchJob | None:
    """Render every record of a queued batch into its ZIP, committing progress as it goes.

    Unlike the other services this one commits: a batch is a background job's whole unit of
    work, and the page polling it must see ``done`` move. Each record is read and rendered in a
    read transaction; only the progress update takes the write lock (SQLite has one writer at a
    time, and rendering takes a while). A failure marks the batch failed with the error and
    removes the partial file; it is logged, not raised.

    Args:
        session: a session of its own (the job commits it).
        job_id: the batch; one that is not queued any more is left alone.
        directory: the batch directory (BATCH_DIR); the ZIP is ``batch-<id>.zip`` in it.
        render: makes one record's PDF (``grants.documents.record.audit_record_pdf``).
        now: the clock.

    Returns:
        The batch (done or failed), or None when there is no such batch.
    """
    db.begin_write(session)
    job = session.get(BatchJob, job_id, with_for_update=True)
    if job is None or job.state is not BatchState.QUEUED:
        session.commit()
        return job
    job.state, job.started_at = BatchState.RUNNING, now()
    session.commit()
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    partial, final = folder / f".batch-{job.id}.zip.part", folder / f"batch-{job.id}.zip"
    try:
        _write_zip(session, job, partial, render)
        os.replace(partial, final)
        digest, size = _file_digest(final)
        db.begin_write(session)
        job.state, job.finished_at = BatchState.DONE, now()
        job.result_path, job.result_sha256, job.result_size = final.name, digest, size
        session.commit()
    except Exception as error:
        logger.exception("batch %s failed", job_id)
        session.rollback()
        for path in (partial, final):
            path.unlink(missing_ok=True)
        db.begin_write(session)
        job = session.get(BatchJob, job_id)
        assert job is not None
        job.state, job.finished_at = BatchState.FAILED, now()
        job.error = f"{type(error).__name__}: {error}"[:2000]
        session.commit()
    return job


def _write_zip(session: Session, job: BatchJob, path: Path, render: Render) -> None:
    stamp = to_jst(job.created_at).timetuple()[:6]
    rows: list[tuple[str, str, str]] = []
    with zipfile.ZipFile(path, "w") as archive:
        for application_id in job.application_ids:
            with _reading(session):
                application = session.get(Application, application_id)
                if application is None or not application.submissions:
                    raise LookupError(f"application {application_id} has no submission")
                pdf = render(session, application)
                snapshot_sha256 = application.submissions[-1].snapshot_sha256
            # PDFs are compressed already: stored as they are, byte for byte.
            archive.writestr(_entry(file_name(application.reference), stamp), pdf)
            rows.append((application.reference, hashlib.sha256(pdf).hexdigest(),
                         snapshot_sha256))
            db.begin_write(session)
            job.done += 1
            session.commit()
        archive.writestr(_entry(MANIFEST, stamp, zipfile.ZIP_DEFLATED), manifest(rows))


def _entry(name: str, stamp: tuple[int, ...], compress_type: int = zipfile.ZIP_STORED,
           ) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, stamp)  # the request's time: the same records, the same ZIP
    info.compress_type = compress_type
    info.external_attr = 0o644 << 16  # readable files when unpacked (the default is mode 000)
    return info


@contextmanager
def _reading(session: Session) -> Iterator[None]:
    """Let the transaction begun inside be a read (on SQLite: BEGIN, not BEGIN IMMEDIATE)."""
    if session.in_transaction():
        session.commit()
    token = db.write_intent.set(False)
    try:
        yield
    finally:
        db.write_intent.reset(token)


def file_name(reference: str) -> str:
    """The record's name in the ZIP: ``<reference>.pdf`` (references are ASCII already)."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", reference) + ".pdf"


def manifest(rows: list[tuple[str, str, str]]) -> bytes:
    """The manifest: one line per record, so anyone can check each PDF and its snapshot."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(MANIFEST_COLUMNS)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def _file_digest(path: Path) -> tuple[str, int]:
    with path.open("rb") as handle:
        digest = hashlib.file_digest(handle, "sha256")
    return digest.hexdigest(), path.stat().st_size
