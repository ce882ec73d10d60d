"""Background work (batches of records, single slow documents): inline by default, on RQ
workers when REDIS_URL is set.

The embedded default has no worker: a job runs in the web process that asked for it, after
that request committed what it had to: in a thread of its own (BATCH_RUNNER="thread", so the
auditor sees the progress page at once), or within the request itself ("request", which the
tests use: their data lives in one rolled-back transaction). With REDIS_URL set, the job goes
on the RQ queue named by RQ_QUEUE instead (by default "grants-<database name>": installations
sharing a Redis never take each other's jobs); run workers with the same environment as the
web app (database, and the batch folder shared with it: BATCH_DIR on one machine, the S3
bucket of STORAGE_URL across several, see grants.storage)::

    flask --app wsgi grants worker

which listens on exactly that queue and records its version of Grants in Redis, where
``grants doctor`` compares it with its own. Every job carries the version of the app that
queued it too, and a worker running another version refuses it: the batch fails with a
sentence saying to restart the workers after an upgrade, instead of rendering with other code.

A batch fans out there, so that every worker helps with it: one job per CHUNK_SIZE records
(``render_chunk``), and a last one (``finish_batch``) that RQ starts once all of them ended,
failed ones included, to write the ZIP or record the failure. A single document (a packet or
record too slow for its request, see grants.services.document_jobs) is one job
(``build_document``). A worker builds the app with ``create_app()``, configured from the
environment like the web app, and gives each job a session of its own.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from flask import Flask, current_app
from flask_babel import force_locale
from sqlalchemy.orm import Session

from grants import clock
from grants.db import get_session
from grants.models import Application, BatchJob, BatchState
from grants.models.batches import DocumentKind
from grants.rendering.limits import BACKGROUND_RENDER_SECONDS
from grants.services import batches, document_jobs
from grants.storage import stores_of
from grants.version import installed_version

JOB_TIMEOUT_SECONDS = 6 * 3600  # a whole batch in one job (build_batch): LIMIT records
# A part renders CHUNK_SIZE records, each within the background render limit, plus its start.
CHUNK_TIMEOUT_SECONDS = int(batches.CHUNK_SIZE * BACKGROUND_RENDER_SECONDS) + 300
FINISH_TIMEOUT_SECONDS = 3600  # copies up to LIMIT PDFs into the ZIP; no rendering
DOCUMENT_TIMEOUT_SECONDS = int(BACKGROUND_RENDER_SECONDS) + 300  # one render, plus its start
ERROR_DETAIL = 500  # characters of a failed part's last traceback line kept in the batch
VERSION_KEY = "grants_version"  # in a job's meta: who queued it; in a worker's hash: what runs

logger = logging.getLogger(__name__)


class BatchFailed(RuntimeError):
    """Raised in a worker so that RQ lists the job as failed too (the batch row says why)."""


Build = Callable[[Flask, Session, int], object]


def start_batch(job_id: int) -> None:
    """Build the batch now, in this request (embedded default), or queue it for the workers."""

    def enqueue(rq_queue: Any) -> None:
        job = get_session().get(BatchJob, job_id)
        if job is not None:
            fan_out(rq_queue, job_id, list(job.application_ids))

    _start(f"batch-{job_id}", job_id, _build, enqueue)


def start_document(job_id: int) -> None:
    """Build a single document job the way batches are built (see start_batch)."""
    _start(f"document-{job_id}", job_id, _build_document, lambda rq_queue: rq_queue.enqueue(
        build_document, job_id, job_timeout=DOCUMENT_TIMEOUT_SECONDS,
        description=f"document {job_id}", meta=_version_meta()))


def _start(name: str, job_id: int, build: Build, enqueue: Callable[[Any], object]) -> None:
    """On RQ with REDIS_URL; else in this request or in a thread (BATCH_RUNNER)."""
    config = current_app.config
    if config["REDIS_URL"]:
        enqueue(queue(config))
    elif config["BATCH_RUNNER"] == "request":
        build(current_app, get_session(), job_id)
    else:
        app = current_app._get_current_object()  # type: ignore[attr-defined]
        threading.Thread(target=_build_in_thread, args=(app, build, job_id), name=name,
                         daemon=True).start()


def fan_out(rq_queue: Any, job_id: int, application_ids: Sequence[int]) -> list[Any]:
    """Queue one job per chunk of records, then the finishing job; returns them, last last.

    The finisher depends on every part with ``allow_failure``: RQ starts it once each part
    finished or failed (without it a failed part would leave the finisher deferred for ever,
    and the batch running).
    """
    from rq.job import Dependency

    total, first, parts = len(application_ids), 1, []
    for chunk in batches.chunks(application_ids):
        last = first + len(chunk) - 1
        parts.append(rq_queue.enqueue(
            render_chunk, job_id, chunk, job_timeout=CHUNK_TIMEOUT_SECONDS,
            description=f"batch {job_id}: records {first}-{last} of {total}",
            meta=_version_meta()))
        first = last + 1
    finisher = rq_queue.enqueue(
        finish_batch, job_id, depends_on=Dependency(jobs=parts, allow_failure=True),
        job_timeout=FINISH_TIMEOUT_SECONDS, description=f"batch {job_id}: the ZIP",
        meta=_version_meta())
    return [*parts, finisher]


def _version_meta() -> dict[str, str]:
    return {VERSION_KEY: installed_version()}


def _build_in_thread(app: Flask, build: Build, job_id: int) -> None:
    with app.app_context(), app.extensions["grants.sessionmaker"]() as session:
        build(app, session, job_id)


def queue(config: Any, **redis_options: Any) -> Any:
    """The installation's RQ queue (imports RQ only when it is used)."""
    from redis import Redis
    from rq import Queue

    return Queue(config["RQ_QUEUE"],
                 connection=Redis.from_url(config["REDIS_URL"], **redis_options))


def worker(config: Any) -> Any:
    """An RQ worker on the installation's queue that records this install's version in its
    Redis hash (``VERSION_KEY``), for ``grants doctor`` to compare."""
    from rq import Worker

    class VersionedWorker(Worker):
        def serialize(self) -> dict[str, Any]:
            return {**super().serialize(), VERSION_KEY: installed_version()}

        def unsubscribe(self) -> None:
            # Stop the command listener before unsubscribing: UNSUBSCRIBE's reply wakes it, and
            # with redis-py 8.2 it would otherwise sleep 60 s more (a minute per shutdown).
            if self.pubsub_thread:
                try:
                    self.pubsub_thread.stop(timeout=0)
                except TypeError:  # redis-py before 8.2: stop() takes no timeout, nor joins
                    self.pubsub_thread.stop()
            super().unsubscribe()

    rq_queue = queue(config)
    return VersionedWorker([rq_queue], connection=rq_queue.connection)


def worker_version(rq_worker: Any) -> str | None:
    """The version of Grants a registered worker runs; None if it did not say (``rq worker``)."""
    value = rq_worker.connection.hget(rq_worker.key, VERSION_KEY)
    return value.decode() if isinstance(value, bytes) else value


def refuse_other_version(job_id: int) -> None:
    """On a worker, refuse a job queued by another version of Grants than the worker's own:
    fail its batch with the reason, and the job in RQ (BatchFailed). Jobs run inline, and jobs
    of the worker's own version, go ahead.
    """
    from rq import get_current_job

    current = get_current_job()
    if current is None or current.meta.get(VERSION_KEY) == installed_version():
        return
    queued_by = current.meta.get(VERSION_KEY) or "unknown"
    logger.error("job %s of batch %s refused: this worker runs Grants %s, the job was queued by "
                 "%s; restart the workers after an upgrade", current.id, job_id,
                 installed_version(), queued_by)
    detail = f"{installed_version()} vs {queued_by}"
    with _worker_app() as (_app, session):
        batches.fail_batch(session, job_id, batches.failed(batches.Failure.VERSION, detail),
                           now=clock.now)
    raise BatchFailed(f"batch {job_id}: refused, worker and job versions differ: {detail}")


def render_chunk(job_id: int, application_ids: list[int]) -> None:
    """RQ entry point: render some of a batch's records into its staging directory."""
    refuse_other_version(job_id)
    with _worker_app() as (app, session), _requester_locale(session, job_id):
        error = batches.render_records(session, job_id, application_ids,
                                       directory=stores_of(app).batches,
                                       render=render_record, now=clock.now,
                                       letters=render_letters)
    if error is not None:
        raise BatchFailed(f"batch {job_id}: {error}")


def finish_batch(job_id: int) -> None:
    """RQ entry point, after every part: write the batch's ZIP, or mark the batch failed.

    A part that died without a word (its work horse killed, its time out) has failed in RQ
    only; its error is passed on, so the batch fails with it rather than sit running.
    """
    refuse_other_version(job_id)
    failure = _failed_part()
    with _worker_app() as (app, session):
        job = batches.finish_batch(session, job_id, directory=stores_of(app).batches,
                                   now=clock.now, failure=failure)
    if failure is None and job is not None and job.state is BatchState.FAILED:
        raise BatchFailed(f"batch {job_id}: {job.error}")  # no part failed: the ZIP did


def build_batch(job_id: int) -> None:
    """RQ entry point for a whole batch in one job (jobs queued before batches fanned out)."""
    refuse_other_version(job_id)
    with _worker_app() as (app, session):
        job = _build(app, session, job_id)
    if job is not None and job.state is BatchState.FAILED:
        raise BatchFailed(f"batch {job_id}: {job.error}")


def build_document(job_id: int) -> None:
    """RQ entry point: render one slow document (grants.services.document_jobs)."""
    refuse_other_version(job_id)
    with _worker_app() as (app, session):
        job = _build_document(app, session, job_id)
    if job is not None and job.state is BatchState.FAILED:
        raise BatchFailed(f"document {job_id}: {job.error}")


@contextmanager
def _worker_app() -> Iterator[tuple[Flask, Session]]:
    """An app configured from the environment, its context and a session, for one RQ job."""
    from grants import create_app

    app = create_app()
    try:
        with app.app_context():
            yield app, get_session()
    finally:
        app.extensions["grants.engine"].dispose()


def _failed_part() -> str | None:
    """The first failed part of the running finisher, as an error for the batch, if any."""
    from rq import get_current_job
    from rq.job import JobStatus

    current = get_current_job()
    for part in current.fetch_dependencies() if current is not None else []:
        if part.get_status() == JobStatus.FAILED:
            result = part.latest_result()
            lines = (result.exc_string or "").strip().splitlines() if result else []
            detail = lines[-1][:ERROR_DETAIL] if lines else "no error recorded"
            return batches.failed(batches.Failure.WORKER,
                                  f"{part.description} failed on a worker: {detail}")
    return None


@contextmanager
def _requester_locale(session: Session, job_id: int) -> Iterator[None]:
    """The records are in the requester's language, wherever the job runs."""
    job = session.get(BatchJob, job_id)
    with force_locale((job.requested_by.locale if job is not None else None) or "ja"):
        yield


def _build(app: Flask, session: Session, job_id: int) -> BatchJob | None:
    with _requester_locale(session, job_id):
        return batches.build_batch(session, job_id, directory=stores_of(app).batches,
                                   render=render_record, now=clock.now,
                                   letters=render_letters)


def _build_document(app: Flask, session: Session, job_id: int) -> BatchJob | None:
    with _requester_locale(session, job_id):
        return document_jobs.build_document(session, job_id, directory=stores_of(app).batches,
                                            render=render_document, now=clock.now)


def render_document(session: Session, job: BatchJob) -> tuple[bytes, dict[str, Any]]:
    """A document job's PDF, made for its requester, and what its download event records."""
    from grants.documents.packet import review_packet_pdf  # the PDF stack loads on first use

    application = session.get(Application, job.application_ids[0])
    if application is None:
        raise LookupError(f"application {job.application_ids[0]} does not exist")
    if job.document is DocumentKind.RECORD:
        return render_record(session, application), {}
    packet = review_packet_pdf(session, application, job.requested_by,
                               officer_view=job.document is DocumentKind.OFFICER_PACKET,
                               now=clock.now())
    return packet.pdf, packet.audit_data()


def render_record(session: Session, application: Application) -> bytes:
    """One application's audit record, as a PDF/A-3."""
    from grants.documents.record import audit_record_pdf  # the PDF stack loads on first use

    return audit_record_pdf(session, application, now=clock.now())


def render_letters(session: Session, application: Application) -> dict[str, bytes]:
    """The letters an application has so far, to go with its record in a batch."""
    from grants.documents.final_amount_letter import final_amount_letter_pdf
    from grants.documents.grant_letter import grant_letter_pdf

    letters = {}
    for kind, render in (("grant-decision", grant_letter_pdf),
                         ("final-amount", final_amount_letter_pdf)):
        try:
            letters[kind] = render(session, application)
        except LookupError:  # not issued yet
            continue
    return letters
