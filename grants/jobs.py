"""Background work: inline by default, on RQ workers when REDIS_URL is set.

The embedded default has no worker: a job runs in the web process that asked for it, after
that request committed what it had to: in a thread of its own (BATCH_RUNNER="thread", so the
auditor sees the progress page at once), or within the request itself ("request", which the
tests use: their data lives in one rolled-back transaction). With REDIS_URL set, the job goes
on the RQ queue named by RQ_QUEUE instead; run workers from the repository root with the same
environment as the web app (database, BATCH_DIR shared with it)::

    rq worker --url "$REDIS_URL" grants

A worker builds the app with ``create_app()``, configured from the environment like the web
app, and gives each job a session of its own.
"""

from __future__ import annotations

import threading
from typing import Any

from flask import Flask, current_app
from flask_babel import force_locale
from sqlalchemy.orm import Session

from grants import clock
from grants.db import get_session
from grants.models import Application, BatchJob, BatchState
from grants.services import batches

JOB_TIMEOUT_SECONDS = 6 * 3600  # a batch of LIMIT records, each rendered in a few seconds


class BatchFailed(RuntimeError):
    """Raised in a worker so that RQ lists the job as failed too (the batch row says why)."""


def start_batch(job_id: int) -> None:
    """Build the batch now, in this request (embedded default), or queue it for the workers."""
    config = current_app.config
    if config["REDIS_URL"]:
        queue(config).enqueue(build_batch, job_id, job_timeout=JOB_TIMEOUT_SECONDS)
    elif config["BATCH_RUNNER"] == "request":
        _build(current_app, get_session(), job_id)
    else:
        app = current_app._get_current_object()  # type: ignore[attr-defined]
        threading.Thread(target=_build_in_thread, args=(app, job_id), name=f"batch-{job_id}",
                         daemon=True).start()


def _build_in_thread(app: Flask, job_id: int) -> None:
    with app.app_context(), app.extensions["grants.sessionmaker"]() as session:
        _build(app, session, job_id)


def queue(config: Any) -> Any:
    """The RQ queue jobs go to (imports RQ only when it is used)."""
    from redis import Redis
    from rq import Queue

    return Queue(config["RQ_QUEUE"], connection=Redis.from_url(config["REDIS_URL"]))


def build_batch(job_id: int) -> None:
    """RQ entry point: build one batch in a worker, with an app and a session of its own."""
    from grants import create_app

    app = create_app()
    try:
        with app.app_context():
            job = _build(app, get_session(), job_id)
    finally:
        app.extensions["grants.engine"].dispose()
    if job is not None and job.state is BatchState.FAILED:
        raise BatchFailed(f"batch {job_id}: {job.error}")


def _build(app: Flask, session: Session, job_id: int) -> BatchJob | None:
    job = session.get(BatchJob, job_id)
    # The records are in the requester's language, wherever the job runs.
    locale = job.requested_by.locale if job is not None else "ja"
    with force_locale(locale or "ja"):
        return batches.build_batch(session, job_id, directory=app.config["BATCH_DIR"],
                                   render=render_record, now=clock.now)


def render_record(session: Session, application: Application) -> bytes:
    """One application's audit record, as a PDF/A-3."""
    from grants.documents.record import audit_record_pdf  # the PDF stack loads on first use

    return audit_record_pdf(session, application, now=clock.now())
