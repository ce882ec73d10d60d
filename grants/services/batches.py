"""Batch downloads: the audit records of a search as one ZIP, built in the background.

A request fixes the list of applications (what the search found at that moment) and is an
audit event. Building has two steps: ``render_records`` renders records into the batch's
staging folder and counts its progress (in one go, or in parts run side by side by several
workers, on several machines), then ``finish_batch`` writes the ZIP into the batch folder with
a ``manifest.csv`` (reference, SHA-256 of the PDF, SHA-256 of the frozen snapshot) and removes
the staging folder. The batch folder (``grants.storage.Folder``) is BATCH_DIR, or the batches
of an S3 bucket that every web server and worker shares. Next to each record go the letters
its application has so far (the grant decision letter, the final amount letter:
``<reference>-<kind>.pdf``), listed with their SHA-256 in ``letters.csv`` when there are any.
Downloading the ZIP is an audit event too. Where the building runs (inline, or on RQ workers)
is ``grants.jobs``'s choice.

A failed batch keeps why in ``error`` as ``"<kind>: <detail>"``: the kind (``Failure``) is what
its requester is told, in a sentence of their language; the detail is for the operator (and the
log). ``prune`` keeps the batch folder small for years: it deletes ZIPs (and single
documents, grants.services.document_jobs) after the retention period, keeping their rows as
audit history (``BatchJob.expired``), removes what failed or lost jobs left behind, and fails
batches whose jobs were lost. The functions take the batch folder, or a local directory's path
for one, as ``directory``. A failed or expired batch can be requested again (``rerun``).
"""

from __future__ import annotations

import csv
import datetime as dt
import enum
import hashlib
import io
import json
import logging
import re
import zipfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import sqlalchemy as sa
from sqlalchemy.orm import Session

from grants import db
from grants.domain.errors import DomainError
from grants.i18n import to_jst
from grants.models import Application, BatchJob, BatchState, User
from grants.models.batches import DOCUMENT_KEY
from grants.rendering.errors import MissingJapaneseFont, RenderTimeout
from grants.services.audit import AuditTag, record
from grants.services.auditing import Criteria, funded_ids
from grants.storage import Folder, as_folder

logger = logging.getLogger(__name__)

LIMIT = 1000  # records per batch: more is a search to narrow down, not one download
# Records per RQ job: small enough that several workers share a batch, large enough that a
# job's start (an app, a database connection) stays small beside ~10 renderings of 1-3 s.
CHUNK_SIZE = 10
MANIFEST = "manifest.csv"
MANIFEST_COLUMNS = ("reference", "pdf_sha256", "snapshot_sha256")
LETTERS = "letters.csv"
LETTER_COLUMNS = ("reference", "file", "pdf_sha256")

Render = Callable[[Session, Application], bytes]
Letters = Callable[[Session, Application], dict[str, bytes]]  # {kind: PDF}, those it has
Where = Folder | Path | str  # the batch folder, or a local directory's path
# What the batch folder holds, each named after its job: a ZIP, a single document, a staging
# folder and the partial files of a ZIP or a document being written (a local folder's
# ``.<name>.<random>.part``; ``.<name>.part`` from earlier versions).
ENTRY = re.compile(r"\.?(?:batch|document)-(?P<id>\d+)(?:\.zip|\.pdf|\.parts)"
                   r"(?:(?:\.\w+)?\.part)?")


class BatchRefused(DomainError):
    """Nothing to put in a batch (``empty``), more than LIMIT records (``too_many``), or a
    batch run again that has not failed or expired (``not_rerunnable``)."""


class Failure(enum.StrEnum):
    """Why a job failed, as its requester is told (the web maps each to a sentence)."""

    RENDER = "render"  # a record or document could not be made into a PDF
    TIMEOUT = "timeout"  # a render took longer than its limit
    FONT = "font"  # no Japanese font on the machine that rendered
    MISSING = "missing"  # an application in the job is gone, or was never rendered
    WRITE = "write"  # the ZIP or PDF could not be written (a full or read-only disk)
    WORKER = "worker"  # a part failed on a worker without saying why (killed, timed out)
    LOST = "lost"  # no result within the deadline: its jobs were lost
    VERSION = "version"  # the worker runs another version of Grants than the one that queued


@dataclass(frozen=True)
class Pruned:
    """What ``prune`` did: counts for the operator's cron mail."""

    expired: int  # ZIPs and documents deleted after the retention period (rows kept)
    removed: int  # leftovers deleted: staging folders, partial files, files of no job
    lost: list[int]  # jobs marked failed because nothing finished them in time


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
    ids = funded_ids(session, criteria, today=to_jst(now).date(), limit=limit + 1)
    if not ids:
        raise BatchRefused("empty")
    if len(ids) > limit:
        raise BatchRefused("too_many")
    return _queue(session, criteria.as_dict(), ids, actor=actor, now=now, audit={})


def rerun(session: Session, job: BatchJob, *, actor: User, now: dt.datetime) -> BatchJob:
    """Queue a failed or expired batch's records again, as a new batch of the same list.

    The old batch stays as it was (audit history); the new one is an audited request naming
    it. A job still under way, or whose ZIP is there, is not run again.

    Raises:
        BatchRefused: ``not_rerunnable``.
    """
    if job.document is not None or not (job.state is BatchState.FAILED or job.expired):
        raise BatchRefused("not_rerunnable")
    return _queue(session, dict(job.criteria), list(job.application_ids), actor=actor, now=now,
                  audit={"rerun_of": job.id})


def _queue(session: Session, criteria: dict[str, object], ids: list[int], *, actor: User,
           now: dt.datetime, audit: dict[str, object]) -> BatchJob:
    job = BatchJob(requested_by_id=actor.id, created_at=now, criteria=criteria,
                   application_ids=ids, state=BatchState.QUEUED, total=len(ids), done=0)
    session.add(job)
    session.flush()
    record(session, AuditTag.BATCH_REQUEST, subject_type="batch", subject_id=job.id,
           actor=actor, now=now,
           data={"criteria": job.criteria, "application_ids": ids, **audit})
    return job


def batches_of(session: Session, user: User, *, limit: int = 50) -> list[BatchJob]:
    """The user's own latest batches (not their single documents, see document_jobs)."""
    return list(session.scalars(
        sa.select(BatchJob).filter_by(requested_by_id=user.id)
        .where(BatchJob.criteria[DOCUMENT_KEY].as_string().is_(None))
        .order_by(BatchJob.id.desc()).limit(limit)))


def load_batch(session: Session, job_id: int, user: User) -> BatchJob | None:
    """The batch with this id if ``user`` requested it; nobody else's exists for them."""
    job = session.get(BatchJob, job_id)
    return job if job is not None and job.requested_by_id == user.id \
        and job.document is None else None


def result_name(job: BatchJob) -> str | None:
    """A finished job's file (ZIP or PDF) in the batch folder; None when it is not finished,
    or expired."""
    return job.result_path if job.state is BatchState.DONE and job.result_path else None


def record_batch_download(session: Session, job: BatchJob, *, actor: User,
                          now: dt.datetime) -> None:
    """Audit that ``actor`` downloaded the ZIP, naming every application in it."""
    record(session, AuditTag.BATCH_DOWNLOAD, subject_type="batch", subject_id=job.id,
           actor=actor, now=now,
           data={"application_ids": list(job.application_ids), "sha256": job.result_sha256,
                 "size_bytes": job.result_size})


def chunks(application_ids: Sequence[int], size: int | None = None) -> list[list[int]]:
    """The batch's records in runs of ``size`` (default CHUNK_SIZE), in the batch's order."""
    size = size or CHUNK_SIZE
    ids = list(application_ids)
    return [ids[start:start + size] for start in range(0, len(ids), size)]


def staging_name(job_id: int) -> str:
    """The folder in the batch folder where a batch's rendered records wait for the ZIP
    (hidden; removed when it ends)."""
    return f".batch-{job_id}.parts"


def build_batch(session: Session, job_id: int, *, directory: Where, render: Render,
                now: Callable[[], dt.datetime], letters: Letters | None = None,
                ) -> BatchJob | None:
    """Build a queued batch in one go: every record (``render_records``), then the ZIP
    (``finish_batch``), the way the embedded default runs it (RQ workers run the same two
    steps as several jobs, see grants.jobs).

    Unlike the other services this one commits: a batch is a background job's whole unit of
    work, and the page polling it must see ``done`` move. A failure marks the batch failed with
    the error and removes the partial files; it is logged, not raised.

    Args:
        session: a session of its own (the job commits it).
        job_id: the batch; one that is not queued any more is left alone.
        directory: the batch folder; the ZIP is ``batch-<id>.zip`` in it.
        render: makes one record's PDF (``grants.documents.record.audit_record_pdf``).
        now: the clock.
        letters: makes the letters to go with a record (``grants.jobs.render_letters``).

    Returns:
        The batch (done or failed), or None when there is no such batch.
    """
    db.begin_write(session)
    claimed = claim(session, job_id, now())
    session.commit()
    job = fresh(session, job_id)
    if job is None or not claimed:
        return job
    render_records(session, job_id, list(job.application_ids), directory=directory,
                   render=render, now=now, letters=letters)
    return finish_batch(session, job_id, directory=directory, now=now)


def render_records(session: Session, job_id: int, application_ids: Sequence[int], *,
                   directory: Where, render: Render, now: Callable[[], dt.datetime],
                   letters: Letters | None = None) -> str | None:
    """Render some of a batch's records into its staging folder, counting each one.

    Several of these may run at once (one per RQ job), for one batch: the first to start moves
    the batch from queued to running, and each record adds one to ``done`` with a single
    ``UPDATE ... SET done = done + 1`` of its own, so concurrent jobs never lose a count. Each
    record is read and rendered in a read transaction; only the count takes the write lock
    (SQLite has one writer at a time, and rendering takes a while). A record already staged (a
    job run again) is neither rendered nor counted again. Once the batch is no longer running
    (another part failed) the rest is skipped. A failure marks the batch failed; the files are
    left for ``finish_batch``, which runs after every part and removes them.

    Returns:
        The error that failed the batch here, or None (rendered, or nothing left to do).
    """
    db.begin_write(session)
    claim(session, job_id, now())
    state = session.scalar(sa.select(BatchJob.state).where(BatchJob.id == job_id))
    session.commit()
    if state is not BatchState.RUNNING:
        return None
    folder, staging = as_folder(directory), staging_name(job_id)
    try:
        for application_id in application_ids:
            if folder.exists(f"{staging}/{application_id}.json"):
                continue
            with reading(session):
                application = session.get(Application, application_id)
                if application is None or not application.submissions:
                    raise LookupError(f"application {application_id} has no submission")
                pdf = render(session, application)
                extra = letters(session, application) if letters is not None else {}
                entry = {"reference": application.reference,
                         "snapshot_sha256": application.submissions[-1].snapshot_sha256,
                         "letters": sorted(extra)}
            _stage(folder, staging, application_id, pdf, entry, extra)
            db.begin_write(session)
            counted = session.execute(
                sa.update(BatchJob)
                .where(BatchJob.id == job_id, BatchJob.state == BatchState.RUNNING)
                .values(done=BatchJob.done + 1)
                .execution_options(synchronize_session=False)).rowcount
            session.commit()
            if not counted:
                return None  # the batch failed meanwhile: the rest is not needed
    except Exception as error:
        logger.exception("batch %s failed", job_id)
        session.rollback()
        message = describe_error(error, Failure.RENDER)
        fail_batch(session, job_id, message, now=now)
        return message
    return None


def finish_batch(session: Session, job_id: int, *, directory: Where,
                 now: Callable[[], dt.datetime], failure: str | None = None) -> BatchJob | None:
    """After every part: write the ZIP of the staged records, or record why the batch failed.

    The ZIP holds the PDFs in the batch's order and the manifest, byte for byte what one job
    rendering everything would write. The batch fails instead when ``failure`` says a part
    failed (its worker may have died before it could say so itself), when a record is missing,
    or when writing the ZIP fails. The staging folder is removed either way; a batch that
    failed or finished already is left as it is.

    Returns:
        The batch (done or failed), or None when there is no such batch.
    """
    folder = as_folder(directory)
    try:
        job = fresh(session, job_id)
        if job is None or job.state not in (BatchState.QUEUED, BatchState.RUNNING):
            return job
        ids, stamp = list(job.application_ids), to_jst(job.created_at).timetuple()[:6]
        if failure is None:
            failure = _write_result(session, job_id, folder, ids, stamp, now)
        if failure is not None:
            fail_batch(session, job_id, failure, now=now)
    finally:
        discard(folder, staging_name(job_id))
    return fresh(session, job_id)


def fail_batch(session: Session, job_id: int, error: str, *,
               now: Callable[[], dt.datetime]) -> bool:
    """Mark a queued or running batch failed with ``error`` (the first error stays); False when
    it was neither."""
    db.begin_write(session)
    marked = session.execute(
        sa.update(BatchJob)
        .where(BatchJob.id == job_id,
               BatchJob.state.in_([BatchState.QUEUED, BatchState.RUNNING]))
        .values(state=BatchState.FAILED, finished_at=now(), error=error[:2000])
        .execution_options(synchronize_session=False)).rowcount
    session.commit()
    return bool(marked)


def prune(session: Session, directory: Where, *, now: dt.datetime,
          retention: dt.timedelta, deadline: dt.timedelta) -> Pruned:
    """Fail the lost jobs, expire the old results, then remove what no job needs any more.

    Batches and single documents alike; safe to run at any time and as often as wanted (from
    cron): a job still under way is never touched, and a second run finds nothing to do.
    """
    folder = as_folder(directory)
    lost = fail_lost(session, now=now, deadline=deadline)
    expired = expire(session, folder, now=now, retention=retention)
    return Pruned(expired=expired, removed=sweep(session, folder, now=now, retention=retention),
                  lost=lost)


def fail_lost(session: Session, *, now: dt.datetime, deadline: dt.timedelta,
              job_id: int | None = None) -> list[int]:
    """Fail the jobs still queued or running ``deadline`` after their request: nothing will
    finish them any more (a worker lost them, or the web process building one stopped).

    Only ``job_id`` when given. Returns the ids of the jobs failed here.
    """
    query = sa.select(BatchJob.id).where(
        BatchJob.state.in_([BatchState.QUEUED, BatchState.RUNNING]),
        BatchJob.created_at < now - deadline)
    if job_id is not None:
        query = query.where(BatchJob.id == job_id)
    with reading(session):
        overdue = list(session.scalars(query.order_by(BatchJob.id)))
    session.commit()
    hours = f"{deadline / dt.timedelta(hours=1):g}"
    lost = [found for found in overdue if fail_batch(
        session, found, failed(Failure.LOST, f"not finished {hours} hours after its request"),
        now=lambda: now)]
    for found in lost:
        logger.warning("job %s was lost: not finished %s hours after its request; marked "
                       "failed (are the workers running, on this installation's queue?)",
                       found, hours)
    return lost


def expire(session: Session, directory: Where, *, now: dt.datetime,
           retention: dt.timedelta) -> int:
    """Delete the ZIPs and documents finished more than ``retention`` ago.

    The rows stay (who asked for which records, and the ZIP's SHA-256, are audit history),
    without their file: ``BatchJob.expired``. Returns how many were deleted.
    """
    with reading(session):
        old = session.execute(sa.select(BatchJob.id, BatchJob.result_path).where(
            BatchJob.state == BatchState.DONE, BatchJob.result_path.is_not(None),
            BatchJob.finished_at < now - retention)).all()
    session.commit()
    for job_id, name in old:
        db.begin_write(session)
        session.execute(
            sa.update(BatchJob).where(BatchJob.id == job_id, BatchJob.result_path == name)
            .values(result_path=None).execution_options(synchronize_session=False))
        session.commit()
        as_folder(directory).remove(name)  # after the row: never a dead link
    return len(old)


def sweep(session: Session, directory: Where, *, now: dt.datetime,
          retention: dt.timedelta) -> int:
    """Remove the batch folder's entries no job needs: the staging folders and partial files
    of jobs that ended, files of expired jobs and, ``retention`` after they were last changed,
    files of jobs the database does not know. Returns how many entries were removed."""
    folder = as_folder(directory)
    changed = folder.entries()
    entries = {name: int(match["id"]) for name in changed if (match := ENTRY.fullmatch(name))}
    with reading(session):
        jobs = {row.id: row for row in session.execute(
            sa.select(BatchJob.id, BatchJob.state, BatchJob.result_path)
            .where(BatchJob.id.in_(set(entries.values()))))}
    session.commit()
    removed = 0
    for name, job_id in sorted(entries.items()):
        job = jobs.get(job_id)
        if job is None:
            needed = changed[name] >= now - retention
        else:
            needed = job.state in (BatchState.QUEUED, BatchState.RUNNING) or (
                job.state is BatchState.DONE and job.result_path == name)
        if not needed:
            folder.remove(name)
            removed += 1
    return removed


def discard(folder: Folder, name: str) -> None:
    """Remove what a job leaves behind; should the storage refuse (a bucket out of reach), the
    job still ends as it must, and ``prune`` removes the leftover later."""
    try:
        folder.remove(name)
    except OSError:
        logger.warning("%s was left in %s for `batches prune`", name, folder, exc_info=True)


def claim(session: Session, job_id: int, now: dt.datetime) -> bool:
    """Queued to running (in the caller's write transaction); False if it was not queued."""
    result = session.execute(
        sa.update(BatchJob)
        .where(BatchJob.id == job_id, BatchJob.state == BatchState.QUEUED)
        .values(state=BatchState.RUNNING, started_at=now)
        .execution_options(synchronize_session=False))
    return bool(result.rowcount)


def fresh(session: Session, job_id: int) -> BatchJob | None:
    """The batch as the database has it now (the bulk updates above bypass the session)."""
    with reading(session):
        job = session.get(BatchJob, job_id, populate_existing=True)
    session.commit()  # only ends the read
    return job


def describe_error(error: BaseException, default: Failure) -> str:
    """The error as a failed job keeps it: its kind (``default`` unless the error says
    otherwise), then the exception for the operator."""
    return failed(_kind_of(error, default), f"{type(error).__name__}: {error}")


def failed(kind: Failure, detail: str) -> str:
    """A job's ``error``: the kind its requester is told, then the operator's detail."""
    return f"{kind}: {detail}"[:2000]


def failure_of(error: str | None) -> tuple[Failure | None, str]:
    """A failed job's kind and detail; None for an error kept before kinds were (a raw one)."""
    kind, _, detail = (error or "").partition(": ")
    return (Failure(kind), detail) if kind in set(Failure) else (None, error or "")


def _kind_of(error: BaseException, default: Failure) -> Failure:
    if isinstance(error, RenderTimeout):
        return Failure.TIMEOUT
    if isinstance(error, MissingJapaneseFont):
        return Failure.FONT
    if isinstance(error, LookupError):
        return Failure.MISSING
    return default


def _stage(folder: Folder, staging: str, application_id: int, pdf: bytes,
           entry: dict[str, object], letters: dict[str, bytes]) -> None:
    """Write one record's PDF and letters, then its manifest entry: the entry marks the record
    as done (each file is written whole or not at all)."""
    folder.write(f"{staging}/{application_id}.pdf", pdf)
    for kind, letter in letters.items():
        folder.write(f"{staging}/{application_id}-{kind}.pdf", letter)
    folder.write(f"{staging}/{application_id}.json", json.dumps(entry).encode("utf-8"))


def _write_result(session: Session, job_id: int, folder: Folder, ids: list[int],
                  stamp: tuple[int, ...], now: Callable[[], dt.datetime]) -> str | None:
    """Zip the staged records and mark the batch done; the error instead if that fails."""
    final = f"batch-{job_id}.zip"
    try:
        with folder.writer(final) as handle:
            _write_zip(folder, staging_name(job_id), ids, handle, stamp)
            digest, size = _digest(handle)
        db.begin_write(session)
        # Every record is in the ZIP, so done = total even if a part died between staging a
        # record and counting it.
        marked = session.execute(
            sa.update(BatchJob)
            .where(BatchJob.id == job_id, BatchJob.state == BatchState.RUNNING)
            .values(state=BatchState.DONE, done=BatchJob.total, finished_at=now(),
                    result_path=final, result_sha256=digest, result_size=size)
            .execution_options(synchronize_session=False)).rowcount
        session.commit()
        if not marked:
            raise RuntimeError("the batch stopped running while its ZIP was written")
    except Exception as error:
        logger.exception("batch %s failed", job_id)
        session.rollback()
        discard(folder, final)
        return describe_error(error, Failure.WRITE)
    return None


def _write_zip(folder: Folder, staging: str, ids: list[int], handle: BinaryIO,
               stamp: tuple[int, ...]) -> None:
    rows: list[tuple[str, str, str]] = []
    letter_rows: list[tuple[str, str, str]] = []
    with zipfile.ZipFile(handle, "w") as archive:
        for application_id in ids:
            try:
                entry = json.loads(folder.read(f"{staging}/{application_id}.json"))
            except FileNotFoundError:
                raise LookupError(f"application {application_id} was not rendered") from None
            pdf = folder.read(f"{staging}/{application_id}.pdf")
            # PDFs are compressed already: stored as they are, byte for byte.
            archive.writestr(_entry(file_name(entry["reference"]), stamp), pdf)
            rows.append((entry["reference"], hashlib.sha256(pdf).hexdigest(),
                         entry["snapshot_sha256"]))
            for kind in entry["letters"]:
                letter = folder.read(f"{staging}/{application_id}-{kind}.pdf")
                name = file_name(f"{entry['reference']}-{kind}")
                archive.writestr(_entry(name, stamp), letter)
                letter_rows.append((entry["reference"], name, hashlib.sha256(letter).hexdigest()))
        archive.writestr(_entry(MANIFEST, stamp, zipfile.ZIP_DEFLATED), manifest(rows))
        if letter_rows:
            archive.writestr(_entry(LETTERS, stamp, zipfile.ZIP_DEFLATED),
                             manifest(letter_rows, LETTER_COLUMNS))


def _entry(name: str, stamp: tuple[int, ...], compress_type: int = zipfile.ZIP_STORED,
           ) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, stamp)  # the request's time: the same records, the same ZIP
    info.compress_type = compress_type
    info.external_attr = 0o644 << 16  # readable files when unpacked (the default is mode 000)
    return info


@contextmanager
def reading(session: Session) -> Iterator[None]:
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


def manifest(rows: list[tuple[str, str, str]],
             columns: tuple[str, ...] = MANIFEST_COLUMNS) -> bytes:
    """The manifest: one line per record, so anyone can check each PDF and its snapshot (or,
    with LETTER_COLUMNS, one line per letter)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def _digest(handle: BinaryIO) -> tuple[str, int]:
    """The SHA-256 and size of what was written to ``handle``, read back from its start."""
    handle.flush()
    handle.seek(0)
    digest = hashlib.file_digest(handle, "sha256")
    return digest.hexdigest(), handle.tell()
